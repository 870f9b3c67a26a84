# shellcheck shell=bash
# What every benchmark does around its measurement: a private stack of the optimised build
# (build/) on a free port in a throwaway directory, stopped and removed on exit or on a signal,
# and the stack's environment for the Python halves. Sourced by bench/*.sh.

# shellcheck source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

STACK=$BW_CHECKOUT/scripts/stack.sh

# bench_prepare: WORK (the throwaway directory), BW_RUN_DIR, BW_BUILD_DIR, BW_PORT and the
# clean-up. Settings for the stack (BW_HTDOCS, BREAKWATER_*) go between this and bench_up.
bench_prepare() {
  WORK=$(mktemp -d /tmp/breakwater-bench.XXXXXX)
  export BW_RUN_DIR=$WORK/run BW_BUILD_DIR=$BW_CHECKOUT/build
  export BW_PORT
  BW_PORT=$(bw_pick_free_port)
  trap '"$STACK" down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
  trap 'exit 130' INT # a signal runs the EXIT trap too: no stack is left behind
  trap 'exit 143' TERM
  # A measurement, not an abuse case: the per-actor write limit (120 a minute) would answer 429
  # to the benchmarks that write (registering 1000 gateways, 100 policy edits).
  export BREAKWATER_WRITE_RATE_LIMIT_ATTEMPTS=1000000
}

# bench_up: starts the stack; on failure shows the end of its log and exits.
bench_up() {
  "$STACK" up >"$WORK/up.log" 2>&1 || {
    tail -30 "$WORK/up.log"
    exit 1
  }
}

# bench_admin_key: prints a new admin API key. Every API route needs credentials: the bootstrap
# admin logs in (cookie + CSRF token) and makes a service principal, whose key the measured
# requests send (the realistic cost of authentication).
bench_admin_key() {
  local ca=$BW_RUN_DIR/tls/cert.pem url=https://127.0.0.1:$BW_PORT pw login csrf cookie
  pw=$(<"$BW_RUN_DIR/conf/admin.password")
  login=$(curl -sf --cacert "$ca" -D "$WORK/login.h" -X POST "$url/api/auth/login" \
    -H 'Content-Type: application/json' \
    -d "{\"email\":\"$BW_ADMIN_EMAIL\",\"password\":\"$pw\"}")
  csrf=$("$BW_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])' <<<"$login")
  cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: \(sg_session=[^;]*\).*/\1/p' "$WORK/login.h")
  curl -sf --cacert "$ca" -X POST "$url/api/auth/service-principals" -H "Cookie: $cookie" \
    -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d "{\"name\":\"bench-$RANDOM$RANDOM\",\"role\":\"admin\"}" |
    "$BW_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["key"])'
}

# bench_python SCRIPT [ARG...]: runs bench/SCRIPT with the stack's environment (BW_*).
bench_python() {
  set -a
  # shellcheck source=/dev/null
  source "$BW_RUN_DIR/env"
  set +a
  env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE "$BW_PYTHON" "$BW_CHECKOUT/bench/$1" "${@:2}"
}
