// matmul through cuBLAS. On any machine ("[cuda]"): the GemmPlan that turns a row-major batched
// matmul into cublasSgemmStridedBatched calls is executed by a naive column-major sgemm with
// cuBLAS's semantics (op(A), leading dimensions, batch strides, and its argument checks) and must
// equal raw::matmul on the CPU. On a GPU ("[cuda][gpu]", skipped visibly without one): raw::matmul
// on CUDA tensors against the CPU.
#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>

#include "cuda/gemm.h"
#include "cuda/gemm_plan.h"
#include "cuda/runtime.h"
#include "tests/helpers.h"

using namespace splatlm;
using Catch::Contains;

namespace {

int64_t pick(Rng& rng, int64_t n) { return static_cast<int64_t>(rng.next_u64() % uint64_t(n)); }

Shape with_matrix(Shape batch, int64_t rows, int64_t cols) {
    batch.insert(batch.end(), {rows, cols});
    return batch;
}

// How an operand's memory is laid out. All but ColumnStrided and BatchReversed can be read by
// cuBLAS in place; ColumnStrided needs a contiguous copy; BatchReversed (batch axes stored in
// reverse order) cannot be one batch stride and makes the plan loop over outer batch axes.
enum class Layout { Contiguous, Transposed, Padded, ColumnStrided, BatchReversed };
constexpr int kLayouts = 5;

// A [batch..., rows, cols] view of N(0, scale²) values in the given layout.
Tensor matrix_operand(Rng& rng, const Shape& batch, int64_t rows, int64_t cols, Layout layout, float scale) {
    const size_t nb = batch.size();
    Shape stored = with_matrix(batch, rows, cols);
    int64_t offset = 0;
    if (layout == Layout::Transposed) std::swap(stored[nb], stored[nb + 1]);
    if (layout == Layout::Padded) stored[nb + 1] += 3, offset = 2;  // row stride cols + 3, sliced
    if (layout == Layout::ColumnStrided) stored[nb + 1] *= 2;       // every other column
    if (layout == Layout::BatchReversed) std::reverse(stored.begin(), stored.begin() + nb);
    const Tensor base = Tensor::randn({numel(stored) + offset}, rng, scale);
    Strides strides = contiguous_strides(stored);
    if (layout == Layout::Transposed) std::swap(strides[nb], strides[nb + 1]);
    if (layout == Layout::ColumnStrided) strides[nb + 1] = 2;
    if (layout == Layout::BatchReversed) std::reverse(strides.begin(), strides.begin() + nb);
    return Tensor::view_of(base.storage(), with_matrix(batch, rows, cols), strides, offset);
}

// A batch shape that broadcasts to `batch`: some leading axes dropped, some axes set to 1.
Shape broadcastable_to(const Shape& batch, Rng& rng) {
    Shape s(batch.begin() + pick(rng, int64_t(batch.size()) + 1), batch.end());
    for (int64_t& d : s)
        if (pick(rng, 3) == 0) d = 1;
    return s;
}

struct Case {
    Tensor a, b;
};

// Odd sizes and 1s, batch ranks 0–3 with broadcasting, every layout for each operand.
Case random_case(Rng& rng, float scale = 1.f) {
    const int64_t sizes[] = {1, 2, 3, 5, 7, 17};
    const int64_t M = sizes[pick(rng, 6)], N = sizes[pick(rng, 6)], K = sizes[pick(rng, 6)];
    Shape batch(pick(rng, 4));
    for (int64_t& d : batch) d = sizes[pick(rng, 4)];
    const Layout la = Layout(pick(rng, kLayouts)), lb = Layout(pick(rng, kLayouts));
    return {matrix_operand(rng, broadcastable_to(batch, rng), M, K, la, scale),
            matrix_operand(rng, broadcastable_to(batch, rng), K, N, lb, scale)};
}

// cublasSgemmStridedBatched (alpha = 1, beta = 0) on the host, column-major, with cuBLAS's own
// argument checks; every read and write is bounds-checked against its buffer (element offsets
// [lo, hi) relative to the pointer), so a wrong leading dimension or stride fails here instead of
// reading stray memory.
struct Buffer {
    const float* p;
    int64_t lo, hi;
    float at(int64_t i) const {
        if (i < lo || i >= hi) FAIL("read outside the operand's storage: element " << i);
        return p[i];
    }
};
Buffer buffer_of(const Tensor& t) {
    return {t.data(), -t.offset(), t.storage()->size() - t.offset()};
}

void reference_sgemm_strided_batched(bool transa, bool transb, int64_t m, int64_t n, int64_t k, Buffer A, int64_t lda,
                                     int64_t stride_a, Buffer B, int64_t ldb, int64_t stride_b, float* C,
                                     int64_t c_size, int64_t ldc, int64_t stride_c, int64_t batch) {
    REQUIRE(m >= 0);
    REQUIRE(n >= 0);
    REQUIRE(k >= 0);
    REQUIRE(std::max({m, n, k, lda, ldb, ldc, batch}) <= INT_MAX);
    REQUIRE(lda >= std::max<int64_t>(1, transa ? k : m));
    REQUIRE(ldb >= std::max<int64_t>(1, transb ? n : k));
    REQUIRE(ldc >= std::max<int64_t>(1, m));
    for (int64_t p = 0; p < batch; ++p)
        for (int64_t j = 0; j < n; ++j)
            for (int64_t i = 0; i < m; ++i) {
                double sum = 0;
                for (int64_t l = 0; l < k; ++l) {
                    const float x = A.at(p * stride_a + (transa ? l + i * lda : i + l * lda));
                    const float y = B.at(p * stride_b + (transb ? j + l * ldb : l + j * ldb));
                    sum += double(x) * y;
                }
                const int64_t at = p * stride_c + i + j * ldc;
                if (at < 0 || at >= c_size) FAIL("write outside C: element " << at);
                C[at] = float(sum);
            }
}

// What raw::matmul does for CUDA tensors, with the CPU standing in: broadcast, plan, copy what
// the plan cannot read in place, replan, and run each outer call with the reference sgemm.
struct HostRun {
    Tensor out;
    cuda::GemmPlan plan;  // the plan executed
    bool copied = false;  // an operand had to be made contiguous first
};
HostRun planned_matmul_on_host(const Tensor& a, const Tensor& b) {
    HostRun run;
    const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
    const Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                         Shape(b.shape().begin(), b.shape().end() - 2), "test");
    Tensor ea = raw::expand(a, with_matrix(batch, M, K)), eb = raw::expand(b, with_matrix(batch, K, N));
    cuda::GemmPlan plan = cuda::plan_gemm(batch, M, N, K, ea.strides(), eb.strides());
    if (plan.copy_a || plan.copy_b) {
        run.copied = true;
        if (plan.copy_a) ea = raw::contiguous(ea);
        if (plan.copy_b) eb = raw::contiguous(eb);
        plan = cuda::plan_gemm(batch, M, N, K, ea.strides(), eb.strides());
        REQUIRE(!plan.copy_a);
        REQUIRE(!plan.copy_b);
    }
    Tensor out = Tensor::full(with_matrix(batch, M, N), NAN);  // every element must be written
    for (int64_t i = 0; i < numel(plan.outer); ++i) {
        const std::array<int64_t, 3> off = cuda::outer_offsets(plan, i);
        Buffer A = buffer_of(eb), B = buffer_of(ea);  // the operand swap: cuBLAS's A is our b
        A.p += off[2], A.lo -= off[2], A.hi -= off[2];
        B.p += off[1], B.lo -= off[1], B.hi -= off[1];
        reference_sgemm_strided_batched(plan.transa, plan.transb, plan.m, plan.n, plan.k, A, plan.lda, plan.stride_a, B,
                                        plan.ldb, plan.stride_b, out.data() + off[0], out.numel() - off[0], plan.ldc,
                                        plan.stride_c, plan.batch);
    }
    run.out = out;
    run.plan = plan;
    return run;
}

