// Sparse top-p routing of the splat op (SplatOptions::top): each token writes to its p splats of
// largest lk and reads from its p splats of largest lq. The fused op against the float64 reference
// (which masks directly), top = K against the dense op, gradients, thread-count independence,
// causality, the recurrent step, splats nobody wrote to, ties and bad values.
// Run: ./bin/tests "[splat][top]"
#include <algorithm>
#include <cmath>

#include "splat/splat_op.h"
#include "tests/helpers.h"
#include "tests/splat_helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {

Tensor reference(const QKV& h, const SplatParams& p, const SplatOptions& o) {
    return splat_attention_reference(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, o);
}

// The smallest gap, over every token, head and side (lk and lq, in float64), between the top-th and
// the next largest affinity. A finite-difference step moves an affinity by about h·|∂l/∂input|; when
// that stays well below the margin, no perturbation changes which splats are picked.
double selection_margin(const Tensor& q, const Tensor& k, const SplatParams& p, const SplatOptions& o) {
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), K = p.centres.size(1);
    double margin = INFINITY;
    std::vector<double> l(K);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t t = 0; t < T; ++t)
                for (bool key : {false, true}) {
                    for (int64_t j = 0; j < K; ++j) {
                        double d2 = 0;
                        for (int64_t d = 0; d < D; ++d) {
                            const double x = (key ? k : q).at({b, h, t, d}) - p.centres.at({h, j, d});
                            d2 += x * x;
                        }
                        double bias = 0;
                        if (key) bias = p.log_amp.at({h, j}) + (o.send_bias.defined() ? o.send_bias.at({b, h, t, j}) : 0.f);
                        else if (o.read_bias.defined()) bias = o.read_bias.at({h, j});
                        l[j] = bias - 0.5 * std::exp(-2.0 * p.log_scale.at({h, j})) * d2;
                    }
                    std::sort(l.begin(), l.end(), std::greater<>());
                    margin = std::min(margin, l[o.top - 1] - l[o.top]);
                }
    return margin;
}

float max_abs(const Tensor& t) {
    float m = 0.f;
    for (float x : t.to_vector()) m = std::max(m, std::abs(x));
    return m;
}

}  // namespace

TEST_CASE("splat top-p: the fused op equals the O(T^2) reference", "[splat][top]") {
    struct Case {
        int64_t B, H, T, D, K, top;
        Which w;
    };
    const Case c = GENERATE(Case{1, 1, 1, 4, 1, 1, {false, false, false}},   // n = 1, k = 1
                            Case{2, 2, 45, 7, 6, 1, {false, false, false}},   // top = 1: many splats stay empty
                            Case{2, 3, 70, 8, 16, 4, {true, false, false}},   // decay
                            Case{1, 2, 33, 5, 5, 2, {false, true, false}},    // send bias
                            Case{1, 2, 50, 6, 7, 3, {false, false, true}},    // read bias
                            Case{2, 2, 100, 16, 16, 3, {true, true, true}},   // all options
                            Case{1, 2, 600, 40, 8, 2, {true, true, true}},    // three 256-token ranges, ragged columns
                            Case{1, 2, 600, 40, 6, 6, {false, false, false}}, // top = K
                            Case{1, 1, 300, 20, 64, 8, {true, false, true}},  // many splats, few picked
                            Case{1, 1, 200, 8, 100, 7, {false, true, false}}); // K > 64: two selection masks
    CAPTURE(c.B, c.H, c.T, c.D, c.K, c.top, c.w.decay, c.w.send, c.w.read);
    QKV h = random_qkv(c.B, c.H, c.T, c.D, 1);
    SplatParams p = random_splats(c.H, c.K, c.D, 2);
    SplatOptions o = random_options(c.w, c.B, c.H, c.T, c.K, 3, c.top);
    Tensor y = run_splat(h, p, o);
    require_finite(y);
    Tensor ref = reference(h, p, o);
    require_close(y, ref, 1e-4, 1e-5);
    REQUIRE(relative_error(y, ref) < 1e-5);
    // and routing changes the result (a single token is v_0 whatever the weights; top = K is dense)
    SplatOptions dense = o;
    dense.top = 0;
    if (c.T > 1 && c.top < c.K) REQUIRE(relative_error(y, run_splat(h, p, dense)) > 1e-3);
}

