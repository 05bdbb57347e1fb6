#!/usr/bin/env bash
# Makes sure the services the integration tests use answer on loopback:
# PostgreSQL (127.0.0.1:5432, database "test", trust auth) and Redis
# (127.0.0.1:6379). Starts them when installed but stopped; installs them from
# Debian's packages when missing and we are root. Also installs what the
# browser tests (e2e/browser) drive: Debian's chromium and axe-core from the
# npm registry into .cache/npm (gitignored); and the relying parties the
# e2e/rp tests log in with: Apache with mod_auth_openidc and Authlib from
# Debian's packages, openid-client from the npm registry into .cache/npm.
# Prints what it did.
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
# openid-client 6 (pinned, like axe-core) supports Node 20 and later: the
# machines run NodeSource's nodejs 20, Debian bookworm's own is 18.
OPENID_CLIENT_VERSION=6.9.1
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v chromium >/dev/null; then
  echo "services: installing Chromium (browser tests)"
  apt_install chromium || echo "services: could not install chromium; browser tests will not run" >&2
fi
axe="$root/.cache/npm/node_modules/axe-core"
oidc_client="$root/.cache/npm/node_modules/openid-client"
# One npm call installs every pinned package: npm install --no-save removes
# the packages it was not named, so a second call would undo the first.
if ! grep -qs "\"version\": \"$AXE_VERSION\"" "$axe/package.json" ||
   ! grep -qs "\"version\": \"$OPENID_CLIENT_VERSION\"" "$oidc_client/package.json"; then
  if ! command -v npm >/dev/null; then
    echo "services: installing npm (browser and relying-party tests)"
    apt_install npm || true
  fi
  echo "services: installing axe-core $AXE_VERSION and openid-client $OPENID_CLIENT_VERSION into .cache/npm"
  mkdir -p "$root/.cache/npm"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$root/.cache/npm" \
    "axe-core@$AXE_VERSION" "openid-client@$OPENID_CLIENT_VERSION" >/dev/null ||
    echo "services: could not install axe-core and openid-client; browser and openid-client tests will not run" >&2
fi
if command -v chromium >/dev/null && [ -f "$axe/axe.min.js" ]; then
  echo "services: Chromium and axe-core $AXE_VERSION are ready for the browser tests"
fi

# Relying-party tests (e2e/rp): Apache with mod_auth_openidc, and Authlib with
# requests for Debian's /usr/bin/python3. Like the browser tools, a failure
# here fails those tests in CI and skips them elsewhere.
rp_debs=()
[ -x /usr/sbin/apache2 ] || rp_debs+=(apache2)
[ -f /usr/lib/apache2/modules/mod_auth_openidc.so ] || rp_debs+=(libapache2-mod-auth-openidc)
/usr/bin/python3 -c 'import authlib, requests' 2>/dev/null || rp_debs+=(python3-authlib python3-requests)
if [ ${#rp_debs[@]} -gt 0 ]; then
  echo "services: installing ${rp_debs[*]} (relying-party tests)"
  apt_install --no-install-recommends "${rp_debs[@]}" ||
    echo "services: could not install ${rp_debs[*]}; those relying-party tests will not run" >&2
fi
if [ -f /usr/lib/apache2/modules/mod_auth_openidc.so ] && [ -f "$oidc_client/package.json" ] &&
   /usr/bin/python3 -c 'import authlib, requests' 2>/dev/null; then
  echo "services: mod_auth_openidc, openid-client $OPENID_CLIENT_VERSION and Authlib are ready for the relying-party tests"
fi
