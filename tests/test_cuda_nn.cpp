// The remaining tensor kernels on CUDA: copies, affine, pow_scalar, add_inplace, reductions,
// softmax, log-softmax, layer norm, embedding and cross-entropy. On any machine ("[cuda]") the code
// the kernels run — map_at, ReduceLayout/reduce_range, the nn_math.h row formulas, the block
// reduction's order (replayed on the host), id_runs — is checked against raw:: on the CPU. With a GPU
// ("[cuda][gpu]", skipped visibly without one) every op runs on CUDA tensors against the CPU.
#include <cstring>
#include <limits>
#include <numeric>

#include "cuda/map.h"
#include "cuda/nn_kernels.h"
#include "cuda/reduce.h"
#include "cuda/runtime.h"
#include "tensor/id_runs.h"
#include "tensor/map_at.h"
#include "tensor/nn_math.h"
#include "tensor/reduce_math.h"
#include "tests/helpers.h"

using namespace splatlm;
using Catch::Contains;

namespace {

constexpr int kBlock = 256;  // threads per block in the kernels (cuda/launch.h, which needs no CUDA)

// |got − want| ≤ rtol·|want| + atol for every element, both finite; one REQUIRE naming the first
// element off (some cases have millions). got may live on the GPU.
void require_all_close(const Tensor& got, const Tensor& want, double rtol, double atol) {
    REQUIRE(got.shape() == want.shape());
    const std::vector<float> g = got.to_vector(), w = want.to_vector();
    size_t bad = 0;
    while (bad < g.size() && std::isfinite(g[bad]) && std::isfinite(w[bad]) &&
           std::abs(double(g[bad]) - w[bad]) <= rtol * std::abs(double(w[bad])) + atol)
        ++bad;
    INFO("element " << bad << " of " << g.size() << ": " << (bad < g.size() ? g[bad] : 0.f) << " vs "
                    << (bad < g.size() ? w[bad] : 0.f));
    REQUIRE(bad == g.size());
}

void require_same_bits(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    const std::vector<float> va = a.to_vector(), vb = b.to_vector();
    REQUIRE(std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)) == 0);
}

// The order of block_reduce (cuda/block_reduce.cuh), replayed: thread t's partial covers elements
// t, t + 256, ...; each warp folds its lanes by shuffle-down (lane l takes lane l + d, d = 16..1),
// then the warps' results are folded in order.
template <class Acc, class Merge>
Acc block_fold(std::vector<Acc> partial, Merge merge) {
    REQUIRE(partial.size() == size_t(kBlock));
    for (int w = 0; w < kBlock / 32; ++w)
        for (int d = 16; d > 0; d /= 2)
            for (int lane = 0; lane + d < 32; ++lane)  // ascending: lane + d is read before it changes
                partial[w * 32 + lane] = merge(partial[w * 32 + lane], partial[w * 32 + lane + d]);
    Acc total = partial[0];
    for (int w = 1; w < kBlock / 32; ++w) total = merge(total, partial[w * 32]);
    return total;
}

// Each thread's partial of a row, as the kernels accumulate it: f(acc, c) over c = t, t + 256, ...
template <class Acc, class F>
std::vector<Acc> thread_partials(int64_t C, Acc init, F f) {
    std::vector<Acc> partial(kBlock, init);
    for (int t = 0; t < kBlock; ++t)
        for (int64_t c = t; c < C; c += kBlock) partial[t] = f(partial[t], c);
    return partial;
}

// A row's log-sum-exp the way the row kernels compute it.
float block_logsumexp(const float* row, int64_t C) {
    auto part = thread_partials(C, LogSumExp::empty(), [&](LogSumExp a, int64_t c) { return a.add(row[c]); });
    return block_fold(part, LogSumExp::merge).value();
}

double block_sum(int64_t C, const std::function<double(int64_t)>& term) {
    return block_fold(thread_partials(C, 0.0, [&](double a, int64_t c) { return a + term(c); }),
                      [](double a, double b) { return a + b; });
}

// Non-contiguous views of fresh random data: the transpose of a [cols, rows] tensor, or every other
// column of a wider one (offset 1).
Tensor transposed(int64_t rows, int64_t cols, uint64_t seed, float scale = 1.f) {
    return raw::transpose(test::random({cols, rows}, seed, scale), 0, 1);
}

}  // namespace

// ---- on the host: the kernels' bodies ----

