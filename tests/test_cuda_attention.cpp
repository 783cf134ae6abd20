// Flash (softmax, windowed) and linear attention on CUDA. On any machine ("[cuda]"): the kernels'
// tile ranges against brute force, and their block bodies (cuda/flash_tiles.h,
// cuda/linear_scan_steps.h) run on the host by a one-thread team over every block, against the O(T²)
// references and the CPU ops' gradients. On a GPU ("[cuda][gpu]", skipped visibly without one): the
// CUDA ops against the CPU ops, forward and backward.
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "autograd/graph.h"
#include "cuda/flash_tiles.h"
#include "cuda/kv_step.h"
#include "cuda/linear_scan_steps.h"
#include "cuda/runtime.h"
#include "nn/causal_attention.h"
#include "nn/heads.h"
#include "nn/kv_cache.h"
#include "nn/linear_attention.h"
#include "tests/cuda_helpers.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;

namespace {

struct Outputs {
    Tensor y, dq, dk, dv;
};

// y = f(q, k, v) and the gradients of Σ y·g, through autograd on whatever device the inputs are.
template <class F>
Outputs forward_backward(F f, const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const Tensor& g) {
    Tensor q = q_in.detach(), k = k_in.detach(), v = v_in.detach();
    for (Tensor* t : {&q, &k, &v}) t->set_requires_grad();
    Tensor y = f(q, k, v);
    backward(y, g);
    return {y.detach(), q.grad(), k.grad(), v.grad()};
}

// q, k, v: [B, H, T, D] views of one [B, T, 3, H, D] buffer, as the model makes them (non-contiguous).
QKV random_heads(int64_t B, int64_t H, int64_t T, int64_t D, uint64_t seed, float scale = 1.f) {
    return split_heads(random({B, T, 3 * H * D}, seed, scale), H);
}

// ---- the kernels' block bodies on the host -------------------------------------------------

cuda::FlashProblem flash_problem(const Tensor& q, int64_t window) {
    return {q.size(0), q.size(1), q.size(2), q.size(3), window, 1.f / std::sqrt(float(q.size(3)))};
}

// The forward and backward kernels' bodies, every block in turn, on host tensors.
Outputs emulate_flash(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g, int64_t window) {
    const cuda::FlashProblem p = flash_problem(q, window);
    const int64_t bh = p.B * p.H;
    Tensor y = Tensor::empty(q.shape()), lse = Tensor::empty({p.B, p.H, p.T});
    const cuda::FlashForward fwd{p, head_view(q), head_view(k), head_view(v), head_view(y), lse.data()};
    run_blocks(bh * cuda::tiles(p.T, cuda::kRows), cuda::flash_forward_floats(p.D),
               [&](int64_t block, float* shared, cuda::Team team) { cuda::flash_forward_block(fwd, block, shared, team); });

    Tensor dq = Tensor::full(q.shape(), NAN), dk = Tensor::full(q.shape(), NAN), dv = Tensor::full(q.shape(), NAN);
    Tensor delta = Tensor::empty({p.B, p.H, p.T});
    const cuda::FlashBackward bwd{p,           head_view(q),  head_view(k),  head_view(v),  head_view(y), head_view(g),
                                  head_view(dq), head_view(dk), head_view(dv), lse.data(), delta.data()};
    for (int64_t row = 0; row < bh * p.T; ++row) cuda::flash_delta_row(bwd, row);
    run_blocks(bh * cuda::tiles(p.T, cuda::kRows), cuda::flash_backward_floats(p.D),
               [&](int64_t block, float* shared, cuda::Team team) { cuda::flash_dq_block(bwd, block, shared, team); });
    run_blocks(bh * cuda::tiles(p.T, cuda::kCols), cuda::flash_backward_floats(p.D),
               [&](int64_t block, float* shared, cuda::Team team) { cuda::flash_dkdv_block(bwd, block, shared, team); });
    return {y, dq, dk, dv};
}

Outputs emulate_linear(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& g) {
    const cuda::LinearShape s{q.size(0), q.size(1), q.size(2), q.size(3)};
    Tensor y = Tensor::empty(q.shape()), den = Tensor::empty({s.B, s.H, s.T});
    const cuda::LinearForward fwd{s, head_view(q), head_view(k), head_view(v), head_view(y), den.data()};
    run_blocks(s.B * s.H, cuda::linear_scan_floats(s.D),
               [&](int64_t block, float* shared, cuda::Team team) { cuda::linear_forward_block(fwd, block, shared, team); });
    Tensor dq = Tensor::full(q.shape(), NAN), dk = Tensor::full(q.shape(), NAN), dv = Tensor::full(q.shape(), NAN);
    const cuda::LinearBackward bwd{s,           head_view(q),  head_view(k),  head_view(v), head_view(y), head_view(g),
                                   head_view(dq), head_view(dk), head_view(dv), den.data()};
    run_blocks(s.B * s.H, cuda::linear_scan_floats(s.D),
               [&](int64_t block, float* shared, cuda::Team team) { cuda::linear_backward_block(bwd, block, shared, team); });
    return {y, dq, dk, dv};
}

// Every tile index i for which some pair (row, col) of tile i × tile j (or j × i) is a visible
// (query, key) pair: what the tile ranges must be.
std::set<int64_t> visited_by_brute_force(int64_t j, bool j_is_query, int64_t T, int64_t window) {
    std::set<int64_t> found;
    for (int64_t t = 0; t < T; ++t)
        for (int64_t u = 0; u < T; ++u)
            if (cuda::visible(t, u, window) && (j_is_query ? t / cuda::kRows == j : u / cuda::kCols == j))
                found.insert(j_is_query ? u / cuda::kCols : t / cuda::kRows);
    return found;
}

std::set<int64_t> as_set(cuda::TileRange r) {
    std::set<int64_t> s;
    for (int64_t i = r.begin; i < r.end; ++i) s.insert(i);
    return s;
}

}  // namespace

