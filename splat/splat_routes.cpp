// splat_routes.cpp — choosing each token's top-p splats (splat_routes.h).
#include "splat/splat_routes.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace splatlm {

// First the p-th largest value θ: rounds of "the largest value below the last one", counting its
// repeats, until p values are ≥ θ (≤ p vectorised passes); then the splats above θ and the first ones
// equal to it, read off 64-bit masks. Branch-free but for the loop bounds (an insertion list or a sort
// mispredicts on random affinities, which costs more than the passes).
void top_splats(const float* l, int64_t K, int64_t p, int32_t* out, float* v) {
    for (int64_t j = 0; j < K; ++j) v[j] = l[j] == l[j] ? l[j] : kScanNegInf;
    float theta = std::numeric_limits<float>::quiet_NaN();  // every value is "below" NaN at first
    int64_t above = 0;                                      // splats > θ
    for (;;) {
        float M = kScanNegInf;
#pragma omp simd reduction(max : M)
        for (int64_t j = 0; j < K; ++j) {
            const float x = v[j] >= theta ? kScanNegInf : v[j];
            M = x > M ? x : M;  // (this form vectorises; std::max stays scalar)
        }
        int64_t repeats = 0;
#pragma omp simd reduction(+ : repeats)
        for (int64_t j = 0; j < K; ++j) repeats += v[j] == M;
        theta = M;
        if (above + repeats >= p) break;
        above += repeats;
    }
    int64_t n = 0, ties = p - above;
    for (int64_t j0 = 0; j0 < K; j0 += 64) {
        uint64_t gt = 0, eq = 0;
        for (int64_t d = 0; d < std::min<int64_t>(64, K - j0); ++d) {
            gt |= uint64_t(v[j0 + d] > theta) << d;
            eq |= uint64_t(v[j0 + d] == theta) << d;
        }
        for (; eq && ties > 0; --ties) gt |= eq & (~eq + 1), eq &= eq - 1;  // the lowest-index ties
        for (; gt; gt &= gt - 1) out[n++] = int32_t(j0 + std::countr_zero(gt));
    }
}

void Routes::select(int64_t i, int64_t t0, int64_t t1, int64_t K, const float* lk, const float* lq) {
    std::vector<float> v(p > 0 ? K : 0);
    for (int64_t t = t0; t < t1 && p > 0; ++t) {
        top_splats(lk + t * K, K, p, write.data() + (i * T + t) * p, v.data());
        top_splats(lq + t * K, K, p, read.data() + (i * T + t) * p, v.data());
    }
}

}  // namespace splatlm
