#!/usr/bin/env bash
# Benchmark of sandbox operations (issue 5), against the simulated gateway local-sim:
#  1. 100 sandbox creates sent at once through nginx (202 each), then waited for: total time
#     until the last operation succeeded, operations per second, breakwater-worker's peak RSS;
#  2. exec round trip (POST .../exec, then GET /api/operations/{id}?wait until done) p50/p99,
#     against a direct gRPC exec of the same command with `breakwaterctl gateway exec`.
#
#   bench/sandboxes.sh        (env: SANDBOXES=100 EXECS=50)
#
# Uses the stack of $BW_RUN_DIR when its env file exists (BW_RUN_DIR=/tmp/x bench/sandboxes.sh),
# else starts a private one like bench/grpc.sh. Run by hand; not part of the test command.
set -euo pipefail

# shellcheck source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

STACK=$BW_CHECKOUT/scripts/stack.sh
if [[ -z ${BW_RUN_DIR:-} || ! -f $BW_RUN_DIR/env ]]; then
  WORK=$(mktemp -d /tmp/breakwater-bench.XXXXXX)
  export BW_RUN_DIR=$WORK/run BW_BUILD_DIR=$BW_CHECKOUT/build
  export BW_PORT
  BW_PORT=$(bw_pick_free_port)
  trap '"$STACK" down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
  trap 'exit 130' INT  # a signal runs the EXIT trap too: no stack is left behind
  trap 'exit 143' TERM
  "$STACK" up > "$WORK/up.log" 2>&1 || { tail -30 "$WORK/up.log"; exit 1; }
fi
set -a
# shellcheck source=/dev/null
source "$BW_RUN_DIR/env"
set +a
env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE "$BW_PYTHON" "$BW_CHECKOUT/bench/sandboxes_bench.py"