TEST_CASE("flash tiles: each query tile visits exactly the key tiles it can see, and back", "[cuda][attention]") {
    for (int64_t T : {1, 5, 16, 17, 33, 64, 100})
        for (int64_t window : {0, 1, 2, 15, 16, 17, 40, 1000}) {
            INFO("T " << T << ", window " << window);
            for (int64_t qt = 0; qt < cuda::tiles(T, cuda::kRows); ++qt)
                REQUIRE(as_set(cuda::key_tiles_for(qt, T, window)) == visited_by_brute_force(qt, true, T, window));
            for (int64_t kt = 0; kt < cuda::tiles(T, cuda::kCols); ++kt)
                REQUIRE(as_set(cuda::query_tiles_for(kt, T, window)) == visited_by_brute_force(kt, false, T, window));
        }
}

TEST_CASE("online softmax: merging tiles one by one gives the softmax of the whole row", "[cuda][attention]") {
    // One row of 3 tiles: the first fully masked, the second with a masked entry, the third raising the max.
    float s[3][cuda::kCols];
    std::vector<double> all;
    Rng rng(3);
    for (int tile = 0; tile < 3; ++tile)
        for (int c = 0; c < cuda::kCols; ++c) {
            rng.normal(&s[tile][c], 1, float(4 * tile), 3.f);
            if (tile == 0 || (tile == 1 && c == 5)) s[tile][c] = -INFINITY;
            if (s[tile][c] != -INFINITY) all.push_back(s[tile][c]);
        }
    const double m_all = *std::max_element(all.begin(), all.end());
    double sum_all = 0;
    for (double x : all) sum_all += std::exp(x - m_all);
    // The accumulator of Σ p·1 (a value row of ones) must end equal to l.
    float m = -INFINITY, l = 0.f, acc = 0.f;
    for (auto& tile : s) {
        const float alpha = cuda::online_softmax_merge(tile, m, l);
        acc *= alpha;
        for (float p : tile) acc += p;
    }
    REQUIRE(m == float(m_all));
    REQUIRE(std::abs(l - sum_all) <= 1e-5 * sum_all);
    REQUIRE(std::abs(acc - l) <= 1e-6 * l);
    REQUIRE(s[0][0] == 0.f);  // masked entries weigh nothing
}

