#!/usr/bin/env bash
# Prepares a fresh Debian machine for shardgate: pnpm (pinned), MariaDB (for local shards and
# integration tests) and the workspace dependencies. Idempotent: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "shardgate setup: need root (or sudo) to run: $*" >&2; exit 1
  fi
}

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "shardgate setup: installing pnpm@$PNPM_VERSION"
  # corepack is unreliable on this platform; a global npm install is not.
  npm install -g "pnpm@$PNPM_VERSION" --no-fund --no-audit >/dev/null
fi

# Debian packages this project runs: MariaDB always (local shards); with --test-tools also the
# load and proxy tools that the test suite and benchmarks drive (sysbench, HAProxy), and the
# headless browser the status page test drives (Chromium, through puppeteer-core), openssl,
# which the TLS tests use to make a throwaway certificate, and PyMySQL.
packages=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have mariadbd || packages+=(mariadb-server)
have mariadb || packages+=(mariadb-client)
if [ "${1:-}" = "--test-tools" ]; then
  have sysbench || packages+=(sysbench)
  have haproxy || packages+=(haproxy)
  have chromium || packages+=(chromium)
  have openssl || packages+=(openssl)
  # PyMySQL from Debian (for /usr/bin/python3): a client of another language for caching_sha2_password.
  /usr/bin/python3 -c 'import pymysql' >/dev/null 2>&1 || packages+=(python3-pymysql)
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "shardgate setup: installing ${packages[*]} with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi
