#!/usr/bin/env bash
# bench-peers.sh — frontdesk beside its peers, in the same run (issue 20).
#
# Starts, on loopback, side by side:
#   frontdesk        this tree's build (SQLite in a scratch dir, or PostgreSQL +
#                    Redis with BACKEND=postgres)
#   floor            cmd/frontdesk-bench/floor: secret check + one ES256 at+jwt,
#                    the least work of a client-credentials grant
#   node-jwt         node-oidc-provider (pinned in scripts/bench-peers/package.json)
#                    issuing ES256 at+jwt access tokens, as frontdesk does
#   node-opaque      the same with its default opaque access tokens (signs
#                    nothing for client credentials)
#   node-redis       (not by default; BACKEND=postgres) node-jwt keeping its
#                    state in the run's Redis, its scale-out back end
# with the same client, then runs cmd/frontdesk-bench against each in alternating
# rounds (the order rotates every round) and prints, per scenario and server, the
# server's CPU time per operation (utime+stime from /proc/PID/stat) and
# requests/s, medians over the rounds, and the ratios to frontdesk's.
# node-oidc-provider and a Node runtime come from the npm registry (npm ci into
# the gitignored .cache/bench-peers/).
#
#   scripts/bench-peers.sh            (or: make bench-peers)
#
# Environment: ROUNDS (3), CONC (8), N_CC (10000), N_REFRESH (4000),
# N_LOGIN (200), SCENARIOS ("client-credentials refresh login"),
# SERVERS ("floor frontdesk node-jwt node-opaque"), BACKEND (sqlite | postgres:
# PostgreSQL at 127.0.0.1:5432 database test, schema bench_peers, and a
# redis-server of its own on 127.0.0.1:16390; their CPU is then reported as db
# cpu: that Redis and all postgres processes on the machine, an upper bound on
# a shared machine),
# REPLICAS (1; with BACKEND=postgres, N frontdesk replicas share one database
# and Redis, and a server "frontdesk-xN" joins the rounds: the load tool spreads
# its workers over all N, while "frontdesk" drives replica 0 alone; CPU per
# operation is summed over the replicas), N_HASH (60 argon2id hashes per login
# round), OUT (a file for
# the raw rows, TSV). Linux only; the load tool refuses non-loopback targets.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=$root/.cache/bench-peers
ROUNDS=${ROUNDS:-3} CONC=${CONC:-8}
N_CC=${N_CC:-10000} N_REFRESH=${N_REFRESH:-4000} N_LOGIN=${N_LOGIN:-200}
SCENARIOS=${SCENARIOS:-"client-credentials refresh login"}
SERVERS=${SERVERS:-"floor frontdesk node-jwt node-opaque"}
BACKEND=${BACKEND:-sqlite} REPLICAS=${REPLICAS:-1}
OUT=${OUT:-$cache/results.tsv}
export FDBENCH_CLIENT_SECRET=bench-secret-not-for-production
export FDBENCH_PASSWORD='seven lanterns over a quiet harbour'
hz=$(getconf CLK_TCK)

mkdir -p "$cache/bin"
echo "== building frontdesk, frontdesk-bench and the floor" >&2
go build -o "$cache/bin/frontdesk" ./cmd/frontdesk
go build -o "$cache/bin/frontdesk-bench" ./cmd/frontdesk-bench
go build -o "$cache/bin/floor" ./cmd/frontdesk-bench/floor
go test -c -o "$cache/bin/password.test" ./identity/password

need_node=false
for s in $SERVERS; do case $s in node-*) need_node=true ;; esac; done
if $need_node; then
  if ! cmp -s scripts/bench-peers/package-lock.json "$cache/package-lock.json" || [ ! -x "$cache/node_modules/.bin/node" ]; then
    echo "== installing node-oidc-provider and Node from the npm registry into $cache" >&2
    cp scripts/bench-peers/package.json scripts/bench-peers/package-lock.json "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  # ES modules resolve from the importing file's folder: run it from the cache.
  cp scripts/bench-peers/peer.mjs "$cache/peer.mjs"