TEST_CASE("shared tiles: 32 consecutive rows read at one column lie in 32 different banks", "[cuda][attention]") {
    for (int64_t D = 1; D <= cuda::kFlashMaxHeadDim; ++D)
        for (int64_t d = 0; d < D; ++d) {
            std::set<int64_t> banks;
            for (int64_t r = 0; r < 32; ++r) banks.insert((r * cuda::shared_ld(D) + d) % 32);
            INFO("D " << D << " d " << d);
            REQUIRE(banks.size() == 32);
        }
}

TEST_CASE("flash kernels' tile bodies, run on the host, equal the reference and the CPU gradients", "[cuda][attention]") {
    struct Case {
        int64_t B, H, T, D, window;
    };
    const Case c = GENERATE(Case{1, 1, 1, 4, 0}, Case{1, 2, 7, 3, 0},   // T = 1, T < tile
                            Case{2, 1, 16, 8, 0}, Case{1, 2, 50, 5, 0},  // one tile exactly; odd T, odd D
                            Case{1, 1, 37, 7, 1}, Case{2, 1, 45, 4, 5},  // window 1; window inside a tile
                            Case{1, 1, 70, 3, 20}, Case{1, 2, 29, 6, 100},   // window across tiles; w > T
                            Case{1, 1, 20, 32, 0});  // 32 | D: rows padded to 33 floats in shared memory
    INFO("B " << c.B << " H " << c.H << " T " << c.T << " D " << c.D << " window " << c.window);
    const QKV h = random_heads(c.B, c.H, c.T, c.D, 1, 1.5f);
    const Tensor g = random_transposed({c.B, c.H, c.T, c.D}, 2);
    const Outputs emulated = emulate_flash(h.q, h.k, h.v, g, c.window);
    require_close(emulated.y, causal_softmax_attention_reference(h.q, h.k, h.v, c.window), 1e-4, 1e-5);
    const Outputs cpu = forward_backward(
        [&](const Tensor& q, const Tensor& k, const Tensor& v) { return causal_softmax_attention(q, k, v, c.window); },
        h.q, h.k, h.v, g);
    require_close(emulated.dq, cpu.dq, 1e-3, 1e-5);
    require_close(emulated.dk, cpu.dk, 1e-3, 1e-5);
    require_close(emulated.dv, cpu.dv, 1e-3, 1e-5);
}

TEST_CASE("linear attention scan bodies, run on the host, equal the reference and the CPU gradients", "[cuda][attention]") {
    struct Case {
        int64_t B, H, T, D;
    };
    const Case c = GENERATE(Case{1, 1, 1, 3}, Case{2, 3, 37, 8}, Case{1, 2, 50, 5}, Case{1, 1, 9, 32});  // 32 | D: padded S
    INFO("B " << c.B << " H " << c.H << " T " << c.T << " D " << c.D);
    const QKV h = random_heads(c.B, c.H, c.T, c.D, 3);
    const Tensor g = random_transposed({c.B, c.H, c.T, c.D}, 4);
    const Outputs emulated = emulate_linear(h.q, h.k, h.v, g);
    require_close(emulated.y, causal_linear_attention_reference(h.q, h.k, h.v), 1e-4, 1e-5);
    // The same recurrences in the same order as the CPU op: equal up to FMA contraction.
    const Outputs cpu = forward_backward(causal_linear_attention, h.q, h.k, h.v, g);
    require_close(emulated.y, cpu.y, 1e-5, 1e-6);
    require_close(emulated.dq, cpu.dq, 1e-4, 1e-6);
    require_close(emulated.dk, cpu.dk, 1e-4, 1e-6);
    require_close(emulated.dv, cpu.dv, 1e-4, 1e-6);
}