TEST_CASE("map_at: copy, affine, pow and add-into through a broadcast index equal raw:: on the CPU", "[cuda]") {
    const Tensor x = test::random_strided({7, 9, 5}, 1, 3.f);  // every other element
    const Tensor xt = raw::transpose(test::random({5, 9, 7}, 2), 0, 2);
    const Tensor pos = raw::unary(Unary::Abs, test::random({7, 9, 5}, 3));
    for (const Tensor& src : {x, xt}) {
        // out written through a permuted view too: the index must place each element, not just read it.
        Tensor out_base = Tensor::empty({5, 7, 9});
        Tensor out = raw::permute(out_base, {1, 2, 0});
        const BroadcastIndex<2> index = make_broadcast_index<2>(src.shape(), {out.strides(), src.strides()}, "test");
        for (int64_t i = 0; i < index.numel; ++i) map_at(index, i, out.data(), src.data(), CopyMap{});
        require_same_bits(out, src);
        for (int64_t i = 0; i < index.numel; ++i) map_at(index, i, out.data(), src.data(), AffineMap{-1.5f, 0.25f});
        require_same_bits(out, raw::affine(src, -1.5f, 0.25f));
        // dst += src into the permuted destination, as a slice's gradient lands in its window
        // (autograd/engine.cpp accumulate_window): the CPU loop and the CUDA body agree.
        Tensor want = out.clone();
        raw::add_inplace(want, src);
        Tensor on_cpu = raw::permute(out_base.clone(), {1, 2, 0});
        raw::add_inplace(on_cpu, src);
        for (int64_t i = 0; i < index.numel; ++i) map_at(index, i, out.data(), src.data(), AddIntoMap{});
        require_same_bits(out, want);
        require_same_bits(on_cpu, want);
    }
    Tensor out = Tensor::empty(pos.shape());
    const BroadcastIndex<2> index = make_broadcast_index<2>(pos.shape(), {out.strides(), pos.strides()}, "test");
    for (int64_t i = 0; i < index.numel; ++i) map_at(index, i, out.data(), pos.data(), PowMap{1.7f});
    require_all_close(out, raw::pow_scalar(pos, 1.7f), 1e-6, 0);  // std::pow vs powf: within an ulp
}

TEST_CASE("reduce layout: offsets, sums and maxima over every axis equal raw:: on the CPU", "[cuda]") {
    const Shape shape{3, 5, 7, 2};
    const Tensor x = raw::contiguous(test::random(shape, 4, 10.f));
    for (int64_t axis = 0; axis < 4; ++axis) {
        INFO("axis " << axis);
        int64_t outer = 1, inner = 1;
        for (int64_t a = 0; a < axis; ++a) outer *= shape[a];
        for (int64_t a = axis + 1; a < 4; ++a) inner *= shape[a];
        const ReduceLayout L{outer, shape[axis], inner};
        // Offsets against the multi-index: output j = (r, i), element k sits at r·n·inner + k·inner + i.
        for (int64_t r = 0; r < outer; ++r)
            for (int64_t i = 0; i < inner; ++i)
                for (int64_t k = 0; k < L.n; ++k) REQUIRE(L.offset(r * inner + i, k) == (r * L.n + k) * inner + i);
        // One thread per output (the inner > 1 kernel) and a block per output (inner = 1) give the CPU's sum.
        Tensor per_thread = Tensor::empty({L.outputs()}), per_block = Tensor::empty({L.outputs()}),
               maxima = Tensor::empty({L.outputs()});
        for (int64_t j = 0; j < L.outputs(); ++j) {
            per_thread.data()[j] = SumReducer::finish(reduce_range<SumReducer>(L, x.data(), j, 0, L.n, 1));
            std::vector<double> part(kBlock);
            for (int t = 0; t < kBlock; ++t) part[t] = reduce_range<SumReducer>(L, x.data(), j, t, L.n, kBlock);
            per_block.data()[j] = SumReducer::finish(block_fold(part, SumReducer::merge));
            maxima.data()[j] = MaxReducer::finish(reduce_range<MaxReducer>(L, x.data(), j, 0, L.n, 1));
        }
        const Tensor want = raw::reshape(raw::sum(x, axis, false), {-1});
        require_all_close(per_thread, want, 1e-7, 0);  // double sums, rounded once: equal up to the rounding
        require_all_close(per_block, want, 1e-7, 0);
        require_same_bits(maxima, raw::reshape(raw::max(x, axis, false), {-1}));
    }
    // max skips NaN as the CPU's std::max does; an empty axis sums to 0.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float row[] = {1.f, nan, 3.f, -2.f};
    REQUIRE(reduce_range<MaxReducer>(ReduceLayout{1, 4, 1}, row, 0, 0, 4, 1) == 3.f);
    REQUIRE(raw::max(Tensor::from_vector({1.f, nan, 3.f, -2.f}, {4}), 0, false).item() == 3.f);
    REQUIRE(reduce_range<SumReducer>(ReduceLayout{1, 0, 1}, row, 0, 0, 0, 1) == 0.0);
}

