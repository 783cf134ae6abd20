// Non-causal splat attention (bidirectional and cross) and the SplatCrossAttention module: against the
// float64 reference, against the causal op's last row, finite differences, key-order invariance,
// Tq ≠ Tk, extreme inputs, errors.
#include <numeric>

#include "splat/splat_cross_attention.h"
#include "splat/splat_global.h"
#include "splat/splat_op.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
struct Splats {
    Tensor centres, log_scale, log_amp;
};
Splats random_splats(int64_t H, int64_t K, int64_t D, uint64_t seed) {
    return {random({H, K, D}, seed, 0.5f), random({H, K}, seed + 1, 0.3f), random({H, K}, seed + 2, 0.5f)};
}
Tensor global(const Tensor& q, const Tensor& k, const Tensor& v, const Splats& s) {
    return splat_attention_global(q, k, v, s.centres, s.log_scale, s.log_amp);
}
// x with its axis-2 entries reordered by `order`.
Tensor reorder(const Tensor& x, const std::vector<int64_t>& order) {
    Tensor out = x.clone();
    const int64_t B = x.size(0), H = x.size(1), T = x.size(2), D = x.size(3);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t t = 0; t < T; ++t)
                for (int64_t d = 0; d < D; ++d) out.data()[((b * H + h) * T + t) * D + d] = x.at({b, h, order[t], d});
    return out;
}
}  // namespace

TEST_CASE("global splat attention equals the float64 reference", "[splat_global]") {
    struct Case {
        int64_t B, H, Tq, Tk, D, K;
    };
    const Case c = GENERATE(Case{1, 1, 1, 1, 4, 1}, Case{2, 3, 33, 33, 8, 5}, Case{1, 2, 5, 17, 6, 16},
                            Case{2, 1, 40, 3, 3, 2});
    Tensor q = random_transposed({c.B, c.H, c.Tq, c.D}, 1), k = random_strided({c.B, c.H, c.Tk, c.D}, 2),
           v = random({c.B, c.H, c.Tk, c.D}, 3);
    Splats s = random_splats(c.H, c.K, c.D, 4);
    Tensor y = global(q, k, v, s);
    REQUIRE(y.shape() == Shape({c.B, c.H, c.Tq, c.D}));
    require_close(y, splat_attention_global_reference(q, k, v, s.centres, s.log_scale, s.log_amp), 1e-4, 1e-5);
}

TEST_CASE("bidirectional splat attention: every row is the causal op's last row", "[splat_global]") {
    const int64_t B = 2, H = 2, T = 50, D = 8, K = 6;
    Tensor q = random({B, H, T, D}, 10), k = random({B, H, T, D}, 11), v = random({B, H, T, D}, 12);
    Splats s = random_splats(H, K, D, 13);
    Tensor y = global(q, k, v, s);
    Tensor causal = splat_attention(q, k, v, s.centres, s.log_scale, s.log_amp);
    // The causal op's ε = 1e-6 is relative (docs/SPLAT.md §1): its rows carry ≤ 1e-6 less mass.
    require_close(raw::select(y, 2, T - 1), raw::select(causal, 2, T - 1), 1e-5, 1e-5);
    // Any query row t reads all T keys: the causal op's last row with q_t in place of q_{T−1}.
    Tensor q_last = q.clone();
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t d = 0; d < D; ++d) q_last.data()[((b * H + h) * T + T - 1) * D + d] = q.at({b, h, 7, d});
    Tensor causal7 = splat_attention(q_last, k, v, s.centres, s.log_scale, s.log_amp);
    require_close(raw::select(y, 2, 7), raw::select(causal7, 2, T - 1), 1e-5, 1e-5);
}

TEST_CASE("global splat attention ignores the order of the keys and values", "[splat_global]") {
    const int64_t T = 23;
    Tensor q = random({2, 2, T, 5}, 20), k = random({2, 2, T, 5}, 21), v = random({2, 2, T, 5}, 22);
    Splats s = random_splats(2, 4, 5, 23);
    std::vector<int64_t> order(T);
    std::iota(order.begin(), order.end(), 0);
    Rng rng(24);
    for (int64_t i = T - 1; i > 0; --i) std::swap(order[i], order[rng.next_u64() % (i + 1)]);
    REQUIRE(order != std::vector<int64_t>{});
    require_close(global(q, reorder(k, order), reorder(v, order), s), global(q, k, v, s), 1e-5, 1e-6);
    // ...while reordering only the values does change it.
    REQUIRE(global(q, k, reorder(v, order), s).at({0, 0, 0, 0}) != global(q, k, v, s).at({0, 0, 0, 0}));
}

TEST_CASE("global splat attention gradients, bidirectional and cross", "[splat_global][gradcheck]") {
    const int64_t Tq = GENERATE(6, 3), Tk = 6;
    Tensor q = random({1, 2, Tq, 3}, 30), k = random_transposed({1, 2, Tk, 3}, 31), v = random({1, 2, Tk, 3}, 32);
    Splats s = random_splats(2, 3, 3, 33);
    require_gradcheck([](const std::vector<Tensor>& x) { return splat_attention_global(x[0], x[1], x[2], x[3], x[4], x[5]); },
                      {q, k, v, s.centres, s.log_scale, s.log_amp});
}