TEST_CASE("KV-cache step body, run on the host, equals the CPU cache step by step", "[cuda][attention]") {
    struct Case {
        int64_t B, H, D, max_len, window;
    };
    const Case c = GENERATE(Case{1, 1, 3, 1, 0}, Case{2, 3, 5, 20, 0}, Case{1, 2, 7, 20, 4},  // ring wraps
                            Case{2, 1, 4, 9, 30});                                          // window > max_len
    INFO("B " << c.B << " H " << c.H << " D " << c.D << " max_len " << c.max_len << " window " << c.window);
    KVCache cpu(c.B, c.H, c.D, c.max_len, c.window);
    const int64_t S = cpu.slots();
    std::vector<float> k_ring(c.B * c.H * S * c.D, NAN), v_ring(k_ring.size(), NAN);  // NaN: unwritten slots show
    auto view = [](const Tensor& x) {
        return cuda::HeadView{const_cast<float*>(x.data()), x.strides()[0], x.strides()[1], 0, x.strides()[2]};
    };
    for (int64_t t = 0; t < c.max_len; ++t) {
        // [B, H, D] views with non-unit inner strides.
        const Tensor q = random_transposed({c.B, c.H, c.D}, 100 + t), k = random_transposed({c.B, c.H, c.D}, 200 + t),
                     v = random_transposed({c.B, c.H, c.D}, 300 + t);
        const int64_t first = c.window > 0 ? std::max<int64_t>(0, t - c.window + 1) : 0;
        Tensor y = Tensor::full({c.B, c.H, c.D}, NAN);
        const cuda::KVStep step{c.H,     S,       c.D,           t,             first,    1.f / std::sqrt(float(c.D)),
                                view(q), view(k), view(v),       k_ring.data(), v_ring.data(), y.data()};
        run_blocks(c.B * c.H, cuda::kv_step_floats(t - first + 1),
                   [&](int64_t block, float* shared, cuda::Team team) { cuda::kv_step_block(step, block, shared, team); });
        require_close(y, cpu.attend(q, k, v), 1e-6, 1e-7);  // the same sums in the same order
    }
}

// ---- on the GPU ----------------------------------------------------------------------------

namespace {

Outputs on_cpu(const Outputs& g) {
    return {same_layout_on(g.y, Device::CPU), g.dq.to(Device::CPU), g.dk.to(Device::CPU), g.dv.to(Device::CPU)};
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
    return same_layout_on(a, Device::CPU).to_vector() == same_layout_on(b, Device::CPU).to_vector();
}

// |gpu − cpu| ≤ atol + rtol·|cpu| for y and for the gradients.
struct Tolerance {
    double rtol_y, atol_y, rtol_grad, atol_grad;
};

// The op on CUDA copies of q, k, v, g (same layouts) against the op on the CPU, forward and backward.
template <class F>
void require_cuda_matches_cpu(F f, const QKV& h, const Tensor& g, Tolerance tol) {
    const Outputs cpu = forward_backward(f, h.q, h.k, h.v, g);
    const Outputs gpu = forward_backward(f, same_layout_on(h.q, Device::CUDA), same_layout_on(h.k, Device::CUDA),
                                       same_layout_on(h.v, Device::CUDA), same_layout_on(g, Device::CUDA));
    REQUIRE(gpu.y.device() == Device::CUDA);
    const Outputs back = on_cpu(gpu);
    require_close(back.y, cpu.y, tol.rtol_y, tol.atol_y);
    require_close(back.dq, cpu.dq, tol.rtol_grad, tol.atol_grad);
    require_close(back.dk, cpu.dk, tol.rtol_grad, tol.atol_grad);
    require_close(back.dv, cpu.dv, tol.rtol_grad, tol.atol_grad);
}

}  // namespace

