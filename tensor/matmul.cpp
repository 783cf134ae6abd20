// matmul.cpp — batched matrix products with numpy broadcasting over the batch axes, lowered onto
// gemm(). Strides travel into the GEMM (its packing absorbs them), so transposed operands never copy.
// CUDA tensors go to cuBLAS through a GemmPlan (cuda/gemm_plan.h), which likewise turns transposed
// operands into transpose flags.
#include <algorithm>
#include <vector>

#include "cuda/gemm.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/ops.h"
#include "tensor/strided.h"

namespace splatlm::raw {

namespace {

// out = a @ b on the GPU; a and b already broadcast to out's batch axes, M, N, K >= 1.
void cuda_matmul(const Tensor& a, const Tensor& b, Tensor& out) {
    const Shape batch(out.shape().begin(), out.shape().end() - 2);
    const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
    cuda::GemmPlan plan = cuda::plan_gemm(batch, M, N, K, a.strides(), b.strides());
    if (!plan.copy_a && !plan.copy_b) return cuda::gemm(plan, a.data(), b.data(), out.data());
    // An operand cuBLAS cannot read in place (not a plain or transposed matrix) is copied first.
    const Tensor ca = plan.copy_a ? contiguous(a) : a, cb = plan.copy_b ? contiguous(b) : b;
    cuda::gemm(cuda::plan_gemm(batch, M, N, K, ca.strides(), cb.strides()), ca.data(), cb.data(), out.data());
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
    SPLATLM_CHECK(a.defined() && b.defined(), "matmul: undefined tensor");
    SPLATLM_CHECK(a.device() == b.device(), "matmul: operands on different devices: ", shape_str(a.shape()), " on ",
                  device_name(a.device()), ", ", shape_str(b.shape()), " on ", device_name(b.device()));
    SPLATLM_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: needs operands of rank >= 2, got ", shape_str(a.shape()),
                  " and ", shape_str(b.shape()));
    const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
    SPLATLM_CHECK(b.size(-2) == K, "matmul: inner dimensions differ: ", shape_str(a.shape()), " @ ",
                  shape_str(b.shape()));
    Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
    Shape batch = broadcast_shapes(a_batch, b_batch, "matmul (batch axes)");
    Shape out_shape = batch;
    out_shape.push_back(M);
    out_shape.push_back(N);
    const Device device = a.device();
    if (device == Device::CUDA && K == 0 && numel(out_shape) > 0) return Tensor::zeros(out_shape, device);  // empty sums
    Tensor out = Tensor::empty(out_shape, device);
    if (out.numel() == 0) return out;
    // Both operands stretched to the broadcast batch (stretched axes get stride 0).
    Shape a_full = batch, b_full = batch;
    a_full.insert(a_full.end(), {M, K});
    b_full.insert(b_full.end(), {K, N});
    if (device == Device::CUDA) {
        cuda_matmul(expand(a, a_full), expand(b, b_full), out);
        return out;
    }
    const int64_t rsb = b.strides()[b.dim() - 2], csb = b.strides()[b.dim() - 1];
    const int64_t rsa = a.strides()[a.dim() - 2], csa = a.strides()[a.dim() - 1];

