// nn_kernels.cpp — the fused row kernels a transformer needs, each forward beside its backward.
// All work on the last axis ("rows" of length C) and run rows in parallel. The per-row formulas are
// tensor/nn_math.h; CUDA tensors go to cuda/nn_kernels.cu, which uses the same formulas.
#include <algorithm>
#include <cmath>
#include <limits>

#include "cuda/nn_kernels.h"
#include "tensor/error.h"
#include "tensor/nn_math.h"
#include "tensor/ops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace splatlm::raw {

namespace {

int64_t row_length(const Tensor& x, const char* op) {
    SPLATLM_CHECK(x.defined(), op, ": undefined tensor");
    SPLATLM_CHECK(x.dim() >= 1 && x.size(-1) > 0, op, ": needs a non-empty last axis, got ", shape_str(x.shape()));
    return x.size(-1);
}

void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
    SPLATLM_CHECK(a.shape() == b.shape(), op, ": shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                  " differ");
}

// The device every input is on, named in the error when they differ: the first input's device,
// which every other input must share.
Device common_device(const char* op, std::initializer_list<const Tensor*> inputs) {
    const Tensor& first = **inputs.begin();
    for (const Tensor* t : inputs) {
        SPLATLM_CHECK(t->defined(), op, ": undefined tensor");
        SPLATLM_CHECK(t->device() == first.device(), op, ": inputs on different devices: ", shape_str(first.shape()),
                      " on ", device_name(first.device()), ", ", shape_str(t->shape()), " on ",
                      device_name(t->device()));
    }
    return first.device();
}

// Stable log Σ exp(x_i) = m + log Σ exp(x_i − m), m = max x_i (no overflow for huge x).
float row_logsumexp(const float* x, int64_t n) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
    if (std::isinf(m)) return m;
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += exp_poly(x[i] - m);
    return m + std::log(s);
}

// Runs f(row of x, row of out, C) over every row of the last axis, rows in parallel; a CUDA x goes
// to cuda::softmax (log or not) instead.
template <class F>
Tensor map_rows(const Tensor& x, const char* op, bool log, F f) {
    const int64_t C = row_length(x, op), rows = x.numel() / C;
    Tensor src = contiguous(x), out = Tensor::empty(x.shape(), x.device());
    if (x.device() == Device::CUDA) {
        cuda::softmax(rows, C, log, out.data(), src.data());
        return out;
    }
    const float* p = src.data();
    float* o = out.data();
#pragma omp parallel for schedule(static) if (rows * C > 16384)
    for (int64_t r = 0; r < rows; ++r) f(p + r * C, o + r * C, C);
    return out;
}

// The same for backward rules that read the forward output y and the upstream gradient g.
template <class F>
Tensor map_rows_backward(const Tensor& y, const Tensor& grad_y, const char* op, bool log, F f) {
    const Device device = common_device(op, {&y, &grad_y});
    check_same_shape(op, y, grad_y);
    const int64_t C = row_length(y, op), rows = y.numel() / C;
    Tensor ys = contiguous(y), gs = contiguous(grad_y), dx = Tensor::empty(y.shape(), device);
    if (device == Device::CUDA) {
        cuda::softmax_backward(rows, C, log, dx.data(), ys.data(), gs.data());
        return dx;
    }
    const float *py = ys.data(), *pg = gs.data();
    float* d = dx.data();
#pragma omp parallel for schedule(static) if (rows * C > 16384)
    for (int64_t r = 0; r < rows; ++r) f(py + r * C, pg + r * C, d + r * C, C);
    return dx;
}

}  // namespace

// ---- softmax: y_i = exp(x_i − lse(x));  dx = y ⊙ (g − Σ g⊙y) ----
Tensor softmax(const Tensor& x) {
    return map_rows(x, "softmax", false, [](const float* in, float* out, int64_t C) {
        const float lse = row_logsumexp(in, C);
        for (int64_t i = 0; i < C; ++i) out[i] = exp_poly(in[i] - lse);
    });
}

Tensor softmax_backward(const Tensor& y, const Tensor& grad_y) {
    return map_rows_backward(y, grad_y, "softmax_backward", false, [](const float* y, const float* g, float* d, int64_t C) {
        double dot = 0;
        for (int64_t i = 0; i < C; ++i) dot += double(y[i]) * g[i];
        for (int64_t i = 0; i < C; ++i) d[i] = softmax_grad(y[i], g[i], float(dot));
    });
}

