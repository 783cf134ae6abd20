// Input-dependent decay of the splat op (SplatOptions::token_decay, docs/SPLAT.md §14): the fused op
// against the float64 reference, gradients of every input (finite differences, and the running-sum
// gradient at T = 300 against the reference), what a large rate means (a reset), the step against
// the parallel form, and the config that turns it on in a model (the default; old checkpoints without).
// Causality with token decay is part of require_splat_causal (tests/splat_helpers.h), the GPU passes
// are in test_cuda_splat.cpp.
// Run: ./bin/tests "[token_decay]"
#include <cmath>

#include "nn/gpt.h"
#include "splat/register.h"
#include "splat/splat_attention.h"
#include "splat/splat_op.h"
#include "tests/helpers.h"
#include "tests/splat_helpers.h"
#include "train/train_config.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;

TEST_CASE("token decay: the fused op equals the O(T^2) reference", "[splat][token_decay]") {
    struct Case {
        int64_t B, H, T, D, K, top;
        Which w;
    };
    const Case c = GENERATE(Case{1, 1, 1, 4, 1, 0, {false, false, false, true}},    // n = 1, k = 1
                            Case{2, 3, 70, 8, 5, 0, {false, false, false, true}},   // token decay alone
                            Case{2, 2, 100, 16, 16, 0, {true, true, true, true}},   // with every option
                            Case{1, 2, 300, 20, 6, 2, {true, true, true, true}},    // two ranges, top-p
                            Case{1, 2, 600, 40, 3, 0, {true, false, false, true}});  // three ranges, ragged columns
    CAPTURE(c.B, c.H, c.T, c.D, c.K, c.top, c.w.decay);
    const QKV h = random_qkv(c.B, c.H, c.T, c.D, 1);
    const SplatParams p = random_splats(c.H, c.K, c.D, 2);
    const SplatOptions o = random_options(c.w, c.B, c.H, c.T, c.K, 3, c.top);
    const Tensor y = run_splat(h, p, o);
    const Tensor ref = splat_attention_reference(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, o);
    require_close(y, ref, 1e-4, 1e-5);
    REQUIRE(relative_error(y, ref) < 1e-5);
    // the token decay changes the result (else an op that ignored it would pass)
    SplatOptions without = o;
    without.token_decay = Tensor();
    if (c.T > 1) REQUIRE(relative_error(y, run_splat(h, p, without)) > 1e-3);
}

TEST_CASE("token decay of 0 is no token decay, bitwise", "[splat][token_decay]") {
    const int64_t B = 2, H = 2, T = 50, D = 8, K = 4;
    const QKV h = random_qkv(B, H, T, D, 4);
    const SplatParams p = random_splats(H, K, D, 5);
    SplatOptions o = random_options({true, true, false}, B, H, T, K, 6);
    const Tensor y = run_splat(h, p, o);
    o.token_decay = Tensor::zeros({B, H, T, K});
    REQUIRE(run_splat(h, p, o).to_vector() == y.to_vector());
}

TEST_CASE("token decay: gradients of all ten inputs", "[splat][token_decay][gradcheck]") {
    const int64_t B = 2, H = 2, T = 7, D = 3, K = 3;
    const SplatParams p = random_splats(H, K, D, 11);
    const SplatOptions o = random_options({true, true, true, true}, B, H, T, K, 12);
    const Tensor q = random({B, H, T, D}, 13), k = random({B, H, T, D}, 14), v = random_transposed({B, H, T, D}, 15);
    const Tensor token = random_transposed({B, H, T, K}, 16, 0.3f);  // a non-contiguous view, signs mixed
    require_gradcheck(
        [](const std::vector<Tensor>& in) {
            return splat_attention(in[0], in[1], in[2], in[3], in[4], in[5],
                                   SplatOptions{in[6], in[7], in[8], 0, in[9]});
        },
        {q, k, v, p.centres, p.log_scale, p.log_amp, o.log_decay, o.send_bias, o.read_bias, token});
}

TEST_CASE("token decay: its gradient over 256-token ranges matches the float64 reference", "[splat][token_decay]") {
    // dρ[s] = Σ_{t≥s} (dlk − dlq) is a running sum over up to T terms: checked against central
    // differences of the reference at the ends and across the range boundary, routed and dense.
    const int64_t top = GENERATE(0, 2);
    const int64_t B = 1, H = 1, T = 300, D = 4, K = 3;
    const QKV h = random_qkv(B, H, T, D, 17);
    const SplatParams p = random_splats(H, K, D, 18);
    SplatOptions o = random_options({true, true, true, true}, B, H, T, K, 19, top);
    const Tensor g = random({B, H, T, D}, 20);
    o.token_decay.set_requires_grad();
    backward(run_splat(h, p, o), g);
    for (const int64_t t : {0, 1, 100, 255, 256, 299})
        for (int64_t j = 0; j < K; ++j) {
            auto loss = [&](float delta) {
                SplatOptions moved = o;
                moved.token_decay = o.token_decay.detach().clone();
                moved.token_decay.data()[t * K + j] += delta;
                const Tensor y = splat_attention_reference(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, moved);
                double acc = 0;
                for (int64_t i = 0; i < y.numel(); ++i) acc += double(y.data()[i]) * g.data()[i];
                return acc;
            };
            const double numeric = (loss(1e-2f) - loss(-1e-2f)) / 2e-2;
            const float got = o.token_decay.grad().at({0, 0, t, j});
            CAPTURE(top, t, j, numeric, got);
            REQUIRE(std::abs(got - numeric) < 2e-3 + 1e-2 * std::abs(numeric));
            if (t == 0) REQUIRE(got == 0.f);  // the rate of the first token scales only the empty state
        }
}

