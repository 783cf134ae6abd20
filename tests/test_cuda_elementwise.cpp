// Elementwise ops through BroadcastIndex: the indexer against a naive multi-index reference and the
// kernels' per-element body run on the host against raw:: on the CPU (any machine, "[cuda]"); then
// the CUDA kernels against the CPU ("[cuda][gpu]", skipped visibly without a GPU).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "cuda/elementwise.h"
#include "cuda/runtime.h"
#include "tensor/broadcast_index.h"
#include "tensor/elementwise_at.h"
#include "tensor/elementwise_dispatch.h"
#include "tests/helpers.h"

using namespace splatlm;
using Catch::Contains;

namespace {

#define SPLATLM_LIST_ENTRY(name) Unary::name,
const std::vector<Unary> kUnaryOps = {SPLATLM_UNARY_OPS(SPLATLM_LIST_ENTRY)};
#undef SPLATLM_LIST_ENTRY
#define SPLATLM_LIST_ENTRY(name) Binary::name,
const std::vector<Binary> kBinaryOps = {SPLATLM_BINARY_OPS(SPLATLM_LIST_ENTRY)};
#undef SPLATLM_LIST_ENTRY

int64_t pick(Rng& rng, int64_t n) { return static_cast<int64_t>(rng.next_u64() % uint64_t(n)); }

// A random shape of rank 0..max_rank whose sizes are mostly odd (1, 2, 3, 5, 7, 9), at most 5000
// elements.
Shape random_shape(Rng& rng, int max_rank) {
    const int64_t sizes[] = {1, 2, 3, 5, 7, 9};
    Shape s;
    do {
        s.assign(pick(rng, max_rank + 1), 0);
        for (int64_t& d : s) d = sizes[pick(rng, 6)];
    } while (numel(s) > 5000);
    return s;
}

// What values an operand holds: N(0, scale²); uniform in [0.1, 4] (for log, sqrt); or integers in
// [-2, 2], so that Equal, GreaterEqual, Maximum and Minimum meet ties and ReluGrad meets zeros.
enum class Fill { Normal, Positive, Ties };

// A random tensor of `shape` in a random memory layout: axes permuted in memory, every other element
// of a wider buffer on some axes, and an offset into the buffer — or plain contiguous.
Tensor random_layout(const Shape& shape, Rng& rng, Fill fill, float scale = 1.f) {
    const size_t nd = shape.size();
    std::vector<int64_t> order(nd), step(nd, 1);  // memory axis order, element step per axis
    std::iota(order.begin(), order.end(), 0);
    const bool plain = pick(rng, 4) == 0;
    if (!plain) {
        for (size_t i = nd; i > 1; --i) std::swap(order[i - 1], order[pick(rng, int64_t(i))]);
        for (int64_t& s : step) s = 1 + pick(rng, 2);
    }
    Shape base_shape(nd);
    for (size_t i = 0; i < nd; ++i) base_shape[i] = shape[order[i]] * step[order[i]];
    const int64_t offset = plain ? 0 : pick(rng, 3);
    const int64_t n = numel(base_shape) + offset;
    std::vector<float> values(n);
    for (float& v : values) {
        if (fill == Fill::Normal) {
            rng.normal(&v, 1, 0.f, scale);
        } else if (fill == Fill::Positive) {
            rng.uniform(&v, 1, 0.1f, 4.f);
        } else {
            v = float(pick(rng, 5) - 2);
        }
    }
    Tensor base = Tensor::from_vector(values, {n});
    const Strides dense = contiguous_strides(base_shape);
    Strides strides(nd);
    for (size_t i = 0; i < nd; ++i) strides[order[i]] = dense[i] * step[order[i]];
    return Tensor::view_of(base.storage(), shape, strides, offset);
}

// A shape that broadcasts to `shape`: some leading axes dropped, some axes set to 1.
Shape broadcastable_to(const Shape& shape, Rng& rng) {
    Shape s(shape.begin() + pick(rng, int64_t(shape.size()) + 1), shape.end());
    for (int64_t& d : s)
        if (pick(rng, 3) == 0) d = 1;
    return s;
}

// The naive reference: flat index → multi-index (row-major) → dot product with each operand's strides.
template <int N>
void require_offsets_match(const Shape& shape, const std::array<Strides, N>& strides) {
    const BroadcastIndex<N> index = make_broadcast_index<N>(shape, strides, "test");
    REQUIRE(index.numel == numel(shape));
    std::vector<int64_t> idx(shape.size());
    for (int64_t i = 0; i < numel(shape); ++i) {
        int64_t rem = i;
        for (size_t a = shape.size(); a-- > 0;) idx[a] = rem % shape[a], rem /= shape[a];
        const Offsets<N> got = index.offsets(i);
        for (int k = 0; k < N; ++k) {
            const int64_t want = std::inner_product(idx.begin(), idx.end(), strides[k].begin(), int64_t(0));
            if (got.at[k] != want) {
                INFO("shape " << shape_str(shape) << ", operand " << k << ", flat index " << i);
                REQUIRE(got.at[k] == want);
            }
        }
    }
}

// |got − want| ≤ 1e-6·|want| + 1e-6·floor for every element, both finite; got may live on the GPU.
// floor (CPU, broadcastable to want's shape) is 1 when not given: see error_floor. One REQUIRE for
// the whole tensor (the large case has 16.8M elements), naming the first element off.
//
// Why not bitwise: the compiler may contract a·b + c into one FMA (g++ by default, nvcc too) and
// does so differently in the vectorised CPU loops than in the one-element-at-a-time path, and
// CUDA's expf, tanhf and log1pf are within 2 ulp (~2.4e-7 relative) of the exact value, glibc's
// within 1. A wrong offset reads an unrelated value, far outside these tolerances.
void require_close_to(const Tensor& got, const Tensor& want, const Tensor& floor = Tensor()) {
    REQUIRE(got.shape() == want.shape());
    const std::vector<float> g = got.to_vector(), w = want.to_vector();
    const std::vector<float> f = floor.defined() ? raw::expand(floor, want.shape()).to_vector() : std::vector<float>(g.size(), 1.f);
    size_t bad = 0;
    while (bad < g.size() && std::isfinite(g[bad]) && std::isfinite(w[bad]) &&
           std::abs(double(g[bad]) - w[bad]) <= 1e-6 * std::abs(double(w[bad])) + 1e-6 * f[bad])
        ++bad;
    INFO("element " << bad << " of " << g.size() << ": " << (bad < g.size() ? g[bad] : 0.f) << " vs "
                    << (bad < g.size() ? w[bad] : 0.f));
    REQUIRE(bad == g.size());
}

// The absolute part of the tolerance, in units of 1e-6. Three ops compute their result out of a
// cancellation: GELU at negative x (1 + tanh u with tanh u ≈ −1), and the derivatives in GeluGrad
// and TanhGrad (1 − t² with t ≈ ±1), which the upstream gradient g then multiplies. Compiling the
// math with and without FMA contraction (2M random inputs, scales 3 and 1e4) moved GELU by up to
// 4.4e-7, GeluGrad by 1.1e-6·|g| and TanhGrad by 6e-8·|g|, and every other op by nothing; the
// floors below (1e-5 and 1e-5·|g|) are about 10× or more those.
Tensor error_floor(Unary op) { return Tensor::scalar(op == Unary::Gelu ? 10.f : 1.f); }
Tensor error_floor(Binary op, const Tensor& g) {
    if (op == Binary::GeluGrad || op == Binary::TanhGrad) return raw::affine(raw::unary(Unary::Abs, g), 10.f, 1.f);
    return Tensor::scalar(1.f);
}

Fill fill_for(Unary op) { return op == Unary::Log || op == Unary::Sqrt ? Fill::Positive : Fill::Normal; }

// Half the time ties and zeros; never for Div, whose 0/0 the GPU comparison (finite only) would refuse.
Fill fill_for(Binary op, Rng& rng) { return op != Binary::Div && pick(rng, 2) ? Fill::Ties : Fill::Normal; }

}  // namespace

