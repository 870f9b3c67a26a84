#!/usr/bin/env bash
# Runs the browser suite (node --test, TAP on stdout) against a live stack whose BW_* environment
# is exported (docs/stack-contract.md). Installs playwright-core from package-lock.json into
# tests/browser/node_modules (gitignored) with npm ci, only when the lock file changed since the
# last install; npm's cache makes a re-install work offline. Never downloads a browser: the tests
# drive Debian's /usr/bin/chromium. Runs every *.test.mjs in this folder, one file at a time.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

stamp=node_modules/.breakwater-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" || ! -d node_modules/playwright-core ]]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2
  printf '%s\n' "$want" >"$stamp"
fi

# Every *.test.mjs here, one file at a time (they share the stack's simulated gateway).
exec node --test --test-concurrency=1 --test-reporter=tap "$@" ./*.test.mjs
