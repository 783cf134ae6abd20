#!/bin/sh
# bench_tasks.sh — the MQAR accuracy table of docs/TASKS.md (`make bench-tasks`): one model per
# (attention, seq, pairs), trained one at a time with the protocol below, held-out accuracy on 1000
# fresh examples. Results: $OUT/results.jsonl (one `splatlm task --json` line per run) and a
# markdown table on stdout, the picture in $OUT/mqar_accuracy.png (`splatlm task plot`).
# Override with ATTENTIONS="softmax splat" SETTINGS="64:4" STEPS=… OUT=….
set -eu
OUT=${OUT:-runs/bench-tasks}
ATTENTIONS=${ATTENTIONS:-"softmax splat linear local delta splat_delta"}
SETTINGS=${SETTINGS:-"64:4 128:8"}   # seq:pairs
STEPS=${STEPS:-800}
PROTOCOL="--layers 2 --width 128 --heads 2 --batch 32 --steps $STEPS --lr 3e-3 --min_lr 3e-4 --warmup 50
          --seed 1337 --log_every 100 --eval_every 200 --eval_batches 4 --checkpoint_every 100000"
mkdir -p "$OUT"
: > "$OUT/results.jsonl"
for setting in $SETTINGS; do
    seq=${setting%:*} pairs=${setting#*:}
    for attention in $ATTENTIONS; do
        run="$OUT/mqar-$seq-$pairs-$attention"
        rm -rf "$run"
        echo "== mqar seq $seq pairs $pairs, $attention" >&2
        # shellcheck disable=SC2086  # PROTOCOL is a list of options
        OMP_WAIT_POLICY=passive ./bin/splatlm task mqar --seq "$seq" --pairs "$pairs" --attention "$attention" \
            $PROTOCOL --out "$run" --json > "$run.log"
        tail -n 1 "$run.log" >> "$OUT/results.jsonl"
        tail -n 1 "$run.log" >&2
    done
done
echo "| seq | pairs | attention | accuracy | exact | train s |"
echo "|---:|---:|---|---:|---:|---:|"
sed -E 's/.*"task":"mqar pairs=([0-9]+)[^"]*","attention":"([a-z_]+)".*"seq":([0-9]+).*"train_seconds":([0-9.]+).*"accuracy":([0-9.e-]+),"exact":([0-9.e-]+).*/\3 \1 \2 \5 \6 \4/' \
    "$OUT/results.jsonl" | while read -r seq pairs attention accuracy exact seconds; do
    printf '| %s | %s | %s | %.3f | %.3f | %.0f |\n' "$seq" "$pairs" "$attention" "$accuracy" "$exact" "$seconds"
done
./bin/splatlm task plot "$OUT/results.jsonl" --out "$OUT/mqar_accuracy.png" >&2