TEST_CASE("broadcast index: offsets equal a naive multi-index reference", "[cuda]") {
    Rng rng(11);
    for (int trial = 0; trial < 300; ++trial) {
        const Shape shape = random_shape(rng, 6);
        // Output in its own random layout; inputs broadcast (stride 0) and/or strided, transposed.
        const Tensor out = random_layout(shape, rng, Fill::Normal);
        const Tensor a = raw::expand(random_layout(broadcastable_to(shape, rng), rng, Fill::Normal), shape);
        const Tensor b = raw::expand(random_layout(broadcastable_to(shape, rng), rng, Fill::Normal), shape);
        require_offsets_match<3>(shape, {out.strides(), a.strides(), b.strides()});
        require_offsets_match<2>(shape, {out.strides(), b.strides()});
    }
    // Arbitrary strides, none of which merge.
    for (int trial = 0; trial < 100; ++trial) {
        const Shape shape = random_shape(rng, kMaxIndexDims);
        std::array<Strides, 2> strides;
        for (Strides& s : strides)
            for (size_t a = 0; a < shape.size(); ++a) s.push_back(pick(rng, 1000));
        require_offsets_match<2>(shape, strides);
    }
}

TEST_CASE("broadcast index: merges what every operand walks contiguously, refuses too many axes", "[cuda]") {
    REQUIRE(make_broadcast_index<2>({3, 5, 7}, {Strides{35, 7, 1}, Strides{35, 7, 1}}, "t").ndim == 1);
    // A row broadcast over the rows: [rows, cols] stays two axes, the broadcast one with stride 0.
    const BroadcastIndex<2> row = make_broadcast_index<2>({4, 1, 9}, {Strides{9, 9, 1}, Strides{0, 0, 1}}, "t");
    REQUIRE(row.ndim == 2);
    REQUIRE(row.stride[1][0] == 0);
    REQUIRE(make_broadcast_index<2>({1, 1}, {Strides{1, 1}, Strides{0, 0}}, "t").ndim == 0);  // one element

    const Shape nine(9, 2);
    REQUIRE(make_broadcast_index<2>(nine, {contiguous_strides(nine), contiguous_strides(nine)}, "t").ndim == 1);
    Strides reversed(9);
    for (int a = 0; a < 9; ++a) reversed[a] = int64_t(1) << a;  // every axis transposed: nothing merges
    REQUIRE_THROWS_WITH(make_broadcast_index<2>(nine, {contiguous_strides(nine), reversed}, "Add"),
                        Contains("Add: shape [2, 2, 2, 2, 2, 2, 2, 2, 2]") && Contains("more than the 8"));
}