// ---- log-softmax: y_i = x_i − lse(x);  dx = g − exp(y) · Σ g ----
Tensor log_softmax(const Tensor& x) {
    return map_rows(x, "log_softmax", true, [](const float* in, float* out, int64_t C) {
        const float lse = row_logsumexp(in, C);
        for (int64_t i = 0; i < C; ++i) out[i] = in[i] - lse;
    });
}

Tensor log_softmax_backward(const Tensor& y, const Tensor& grad_y) {
    return map_rows_backward(y, grad_y, "log_softmax_backward", true,
                             [](const float* y, const float* g, float* d, int64_t C) {
                                 double gsum = 0;
                                 for (int64_t i = 0; i < C; ++i) gsum += g[i];
                                 for (int64_t i = 0; i < C; ++i) d[i] = log_softmax_grad(y[i], g[i], float(gsum));
                             });
}

// ---- layer norm: n = (x − μ)·rstd, y = n ⊙ w + b, rstd = 1/√(var + eps) ----
LayerNormResult layernorm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
    const Device device = common_device("layernorm", {&x, &weight, &bias});
    const int64_t C = row_length(x, "layernorm"), rows = x.numel() / C;
    SPLATLM_CHECK(weight.shape() == Shape{C} && bias.shape() == Shape{C}, "layernorm: weight ",
                  shape_str(weight.shape()), " and bias ", shape_str(bias.shape()), " must be [", C, "] for input ",
                  shape_str(x.shape()));
    Tensor src = contiguous(x), w = contiguous(weight), b = contiguous(bias);
    Shape row_shape(x.shape().begin(), x.shape().end() - 1);
    LayerNormResult r{Tensor::empty(x.shape(), device), Tensor::empty(row_shape, device), Tensor::empty(row_shape, device)};
    const float *p = src.data(), *pw = w.data(), *pb = b.data();
    float *o = r.y.data(), *mean = r.mean.data(), *rstd = r.rstd.data();
    if (device == Device::CUDA) {
        cuda::layernorm(rows, C, eps, o, mean, rstd, p, pw, pb);
        return r;
    }
    // The row sums run in vector lanes (omp simd: a fixed order for a given build, whatever the
    // thread count); a chain of scalar double adds was the kernel's bottleneck.
#pragma omp parallel for schedule(static) if (rows * C > 16384)
    for (int64_t row = 0; row < rows; ++row) {
        const float* xr = p + row * C;
        double m = 0, v = 0;
#pragma omp simd reduction(+ : m)
        for (int64_t i = 0; i < C; ++i) m += xr[i];
        m /= C;
#pragma omp simd reduction(+ : v)
        for (int64_t i = 0; i < C; ++i) v += (xr[i] - m) * (xr[i] - m);
        const float s = layernorm_rstd(v, C, eps);
        for (int64_t i = 0; i < C; ++i) o[row * C + i] = layernorm_y(xr[i], float(m), s, pw[i], pb[i]);
        mean[row] = float(m);
        rstd[row] = s;
    }
    return r;
}