float max_abs(const Tensor& t) {
    float m = 0.f;
    for (float v : t.to_vector()) m = std::max(m, std::abs(v));
    return m;
}

// |got − want| ≤ K·ε·max|a|·max|b| for every element, both finite: a float sum of K products is
// within about that of the exact one (in practice far less: errors grow like √K), and a wrong
// element (another row, column or batch) is off by about max|a|·max|b|. got may live on the GPU.
void require_matmul_close(const Tensor& got, const Tensor& want, const Tensor& a, const Tensor& b) {
    REQUIRE(got.shape() == want.shape());
    const double tol = double(std::max<int64_t>(a.size(-1), 1)) * FLT_EPSILON * max_abs(a) * max_abs(b);
    const std::vector<float> g = got.to(Device::CPU).to_vector(), w = want.to_vector();
    size_t bad = 0;
    while (bad < g.size() && std::isfinite(g[bad]) && std::isfinite(w[bad]) && std::abs(double(g[bad]) - w[bad]) <= tol)
        ++bad;
    INFO("element " << bad << " of " << g.size() << ": " << (bad < g.size() ? g[bad] : 0.f) << " vs "
                    << (bad < g.size() ? w[bad] : 0.f) << ", tolerance " << tol);
    REQUIRE(bad == g.size());
}

}  // namespace

