// gemm_kernel.h — the register-tiled micro-kernel under gemm.cpp (internal to it).
//
// micro_kernel(kc, a, b, tile) multiplies one packed MR×kc panel of A (column p holds
// a[p·MR .. p·MR+MR)) by one packed kc×NR panel of B (row p holds b[p·NR .. p·NR+NR)), keeping
// the whole MR×NR product in registers, and then updates the m×n corner of C that `tile`
// describes:  C = alpha·acc + beta·C  (beta == 0: C = alpha·acc, old C never read).
//
// Three builds, picked at compile time: AVX-512 (MR×NR = 8×32, 16 zmm accumulators),
// AVX2+FMA (6×16, 12 ymm accumulators) and portable C++ (4×16, left to the auto-vectoriser).
// Each step p broadcasts MR values of A and multiply-adds them into rows of B vectors.
// The scalar write-back below is shared by edge tiles and by full tiles whose C columns are
// not contiguous; it rounds exactly like the vector write-back, so a given element of C gets
// the same bits whether it sat in a full or in an edge tile.
#pragma once
#include <cmath>
#include <cstdint>
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
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
#ifdef __FMA__
    return std::fma(alpha, x, beta * c);
#else
    return alpha * x + beta * c;
#endif
}

template <int MR, int NR>
inline void write_back_scalar(const float* acc, const Tile& t) {
    for (int i = 0; i < t.m; ++i)
        for (int j = 0; j < t.n; ++j) {
            float& c = t.c[i * t.rsc + j * t.csc];
            c = update(acc[i * NR + j], c, t.alpha, t.beta);
        }
}

#if defined(__AVX512F__)

constexpr int MR = 8, NR = 32;

inline __m512 update_vec(__m512 x, const float* c, __m512 alpha, __m512 beta, bool read_c) {
    return read_c ? _mm512_fmadd_ps(alpha, x, _mm512_mul_ps(beta, _mm512_loadu_ps(c))) : _mm512_mul_ps(alpha, x);
}

inline void micro_kernel(int64_t kc, const float* a, const float* b, const Tile& t) {
    __m512 lo[MR], hi[MR];  // row i of the tile: columns 0..15 in lo[i], 16..31 in hi[i]
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) lo[i] = hi[i] = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int64_t p = 0; p < kc; ++p) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            lo[i] = _mm512_fmadd_ps(ai, b0, lo[i]);
            hi[i] = _mm512_fmadd_ps(ai, b1, hi[i]);
        }
        a += MR;
        b += NR;
    }
    if (t.m == MR && t.n == NR && t.csc == 1) {
        const __m512 alpha = _mm512_set1_ps(t.alpha), beta = _mm512_set1_ps(t.beta);
        const bool read_c = t.beta != 0.f;
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
            float* c = t.c + i * t.rsc;
            _mm512_storeu_ps(c, update_vec(lo[i], c, alpha, beta, read_c));
            _mm512_storeu_ps(c + 16, update_vec(hi[i], c + 16, alpha, beta, read_c));
        }
        return;
    }
    alignas(64) float acc[MR * NR];
    for (int i = 0; i < MR; ++i) {
        _mm512_store_ps(acc + i * NR, lo[i]);
        _mm512_store_ps(acc + i * NR + 16, hi[i]);
    }
    write_back_scalar<MR, NR>(acc, t);
}

#elif defined(__AVX2__) && defined(__FMA__)

constexpr int MR = 6, NR = 16;

inline __m256 update_vec(__m256 x, const float* c, __m256 alpha, __m256 beta, bool read_c) {
    return read_c ? _mm256_fmadd_ps(alpha, x, _mm256_mul_ps(beta, _mm256_loadu_ps(c))) : _mm256_mul_ps(alpha, x);
}

inline void micro_kernel(int64_t kc, const float* a, const float* b, const Tile& t) {
    __m256 lo[MR], hi[MR];  // row i of the tile: columns 0..7 in lo[i], 8..15 in hi[i]
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) lo[i] = hi[i] = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; ++p) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < MR; ++i) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            lo[i] = _mm256_fmadd_ps(ai, b0, lo[i]);
            hi[i] = _mm256_fmadd_ps(ai, b1, hi[i]);
        }
        a += MR;
        b += NR;
    }
    if (t.m == MR && t.n == NR && t.csc == 1) {
        const __m256 alpha = _mm256_set1_ps(t.alpha), beta = _mm256_set1_ps(t.beta);
        const bool read_c = t.beta != 0.f;
#pragma GCC unroll 6
        for (int i = 0; i < MR; ++i) {
            float* c = t.c + i * t.rsc;
            _mm256_storeu_ps(c, update_vec(lo[i], c, alpha, beta, read_c));
            _mm256_storeu_ps(c + 8, update_vec(hi[i], c + 8, alpha, beta, read_c));
        }
        return;
    }
    alignas(32) float acc[MR * NR];
    for (int i = 0; i < MR; ++i) {
        _mm256_store_ps(acc + i * NR, lo[i]);
        _mm256_store_ps(acc + i * NR + 8, hi[i]);
    }
    write_back_scalar<MR, NR>(acc, t);
}

#else

constexpr int MR = 4, NR = 16;

inline void micro_kernel(int64_t kc, const float* a, const float* b, const Tile& t) {
    float acc[MR * NR] = {};
    for (int64_t p = 0; p < kc; ++p, a += MR, b += NR)
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NR; ++j) acc[i * NR + j] += a[i] * b[j];
    write_back_scalar<MR, NR>(acc, t);
}

#endif

}  // namespace splatlm::gemm_detail