TEST_CASE("reduce layout: a long axis in chunks, merged in order, equals raw:: on the CPU", "[cuda]") {
    // [600, 5] over axis 0, as a bias gradient: chunks of 256, 256 and 88 rows.
    const Tensor x = test::random({2, 600, 5}, 14, 10.f);
    const ReduceLayout L{2, 600, 5};
    REQUIRE(reduce_chunks(L) == 3);
    Tensor sums = Tensor::empty({L.outputs()}), maxima = Tensor::empty({L.outputs()});
    for (int64_t j = 0; j < L.outputs(); ++j) {
        double s = reduce_chunk<SumReducer>(L, x.data(), j, 0);
        float m = reduce_chunk<MaxReducer>(L, x.data(), j, 0);
        for (int64_t c = 1; c < reduce_chunks(L); ++c) {
            s = SumReducer::merge(s, reduce_chunk<SumReducer>(L, x.data(), j, c));
            m = MaxReducer::merge(m, reduce_chunk<MaxReducer>(L, x.data(), j, c));
        }
        sums.data()[j] = SumReducer::finish(s), maxima.data()[j] = MaxReducer::finish(m);
    }
    require_all_close(sums, raw::reshape(raw::sum(x, 1, false), {-1}), 1e-7, 0);
    require_same_bits(maxima, raw::reshape(raw::max(x, 1, false), {-1}));
}

TEST_CASE("log-sum-exp merged as the row kernels do equals the CPU's, huge magnitudes and -inf included", "[cuda]") {
    for (const int64_t C : {1, 7, 255, 256, 257, 1031}) {
        for (const float scale : {1.f, 1e4f}) {
            INFO("C " << C << ", scale " << scale);
            Tensor x = raw::contiguous(test::random({3, C}, uint64_t(C), scale));
            x.data()[0] = -std::numeric_limits<float>::infinity();  // a masked entry
            Tensor want = raw::log_softmax(x);
            Tensor got = Tensor::empty(x.shape());
            for (int64_t r = 0; r < 3; ++r) {
                const float lse = block_logsumexp(x.data() + r * C, C);
                for (int64_t c = 0; c < C; ++c) got.data()[r * C + c] = x.data()[r * C + c] - lse;
            }
            if (C == 1) {  // the row [-inf]: log-sum-exp -inf, as on the CPU
                REQUIRE(block_logsumexp(x.data(), 1) == -std::numeric_limits<float>::infinity());
                continue;
            }
            got.data()[0] = want.data()[0] = 0.f;  // -inf on both sides
            require_all_close(got, want, 1e-6, 1e-5 + 2e-7 * scale);  // ulps of lse, which is ~scale
        }
    }
    // +∞ in two threads' partials: their merge must stay +∞ (∞ − ∞ would make it NaN).
    Tensor x = raw::contiguous(test::random({1, 1031}, 3));
    x.data()[0] = x.data()[300] = std::numeric_limits<float>::infinity();
    REQUIRE(block_logsumexp(x.data(), 1031) == std::numeric_limits<float>::infinity());
}

TEST_CASE("softmax and log-softmax backward rows reduced as the kernels do equal raw:: on the CPU", "[cuda]") {
    for (const int64_t C : {1, 300, 1031}) {
        INFO("C " << C);
        const Tensor y = raw::softmax(test::random({4, C}, 5, 3.f)), ly = raw::log_softmax(test::random({4, C}, 5, 3.f));
        const Tensor g = test::random({4, C}, 6);
        Tensor dx = Tensor::empty(y.shape()), ldx = Tensor::empty(y.shape());
        const float *py = y.data(), *pl = ly.data(), *pg = g.data();
        for (int64_t r = 0; r < 4; ++r) {
            const int64_t o = r * C;
            const float dot = float(block_sum(C, [&](int64_t c) { return double(py[o + c]) * pg[o + c]; }));
            const float gsum = float(block_sum(C, [&](int64_t c) { return double(pg[o + c]); }));
            for (int64_t c = 0; c < C; ++c) {
                dx.data()[o + c] = softmax_grad(py[o + c], pg[o + c], dot);
                ldx.data()[o + c] = log_softmax_grad(pl[o + c], pg[o + c], gsum);
            }
        }
        require_all_close(dx, raw::softmax_backward(y, g), 1e-6, 1e-7);
        require_all_close(ldx, raw::log_softmax_backward(ly, g), 1e-6, 1e-6);
    }
}