TEST_CASE("gemm plan: executed as cuBLAS would, equals raw::matmul on the CPU", "[cuda]") {
    Rng rng(21);
    int copies = 0, loops = 0, folds = 0;
    for (int trial = 0; trial < 400; ++trial) {
        const Case c = random_case(rng);
        INFO("trial " << trial << ": " << shape_str(c.a.shape()) << " strides " << shape_str(c.a.strides()) << " @ "
                      << shape_str(c.b.shape()) << " strides " << shape_str(c.b.strides()));
        const HostRun run = planned_matmul_on_host(c.a, c.b);
        require_matmul_close(run.out, raw::matmul(c.a, c.b), c.a, c.b);
        copies += run.copied;
        loops += !run.plan.outer.empty();
        folds += run.plan.n > c.a.size(-2);
    }
    // The random cases reach every branch of the plan.
    REQUIRE(loops > 10);
    REQUIRE(folds > 10);
    REQUIRE(copies > 10);
}

TEST_CASE("gemm plan: operand swap, transpose flags, leading dimensions, batch strides", "[cuda]") {
    // Row-major C[5×3] = A[5×7]·B[7×3] is column-major Cᵀ = Bᵀ·Aᵀ: m = N, n = M, cuBLAS's A is our B.
    cuda::GemmPlan p = cuda::plan_gemm({}, 5, 3, 7, {7, 1}, {3, 1});
    REQUIRE((!p.copy_a && !p.copy_b && !p.transa && !p.transb));
    REQUIRE((p.m == 3 && p.n == 5 && p.k == 7 && p.lda == 3 && p.ldb == 7 && p.ldc == 3 && p.batch == 1));

    // Transposed views (stored [K, M] and [N, K]) become transpose flags with the stored row length as ld.
    p = cuda::plan_gemm({}, 5, 3, 7, {1, 5}, {1, 7});
    REQUIRE((p.transa && p.transb && p.lda == 7 && p.ldb == 5));

    // A padded row (a column slice of a wider matrix) keeps its row stride as ld.
    p = cuda::plan_gemm({}, 5, 3, 7, {10, 1}, {3, 1});
    REQUIRE((!p.transb && p.ldb == 10));

    // Every other column: no leading dimension describes it, so A is copied.
    p = cuda::plan_gemm({}, 5, 3, 7, {14, 2}, {3, 1});
    REQUIRE((p.copy_a && !p.copy_b));

    // A batch of 4 against one shared B (stride 0): one strided-batched call.
    p = cuda::plan_gemm({4}, 5, 3, 7, {0, 1, 5}, {21, 3, 1});
    REQUIRE((p.batch == 4 && p.stride_a == 21 && p.stride_b == 0 && p.stride_c == 15 && p.outer.empty()));

    // [2, 4] batch of contiguous A @ one B: the batch folds into A's rows, one GEMM of 40 rows.
    p = cuda::plan_gemm({2, 4}, 5, 3, 7, {140, 35, 7, 1}, {0, 0, 3, 1});
    REQUIRE((p.batch == 1 && p.n == 40 && p.ldb == 7 && p.outer.empty()));

    // One row broadcast over a batch of 3 (stride 0) would fold into overlapping rows: batched instead.
    p = cuda::plan_gemm({3}, 1, 3, 7, {0, 7, 1}, {0, 3, 1});
    REQUIRE((!p.copy_a && p.n == 1 && p.batch == 3 && p.stride_a == 0 && p.stride_b == 0 && p.stride_c == 3));

    // Batch axes stored in reverse order do not merge: the outer one is looped over.
    p = cuda::plan_gemm({2, 4}, 5, 3, 7, {35, 70, 7, 1}, {84, 21, 3, 1});
    REQUIRE((p.batch == 4 && p.stride_b == 70 && p.outer == Shape{2}));
    REQUIRE((p.outer_strides[0] == Strides{60} && p.outer_strides[1] == Strides{35} && p.outer_strides[2] == Strides{84}));
    REQUIRE(cuda::outer_offsets(p, 1) == std::array<int64_t, 3>{60, 35, 84});
}

