// splat_local: softmax over a sliding window + the splat path, gated per head. The gate's limits
// recover each path, gradients of every input against finite differences, causality and
// step() == forward() beyond the window, and a KV ring bounded by the window.
#include "nn/causal_attention.h"
#include "nn/kv_cache.h"
#include "splat/register.h"
#include "splat/splat_local.h"
#include "splat/splat_op.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
struct Inputs {
    Tensor q, k, v, centres, log_scale, log_amp, gate;
};
Inputs random_inputs(int64_t B, int64_t H, int64_t T, int64_t D, int64_t K, uint64_t seed) {
    return {random({B, H, T, D}, seed), random({B, H, T, D}, seed + 1), random_transposed({B, H, T, D}, seed + 2),
            random({H, K, D}, seed + 3, 0.5f), random({H, K}, seed + 4, 0.3f), random({H, K}, seed + 5, 0.3f),
            random({H}, seed + 6)};
}
}  // namespace

TEST_CASE("splat_local: a saturated gate gives one path, g = 1/2 their mean", "[splat_local]") {
    Inputs in = random_inputs(2, 3, 40, 8, 5, 1);
    const int64_t w = 6;
    Tensor local = causal_softmax_attention(in.q, in.k, in.v, w);
    Tensor splat = splat_attention(in.q, in.k, in.v, in.centres, in.log_scale, in.log_amp);
    auto mixed = [&](float gate) {
        return splat_local_attention(in.q, in.k, in.v, w, in.centres, in.log_scale, in.log_amp,
                                     Tensor::full({3}, gate));
    };
    require_close(mixed(40.f), local, 1e-6, 1e-6);
    require_close(mixed(-40.f), splat, 1e-6, 1e-6);
    require_close(mixed(0.f), (local + splat) * 0.5f, 1e-5, 1e-6);
    // One head's gate moves only that head.
    Tensor gates = Tensor::full({3}, -40.f);
    gates.data()[1] = 40.f;
    Tensor y = splat_local_attention(in.q, in.k, in.v, w, in.centres, in.log_scale, in.log_amp, gates);
    require_close(raw::select(y, 1, 1), raw::select(local, 1, 1), 1e-6, 1e-6);
    require_close(raw::select(y, 1, 0), raw::select(splat, 1, 0), 1e-6, 1e-6);
}

TEST_CASE("splat_local: gradients of q, k, v, splat parameters and gates", "[splat_local][gradcheck]") {
    Inputs in = random_inputs(1, 2, 9, 3, 3, 20);
    require_gradcheck(
        [](const std::vector<Tensor>& x) { return splat_local_attention(x[0], x[1], x[2], 3, x[3], x[4], x[5], x[6]); },
        {in.q, in.k, in.v, in.centres, in.log_scale, in.log_amp, in.gate});
}

TEST_CASE("splat_local: causal, and steps equal forward past the window with a window-sized ring",
          "[splat_local][causality][recurrent]") {
    register_splat_attentions();
    GPTConfig config{.vocab = 10, .context = 30, .layers = 1, .heads = 2, .width = 12, .attention = "splat_local",
                     .window = 4, .splats = 3};
    Rng rng(11);
    std::unique_ptr<Attention> attn = make_attention(config, 0, rng);
    spread_parameters(attn->parameters(), 12);
    Tensor x = random({2, 30, 12}, 13);
    Tensor y = attn->forward(x);

    Tensor x2 = x.clone();
    const int64_t t = 17;
    for (int64_t u = t + 1; u < 30; ++u)
        for (int64_t c = 0; c < 12; ++c) x2.data()[(1 * 30 + u) * 12 + c] -= 2.f;
    Tensor y2 = attn->forward(x2);
    for (int64_t u = 0; u <= t; ++u)
        for (int64_t c = 0; c < 12; ++c) REQUIRE(y2.at({1, u, c}) == y.at({1, u, c}));
    REQUIRE(y2.at({1, t + 1, 0}) != y.at({1, t + 1, 0}));

    NoGradGuard no_grad;
    std::unique_ptr<AttentionCache> cache = attn->new_cache(2, 30);
    REQUIRE(dynamic_cast<KVCache&>(*cache).slots() == 4);
    for (int64_t u = 0; u < 30; ++u)
        require_close(attn->step(raw::contiguous(raw::select(x, 1, u)), *cache), raw::select(y, 1, u), 1e-4, 1e-5);
    REQUIRE_THROWS_WITH(attn->step(raw::contiguous(raw::select(x, 1, 0)), *cache), Catch::Contains("full at 30"));
}

TEST_CASE("splat_local: bad shapes and sizes are one-line errors", "[splat_local][errors]") {
    Inputs in = random_inputs(1, 2, 5, 4, 3, 30);
    REQUIRE_THROWS_WITH(splat_local_attention(in.q, in.k, in.v, 2, in.centres, in.log_scale, in.log_amp, random({3}, 1)),
                        Catch::Contains("gate_logit must be [H]"));
    REQUIRE_THROWS_WITH(splat_local_attention(in.q, in.k, in.v, 0, in.centres, in.log_scale, in.log_amp, in.gate),
                        Catch::Contains("window must be positive"));
    register_splat_attentions();
    GPTConfig config{.heads = 2, .width = 8, .attention = "splat_local", .window = 0};
    Rng rng(1);
    REQUIRE_THROWS_WITH(make_attention(config, 0, rng), Catch::Contains("window must be positive"));
}
