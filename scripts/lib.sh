# shellcheck shell=bash
# Shared functions of scripts/stack.sh and scripts/test.sh. Source it; do not run it.
#
# Layout and names follow docs/stack-contract.md. Every process is started directly (no systemd,
# no "service"), detached into its own session so that a Ctrl-C in the terminal or the end of the
# calling script does not take it down, and is found again through its pid file.
#
# Functions that need the run directory expect bw_set_paths to have been called.

if [[ -n ${BW_LIB_LOADED-} ]]; then
  return 0
fi
BW_LIB_LOADED=1

BW_CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# Debian's interpreter, not whatever python3 comes first in PATH (pyenv shims, venvs): the
# python3-* packages installed by install-deps.sh live there.
BW_PYTHON=/usr/bin/python3
BW_START_TIMEOUT=30
BW_STOP_TIMEOUT=30
BW_DB_NAME=breakwater
BW_DB_USER=breakwater
# The schema owner: runs the migrations and grants BW_DB_USER row access only (lib/migrate.h).
BW_DB_OWNER=breakwater_owner
BW_ADMIN_EMAIL=admin@breakwater.local

# --- messages -----------------------------------------------------------------------------------

bw_say() { printf '%s\n' "$*"; }
bw_warn() { printf 'warning: %s\n' "$*" >&2; }
bw_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# bw_tail FILE [LINES]: show the end of a log after a failure, so the cause is on screen.
bw_tail() {
  local file=$1 lines=${2:-30}
  if [[ -s $file ]]; then
    printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
    tail -n "$lines" "$file" >&2
    printf -- '----- end of %s -----\n' "$file" >&2
  else
    printf -- '(%s is empty or missing)\n' "$file" >&2
  fi
}

# --- paths --------------------------------------------------------------------------------------