TEST_CASE("layer norm rows and chunked parameter sums as the kernels do equal raw:: on the CPU", "[cuda]") {
    const int64_t rows = 600, C = 77;  // three chunks of 256 rows, the last one short
    const Tensor x = test::random({rows, C}, 7, 5.f), w = test::random({C}, 8), b = test::random({C}, 9);
    const Tensor g = test::random({rows, C}, 10);
    const raw::LayerNormResult want = raw::layernorm(x, w, b, 1e-5f);
    const raw::LayerNormGrads want_g = raw::layernorm_backward(x, w, want.mean, want.rstd, g);
    const float *px = x.data(), *pw = w.data(), *pb = b.data(), *pg = g.data();
    Tensor y = Tensor::empty(x.shape()), dx = Tensor::empty(x.shape());
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = px + r * C;
        const double m = block_sum(C, [&](int64_t c) { return double(xr[c]); }) / C;
        const float s = layernorm_rstd(block_sum(C, [&](int64_t c) { return (xr[c] - m) * (xr[c] - m); }), C, 1e-5f);
        REQUIRE(std::abs(float(m) - want.mean.data()[r]) <= 1e-6f * 5);
        REQUIRE(std::abs(s - want.rstd.data()[r]) <= 1e-6f * std::abs(s));
        for (int64_t c = 0; c < C; ++c) y.data()[r * C + c] = layernorm_y(xr[c], float(m), s, pw[c], pb[c]);
        const float mr = want.mean.data()[r], sr = want.rstd.data()[r];
        const double sum_dn = block_sum(C, [&](int64_t c) { return double(pg[r * C + c] * pw[c]); });
        const double sum_dn_n = block_sum(C, [&](int64_t c) {
            return double(pg[r * C + c] * pw[c] * layernorm_normalized(xr[c], mr, sr));
        });
        for (int64_t c = 0; c < C; ++c)
            dx.data()[r * C + c] = layernorm_dx(pg[r * C + c] * pw[c], layernorm_normalized(xr[c], mr, sr), sr,
                                                float(sum_dn / C), float(sum_dn_n / C));
    }
    require_all_close(y, want.y, 1e-5, 1e-5);
    require_all_close(dx, want_g.dx, 1e-4, 1e-5);
    // dweight, dbias: chunks of 256 rows, then the chunks in order (as layernorm_param_*_kernel).
    Tensor dw = Tensor::empty({C}), db = Tensor::empty({C});
    for (int64_t c = 0; c < C; ++c) {
        double sw = 0, sb = 0;
        for (int64_t r0 = 0; r0 < rows; r0 += 256) {
            const LayerNormParamSums s = layernorm_param_sums(px, pg, want.mean.data(), want.rstd.data(), C, c, r0,
                                                              std::min<int64_t>(r0 + 256, rows));
            sw += s.dweight, sb += s.dbias;
        }
        dw.data()[c] = float(sw), db.data()[c] = float(sb);
    }
    require_all_close(dw, want_g.dweight, 1e-6, 1e-6);
    require_all_close(db, want_g.dbias, 1e-6, 1e-6);
}

TEST_CASE("embedding backward by runs of sorted ids has the CPU's bits", "[cuda]") {
    const Indices ids = test::random_ids(13, 29, 50, 11);  // 377 ids over 50 rows: many repeats
    const IdRuns runs = id_runs(ids.ids);
    REQUIRE(runs.start.front() == 0);
    REQUIRE(runs.start.back() == int64_t(ids.ids.size()));
    for (size_t k = 0; k < runs.id.size(); ++k) {
        if (k > 0) REQUIRE(runs.id[k - 1] < runs.id[k]);
        for (int64_t i = runs.start[k]; i < runs.start[k + 1]; ++i) {
            REQUIRE(ids.ids[runs.rows[i]] == runs.id[k]);
            if (i > runs.start[k]) REQUIRE(runs.rows[i - 1] < runs.rows[i]);  // stable: rows ascending
        }
    }
    const int64_t C = 9;
    const Tensor g = test::random({13, 29, C}, 12);
    Tensor d = Tensor::zeros({50, C});
    for (size_t k = 0; k < runs.id.size(); ++k)
        for (int64_t c = 0; c < C; ++c)
            d.data()[runs.id[k] * C + c] = embedding_grad_run(runs.rows.data(), runs.start[k], runs.start[k + 1], g.data(), C, c);
    require_same_bits(d, raw::embedding_backward(ids, g, 50));
    REQUIRE(id_runs({}).start == std::vector<int64_t>{0});
}

