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

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_prepare
bench_up
bench_python policy_bench.py