# Paths end up unquoted in nginx.conf, in sed replacements and in key = value lines; refuse the
# characters that would break one of them instead of quoting for three syntaxes.
bw_check_path() {
  local what=$1 path=$2
  [[ $path == /* ]] || bw_die "$what must be an absolute path: $path"
  [[ $path =~ ^[A-Za-z0-9/._+:@%=,-]+$ ]] ||
    bw_die "$what contains characters the generated configs cannot hold (spaces, quotes, |, &...): $path"
}

# bw_set_paths: derive every path of the run directory from BW_RUN_DIR / BW_BUILD_DIR / BW_PORT.
bw_set_paths() {
  bw_check_path "the checkout" "$BW_CHECKOUT"
  bw_check_path BW_RUN_DIR "$BW_RUN_DIR"
  bw_check_path BW_BUILD_DIR "$BW_BUILD_DIR"
  if ! [[ $BW_PORT =~ ^[1-9][0-9]{0,4}$ ]] || ((BW_PORT < 1 || BW_PORT > 65535)); then
    bw_die "BW_PORT must be a port number: $BW_PORT"
  fi

  BW_CONF_DIR=$BW_RUN_DIR/conf
  BW_LOG_DIR=$BW_RUN_DIR/log
  BW_TLS_DIR=$BW_RUN_DIR/tls
  BW_TLS_CERT=$BW_TLS_DIR/cert.pem
  BW_TLS_KEY=$BW_TLS_DIR/key.pem
  BW_CONFIG=$BW_CONF_DIR/breakwater.conf
  BW_MASTER_KEY=$BW_CONF_DIR/master.key
  BW_DB_PASSWORD_FILE=$BW_CONF_DIR/db.password
  BW_DB_OWNER_PASSWORD_FILE=$BW_CONF_DIR/db-owner.password
  # breakwater.conf plus the owner's account: only breakwaterctl migrate reads it.
  BW_MIGRATE_CONFIG=$BW_CONF_DIR/migrate.conf
  BW_ADMIN_PASSWORD_FILE=$BW_CONF_DIR/admin.password
  BW_DB_DATA=$BW_RUN_DIR/mysql/data
  BW_DB_SOCKET=$BW_RUN_DIR/mysql/mysqld.sock
  BW_DB_PID=$BW_RUN_DIR/mysql/mysqld.pid
  BW_DB_LOG=$BW_LOG_DIR/mysqld.log
  BW_FCGI_SOCKET=$BW_RUN_DIR/fcgi.sock
  BW_FCGI_PID=$BW_RUN_DIR/fcgi.pid
  BW_WORKER_PID=$BW_RUN_DIR/worker.pid
  BW_WORKER_LOG=$BW_LOG_DIR/worker.log
  BW_FCGI_LOG=$BW_LOG_DIR/fcgi.log
  BW_NGINX_CONF=$BW_CONF_DIR/nginx.conf
  BW_NGINX_SITE=$BW_CONF_DIR/nginx-breakwater.conf
  BW_NGINX_PREFIX=$BW_RUN_DIR/nginx/
  BW_NGINX_PID=$BW_RUN_DIR/nginx.pid
  BW_NGINX_ERROR_LOG=$BW_LOG_DIR/nginx-error.log
  BW_NGINX_ACCESS_LOG=$BW_LOG_DIR/nginx-access.log
  BW_URL=https://127.0.0.1:$BW_PORT

  # A unix socket path is limited to 107 bytes (sun_path); mariadbd and the pool would fail
  # with a far less obvious message.
  local sock
  for sock in "$BW_DB_SOCKET" "$BW_FCGI_SOCKET"; do
    ((${#sock} <= 107)) || bw_die "socket path longer than 107 bytes, choose a shorter BW_RUN_DIR: $sock"
  done
}

bw_make_dirs() {
  mkdir -p "$BW_CONF_DIR" "$BW_LOG_DIR" "$BW_TLS_DIR" "$BW_RUN_DIR/mysql" "$BW_NGINX_PREFIX"
  # conf/ holds the DB password and the master key.
  chmod 0700 "$BW_CONF_DIR"
}

# --- processes ----------------------------------------------------------------------------------

# bw_alive PID: the process exists and is not a zombie. PID 1 of a container does not always
# reap orphans, so a dead daemon can linger as a zombie, which kill -0 still reports as alive.
bw_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != [ZX] ]]
}

# bw_pid_of PIDFILE NEEDLE: print the pid from PIDFILE if that process is alive and its command
# line contains NEEDLE (a path of this run dir). The check guards against a stale pid file whose
# pid now belongs to something else — e.g. the daemon of a concurrent test run.
bw_pid_of() {
  local pidfile=$1 needle=$2 pid cmdline
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  pid=${pid//[!0-9]/}
  [[ -n $pid ]] && bw_alive "$pid" || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$needle"* ]] || return 1
  printf '%s\n' "$pid"
}

# bw_group_alive PGID: some non-zombie process is still in that process group (forked workers).
bw_group_alive() {
  ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^[ZX]/ { found = 1 } END { exit !found }'
}

# bw_wait TIMEOUT PID CMD...: poll CMD until it succeeds (0), PID dies (2; empty PID: not
# checked) or TIMEOUT seconds pass (1).
bw_wait() {
  local timeout=$1 pid=$2 end
  shift 2
  end=$((SECONDS + timeout))
  while ((SECONDS < end)); do
    "$@" && return 0
    if [[ -n $pid ]] && ! bw_alive "$pid"; then
      "$@" && return 0
      return 2
    fi
    sleep 0.1
  done
  "$@" && return 0
  return 1
}

# bw_stop LABEL PIDFILE NEEDLE SIGNAL: graceful stop, SIGKILL for the whole process group after
# BW_STOP_TIMEOUT seconds. Each daemon runs in its own session (setsid / nginx's own daemonising),
# so its pid is also its process group id and the group holds exactly its workers.
bw_stop() {
  local label=$1 pidfile=$2 needle=$3 signal=$4 pid
  if ! pid=$(bw_pid_of "$pidfile" "$needle"); then
    bw_say "$label: not running"
    rm -f "$pidfile"
    return 0
  fi
  bw_say "$label: stopping (pid $pid)"
  kill "-$signal" "$pid" 2>/dev/null || true
  if ! bw_wait "$BW_STOP_TIMEOUT" "" eval "! bw_alive $pid"; then
    bw_warn "$label did not stop within $BW_STOP_TIMEOUT s after SIG$signal; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    bw_wait 5 "" eval "! bw_alive $pid" || bw_die "$label (pid $pid) survived SIGKILL"
  fi
  # Workers that outlive their master would keep serving (or holding memory) unseen.
  if bw_group_alive "$pid"; then
    if ! bw_wait 5 "" eval "! bw_group_alive $pid"; then
      bw_warn "$label left processes in group $pid behind after its master exited; killing them"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
  bw_say "$label: stopped"
}

# --- free port ----------------------------------------------------------------------------------

# bw_port_free PORT: nothing listens on 127.0.0.1:PORT (bind test with SO_REUSEADDR, as nginx
# binds, so sockets in TIME_WAIT do not count as busy).
bw_port_free() {
  "$BW_PYTHON" - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

# bw_pick_free_port: print a port that is free on 127.0.0.1. Random, and below the kernel's
# ephemeral range, so that neither a concurrent run nor an outgoing connection is likely to take
# it between this check and nginx's bind.
bw_pick_free_port() {
  "$BW_PYTHON" - <<'EOF'
import random, socket, sys
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        eph_lo = int(f.read().split()[0])
except (OSError, ValueError, IndexError):
    eph_lo = 32768
lo, hi = 10000, max(eph_lo - 1, 20000)
rng = random.SystemRandom()
for _ in range(500):
    port = rng.randint(lo, hi)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("no free port found")
EOF
}

# --- dependencies and build ---------------------------------------------------------------------

bw_install_deps() {
  "$BW_CHECKOUT/scripts/install-deps.sh"
}

# bw_build BUILD_DIR [CONFIGURE_ARGS...]: autogen once, configure out of tree only when the build
# dir is not configured or was configured with other arguments, then make. Runs under a lock on
# the build dir (and on the checkout for autogen) so two concurrent runs do not build into the
# same tree at once.
bw_build() {
  local build=$1
  shift
  local args=("$@") want=""
  if ((${#args[@]})); then
    want=$(printf '%q ' "${args[@]}")
  fi
  mkdir -p "$build"
  (
    exec 8<"$BW_CHECKOUT"
    flock 8 || exit 1
    if [[ ! -x $BW_CHECKOUT/configure ]]; then
      [[ -f $BW_CHECKOUT/autogen.sh ]] ||
        bw_die "$BW_CHECKOUT has neither configure nor autogen.sh: the C build system is missing"
      bw_say "build: running autogen.sh"
      (cd "$BW_CHECKOUT" && sh ./autogen.sh) || bw_die "autogen.sh failed"
    fi
    exec 8<&-

    exec 9<"$build"
    flock 9 || exit 1
    local stamp=$build/.bw-configure-args
    if [[ ! -f $build/Makefile || ! -f $stamp || $(<"$stamp") != "$want" ]]; then
      bw_say "build: configuring $build ${args[*]}"
      (cd "$build" && "$BW_CHECKOUT/configure" "${args[@]}") || bw_die "configure failed in $build"
      # Written only after configure succeeded: a failed configure is retried next time.
      printf '%s' "$want" >"$stamp"
    fi
    bw_say "build: make -j$(nproc) in $build"
    make -C "$build" -j"$(nproc)" || bw_die "make failed in $build"
  )
}

# bw_need_binaries: the products of the C build that the stack runs (contract: "Build").
bw_need_binaries() {
  local bin
  for bin in breakwater-fcgi breakwaterctl breakwater-worker; do
    [[ -x $BW_BUILD_DIR/$bin ]] ||
      bw_die "$BW_BUILD_DIR/$bin is missing: the C build did not produce it (see docs/stack-contract.md, \"Build\")"
  done
}

# --- MariaDB ------------------------------------------------------------------------------------

bw_db_pid() { bw_pid_of "$BW_DB_PID" "$BW_DB_DATA"; }

bw_db_ping() {
  mariadb-admin --no-defaults --socket="$BW_DB_SOCKET" --user=root --connect-timeout=2 ping \
    >/dev/null 2>&1
}

# bw_db_sql: run SQL from stdin as root over the socket (root has no password; contract).
bw_db_sql() {
  mariadb --no-defaults --socket="$BW_DB_SOCKET" --user=root --batch
}

bw_db_init() {
  # mysql/ (the system schema) exists once mariadb-install-db has completed.
  if [[ -d $BW_DB_DATA/mysql ]]; then
    return 0
  fi
  bw_say "mariadb: initialising $BW_DB_DATA"
  rm -rf "$BW_DB_DATA"
  mkdir -p "$BW_DB_DATA"
  if ! mariadb-install-db --no-defaults --datadir="$BW_DB_DATA" \
    --auth-root-authentication-method=normal --skip-test-db --user=root \
    >"$BW_LOG_DIR/mysqld-install.log" 2>&1; then
    bw_tail "$BW_LOG_DIR/mysqld-install.log"
    # A half-initialised datadir would make every later attempt fail differently.
    rm -rf "$BW_DB_DATA"
    bw_die "mariadb-install-db failed"
  fi
}

bw_db_start() {
  local pid
  if pid=$(bw_db_pid); then
    bw_say "mariadb: already running (pid $pid)"
    return 0
  fi
  bw_db_init
  bw_say "mariadb: starting on $BW_DB_SOCKET"
  # --no-defaults: ignore /etc/mysql/*; --skip-networking: socket only, so concurrent instances
  # never compete for port 3306. utf8mb4 and UTC as server defaults match what the schema and the
  # application assume (sql/001_init.sql).
  setsid nohup mariadbd --no-defaults --datadir="$BW_DB_DATA" --socket="$BW_DB_SOCKET" \
    --skip-networking --user=root --pid-file="$BW_DB_PID" --log-error="$BW_DB_LOG" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --default-time-zone=+00:00 \
    </dev/null >>"$BW_DB_LOG" 2>&1 &
  pid=$!
  local rc=0
  bw_wait "$BW_START_TIMEOUT" "$pid" bw_db_ping || rc=$?
  if ((rc != 0)); then
    bw_tail "$BW_DB_LOG"
    ((rc == 2)) && bw_die "mariadbd exited during start-up"
    bw_die "mariadbd did not answer on $BW_DB_SOCKET within $BW_START_TIMEOUT s"
  fi
  bw_say "mariadb: running (pid $pid)"
}

bw_db_stop() {
  bw_stop mariadb "$BW_DB_PID" "$BW_DB_DATA" TERM
}

# bw_db_password FILE: a random hex password made once and kept in FILE (0600).
bw_db_password() {
  if [[ ! -s $1 ]]; then
    (umask 077 && openssl rand -hex 24 >"$1")
  fi
  chmod 0600 "$1"
  # Hex only, so it can sit in a SQL string literal as is.
  [[ $(<"$1") =~ ^[0-9a-f]+$ ]] || bw_die "$1 does not hold a hex password"
}

# bw_db_setup: the database and two accounts (idempotent). The owner ($BW_DB_OWNER) holds the
# schema and runs the migrations; the application account ($BW_DB_USER), used by the pool, the
# worker and breakwaterctl, starts with no privilege at all and gets row access table by table
# from "breakwaterctl migrate" — never UPDATE/DELETE on the audit trail, never DDL or TRIGGER.
# Sent on stdin: the passwords are never visible in ps.
bw_db_setup() {
  bw_db_password "$BW_DB_PASSWORD_FILE"
  bw_db_password "$BW_DB_OWNER_PASSWORD_FILE"
  local pw owner_pw
  pw=$(<"$BW_DB_PASSWORD_FILE")
  owner_pw=$(<"$BW_DB_OWNER_PASSWORD_FILE")
  bw_db_sql <<EOF || bw_die "could not create the database/accounts"
CREATE DATABASE IF NOT EXISTS \`$BW_DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$BW_DB_OWNER'@'localhost' IDENTIFIED BY '$owner_pw';
ALTER USER '$BW_DB_OWNER'@'localhost' IDENTIFIED BY '$owner_pw';
GRANT ALL ON \`$BW_DB_NAME\`.* TO '$BW_DB_OWNER'@'localhost' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS '$BW_DB_USER'@'localhost' IDENTIFIED BY '$pw';
ALTER USER '$BW_DB_USER'@'localhost' IDENTIFIED BY '$pw';
REVOKE ALL PRIVILEGES, GRANT OPTION FROM '$BW_DB_USER'@'localhost';
EOF
}

# --- configuration, key, schema, certificate ----------------------------------------------------

# bw_write_config: conf/breakwater.conf (contract: "Configuration"). Regenerated on every "up" so
# it always matches the run dir; change single keys through BREAKWATER_<KEY> variables instead.
bw_write_config() {
  local tmp=$BW_CONFIG.tmp
  (
    umask 077
    cat >"$tmp" <<EOF
# Generated by scripts/stack.sh (scripts/lib.sh) on every "up"; edits are overwritten.
# Override a key with the environment variable BREAKWATER_<KEY>, e.g. BREAKWATER_LOG_LEVEL=debug.
socket = $BW_FCGI_SOCKET
# 0666: any local user/tool may talk to the pool of this private dev/test stack.
socket_mode = 0666
workers = 2
threads = 4
db_socket = $BW_DB_SOCKET
db_user = $BW_DB_USER
db_password = $(<"$BW_DB_PASSWORD_FILE")
db_name = $BW_DB_NAME
master_key_file = $BW_MASTER_KEY
# Gateways of the tests listen on 127.0.0.1.
local_mode = true
log_level = info
# The bundled presets and templates straight from the checkout.
data_dir = $BW_CHECKOUT/data
# Short, so a dead or slow gateway shows within seconds in the tests (production default: 30).
grpc_timeout = 5
# breakwater-worker probes every gateway this often (production default: 30).
health_interval = 2
# The webhook tests run their receivers on 127.0.0.1 (private and metadata addresses stay
# refused); short attempts and leases so retries and takeovers show within seconds
# (production defaults: false, 10, 60).
webhook_allow_loopback = true
webhook_delivery_timeout = 5
webhook_lease = 10
EOF
  )
  mv -f "$tmp" "$BW_CONFIG"
}

bw_keygen() {
  if [[ -s $BW_MASTER_KEY ]]; then
    return 0
  fi
  bw_say "breakwaterctl: generating the master key $BW_MASTER_KEY"
  "$BW_BUILD_DIR/breakwaterctl" keygen "$BW_MASTER_KEY" || bw_die "breakwaterctl keygen failed"
}

bw_migrate() {
  bw_say "breakwaterctl: migrating (as $BW_DB_OWNER)"
  (
    umask 077
    cat "$BW_CONFIG" - >"$BW_MIGRATE_CONFIG.tmp" <<EOF
db_migrate_user = $BW_DB_OWNER
db_migrate_password = $(<"$BW_DB_OWNER_PASSWORD_FILE")
EOF
  )
  mv -f "$BW_MIGRATE_CONFIG.tmp" "$BW_MIGRATE_CONFIG"
  "$BW_BUILD_DIR/breakwaterctl" --config "$BW_MIGRATE_CONFIG" migrate ||
    bw_die "breakwaterctl migrate failed"
}

# bw_bootstrap_admin: the stack's first admin, $BW_ADMIN_EMAIL, with a random password made once
# and kept in conf/admin.password (0600). breakwaterctl creates it only while no user exists, so
# this is idempotent and never touches an account made later. Done here rather than in the pool
# because nothing may touch the database before the pool forks its workers.
bw_bootstrap_admin() {
  if [[ ! -s $BW_ADMIN_PASSWORD_FILE ]]; then
    (umask 077 && openssl rand -hex 16 >"$BW_ADMIN_PASSWORD_FILE")
  fi
  chmod 0600 "$BW_ADMIN_PASSWORD_FILE"
  BREAKWATER_ADMIN_EMAIL=$BW_ADMIN_EMAIL BREAKWATER_ADMIN_PASSWORD=$(<"$BW_ADMIN_PASSWORD_FILE") \
    "$BW_BUILD_DIR/breakwaterctl" --config "$BW_CONFIG" bootstrap-admin ||
    bw_die "breakwaterctl bootstrap-admin failed"
}

# bw_tls_cert: self-signed P-256 certificate for 127.0.0.1/localhost (kept while valid for at
# least another day). P-256: cheapest handshakes, which matters for the benchmark. CA:TRUE and
# keyCertSign because the tests use this very certificate as their CA bundle.
bw_tls_cert() {
  if [[ -s $BW_TLS_CERT && -s $BW_TLS_KEY ]] &&
    openssl x509 -in "$BW_TLS_CERT" -noout -checkend 86400 >/dev/null 2>&1; then
    return 0
  fi
  bw_say "tls: generating a self-signed certificate in $BW_TLS_DIR"
  (
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 825 \
      -subj "/CN=localhost" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -addext "keyUsage=critical,digitalSignature,keyCertSign" \
      -addext "extendedKeyUsage=serverAuth" \
      -keyout "$BW_TLS_KEY.tmp" -out "$BW_TLS_CERT.tmp" 2>"$BW_LOG_DIR/openssl.log"
  ) || {
    bw_tail "$BW_LOG_DIR/openssl.log"
    bw_die "openssl could not create the certificate"
  }
  chmod 0644 "$BW_TLS_CERT.tmp"
  mv -f "$BW_TLS_KEY.tmp" "$BW_TLS_KEY"
  mv -f "$BW_TLS_CERT.tmp" "$BW_TLS_CERT"
}

# --- FastCGI pool -------------------------------------------------------------------------------

bw_fcgi_pid() { bw_pid_of "$BW_FCGI_PID" "$BW_CONFIG"; }

# bw_fcgi_start: BW_SANITIZERS=1 means BW_BUILD_DIR holds a sanitizer build: then ASan/UBSan
# write their reports to log/asan.<pid> / log/ubsan.<pid>, where test.sh counts them.
bw_fcgi_start() {
  local pid
  if pid=$(bw_fcgi_pid); then
    bw_say "fcgi: already running (pid $pid)"
    return 0
  fi
  bw_need_binaries
  local env_vars=()
  if [[ ${BW_SANITIZERS:-0} == 1 ]]; then
    env_vars+=("ASAN_OPTIONS=log_path=$BW_LOG_DIR/asan:detect_leaks=1:abort_on_error=0"
      "UBSAN_OPTIONS=print_stacktrace=1:log_path=$BW_LOG_DIR/ubsan")
  fi
  # Not running, so a socket file left there is stale; waiting for it below must not succeed on
  # the old one.
  rm -f "$BW_FCGI_SOCKET"
  bw_say "fcgi: starting $BW_BUILD_DIR/breakwater-fcgi"
  # setsid but not nohup: SIGHUP is the pool's reload signal and must not start out ignored.
  setsid env ${env_vars[@]+"${env_vars[@]}"} "$BW_BUILD_DIR/breakwater-fcgi" --config "$BW_CONFIG" \
    </dev/null >>"$BW_FCGI_LOG" 2>&1 &
  pid=$!
  printf '%s\n' "$pid" >"$BW_FCGI_PID"
  local rc=0
  bw_wait "$BW_START_TIMEOUT" "$pid" test -S "$BW_FCGI_SOCKET" || rc=$?
  if ((rc != 0)); then
    bw_tail "$BW_FCGI_LOG"
    ((rc == 2)) && bw_die "breakwater-fcgi exited during start-up"
    bw_die "breakwater-fcgi did not create $BW_FCGI_SOCKET within $BW_START_TIMEOUT s"
  fi
  bw_say "fcgi: running (pid $pid)"
}

# bw_fcgi_stale: the running pool's executable has been replaced by a rebuild (the linker
# unlinks the old file, so /proc/PID/exe then ends in " (deleted)").
bw_fcgi_stale() {
  local pid exe
  pid=$(bw_fcgi_pid) || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ $exe == *" (deleted)" ]]
}

bw_fcgi_stop() {
  bw_stop fcgi "$BW_FCGI_PID" "$BW_CONFIG" TERM
  rm -f "$BW_FCGI_SOCKET"
}

# --- background worker (health monitor) --------------------------------------------------------

bw_worker_pid() { bw_pid_of "$BW_WORKER_PID" "$BW_CONFIG"; }

bw_worker_start() {
  local pid
  if pid=$(bw_worker_pid); then
    local exe
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || exe=""
    if [[ $exe != *" (deleted)" ]]; then
      bw_say "worker: already running (pid $pid)"
      return 0
    fi
    bw_say "worker: $BW_BUILD_DIR/breakwater-worker was rebuilt; restarting it"
    bw_worker_stop
  fi
  local env_vars=()
  if [[ ${BW_SANITIZERS:-0} == 1 ]]; then
    env_vars+=("ASAN_OPTIONS=log_path=$BW_LOG_DIR/asan:detect_leaks=1:abort_on_error=0"
      "UBSAN_OPTIONS=print_stacktrace=1:log_path=$BW_LOG_DIR/ubsan")
  fi
  bw_say "worker: starting $BW_BUILD_DIR/breakwater-worker"
  setsid env ${env_vars[@]+"${env_vars[@]}"} "$BW_BUILD_DIR/breakwater-worker" \
    --config "$BW_CONFIG" </dev/null >>"$BW_WORKER_LOG" 2>&1 &
  pid=$!
  printf '%s\n' "$pid" >"$BW_WORKER_PID"
  sleep 0.2
  bw_alive "$pid" || { bw_tail "$BW_WORKER_LOG"; bw_die "breakwater-worker exited during start-up"; }
  bw_say "worker: running (pid $pid)"
}

bw_worker_stop() {
  bw_stop worker "$BW_WORKER_PID" "$BW_CONFIG" TERM
}

# --- nginx --------------------------------------------------------------------------------------

bw_nginx_pid() { bw_pid_of "$BW_NGINX_PID" "$BW_NGINX_CONF"; }

# bw_nginx_config: conf/nginx-breakwater.conf is nginx/breakwater.conf with the production paths
# replaced; conf/nginx.conf is a minimal main config around it. BW_RATE_LIMIT=off (the default
# here) drops the limit_req line: the test suites and the benchmark send far more than 20 r/s from
# one address.
bw_nginx_config() {
  local src=$BW_CHECKOUT/nginx/breakwater.conf
  [[ -f $src ]] || bw_die "$src is missing"
  local sed_args=(
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$BW_PORT ssl http2;|"
    -e "s|/etc/breakwater/tls/|$BW_TLS_DIR/|g"
    -e "s|/usr/share/breakwater/htdocs|${BW_HTDOCS:-$BW_CHECKOUT/htdocs}|g"
    -e "s|unix:/run/breakwater/fcgi.sock|unix:$BW_FCGI_SOCKET|g"
    -e "s|/var/log/nginx/breakwater-access.log|$BW_NGINX_ACCESS_LOG|g"
  )
  case ${BW_RATE_LIMIT:-off} in
    off) sed_args+=(-e '/^[[:space:]]*limit_req zone=bw_per_ip/d') ;;
    on) ;;
    *) bw_die "BW_RATE_LIMIT must be on or off: $BW_RATE_LIMIT" ;;
  esac
  {
    echo "# Generated by scripts/lib.sh from nginx/breakwater.conf for $BW_RUN_DIR; edits are overwritten."
    sed "${sed_args[@]}" "$src"
  } >"$BW_NGINX_SITE.tmp"
  # If nginx/breakwater.conf was edited so that a substitution no longer matches, the dev nginx
  # would silently use production paths; fail instead (comments ignored).
  local left
  left=$(sed 's/#.*//' "$BW_NGINX_SITE.tmp" |
    grep -nE 'listen +443|/etc/breakwater|/usr/share/breakwater|/run/breakwater|/var/log/nginx' || true)
  if [[ -n $left ]]; then
    bw_die "nginx/breakwater.conf has production values the dev stack does not substitute (update bw_nginx_config in scripts/lib.sh):"$'\n'"$left"
  fi
  mv -f "$BW_NGINX_SITE.tmp" "$BW_NGINX_SITE"

  cat >"$BW_NGINX_CONF.tmp" <<EOF
# Generated by scripts/lib.sh for the stack in $BW_RUN_DIR; edits are overwritten.
daemon on;
# root: the workers read htdocs/ inside the checkout (often under /root, not readable by
# www-data) and the private TLS key in this run dir.
user root;
worker_processes auto;
pid $BW_NGINX_PID;
error_log $BW_NGINX_ERROR_LOG warn;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    # Temp files under this run dir: never the system's /var/lib/nginx, never shared between runs.
    client_body_temp_path $BW_RUN_DIR/nginx/client_body;
    fastcgi_temp_path $BW_RUN_DIR/nginx/fastcgi;
    proxy_temp_path $BW_RUN_DIR/nginx/proxy;
    scgi_temp_path $BW_RUN_DIR/nginx/scgi;
    uwsgi_temp_path $BW_RUN_DIR/nginx/uwsgi;
    access_log $BW_NGINX_ACCESS_LOG;

    include $BW_NGINX_SITE;
}
EOF
  if ! nginx -t -q -c "$BW_NGINX_CONF.tmp" -p "$BW_NGINX_PREFIX" -e "$BW_NGINX_ERROR_LOG" \
    2>"$BW_LOG_DIR/nginx-t.log"; then
    cat "$BW_LOG_DIR/nginx-t.log" >&2
    bw_die "nginx -t rejected the generated $BW_NGINX_CONF"
  fi
  mv -f "$BW_NGINX_CONF.tmp" "$BW_NGINX_CONF"
}

