// The options of the splat op (SplatOptions: recency decay, send bias, read bias): the fused op
// against the O(T²) reference, gradients of every input, causality, the recurrent step against
// the parallel form, what decay means, extreme rates and bad shapes.  Run: ./bin/tests "[splat]"
#include <cmath>

#include "splat/splat_op.h"
#include "tests/helpers.h"
#include "tests/splat_helpers.h"

using namespace splatlm;
using namespace splatlm::test;

TEST_CASE("splat options: the fused op equals the O(T^2) reference", "[splat][options]") {
    struct Case {
        int64_t B, H, T, D, K;
        Which w;
    };
    const Case c = GENERATE(Case{1, 1, 1, 4, 1, {true, true, true}},       // n = 1, k = 1
                            Case{2, 3, 70, 8, 5, {true, false, false}},    // decay alone
                            Case{2, 2, 45, 7, 4, {false, true, false}},    // send bias alone
                            Case{1, 2, 33, 5, 3, {false, false, true}},    // read bias alone
                            Case{2, 2, 100, 16, 16, {true, true, true}},   // all, the default k
                            Case{1, 2, 600, 40, 3, {true, true, true}});   // three 256-token ranges, ragged columns
    CAPTURE(c.B, c.H, c.T, c.D, c.K, c.w.decay, c.w.send, c.w.read);
    QKV h = random_qkv(c.B, c.H, c.T, c.D, 1);
    SplatParams p = random_splats(c.H, c.K, c.D, 2);
    SplatOptions o = random_options(c.w, c.B, c.H, c.T, c.K, 3);
    Tensor y = run_splat(h, p, o);
    Tensor ref = splat_attention_reference(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, o);
    require_close(y, ref, 1e-4, 1e-5);
    REQUIRE(relative_error(y, ref) < 1e-5);
    // and the options change the result (the test would pass for an op that ignored them otherwise;
    // a single token is v_0 whatever the weights)
    if (c.T > 1) REQUIRE(relative_error(y, run_splat(h, p, {})) > 1e-3);
}

TEST_CASE("splat options: gradients of all nine inputs", "[splat][options][gradcheck]") {
    const int64_t B = 2, H = 2, T = 7, D = 3, K = 3;
    SplatParams p = random_splats(H, K, D, 11);
    SplatOptions o = random_options({true, true, true}, B, H, T, K, 12);
    Tensor q = random({B, H, T, D}, 13), k = random({B, H, T, D}, 14), v = random_transposed({B, H, T, D}, 15);
    // send bias given as a non-contiguous view (the model's gate is a permuted [B, T, H, K])
    Tensor send = random_transposed({B, H, T, K}, 16, 0.7f);
    require_gradcheck(
        [](const std::vector<Tensor>& in) {
            return splat_attention(in[0], in[1], in[2], in[3], in[4], in[5],
                                   SplatOptions{in[6], in[7], in[8]});
        },
        {q, k, v, p.centres, p.log_scale, p.log_amp, o.log_decay, send, o.read_bias});
}

TEST_CASE("splat options: decay gradient over 256-token ranges matches finite differences", "[splat][options]") {
    const int64_t B = 1, H = 1, T = 300, D = 4, K = 3;
    QKV h = random_qkv(B, H, T, D, 17);
    SplatParams p = random_splats(H, K, D, 18);
    SplatOptions o = random_options({true, true, true}, B, H, T, K, 19);
    Tensor g = random({B, H, T, D}, 20);
    require_decay_gradient(h, p, o, g);
}

TEST_CASE("splat options never let a token see the future", "[splat][options][causality]") {
    require_splat_causal(4, 0, GENERATE(0, 20, 255, 256, 298));
}

TEST_CASE("splat options: splat_step token by token equals the parallel op", "[splat][options][recurrent]") {
    const int64_t B = 2, H = 3, T = 40, D = 20, K = 5;  // D = 16 + 4: a full and a ragged column block
    QKV h = random_qkv(B, H, T, D, 24);
    SplatParams p = random_splats(H, K, D, 25);
    require_step_equals_parallel(h, p, random_options({true, true, true}, B, H, T, K, 26));
}

TEST_CASE("splat decay: a fast-forgetting splat holds only the latest token", "[splat][options]") {
    // With r = e^8 per token every earlier write is gone (e^{−r} = 0 in float), so each splat's
    // running mean is v_t itself and y_t = v_t whatever the read-out weights.
    const int64_t B = 1, H = 2, T = 25, D = 6, K = 4;
    QKV h = random_qkv(B, H, T, D, 27);
    SplatParams p = random_splats(H, K, D, 28);
    SplatOptions o;
    o.log_decay = Tensor::full({H, K}, 8.f);
    Tensor y = run_splat(h, p, o);
    for (int64_t hh = 0; hh < H; ++hh)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t d = 0; d < D; ++d) REQUIRE(std::abs(y.at({0, hh, t, d}) - h.v.at({0, hh, t, d})) < 1e-5);
    // and a vanishing rate is no decay at all
    o.log_decay = Tensor::full({H, K}, -40.f);
    require_close(run_splat(h, p, o), run_splat(h, p, {}), 1e-6, 1e-6);
}

