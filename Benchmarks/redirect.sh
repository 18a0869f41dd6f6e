#!/usr/bin/env bash
# Redirect throughput: wrk against portald's captive redirect and against a minimal
# C libmicrohttpd server (c_redirect_server.c), same flags, alternated, on loopback.
# Prints requests/s of each round and the ratio portald / C, then the median ratio and
# its spread (min–max) over the rounds. Bounded: ROUNDS × 2 × SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-6} SECONDS_PER_RUN=${SECONDS_PER_RUN:-5} CONNECTIONS=${CONNECTIONS:-64} THREADS=${THREADS:-2}
# Server threads: 1 = one internal epoll thread; N > 1 = a pool of N epoll threads.
SERVER_THREADS=${SERVER_THREADS:-2}
command -v wrk >/dev/null || apt-get install -y -qq wrk
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

gcc -O2 -o "$work/c_redirect_server" Benchmarks/c_redirect_server.c $(pkg-config --cflags --libs libmicrohttpd)
swift build -c release --product portald >/dev/null
cat > "$work/portald.toml" <<TOML
[site]
id = "bench"
name = "Bench"
[portal]
listen = "127.0.0.1:9081"
public_url = "http://127.0.0.1:9081/"
threads = $SERVER_THREADS
max_connections_per_ip = 1024
[firewall]
backend = "none"
[store]
path = "$work/portald.db"
[admin]
listen = "127.0.0.1:9082"
[log]
level = "warning"
TOML
"$work/c_redirect_server" 9080 "$SERVER_THREADS" &
c_pid=$!
.build/release/portald serve --config "$work/portald.toml" &
p_pid=$!
sleep 1.5
for port in 9080 9081; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: connectivitycheck.gstatic.com' "http://127.0.0.1:$port/generate_204")
  [ "$code" = 302 ] || { echo "server on $port answered $code, not 302" >&2; exit 1; }
done

# CPU the server process spent (user + system, clock ticks): with it, each round also gives
# CPU µs per request, which a noisy neighbour on the VM disturbs far less than requests/s.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
# Prints "requests/s cpu-µs-per-request" for the server on port $1 (process $2).
rate() {
  local before after out
  before=$(ticks "$2")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -H 'Host: connectivitycheck.gstatic.com' "http://127.0.0.1:$1/generate_204")
  after=$(ticks "$2")
  echo "$out" | awk -v cpu=$(( (after - before) * TICK_US )) '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {printf "%s %.3f\n", r, cpu / n}'
}
ratios=() c_rates=() p_rates=() cpu_ratios=()
for round in $(seq "$ROUNDS"); do
  # Alternate which server goes first, so neither always gets the warmer machine.
  if (( round % 2 )); then read -r c c_cpu < <(rate 9080 $c_pid); read -r p p_cpu < <(rate 9081 $p_pid)
  else read -r p p_cpu < <(rate 9081 $p_pid); read -r c c_cpu < <(rate 9080 $c_pid); fi
  ratio=$(echo "$p / $c" | bc -l); cpu_ratio=$(echo "$c_cpu / $p_cpu" | bc -l)
  printf 'round %d: C libmicrohttpd %7.0f req/s %5.2f µs CPU/req   portald %7.0f req/s %5.2f µs CPU/req   ratio %.3f (CPU %.3f)\n' \
    "$round" "$c" "$c_cpu" "$p" "$p_cpu" "$ratio" "$cpu_ratio"
  ratios+=("$ratio") c_rates+=("$c") p_rates+=("$p") cpu_ratios+=("$cpu_ratio")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
minmax() { printf '%s\n' "$@" | sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.3f–%.3f", lo, hi}'; }
printf 'median of %d rounds: C libmicrohttpd %.0f req/s   portald %.0f req/s   ratio %.3f (spread %s; goal >= 0.80)\n' \
  "$ROUNDS" "$(median "${c_rates[@]}")" "$(median "${p_rates[@]}")" "$(median "${ratios[@]}")" "$(minmax "${ratios[@]}")"
printf 'CPU per request, C / portald: median %.3f (spread %s)\n' "$(median "${cpu_ratios[@]}")" "$(minmax "${cpu_ratios[@]}")"