fi

run=$cache/run
rm -rf "$run" && mkdir -p "$run"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() { # host:port
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "bench-peers: nothing answers on $1" >&2
  return 1
}

# frontdesk: one client, eight practices with one owner each (one account per
# load-tool worker, so concurrent logins do not count against one account's
# lockout threshold).
fd_env=(FRONTDESK_OIDC_MASTER_KEY="$(head -c 32 /dev/urandom | base64)")
if [ "$BACKEND" = postgres ]; then
  PGOPTIONS='--client-min-messages=warning' psql -h 127.0.0.1 -U postgres -d test -qc 'DROP SCHEMA IF EXISTS bench_peers CASCADE; CREATE SCHEMA bench_peers' >/dev/null
  # A Redis of our own: the shared one on 6379 is flushed by other test
  # suites, which frontdesk (rightly) answers by refusing logins for a while.
  redis-server --port 16390 --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$run/redis.log" 2>&1 &
  pids+=($!); pid_redis=$!
  wait_port 127.0.0.1:16390
  fd_env+=(FRONTDESK_DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=bench_peers'
           FRONTDESK_REDIS_URL=redis://127.0.0.1:16390/0)
fi
fd_targets=()
for r in $(seq 0 $((REPLICAS - 1))); do
  port=$((18080 + r))
  mkdir -p "$run/fd$r"
  cat >"$run/fd$r/frontdesk.yaml" <<YAML
server: { listen: "127.0.0.1:$port", public_url: "http://127.0.0.1:18080" }
data: { dir: "$run/fd0/data" }
log: { level: warn }
clients:
  - id: bench
    secret: $FDBENCH_CLIENT_SECRET
    redirect_uris: ["http://127.0.0.1:9/callback"]
    grant_types: [authorization_code, refresh_token, client_credentials]
    scopes: [openid, offline_access, profile, email]
    # The peer signs its ID tokens ES256: compare like with like (frontdesk's
    # default for ID tokens is RS256 since issue 19; docs/performance.md).
    id_token_signed_response_alg: ES256
YAML
  fd_targets+=("http://127.0.0.1:$port")
done
setup=()
if [[ " $SERVERS " == *" frontdesk "* ]]; then
  env "${fd_env[@]}" "$cache/bin/frontdesk" migrate --config "$run/fd0/frontdesk.yaml" >/dev/null 2>&1
  for n in 0 1 2 3 4 5 6 7; do
    u=$(env "${fd_env[@]}" "$cache/bin/frontdesk" practice create --config "$run/fd0/frontdesk.yaml" --slug "bench$n" \
      --name "Bench $n" --owner-email "owner@bench$n.example" --json 2>/dev/null | sed 's/.*"setup_url":"\([^"]*\)".*/\1/')
    setup+=(--setup-url "$u")
  done
  for r in $(seq 0 $((REPLICAS - 1))); do
    env "${fd_env[@]}" "$cache/bin/frontdesk" serve --config "$run/fd$r/frontdesk.yaml" >"$run/fd$r/log" 2>&1 &
    pids+=($!) ; eval "pid_frontdesk_$r=$!"
    wait_port "127.0.0.1:$((18080 + r))"
  done
fi
fd_pids() { local r out=""; for r in $(seq 0 $((REPLICAS - 1))); do eval "out=\"\$out \$pid_frontdesk_$r\""; done; echo "$out"; }
fd_target=$(IFS=,; echo "${fd_targets[*]}")

start_peer() { # name addr format [redis URL]
  (cd "$cache" && PEER_ADDR=$2 PEER_FORMAT=$3 PEER_REDIS=${4:-} exec node_modules/.bin/node peer.mjs) >"$run/$1.log" 2>&1 &
  pids+=($!); eval "pid_${1//-/_}=$!"
  wait_port "$2"
}
for s in $SERVERS; do
  case $s in
    floor) "$cache/bin/floor" --addr 127.0.0.1:18090 >"$run/floor.log" 2>&1 & pids+=($!); pid_floor=$!; wait_port 127.0.0.1:18090 ;;
    node-jwt) start_peer node-jwt 127.0.0.1:18070 jwt ;;
    node-opaque) start_peer node-opaque 127.0.0.1:18071 opaque ;;
    node-redis)
      [ "$BACKEND" = postgres ] || { echo "bench-peers: node-redis needs BACKEND=postgres (the run's Redis)" >&2; exit 2; }
      start_peer node-redis 127.0.0.1:18072 jwt redis://127.0.0.1:16390/1 ;;
  esac
