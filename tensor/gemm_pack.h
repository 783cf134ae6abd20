// gemm_pack.h — the transposing copy under gemm.cpp's packing (internal to it; tested on its own
// in tests/test_gemm.cpp).
//
// pack_transposed<W>(src, ld, rows, kc, dst) turns `rows` (≤ W) rows that are contiguous along K
// (row r at src + r·ld) into a kc×W panel, column r of the panel being row r of the source:
//
//     dst[p·W + r] = src[r·ld + p]    for r < rows,    0 for rows ≤ r < W,    0 ≤ p < kc
//
// It serves both operands: an A with unit column stride (its MR rows read along K, W = MR) and a
// B with unit row stride (Bᵀ stored row-major: its NR columns read along K, W = NR).
//
// Scheme: the panel is cut into square V×V blocks (V = 8 floats on x86 with AVX2, 4 on NEON): V
// source rows of V floats are loaded as V vectors, transposed in registers by shuffles, and
// stored as V vectors of the panel's rows, V·V floats moved by 2·V memory operations instead of
// 2·V·V. Edges stay inside the same loop: rows past `rows` are zero vectors, a last block
// narrower than V along K loads only its columns (the rest zero) and stores only that many
// vectors, and a W that is not a multiple of V (the AVX2 kernel's MR = 6) stores part of a
// vector. Only data moves, so the panel is bitwise the one the scalar loop (the portable build,
// and the test oracle) writes, zeros being +0.
#pragma once
#include <algorithm>
#include <cstdint>
#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace splatlm::gemm_detail {

#if defined(__AVX2__)
#define SPLATLM_GEMM_TRANSPOSE_BLOCK 1

// V×V blocks of ymm registers (8 floats); the AVX-512 build uses them too (its MR is 8).
struct TransposeBlock {
    static constexpr int V = 8;
    using Vec = __m256;
    static __m256i first(int count) {  // the lanes below count, as a maskload/maskstore mask
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static Vec zero() { return _mm256_setzero_ps(); }
    static Vec load(const float* p, int count) {  // p[0, count), the other lanes zero
        return count == V ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, first(count));
    }
    static void store(float* p, Vec v, int count) {  // lanes [0, count) of v to p
        if (count == V) return _mm256_storeu_ps(p, v);
        _mm256_maskstore_ps(p, first(count), v);
    }
    // Rows 0..7 in, columns 0..7 out: pairs of rows interleaved, then pairs of pairs, then the
    // 128-bit halves swapped across the two groups of four rows.
    static void transpose(Vec (&v)[V]) {
        __m256 t[8], s[8];
        for (int i = 0; i < 8; i += 2) {  // rows i and j = i + 1, element by element (r_i0: row i, column 0)
            t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);      // r_i0 r_j0 r_i1 r_j1 | r_i4 r_j4 r_i5 r_j5
            t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);  // r_i2 r_j2 r_i3 r_j3 | r_i6 r_j6 r_i7 r_j7
        }
        for (int i = 0; i < 8; i += 4) {  // s[i + c]: column c | column c + 4 of rows i..i+3
            s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
            s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
            s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
            s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
        }
        for (int c = 0; c < 4; ++c) {
            v[c] = _mm256_permute2f128_ps(s[c], s[c + 4], 0x20);
            v[c + 4] = _mm256_permute2f128_ps(s[c], s[c + 4], 0x31);
        }
    }
};

#elif defined(__aarch64__) && defined(__ARM_NEON)
#define SPLATLM_GEMM_TRANSPOSE_BLOCK 1

// V×V blocks of q registers (4 floats). NEON has no masked loads or stores: partial ones go lane
// by lane.
struct TransposeBlock {
    static constexpr int V = 4;
    using Vec = float32x4_t;
    static Vec zero() { return vdupq_n_f32(0.f); }
    static Vec load(const float* p, int count) {
        if (count == V) return vld1q_f32(p);
        float lanes[V] = {};
        std::copy(p, p + count, lanes);
        return vld1q_f32(lanes);
    }
    static void store(float* p, Vec v, int count) {
        if (count == V) return vst1q_f32(p, v);
        float lanes[V];
        vst1q_f32(lanes, v);
        std::copy(lanes, lanes + count, p);
    }
    // Rows 0..3 in, columns 0..3 out: 32-bit pairs transposed, then 64-bit pairs.
    static void transpose(Vec (&v)[V]) {
        const float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(v[0], v[1]));  // r00 r10 r02 r12
        const float64x2_t t1 = vreinterpretq_f64_f32(vtrn2q_f32(v[0], v[1]));  // r01 r11 r03 r13
        const float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(v[2], v[3]));  // r20 r30 r22 r32
        const float64x2_t t3 = vreinterpretq_f64_f32(vtrn2q_f32(v[2], v[3]));  // r21 r31 r23 r33
        v[0] = vreinterpretq_f32_f64(vtrn1q_f64(t0, t2));
        v[1] = vreinterpretq_f32_f64(vtrn1q_f64(t1, t3));
        v[2] = vreinterpretq_f32_f64(vtrn2q_f64(t0, t2));
        v[3] = vreinterpretq_f32_f64(vtrn2q_f64(t1, t3));
    }
};
#endif

template <int W>
inline void pack_transposed(const float* src, int64_t ld, int rows, int64_t kc, float* dst) {
#ifdef SPLATLM_GEMM_TRANSPOSE_BLOCK
    using T = TransposeBlock;
    constexpr int V = T::V;
    // K outermost, so the panel is written front to back (for B's 32-wide panel 1.2–1.4× faster
    // than a pass over the whole depth per 8 source rows).
    for (int64_t p = 0; p < kc; p += V) {  // V columns of the source: V rows of the panel
        const int cols = int(std::min<int64_t>(V, kc - p));
        for (int r0 = 0; r0 < W; r0 += V) {  // V rows of the source: V lanes of the panel's rows
            const int live = std::clamp(rows - r0, 0, V), lanes = std::min(V, W - r0);
            typename T::Vec v[V];
#pragma GCC unroll 8
            for (int r = 0; r < V; ++r) v[r] = r < live ? T::load(src + (r0 + r) * ld + p, cols) : T::zero();
            T::transpose(v);
#pragma GCC unroll 8
            for (int c = 0; c < V; ++c)
                if (c < cols) T::store(dst + (p + c) * W + r0, v[c], lanes);
        }
    }
#else
    for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < W; ++r) dst[p * W + r] = r < rows ? src[r * ld + p] : 0.f;
#endif
}

}  // namespace splatlm::gemm_detail
