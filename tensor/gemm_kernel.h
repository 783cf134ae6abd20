// gemm_kernel.h — the register-tiled micro-kernel under gemm.cpp (internal to it).
//
// micro_kernel(kc, a, b, tile) multiplies an MR×kc panel of A by a kc×NR panel of B, keeping
// the whole MR×NR product in registers, and then updates the m×n corner of C that `tile`
// describes:  C = alpha·acc + beta·C  (beta == 0: C = alpha·acc, old C never read).
// The panels come packed (PackedA: column p at a[p·MR ..], PackedB: row p at b[p·NR ..],
// aligned and zero-padded) or, for products too small to repay packing, read in place
// (DirectA: any strides; DirectB: rows with unit column stride, loads masked to n columns;
// rows of A past m repeat row m-1, their results are never written).
//
// Four builds, picked at compile time: AVX-512 (MR×NR = 8×32, 16 zmm accumulators),
// AVX2+FMA (6×16, 12 ymm accumulators), aarch64 NEON (8×12, 24 q accumulators, in
// gemm_kernel_neon.h) and portable C++ (4×16, left to the auto-vectoriser); kMicroKernel names it.
// Each step p broadcasts MR values of A and multiply-adds them into rows of B vectors.
// When C's columns are contiguous the write-back is vector loads and stores, masked to the
// tile's n columns; otherwise (a C with no unit stride, and the portable build) it is the
// scalar loop below, which rounds exactly like the vector one.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>  // for gemm_kernel_neon.h, which is included inside the namespace
#include <utility>
#endif

namespace splatlm::gemm_detail {

// Where one micro-tile of the result goes: an m×n corner (m ≤ MR, n ≤ NR) of C.
struct Tile {
    float* c;
    int64_t rsc, csc;
    int m, n;
    float alpha, beta;
};

// alpha·x + beta·c with the rounding of the vector write-back (one fused multiply-add).
inline float update(float x, float c, float alpha, float beta) {
    if (beta == 0.f) return alpha * x;
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
    return std::fma(alpha, x, beta * c);
#else
    return alpha * x + beta * c;
#endif
}

#if defined(__AVX512F__)
constexpr int MR = 8, NR = 32;
constexpr const char* kMicroKernel = "AVX-512";
#elif defined(__AVX2__) && defined(__FMA__)
constexpr int MR = 6, NR = 16;
constexpr const char* kMicroKernel = "AVX2+FMA";
#elif defined(__aarch64__) && defined(__ARM_NEON)
constexpr int MR = 8, NR = 12;
constexpr const char* kMicroKernel = "NEON";
#else
constexpr int MR = 4, NR = 16;
constexpr const char* kMicroKernel = "portable C++";
#endif

// Panel sources of A, and the packed one of B (the in-place B source is per build: it loads
// vectors under a mask).
struct PackedA {
    const float* p;
    float operator()(int64_t k, int i) const { return p[k * MR + i]; }
};
struct DirectA {
    const float* p;
    int64_t rs, cs;
    int m;
    float operator()(int64_t k, int i) const { return p[std::min(i, m - 1) * rs + k * cs]; }
};
struct PackedB {
    const float* p;
};

inline void write_back_scalar(const float* acc, const Tile& t) {
    for (int i = 0; i < t.m; ++i)
        for (int j = 0; j < t.n; ++j) {
            float& c = t.c[i * t.rsc + j * t.csc];
            c = update(acc[i * NR + j], c, t.alpha, t.beta);
        }
}

#if defined(__AVX512F__)


// Which of a tile's columns 0..15 (lo) and 16..31 (hi) exist when it is n wide.
struct ColumnMask {
    __mmask16 lo, hi;
    explicit ColumnMask(int n)
        : lo(__mmask16((1u << std::min(n, 16)) - 1)), hi(__mmask16((1u << std::max(n - 16, 0)) - 1)) {}
};
struct DirectB {
    const float* p;
    int64_t rs;
    ColumnMask cols;
    DirectB(const float* p_, int64_t rs_, int n) : p(p_), rs(rs_), cols(n) {}
};
inline void load_b(const PackedB& b, int64_t k, __m512& b0, __m512& b1) {
    b0 = _mm512_load_ps(b.p + k * NR), b1 = _mm512_load_ps(b.p + k * NR + 16);
}
inline void load_b(const DirectB& b, int64_t k, __m512& b0, __m512& b1) {
    b0 = _mm512_maskz_loadu_ps(b.cols.lo, b.p + k * b.rs), b1 = _mm512_maskz_loadu_ps(b.cols.hi, b.p + k * b.rs + 16);
}

// The lanes of c selected by `mask` = alpha·x + beta·c (same operations as update()).
inline void update_row(float* c, __m512 x, __mmask16 mask, __m512 alpha, __m512 beta, bool read_c) {
    const __m512 r = read_c ? _mm512_fmadd_ps(alpha, x, _mm512_mul_ps(beta, _mm512_maskz_loadu_ps(mask, c)))
                            : _mm512_mul_ps(alpha, x);
    _mm512_mask_storeu_ps(c, mask, r);
}

template <class APanel, class BPanel>
inline void micro_kernel(int64_t kc, const APanel a, const BPanel b, const Tile& t) {
    __m512 lo[MR], hi[MR];  // row i of the tile: columns 0..15 in lo[i], 16..31 in hi[i]
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) lo[i] = hi[i] = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int64_t p = 0; p < kc; ++p) {
        __m512 b0, b1;
        load_b(b, p, b0, b1);
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
            const __m512 ai = _mm512_set1_ps(a(p, i));
            lo[i] = _mm512_fmadd_ps(ai, b0, lo[i]);
            hi[i] = _mm512_fmadd_ps(ai, b1, hi[i]);
        }
    }
    if (t.csc == 1) {  // rows of C are contiguous: masked vector write-back, edges included
        const __m512 alpha = _mm512_set1_ps(t.alpha), beta = _mm512_set1_ps(t.beta);
        const bool read_c = t.beta != 0.f;
        const ColumnMask cols(t.n);
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i)
            if (i < t.m) {
                update_row(t.c + i * t.rsc, lo[i], cols.lo, alpha, beta, read_c);
                update_row(t.c + i * t.rsc + 16, hi[i], cols.hi, alpha, beta, read_c);
            }
        return;
    }
    alignas(64) float acc[MR * NR];