    // One big GEMM when b has no batch and a's batch axes fold into its rows ([B, T, C] @ [C, N]).
    if (numel(b_batch) == 1) {
        Shape rows(a.shape().begin(), a.shape().end() - 1);
        Strides row_strides(a.strides().begin(), a.strides().end() - 1);
        StridedLayout<1> L = coalesce<1>(rows, {row_strides});
        if (L.shape.size() <= 1) {
            const int64_t fold_rs = L.shape.empty() ? rsa : L.strides[0][0];
            gemm(numel(rows), N, K, 1.f, a.data(), fold_rs, csa, b.data(), rsb, csb, 0.f, out.data(), N, 1);
            return out;
        }
    }
    // General case: one pointer triple per batch element, found by walking the broadcast batch shape.
    Tensor ea = expand(a, a_full), eb = expand(b, b_full);
    const int64_t count = numel(batch), nb = static_cast<int64_t>(batch.size());
    std::vector<const float*> pa(count), pb(count);
    std::vector<float*> pc(count);
    for (int64_t i = 0; i < count; ++i) {
        int64_t rem = i, oa = 0, ob = 0;
        for (int64_t ax = nb - 1; ax >= 0; --ax) {
            int64_t idx = rem % batch[ax];
            rem /= batch[ax];
            oa += idx * ea.strides()[ax];
            ob += idx * eb.strides()[ax];
        }
        pa[i] = ea.data() + oa;
        pb[i] = eb.data() + ob;
        pc[i] = out.data() + i * M * N;
    }
    gemm_batched(count, M, N, K, 1.f, pa.data(), rsa, csa, pb.data(), rsb, csb, 0.f, pc.data(), N, 1);
    return out;
}

void matmul_add_into(Tensor& c, const Tensor& a, const Tensor& b) {
    SPLATLM_CHECK(a.dim() == 2 && b.dim() == 2 && c.dim() == 2 && a.size(1) == b.size(0) && c.size(0) == a.size(0) &&
                      c.size(1) == b.size(1) && c.is_contiguous() && a.device() == Device::CPU &&
                      b.device() == Device::CPU && c.device() == Device::CPU,
                  "matmul_add_into: ", shape_str(c.shape()), " += ", shape_str(a.shape()), " @ ", shape_str(b.shape()),
                  " needs CPU matrices that fit and a contiguous target");
    const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
    if (M == 0 || N == 0 || K == 0) return;
    gemm(M, N, K, 1.f, a.data(), a.strides()[0], a.strides()[1], b.data(), b.strides()[0], b.strides()[1], 1.f,
         c.data(), N, 1);
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
    SPLATLM_CHECK(x.defined() && w.defined() && x.dim() >= 1 && w.dim() == 2 && x.size(-1) == w.size(1) &&
                      (!b.defined() || (b.dim() == 1 && b.size(0) == w.size(0))),
                  "linear: x ", x.defined() ? shape_str(x.shape()) : "undefined", " · weight ",
                  w.defined() ? shape_str(w.shape()) : "undefined", "ᵀ + bias ", b.defined() ? shape_str(b.shape()) : "none",
                  " do not fit (expected [..., in], [out, in], [out])");
    const int64_t in = w.size(1), out = w.size(0);
    Shape out_shape(x.shape().begin(), x.shape().end() - 1);
    out_shape.push_back(out);
    if (x.device() != Device::CPU || w.device() != Device::CPU || in == 0 || out == 0) {  // the unfused composition
        Tensor y = x.dim() >= 2 ? matmul(x, transpose(w, 0, 1)) : reshape(matmul(reshape(x, {1, in}), transpose(w, 0, 1)), out_shape);
        return b.defined() ? binary(Binary::Add, y, b) : y;
    }
    SPLATLM_CHECK(!b.defined() || b.device() == Device::CPU, "linear: bias on ", device_name(b.device()), ", x on cpu");
    const int64_t rows = numel(out_shape) / out;
    const Tensor x2 = reshape(x, {rows, in}), bias = b.defined() ? contiguous(b) : b;
    Tensor y = Tensor::empty(out_shape);
    float* py = y.data();
    if (bias.defined()) {  // every row of y starts as the bias (a strided copy: split across threads)
        Tensor rows_of_y = reshape(y, {rows, out});
        copy_into(rows_of_y, expand(bias, {rows, out}));
    }
    // B = wᵀ: B(k, n) = w(n, k), so its row stride is w's column stride and vice versa.
    gemm(rows, out, in, 1.f, x2.data(), x2.strides()[0], x2.strides()[1], w.data(), w.strides()[1], w.strides()[0],
         bias.defined() ? 1.f : 0.f, py, out, 1);
    return y;
}

}  // namespace splatlm::raw
