#!/usr/bin/env python3
"""dist_scaling.py — the paper scaling model of docs/DISTRIBUTED.md, as a table.

Data parallel with a fixed batch per rank (weak scaling): each rank's compute per step C stays put
while the gradient all-reduce grows with the ranks. The ring all-reduce of S bytes in buckets of b
bytes on N ranks, with link bandwidth beta (bytes/s one way) and per-message latency alpha, costs
    T_comm = ceil(S/b) * 2(N-1) * alpha  +  2(N-1)/N * S / beta
Without overlap the step is C + T_comm. Overlapped with the backward (about 2/3 of C), what stays
exposed is the part that does not fit under the backward plus the last bucket, which can only
start when the backward ends:
    exposed = max(0, T_comm - 2C/3) + 2(N-1) * alpha + 2(N-1)/N * b / beta
Usage: python3 tools/dist_scaling.py   (the inputs are the constants below; docs say where each comes from)
"""
import math

MB = 1 << 20
# name, gradient bytes, compute seconds per step per rank (see docs/DISTRIBUTED.md for the sources)
MODELS = [
    ("small preset, 1 CPU core/rank (measured)", 3.22 * MB, 0.071),
    ("GPT-2 small, 1 H100/rank (paper: 8x1024 tokens, 7.0 TFLOP at 400 TFLOP/s)", 498 * MB, 0.0175),
    ("small preset, 1 H100/rank (paper: launch-bound, ~2 ms)", 3.22 * MB, 0.002),
]
# name, beta (bytes/s one way), alpha (s), applies to GPU ranks
LINKS = [
    ("25 GbE, MPI over TCP", 3.125e9, 20e-6, False),
    ("InfiniBand HDR 200 Gb/s", 25e9, 2e-6, False),
    ("InfiniBand NDR 400 Gb/s per GPU (across nodes)", 50e9, 5e-6, True),
    ("NVLink 4, 450 GB/s one way (8 GPUs in one node)", 450e9, 5e-6, True),
]
RANKS = [8, 16, 32, 64]
BUCKETS = [1 * MB, 4 * MB, 25 * MB]


def comm(S, b, N, beta, alpha):
    return math.ceil(S / b) * 2 * (N - 1) * alpha + 2 * (N - 1) / N * S / beta


def exposed(S, b, N, beta, alpha, C):
    return max(0.0, comm(S, b, N, beta, alpha) - 2 * C / 3) + 2 * (N - 1) * alpha + 2 * (N - 1) / N * min(b, S) / beta


def main():
    for model, S, C in MODELS:
        gpu = "H100" in model
        print(f"\n{model}: S = {S / MB:.1f} MB, C = {C * 1e3:.1f} ms")
        print("| link | N | comm ms (4 MB buckets) | comm / compute | exposed ms with overlap, b = 1 / 4 / 25 MB |")
        print("|---|---|---|---|---|")
        for link, beta, alpha, for_gpu in LINKS:
            if for_gpu != gpu:
                continue
            for N in RANKS:
                if ("NVLink" in link and N > 8) or ("across nodes" in link and N < 16):
                    continue  # 8 GPUs are one NVLink node; more span nodes
                t = comm(S, 4 * MB, N, beta, alpha)
                hidden = " / ".join(f"{exposed(S, b, N, beta, alpha, C) * 1e3:.2f}" for b in BUCKETS)
                print(f"| {link} | {N} | {t * 1e3:.2f} | {t / C:.2f} | {hidden} |")


if __name__ == "__main__":
    main()
