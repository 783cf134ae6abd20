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

// Row stride (floats) of a D-wide tile in shared memory. Its 32 banks hold 4-byte words round-robin,
// and a warp often reads column d of many rows r at once (one row a lane): at r·D + d they all fall in
// one bank when 32 | D (a 32-way conflict). An odd stride ld is coprime to 32, so r·ld + d puts any 32
// consecutive rows in 32 different banks: D itself when odd, else D + 1.
SPLATLM_HD inline int64_t shared_ld(int64_t D) { return D | 1; }

// Element i of a rows × D tile (row i / D, column i mod D) in a buffer whose rows lie ld floats apart.
SPLATLM_HD inline int64_t padded(int64_t i, int64_t D, int64_t ld) { return i / D * ld + i % D; }

// rows × D elements of x starting at row t0 into dst (row-major, rows ld ≥ D floats apart; the ld − D
// floats after each row are not written); rows past `valid` (beyond the end of the sequence) are zero.
SPLATLM_HD inline void load_rows(const HeadView& x, int64_t b, int64_t h, int64_t t0, int rows, int valid, int64_t D,
                                 int64_t ld, float* dst, Team team) {
    for (int64_t i = team.tid; i < rows * D; i += team.count) {
        const int64_t r = i / D, d = i % D;
        dst[padded(i, D, ld)] = r < valid ? x.row(b, h, t0 + r)[d * x.sd] : 0.f;
    }
}

// The first `valid` rows of src (row-major, rows ld floats apart) to x from row t0 on.
SPLATLM_HD inline void store_rows(const float* src, int valid, int64_t D, int64_t ld, const HeadView& x, int64_t b,
                                  int64_t h, int64_t t0, Team team) {
    for (int64_t i = team.tid; i < valid * D; i += team.count)
        x.row(b, h, t0 + i / D)[(i % D) * x.sd] = src[padded(i, D, ld)];
}

}  // namespace splatlm::cuda