TEST_CASE("cross-entropy gradient elements equal raw:: on the CPU, ignored rows zero", "[cuda]") {
    const int64_t N = 6, V = 301;
    const Tensor x = test::random({N, V}, 13, 4.f);
    const Indices t{{N}, {3, -1, 300, 0, -1, 150}};
    const raw::CrossEntropyResult ce = raw::cross_entropy(x, t, -1);
    const Tensor want = raw::cross_entropy_backward(x, t, ce.logsumexp, ce.counted, 0.7f, -1);
    const float scale = 0.7f / float(ce.counted);
    Tensor got = Tensor::empty({N, V});
    double total = 0;
    for (int64_t r = 0; r < N; ++r) {
        const float lse = block_logsumexp(x.data() + r * V, V);
        REQUIRE(std::abs(lse - ce.logsumexp.data()[r]) <= 1e-6f * std::abs(lse) + 1e-6f);
        if (t.ids[r] != -1) total += double(lse) - x.data()[r * V + t.ids[r]];
        for (int64_t j = 0; j < V; ++j)
            got.data()[r * V + j] = t.ids[r] == -1 ? 0.f : cross_entropy_grad(x.data()[r * V + j], lse, scale, j == t.ids[r]);
    }
    REQUIRE(std::abs(float(total / ce.counted) - ce.loss.item()) <= 1e-6f * ce.loss.item());
    require_all_close(got, want, 1e-5, 1e-8);
    for (int64_t j = 0; j < V; ++j) REQUIRE(got.data()[V + j] == 0.f);
}

TEST_CASE("a CPU-only build's map, reduce and row kernels say CUDA is absent", "[cuda]") {
    if (cuda::built_with_cuda()) return;  // the stubs are linked only without nvcc or with CUDA=0
    float v = 0.f;
    const BroadcastIndex<2> index = make_broadcast_index<2>({1}, {Strides{1}, Strides{1}}, "t");
    REQUIRE_THROWS_WITH(cuda::copy(index, &v, &v), Contains("no CUDA support"));
    REQUIRE_THROWS_WITH(cuda::sum(ReduceLayout{1, 1, 1}, &v, &v), Contains("no CUDA support"));
    REQUIRE_THROWS_WITH(cuda::softmax(1, 1, false, &v, &v), Contains("no CUDA support"));
}

// ---- on the GPU: every op on CUDA tensors against the CPU ----
//
// Tolerances: copies, add_inplace, max and embedding (forward and backward: the same additions in
// the same order) are bitwise. Elsewhere the two sides differ by FMA contraction (nvcc contracts
// a·b + c, g++ in ISO mode does not), CUDA's powf/logf (≤ 2 ulp), and the order of float sums: the
// CPU sums a row's exp terms in SIMD lanes, the GPU in 256 thread partials folded by block_reduce.
// Sums that accumulate in double (sum, sum_all, dot products, layer-norm moments) differ only in the
// final rounding to float.

namespace {

Tensor on_cuda(const Tensor& x) { return x.to(Device::CUDA); }

}  // namespace

TEST_CASE("CUDA copies: contiguous, copy_into, clone, to and full of CUDA tensors are exact", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const Tensor base = test::random({37, 4099}, 21, 1e4f);
    const Tensor base_gpu = on_cuda(base);
    const std::vector<std::pair<Tensor, Tensor>> views = {  // (CPU view, the same view of the CUDA copy)
        {raw::transpose(base, 0, 1), raw::transpose(base_gpu, 0, 1)},
        {raw::slice(base, 1, 3, 2050), raw::slice(base_gpu, 1, 3, 2050)},
        {raw::select(base, 1, 17), raw::select(base_gpu, 1, 17)},
        {raw::expand(raw::slice(base, 0, 5, 6), {7, 37, 4099}), raw::expand(raw::slice(base_gpu, 0, 5, 6), {7, 37, 4099})},
    };
    for (const auto& [cpu, gpu] : views) {
        INFO("view " << shape_str(cpu.shape()));
        const Tensor c = raw::contiguous(gpu);
        REQUIRE(c.device() == Device::CUDA);
        REQUIRE(c.is_contiguous());
        require_same_bits(c, cpu);
        require_same_bits(gpu.clone(), cpu);
        require_same_bits(gpu.to(Device::CPU), cpu);  // to_vector, too, goes through this
    }
    // copy_into a strided CUDA destination (every other column of a wider buffer).
    Tensor wide = Tensor::zeros({4099, 74}, Device::CUDA);
    Tensor target = Tensor::view_of(wide.storage(), {4099, 37}, {74, 2}, 1);
    raw::copy_into(target, raw::transpose(base_gpu, 0, 1));
    require_same_bits(target, raw::transpose(base, 0, 1));
    REQUIRE(raw::sum_all(raw::slice(raw::reshape(wide, {4099, 37, 2}), 2, 0, 1)).item() == 0.f);  // untouched
    require_same_bits(Tensor::full({3, 1001}, -2.5f, Device::CUDA), Tensor::full({3, 1001}, -2.5f));
    REQUIRE_THROWS_WITH(raw::copy_into(target, raw::transpose(base, 0, 1)),
                        Contains("copy: destination [4099, 37] on cuda, source [4099, 37] on cpu"));
}