TEST_CASE("elementwise ops through the broadcast index equal raw:: on the CPU, every op", "[cuda][kernels]") {
    Rng rng(12);
    for (Unary op : kUnaryOps) {
        for (int trial = 0; trial < 20; ++trial) {
            INFO(op_name(op) << ", trial " << trial);
            const Shape shape = random_shape(rng, 5);
            const Tensor x = random_layout(shape, rng, fill_for(op), 3.f);
            Tensor out = Tensor::empty(shape);
            const BroadcastIndex<2> index = make_broadcast_index<2>(shape, {out.strides(), x.strides()}, "test");
            dispatch_unary(op, [&](auto k) {
                for (int64_t i = 0; i < index.numel; ++i) unary_at<decltype(k)::value>(index, i, out.data(), x.data());
            });
            require_close_to(out, raw::unary(op, x), error_floor(op));
        }
    }
    for (Binary op : kBinaryOps) {
        for (int trial = 0; trial < 20; ++trial) {
            INFO(op_name(op) << ", trial " << trial);
            const Shape shape = random_shape(rng, 5);
            const Tensor a = random_layout(broadcastable_to(shape, rng), rng, fill_for(op, rng), 3.f);
            const Tensor b = random_layout(broadcastable_to(shape, rng), rng, fill_for(op, rng), 3.f);
            const Tensor want = raw::binary(op, a, b);
            // As raw::binary does: the output shape is what a and b broadcast to (it may be smaller
            // than `shape`), and both are expanded to it.
            const Tensor ea = raw::expand(a, want.shape()), eb = raw::expand(b, want.shape());
            Tensor out = Tensor::empty(want.shape());
            const BroadcastIndex<3> index =
                make_broadcast_index<3>(want.shape(), {out.strides(), ea.strides(), eb.strides()}, "test");
            dispatch_binary(op, [&](auto k) {
                for (int64_t i = 0; i < index.numel; ++i)
                    binary_at<decltype(k)::value>(index, i, out.data(), ea.data(), eb.data());
            });
            require_close_to(out, want, error_floor(op, b));
        }
    }
}