bw_nginx_start() {
  local pid
  if pid=$(bw_nginx_pid); then
    bw_say "nginx: already running (pid $pid); reloading its configuration"
    # The generated config may have changed (new checkout of nginx/breakwater.conf).
    kill -HUP "$pid"
    return 0
  fi
  bw_port_free "$BW_PORT" ||
    bw_die "port $BW_PORT on 127.0.0.1 is already in use by another program; choose another BW_PORT"
  bw_say "nginx: starting on $BW_URL/"
  # -e: errors from before the config is read go to our log too, not the compiled-in default.
  if ! nginx -c "$BW_NGINX_CONF" -p "$BW_NGINX_PREFIX" -e "$BW_NGINX_ERROR_LOG"; then
    bw_tail "$BW_NGINX_ERROR_LOG"
    bw_die "nginx failed to start"
  fi
  if ! bw_wait 10 "" bw_nginx_pid >/dev/null; then
    bw_tail "$BW_NGINX_ERROR_LOG"
    bw_die "nginx did not write $BW_NGINX_PID"
  fi
  bw_say "nginx: running (pid $(bw_nginx_pid))"
}

bw_nginx_stop() {
  # QUIT: graceful, open requests are finished first.
  bw_stop nginx "$BW_NGINX_PID" "$BW_NGINX_CONF" QUIT
}

