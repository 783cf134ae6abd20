// Gaussian splat attention (splat/): the fused op against its O(T²) reference, causality, the
// recurrent step against the parallel form, gradients (op and whole GPT), extreme inputs, and the
// properties of the implied token-to-token weights.  Run: ./bin/tests "[splat]"
#include <algorithm>
#include <cmath>

#include "nn/gpt.h"
#include "nn/projected_attention.h"
#include "splat/register.h"
#include "splat/splat_op.h"
#include "tests/helpers.h"
#include "tests/splat_helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {

Tensor run(const QKV& h, const SplatParams& p) {
    return splat_attention(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp);
}

}  // namespace

TEST_CASE("splat attention equals the O(T^2) reference", "[splat]") {
    struct Case {
        int64_t B, H, T, D, K;
    };
    const Case c = GENERATE(Case{1, 1, 1, 4, 1},       // n = 1, k = 1
                            Case{2, 3, 70, 8, 5},      // D not a multiple of the 16-column blocks
                            Case{1, 2, 130, 16, 16},   // the default k
                            Case{2, 2, 100, 8, 4},
                            Case{1, 1, 33, 3, 2},
                            Case{1, 2, 600, 40, 3},    // 256-token ranges: two full and a ragged third; 40 = 16+16+8 columns
                            Case{1, 1, 512, 16, 2});   // T a multiple of the range
    CAPTURE(c.B, c.H, c.T, c.D, c.K);
    QKV h = random_qkv(c.B, c.H, c.T, c.D, 1);
    SplatParams p = random_splats(c.H, c.K, c.D, 2);
    Tensor y = run(h, p);
    Tensor ref = splat_attention_reference(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp);
    require_close(y, ref, 1e-4, 1e-5);
    REQUIRE(relative_error(y, ref) < 1e-5);
}

TEST_CASE("splat attention accepts any strides for q, k, v", "[splat]") {
    // v transposed in memory (inner stride T), q every other column, k contiguous.
    const int64_t B = 1, H = 2, T = 40, D = 6, K = 4;
    Tensor q = random_strided({B, H, T, D}, 3), k = random({B, H, T, D}, 4), v = random_transposed({B, H, T, D}, 5);
    SplatParams p = random_splats(H, K, D, 6);
    Tensor y = splat_attention(q, k, v, p.centres, p.log_scale, p.log_amp);
    Tensor y_contig = splat_attention(q.clone(), k, v.clone(), p.centres, p.log_scale, p.log_amp);
    require_close(y, y_contig, 0, 0);
    require_close(y, splat_attention_reference(q, k, v, p.centres, p.log_scale, p.log_amp), 1e-4, 1e-5);
}

TEST_CASE("splat attention results do not depend on the thread count", "[splat]") {
    QKV h = random_qkv(2, 3, 50, 8, 7);
    SplatParams p = random_splats(3, 5, 8, 8);
    Tensor g = random({2, 3, 50, 8}, 33);
    auto grads = [&] {  // y and the centres' gradient (summed over the batch after the parallel loop)
        p.centres.zero_grad();
        p.centres.set_requires_grad();
        Tensor y = run(h, p);
        backward(y, g);
        return std::vector<Tensor>{y.detach(), p.centres.grad()};
    };
    std::vector<Tensor> one = with_threads(1, grads), two = with_threads(2, grads);
    require_close(one[0], two[0], 0, 0);
    require_close(one[1], two[1], 0, 0);
}