#pragma GCC unroll 8  // constant indices keep lo[] and hi[] in registers throughout
    for (int i = 0; i < MR; ++i) {
        _mm512_store_ps(acc + i * NR, lo[i]);
        _mm512_store_ps(acc + i * NR + 16, hi[i]);
    }
    write_back_scalar(acc, t);
}

#elif defined(__AVX2__) && defined(__FMA__)


// Which of a tile's columns 0..7 (lo) and 8..15 (hi) exist when it is n wide (as load/store masks).
struct ColumnMask {
    __m256i lo, hi;
    explicit ColumnMask(int n) {
        const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), index);
        hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), index);
    }
};
struct DirectB {
    const float* p;
    int64_t rs;
    ColumnMask cols;
    DirectB(const float* p_, int64_t rs_, int n) : p(p_), rs(rs_), cols(n) {}
};
inline void load_b(const PackedB& b, int64_t k, __m256& b0, __m256& b1) {
    b0 = _mm256_load_ps(b.p + k * NR), b1 = _mm256_load_ps(b.p + k * NR + 8);
}
inline void load_b(const DirectB& b, int64_t k, __m256& b0, __m256& b1) {
    b0 = _mm256_maskload_ps(b.p + k * b.rs, b.cols.lo), b1 = _mm256_maskload_ps(b.p + k * b.rs + 8, b.cols.hi);
}

// The lanes of c selected by `mask` = alpha·x + beta·c (same operations as update()).
inline void update_row(float* c, __m256 x, __m256i mask, __m256 alpha, __m256 beta, bool read_c) {
    const __m256 r = read_c ? _mm256_fmadd_ps(alpha, x, _mm256_mul_ps(beta, _mm256_maskload_ps(c, mask)))
                            : _mm256_mul_ps(alpha, x);
    _mm256_maskstore_ps(c, mask, r);
}

template <class APanel, class BPanel>
inline void micro_kernel(int64_t kc, const APanel a, const BPanel b, const Tile& t) {
    __m256 lo[MR], hi[MR];  // row i of the tile: columns 0..7 in lo[i], 8..15 in hi[i]
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) lo[i] = hi[i] = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; ++p) {
        __m256 b0, b1;
        load_b(b, p, b0, b1);
#pragma GCC unroll 6
        for (int i = 0; i < MR; ++i) {
            const __m256 ai = _mm256_set1_ps(a(p, i));
            lo[i] = _mm256_fmadd_ps(ai, b0, lo[i]);
            hi[i] = _mm256_fmadd_ps(ai, b1, hi[i]);
        }
    }
    if (t.csc == 1) {  // rows of C are contiguous: masked vector write-back, edges included
        const __m256 alpha = _mm256_set1_ps(t.alpha), beta = _mm256_set1_ps(t.beta);
        const bool read_c = t.beta != 0.f;
        const ColumnMask cols(t.n);
#pragma GCC unroll 6
        for (int i = 0; i < MR; ++i)
            if (i < t.m) {
                update_row(t.c + i * t.rsc, lo[i], cols.lo, alpha, beta, read_c);
                update_row(t.c + i * t.rsc + 8, hi[i], cols.hi, alpha, beta, read_c);
            }
        return;
    }
    alignas(32) float acc[MR * NR];
#pragma GCC unroll 6  // constant indices keep lo[] and hi[] in registers throughout
    for (int i = 0; i < MR; ++i) {
        _mm256_store_ps(acc + i * NR, lo[i]);
        _mm256_store_ps(acc + i * NR + 8, hi[i]);
    }
    write_back_scalar(acc, t);
}

#elif defined(__aarch64__) && defined(__ARM_NEON)
#include "tensor/gemm_kernel_neon.h"

#else


struct DirectB {
    const float* p;
    int64_t rs;
    int n;
    DirectB(const float* p_, int64_t rs_, int n_) : p(p_), rs(rs_), n(n_) {}
};
inline float load_b(const PackedB& b, int64_t k, int j) { return b.p[k * NR + j]; }
inline float load_b(const DirectB& b, int64_t k, int j) { return j < b.n ? b.p[k * b.rs + j] : 0.f; }

template <class APanel, class BPanel>
inline void micro_kernel(int64_t kc, const APanel a, const BPanel b, const Tile& t) {
    float acc[MR * NR] = {};
    for (int64_t p = 0; p < kc; ++p)
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NR; ++j) acc[i * NR + j] += a(p, i) * load_b(b, p, j);
    write_back_scalar(acc, t);
}

#endif

}  // namespace splatlm::gemm_detail