TEST_CASE("token decay: a large rate at t0 forgets everything before it", "[splat][token_decay]") {
    // ρ = 1e4 at t0 for every splat: e^{−ρ} = 0 in float, so from t0 on the op equals the op run on
    // the tokens from t0 alone (with the same constant decay).
    const int64_t B = 1, H = 2, T = 40, D = 6, K = 4, t0 = 23;
    const QKV h = random_qkv(B, H, T, D, 21);
    const SplatParams p = random_splats(H, K, D, 22);
    SplatOptions o = random_options({true, false, false, true}, B, H, T, K, 23);
    for (int64_t hh = 0; hh < H; ++hh)
        for (int64_t j = 0; j < K; ++j) o.token_decay.data()[((0 * H + hh) * T + t0) * K + j] = 1e4f;
    const Tensor y = run_splat(h, p, o);
    auto tail = [&](const Tensor& x) { return raw::slice(x, 2, t0, T); };
    SplatOptions from_t0 = o;
    from_t0.token_decay = raw::contiguous(tail(o.token_decay));
    const Tensor y_tail = run_splat({tail(h.q), tail(h.k), tail(h.v)}, p, from_t0);
    require_close(raw::contiguous(tail(y)), y_tail, 1e-5, 1e-6);
    // and without the reset the tail does depend on what came before
    o.token_decay = random_options({true, false, false, true}, B, H, T, K, 23).token_decay;
    REQUIRE(relative_error(raw::contiguous(tail(run_splat(h, p, o))), y_tail) > 1e-3);
}

TEST_CASE("token decay: splat_step token by token equals the parallel op", "[splat][token_decay][recurrent]") {
    const int64_t top = GENERATE(0, 2);
    const int64_t B = 2, H = 3, T = 40, D = 20, K = 5;
    const QKV h = random_qkv(B, H, T, D, 24);
    const SplatParams p = random_splats(H, K, D, 25);
    require_step_equals_parallel(h, p, random_options({true, true, true, true}, B, H, T, K, 26, top));
}

TEST_CASE("token decay: wrong shapes are rejected with the option's name", "[splat][token_decay][errors]") {
    const QKV h = random_qkv(1, 2, 5, 4, 36);
    const SplatParams p = random_splats(2, 3, 4, 37);
    SplatOptions o;
    o.token_decay = random({1, 2, 4, 3}, 1);
    REQUIRE_THROWS_WITH(run_splat(h, p, o), Contains("token_decay must be [1, 2, 5, 3]"));
    SplatState state(1, 2, 3, 4);
    REQUIRE_THROWS_WITH(splat_step(raw::select(h.q, 2, 0), raw::select(h.k, 2, 0), raw::select(h.v, 2, 0), p.centres,
                                   p.log_scale, p.log_amp, state, o),
                        Contains("token_decay must be [1, 2, 3]"));
}

TEST_CASE("splat_token_decay: the model starts as with splat_decay alone, and needs its rates", "[splat][token_decay]") {
    register_splat_attentions();
    GPTConfig c{.vocab = 11, .context = 12, .layers = 2, .heads = 2, .width = 8};
    c.attention = "splat", c.splats = 4, c.splat_decay = true;
    GPT plain(c, 3);
    c.splat_token_decay = true;
    GPT gated(c, 3);
    // Δ = softplus(0·x + ln(e − 1)) = 1: the same rates, so the same logits at init
    const Indices ids = random_ids(2, 12, 11, 4);
    require_close(gated.forward(ids), plain.forward(ids), 1e-5, 1e-5);
    REQUIRE(gated.parameters().size() == plain.parameters().size() + 2 * 2);  // a gate's weight and bias per layer
    // without splat_decay there are no rates to modulate: no gate (the option is on by default)
    c.splat_decay = false;
    REQUIRE(GPT(c, 3).parameters().size() == plain.parameters().size() - 2);  // no log_decay either
}

TEST_CASE("splat_token_decay: on by default, off in checkpoints written before the key", "[splat][token_decay]") {
    const TrainConfig c;
    REQUIRE(c.model.splat_token_decay);
    REQUIRE(TrainConfig::from_json(c.to_json()).model.splat_token_decay);
    const Json saved = c.to_json();
    Json::Object without;  // a checkpoint config written before the key existed: no gate to load
    for (const auto& [name, value] : saved.as_object())
        if (name != "splat_token_decay") without.emplace_back(name, value);
    REQUIRE_FALSE(TrainConfig::from_json(Json(without)).model.splat_token_decay);
    GPTConfig softmax{.attention = "softmax", .splat_decay = true, .splat_token_decay = true};
    softmax.validate();  // nothing to act on in softmax: allowed (it is the training default)
}