// dn = g ⊙ w;  dx = rstd · (dn − mean(dn) − n · mean(dn ⊙ n));  dw = Σ_rows g ⊙ n;  db = Σ_rows g.
constexpr int64_t kLayerNormBlockRows = 32;  // rows per block of the backward's partial column sums
LayerNormGrads layernorm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& rstd,
                                  const Tensor& grad_y) {
    const Device device = common_device("layernorm_backward", {&x, &weight, &mean, &rstd, &grad_y});
    check_same_shape("layernorm_backward", x, grad_y);
    const int64_t C = row_length(x, "layernorm_backward"), rows = x.numel() / C;
    SPLATLM_CHECK(weight.numel() == C && mean.numel() == rows && rstd.numel() == rows, "layernorm_backward: weight ",
                  shape_str(weight.shape()), ", mean ", shape_str(mean.shape()), " and rstd ", shape_str(rstd.shape()),
                  " do not fit input ", shape_str(x.shape()));
    Tensor xs = contiguous(x), gs = contiguous(grad_y), w = contiguous(weight), ms = contiguous(mean),
           ss = contiguous(rstd);
    LayerNormGrads g{Tensor::empty(x.shape(), device), Tensor::empty({C}, device), Tensor::empty({C}, device)};
    const float *px = xs.data(), *pg = gs.data(), *pw = w.data(), *pm = ms.data(), *ps = ss.data();
    float* dx = g.dx.data();
    if (device == Device::CUDA) {
        cuda::layernorm_backward(rows, C, dx, g.dweight.data(), g.dbias.data(), px, pw, pm, ps, pg);
        return g;
    }
    // One pass over x and g: rows in blocks of kLayerNormBlockRows; per row the two means, then dx
    // while the row is in L1, and the block's partial column sums of g·n and g (double, rows in
    // order). The blocks' partials are then added in block order, so dweight and dbias do not depend
    // on the thread count (the GPU sums chunks of rows the same way, with its own chunk size).
    const int64_t blocks = (rows + kLayerNormBlockRows - 1) / kLayerNormBlockRows;
    std::vector<double> partial(size_t(blocks * 2 * C));
#pragma omp parallel for schedule(static) if (rows * C > 16384)
    for (int64_t blk = 0; blk < blocks; ++blk) {
        double* sum_gn = partial.data() + blk * 2 * C;
        double* sum_g = sum_gn + C;
        for (int64_t r = blk * kLayerNormBlockRows; r < std::min(rows, (blk + 1) * kLayerNormBlockRows); ++r) {
            const float *xr = px + r * C, *gr = pg + r * C;
            double mean_dn = 0, mean_dn_n = 0;
#pragma omp simd reduction(+ : mean_dn, mean_dn_n)
            for (int64_t i = 0; i < C; ++i) {
                const float n = layernorm_normalized(xr[i], pm[r], ps[r]), dn = gr[i] * pw[i];
                mean_dn += dn;
                mean_dn_n += dn * n;
            }
            mean_dn /= C;
            mean_dn_n /= C;
            for (int64_t i = 0; i < C; ++i) {
                const float n = layernorm_normalized(xr[i], pm[r], ps[r]), dn = gr[i] * pw[i];
                dx[r * C + i] = layernorm_dx(dn, n, ps[r], float(mean_dn), float(mean_dn_n));
                sum_gn[i] += gr[i] * n;
                sum_g[i] += gr[i];
            }
        }
    }
    float *dw = g.dweight.data(), *db = g.dbias.data();
    for (int64_t i = 0; i < C; ++i) {
        double sw = 0, sb = 0;
        for (int64_t blk = 0; blk < blocks; ++blk) sw += partial[blk * 2 * C + i], sb += partial[blk * 2 * C + C + i];
        dw[i] = float(sw);
        db[i] = float(sb);
    }
    return g;
}

// ---- embedding: out[r] = table[id[r]];  dtable[v] = Σ_{r: id[r] = v} g[r] ----
Tensor embedding(const Tensor& table, const Indices& ids) {
    SPLATLM_CHECK(table.defined(), "embedding: undefined table");
    SPLATLM_CHECK(table.dim() == 2, "embedding: table must be [vocab, dim], got ", shape_str(table.shape()));
    SPLATLM_CHECK(numel(ids.shape) == static_cast<int64_t>(ids.ids.size()), "embedding: ", ids.ids.size(),
                  " ids do not fill shape ", shape_str(ids.shape));
    const int64_t V = table.size(0), C = table.size(1), n = static_cast<int64_t>(ids.ids.size());
    for (int32_t id : ids.ids)
        SPLATLM_CHECK(id >= 0 && id < V, "embedding: id ", id, " out of range for a table of shape ",
                      shape_str(table.shape()));
    Shape out_shape = ids.shape;
    out_shape.push_back(C);
    Tensor t = contiguous(table), out = Tensor::empty(out_shape, table.device());
    const float* pt = t.data();
    float* o = out.data();
    if (table.device() == Device::CUDA) {
        cuda::embedding(n, C, o, pt, ids.ids.data());
        return out;
    }
#pragma omp parallel for schedule(static) if (n * C > 16384)
    for (int64_t r = 0; r < n; ++r) std::copy_n(pt + int64_t(ids.ids[r]) * C, C, o + r * C);
    return out;
}

Tensor embedding_backward(const Indices& ids, const Tensor& grad_out, int64_t vocab) {
    SPLATLM_CHECK(grad_out.defined() && grad_out.dim() >= 1, "embedding_backward: needs a gradient with a last axis");
    const int64_t C = grad_out.size(-1), n = static_cast<int64_t>(ids.ids.size());
    SPLATLM_CHECK(grad_out.numel() == n * C, "embedding_backward: gradient ", shape_str(grad_out.shape()),
                  " does not match ", n, " ids");
    for (int32_t id : ids.ids)
        SPLATLM_CHECK(id >= 0 && id < vocab, "embedding_backward: id ", id, " out of range for a vocabulary of ", vocab);
    Tensor g = contiguous(grad_out), dtable = Tensor::zeros({vocab, C}, grad_out.device());
    const float* pg = g.data();
    float* d = dtable.data();
    if (grad_out.device() == Device::CUDA) {  // rows grouped by id on the host, each id's rows summed in order
        cuda::embedding_backward(n, C, d, pg, ids.ids.data());
        return dtable;
    }
    // Threads split the columns: every row of the scatter-add touches only its own column range.
#pragma omp parallel if (n * C > 16384)
    {
        int64_t c0 = 0, c1 = C;
#ifdef _OPENMP
        const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        c0 = C * t / nt, c1 = C * (t + 1) / nt;
#endif
        for (int64_t r = 0; r < n; ++r)
            for (int64_t c = c0; c < c1; ++c) d[int64_t(ids.ids[r]) * C + c] += pg[r * C + c];
    }
    return dtable;
}