TEST_CASE("CUDA affine, pow_scalar and add_inplace equal the CPU on odd, strided inputs", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    for (const float scale : {1.f, 1e4f}) {
        const Tensor x = test::random({1001, 257}, 22, scale);
        const Tensor xt = raw::transpose(x, 0, 1), xt_gpu = raw::transpose(on_cuda(x), 0, 1);
        require_all_close(raw::affine(xt_gpu, -0.37f, 3.f), raw::affine(xt, -0.37f, 3.f), 2e-7, 1e-6);
        const Tensor pos = raw::affine(raw::unary(Unary::Abs, xt), 1.f, 0.1f);
        require_all_close(raw::pow_scalar(on_cuda(pos), 1.37f), raw::pow_scalar(pos, 1.37f), 1e-6, 0);
        require_all_close(raw::pow_scalar(on_cuda(pos), -2.f), raw::pow_scalar(pos, -2.f), 1e-6, 0);

        Tensor acc = test::random({257, 1001}, 23, scale), acc_gpu = on_cuda(acc);
        raw::add_inplace(acc, xt);
        raw::add_inplace(acc_gpu, xt_gpu);  // strided source
        require_same_bits(acc_gpu, acc);
    }
    Tensor dst = Tensor::zeros({5}, Device::CUDA);
    REQUIRE_THROWS_WITH(raw::add_inplace(dst, test::random({5}, 1)),
                        Contains("add_inplace: operands on different devices") && Contains("[5] on cuda") &&
                            Contains("[5] on cpu"));
}

TEST_CASE("CUDA sum, max and sum_to equal the CPU over every axis, strided, and repeat bit for bit", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const std::vector<Shape> shapes = {{257}, {50257}, {3, 1031, 5}, {7, 1}, {2, 3, 5, 7}, {0, 5}};
    for (const Shape& shape : shapes) {
        for (const bool strided : {false, true}) {
            const Tensor x = strided && shape.size() >= 2 ? raw::transpose(test::random(shape, 24, 100.f), 0, -1)
                                                          : test::random(shape, 24, 100.f);
            const Tensor xg = strided && shape.size() >= 2 ? raw::transpose(on_cuda(test::random(shape, 24, 100.f)), 0, -1)
                                                           : on_cuda(x);
            for (int64_t axis = 0; axis < x.dim(); ++axis) {
                for (const bool keepdim : {false, true}) {
                    INFO(shape_str(x.shape()) << (strided ? " transposed" : "") << ", axis " << axis << ", keepdim " << keepdim);
                    const Tensor s = raw::sum(xg, axis, keepdim);
                    REQUIRE(s.device() == Device::CUDA);
                    require_all_close(s, raw::sum(x, axis, keepdim), 1e-6, 1e-4);  // double sums of values ~100
                    require_same_bits(raw::sum(xg, axis, keepdim), s);             // deterministic
                    if (x.shape()[axis] > 0) require_same_bits(raw::max(xg, axis, keepdim), raw::max(x, axis, keepdim));
                }
            }
            if (x.numel() > 0) require_same_bits(raw::max_all(xg), raw::max_all(x));
            require_all_close(raw::sum_all(xg), raw::sum_all(x), 1e-6, 1e-3);
        }
    }
    // 16.8M elements in one sum: a block strides the whole tensor; over axis 0, 4099 outputs of 4097
    // elements each go in chunks; 2^18 + 2 outputs of 300 elements, one thread each.
    const Tensor big = test::random({4097, 4099}, 25);
    const Tensor big_gpu = on_cuda(big);
    require_all_close(raw::sum_all(big_gpu), raw::sum_all(big), 1e-6, 1e-3);
    require_same_bits(raw::sum_all(big_gpu), raw::sum_all(big_gpu));
    require_all_close(raw::sum(big_gpu, 0, false), raw::sum(big, 0, false), 1e-6, 1e-4);
    require_same_bits(raw::max(big_gpu, 0, true), raw::max(big, 0, true));
    const Tensor wide = test::random({2, 300, (1 << 17) + 1}, 27);
    require_all_close(raw::sum(on_cuda(wide), 1, false), raw::sum(wide, 1, false), 1e-6, 1e-4);
    const Tensor g = test::random({3, 5, 4, 7}, 26);
    for (const Shape& to : {Shape{5, 1, 7}, Shape{7}, Shape{1}, Shape{3, 5, 4, 7}, Shape{}})
        require_all_close(raw::sum_to(on_cuda(g), to), raw::sum_to(g, to), 1e-6, 1e-5);
    REQUIRE_THROWS_WITH(raw::max(Tensor::zeros({0, 3}, Device::CUDA), 0, false), Contains("max: reducing an empty axis"));
}