TEST_CASE("op names and dispatch come from one list", "[cuda]") {
    REQUIRE(std::string(op_name(Unary::EluPlusOne)) == "EluPlusOne");
    REQUIRE(std::string(op_name(Binary::SigmoidGrad)) == "SigmoidGrad");
    for (Unary op : kUnaryOps) REQUIRE(dispatch_unary(op, [](auto k) { return decltype(k)::value; }) == op);
    for (Binary op : kBinaryOps) REQUIRE(dispatch_binary(op, [](auto k) { return decltype(k)::value; }) == op);
}

TEST_CASE("a CPU-only build's elementwise entry points say CUDA is absent", "[cuda]") {
    if (cuda::built_with_cuda()) return;  // the stubs are linked only without nvcc or with CUDA=0
    const BroadcastIndex<2> index = make_broadcast_index<2>({3}, {Strides{1}, Strides{1}}, "t");
    float x[3] = {};
    REQUIRE_THROWS_WITH(cuda::unary(Unary::Exp, index, x, x), Contains("no CUDA support"));
}

// ---- on the GPU ----

namespace {

// The same view (shape, strides, offset) over a CUDA copy of x's whole storage.
Tensor to_cuda_same_layout(const Tensor& x) {
    const Tensor storage = Tensor::view_of(x.storage(), {x.storage()->size()}, {1}, 0).to(Device::CUDA);
    return Tensor::view_of(storage.storage(), x.shape(), x.strides(), x.offset());
}

// The CUDA result, copied back, against the CPU's.
void require_gpu_close(const Tensor& gpu, const Tensor& cpu, const Tensor& floor = Tensor()) {
    REQUIRE(gpu.device() == Device::CUDA);
    require_close_to(gpu, cpu, floor);
}

}  // namespace

TEST_CASE("CUDA elementwise ops equal the CPU: every op, broadcasting, odd sizes, views", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    Rng rng(13);
    const std::vector<std::pair<Shape, Shape>> shapes = {
        {{257}, {257}},              // odd length, one block and a bit
        {{3, 1, 257}, {5, 1}},       // both broadcast → [3, 5, 257]
        {{1}, {33, 65}},             // a scalar against a matrix
        {{7, 9, 11, 13}, {9, 1, 13}},
        {{}, {}},                    // rank 0
        {{0, 5}, {5}},               // empty: no launch
    };
    for (const float scale : {3.f, 1e4f}) {  // ordinary values and large magnitudes
        for (const auto& [sa, sb] : shapes) {
            for (Unary op : kUnaryOps) {
                if (op == Unary::Exp && scale > 100) continue;  // overflows to inf on both sides
                INFO(op_name(op) << " on " << shape_str(sa) << ", scale " << scale);
                const Tensor x = random_layout(sa, rng, fill_for(op), scale);
                require_gpu_close(raw::unary(op, to_cuda_same_layout(x)), raw::unary(op, x), error_floor(op));
            }
            for (Binary op : kBinaryOps) {
                INFO(op_name(op) << " on " << shape_str(sa) << " and " << shape_str(sb) << ", scale " << scale);
                const Tensor a = random_layout(sa, rng, fill_for(op, rng), scale);
                const Tensor b = random_layout(sb, rng, fill_for(op, rng), scale);
                require_gpu_close(raw::binary(op, to_cuda_same_layout(a), to_cuda_same_layout(b)), raw::binary(op, a, b),
                                  error_floor(op, b));
            }
        }
    }
}

TEST_CASE("CUDA elementwise: more elements than threads launched, and mixed devices refused", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    // 4097 × 4099 > 2^16 blocks × 256 threads: some threads run the grid-stride loop twice.
    const Tensor a = test::random({4097, 4099}, 1), row = test::random({4099}, 2);
    require_gpu_close(raw::binary(Binary::Mul, a.to(Device::CUDA), row.to(Device::CUDA)), raw::binary(Binary::Mul, a, row));
    require_gpu_close(raw::unary(Unary::Tanh, raw::transpose(a.to(Device::CUDA), 0, 1)),
                      raw::unary(Unary::Tanh, raw::transpose(a, 0, 1)));

    REQUIRE_THROWS_WITH(raw::binary(Binary::Add, a.to(Device::CUDA), row),
                        Contains("Add: operands on different devices") && Contains("[4097, 4099] on cuda") &&
                            Contains("[4099] on cpu"));
}