TEST_CASE("splat attention never sees the future (op)", "[splat][causality]") {
    const int64_t B = 2, H = 2, T = 300, D = 8, K = 4;
    const int64_t t = GENERATE(0, 7, 20, 255, 256, 298);  // incl. the last position of a 256-token range and the first of the next
    SplatParams p = random_splats(H, K, D, 9);
    Tensor qkv = random({B, T, 3 * H * D}, 10);
    QKV h = split_heads(qkv, H);
    Tensor y = run(h, p);
    Tensor qkv2 = qkv.clone();
    for (int64_t u = t + 1; u < T; ++u)  // perturb q, k and v of row 1 after t, keys hugely (new running max)
        for (int64_t c = 0; c < 3 * H * D; ++c) qkv2.data()[(1 * T + u) * 3 * H * D + c] += (c >= H * D ? 30.f : 3.f);
    Tensor y2 = run(split_heads(qkv2, H), p);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t hh = 0; hh < H; ++hh)
            for (int64_t u = 0; u <= t; ++u)
                for (int64_t d = 0; d < D; ++d) REQUIRE(y2.at({b, hh, u, d}) == y.at({b, hh, u, d}));
    if (t + 1 < T) REQUIRE(y2.at({1, 0, t + 1, 0}) != y.at({1, 0, t + 1, 0}));
}

TEST_CASE("splat attention gradients (all six inputs)", "[splat][gradcheck]") {
    const int64_t B = 2, H = 2, T = 7, D = 3, K = 3;
    SplatParams p = random_splats(H, K, D, 11);
    Tensor q = random({B, H, T, D}, 12), k = random({B, H, T, D}, 13), v = random_transposed({B, H, T, D}, 14);
    require_gradcheck(
        [](const std::vector<Tensor>& in) {
            return splat_attention(in[0], in[1], in[2], in[3], in[4], in[5]);
        },
        {q, k, v, p.centres, p.log_scale, p.log_amp});
}

TEST_CASE("splat gradients at T = 300 match autograd through the dense composite", "[splat][gradcheck]") {
    // The same function built from differentiable ops with explicit T×T masks (what the fused op
    // must never do in production), so the 256-token range boundaries are checked at a size gradcheck cannot reach.
    // T crosses the 256-token range boundary; K = 19, D = 21 run two splat chunks and two column
    // blocks of the CPU backward, each ragged.
    const int64_t T = 300;
    const auto [K, D] = GENERATE(std::pair<int64_t, int64_t>{3, 4}, std::pair<int64_t, int64_t>{19, 21});
    SplatParams p = random_splats(1, K, D, 15);
    Tensor q = random({1, 1, T, D}, 16), k = random({1, 1, T, D}, 17), v = random({1, 1, T, D}, 18);
    std::vector<Tensor> in = {q, k, v, p.centres, p.log_scale, p.log_amp};
    for (Tensor& t : in) t.set_requires_grad();
    Tensor g = random({1, 1, T, D}, 19);
    backward(splat_attention(in[0], in[1], in[2], in[3], in[4], in[5]), g);
    std::vector<Tensor> fused;
    for (Tensor& t : in) fused.push_back(t.grad()), t.zero_grad();

    Tensor mu = reshape(in[3], {1, K, D});                                    // [1, K, D]
    Tensor c = exp(reshape(in[4], {K}) * -2.f) * 0.5f;                        // [K]
    auto aff = [&](const Tensor& x) {                                         // [T, K] without log a
        Tensor diff = reshape(x, {T, 1, D}) - mu;                             // [T, K, D]
        return -(sum(square(diff), -1) * c);
    };
    Tensor lq = aff(in[0]), lk = aff(in[1]) + reshape(in[5], {K});
    // A constant per-splat shift (the global max) keeps exp() in range; it cancels exactly.
    Tensor shift = raw::max(lk.detach(), 0, true);
    Tensor E = exp(lk - shift);                                               // [T, K]
    Tensor mask = Tensor::zeros({T, T});
    for (int64_t t = 0; t < T; ++t)
        for (int64_t u = 0; u <= t; ++u) mask.data()[t * T + u] = 1.f;
    Tensor Z = matmul(mask, E);                                               // [T, K]
    Tensor S = matmul(mask, reshape(transpose(E, 0, 1), {K, T, 1}) * reshape(in[2], {1, T, D}));  // [K, T, D]
    Tensor pi = softmax(lq + log(Z) + shift);                                 // [T, K]
    Tensor coef = transpose(pi / Z, 0, 1);                                    // [K, T]
    Tensor y = sum(reshape(coef, {K, T, 1}) * S, 0);                          // [T, D]
    backward(reshape(y, {1, 1, T, D}), g);
    for (size_t i = 0; i < in.size(); ++i) {
        INFO("input " << i);
        require_close(fused[i], in[i].grad(), 2e-3, 2e-5);
    }
}