TEST_CASE("CUDA softmax and log-softmax, forward and backward, equal the CPU", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const std::vector<std::pair<int64_t, int64_t>> sizes = {{3, 1}, {37, 1031}, {5, 50257}, {300, 7}, {1, 256}};
    for (const auto& [rows, C] : sizes) {
        for (const float scale : {1.f, 1e3f, 1e4f}) {
            INFO(rows << " rows of " << C << ", scale " << scale);
            const Tensor x = transposed(rows, C, uint64_t(C), scale);  // non-contiguous input
            const Tensor xg = raw::transpose(on_cuda(raw::transpose(x, 0, 1)), 0, 1);
            const Tensor y = raw::softmax(x), ly = raw::log_softmax(x);
            const Tensor yg = raw::softmax(xg), lyg = raw::log_softmax(xg);
            require_all_close(yg, y, 1e-5, 1e-6);
            // log-softmax is x − lse: an absolute error of a few ulps of the inputs' magnitude.
            require_all_close(lyg, ly, 1e-6, 1e-5 + 1e-6 * scale);
            require_same_bits(raw::softmax(xg), yg);
            const Tensor g = transposed(rows, C, uint64_t(C) + 1);
            const Tensor gg = raw::transpose(on_cuda(raw::transpose(g, 0, 1)), 0, 1);
            // Backward from the CPU's y on both sides, so only the backward kernels are compared.
            require_all_close(raw::softmax_backward(on_cuda(y), gg), raw::softmax_backward(y, g), 1e-5, 1e-6);
            require_all_close(raw::log_softmax_backward(on_cuda(ly), gg), raw::log_softmax_backward(ly, g), 1e-5, 1e-5);
        }
    }
    REQUIRE_THROWS_WITH(raw::softmax_backward(Tensor::zeros({2, 3}, Device::CUDA), Tensor::zeros({2, 3})),
                        Contains("softmax_backward: inputs on different devices"));
}

TEST_CASE("CUDA layer norm forward and backward equal the CPU", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const std::vector<std::pair<int64_t, int64_t>> sizes = {{1, 1}, {37, 768}, {1000, 77}, {5, 1031}};
    for (const auto& [rows, C] : sizes) {
        for (const float scale : {1.f, 1e3f}) {
            INFO(rows << " rows of " << C << ", scale " << scale);
            const Tensor x = transposed(rows, C, 31, scale);
            const Tensor xg = raw::transpose(on_cuda(raw::transpose(x, 0, 1)), 0, 1);
            const Tensor w = test::random({C}, 32), b = test::random({C}, 33), g = test::random({rows, C}, 34);
            const raw::LayerNormResult want = raw::layernorm(x, w, b, 1e-5f);
            const raw::LayerNormResult got = raw::layernorm(xg, on_cuda(w), on_cuda(b), 1e-5f);
            require_all_close(got.y, want.y, 1e-5, 1e-5);
            require_all_close(got.mean, want.mean, 1e-6, 1e-6 * scale);
            require_all_close(got.rstd, want.rstd, 1e-6, 0);
            const raw::LayerNormGrads gw = raw::layernorm_backward(x, w, want.mean, want.rstd, g);
            const raw::LayerNormGrads gg =
                raw::layernorm_backward(xg, on_cuda(w), on_cuda(want.mean), on_cuda(want.rstd), on_cuda(g));
            require_all_close(gg.dx, gw.dx, 1e-4, 1e-5 / scale);  // dn − mean(dn) − n·mean(dn·n) cancels
            require_all_close(gg.dweight, gw.dweight, 1e-5, 1e-5);
            require_all_close(gg.dbias, gw.dbias, 1e-6, 1e-5);
            const raw::LayerNormGrads again =
                raw::layernorm_backward(xg, on_cuda(w), on_cuda(want.mean), on_cuda(want.rstd), on_cuda(g));
            require_same_bits(again.dweight, gg.dweight);
            require_same_bits(again.dx, gg.dx);
        }
    }
    REQUIRE_THROWS_WITH(raw::layernorm(Tensor::zeros({2, 3}, Device::CUDA), Tensor::ones({3}), Tensor::zeros({3}), 1e-5f),
                        Contains("layernorm: inputs on different devices") && Contains("[3] on cpu"));
}