# --- readiness ----------------------------------------------------------------------------------

# bw_http_status PATH: HTTP status of GET PATH through nginx ("000" when there is no answer).
bw_http_status() {
  curl -k -s -o /dev/null -w '%{http_code}' --max-time 2 "$BW_URL$1" 2>/dev/null || true
}

bw_http_is() {
  [[ $(bw_http_status "$1") == "$2" ]]
}

# bw_wait_http PATH: wait for a 200 through nginx; show the pool's and nginx's logs if none comes.
bw_wait_http() {
  local path=$1
  if ! bw_wait "$BW_START_TIMEOUT" "" bw_http_is "$path" 200; then
    bw_tail "$BW_FCGI_LOG"
    bw_tail "$BW_NGINX_ERROR_LOG"
    bw_die "$BW_URL$path did not answer 200 within $BW_START_TIMEOUT s (last status: $(bw_http_status "$path"))"
  fi
}

# --- status -------------------------------------------------------------------------------------

# bw_status: one line per component; returns 0 when all three run, 3 otherwise (LSB "not running").
# --- simulated gateway (tests/gateway-sim) -----------------------------------------------------
# One simulator with mTLS, registered as "local-sim", so a newcomer sees a live gateway. Its
# ports are picked once and kept in gateway-sim/ports, so the registered endpoint stays valid
# across down/up; its state (settings, sandboxes) is kept in gateway-sim/state.json.

