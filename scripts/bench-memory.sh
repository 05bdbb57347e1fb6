#!/usr/bin/env bash
# Resident memory of one frontdesk under concurrent logins (issue 20 point 4):
# SQLite in a scratch directory, ACCOUNTS practices with one owner each, then
# N full code-flow logins at concurrency C (one account per worker), and the
# server's VmRSS / VmHWM from /proc: idle after the setups, the peak, right
# after the run, and idle after the server's idle release (10 s without a
# request). Usage: scripts/bench-memory.sh [FRONTDESK_BINARY]
# Knobs: ACCOUNTS (32), N (320), C (32), PORT (18180), BENCH (the load tool;
# built from this tree when unset), EXTRA_ENV (e.g. "GOMEMLIMIT=80MiB").
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS=${ACCOUNTS:-32} N=${N:-320} C=${C:-32} PORT=${PORT:-18180}
run=$(mktemp -d)
bin=${1:-}
if [ -z "$bin" ]; then bin=$run/frontdesk; go build -o "$bin" ./cmd/frontdesk; fi
if [ -z "${BENCH:-}" ]; then BENCH=$run/frontdesk-bench; go build -o "$BENCH" ./cmd/frontdesk-bench; fi
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$run"; }
trap cleanup EXIT
export FRONTDESK_OIDC_MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
export FDBENCH_PASSWORD='seven lanterns over a quiet harbour' FDBENCH_CLIENT_SECRET=bench-secret-not-for-production
cat >"$run/frontdesk.yaml" <<YAML
server: { listen: "127.0.0.1:$PORT", public_url: "http://127.0.0.1:$PORT" }
data: { dir: "$run/data" }
log: { level: warn }
clients:
  - id: bench
    secret: $FDBENCH_CLIENT_SECRET
    redirect_uris: ["http://127.0.0.1:9/callback"]
    grant_types: [authorization_code, refresh_token, client_credentials]
    scopes: [openid, offline_access, profile, email]
    id_token_signed_response_alg: ES256
YAML
"$bin" migrate --config "$run/frontdesk.yaml" >/dev/null 2>&1
setup=()
for n in $(seq 0 $((ACCOUNTS - 1))); do
  u=$("$bin" practice create --config "$run/frontdesk.yaml" --slug "bench$n" --name "Bench $n" \
      --owner-email "owner@bench$n.example" --json 2>/dev/null | sed 's/.*"setup_url":"\([^"]*\)".*/\1/')
  setup+=(--setup-url "$u")
done
env ${EXTRA_ENV:-} "$bin" serve --config "$run/frontdesk.yaml" >"$run/log" 2>&1 &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
mem() { awk -v what="$1" '/^VmRSS|^VmHWM|^RssAnon|^RssFile/ {s = s sprintf(" %s %.0f MB", $1, $2/1024)} END {printf "%-20s%s\n", what, s}' /proc/$pid/status; }
mem "start"
B=("$BENCH" --progress=false --target "http://127.0.0.1:$PORT" --practice 'bench{n}' --email 'owner@bench{n}.example' --accounts "$ACCOUNTS")
"${B[@]}" --scenario client-credentials --n "$ACCOUNTS" --c "$C" "${setup[@]}" >/dev/null
mem "after-setups"
sleep 22; mem "idle-after-setups"
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }
c0=$(cpu)
"${B[@]}" --scenario login --n "$N" --c "$C" | grep -E 'req/s|status' || true
c1=$(cpu)
echo "server cpu          $(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / N )) µs per login"
mem "after-logins"
sleep 22; mem "idle-after-logins"
# With a server built with -tags pprof and FDPPROF_ADDR in EXTRA_ENV: what
# the idle heap holds, and the runtime's own accounting.
if [ -n "${PPROF:-}" ]; then
  curl -s "http://$PPROF/debug/pprof/heap?debug=1" | grep -E '^# (HeapInuse|HeapIdle|HeapReleased|HeapSys|Stack|MSpan|GCSys|OtherSys|Sys|NumGC) ' || true
  go tool pprof -top -inuse_space "http://$PPROF/debug/pprof/heap" 2>/dev/null | head -25 || true
fi