TEST_CASE("a CPU-only build's gemm entry point says CUDA is absent", "[cuda]") {
    if (cuda::built_with_cuda()) return;  // the stubs are linked only without nvcc or with CUDA=0
    float x[1] = {};
    REQUIRE_THROWS_WITH(cuda::gemm(cuda::plan_gemm({}, 1, 1, 1, {1, 1}, {1, 1}), x, x, x), Contains("no CUDA support"));
}

// ---- on the GPU ----

namespace {

// The same view (shape, strides, offset) over a CUDA copy of x's whole storage.
Tensor to_cuda_same_layout(const Tensor& x) {
    const Tensor storage = Tensor::view_of(x.storage(), {x.storage()->size()}, {1}, 0).to(Device::CUDA);
    return Tensor::view_of(storage.storage(), x.shape(), x.strides(), x.offset());
}

void require_gpu_matmul_matches_cpu(const Tensor& a, const Tensor& b) {
    const Tensor got = raw::matmul(to_cuda_same_layout(a), to_cuda_same_layout(b));
    REQUIRE(got.device() == Device::CUDA);
    require_matmul_close(got, raw::matmul(a, b), a, b);
}

}  // namespace

TEST_CASE("CUDA matmul equals the CPU: layouts, transposes, broadcast batches, odd sizes", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    Rng rng(22);
    for (const float scale : {1.f, 1e4f}) {  // ordinary values and large magnitudes
        for (int trial = 0; trial < 200; ++trial) {
            const Case c = random_case(rng, scale);
            INFO("trial " << trial << ", scale " << scale << ": " << shape_str(c.a.shape()) << " strides "
                          << shape_str(c.a.strides()) << " @ " << shape_str(c.b.shape()) << " strides "
                          << shape_str(c.b.strides()));
            require_gpu_matmul_matches_cpu(c.a, c.b);
        }
    }
    // Larger odd sizes in all four transpose combinations, a broadcast batch (B shared: stride 0
    // or folded) and a batch stored in reverse (outer loop).
    const std::vector<Layout> both = {Layout::Contiguous, Layout::Transposed};
    for (Layout la : both)
        for (Layout lb : both) {
            INFO("layouts " << int(la) << ", " << int(lb));
            require_gpu_matmul_matches_cpu(matrix_operand(rng, {}, 257, 129, la, 3.f), matrix_operand(rng, {}, 129, 65, lb, 3.f));
            require_gpu_matmul_matches_cpu(matrix_operand(rng, {3, 5}, 33, 513, la, 1e3f),
                                           matrix_operand(rng, {1, 5}, 513, 31, lb, 1e3f));
            require_gpu_matmul_matches_cpu(matrix_operand(rng, {3, 1}, 65, 17, la, 1.f), matrix_operand(rng, {}, 17, 9, lb, 1.f));
        }
    require_gpu_matmul_matches_cpu(matrix_operand(rng, {3, 5}, 31, 33, Layout::BatchReversed, 1.f),
                                   matrix_operand(rng, {3, 5}, 33, 35, Layout::ColumnStrided, 1.f));
}

TEST_CASE("CUDA matmul: empty sums give zeros, empty results, mixed devices refused", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const Tensor a = test::random({4, 0}, 1).to(Device::CUDA), b = test::random({0, 3}, 2).to(Device::CUDA);
    const Tensor zero = raw::matmul(a, b);
    REQUIRE(zero.device() == Device::CUDA);
    REQUIRE(zero.to(Device::CPU).to_vector() == std::vector<float>(12, 0.f));
    REQUIRE(raw::matmul(test::random({0, 5}, 3).to(Device::CUDA), test::random({5, 3}, 4).to(Device::CUDA)).numel() == 0);

    const Tensor x = test::random({2, 3, 5}, 5), w = test::random({5, 7}, 6);
    REQUIRE_THROWS_WITH(raw::matmul(x.to(Device::CUDA), w),
                        Contains("matmul: operands on different devices") && Contains("[2, 3, 5] on cuda") &&
                            Contains("[5, 7] on cpu"));
}
