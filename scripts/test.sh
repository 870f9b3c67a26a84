#!/usr/bin/env bash
# The test command: every suite against a throwaway stack, ending with "N passed, N failed".
#
# Installs missing packages, checks clang-format and cppcheck (lint), builds with ASan+UBSan in
# <checkout>/build-asan, runs the C unit tests (make check), starts a private stack (own run dir
# under /tmp, own free port), runs the end-to-end suites against it, stops it and counts
# sanitizer reports. Two runs at the same time do not collide: run dirs and ports are private,
# the shared build dir is locked while building.
#
# Results: <checkout>/test-output/ (e2e.xml = JUnit of the end-to-end suite). The run dir is
# removed when everything passed and kept (path printed) otherwise.
#
# Adding a suite (browser tests, a gRPC simulator...): write suite_NAME, which calls
# "record NAME passed failed [skipped] [note]" (run_pytest does that for a pytest directory), and
# add NAME to STACK_SUITES. Those run in order against the live stack with the contract's BW_*
# environment exported; unit runs before the stack starts, sanitizers after it stopped.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Suites that run against the live stack, in this order.
STACK_SUITES=(e2e browser)

OUT=$BW_CHECKOUT/test-output
STACK=$BW_CHECKOUT/scripts/stack.sh
# Inherited BW_* settings are for the dev stack; the test run always uses its own.
TEST_BUILD_DIR=$BW_CHECKOUT/build-asan
RUN=""
PORT=""
STACK_STARTED=0
SUMMARY_DONE=0

SUITES=()
declare -A PASSED=() FAILED=() SKIPPED=() NOTES=()

# record NAME PASSED FAILED [SKIPPED] [NOTE]: add to a suite's counts.
record() {
  local name=$1
  if [[ -z ${PASSED[$name]+set} ]]; then
    SUITES+=("$name")
    PASSED[$name]=0 FAILED[$name]=0 SKIPPED[$name]=0 NOTES[$name]=""
  fi
  PASSED[$name]=$((PASSED[$name] + $2))
  FAILED[$name]=$((FAILED[$name] + $3))
  SKIPPED[$name]=$((SKIPPED[$name] + ${4:-0}))
  if [[ -n ${5-} ]]; then
    NOTES[$name]+="${NOTES[$name]:+; }$5"
  fi
}

section() { printf '\n===== %s =====\n' "$*"; }

stack() {
  BW_RUN_DIR=$RUN BW_PORT=$PORT BW_BUILD_DIR=$TEST_BUILD_DIR BW_SANITIZERS=1 BW_RATE_LIMIT=off \
    "$STACK" "$@"
}

stop_stack() {
  if ((STACK_STARTED)); then
    STACK_STARTED=0
    section "stopping the stack"
    stack down || bw_warn "stack.sh down failed; processes of $RUN may still run"
  fi
}