TEST_CASE("global splat attention: extreme inputs stay finite", "[splat_global]") {
    const float key_scale = GENERATE(1.f, 100.f);
    const float scale = GENERATE(1e-3f, 1.f, 1e3f);
    const int64_t K = GENERATE(1, 4);
    INFO("keys x" << key_scale << ", scale " << scale << ", K " << K);
    Tensor q = random({1, 2, 9, 4}, 40, key_scale), k = random({1, 2, 7, 4}, 41, key_scale), v = random({1, 2, 7, 4}, 42);
    Tensor centres = random({2, K, 4}, 43), log_scale = Tensor::full({2, K}, std::log(scale)),
           log_amp = random({2, K}, 44);
    for (Tensor* t : {&q, &k, &v, &centres, &log_scale, &log_amp}) t->set_requires_grad();
    Tensor y = splat_attention_global(q, k, v, centres, log_scale, log_amp);
    backward(sum(y * random(y.shape(), 45)));
    for (const Tensor& t : {y, q.grad(), k.grad(), v.grad(), centres.grad(), log_scale.grad(), log_amp.grad()})
        for (float x : t.to_vector()) REQUIRE(std::isfinite(x));
    // Every output is a convex mixture of the values: inside their range, per column.
    for (int64_t d = 0; d < 4; ++d) {
        float lo = INFINITY, hi = -INFINITY;
        for (int64_t h = 0; h < 2; ++h)
            for (int64_t u = 0; u < 7; ++u) lo = std::min(lo, v.at({0, h, u, d})), hi = std::max(hi, v.at({0, h, u, d}));
        for (int64_t h = 0; h < 2; ++h)
            for (int64_t t = 0; t < 9; ++t) {
                REQUIRE(y.at({0, h, t, d}) >= lo - 1e-4f);
                REQUIRE(y.at({0, h, t, d}) <= hi + 1e-4f);
            }
    }
}

TEST_CASE("global splat attention: mismatched shapes are one-line errors", "[splat_global][errors]") {
    Tensor q = random({1, 2, 4, 3}, 1), k = random({1, 2, 5, 3}, 2);
    Splats s = random_splats(2, 3, 3, 3);
    REQUIRE_THROWS_WITH(global(q, k, random({1, 2, 4, 3}, 4), s), Catch::Contains("k and v [B, H, Tk, D]"));
    REQUIRE_THROWS_WITH(global(random({1, 2, 4, 5}, 5), k, k, s), Catch::Contains("shapes do not agree"));
    REQUIRE_THROWS_WITH(splat_attention_global(q, k, k, s.centres, random({2, 4}, 6), s.log_amp),
                        Catch::Contains("log_scale [2, 4]"));
}

TEST_CASE("SplatCrossAttention: queries read a context of another length", "[splat_global][cross]") {
    Rng rng(50);
    SplatCrossAttention cross(8, 6, 2, 3, rng);
    spread_parameters(cross.parameters(), 51);
    Tensor x = random({2, 5, 8}, 52), context = random({2, 11, 6}, 53);
    Tensor y = cross.forward(x, context);
    REQUIRE(y.shape() == Shape({2, 5, 8}));
    // The same thing written out: per-head projections, the global op, the output projection.
    Tensor qh = permute(reshape(cross.q.forward(x), {2, 5, 2, 4}), {0, 2, 1, 3});
    Tensor kv = reshape(cross.kv.forward(context), {2, 11, 2, 2, 4});
    Tensor kh = permute(select(kv, 2, 0), {0, 2, 1, 3}), vh = permute(select(kv, 2, 1), {0, 2, 1, 3});
    Tensor yh = splat_attention_global_reference(qh, kh, vh, cross.centres, cross.log_scale, cross.log_amp);
    require_close(y, cross.proj.forward(reshape(permute(yh, {0, 2, 1, 3}), {2, 5, 8})), 1e-4, 1e-5);
    // Context order does not matter; each query row depends only on itself and the context.
    Tensor shuffled = context.clone();
    for (int64_t t = 0; t < 11; ++t)
        for (int64_t c = 0; c < 6; ++c) shuffled.data()[(1 * 11 + t) * 6 + c] = context.at({1, 10 - t, c});
    require_close(raw::select(cross.forward(x, shuffled), 0, 1), raw::select(y, 0, 1), 1e-5, 1e-6);
    REQUIRE_THROWS_WITH(cross.forward(x, random({2, 11, 8}, 54)), Catch::Contains("context [B, Tk, 6]"));
    REQUIRE_THROWS_WITH(SplatCrossAttention(9, 6, 2, 3, rng), Catch::Contains("divisible by heads"));
}

TEST_CASE("SplatCrossAttention: gradients of every parameter, x and the context", "[splat_global][cross][gradcheck]") {
    Rng rng(60);
    SplatCrossAttention cross(4, 3, 2, 2, rng);
    spread_parameters(cross.parameters(), 61);
    std::vector<Tensor> inputs = cross.parameters();
    inputs.push_back(random({1, 3, 4}, 62));
    inputs.push_back(random({1, 5, 3}, 63));
    require_gradcheck([&](const std::vector<Tensor>& in) { return cross.forward(in[in.size() - 2], in.back()); },
                      inputs, {.eps = 1e-2, .atol = 1e-3, .rtol = 3e-2});
}
