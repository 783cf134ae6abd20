#!/bin/sh
# bench_beside.sh — a training's throughput while another program runs beside it, against the same
# training's one-thread figure alone (issue 14: "make test running beside a training").
#   tools/bench_beside.sh [ATTENTION] [-- COMMAND ...]      (default: splat, and ./bin/tests)
# First `bench train --threads 1` alone; then COMMAND starts, and `bench train` with the default team
# (sized to the free cores) runs back to back until COMMAND ends. Prints each run's tokens/s, the
# ratio of their time-weighted mean (all tokens ÷ all time) to the one-thread figure, and COMMAND's
# wall time. Time with the default environment (no OMP_WAIT_POLICY), nothing else running.
set -eu
ATTENTION=${1:-splat}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
[ $# -eq 0 ] && set -- ./bin/tests
BENCH="./bin/splatlm bench train --attention $ATTENTION --steps 200 --json"
rate() { sed -n 's/.*"tokens_per_s":\([0-9.]*\).*/\1/p' | tail -n 1; }

alone=$($BENCH --threads 1 | rate)
result=$(mktemp)
(
    start=$(date +%s.%N) status=0
    "$@" > /dev/null 2>&1 || status=$?
    awk -v a="$start" -v b="$(date +%s.%N)" -v s="$status" 'BEGIN { printf "exit %d, %.1f s", s, b - a }' > "$result"
) &
pid=$!
rates=""
while kill -0 "$pid" 2>/dev/null; do
    r=$($BENCH | rate)
    kill -0 "$pid" 2>/dev/null && rates="$rates $r"  # only runs that ended while COMMAND still ran
done
wait "$pid"
echo "$ATTENTION: one thread alone $alone tokens/s; beside '$*' ($(cat "$result")):$rates"
rm -f "$result"
echo "$rates" | awk -v alone="$alone" '{ for (i = 1; i <= NF; ++i) inv += 1 / $i }
    END { if (NF == 0) print "no run ended while the command ran"; else printf "time-weighted %.0f tokens/s = %.2fx the one-thread figure (%d runs)\n", NF / inv, NF / inv / alone, NF }'