# On any exit (error, Ctrl-C) no daemon of this run may stay behind.
on_exit() {
  local rc=$?
  stop_stack
  if ((!SUMMARY_DONE)) && [[ -n $RUN ]]; then
    bw_warn "test run aborted (exit $rc); run dir kept for inspection: $RUN"
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- suites -------------------------------------------------------------------------------------

# suite_unit: make check in the sanitizer build; counts from automake's test-suite.log headers.
suite_unit() {
  section "unit tests (make check in $TEST_BUILD_DIR)"
  # Stale logs of a directory whose tests no longer run would be counted again.
  find "$TEST_BUILD_DIR" -name test-suite.log -delete 2>/dev/null || true
  local rc=0
  (
    exec 9<"$TEST_BUILD_DIR"
    flock 9 || exit 1
    make -C "$TEST_BUILD_DIR" -j"$(nproc)" check
  ) || rc=$?

  local logs=() counts
  mapfile -t logs < <(find "$TEST_BUILD_DIR" -name test-suite.log | sort)
  if ((${#logs[@]} == 0)); then
    if ((rc != 0)); then
      record unit 0 1 0 "make check failed (exit $rc) before any test-suite.log was written"
    else
      record unit 0 0 0 "make check ran no tests"
    fi
    return 0
  fi
  # Header lines like "# PASS:  12". XPASS (unexpectedly passing) is a failure, XFAIL is not.
  counts=$(awk '
    /^# PASS:/  { pass += $3 }
    /^# FAIL:/  { fail += $3 }
    /^# ERROR:/ { fail += $3 }
    /^# XPASS:/ { fail += $3 }
    /^# SKIP:/  { skip += $3 }
    /^# XFAIL:/ { skip += $3 }
    END { printf "%d %d %d\n", pass, fail, skip }' "${logs[@]}")
  local pass fail skip
  read -r pass fail skip <<<"$counts"
  record unit "$pass" "$fail" "$skip"
  if ((rc != 0 && fail == 0)); then
    record unit 0 1 0 "make check exited $rc"
  fi
  if ((fail > 0)); then
    cp -f "${logs[@]}" "$RUN/" 2>/dev/null || true
  fi
}

# junit_counts FILE: "passed failed skipped" of a JUnit XML file (failure or error = failed).
junit_counts() {
  "$BW_PYTHON" - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET
passed = failed = skipped = 0
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    tags = {child.tag for child in case}
    if "failure" in tags or "error" in tags:
        failed += 1
    elif "skipped" in tags:
        skipped += 1
    else:
        passed += 1
print(passed, failed, skipped)
EOF
}

# run_pytest SUITE DIR: one pytest suite against the live stack, JUnit XML to test-output/.
run_pytest() {
  local suite=$1 dir=$2
  section "$suite tests (pytest $dir)"
  # Written into the private run dir first and copied afterwards: a concurrent run writing the
  # same test-output/ file cannot change what this run counts.
  local xml=$RUN/$suite.xml rc=0
  # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (set system-wide on some machines) take precedence over
  # a requests Session's own "verify" and would make every HTTPS call to the stack's self-signed
  # certificate fail; the suites only talk to this stack and use $BW_TLS_CERT.
  # -p no:cacheprovider: no .pytest_cache written into the checkout by concurrent runs.
  (cd "$BW_CHECKOUT" && env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE \
    "$BW_PYTHON" -m pytest -q -p no:cacheprovider "$dir" --junitxml="$xml") || rc=$?

  local pass=0 fail=0 skip=0 counts
  if [[ -s $xml ]] && counts=$(junit_counts "$xml"); then
    read -r pass fail skip <<<"$counts"
    mkdir -p "$OUT"
    cp -f "$xml" "$OUT/.$suite.xml.$$" && mv -f "$OUT/.$suite.xml.$$" "$OUT/$suite.xml"
  fi
  record "$suite" "$pass" "$fail" "$skip"
  case $rc in
    0) ;;
    1) ((fail > 0)) || record "$suite" 0 1 0 "pytest reported failures the JUnit file does not show" ;;
    5) record "$suite" 0 1 0 "no tests collected" ;;
    *) record "$suite" 0 1 0 "pytest exited $rc (interrupted, internal or usage error)" ;;
  esac
}

suite_e2e() {
  run_pytest e2e tests/e2e
}

# suite_browser: the dashboard in Debian's headless Chromium (tests/browser, playwright-core under
# node --test). Counts from the TAP summary; screenshots go to test-output/browser/.
suite_browser() {
  section "browser tests (tests/browser)"
  local tap=$RUN/browser.tap rc=0
  rm -rf "$OUT/browser"
  BW_BROWSER_OUT=$OUT/browser "$BW_CHECKOUT/tests/browser/run.sh" | tee "$tap" || rc=$?
  local pass fail cancelled skip todo
  pass=$(awk '/^# pass /{n=$3} END{print n}' "$tap")
  fail=$(awk '/^# fail /{n=$3} END{print n+0}' "$tap")
  cancelled=$(awk '/^# cancelled /{n=$3} END{print n+0}' "$tap")
  skip=$(awk '/^# skipped /{n=$3} END{print n+0}' "$tap")
  todo=$(awk '/^# todo /{n=$3} END{print n+0}' "$tap")
  if [[ -z $pass ]]; then
    record browser 0 1 0 "no TAP summary (exit $rc): npm ci or the runner failed"
    return 0
  fi
  cp -f "$tap" "$OUT/browser.tap" 2>/dev/null || true
  record browser "$pass" $((fail + cancelled)) $((skip + todo))
  if ((rc != 0 && fail + cancelled == 0)); then
    record browser 0 1 0 "node --test exited $rc"
  fi
}

# suite_lint: the house rules a compiler does not check. One test per C source that clang-format
# (the repository's .clang-format) would leave as it is, and one for a clean cppcheck run.
suite_lint() {
  section "lint (clang-format, cppcheck)"
  local files=() file pass=0 unclean=()
  mapfile -t files < <(find lib services fcgi worker ctl tests/unit -name '*.[ch]' | sort)
  for file in "${files[@]}"; do
    if clang-format --dry-run --Werror "$file" >/dev/null 2>&1; then
      pass=$((pass + 1))
    else
      unclean+=("$file")
    fi
  done
  if ((${#unclean[@]})); then
    bw_say "not clang-format clean (run clang-format -i): ${unclean[*]}"
    record lint "$pass" "${#unclean[@]}" 0 "clang-format: ${unclean[*]}"
  else
    record lint "$pass" 0
  fi
  local report
  report=$(cppcheck --enable=warning,performance,portability --std=c11 --quiet \
    --error-exitcode=1 -I . lib services fcgi worker ctl 2>&1) || {
    printf '%s\n' "$report"
    record lint 0 1 0 "cppcheck reported findings"
    return 0
  }
  record lint 1 0
  bw_say "cppcheck clean; ${pass} of ${#files[@]} files clang-format clean"
}

# The simulated gateway's own self-test: it starts its own simulators on free ports, so it needs
# no stack; it runs with the build suites so the later gRPC suites can rely on it.
suite_gateway_sim() {
  run_pytest gateway-sim tests/gateway-sim
}

# suite_sanitizers: after the stack stopped (LeakSanitizer reports at exit). One report file = one
# failed test.
suite_sanitizers() {
  section "sanitizer reports"
  local files=() file bad=0
  shopt -s nullglob
  files=("$RUN"/log/asan.* "$RUN"/log/ubsan.*)
  shopt -u nullglob
  for file in ${files[@]+"${files[@]}"}; do
    if grep -qE 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$file"; then
      bad=$((bad + 1))
      printf -- '----- %s (first 40 lines) -----\n' "$file"
      head -n 40 "$file"
    fi
  done
  record sanitizers 0 "$bad" 0
  ((bad)) || bw_say "no reports"
}

# --- main ---------------------------------------------------------------------------------------

summary() {
  local name total_pass=0 total_fail=0 line
  section "summary"
  for name in "${SUITES[@]}"; do
    line="$name: ${PASSED[$name]} passed, ${FAILED[$name]} failed"
    if ((SKIPPED[$name])); then
      line+=" (${SKIPPED[$name]} skipped)"
    fi
    if [[ -n ${NOTES[$name]} ]]; then
      line+=" — ${NOTES[$name]}"
    fi
    bw_say "$line"
    total_pass=$((total_pass + PASSED[$name]))
    total_fail=$((total_fail + FAILED[$name]))
  done
  if ((total_pass + total_fail == 0)); then
    bw_say "no tests ran"
  fi
  if ((total_fail == 0 && total_pass > 0)); then
    rm -rf "$RUN"
  else
    bw_say "run dir kept for inspection: $RUN"
  fi
  SUMMARY_DONE=1
  # Must stay the last line of the output.
  bw_say "$total_pass passed, $total_fail failed"
  ((total_fail == 0 && total_pass > 0))
}

main() {
  cd "$BW_CHECKOUT"
  mkdir -p "$OUT"
  RUN=$(mktemp -d /tmp/breakwater-test.XXXXXX)
  bw_say "test run: run dir $RUN, build dir $TEST_BUILD_DIR"

  section "dependencies"
  if ! bw_install_deps; then
    record setup 0 1 0 "install-deps.sh failed"
    summary
    return
  fi

  suite_lint || record lint 0 1 0 "suite_lint itself failed"

  section "build (sanitizers) in $TEST_BUILD_DIR"
  local built=1
  if ! (bw_build "$TEST_BUILD_DIR" --enable-sanitizers); then
    built=0
    record unit 0 1 0 "build failed"
  else
    suite_unit || record unit 0 1 0 "suite_unit itself failed"
  fi
  suite_gateway_sim || record gateway-sim 0 1 0 "suite_gateway_sim itself failed"

  local up=0
  if ((built)); then
    # Picked only now, right before nginx binds it: the build can take minutes.
    PORT=$(bw_pick_free_port)
    section "starting the stack on port $PORT"
    STACK_STARTED=1
    if stack up; then
      up=1
    fi
  fi

  if ((up)); then
    # What the end-to-end suites are given (docs/stack-contract.md). BW_PORT, BW_SANITIZERS and
    # BW_RATE_LIMIT are extra: a test calling $BW_STACK then acts on exactly this stack.
    export BW_URL="https://127.0.0.1:$PORT"
    export BW_TLS_CERT=$RUN/tls/cert.pem
    export BW_RUN_DIR=$RUN
    export BW_DB_SOCKET=$RUN/mysql/mysqld.sock
    export BW_DB_NAME=breakwater
    export BW_STACK=$STACK
    export BW_BUILD_DIR=$TEST_BUILD_DIR
    export BW_ADMIN_EMAIL BW_ADMIN_PASSWORD_FILE=$RUN/conf/admin.password
    export BW_PORT=$PORT BW_SANITIZERS=1 BW_RATE_LIMIT=off
    # The stack's simulated gateway (BW_SIM_NAME, BW_SIM_ENDPOINT, BW_SIM_CONTROL, BW_SIM_CERTS).
    local line
    while IFS= read -r line; do
      export "${line%%=*}=$(eval "printf '%s' ${line#*=}")"
    done < <(grep '^BW_SIM_' "$RUN/env")
  fi
  local suite
  for suite in "${STACK_SUITES[@]}"; do
    if ((up)); then
      "suite_$suite" || record "$suite" 0 1 0 "suite_$suite itself failed"
    elif ((built)); then
      record "$suite" 0 1 0 "not run: the stack did not come up"
    else
      record "$suite" 0 1 0 "not run: the build failed"
    fi
  done

  stop_stack
  suite_sanitizers
  summary
}

main "$@"