done

target_of() { case $1 in floor) echo http://127.0.0.1:18090 ;; frontdesk) echo http://127.0.0.1:18080 ;; frontdesk-x*) echo "$fd_target" ;;
  node-jwt) echo http://127.0.0.1:18070 ;; node-opaque) echo http://127.0.0.1:18071 ;; node-redis) echo http://127.0.0.1:18072 ;; esac; }
pids_of() { case $1 in frontdesk) echo "$pid_frontdesk_0" ;; frontdesk-x*) fd_pids ;; floor) echo "$pid_floor" ;; node-jwt) echo "$pid_node_jwt" ;;
  node-opaque) echo "$pid_node_opaque" ;; node-redis) echo "$pid_node_redis" ;; esac; }
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
db_pids() { if [ "$BACKEND" = postgres ]; then pgrep -x postgres || true; echo "$pid_redis"; fi; }
bench() { # server scenario n [more flags]
  local s=$1 sc=$2 n=$3; shift 3
  local flags=(--progress=false --c "$CONC" --target "$(target_of "$s")" --practice 'bench{n}' --email 'owner@bench{n}.example' --accounts 8)
  [[ $s == frontdesk* ]] && flags+=(--issuer http://127.0.0.1:18080)
  "$cache/bin/frontdesk-bench" "${flags[@]}" --scenario "$sc" --n "$n" "$@"
}

if [ ${#setup[@]} -gt 0 ]; then
  bench frontdesk client-credentials 10 "${setup[@]}" >/dev/null
  if [ "$BACKEND" = postgres ]; then
    # Each replica admits no login for lockout.redis_recovery_grace (10 s) after it
    # first sees a Redis run (it cannot tell a new Redis from one that lost
    # its counts): let every replica see it, then wait the grace out.
    bench "frontdesk-x$REPLICAS" login "$REPLICAS" --c "$REPLICAS" >/dev/null 2>&1 || true
    sleep 11
  fi
fi

printf 'scenario\tserver\tround\tn\tserver_cpu_us\tdb_cpu_us\trate\terrors\tload\n' >"$OUT"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), backend $BACKEND, replicas $REPLICAS, concurrency $CONC, $ROUNDS rounds" >&2
# The hash-only ceiling of logins (argon2id, frontdesk's parameters, both
# cores) is measured in the login rounds like a server.
order_list=$SERVERS
if [ "$REPLICAS" -gt 1 ] && [[ " $SERVERS " == *" frontdesk "* ]]; then order_list="$order_list frontdesk-x$REPLICAS"; fi
[[ " $SCENARIOS " == *" login "* ]] && order_list="$order_list argon2id"
read -ra order <<<"$order_list"
applies() { # server scenario
  case $1 in floor) [ "$2" = client-credentials ] ;; argon2id) [ "$2" = login ] ;; *) true ;; esac
}
hash_row() { # round -> the same columns as a server's row
  local out cpu rate
  out=$("$cache/bin/password.test" -test.run '^$' -test.bench 'HashParallel$' -test.benchtime "${N_HASH:-60}x" 2>&1)
  cpu=$(awk '/^BenchmarkHashParallel/{for (i = 1; i <= NF; i++) if ($i == "cpu-µs/op") print int($(i-1))}' <<<"$out")
  rate=$(awk '/^BenchmarkHashParallel/{for (i = 1; i <= NF; i++) if ($i == "hashes/s") print $(i-1)}' <<<"$out")
  printf 'login\targon2id\t%s\t%s\t%s\t0\t%s\t0\t%s\n' "$1" "${N_HASH:-60}" "$cpu" "$rate" "$(cut -d' ' -f1 /proc/loadavg)"
}
for sc in $SCENARIOS; do
  case $sc in client-credentials) n=$N_CC ;; refresh) n=$N_REFRESH ;; login) n=$N_LOGIN ;; *) n=$N_CC ;; esac
  # warm-up, a full untimed run each (node's JIT keeps improving for
  # thousands of requests; refresh and login also log every worker in once)
  for s in "${order[@]}"; do
    applies "$s" "$sc" && [ "$s" != argon2id ] || continue
    bench "$s" "$sc" "$n" >/dev/null
  done
  for round in $(seq 1 "$ROUNDS"); do
    for s in "${order[@]}"; do
      applies "$s" "$sc" || continue
      if [ "$s" = argon2id ]; then hash_row "$round" | tee -a "$OUT" >&2; continue; fi
      # shellcheck disable=SC2046
      s0=$(ticks $(pids_of "$s")); d0=$(ticks $(db_pids)); l0=$(cut -d' ' -f1 /proc/loadavg)
      out=$(bench "$s" "$sc" "$n")
      # shellcheck disable=SC2046
      s1=$(ticks $(pids_of "$s")); d1=$(ticks $(db_pids))
      rate=$(awk '/^requests\/s/{print $2}' <<<"$out"); errs=$(awk '/^errors/{print $2}' <<<"$out")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sc" "$s" "$round" "$n" \
        $(( (s1 - s0) * 1000000 / hz / n )) $(( (d1 - d0) * 1000000 / hz / n )) "$rate" "$errs" "$l0" | tee -a "$OUT" >&2
    done
    order=("${order[@]:1}" "${order[0]}") # rotate: each server leads a round in turn
  done
