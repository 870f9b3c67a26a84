#!/usr/bin/env bash
# Benchmark: the audit trail at scale. Fills ROWS audit rows (default 1,000,000) through the real
# hash-chain trigger, then times filtered GET /api/audit pages (first page and a deep page)
# through nginx + the FastCGI pool, the streamed CSV and JSON exports (with the responder
# workers' peak RSS before and after, from /proc/PID/status VmHWM), and `breakwaterctl audit
# verify` over the whole chain.
#
#   bench/audit.sh            (env: ROWS=1000000 REPEAT=5)
#
# Starts a private stack on a free port with the optimised build (build/), prints the figures,
# and stops everything again. Run by hand; not part of the test command.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROWS=${ROWS:-1000000}
REPEAT=${REPEAT:-5}
BATCH=100000
bench_prepare

bench_up
URL=https://127.0.0.1:$BW_PORT
CA=$BW_RUN_DIR/tls/cert.pem
SOCK=$BW_RUN_DIR/mysql/mysqld.sock
AUTH="Authorization: Bearer $(bench_admin_key)"
sql() { mariadb --no-defaults --socket="$SOCK" --user=root --batch --skip-column-names breakwater "$@"; }

# Rows spread over 90 days (newest = now), 200 actors, 20 actions, 5 resource types,
# 100 gateways (every 10th row has none), details of ~120 bytes. The trigger chains every row,
# exactly as for rows written by the API.
echo "filling $ROWS audit rows through the chain trigger (batches of $BATCH)..."
t0=$(date +%s.%N)
for ((from = 1; from <= ROWS; from += BATCH)); do
  to=$((from + BATCH - 1)); ((to <= ROWS)) || to=$ROWS
  sql -e "INSERT INTO audit_log (\`timestamp\`, actor, actor_role, action, resource_type,
      resource_id, gateway_name, detail, client_ip, request_id)
    SELECT UTC_TIMESTAMP(6) - INTERVAL (($ROWS - seq) * 7776000 DIV $ROWS) SECOND
             - INTERVAL (seq MOD 1000) MICROSECOND,
           CONCAT('actor-', seq MOD 200, '@example.com'), 'admin',
           ELT(1 + seq MOD 20, 'gateway.register', 'gateway.unregister',
               'gateway.update_metadata', 'sandbox.create', 'sandbox.delete', 'policy.update',
               'policy.applied', 'approval.approve', 'approval.reject', 'provider.create',
               'provider.update', 'provider.delete', 'webhook.create', 'webhook.delete',
               'user.login', 'user.logout', 'sp.create', 'group.create', 'boot_hook.created',
               'sbom.uploaded'),
           ELT(1 + seq MOD 5, 'gateway', 'sandbox', 'policy', 'approval', 'provider'),
           CONCAT('res-', seq MOD 5000),
           IF(seq MOD 10 = 0, NULL, CONCAT('gw-', seq MOD 100)),
           CONCAT('{\"n\":', seq, ',\"note\":\"bench row with a, comma and \\\\\"quotes\\\\\"\",\"labels\":{\"env\":\"bench\"}}'),
           CONCAT('10.0.', seq MOD 250, '.', seq MOD 200), CONCAT('bench-', seq)
    FROM seq_1_to_$ROWS WHERE seq BETWEEN $from AND $to"