TEST_CASE("CUDA flash attention equals the CPU op, forward and backward", "[cuda][gpu][attention]") {
    SKIP_WITHOUT_GPU();
    struct Case {
        int64_t B, H, T, D, window;
        float scale;  // of q and k: 1 gives scores ~±1, 7 gives scores ~±50 (7²·N(0,1))
    };
    // Odd T and D (not multiples of the 16-row tiles or the 128-thread blocks), window 1, windows
    // inside and across tiles, w > T, D = 128, and large scores.
    const Case c = GENERATE(Case{1, 1, 1, 8, 0, 1}, Case{2, 3, 37, 5, 0, 1}, Case{1, 2, 257, 64, 0, 1},
                            Case{2, 2, 129, 128, 0, 1}, Case{1, 2, 100, 16, 1, 1}, Case{1, 3, 301, 33, 40, 1},
                            Case{2, 1, 50, 8, 1000, 1}, Case{1, 2, 200, 32, 0, 7}, Case{1, 2, 150, 32, 17, 7});
    INFO("B " << c.B << " H " << c.H << " T " << c.T << " D " << c.D << " window " << c.window << " scale " << c.scale);
    const QKV h = random_heads(c.B, c.H, c.T, c.D, 5, c.scale);
    const Tensor g = random_transposed({c.B, c.H, c.T, c.D}, 6);
    // Both sides sum in float in different orders (CPU: row blocks of 64 through gemm; GPU: 16×16
    // tiles): y to 1e-4 relative (~1000 ulps). The gradients go through ds = p·(dp − Δ), which cancels
    // where one key dominates (p ≈ 1, dp ≈ Δ): each side's rounding of dp and Δ (~1e-6 of |dy|·|v|)
    // survives there, times |k| or |q| — hence the 1e-4 absolute floor. With inputs ×7 every error
    // grows: a score q·k/√D (terms ~49) is off by ~1e-5, p by as much relatively, y (|v| ~ 7) by ~1e-4,
    // dp (~30) − Δ by ~3e-4, times |k| ~ 7 in dq: floors 1e-3 (y) and 1e-2 (gradients of size ~100).
    const bool large = c.scale > 1;
    require_cuda_matches_cpu(
        [&](const Tensor& q, const Tensor& k, const Tensor& v) { return causal_softmax_attention(q, k, v, c.window); },
        h, g, Tolerance{1e-4, large ? 1e-3 : 1e-5, 1e-3, large ? 1e-2 : 1e-4});
}

TEST_CASE("CUDA linear attention equals the CPU op, forward and backward", "[cuda][gpu][attention]") {
    SKIP_WITHOUT_GPU();
    struct Case {
        int64_t B, H, T, D;
        float scale;
    };
    const Case c = GENERATE(Case{1, 1, 1, 3, 1}, Case{2, 3, 37, 8, 1}, Case{1, 2, 257, 64, 1}, Case{1, 1, 65, 128, 1},
                            Case{2, 2, 50, 5, 30});  // large inputs: φ up to ~100, exp(x) of very negative x
    INFO("B " << c.B << " H " << c.H << " T " << c.T << " D " << c.D << " scale " << c.scale);
    const QKV h = random_heads(c.B, c.H, c.T, c.D, 7, c.scale);
    const Tensor g = random_transposed({c.B, c.H, c.T, c.D}, 8);
    // The same sums in the same order as the CPU; only FMA contraction (placed differently by g++ and
    // nvcc) and expf differ, but S and R are signed sums over up to T terms that cancel (y near 0 from
    // terms of size |v|; dq̃ = (S·dy − z·(dy·y)) / den), so the absolute floor grows with the inputs.
    const double floor = c.scale > 1 ? 1e-3 : 1e-5;
    require_cuda_matches_cpu(causal_linear_attention, h, g, Tolerance{1e-4, floor, 1e-3, floor});
}