TEST_CASE("splat attention: extreme inputs give finite outputs and gradients", "[splat][numerics]") {
    struct Case {
        const char* name;
        int64_t T, K;
        float key_scale, splat_scale;  // splat_scale 0: the default random scales
    };
    const Case c = GENERATE(Case{"keys x100", 40, 4, 100.f, 0.f}, Case{"tiny scales 1e-3", 40, 4, 1.f, 1e-3f},
                            Case{"huge scales 1e3", 40, 4, 1.f, 1e3f}, Case{"k = 1", 40, 1, 1.f, 0.f},
                            Case{"n = 1", 1, 4, 1.f, 0.f}, Case{"keys x100, tiny scales", 40, 4, 100.f, 1e-3f});
    CAPTURE(c.name);
    const int64_t B = 1, H = 2, D = 8;
    SplatParams p = random_splats(H, c.K, D, 20);
    if (c.splat_scale > 0)
        for (int64_t i = 0; i < H * c.K; ++i) p.log_scale.data()[i] = std::log(c.splat_scale);
    Tensor q = random({B, H, c.T, D}, 21), k = random({B, H, c.T, D}, 22, c.key_scale), v = random({B, H, c.T, D}, 23);
    std::vector<Tensor> in = {q, k, v, p.centres, p.log_scale, p.log_amp};
    for (Tensor& t : in) t.set_requires_grad();
    Tensor y = splat_attention(in[0], in[1], in[2], in[3], in[4], in[5]);
    require_finite(y);
    backward(y, random({B, H, c.T, D}, 24));
    for (Tensor& t : in) require_finite(t.grad());
    // Each output is a sub-convex mixture of past values: inside their per-coordinate range.
    for (int64_t h = 0; h < H; ++h)
        for (int64_t t = 0; t < c.T; ++t)
            for (int64_t d = 0; d < D; ++d) {
                float lo = 0.f, hi = 0.f;  // 0 is in range too: the weights may sum to slightly less than 1
                for (int64_t u = 0; u <= t; ++u)
                    lo = std::min(lo, v.at({0, h, u, d})), hi = std::max(hi, v.at({0, h, u, d}));
                REQUIRE(y.at({0, h, t, d}) >= lo - 1e-5f);
                REQUIRE(y.at({0, h, t, d}) <= hi + 1e-5f);
            }
    if (c.splat_scale == 1e3f) {  // every affinity ≈ log a: each token averages all values so far
        for (int64_t t = 0; t < c.T; ++t)
            for (int64_t d = 0; d < D; ++d) {
                double mean = 0;
                for (int64_t u = 0; u <= t; ++u) mean += v.at({0, 0, u, d});
                REQUIRE(std::abs(y.at({0, 0, t, d}) - mean / (t + 1)) < 1e-4);
            }
    }
}