TEST_CASE("splat top-p: top = K is the dense op, outputs and gradients", "[splat][top]") {
    const int64_t B = 2, H = 2, T = 300, D = 20, K = 5;
    const bool decay = GENERATE(false, true);
    SplatParams p = random_splats(H, K, D, 4);
    SplatOptions o = random_options({decay, true, true}, B, H, T, K, 5, K);
    Tensor g = random({B, H, T, D}, 6);
    auto grads = [&](int64_t top) {
        std::vector<Tensor> in{random({B, H, T, D}, 7), random({B, H, T, D}, 8), random({B, H, T, D}, 9),
                               p.centres.clone(), p.log_scale.clone(), p.log_amp.clone(), o.send_bias.clone(),
                               o.read_bias.clone()};
        for (Tensor& t : in) t.set_requires_grad();
        SplatOptions ot{decay ? o.log_decay.clone() : Tensor(), in[6], in[7], top};
        if (decay) ot.log_decay.set_requires_grad(), in.push_back(ot.log_decay);
        Tensor y = splat_attention(in[0], in[1], in[2], in[3], in[4], in[5], ot);
        backward(y, g);
        std::vector<Tensor> out{y.detach()};
        for (Tensor& t : in) out.push_back(t.grad());
        return out;
    };
    std::vector<Tensor> sparse = grads(K), dense = grads(0);
    require_close(sparse[0], dense[0], 1e-6, 1e-6);
    // The routed reverse sweep rounds Ŝ ← α·Ŝ + coef·dy in two steps; the decay gradient, a centred sum
    // Σ_t (t − t̄)(dlk − dlq) over 300 tokens that cancels to ~1e-3 of its terms, magnifies that to ~1e-4.
    for (size_t i = 1; i < sparse.size(); ++i) {
        CAPTURE(i);
        const bool decay_gradient = i == 9;
        require_close(sparse[i], dense[i], decay_gradient ? 2e-3 : 1e-4, decay_gradient ? 1e-4 : 1e-5);
    }
}

TEST_CASE("splat top-p: gradients of all inputs", "[splat][top][gradcheck]") {
    // Amplitudes and biases spread wide (log a ~ N(0, 2²), biases ~ N(0, 2²)) so the picked splats are
    // well clear of the rest — a finite-difference step of 1e-2 moves an affinity by ~1e-2 — and the
    // seeds chosen for a margin of 0.3, checked here before the finite differences rely on it.
    const int64_t B = 1, H = 2, T = 6, D = 3, K = 5;
    const int64_t top = GENERATE(1, 2);
    SplatParams p = random_splats(H, K, D, 381);
    for (int64_t i = 0; i < H * K; ++i) p.log_amp.data()[i] *= 4.f;
    SplatOptions o = random_options({true, false, false}, B, H, T, K, 382, top);
    o.send_bias = random({B, H, T, K}, 383, 2.f);
    o.read_bias = random({H, K}, 384, 2.f);
    Tensor q = random({B, H, T, D}, 385), k = random({B, H, T, D}, 386), v = random_transposed({B, H, T, D}, 387);
    const double margin = selection_margin(q, k, p, o);
    CAPTURE(top, margin);
    REQUIRE(margin > 0.2);
    require_gradcheck(
        [top](const std::vector<Tensor>& in) {
            return splat_attention(in[0], in[1], in[2], in[3], in[4], in[5], SplatOptions{in[6], in[7], in[8], top});
        },
        {q, k, v, p.centres, p.log_scale, p.log_amp, o.log_decay, o.send_bias, o.read_bias});
}

