// gemm_kernel_neon.h — the aarch64 (NEON / Advanced SIMD) micro-kernel. Not a standalone header:
// gemm_kernel.h includes it inside namespace splatlm::gemm_detail, after Tile, update, MR/NR, the
// panel sources and write_back_scalar (and <arm_neon.h> at its top); internal to gemm.cpp.
//
// MR×NR = 8×12: the tile is 8 rows of three 4-float q registers, 24 accumulators of the 32
// vector registers, leaving 3 for a row of B and 2 for a column of A. Each step p loads one
// 12-wide row of B and the 8 values of A's column p, and multiply-adds lane i of the column
// times the row into the 3 accumulators of row i (fmla by element: no broadcasts).
// NEON has no masked loads or stores, so the edges are explicit: a DirectB row shorter than 12 is
// read lane by lane into zeroed registers (never past column n), and the write-back stores whole
// 4-lane groups with vector operations and the last partial group through update(), which rounds
// exactly like them (one fused multiply-add, see gemm_kernel.h).
//
// Every aarch64 CPU has NEON and FMA, so this is the kernel of every aarch64 build. Its tests are
// the GEMM tests (tests/test_gemm.cpp), run on an x86 host with `make test-arm` (qemu-user).
#pragma once

constexpr int kGroups = NR / 4;  // q registers per tile row
static_assert(NR % 4 == 0 && MR == 8, "a tile row is whole q registers, a column of A two of them");

// Up to 4 floats from p (count ≤ 0: none) into a q register, the missing lanes zero; the partial
// group lane by lane, so that no call (a memcpy) forces the accumulators out of their registers.
inline float32x4_t load_group(const float* p, int count) {
    if (count >= 4) return vld1q_f32(p);
    float32x4_t v = vdupq_n_f32(0.f);
    if (count > 0) v = vsetq_lane_f32(p[0], v, 0);
    if (count > 1) v = vsetq_lane_f32(p[1], v, 1);
    if (count > 2) v = vsetq_lane_f32(p[2], v, 2);
    return v;
}

struct DirectB {
    const float* p;
    int64_t rs;
    int n;
    DirectB(const float* p_, int64_t rs_, int n_) : p(p_), rs(rs_), n(n_) {}
};
inline void load_b(const PackedB& b, int64_t k, float32x4_t (&row)[kGroups]) {
#pragma GCC unroll 4
    for (int g = 0; g < kGroups; ++g) row[g] = vld1q_f32(b.p + k * NR + 4 * g);
}
inline void load_b(const DirectB& b, int64_t k, float32x4_t (&row)[kGroups]) {
#pragma GCC unroll 4
    for (int g = 0; g < kGroups; ++g) row[g] = load_group(b.p + k * b.rs + 4 * g, b.n - 4 * g);
}

// The first `count` lanes of c (count ≤ 0: none) = alpha·x + beta·c, as update() computes them.
inline void update_group(float* c, float32x4_t x, int count, float alpha, float beta) {
    if (count >= 4) {
        const float32x4_t scaled = vmulq_n_f32(x, alpha);
        vst1q_f32(c, beta == 0.f ? scaled : vfmaq_n_f32(vmulq_n_f32(vld1q_f32(c), beta), x, alpha));
        return;
    }
    float lanes[4];
    vst1q_f32(lanes, x);
    for (int j = 0; j < count; ++j) c[j] = update(lanes[j], c[j], alpha, beta);
}

// Column p of an A panel (its 8 rows) as two q registers: rows 0..3 and rows 4..7.
inline void load_a(const PackedA& a, int64_t p, float32x4_t& lo, float32x4_t& hi) {
    lo = vld1q_f32(a.p + p * MR), hi = vld1q_f32(a.p + p * MR + 4);
}
inline void load_a(const DirectA& a, int64_t p, float32x4_t& lo, float32x4_t& hi) {
    lo = float32x4_t{a(p, 0), a(p, 1), a(p, 2), a(p, 3)}, hi = float32x4_t{a(p, 4), a(p, 5), a(p, 6), a(p, 7)};
}

// Row I of the tile += A(p, I) · the row of B, A(p, I) being lane I % 4 of `a` (fmla by element).
template <int I>
inline void multiply_add_row(float32x4_t (&acc)[kGroups], const float32x4_t (&row)[kGroups], float32x4_t a) {
#pragma GCC unroll 4
    for (int g = 0; g < kGroups; ++g) acc[g] = vfmaq_laneq_f32(acc[g], row[g], a, I % 4);
}
template <int... I>
inline void multiply_add(float32x4_t (&acc)[MR][kGroups], const float32x4_t (&row)[kGroups], float32x4_t lo,
                         float32x4_t hi, std::integer_sequence<int, I...>) {
    (multiply_add_row<I>(acc[I], row, I < 4 ? lo : hi), ...);
}

template <class APanel, class BPanel>
inline void micro_kernel(int64_t kc, const APanel a, const BPanel b, const Tile& t) {
    float32x4_t acc[MR][kGroups];  // row i of the tile: columns 4g..4g+3 in acc[i][g]
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int g = 0; g < kGroups; ++g) acc[i][g] = vdupq_n_f32(0.f);
    for (int64_t p = 0; p < kc; ++p) {
        float32x4_t row[kGroups], lo, hi;
        load_b(b, p, row);
        load_a(a, p, lo, hi);
        multiply_add(acc, row, lo, hi, std::make_integer_sequence<int, MR>{});
    }
    if (t.csc == 1) {  // rows of C are contiguous: vector write-back of whole groups, the edge by lanes
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i)
            if (i < t.m)
#pragma GCC unroll 4
                for (int g = 0; g < kGroups; ++g)
                    update_group(t.c + i * t.rsc + 4 * g, acc[i][g], t.n - 4 * g, t.alpha, t.beta);
        return;
    }
    float spilled[MR * NR];
#pragma GCC unroll 8  // constant indices keep acc[][] in registers throughout
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int g = 0; g < kGroups; ++g) vst1q_f32(spilled + i * NR + 4 * g, acc[i][g]);
    write_back_scalar(spilled, t);
}