done

# Medians per scenario and server, and ratios to frontdesk's server CPU.
echo
echo "medians of $ROUNDS rounds (server CPU per operation from /proc; db = all postgres processes + the run's redis-server)"
printf '%-20s %-12s %11s %10s %10s %12s %14s\n' scenario server "cpu µs/op" "db µs/op" "req/s" "this÷fd cpu" "fd÷this cpu"
awk -F'\t' 'NR > 1 { k = $1 "\t" $2; cpu[k] = cpu[k] " " $5; db[k] = db[k] " " $6; rate[k] = rate[k] " " $7; if (!(k in seen)) { seen[k] = 1; keys[++nk] = k } }
  function med(s,   a, n, i, j, t) { n = split(s, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END { for (i = 1; i <= nk; i++) { c[keys[i]] = med(cpu[keys[i]]); r[keys[i]] = med(rate[keys[i]]) }
    for (i = 1; i <= nk; i++) { split(keys[i], p, "\t"); f = c[p[1] "\tfrontdesk"]; x = c[keys[i]]
      printf "%-20s %-12s %11d %10d %10.1f %12s %14s\n", p[1], p[2], x, med(db[keys[i]]), r[keys[i]],
        (f > 0 ? sprintf("%.2f×", x / f) : "-"), (f > 0 && x > 0 ? sprintf("%.2f×", f / x) : "-") }
    h = "login\targon2id"; l = "login\tfrontdesk"
    if ((h in c) && (l in c) && r[h] > 0) {
      printf "\nlogins: frontdesk %.1f/s = %.0f%% of the argon2id hash-only ceiling (%.1f hashes/s, same parameters, both cores)\n", r[l], 100 * r[l] / r[h], r[h]
      printf "CPU per login outside the hash: %d µs (login %d − hash %d)", c[l] - c[h], c[l], c[h]
      if (("login\tnode-jwt") in c) printf "; node-oidc-provider'"'"'s whole login flow: %d µs", c["login\tnode-jwt"]
      printf "\n" } }' "$OUT"
echo "raw rows: $OUT"