bw_sim_paths() {
  BW_SIM_DIR=$BW_RUN_DIR/gateway-sim
  BW_SIM_CERTS=$BW_SIM_DIR/certs
  BW_SIM_PID=$BW_SIM_DIR/sim.pid
  BW_SIM_LOG=$BW_LOG_DIR/gateway-sim.log
  BW_SIM_NAME=local-sim
}

bw_sim_pid() { bw_sim_paths; bw_pid_of "$BW_SIM_PID" gateway_sim.py; }

bw_sim_start() {
  bw_sim_paths
  mkdir -p "$BW_SIM_DIR"
  if [[ ! -s $BW_SIM_CERTS/client.key ]]; then
    bw_say "gateway-sim: generating certificates in $BW_SIM_CERTS"
    sh "$BW_CHECKOUT/tests/gateway-sim/certs.sh" "$BW_SIM_CERTS" >/dev/null ||
      bw_die "tests/gateway-sim/certs.sh failed"
  fi
  if [[ ! -s $BW_SIM_DIR/ports ]]; then
    printf '%s %s\n' "$(bw_pick_free_port)" "$(bw_pick_free_port)" >"$BW_SIM_DIR/ports"
  fi
  read -r BW_SIM_PORT BW_SIM_CONTROL_PORT <"$BW_SIM_DIR/ports"
  local pid
  if pid=$(bw_sim_pid); then
    bw_say "gateway-sim: already running (pid $pid)"
  else
    rm -f "$BW_SIM_DIR/grpc.port"
    bw_say "gateway-sim: starting on 127.0.0.1:$BW_SIM_PORT (control $BW_SIM_CONTROL_PORT)"
    setsid "$BW_PYTHON" "$BW_CHECKOUT/tests/gateway-sim/gateway_sim.py" \
      --listen "127.0.0.1:$BW_SIM_PORT" --control "$BW_SIM_CONTROL_PORT" \
      --tls-cert "$BW_SIM_CERTS/server.crt" --tls-key "$BW_SIM_CERTS/server.key" \
      --client-ca "$BW_SIM_CERTS/ca.crt" --version 0.0.50 \
      --state-file "$BW_SIM_DIR/state.json" --ready-file "$BW_SIM_DIR/grpc.port" \
      </dev/null >>"$BW_SIM_LOG" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$BW_SIM_PID"
    local rc=0
    bw_wait 60 "$pid" test -s "$BW_SIM_DIR/grpc.port" || rc=$?
    if ((rc != 0)); then
      bw_tail "$BW_SIM_LOG"
      bw_die "the gateway simulator did not start"
    fi
    bw_say "gateway-sim: running (pid $pid)"
  fi
}

