// The short causal convolution (nn/short_conv.h): its sums against a plain double loop, gradients
// against finite differences, causality, step == forward with the carried window, and the window's
// save and restore inside an attention cache. The model-level checks (every kind with the conv, and
// without positions) are in test_gpt.cpp. Run: ./bin/tests "[short_conv]"
#include "nn/short_conv.h"
#include "nn/softmax_attention.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
// y[b, t, n] = Σ_{j<K, j≤t} w[n, j]·x[b, t − j, n], in double, element by element.
Tensor short_conv_reference(const Tensor& x, const Tensor& w) {
    const int64_t B = x.size(0), T = x.size(1), N = x.size(2), K = w.size(1);
    Tensor y = Tensor::empty({B, T, N});
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t n = 0; n < N; ++n) {
                double acc = 0;
                for (int64_t j = 0; j < K && j <= t; ++j) acc += double(w.at({n, j})) * x.at({b, t - j, n});
                y.data()[(b * T + t) * N + n] = float(acc);
            }
    return y;
}
}  // namespace

TEST_CASE("short conv equals the double-loop reference, strided input included", "[short_conv]") {
    struct Case {
        int64_t B, T, N, K;
    };
    const Case c = GENERATE(Case{1, 1, 3, 4}, Case{2, 9, 5, 3}, Case{3, 40, 7, 4}, Case{1, 3, 2, 8}, Case{2, 6, 4, 1});
    const Tensor w = random({c.N, c.K}, 2);
    for (const Tensor& x : {random({c.B, c.T, c.N}, 1), random_transposed({c.B, c.T, c.N}, 3)})
        require_close(causal_short_conv(x, w), short_conv_reference(x, w), 1e-5, 1e-6);
}

TEST_CASE("short conv gradients match finite differences", "[short_conv][gradcheck]") {
    const int64_t K = GENERATE(1, 3, 6);
    require_gradcheck([](const std::vector<Tensor>& in) { return causal_short_conv(in[0], in[1]); },
                      {random_transposed({2, 5, 3}, 4), random({3, K}, 5)});
}

TEST_CASE("short conv output at t ignores inputs after t", "[short_conv][causality]") {
    const Tensor x = random({2, 12, 4}, 6), w = random({4, 4}, 7);
    const Tensor y = causal_short_conv(x, w);
    for (int64_t t : {0, 5, 10}) {
        Tensor changed = x.clone();
        for (int64_t i = 0; i < changed.numel(); ++i)
            if ((i / 4) % 12 > t) changed.data()[i] += 3.f;
        const Tensor after = causal_short_conv(changed, w);
        for (int64_t b = 0; b < 2; ++b)
            for (int64_t u = 0; u <= t; ++u)
                for (int64_t n = 0; n < 4; ++n) REQUIRE(after.at({b, u, n}) == y.at({b, u, n}));
        REQUIRE(after.at({0, t + 1, 0}) != y.at({0, t + 1, 0}));
    }
}

TEST_CASE("short conv steps with a carried window give forward()'s rows bitwise", "[short_conv][recurrent]") {
    const int64_t K = GENERATE(1, 2, 4);
    Rng rng(8);
    ShortConv conv(6, K, rng);
    const Tensor x = random({2, 11, 6}, 9);
    const Tensor y = conv.forward(x);
    Tensor window = conv.new_window(2, Device::CPU);
    for (int64_t t = 0; t < 11; ++t) require_close(conv.step(raw::select(x, 1, t), window), raw::select(y, 1, t), 0, 0);
    REQUIRE_THROWS_WITH(conv.step(random({2, 5}, 1), window), Catch::Contains("short conv step"));
}

TEST_CASE("an attention cache with the short conv saves and restores its window", "[short_conv][recurrent]") {
    GPTConfig config{.vocab = 10, .context = 20, .layers = 1, .heads = 2, .width = 8, .short_conv = 4};
    Rng rng(10);
    SoftmaxAttention attn(config, 0, rng, 0);
    spread_parameters(attn.parameters(), 11);
    const Tensor x = random({1, 9, 8}, 12);
    auto cache = attn.new_cache(1, 20);
    for (int64_t t = 0; t < 5; ++t) attn.step(raw::select(x, 1, t), *cache);
    const NamedTensors saved = cache->contents();
    auto restored = attn.new_cache(1, 20);
    restored->restore(saved, 5);
    for (int64_t t = 5; t < 9; ++t)
        require_close(attn.step(raw::select(x, 1, t), *restored), attn.step(raw::select(x, 1, t), *cache), 0, 0);
    NamedTensors missing;
    for (const auto& [name, t] : saved)
        if (name != "short_conv.window") missing.emplace_back(name, t);
    REQUIRE_THROWS_WITH(attn.new_cache(1, 20)->restore(missing, 5), Catch::Contains("short_conv.window is missing"));
}

TEST_CASE("short conv: bad shapes and sizes are named", "[short_conv][errors]") {
    REQUIRE_THROWS_WITH(causal_short_conv(random({2, 3, 4}, 1), random({5, 2}, 2)), Catch::Contains("[N, K]"));
    GPTConfig config{.vocab = 10, .context = 20, .layers = 1, .heads = 2, .width = 8, .short_conv = -1};
    REQUIRE_THROWS_WITH(config.validate(), Catch::Contains("short_conv must be in [0, 64]"));
}
