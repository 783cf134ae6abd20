// splat_helpers.h — random splat parameters and inputs shared by the splat op tests.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "nn/projected_attention.h"
#include "tests/helpers.h"

namespace splatlm::test {

// Splat parameters for H heads of K splats in R^D, placed where random N(0, 1) queries and keys
// live: centres N(0, 0.5²), scales around √D, log-amplitudes N(0, 0.5²).
struct SplatParams {
    Tensor centres, log_scale, log_amp;
};
inline SplatParams random_splats(int64_t H, int64_t K, int64_t D, uint64_t seed) {
    SplatParams p{random({H, K, D}, seed, 0.5f), random({H, K}, seed + 1, 0.3f), random({H, K}, seed + 2, 0.5f)};
    for (int64_t i = 0; i < H * K; ++i) p.log_scale.data()[i] += 0.5f * std::log(float(D));
    return p;
}

// q, k, v as [B, H, T, D] views of one [B, T, 3, H, D] buffer — the layout the model produces.
inline QKV random_qkv(int64_t B, int64_t H, int64_t T, int64_t D, uint64_t seed) {
    return split_heads(random({B, T, 3 * H * D}, seed), H);
}

inline double relative_error(const Tensor& a, const Tensor& b) {
    std::vector<float> va = a.to_vector(), vb = b.to_vector();
    double num = 0, den = 0;
    for (size_t i = 0; i < va.size(); ++i)
        num += (double(va[i]) - vb[i]) * (double(va[i]) - vb[i]), den += double(vb[i]) * vb[i];
    return std::sqrt(num / std::max(den, 1e-300));
}

inline void require_finite(const Tensor& t) {
    for (float x : t.to_vector()) REQUIRE(std::isfinite(x));
}

}  // namespace splatlm::test
