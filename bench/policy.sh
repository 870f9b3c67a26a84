#!/usr/bin/env bash
# Benchmark of a policy edit that rewrites the whole policy (a filesystem path), in one run on a
# private stack (optimised build, build/), against the stack's simulated gateway:
#  1. EDITS edits one after the other, nothing else writing (the baseline);
#  2. the same while a writer outside Breakwater merges rules at the gateway, RATE a second:
#     edits/s and latency against the baseline, how many 409s (retries exhausted), and that no
#     merged rule and no accepted path is lost;
#  3. EDITS edits from 4 Breakwater clients at once (they queue on the sandbox's policy lock).
#
#   bench/policy.sh            (env: EDITS=100 (at most 250) RATE=20)
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

# A measurement, not an abuse case: the per-actor write limit (120 a minute) would answer 429.
export BREAKWATER_WRITE_RATE_LIMIT_ATTEMPTS=1000000
"$STACK" up > "$WORK/up.log" 2>&1 || { tail -30 "$WORK/up.log"; exit 1; }
set -a
# shellcheck source=/dev/null
source "$BW_RUN_DIR/env"
set +a
env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE "$BW_PYTHON" "$BW_CHECKOUT/bench/policy_bench.py"
