// splat_helpers.h — random splat parameters and inputs shared by the splat op tests.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/graph.h"
#include "nn/projected_attention.h"
#include "splat/splat_op.h"
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

// The op on q, k, v with the splats p and options o.
inline Tensor run_splat(const QKV& h, const SplatParams& p, const SplatOptions& o = {}) {
    return splat_attention(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, o);
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

// Which splat options a test turns on.
struct Which {
    bool decay, send, read, token = false;
};

// Random options for B, H, T, K: decay rates between e^{-4} and e^{-1} per token (half-lives of
// about 2 to 40 tokens, so they matter within a test's length), biases N(0, 0.7²), token decays
// |N(0, 0.3²)| (from none to ~1 per token: some tokens all but wipe a splat), routing `top`.
inline SplatOptions random_options(Which w, int64_t B, int64_t H, int64_t T, int64_t K, uint64_t seed,
                                   int64_t top = 0) {
    SplatOptions o;
    if (w.decay) {
        o.log_decay = random({H, K}, seed, 0.8f);
        for (int64_t i = 0; i < H * K; ++i) o.log_decay.data()[i] -= 2.5f;
    }
    if (w.send) o.send_bias = random({B, H, T, K}, seed + 1, 0.7f);
    if (w.read) o.read_bias = random({H, K}, seed + 2, 0.7f);
    if (w.token) {
        o.token_decay = random({B, H, T, K}, seed + 3, 0.3f);
        for (int64_t i = 0; i < o.token_decay.numel(); ++i) o.token_decay.data()[i] = std::abs(o.token_decay.data()[i]);
    }
    o.top = top;
    return o;
}

// d(Σ y·g)/d(log_decay) of the fused op against central differences of the float64 reference, one
// splat of head 0 at a time: gradcheck of every element is too slow at the T where the centred sum
// Σ (t − t̄)(dlk − dlq) has the most room for cancellation. `o` must include log_decay.
inline void require_decay_gradient(const QKV& h, const SplatParams& p, SplatOptions o, const Tensor& g) {
    o.log_decay = o.log_decay.detach().clone();
    o.log_decay.set_requires_grad();
    backward(splat_attention(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, o), g);
    for (int64_t j = 0; j < o.log_decay.size(1); ++j) {
        auto loss = [&](float delta) {
            SplatOptions moved = o;
            moved.log_decay = o.log_decay.detach().clone();
            moved.log_decay.data()[j] += delta;
            Tensor y = splat_attention_reference(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, moved);
            double acc = 0;
            for (int64_t i = 0; i < y.numel(); ++i) acc += double(y.data()[i]) * g.data()[i];
            return acc;
        };
        const double numeric = (loss(1e-2f) - loss(-1e-2f)) / 2e-2;
        CAPTURE(j, numeric, o.log_decay.grad().at({0, j}));
        REQUIRE(std::abs(o.log_decay.grad().at({0, j}) - numeric) < 2e-3 + 1e-2 * std::abs(numeric));
    }
}

// Causality of the op with every option and routing `top` (T = 300: two 256-token ranges): perturb
// q, k, v, the send bias and the token decay of batch row 1 after position t (the bias unevenly across splats, so
// routes change too); every output at positions ≤ t stays bitwise the same, and (so the test can
// fail) row 1's output at t + 1 moves.
inline void require_splat_causal(int64_t K, int64_t top, int64_t t) {
    const int64_t B = 2, H = 2, T = 300, D = 8;
    const SplatParams p = random_splats(H, K, D, 21);
    const SplatOptions o = random_options({true, true, true, true}, B, H, T, K, 22, top);
    const Tensor qkv = random({B, T, 3 * H * D}, 23);
    Tensor qkv2 = qkv.clone();
    SplatOptions o2 = o;
    o2.send_bias = o.send_bias.clone();
    o2.token_decay = o.token_decay.clone();
    for (int64_t u = t + 1; u < T; ++u) {
        for (int64_t c = 0; c < 3 * H * D; ++c) qkv2.data()[(1 * T + u) * 3 * H * D + c] += (c >= H * D ? 30.f : 3.f);
        for (int64_t hh = 0; hh < H; ++hh)
            for (int64_t j = 0; j < K; ++j) {
                o2.send_bias.data()[((1 * H + hh) * T + u) * K + j] += 5.f * (j % 2);
                o2.token_decay.data()[((1 * H + hh) * T + u) * K + j] += 2.f * (j % 3);
            }
    }
    auto run = [&](const Tensor& x, const SplatOptions& opt) {
        const QKV h = split_heads(x, H);
        return splat_attention(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, opt);
    };
    const Tensor y = run(qkv, o), y2 = run(qkv2, o2);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t hh = 0; hh < H; ++hh)
            for (int64_t u = 0; u <= t; ++u)
                for (int64_t d = 0; d < D; ++d) REQUIRE(y2.at({b, hh, u, d}) == y.at({b, hh, u, d}));
    if (t + 1 < T) REQUIRE(y2.at({1, 0, t + 1, 0}) != y.at({1, 0, t + 1, 0}));
}

// splat_step token by token from an empty state equals the parallel op, with options `o`.
inline void require_step_equals_parallel(const QKV& h, const SplatParams& p, const SplatOptions& o) {
    const int64_t B = h.q.size(0), H = h.q.size(1), T = h.q.size(2), D = h.q.size(3), K = p.centres.size(1);
    const Tensor parallel = splat_attention(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, o);
    SplatState state(B, H, K, D);
    for (int64_t t = 0; t < T; ++t) {
        SplatOptions ot = o;
        for (Tensor* x : {&ot.send_bias, &ot.token_decay})
            if (x->defined()) *x = raw::select(*x, 2, t);
        const Tensor y_t = splat_step(raw::select(h.q, 2, t), raw::select(h.k, 2, t), raw::select(h.v, 2, t),
                                      p.centres, p.log_scale, p.log_amp, state, ot);
        require_close(y_t, raw::select(parallel, 2, t), 1e-4, 1e-5);
    }
}

}  // namespace splatlm::test
