// splat_delta (splat/splat_delta.h): the feature map routing a key into splat sub-spaces — unit
// norm, blocks weighted by the splat shares, gradients against finite differences, finite where a
// splat's share underflows. The kind in a model (gradients, causality, step == forward, sessions,
// checkpoints) runs with every other kind in test_gpt.cpp, test_serve_session.cpp, test_train.cpp.
#include <algorithm>
#include <cmath>

#include "splat/splat_delta.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
struct FeatureInputs {
    Tensor x, centres, log_scale, log_amp, frame;
};
FeatureInputs feature_inputs(int64_t B, int64_t H, int64_t T, int64_t D, int64_t K, int64_t P) {
    return {random_transposed({B, H, T, D}, 1), random({H, K, D}, 2, 0.7f), random({H, K}, 3, 0.3f),
            random({H, K}, 4, 0.5f), random({H, K * P, D}, 5)};
}
}  // namespace

TEST_CASE("splat_delta features: unit norm, each splat's block scaled by √(its share)", "[splat_delta]") {
    const int64_t B = 2, H = 3, T = 7, D = 5, K = 4, P = 3;
    FeatureInputs in = feature_inputs(B, H, T, D, K, P);
    for (bool keys : {true, false}) {
        const Tensor f = splat_delta_features(
            in.x, in.centres, in.frame, splat_root_shares(in.x, in.centres, in.log_scale, keys ? in.log_amp : Tensor()));
        REQUIRE(f.shape() == Shape{B, H, T, K * P});
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t t = 0; t < T; ++t) {
                    // the shares, from the affinities of docs/SPLAT.md §1 in double
                    std::vector<double> lk(K);
                    double top = -1e300, total = 0, norm = 0;
                    for (int64_t j = 0; j < K; ++j) {
                        double d2 = 0;
                        for (int64_t d = 0; d < D; ++d) {
                            const double diff = in.x.at({b, h, t, d}) - in.centres.at({h, j, d});
                            d2 += diff * diff;
                        }
                        lk[j] = (keys ? in.log_amp.at({h, j}) : 0.0) - d2 * 0.5 * std::exp(-2.0 * in.log_scale.at({h, j}));
                        top = std::max(top, lk[j]);
                    }
                    for (int64_t j = 0; j < K; ++j) total += std::exp(lk[j] - top);
                    for (int64_t j = 0; j < K; ++j) {
                        double block = 0;
                        for (int64_t p = 0; p < P; ++p) block += std::pow(f.at({b, h, t, j * P + p}), 2);
                        REQUIRE(block == Approx(std::exp(lk[j] - top) / total).margin(1e-5));
                        norm += block;
                    }
                    REQUIRE(norm == Approx(1.0).margin(1e-5));
                }
    }
}

TEST_CASE("splat_delta feature gradients", "[splat_delta][gradcheck]") {
    FeatureInputs in = feature_inputs(2, 2, 3, 3, 3, 2);
    auto features = [](const Tensor& x, const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp,
                       const Tensor& frame) {
        return splat_delta_features(x, centres, frame, splat_root_shares(x, centres, log_scale, log_amp));
    };
    require_gradcheck([&](const std::vector<Tensor>& v) { return features(v[0], v[1], v[2], v[3], v[4]); },
                      {in.x, in.centres, in.log_scale, in.log_amp, in.frame});
    require_gradcheck([&](const std::vector<Tensor>& v) { return features(v[0], v[1], v[2], Tensor(), v[3]); },
                      {in.x, in.centres, in.log_scale, in.frame});
    // routed by another tensor's shares (splat_delta_key_route: a query through its key's shares)
    const Tensor k = random({2, 2, 3, 3}, 7);
    require_gradcheck(
        [&](const std::vector<Tensor>& v) {
            return splat_delta_features(v[0], v[1], v[4], splat_root_shares(v[5], v[1], v[2], v[3]));
        },
        {in.x, in.centres, in.log_scale, in.log_amp, in.frame, k});
}

TEST_CASE("splat_delta top-p routing: a token's shares outside its top splats are 0, the kept ones unchanged",
          "[splat_delta][top]") {
    const int64_t K = 5;
    FeatureInputs in = feature_inputs(2, 3, 9, 4, K, 2);
    for (bool keys : {true, false}) {
        const Tensor amp = keys ? in.log_amp : Tensor();
        const Tensor dense = splat_root_shares(in.x, in.centres, in.log_scale, amp);
        REQUIRE(splat_root_shares(in.x, in.centres, in.log_scale, amp, K).to_vector() == dense.to_vector());  // p = K: dense
        for (int64_t top : {1, 2, 4}) {
            const std::vector<float> all = dense.to_vector(), kept = splat_root_shares(in.x, in.centres, in.log_scale, amp, top).to_vector();
            for (size_t row = 0; row < all.size(); row += K) {
                std::vector<float> order(all.begin() + row, all.begin() + row + K);
                std::sort(order.rbegin(), order.rend());
                int64_t n = 0;
                for (int64_t j = 0; j < K; ++j) {
                    const float w = all[row + j], v = kept[row + j];
                    if (v != 0.f) {
                        ++n;
                        REQUIRE(v == w);  // a kept share is the dense one, bit for bit
                    } else {
                        REQUIRE(w <= order[size_t(top - 1)]);  // a dropped one is not above the p-th largest
                    }
                }
                REQUIRE(n == top);
            }
        }
    }
    // gradients through the kept shares, on inputs whose routes no finite-difference step flips
    // (log-amplitudes 0, 4, 8 put every key's top two at splats 1 and 2)
    FeatureInputs small = feature_inputs(2, 2, 3, 3, 3, 2);
    for (int64_t i = 0; i < small.log_amp.numel(); ++i) small.log_amp.data()[i] = 4.f * float(i % 3);
    require_gradcheck(
        [&](const std::vector<Tensor>& v) {
            return splat_delta_features(v[0], v[1], v[4], splat_root_shares(v[0], v[1], v[2], v[3], 2));
        },
        {small.x, small.centres, small.log_scale, small.log_amp, small.frame});
}

TEST_CASE("splat_delta features stay finite when a splat's share underflows", "[splat_delta]") {
    FeatureInputs in = feature_inputs(1, 1, 4, 3, 3, 2);
    for (int64_t d = 0; d < 3; ++d) in.centres.data()[2 * 3 + d] = 1e3f;  // splat 2: e^{−10⁶}, exactly 0 in float
    for (Tensor* t : {&in.x, &in.centres, &in.log_scale, &in.log_amp, &in.frame}) t->set_requires_grad();
    const Tensor f = splat_delta_features(in.x, in.centres, in.frame, splat_root_shares(in.x, in.centres, in.log_scale, in.log_amp));
    backward(sum(f * random(f.shape(), 6)));
    for (const Tensor& t : {f, in.x.grad(), in.centres.grad(), in.log_scale.grad(), in.frame.grad()})
        for (float v : t.to_vector()) REQUIRE(std::isfinite(v));
}
