#!/usr/bin/env bash
# Benchmark of the gRPC path (issue 3), in one run on a private stack (optimised build, build/):
#  1. a proxied read, GET /api/gateway/{name}/config through nginx + pool + gRPC/mTLS, against
#     the same GetGatewayConfig called directly over gRPC/mTLS: added latency p50/p99, and the
#     TLS connections the simulator saw during the REST run (should be about one per process);
#  2. the health monitor: time for breakwater-worker to probe 1000 simulated gateways.
#
#   bench/grpc.sh            (env: REQUESTS=2000 GATEWAYS=1000)
#
# Run by hand; not part of the test command.
set -euo pipefail

# shellcheck source=../scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

STACK=$BW_CHECKOUT/scripts/stack.sh
WORK=$(mktemp -d /tmp/breakwater-bench.XXXXXX)
export BW_RUN_DIR=$WORK/run BW_BUILD_DIR=$BW_CHECKOUT/build
export BW_PORT
BW_PORT=$(bw_pick_free_port)
trap '"$STACK" down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
trap 'exit 130' INT  # a signal runs the EXIT trap too: no stack is left behind
trap 'exit 143' TERM

"$STACK" up > "$WORK/up.log" 2>&1 || { tail -30 "$WORK/up.log"; exit 1; }
set -a
# shellcheck source=/dev/null
source "$BW_RUN_DIR/env"
set +a
env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE "$BW_PYTHON" "$BW_CHECKOUT/bench/grpc_bench.py" "$WORK"
