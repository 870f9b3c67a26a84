#!/usr/bin/env bash
# Benchmark: GET /api/gateway/list (20 registered gateways) through nginx + the FastCGI pool +
# MariaDB, against nginx serving the identical JSON body as a static file — same nginx, same TLS,
# same keep-alive, measured in one run so the ratio is meaningful on any machine.
#
#   bench/gateway-list.sh            (env: DURATION=10s CONNECTIONS=64 THREADS=2)
#
# Starts a private stack on a free port with the optimised build (build/), prints the figures,
# and stops everything again. Run by hand; not part of the test command.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
bench_prepare
export BW_HTDOCS=$WORK/htdocs
mkdir -p "$BW_HTDOCS"

bench_up
URL=https://127.0.0.1:$BW_PORT
CA=$BW_RUN_DIR/tls/cert.pem

key=$(bench_admin_key)
AUTH="Authorization: Bearer $key"

for i in $(seq -w 1 20); do
  curl -sf --cacert "$CA" -o /dev/null -X POST "$URL/api/gateway/register" \
    -H 'Content-Type: application/json' -H "$AUTH" \
    -d "{\"name\":\"bench-gw-$i\",\"endpoint\":\"gw$i.bench.svc.cluster.local:30051\",\"labels\":{\"env\":\"bench\",\"idx\":\"$i\"},\"description\":\"benchmark gateway $i\",\"metadata\":{\"runtime\":\"kubernetes\"}}"
done
curl -sf --cacert "$CA" -H "$AUTH" "$URL/api/gateway/list" > "$BW_HTDOCS/gateway-list.json"
bytes=$(wc -c < "$BW_HTDOCS/gateway-list.json")

# run NAME PATH: one wrk run; prints "req/s p50 p99" (latencies in ms).
run() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$AUTH" "$URL$2")
  echo "$out" > "$WORK/wrk-$1.txt"
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
  [[ -z $errors ]] || echo "  $1: $errors" >&2
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

# to_ms 1.23ms|450.00us|1.01s -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else print v }'
}

# Warm both paths (TLS sessions, prepared statements, page cache) before measuring.
wrk -t1 -c4 -d2s -H "$AUTH" "$URL/api/gateway/list" > /dev/null
wrk -t1 -c4 -d2s "$URL/gateway-list.json" > /dev/null

read -r s_rps s_p50 s_p99 < <(run static /gateway-list.json)
read -r a_rps a_p50 a_p99 < <(run api /api/gateway/list)

master=$(cat "$BW_RUN_DIR/fcgi.pid")
rss=$(ps -o rss= --ppid "$master" | awk '{s += $1; n++; if ($1 > m) m = $1} END {printf "%d workers, max %.1f MB, total %.1f MB", n, m / 1024, s / 1024}')

echo "body: $bytes bytes, $CONNECTIONS connections, $THREADS wrk threads, $DURATION each, $(nproc) cores"
printf '%-28s %10s %9s %9s\n' "" "req/s" "p50 ms" "p99 ms"
printf '%-28s %10.0f %9s %9s\n' "nginx static file" "$s_rps" "$s_p50" "$s_p99"
printf '%-28s %10.0f %9s %9s\n' "GET /api/gateway/list" "$a_rps" "$a_p50" "$a_p99"
awk -v a="$a_rps" -v s="$s_rps" 'BEGIN {printf "ratio api/static: %.2f\n", a / s}'
echo "responder RSS after the run: $rss"