// ---- cross-entropy: loss = mean_r (lse(x_r) − x_r[t_r]);  dx_r = (softmax(x_r) − onehot(t_r)) · g/count ----
CrossEntropyResult cross_entropy(const Tensor& logits, const Indices& targets, int32_t ignore_index) {
    SPLATLM_CHECK(logits.defined(), "cross_entropy: undefined logits");
    SPLATLM_CHECK(logits.dim() == 2, "cross_entropy: logits must be [rows, classes], got ", shape_str(logits.shape()));
    const int64_t N = logits.size(0), V = logits.size(1);
    SPLATLM_CHECK(static_cast<int64_t>(targets.ids.size()) == N, "cross_entropy: ", targets.ids.size(),
                  " targets for logits of shape ", shape_str(logits.shape()));
    for (int32_t t : targets.ids)
        SPLATLM_CHECK(t == ignore_index || (t >= 0 && t < V), "cross_entropy: target ", t,
                      " out of range for logits of shape ", shape_str(logits.shape()));
    Tensor x = contiguous(logits);
    CrossEntropyResult r{Tensor::empty({}), Tensor::empty({N}, logits.device()), 0};
    const float* p = x.data();
    float* lse = r.logsumexp.data();
    if (logits.device() == Device::CUDA) {
        const double total = cuda::cross_entropy(N, V, lse, p, targets.ids.data(), ignore_index);
        r.counted = std::count_if(targets.ids.begin(), targets.ids.end(), [&](int32_t t) { return t != ignore_index; });
        r.loss = Tensor::scalar(r.counted ? float(total / r.counted) : 0.f).to(Device::CUDA);
        return r;
    }
    double total = 0;
    int64_t counted = 0;
#pragma omp parallel for schedule(static) reduction(+ : total, counted) if (N * V > 16384)
    for (int64_t i = 0; i < N; ++i) {
        lse[i] = row_logsumexp(p + i * V, V);
        if (targets.ids[i] == ignore_index) continue;
        total += double(lse[i]) - p[i * V + targets.ids[i]];
        ++counted;
    }
    r.counted = counted;
    r.loss.data()[0] = counted ? float(total / counted) : 0.f;
    return r;
}

Tensor cross_entropy_backward(const Tensor& logits, const Indices& targets, const Tensor& logsumexp,
                              int64_t counted, float grad_loss, int32_t ignore_index) {
    const Device device = common_device("cross_entropy_backward", {&logits, &logsumexp});
    SPLATLM_CHECK(logits.dim() == 2 && logsumexp.numel() == logits.size(0) &&
                      static_cast<int64_t>(targets.ids.size()) == logits.size(0),
                  "cross_entropy_backward: logits ", shape_str(logits.shape()), ", logsumexp ",
                  shape_str(logsumexp.shape()), " and ", targets.ids.size(), " targets do not fit");
    const int64_t N = logits.size(0), V = logits.size(1);
    for (int32_t t : targets.ids)
        SPLATLM_CHECK(t == ignore_index || (t >= 0 && t < V), "cross_entropy_backward: target ", t,
                      " out of range for logits of shape ", shape_str(logits.shape()));
    Tensor x = contiguous(logits), ls = contiguous(logsumexp), dx = Tensor::empty({N, V}, device);
    const float *p = x.data(), *lse = ls.data();
    float* d = dx.data();
    const float scale = counted ? grad_loss / float(counted) : 0.f;
    if (device == Device::CUDA) {
        cuda::cross_entropy_backward(N, V, d, p, lse, targets.ids.data(), ignore_index, scale);
        return dx;
    }
#pragma omp parallel for schedule(static) if (N * V > 16384)
    for (int64_t i = 0; i < N; ++i) {
        const bool ignored = targets.ids[i] == ignore_index;
        for (int64_t j = 0; j < V; ++j) d[i * V + j] = ignored ? 0.f : exp_poly(p[i * V + j] - lse[i]) * scale;
        if (!ignored) d[i * V + targets.ids[i]] -= scale;
    }
    return dx;
}

}  // namespace splatlm::raw