# bw_admin_login: a session for the stack's own admin calls (cookie jar 0600 in conf/, CSRF token
# in BW_ADMIN_CSRF), as a script would use the API.
bw_admin_login() {
  local jar=$BW_CONF_DIR/admin.cookies out
  (umask 077 && : >"$jar")
  out=$(curl -s --cacert "$BW_TLS_CERT" -c "$jar" -H 'Content-Type: application/json' \
    --data-binary @- "$BW_URL/api/auth/login" <<<"$(jq -n --arg e "$BW_ADMIN_EMAIL" \
      --rawfile p "$BW_ADMIN_PASSWORD_FILE" '{email: $e, password: ($p | rtrimstr("\n"))}')") ||
    bw_die "logging in as $BW_ADMIN_EMAIL failed"
  BW_ADMIN_CSRF=$(jq -r '.csrf_token // empty' <<<"$out")
  [[ -n $BW_ADMIN_CSRF ]] || bw_die "logging in as $BW_ADMIN_EMAIL failed: $out"
}

# bw_admin_curl ARGS...: curl with the admin session from bw_admin_login.
bw_admin_curl() {
  curl -s --cacert "$BW_TLS_CERT" -b "$BW_CONF_DIR/admin.cookies" \
    -H "X-CSRF-Token: $BW_ADMIN_CSRF" "$@"
}