done
t1=$(date +%s.%N)
sql -e "ANALYZE TABLE audit_log" > /dev/null
count=$(sql -e "SELECT COUNT(*) FROM audit_log")
size=$(sql -e "SELECT ROUND((data_length + index_length) / 1048576) FROM information_schema.tables
               WHERE table_schema = 'breakwater' AND table_name = 'audit_log'")
printf 'filled %s rows in %.1f s (table + indexes %s MiB)\n\n' "$count" "$(echo "$t1 - $t0" | bc)" "$size"

# median_ms QUERY: the median of REPEAT timings of one GET (ms); checks the status and prints
# the total of the first answer.
timing() {
  local path=$1 times=() total=""
  for ((i = 0; i < REPEAT; i++)); do
    local out
    out=$(curl -s --cacert "$CA" -H "$AUTH" -o "$WORK/body.json" -w '%{http_code} %{time_total}' "$URL$path")
    [[ ${out%% *} == 200 ]] || { echo "  $path -> HTTP ${out%% *}: $(head -c 300 "$WORK/body.json")" >&2; return 1; }
    times+=("${out#* }")
    [[ -n $total ]] || total=$("$BW_PYTHON" -c 'import json,sys; b=json.load(open(sys.argv[1])); print(b["total"], len(b["entries"]))' "$WORK/body.json")
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)] * 1000}')
  printf '  %-58s %8.1f ms   (total, page rows: %s)\n' "$path" "$median" "$total"
}

day=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)
day_end=$(date -u -d '29 days ago' +%Y-%m-%dT%H:%M:%SZ)
echo "GET /api/audit through nginx, median of $REPEAT (ms):"
timing "/api/audit"
timing "/api/audit?actor=actor-7@example.com"
timing "/api/audit?action=policy.update"
timing "/api/audit?gateway=gw-42"
timing "/api/audit?resource_type=sandbox"
timing "/api/audit?since=$day&until=$day_end"
timing "/api/audit?actor=actor-7@example.com&since=$day&until=$day_end"
timing "/api/audit?actor=actor-5@example.com&action=policy.update"
timing "/api/audit?offset=500000"
timing "/api/audit?actor=actor-7@example.com&offset=4900"
timing "/api/audit?gateway=gw-42&limit=1000&offset=8000"
echo

workers() { pgrep -P "$(cat "$BW_RUN_DIR/fcgi.pid")" || true; }
rss() { # "pid:VmRSS/VmHWM kB" for every worker
  local p out=""
  for p in $(workers); do
    out+="$p:$(awk '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} END {print r "/" h}' "/proc/$p/status") "
  done
  echo "$out"
}
# sample_rss FILE: until killed, appends the summed VmRSS (kB) of the workers (about 3 a second).
sample_rss() {
  while :; do
    local sum=0 p r
    for p in $(workers); do
      r=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
      sum=$((sum + ${r:-0}))
    done
    echo "$sum" >> "$1"
    sleep 0.1
  done
}
export_run() {
  local fmt=$1 limit=${2:-} samples=$WORK/rss.$1
  echo "  workers before (pid:VmRSS/VmHWM kB): $(rss)"
  : > "$samples"
  sample_rss "$samples" & local sampler=$!
  local out
  out=$(curl -s --cacert "$CA" -H "$AUTH" -o "$WORK/export.$fmt" -w '%{http_code} %{time_total} %{size_download}' "$URL/api/audit/export?format=$fmt${limit:+&limit=$limit}")
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  read -r code secs bytes <<<"$out"
  [[ $code == 200 ]] || { echo "  export $fmt -> HTTP $code" >&2; return 1; }
  local lines
  lines=$(wc -l < "$WORK/export.$fmt")
  printf '  export %-4s %10s bytes in %6.1f s (%s lines, %.0f rows/s)\n' "$fmt" "$bytes" "$secs" "$lines" "$(echo "$lines / $secs" | bc -l)"
  echo "  workers after  (pid:VmRSS/VmHWM kB): $(rss)"
  echo "  summed worker VmRSS while exporting: $(sort -n "$samples" | awk 'NR==1 {min=$1} {max=$1; n++} END {printf "min %d kB, max %d kB (%d samples)", min, max, n}')"
  rm -f "$WORK/export.$fmt"
}
echo "streamed exports (10,000 rows, then all $count rows):"
export_run csv 10000
export_run csv
export_run json
echo

echo "breakwaterctl audit verify over the whole chain:"
t0=$(date +%s.%N)
"$BW_BUILD_DIR/breakwaterctl" --config "$BW_RUN_DIR/conf/breakwater.conf" audit verify
t1=$(date +%s.%N)
printf '  %.1f s\n' "$(echo "$t1 - $t0" | bc)"
