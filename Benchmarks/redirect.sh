#!/usr/bin/env bash
# Redirect throughput: wrk against portald's captive redirect and against a minimal
# C libmicrohttpd server (c_redirect_server.c), same flags, alternated, on loopback.
# Prints requests/s of each round and the ratio portald / C. Bounded: ROUNDS × 2 × SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3} SECONDS_PER_RUN=${SECONDS_PER_RUN:-5} CONNECTIONS=${CONNECTIONS:-64} THREADS=${THREADS:-2}
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
c_total=0 p_total=0
for round in $(seq "$ROUNDS"); do
  c=$(rate 9080); p=$(rate 9081)
  printf 'round %d: C libmicrohttpd %10.0f req/s   portald %10.0f req/s   ratio %.2f\n' "$round" "$c" "$p" "$(echo "$p / $c" | bc -l)"
  c_total=$(echo "$c_total + $c" | bc -l); p_total=$(echo "$p_total + $p" | bc -l)
done
printf 'mean:    C libmicrohttpd %10.0f req/s   portald %10.0f req/s   ratio %.2f (goal >= 0.80)\n' \
  "$(echo "$c_total / $ROUNDS" | bc -l)" "$(echo "$p_total / $ROUNDS" | bc -l)" "$(echo "$p_total / $c_total" | bc -l)"
