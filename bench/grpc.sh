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

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_prepare

bench_up
bench_python grpc_bench.py "$WORK"