TEST_CASE("CUDA attention: causal (and windowed) on the GPU, repeatable bit for bit, bad input refused",
          "[cuda][gpu][attention]") {
    SKIP_WITHOUT_GPU();
    const int64_t B = 1, H = 2, T = 70, D = 12, t = 40, window = 9;
    const QKV h = random_heads(B, H, T, D, 9);
    const Tensor g = random({B, H, T, D}, 10).to(Device::CUDA);
    auto cuda_qkv = [](const QKV& x) {
        return QKV{same_layout_on(x.q, Device::CUDA), same_layout_on(x.k, Device::CUDA), same_layout_on(x.v, Device::CUDA)};
    };
    const QKV d = cuda_qkv(h);
    const std::vector<std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>> ops = {
        [](const Tensor& q, const Tensor& k, const Tensor& v) { return causal_softmax_attention(q, k, v); },
        [&](const Tensor& q, const Tensor& k, const Tensor& v) { return causal_softmax_attention(q, k, v, window); },
        [](const Tensor& q, const Tensor& k, const Tensor& v) { return causal_linear_attention(q, k, v); }};
    for (size_t i = 0; i < ops.size(); ++i) {
        INFO("op " << i << " (0 softmax, 1 window " << window << ", 2 linear)");
        // Perturb every k and v after t (and, for the window, before the window of row t).
        Tensor base = Tensor::view_of(h.q.storage(), {B, T, 3, H, D}, contiguous_strides({B, T, 3, H, D}), 0).clone();
        for (int64_t u = 0; u < T; ++u)
            if (u > t || (i == 1 && u <= t - window))
                for (int64_t part : {1, 2})
                    for (int64_t j = 0; j < H * D; ++j) base.data()[(u * 3 + part) * H * D + j] += 3.f;
        const QKV moved = cuda_qkv(split_heads(base, H));
        const Tensor y = same_layout_on(ops[i](d.q, d.k, d.v), Device::CPU);
        const Tensor y2 = same_layout_on(ops[i](moved.q, moved.k, moved.v), Device::CPU);
        for (int64_t hh = 0; hh < H; ++hh)
            for (int64_t dd = 0; dd < D; ++dd) {
                REQUIRE(y2.at({0, hh, t, dd}) == y.at({0, hh, t, dd}));
                if (i != 1) REQUIRE(y2.at({0, hh, t - 7, dd}) == y.at({0, hh, t - 7, dd}));
            }
        REQUIRE(y2.at({0, 0, t + 1, 0}) != y.at({0, 0, t + 1, 0}));

        const Outputs first = forward_backward(ops[i], d.q, d.k, d.v, g), second = forward_backward(ops[i], d.q, d.k, d.v, g);
        REQUIRE(bitwise_equal(first.y, second.y));
        REQUIRE(bitwise_equal(first.dq, second.dq));
        REQUIRE(bitwise_equal(first.dk, second.dk));
        REQUIRE(bitwise_equal(first.dv, second.dv));
    }

    REQUIRE_THROWS_WITH(causal_softmax_attention(d.q, h.k, d.v),
                        Contains("causal_softmax_attention: q, k, v on different devices") &&
                            Contains("[1, 2, 70, 12] on cuda") && Contains("[1, 2, 70, 12] on cpu"));
    REQUIRE_THROWS_WITH(causal_linear_attention(h.q, h.k, d.v), Contains("causal_linear_attention: q, k, v on different devices"));
    const Tensor wide = random({1, 1, 3, 129}, 11).to(Device::CUDA);
    REQUIRE_THROWS_WITH(causal_softmax_attention(wide, wide, wide), Contains("head size 129") && Contains("limit of 128"));
    REQUIRE_THROWS_WITH(causal_linear_attention(wide, wide, wide), Contains("head size 129") && Contains("limit of 128"));
}

TEST_CASE("CUDA KV-cache steps equal the CPU cache's, ring and window included", "[cuda][gpu][attention]") {
    SKIP_WITHOUT_GPU();
    struct Case {
        int64_t B, H, D, max_len, window;
    };
    const Case c = GENERATE(Case{2, 3, 5, 40, 0}, Case{1, 2, 64, 300, 0}, Case{2, 2, 33, 100, 7}, Case{1, 1, 128, 50, 129});
    INFO("B " << c.B << " H " << c.H << " D " << c.D << " max_len " << c.max_len << " window " << c.window);
    KVCache cpu(c.B, c.H, c.D, c.max_len, c.window), gpu(c.B, c.H, c.D, c.max_len, c.window);
    for (int64_t t = 0; t < c.max_len; ++t) {
        const Tensor q = random_transposed({c.B, c.H, c.D}, 100 + t, 3.f), k = random_transposed({c.B, c.H, c.D}, 200 + t, 3.f),
                     v = random_transposed({c.B, c.H, c.D}, 300 + t);
        const Tensor y = gpu.attend(same_layout_on(q, Device::CUDA), same_layout_on(k, Device::CUDA),
                                    same_layout_on(v, Device::CUDA));
        REQUIRE(y.device() == Device::CUDA);
        // The same sums in the same order; expf and FMA contraction differ by an ulp or two per term, but
        // a score sums D terms of ~9 (q, k ×3): ~1e-5 off at D = 128, and y (|v| ~ 1) as much.
        require_close(y.to(Device::CPU), cpu.attend(q, k, v), 1e-4, 1e-5);
    }
    KVCache moved(1, 1, 4, 5, 0);
    const Tensor x = random({1, 1, 4}, 1);
    moved.attend(x.to(Device::CUDA), x.to(Device::CUDA), x.to(Device::CUDA));
    REQUIRE_THROWS_WITH(moved.attend(x, x, x), Contains("KV cache") && Contains("is on cuda"));
}