TEST_CASE("CUDA embedding and its backward have the CPU's bits", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    for (const auto& [V, C] : std::vector<std::pair<int64_t, int64_t>>{{50257, 67}, {5, 1}, {11, 1031}}) {
        INFO("vocab " << V << ", dim " << C);
        const Tensor table = test::random({V, C}, 41);
        const Indices ids = test::random_ids(7, 33, V, 42);  // with V = 5 or 11, long runs of repeats
        require_same_bits(raw::embedding(on_cuda(table), ids), raw::embedding(table, ids));
        const Tensor g = raw::transpose(test::random({7, C, 33}, 43), 1, 2);  // strided gradient [7, 33, C]
        const Tensor want = raw::embedding_backward(ids, g, V);
        const Tensor got = raw::embedding_backward(ids, raw::transpose(on_cuda(test::random({7, C, 33}, 43)), 1, 2), V);
        REQUIRE(got.device() == Device::CUDA);
        require_same_bits(got, want);
    }
    REQUIRE_THROWS_WITH(raw::embedding(Tensor::zeros({5, 3}, Device::CUDA), Indices{{1}, {5}}),
                        Contains("embedding: id 5 out of range"));
}

TEST_CASE("CUDA cross-entropy forward and backward equal the CPU, ignored rows included", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    for (const auto& [N, V] : std::vector<std::pair<int64_t, int64_t>>{{37, 50257}, {300, 7}, {5, 1}}) {
        for (const float scale : {1.f, 1e3f, 1e4f}) {
            INFO(N << " rows of " << V << ", scale " << scale);
            const Tensor x = test::random({N, V}, 51, scale);
            Indices t = test::random_ids(1, N, V, 52);
            t.shape = {N};
            for (int64_t r = 0; r < N; r += 3) t.ids[r] = -1;  // every third row ignored
            const raw::CrossEntropyResult want = raw::cross_entropy(x, t, -1);
            const raw::CrossEntropyResult got = raw::cross_entropy(on_cuda(x), t, -1);
            REQUIRE(got.loss.device() == Device::CUDA);
            REQUIRE(got.counted == want.counted);
            require_all_close(got.logsumexp, want.logsumexp, 1e-6, 1e-5);
            require_all_close(got.loss, want.loss, 1e-5, 1e-5);
            require_same_bits(raw::cross_entropy(on_cuda(x), t, -1).loss, got.loss);
            const Tensor dw = raw::cross_entropy_backward(x, t, want.logsumexp, want.counted, 1.3f, -1);
            const Tensor dg = raw::cross_entropy_backward(on_cuda(x), t, on_cuda(want.logsumexp), want.counted, 1.3f, -1);
            require_all_close(dg, dw, 1e-5, 1e-8);
        }
    }
    const Indices all_ignored{{2}, {-1, -1}};
    const raw::CrossEntropyResult none = raw::cross_entropy(Tensor::ones({2, 3}, Device::CUDA), all_ignored, -1);
    REQUIRE(none.counted == 0);
    REQUIRE(none.loss.item() == 0.f);
    REQUIRE(raw::sum_all(raw::unary(Unary::Abs, raw::cross_entropy_backward(Tensor::ones({2, 3}, Device::CUDA), all_ignored,
                                                                             none.logsumexp, 0, 1.f, -1)))
                .item() == 0.f);
    REQUIRE_THROWS_WITH(raw::cross_entropy_backward(Tensor::ones({2, 3}, Device::CUDA), Indices{{2}, {0, 1}},
                                                    Tensor::zeros({2}), 2, 1.f, -1),
                        Contains("cross_entropy_backward: inputs on different devices"));
}