TEST_CASE("splat options: extreme rates and biases stay finite", "[splat][options][numerics]") {
    const float log_rate = GENERATE(-30.f, 0.f, 6.f);
    const float bias_scale = GENERATE(1.f, 50.f);
    CAPTURE(log_rate, bias_scale);
    const int64_t B = 1, H = 2, T = 40, D = 8, K = 4;
    SplatParams p = random_splats(H, K, D, 29);
    SplatOptions o{Tensor::full({H, K}, log_rate), random({B, H, T, K}, 30, bias_scale), random({H, K}, 31, bias_scale)};
    Tensor q = random({B, H, T, D}, 32), k = random({B, H, T, D}, 33, 30.f), v = random({B, H, T, D}, 34);
    std::vector<Tensor> in = {q, k, v, p.centres, p.log_scale, p.log_amp, o.log_decay, o.send_bias, o.read_bias};
    for (Tensor& t : in) t.set_requires_grad();
    Tensor y = splat_attention(in[0], in[1], in[2], in[3], in[4], in[5], SplatOptions{in[6], in[7], in[8]});
    require_finite(y);
    backward(y, random({B, H, T, D}, 35));
    for (Tensor& t : in) require_finite(t.grad());
}

TEST_CASE("splat options: wrong shapes are rejected with the option's name", "[splat][options][errors]") {
    QKV h = random_qkv(1, 2, 5, 4, 36);
    SplatParams p = random_splats(2, 3, 4, 37);
    auto with = [&](SplatOptions o) { return splat_attention(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, o); };
    REQUIRE_THROWS_WITH(with({random({2, 4}, 1), {}, {}}), Catch::Contains("log_decay"));
    REQUIRE_THROWS_WITH(with({{}, random({1, 2, 4, 3}, 1), {}}), Catch::Contains("send_bias"));
    REQUIRE_THROWS_WITH(with({{}, {}, random({3}, 1)}), Catch::Contains("read_bias"));
    SplatState state(1, 2, 3, 4);
    REQUIRE_THROWS_WITH(splat_step(raw::select(h.q, 2, 0), raw::select(h.k, 2, 0), raw::select(h.v, 2, 0), p.centres,
                                   p.log_scale, p.log_amp, state, {{}, random({1, 2, 5, 3}, 1), {}}),
                        Catch::Contains("send_bias"));
}

TEST_CASE("splat_read_weights: the op's read-out weights equal the float64 definition, every option, top-p",
          "[splat][options][top]") {
    struct Case {
        int64_t B, H, T, D, K, top;
        Which w;
    };
    const Case c = GENERATE(Case{1, 1, 1, 4, 1, 0, {true, true, true}},      // n = 1, k = 1
                            Case{2, 3, 70, 8, 5, 0, {true, false, false}},   // decay
                            Case{2, 2, 45, 7, 6, 2, {true, true, true}},     // routed, every option
                            Case{1, 2, 300, 16, 16, 0, {true, true, true}},  // two 256-token ranges
                            Case{1, 1, 40, 5, 4, 1, {false, false, false}});  // one splat per token: empty reads
    CAPTURE(c.B, c.H, c.T, c.D, c.K, c.top);
    const QKV h = random_qkv(c.B, c.H, c.T, c.D, 11);  // strided views of one buffer
    const SplatParams p = random_splats(c.H, c.K, c.D, 12);
    const SplatOptions o = random_options(c.w, c.B, c.H, c.T, c.K, 13, c.top);
    const Tensor pi = splat_read_weights(h.q, h.k, p.centres, p.log_scale, p.log_amp, o);
    REQUIRE(pi.shape() == Shape{c.B, c.H, c.T, c.K});
    double total = 0;
    for (int64_t b = 0; b < c.B; ++b)
        for (int64_t hd = 0; hd < c.H; ++hd) {
            const Tensor want = splat_read_weights_reference(h.q, h.k, p.centres, p.log_scale, p.log_amp, b, hd, o);
            const Tensor got = raw::contiguous(raw::select(raw::select(pi, 0, b), 0, hd));
            require_close(got, want, 1e-5, 1e-6);
            for (float x : want.to_vector()) total += x;
        }
    REQUIRE(total > 0.5 * double(c.B * c.H * c.T) * (c.top == 1 ? 0.2 : 1.0));  // not a test on zeros
}
