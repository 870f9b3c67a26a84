#!/usr/bin/env bash
# Install the Debian packages Breakwater needs to build, run and test — only the missing ones.
#
# Idempotent: when everything is installed it only runs dpkg-query and exits 0, so stack.sh and
# test.sh can call it every time (and it works without root then). It never starts a service:
# Debian's maintainer scripts would start mariadb/nginx on their default ports, which we do not
# want (the stack runs its own private instances).
set -euo pipefail

packages=(
  # build
  build-essential autoconf automake libtool pkg-config
  # libraries the C code links against (checked by configure through pkg-config)
  libfcgi-dev libjson-c-dev libmariadb-dev libssl-dev libcrypt-dev
  libprotobuf-c-dev libprotobuf-dev libgrpc-dev libyaml-dev libcurl4-openssl-dev
  protobuf-compiler protobuf-compiler-grpc protobuf-c-compiler
  # the run-time stack (started by scripts/lib.sh, never as services)
  mariadb-server mariadb-client nginx-light openssl curl
  # tests and benchmark (clang-format and cppcheck: the lint suite)
  clang-format cppcheck
  wrk jq python3-pytest python3-requests python3-pymysql python3-grpcio
  # browser tests (tests/browser drives this Chromium headless; no browser is ever downloaded)
  chromium
)
# Node.js and npm for the browser suite. A node that is already there (Debian's, or a vendor
# build that bundles npm) is used as it is: Debian's npm package would conflict with the latter.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

# One dpkg-query for all packages (one call per package takes a second on every stack.sh up).
# db:Status-Status is "installed" only for fully configured packages: half-installed ones and
# removed ones with config files left must be (re)installed too. Unknown names print nothing.
declare -A status=()
while read -r pkg state; do
  # Several architectures of one package: one installed instance is enough.
  if [[ ${status[${pkg%%:*}]-} != installed ]]; then
    status[${pkg%%:*}]=$state
  fi
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)

missing=()
for pkg in "${packages[@]}"; do
  if [[ ${status[$pkg]-} != installed ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} Debian packages are installed"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if ((EUID != 0)); then
  echo "install-deps: must run as root to install them (or install them yourself:" >&2
  echo "  apt-get install ${missing[*]})" >&2
  exit 1
fi

# policy-rc.d exiting 101 tells invoke-rc.d "action forbidden": postinst scripts then skip
# starting mariadb/nginx. Only remove it afterwards if we created it (a container image may ship
# its own, which must stay).
policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if ((created_policy)); then
    rm -f "$policy"
  fi
}
trap cleanup EXIT
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# temporary, created by breakwater scripts/install-deps.sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
# Lock::Timeout: a concurrent run (second test.sh, unattended-upgrades) holding the dpkg lock makes
# us wait instead of failing at once.
apt_opts=(-y -q -o DPkg::Lock::Timeout=600)
apt-get "${apt_opts[@]}" update
# --no-install-recommends: recommends (perl helpers of mariadb-server, docs...) are not needed and
# only slow a fresh install down.
apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"

echo "install-deps: installed ${missing[*]}"
