#!/usr/bin/env bash
# Makes sure the services the integration tests use answer on loopback:
# PostgreSQL (127.0.0.1:5432, database "test", trust auth) and Redis
# (127.0.0.1:6379). Starts them when installed but stopped; installs them from
# Debian's packages when missing and we are root. Also installs what the
# browser tests (e2e/browser) drive: Debian's chromium and axe-core from the
# npm registry into .cache/npm (gitignored). Prints what it did.
set -euo pipefail

pg_up()    { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
as_root()  { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # name check-function
  for _ in $(seq 1 60); do "$2" && return 0; sleep 0.5; done
  echo "services: $1 did not come up" >&2; return 1
}

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "services: installing PostgreSQL"
    apt_install postgresql
  fi
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  if [ -z "$ver" ]; then echo "services: no PostgreSQL cluster found" >&2; exit 1; fi
  conf=/etc/postgresql/$ver/main
  # Loopback-only trust auth for the test database, as on the CI machines.
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$conf/pg_hba.conf"
  fi
  echo "services: starting PostgreSQL $ver"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  wait_for PostgreSQL pg_up
fi
if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
  echo "services: creating database test"
  psql -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE test' >/dev/null
fi

if ! redis_up; then
  if ! command -v redis-server >/dev/null; then
    echo "services: installing Redis"
    apt_install redis-server
  fi
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis redis_up
fi
echo "services: PostgreSQL and Redis are up"

# Browser tests: headless Chromium and axe-core (pinned). A failure here does
# not stop the other tests; the browser tests themselves then fail in CI
# (CI=true) and skip elsewhere, saying what is missing.
AXE_VERSION=4.14.1
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v chromium >/dev/null; then
  echo "services: installing Chromium (browser tests)"
  apt_install chromium || echo "services: could not install chromium; browser tests will not run" >&2
fi
axe="$root/.cache/npm/node_modules/axe-core"
if ! grep -qs "\"version\": \"$AXE_VERSION\"" "$axe/package.json"; then
  if ! command -v npm >/dev/null; then
    echo "services: installing npm (browser tests)"
    apt_install npm || true
  fi
  echo "services: installing axe-core $AXE_VERSION into .cache/npm (browser tests)"
  mkdir -p "$root/.cache/npm"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$root/.cache/npm" "axe-core@$AXE_VERSION" >/dev/null ||
    echo "services: could not install axe-core; browser tests will not run" >&2
fi
if command -v chromium >/dev/null && [ -f "$axe/axe.min.js" ]; then
  echo "services: Chromium and axe-core $AXE_VERSION are ready for the browser tests"
fi
