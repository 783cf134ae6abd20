// head_view.h — a [B, H, T, D] operand with any strides, as the attention kernels see it: plain
// pointers and strides, usable on both sides (the nn/ layer builds one from a Tensor).
#pragma once
#include <cstdint>

#include "tensor/hd.h"

namespace splatlm::cuda {

// Element (b, h, t, d) sits at base + b·sb + h·sh + t·st + d·sd.
struct HeadView {
    float* base;
    int64_t sb, sh, st, sd;
    SPLATLM_HD float* row(int64_t b, int64_t h, int64_t t) const { return base + b * sb + h * sh + t * st; }
};

// One thread block is one team: its `count` threads split every loop `for (i = tid; i < n; i += count)`,
// so each element has exactly one owner. On the host a team is one thread (tid 0, count 1), which
// runs the same loops in order: that is how the tests run a kernel's body without a GPU.
struct Team {
    int tid, count;
};

// Every thread of the block waits here (a no-op for the host's one-thread team).
SPLATLM_HD inline void team_sync() {
#ifdef __CUDA_ARCH__
    __syncthreads();
#endif
}

// rows × D elements of x starting at row t0 into dst (row-major, D floats a row); rows past `valid`
// (beyond the end of the sequence) are zero.
SPLATLM_HD inline void load_rows(const HeadView& x, int64_t b, int64_t h, int64_t t0, int rows, int valid, int64_t D,
                                 float* dst, Team team) {
    for (int64_t i = team.tid; i < rows * D; i += team.count) {
        const int64_t r = i / D, d = i % D;
        dst[i] = r < valid ? x.row(b, h, t0 + r)[d * x.sd] : 0.f;
    }
}

// The first `valid` rows of src (row-major, D floats a row) to x from row t0 on.
SPLATLM_HD inline void store_rows(const float* src, int valid, int64_t D, const HeadView& x, int64_t b, int64_t h,
                                  int64_t t0, Team team) {
    for (int64_t i = team.tid; i < valid * D; i += team.count) x.row(b, h, t0 + i / D)[(i % D) * x.sd] = src[i];
}

}  // namespace splatlm::cuda
