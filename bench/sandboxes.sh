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

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -z ${BW_RUN_DIR:-} || ! -f $BW_RUN_DIR/env ]]; then
  bench_prepare
  bench_up
fi
bench_python sandboxes_bench.py
