#!/usr/bin/env bash
# gpu_check.sh — everything a GPU machine should run for the CUDA backend, in one go, with a time
# limit per step: build, doctor, the GPU tests, then the GPU figures for docs/BENCHMARKS.md.
# Usage: tools/gpu_check.sh [OUT_DIR]   (default gpu-check/; each step's output in OUT_DIR/<step>.txt)
# Exit status: non-zero when the build, doctor or a GPU test failed; benchmark failures are logged.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-check}
mkdir -p "$out"
status=0

step() {  # step NAME SECONDS COMMAND...: run, keep its output, say how it ended
    local name=$1 limit=$2
    shift 2
    local t0=$SECONDS
    timeout "$limit" "$@" >"$out/$name.txt" 2>&1
    local rc=$?
    echo "$name: exit $rc after $((SECONDS - t0)) s ($out/$name.txt)"
    return $rc
}

step build 900 make -j"$(nproc)" all bin/tests || exit 1
step doctor 60 ./bin/splatlm doctor || status=1
step tests-gpu 900 ./bin/tests "[gpu]" || status=1
# Figures (docs/BENCHMARKS.md, "On the GPU"); SPLATLM_PYTHON may point at a python with torch.
step gemm 300 ./bin/splatlm bench gemm --device cuda
step attention 900 ./bin/splatlm bench attention --device cuda --d 64 --heads 1
for kind in softmax splat; do
    step "train-small-$kind" 300 ./bin/splatlm bench train --device cuda --attention "$kind" --compare
    step "train-gpt2-$kind" 900 ./bin/splatlm bench train --device cuda --attention "$kind" --layers 12 --heads 12 \
        --width 768 --context 1024 --batch 8 --vocab 50257 --steps 10 --warmup 3 --compare
done
# The delta-rule kinds (one block per head scanning T in order): the small model only, no PyTorch twin.
for kind in delta splat_delta; do
    step "train-small-$kind" 300 ./bin/splatlm bench train --device cuda --attention "$kind"
done
tail -n +1 "$out"/doctor.txt "$out"/tests-gpu.txt | tail -n 30
exit $status
