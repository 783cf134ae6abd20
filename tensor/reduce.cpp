// reduce.cpp — sum and max along one axis or over everything. The input is viewed as
// [outer, n, inner] (n = the reduced axis). Sums accumulate in double in a fixed order that does not
// depend on the number of threads, so results are reproducible bit for bit. CUDA tensors go to
// cuda/reduce.cu (same view, same double accumulation, also deterministic).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cuda/reduce.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm::raw {

namespace {

// Eight interleaved double accumulators: vectorisable, and the order is fixed by n alone.
double sum_contiguous(const float* p, int64_t n) {
    double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) lanes[l] += p[i + l];
    double s = 0;
    for (; i < n; ++i) s += p[i];
    for (int l = 0; l < 8; ++l) s += lanes[l];
    return s;
}

struct AxisView {
    int64_t outer, n, inner;
    Shape out_shape;
};

AxisView split_at_axis(const Tensor& x, int64_t axis, bool keepdim, const char* op) {
    int64_t a = normalize_axis(axis, x.dim(), op);
    AxisView v{1, x.shape()[a], 1, {}};
    for (int64_t i = 0; i < a; ++i) v.outer *= x.shape()[i];
    for (int64_t i = a + 1; i < x.dim(); ++i) v.inner *= x.shape()[i];
    v.out_shape = x.shape();
    if (keepdim)
        v.out_shape[a] = 1;
    else
        v.out_shape.erase(v.out_shape.begin() + a);
    return v;
}

// The reduction on the GPU: x gathered contiguous there, the result a new CUDA tensor.
template <class Kernel>
Tensor reduce_on_cuda(const Tensor& x, const AxisView& v, Kernel kernel) {
    const Tensor src = contiguous(x);
    Tensor out = Tensor::empty(v.out_shape, Device::CUDA);
    kernel(ReduceLayout{v.outer, v.n, v.inner}, out.data(), src.data());
    return out;
}

}  // namespace

Tensor sum(const Tensor& x, int64_t axis, bool keepdim) {
    SPLATLM_CHECK(x.defined(), "sum: undefined tensor");
    AxisView v = split_at_axis(x, axis, keepdim, "sum");
    if (x.device() == Device::CUDA) return reduce_on_cuda(x, v, cuda::sum);
    Tensor src = contiguous(x), out = Tensor::empty(v.out_shape);
    const float* p = src.data();
    float* o = out.data();
    if (v.inner == 1) {
#pragma omp parallel for schedule(static) if (v.outer * v.n > 32768)
        for (int64_t r = 0; r < v.outer; ++r) o[r] = static_cast<float>(sum_contiguous(p + r * v.n, v.n));
        return out;
    }
    // Columns in blocks of 64 (each column's sum over n in order, whatever the thread count): a bias
    // gradient, one row of 128…512 columns, is then still split across threads.
    const int64_t block = 64, blocks = (v.inner + block - 1) / block;
#pragma omp parallel for schedule(static) if (v.outer * v.n * v.inner > 32768)
    for (int64_t t = 0; t < v.outer * blocks; ++t) {
        const int64_t r = t / blocks, i0 = (t % blocks) * block, len = std::min(block, v.inner - i0);
        double acc[block] = {};
        const float* base = p + r * v.n * v.inner + i0;
        for (int64_t k = 0; k < v.n; ++k)
            for (int64_t i = 0; i < len; ++i) acc[i] += base[k * v.inner + i];
        for (int64_t i = 0; i < len; ++i) o[r * v.inner + i0 + i] = static_cast<float>(acc[i]);
    }
    return out;
}

Tensor sum_all(const Tensor& x) {
    SPLATLM_CHECK(x.defined(), "sum_all: undefined tensor");
    if (x.device() == Device::CUDA) return reduce_on_cuda(x, AxisView{1, x.numel(), 1, {}}, cuda::sum);
    Tensor src = contiguous(x);
    const int64_t n = src.numel(), block = 4096, blocks = (n + block - 1) / block;
    std::vector<double> partial(blocks);
    const float* p = src.data();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t b = 0; b < blocks; ++b) partial[b] = sum_contiguous(p + b * block, std::min(block, n - b * block));
    double s = 0;
    for (double v : partial) s += v;  // fixed order: same result for any thread count
    return Tensor::from_vector({static_cast<float>(s)}, {});
}

Tensor max(const Tensor& x, int64_t axis, bool keepdim) {
    SPLATLM_CHECK(x.defined(), "max: undefined tensor");
    AxisView v = split_at_axis(x, axis, keepdim, "max");
    SPLATLM_CHECK(v.n > 0, "max: reducing an empty axis of shape ", shape_str(x.shape()));
    if (x.device() == Device::CUDA) return reduce_on_cuda(x, v, cuda::max);
    Tensor src = contiguous(x), out = Tensor::empty(v.out_shape);
    const float* p = src.data();
    float* o = out.data();
#pragma omp parallel for schedule(static) if (v.outer * v.n * v.inner > 32768)
    for (int64_t r = 0; r < v.outer; ++r)
        for (int64_t i = 0; i < v.inner; ++i) {
            float m = -std::numeric_limits<float>::infinity();
            for (int64_t k = 0; k < v.n; ++k) m = std::max(m, p[(r * v.n + k) * v.inner + i]);
            o[r * v.inner + i] = m;
        }
    return out;
}

Tensor max_all(const Tensor& x) {
    SPLATLM_CHECK(x.numel() > 0, "max_all: empty tensor of shape ", shape_str(x.shape()));
    return max(reshape(x, {-1}), 0, false);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
    if (x.shape() == shape) return x;
    const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
    SPLATLM_CHECK(lead >= 0, "sum_to: cannot reduce ", shape_str(x.shape()), " to ", shape_str(shape));
    Tensor r = x;
    for (int64_t i = 0; i < lead; ++i) r = sum(r, 0, false);
    for (int64_t i = 0; i < r.dim(); ++i) {
        if (shape[i] == r.shape()[i]) continue;
        SPLATLM_CHECK(shape[i] == 1, "sum_to: cannot reduce ", shape_str(x.shape()), " to ", shape_str(shape));
        r = sum(r, i, true);
    }
    return r;
}

}  // namespace splatlm::raw
