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
.build/release/portald serve --config "$work/portald.toml" &
sleep 1.5
for port in 9080 9081; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: connectivitycheck.gstatic.com' "http://127.0.0.1:$port/generate_204")
  [ "$code" = 302 ] || { echo "server on $port answered $code, not 302" >&2; exit 1; }
done

rate() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -H 'Host: connectivitycheck.gstatic.com' "http://127.0.0.1:$1/generate_204" | awk '/Requests\/sec/ {print $2}'; }
ratios=() c_rates=() p_rates=()
for round in $(seq "$ROUNDS"); do
  # Alternate which server goes first, so neither always gets the warmer machine.
  if (( round % 2 )); then c=$(rate 9080); p=$(rate 9081); else p=$(rate 9081); c=$(rate 9080); fi
  ratio=$(echo "$p / $c" | bc -l)
  printf 'round %d: C libmicrohttpd %10.0f req/s   portald %10.0f req/s   ratio %.3f\n' "$round" "$c" "$p" "$ratio"
  ratios+=("$ratio") c_rates+=("$c") p_rates+=("$p")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
minmax() { printf '%s\n' "$@" | sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.3f–%.3f", lo, hi}'; }
printf 'median of %d rounds: C libmicrohttpd %.0f req/s   portald %.0f req/s   ratio %.3f (spread %s; goal >= 0.80)\n' \
  "$ROUNDS" "$(median "${c_rates[@]}")" "$(median "${p_rates[@]}")" "$(median "${ratios[@]}")" "$(minmax "${ratios[@]}")"