TEST_CASE("splat top-p: decay gradient over 256-token ranges matches finite differences", "[splat][top]") {
    // As for the dense op (test_splat_options.cpp): the selection does not depend on the decay, so
    // the reference is smooth in it.
    const int64_t B = 1, H = 1, T = 300, D = 4, K = 6;
    QKV h = random_qkv(B, H, T, D, 17);
    SplatParams p = random_splats(H, K, D, 18);
    SplatOptions o = random_options({true, true, true}, B, H, T, K, 19, 2);
    Tensor g = random({B, H, T, D}, 20);
    require_decay_gradient(h, p, o, g);
}

TEST_CASE("splat top-p: outputs and gradients are bitwise the same on 1 and 2 threads", "[splat][top]") {
    const int64_t B = 1, H = 1, T = 600, D = 40, K = 12;  // one head: the column blocks and ranges are the tasks
    SplatParams p = random_splats(H, K, D, 31);
    SplatOptions o = random_options({true, true, true}, B, H, T, K, 32, 3);
    Tensor g = random({B, H, T, D}, 33);
    auto grads = [&] {
        std::vector<Tensor> in{random({B, H, T, D}, 34), random({B, H, T, D}, 35), random({B, H, T, D}, 36),
                               p.centres.clone(), o.log_decay.clone(), o.send_bias.clone()};
        for (Tensor& t : in) t.set_requires_grad();
        Tensor y = splat_attention(in[0], in[1], in[2], in[3], p.log_scale, p.log_amp,
                                   SplatOptions{in[4], in[5], o.read_bias, o.top});
        backward(y, g);
        std::vector<Tensor> out{y.detach()};
        for (Tensor& t : in) out.push_back(t.grad());
        return out;
    };
    std::vector<Tensor> one = with_threads(1, grads), two = with_threads(2, grads);
    for (size_t i = 0; i < one.size(); ++i) {
        CAPTURE(i);
        require_close(one[i], two[i], 0, 0);
    }
}

TEST_CASE("splat top-p never lets a token see the future", "[splat][top][causality]") {
    require_splat_causal(6, 2, GENERATE(0, 20, 255, 256, 298));
}

TEST_CASE("splat top-p: splat_step token by token equals the parallel op", "[splat][top][recurrent]") {
    const int64_t B = 2, H = 3, T = 40, D = 20, K = 7;  // D = 16 + 4: a full and a ragged column block
    const int64_t top = GENERATE(1, 3);
    const bool decay = GENERATE(false, true);
    CAPTURE(top, decay);
    QKV h = random_qkv(B, H, T, D, 24);
    SplatParams p = random_splats(H, K, D, 25);
    require_step_equals_parallel(h, p, random_options({decay, true, true}, B, H, T, K, 26, top));
}