# bw_sim_register: registers the simulator as $BW_SIM_NAME unless it is registered already.
bw_sim_register() {
  bw_sim_paths
  local code
  bw_admin_login
  code=$(bw_admin_curl -o /dev/null -w '%{http_code}' "$BW_URL/api/gateway/$BW_SIM_NAME/info") ||
    code=000
  if [[ $code == 200 ]]; then
    return 0
  fi
  local body
  body=$("$BW_PYTHON" - "$BW_SIM_NAME" "127.0.0.1:$BW_SIM_PORT" "$BW_SIM_CERTS" <<'PYEOF'
import base64, json, sys
name, endpoint, certs = sys.argv[1:4]
def b64(f):
    with open(f"{certs}/{f}", "rb") as fh:
        return base64.b64encode(fh.read()).decode()
print(json.dumps({"name": name, "endpoint": endpoint, "scheme": "https", "auth_mode": "mtls",
                  "ca_cert": b64("ca.crt"), "client_cert": b64("client.crt"),
                  "client_key": b64("client.key"), "description": "simulated gateway (stack.sh)",
                  "labels": {"env": "dev"}}))
PYEOF
  )
  code=$(bw_admin_curl -o "$BW_SIM_DIR/register.json" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary @- "$BW_URL/api/gateway/register" \
    <<<"$body") || code=000
  [[ $code == 201 ]] || bw_die "registering the simulated gateway failed (HTTP $code): $(cat "$BW_SIM_DIR/register.json" 2>/dev/null)"
  # First health probe, so the dashboard shows it connected right away.
  bw_admin_curl -o /dev/null -X POST "$BW_URL/api/gateway/$BW_SIM_NAME/test-connection" || true
  bw_say "gateway-sim: registered as $BW_SIM_NAME"
}

