#!/usr/bin/env bash
# The local Breakwater stack: private MariaDB, the FastCGI pool and nginx with TLS.
#
#   scripts/stack.sh up|down|status|restart-fcgi|restart-worker|restart-db|url
#
# Environment (defaults in brackets):
#   BW_RUN_DIR     run directory with configs, data, sockets, logs   [<checkout>/run]
#   BW_PORT        HTTPS port on 127.0.0.1                            [8443]
#   BW_BUILD_DIR   out-of-tree build directory holding the binaries   [<checkout>/build]
#   BW_SANITIZERS  1 = configure with --enable-sanitizers and collect ASan/UBSan reports [0]
#   BW_RATE_LIMIT  on = keep nginx's per-IP rate limit of production  [off]
#   BW_HTDOCS      the static root nginx serves                      [<checkout>/htdocs]
# "up" saves these in $BW_RUN_DIR/env; later calls for the same run dir reuse them unless they
# are set explicitly, so e.g. a test calling "restart-fcgi" gets the same build dir and port.
# Layout and contract: docs/stack-contract.md.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BW_ENV_VARS=(BW_PORT BW_BUILD_DIR BW_SANITIZERS BW_RATE_LIMIT BW_HTDOCS)

usage() {
  sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# load_env: explicit environment > $BW_RUN_DIR/env > defaults. Sets CONFLICTS to the variables
# whose explicit value differs from the saved one.
load_env() {
  BW_RUN_DIR=${BW_RUN_DIR:-$BW_CHECKOUT/run}
  local -A explicit=()
  local var
  for var in "${BW_ENV_VARS[@]}"; do
    if [[ -n ${!var-} ]]; then
      explicit[$var]=${!var}
    fi
  done
  CONFLICTS=()
  if [[ -f $BW_RUN_DIR/env ]]; then
    local run_dir=$BW_RUN_DIR
    # Written by save_env below with printf %q.
    # shellcheck source=/dev/null
    source "$BW_RUN_DIR/env"
    # The run dir is where we found the file, even if it was moved since.
    BW_RUN_DIR=$run_dir
    for var in "${!explicit[@]}"; do
      if [[ -n ${!var-} && ${!var} != "${explicit[$var]}" ]]; then
        CONFLICTS+=("$var=${explicit[$var]} (saved: ${!var})")
      fi
      printf -v "$var" '%s' "${explicit[$var]}"
    done
  fi
  BW_PORT=${BW_PORT:-8443}
  BW_BUILD_DIR=${BW_BUILD_DIR:-$BW_CHECKOUT/build}
  BW_SANITIZERS=${BW_SANITIZERS:-0}
  BW_RATE_LIMIT=${BW_RATE_LIMIT:-off}
  BW_HTDOCS=${BW_HTDOCS:-$BW_CHECKOUT/htdocs}
  [[ $BW_SANITIZERS == [01] ]] || bw_die "BW_SANITIZERS must be 0 or 1: $BW_SANITIZERS"
  bw_set_paths
}

# save_env: the chosen values plus what the e2e tests are given (contract table), as shell
# assignments.
save_env() {
  local tmp=$BW_RUN_DIR/env.tmp var
  {
    echo "# Written by scripts/stack.sh up; sourced by later calls for this run dir."
    for var in "${BW_ENV_VARS[@]}"; do
      printf '%s=%q\n' "$var" "${!var}"
    done
    printf 'BW_RUN_DIR=%q\n' "$BW_RUN_DIR"
    printf 'BW_URL=%q\n' "$BW_URL"
    printf 'BW_TLS_CERT=%q\n' "$BW_TLS_CERT"
    printf 'BW_DB_SOCKET=%q\n' "$BW_DB_SOCKET"
    printf 'BW_DB_NAME=%q\n' "$BW_DB_NAME"
    printf 'BW_STACK=%q\n' "$BW_CHECKOUT/scripts/stack.sh"
    if [[ -n ${BW_SIM_PORT-} ]]; then
      printf 'BW_SIM_NAME=%q\n' "$BW_SIM_NAME"
      printf 'BW_SIM_ENDPOINT=%q\n' "127.0.0.1:$BW_SIM_PORT"
      printf 'BW_SIM_CONTROL=%q\n' "http://127.0.0.1:$BW_SIM_CONTROL_PORT"
      printf 'BW_SIM_CERTS=%q\n' "$BW_SIM_CERTS"
    fi
    printf 'BW_ADMIN_EMAIL=%q\n' "$BW_ADMIN_EMAIL"
    printf 'BW_ADMIN_PASSWORD_FILE=%q\n' "$BW_ADMIN_PASSWORD_FILE"
  } >"$tmp"
  mv -f "$tmp" "$BW_RUN_DIR/env"
}

anything_running() {
  bw_db_pid >/dev/null || bw_fcgi_pid >/dev/null || bw_nginx_pid >/dev/null
}

cmd_up() {
  if ((${#CONFLICTS[@]})) && anything_running; then
    bw_die "the stack in $BW_RUN_DIR is running with other settings: ${CONFLICTS[*]}; run \"$0 down\" first or unset them"
  fi
  # Before building and starting anything: a busy port would only show at the very end.
  if ! bw_nginx_pid >/dev/null && ! bw_port_free "$BW_PORT"; then
    bw_die "port $BW_PORT on 127.0.0.1 is already in use by another program; choose another BW_PORT"
  fi
  local configure_args=()
  if [[ $BW_SANITIZERS == 1 ]]; then
    configure_args=(--enable-sanitizers)
  fi
  bw_install_deps
  bw_build "$BW_BUILD_DIR" ${configure_args[@]+"${configure_args[@]}"}
  bw_need_binaries
  bw_make_dirs
  # Saved before anything starts so that "down" finds everything even if "up" fails half-way.
  save_env

  bw_db_start
  bw_db_setup
  bw_write_config
  bw_keygen
  bw_migrate
  bw_bootstrap_admin
  bw_tls_cert
  # Otherwise "up" after editing C code would keep serving the old code without a word.
  if bw_fcgi_stale; then
    bw_say "fcgi: $BW_BUILD_DIR/breakwater-fcgi was rebuilt since the pool started; restarting it"
    bw_fcgi_stop
  fi
  bw_fcgi_start
  bw_worker_start
  bw_nginx_config
  bw_nginx_start
  bw_wait_http /healthz
  bw_sim_start
  bw_sim_register
  save_env
  bw_say "Breakwater is up: $BW_URL/ (simulated gateway: $BW_SIM_NAME)"
}

cmd_down() {
  # Reverse start order: nothing is left talking to a process that is already gone.
  bw_sim_stop
  bw_nginx_stop
  bw_worker_stop
  bw_fcgi_stop
  bw_db_stop
}

cmd_restart_fcgi() {
  bw_need_binaries
  bw_fcgi_stop
  bw_fcgi_start
  # The caller (a test) wants the next request through nginx to succeed.
  if bw_nginx_pid >/dev/null; then
    bw_wait_http /healthz
  fi
}

cmd_restart_worker() {
  bw_need_binaries
  bw_worker_stop
  bw_worker_start
}

cmd_restart_db() {
  bw_db_stop
  bw_db_start
  # readyz is 200 only once the pool talks to the database again (contract).
  if bw_nginx_pid >/dev/null && bw_fcgi_pid >/dev/null; then
    bw_wait_http /readyz
  fi
}

main() {
  if (($# != 1)); then
    usage >&2
    exit 2
  fi
  case $1 in
    -h | --help | help)
      usage
      exit 0
      ;;
    up | down | status | restart-fcgi | restart-worker | restart-db | url) ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
  load_env
  case $1 in
    up) cmd_up ;;
    down) cmd_down ;;
    status) bw_status ;;
    restart-fcgi) cmd_restart_fcgi ;;
    restart-worker) cmd_restart_worker ;;
    restart-db) cmd_restart_db ;;
    url) bw_say "$BW_URL/" ;;
  esac
}

main "$@"
