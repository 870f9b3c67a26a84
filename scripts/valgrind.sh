#!/usr/bin/env bash
# Runs the FastCGI pool under valgrind (memcheck, leak check) on a private stack, drives the main
# request paths through nginx, stops the pool with SIGTERM and reports errors and leaks per
# process. By hand: scripts/valgrind.sh   (exit status 1 when valgrind found anything)
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORK=$(mktemp -d /tmp/breakwater-valgrind.XXXXXX)
export BW_RUN_DIR=$WORK/run BW_BUILD_DIR=$BW_CHECKOUT/build BW_PORT
BW_PORT=$(bw_pick_free_port)
STACK=$BW_CHECKOUT/scripts/stack.sh
trap '"$STACK" down >/dev/null 2>&1 || true' EXIT
"$STACK" up > "$WORK/up.log" 2>&1 || { tail -30 "$WORK/up.log"; exit 1; }

# Swap the pool for one under valgrind (one worker, two threads keep it fast enough).
master=$(cat "$BW_RUN_DIR/fcgi.pid")
kill -TERM "$master"
while kill -0 "$master" 2>/dev/null; do sleep 0.1; done
BREAKWATER_WORKERS=1 BREAKWATER_THREADS=2 setsid valgrind --quiet --trace-children=yes \
  --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
  --log-file="$WORK/vg.%p.log" "$BW_BUILD_DIR/breakwater-fcgi" \
  --config "$BW_RUN_DIR/conf/breakwater.conf" >> "$WORK/fcgi.log" 2>&1 &
vg=$!
for _ in $(seq 100); do [[ -S $BW_RUN_DIR/fcgi.sock ]] && break; sleep 0.2; done
sleep 3

URL=https://127.0.0.1:$BW_PORT
c() { curl -s -o /dev/null -w '%{http_code} ' --cacert "$BW_RUN_DIR/tls/cert.pem" "$@"; }
J=(-H 'Content-Type: application/json')
for i in 1 2 3; do
  c "$URL/healthz"; c "$URL/readyz"; c "$URL/version"
  c -X POST "$URL/api/gateway/register" "${J[@]}" -d "{\"name\":\"vg$i\",\"endpoint\":\"gw.vg.svc.cluster.local:1\",\"labels\":{\"a\":\"b\"},\"ca_cert\":\"aGVsbG8=\",\"metadata\":{\"runtime\":\"docker\"}}"
  c "$URL/api/gateway/list"; c "$URL/api/gateway/list?label=a:b"; c "$URL/api/gateway/vg$i/info"
  c -X PATCH "$URL/api/gateway/vg$i" "${J[@]}" -d '{"description":"x","labels":null}'
  c "$URL/api/gateway/list"
  c -X POST "$URL/api/gateway/register" "${J[@]}" -d '{"name":'
  c -X POST "$URL/api/gateway/register" "${J[@]}" -d '{"name":"../x","endpoint":"a:1"}'
  c -X POST "$URL/api/gateway/register" -H 'Content-Type: text/plain' -d 'x'
  c -X PUT "$URL/api/gateway/list"; c "$URL/api/nope"; c "$URL/api/gateway/%00/info"
  c -X DELETE "$URL/api/gateway/vg$i"
done
echo
kill -TERM "$vg"
wait "$vg" || true
status=0
for log in "$WORK"/vg.*.log; do
  if [[ -s $log ]]; then
    status=1
    echo "----- $log"
    head -60 "$log"
  fi
done
((status)) || echo "valgrind: no errors, no definite or indirect leaks"
rm -rf "$WORK"
exit "$status"