TEST_CASE("splat top-p: reading only splats nobody wrote to gives 0, finite gradients", "[splat][top][numerics]") {
    // top = 1 and a splat 0 of amplitude e^{10}: every token writes into splat 0 only. With a read
    // bias of +10 on splat `read`, every token reads that splat only: splat 1 is always empty (y = 0,
    // no gradient through the op), splat 0 holds the e^{lk}-weighted running mean of v.
    const int64_t B = 2, H = 2, T = 30, D = 6, K = 12;
    const int64_t read = GENERATE(0, 1);
    const bool decay = GENERATE(false, true);
    CAPTURE(read, decay);
    SplatParams p = random_splats(H, K, D, 51);
    SplatOptions o = random_options({decay, false, false}, B, H, T, K, 52, 1);
    o.read_bias = Tensor::zeros({H, K});
    for (int64_t hh = 0; hh < H; ++hh) p.log_amp.data()[hh * K] = 10.f, o.read_bias.data()[hh * K + read] = 10.f;
    QKV h{random({B, H, T, D}, 53), random({B, H, T, D}, 54), random({B, H, T, D}, 55)};
    std::vector<Tensor> in{h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, o.read_bias};
    if (decay) in.push_back(o.log_decay);
    for (Tensor& t : in) t.set_requires_grad();
    Tensor y = splat_attention(h.q, h.k, h.v, p.centres, p.log_scale, p.log_amp, o);
    require_finite(y);
    require_close(y, reference(h, p, o), 1e-4, 1e-5);
    backward(y, random({B, H, T, D}, 56));
    for (Tensor& t : in) require_finite(t.grad());
    if (read == 1) {
        for (float x : y.to_vector()) REQUIRE(x == 0.f);
        for (int i : {0, 1, 2}) REQUIRE(max_abs(in[i].grad()) == 0.f);  // q, k, v
    } else {
        REQUIRE(max_abs(y) > 0.1f);
        REQUIRE(max_abs(in[2].grad()) > 0.f);
    }
    // a single splat picked per token with most splats empty, random parameters: finite and as the reference
    SplatParams p2 = random_splats(H, K, D, 57);
    SplatOptions o2 = random_options({decay, true, true}, B, H, T, K, 58, 1);
    std::vector<Tensor> in2{h.q, h.k, h.v, p2.centres, p2.log_scale, p2.log_amp};
    for (Tensor& t : in2) t.zero_grad(), t.set_requires_grad();
    Tensor y2 = run_splat(h, p2, o2);
    require_close(y2, reference(h, p2, o2), 1e-4, 1e-5);
    backward(y2, random({B, H, T, D}, 59));
    for (Tensor& t : in2) require_finite(t.grad());
}

TEST_CASE("splat top-p: ties go to the lower splat index", "[splat][top]") {
    // Splats 1 and 2 identical: every affinity ties between them, so with top = 1 splat 2 is never
    // picked where splat 1 would be, and the op equals one where splat 2 is moved out of reach.
    const int64_t B = 1, H = 1, T = 50, D = 4, K = 4;
    SplatParams p = random_splats(H, K, D, 61);
    for (int64_t d = 0; d < D; ++d) p.centres.data()[2 * D + d] = p.centres.data()[1 * D + d];
    p.log_scale.data()[2] = p.log_scale.data()[1];
    p.log_amp.data()[2] = p.log_amp.data()[1];
    QKV h = random_qkv(B, H, T, D, 62);
    SplatOptions o;
    o.top = 1;
    Tensor y = run_splat(h, p, o);
    require_close(y, reference(h, p, o), 1e-4, 1e-5);
    SplatParams far = p;
    far.log_amp = p.log_amp.clone();
    far.centres = p.centres.clone();
    for (int64_t d = 0; d < D; ++d) far.centres.data()[2 * D + d] = 1e3f;  // never the largest lk or lq
    Tensor y_far = run_splat(h, far, o);
    for (int64_t i = 0; i < y.numel(); ++i) REQUIRE(y.data()[i] == y_far.data()[i]);
}

TEST_CASE("splat top-p: top outside [0, K] is rejected with its name", "[splat][top][errors]") {
    QKV h = random_qkv(1, 2, 5, 4, 71);
    SplatParams p = random_splats(2, 3, 4, 72);
    for (int64_t top : {int64_t(-1), int64_t(4)}) {
        CAPTURE(top);
        SplatOptions o;
        o.top = top;
        REQUIRE_THROWS_WITH(run_splat(h, p, o), Catch::Contains("top"));
        REQUIRE_THROWS_WITH(reference(h, p, o), Catch::Contains("top"));
        SplatState state(1, 2, 3, 4);
        REQUIRE_THROWS_WITH(splat_step(raw::select(h.q, 2, 0), raw::select(h.k, 2, 0), raw::select(h.v, 2, 0),
                                       p.centres, p.log_scale, p.log_amp, state, o),
                            Catch::Contains("top"));
    }
}