bw_sim_stop() {
  bw_sim_paths
  bw_stop gateway-sim "$BW_SIM_PID" gateway_sim.py TERM
}

bw_status() {
  local pid rc=0
  bw_say "run dir:  $BW_RUN_DIR"
  bw_say "build:    $BW_BUILD_DIR (sanitizers: ${BW_SANITIZERS:-0})"
  if pid=$(bw_db_pid); then
    bw_say "mariadb:  running (pid $pid, socket $BW_DB_SOCKET)"
  else
    bw_say "mariadb:  stopped"
    rc=3
  fi
  if pid=$(bw_fcgi_pid); then
    bw_say "fcgi:     running (pid $pid, socket $BW_FCGI_SOCKET)"
  else
    bw_say "fcgi:     stopped"
    rc=3
  fi
  if pid=$(bw_worker_pid); then
    bw_say "worker:   running (pid $pid)"
  else
    bw_say "worker:   stopped"
    rc=3
  fi
  if pid=$(bw_nginx_pid); then
    bw_say "nginx:    running (pid $pid, $BW_URL/)"
    bw_say "healthz:  $(bw_http_status /healthz)   readyz: $(bw_http_status /readyz)"
  else
    bw_say "nginx:    stopped"
    rc=3
  fi
  return "$rc"
}