TEST_CASE("implied splat weights are causal, non-negative, rows sum <= 1", "[splat]") {
    const int64_t T = 30, D = 5, K = 3;
    QKV h = random_qkv(1, 2, T, D, 25);
    SplatParams p = random_splats(2, K, D, 26);
    Tensor w = splat_weights_reference(h.q, h.k, p.centres, p.log_scale, p.log_amp, 0, 1);
    for (int64_t t = 0; t < T; ++t) {
        double row = 0;
        for (int64_t u = 0; u < T; ++u) {
            const float x = w.at({t, u});
            if (u > t) REQUIRE(x == 0.f);
            REQUIRE(x >= 0.f);
            row += x;
        }
        REQUIRE(row <= 1.0 + 1e-6);  // exactly 1/(1 + ε/Σ) ≤ 1 in float64; 1e-6 covers the float copy
        REQUIRE(row > 1.0 - 1e-5);   // ε is relative: it never swallows the mass
    }
    // The fused op's output is Σ_u w[t,u]·v_u (row by row, head 1).
    Tensor y = run(h, p);
    for (int64_t t = 0; t < T; t += 7)
        for (int64_t d = 0; d < D; ++d) {
            double acc = 0;
            for (int64_t u = 0; u <= t; ++u) acc += double(w.at({t, u})) * h.v.at({0, 1, u, d});
            REQUIRE(std::abs(y.at({0, 1, t, d}) - acc) < 1e-5);
        }
}

TEST_CASE("splat step() token by token equals forward()", "[splat][recurrent]") {
    register_splat_attentions();
    GPTConfig config{.vocab = 10, .context = 30, .layers = 1, .heads = 2, .width = 12, .attention = "splat", .splats = 5};
    Rng rng(27);
    SplatAttention attn(config, 0, rng);
    spread_parameters(attn.parameters(), 28, 0.4f);  // so the splats disagree (at init all affinities are close)
    Tensor x = random({3, 30, 12}, 29);
    Tensor parallel = attn.forward(x);
    NoGradGuard no_grad;
    std::unique_ptr<AttentionCache> cache = attn.new_cache(3, 30);
    for (int64_t t = 0; t < 30; ++t) {
        Tensor y_t = attn.step(raw::contiguous(raw::select(x, 1, t)), *cache);
        require_close(y_t, raw::select(parallel, 1, t), 1e-4, 1e-5);
    }
    REQUIRE_THROWS_WITH(attn.step(raw::contiguous(raw::select(x, 1, 0)), *cache), Catch::Contains("full"));
}


TEST_CASE("splat attention rejects bad shapes", "[splat][errors]") {
    QKV h = random_qkv(1, 2, 5, 4, 31);
    SplatParams p = random_splats(2, 3, 4, 32);
    REQUIRE_THROWS_WITH(splat_attention(h.q, h.k, h.v, random({3, 3, 4}, 1), p.log_scale, p.log_amp),
                        Catch::Contains("centres"));
    REQUIRE_THROWS_WITH(splat_attention(h.q, h.k, h.v, p.centres, random({2, 4}, 1), p.log_amp),
                        Catch::Contains("log_scale"));
    SplatState state(1, 2, 3, 5);
    REQUIRE_THROWS_WITH(splat_step(raw::select(h.q, 2, 0), raw::select(h.k, 2, 0), raw::select(h.v, 2, 0), p.centres,
                                   p.log_scale, p.log_amp, state),
                        Catch::Contains("state"));
}

TEST_CASE("the number of splats comes from GPTConfig::splats", "[splat]") {
    register_splat_attentions();
    GPTConfig config{.vocab = 10, .context = 8, .layers = 1, .heads = 2, .width = 8, .attention = "splat", .splats = 5};
    Rng rng(1);
    std::unique_ptr<Attention> attn = make_attention(config, 0, rng);
    REQUIRE(dynamic_cast<SplatAttention&>(*attn).splats() == 5);
    REQUIRE(dynamic_cast<SplatAttention&>(*attn).centres.shape() == Shape{2, 5, 4});
    // The whole-model tests (causality, steps, gradients) run for splat in tests/test_gpt.cpp.
    NamedTensors named = GPT(config, 1).named_parameters();
    REQUIRE(std::count_if(named.begin(), named.end(), [](auto& p) { return p.first == "blocks.0.attn.centres"; }) == 1);
    config.splats = 0;
    REQUIRE_THROWS_WITH(GPT(config, 1), Catch::Contains("splats must be positive"));
}
