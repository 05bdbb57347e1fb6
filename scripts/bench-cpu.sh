#!/usr/bin/env bash
# bench-cpu.sh — one frontdesk-bench run plus the CPU time it cost, per request:
# the server's (from /proc/PID/stat), the load tool's, and PostgreSQL's and
# Redis's (all their processes on the machine, so an upper bound when others
# use them; backends that exit during the run make it approximate, even
# negative). Used for the tables in docs/performance.md.
#
#   scripts/bench-cpu.sh BENCH_BINARY 'SERVER_PID [PID...]' SCENARIO N [bench flags...]
#
# BENCH_BINARY is the load tool (go build -o /tmp/frontdesk-bench ./cmd/frontdesk-bench).
#
# The bench flags must include --target and whatever the scenario needs
# (see docs/performance.md, Reproducing). Linux only.
set -euo pipefail
bin=$1 pids=$2 scenario=$3 n=$4
shift 4
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
db_pids() { pgrep -x postgres || true; pgrep -x redis-server || true; }
hz=$(getconf CLK_TCK)
# shellcheck disable=SC2086
s0=$(ticks $pids); d0=$(ticks $(db_pids)); l0=$(cut -d' ' -f1 /proc/loadavg)
out=$("$bin" --progress=false --scenario "$scenario" --n "$n" "$@")
# shellcheck disable=SC2086
s1=$(ticks $pids); d1=$(ticks $(db_pids)); l1=$(cut -d' ' -f1 /proc/loadavg)
echo "$out"
echo "server cpu   $(( (s1 - s0) * 1000000 / hz / n ))µs per request"
echo "db cpu       $(( (d1 - d0) * 1000000 / hz / n ))µs per request (all postgres and redis-server processes)"
echo "load avg     $l0 -> $l1"
