// nn_kernels.cpp — the fused row kernels a transformer needs, each forward beside its backward.
// All work on the last axis ("rows" of length C) and run rows in parallel.
#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/error.h"
#include "tensor/ops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace splatlm::raw {

namespace {

int64_t row_length(const Tensor& x, const char* op) {
    check_device(op, x, Device::CPU);
    SPLATLM_CHECK(x.dim() >= 1 && x.size(-1) > 0, op, ": needs a non-empty last axis, got ", shape_str(x.shape()));
    return x.size(-1);
}

void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
    SPLATLM_CHECK(a.shape() == b.shape(), op, ": shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                  " differ");
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

// Runs f(row of x, row of out, C) over every row of the last axis, rows in parallel.
template <class F>
Tensor map_rows(const Tensor& x, const char* op, F f) {
    const int64_t C = row_length(x, op), rows = x.numel() / C;
    Tensor src = contiguous(x), out = Tensor::empty(x.shape());
    const float* p = src.data();
    float* o = out.data();
#pragma omp parallel for schedule(static) if (rows * C > 16384)
    for (int64_t r = 0; r < rows; ++r) f(p + r * C, o + r * C, C);
    return out;
}

// The same for backward rules that read the forward output y and the upstream gradient g.
template <class F>
Tensor map_rows_backward(const Tensor& y, const Tensor& grad_y, const char* op, F f) {
    check_same_shape(op, y, grad_y);
    const int64_t C = row_length(y, op), rows = y.numel() / C;
    Tensor ys = contiguous(y), gs = contiguous(grad_y), dx = Tensor::empty(y.shape());
    const float *py = ys.data(), *pg = gs.data();
    float* d = dx.data();
#pragma omp parallel for schedule(static) if (rows * C > 16384)
    for (int64_t r = 0; r < rows; ++r) f(py + r * C, pg + r * C, d + r * C, C);
    return dx;
}

}  // namespace

// ---- softmax: y_i = exp(x_i − lse(x));  dx = y ⊙ (g − Σ g⊙y) ----
Tensor softmax(const Tensor& x) {
    return map_rows(x, "softmax", [](const float* in, float* out, int64_t C) {
        const float lse = row_logsumexp(in, C);
        for (int64_t i = 0; i < C; ++i) out[i] = exp_poly(in[i] - lse);
    });
}

Tensor softmax_backward(const Tensor& y, const Tensor& grad_y) {
    return map_rows_backward(y, grad_y, "softmax_backward", [](const float* y, const float* g, float* d, int64_t C) {
        double dot = 0;
        for (int64_t i = 0; i < C; ++i) dot += double(y[i]) * g[i];
        for (int64_t i = 0; i < C; ++i) d[i] = y[i] * (g[i] - float(dot));
    });
}

// ---- log-softmax: y_i = x_i − lse(x);  dx = g − exp(y) · Σ g ----
Tensor log_softmax(const Tensor& x) {
    return map_rows(x, "log_softmax", [](const float* in, float* out, int64_t C) {
        const float lse = row_logsumexp(in, C);
        for (int64_t i = 0; i < C; ++i) out[i] = in[i] - lse;
    });
}

Tensor log_softmax_backward(const Tensor& y, const Tensor& grad_y) {
    return map_rows_backward(y, grad_y, "log_softmax_backward",
                             [](const float* y, const float* g, float* d, int64_t C) {
                                 double gsum = 0;
                                 for (int64_t i = 0; i < C; ++i) gsum += g[i];
                                 for (int64_t i = 0; i < C; ++i) d[i] = g[i] - exp_poly(y[i]) * float(gsum);
                             });
}

// ---- layer norm: n = (x − μ)·rstd, y = n ⊙ w + b, rstd = 1/√(var + eps) ----
LayerNormResult layernorm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
    const int64_t C = row_length(x, "layernorm"), rows = x.numel() / C;
    SPLATLM_CHECK(weight.shape() == Shape{C} && bias.shape() == Shape{C}, "layernorm: weight ",
                  shape_str(weight.shape()), " and bias ", shape_str(bias.shape()), " must be [", C, "] for input ",
                  shape_str(x.shape()));
    Tensor src = contiguous(x), w = contiguous(weight), b = contiguous(bias);
    Shape row_shape(x.shape().begin(), x.shape().end() - 1);
    LayerNormResult r{Tensor::empty(x.shape()), Tensor::empty(row_shape), Tensor::empty(row_shape)};
    const float *p = src.data(), *pw = w.data(), *pb = b.data();
    float *o = r.y.data(), *mean = r.mean.data(), *rstd = r.rstd.data();
#pragma omp parallel for schedule(static) if (rows * C > 16384)
    for (int64_t row = 0; row < rows; ++row) {
        const float* xr = p + row * C;
        double m = 0, v = 0;
        for (int64_t i = 0; i < C; ++i) m += xr[i];
        m /= C;
        for (int64_t i = 0; i < C; ++i) v += (xr[i] - m) * (xr[i] - m);
        const float s = static_cast<float>(1.0 / std::sqrt(v / C + eps));
        for (int64_t i = 0; i < C; ++i) o[row * C + i] = (xr[i] - float(m)) * s * pw[i] + pb[i];
        mean[row] = float(m);
        rstd[row] = s;
    }
    return r;
}

// dn = g ⊙ w;  dx = rstd · (dn − mean(dn) − n · mean(dn ⊙ n));  dw = Σ_rows g ⊙ n;  db = Σ_rows g.
LayerNormGrads layernorm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& rstd,
                                  const Tensor& grad_y) {
    check_same_shape("layernorm_backward", x, grad_y);
    const int64_t C = row_length(x, "layernorm_backward"), rows = x.numel() / C;
    Tensor xs = contiguous(x), gs = contiguous(grad_y), w = contiguous(weight);
    LayerNormGrads g{Tensor::empty(x.shape()), Tensor::empty({C}), Tensor::empty({C})};
    const float *px = xs.data(), *pg = gs.data(), *pw = w.data(), *pm = mean.data(), *ps = rstd.data();
    float* dx = g.dx.data();
#pragma omp parallel for schedule(static) if (rows * C > 16384)
    for (int64_t r = 0; r < rows; ++r) {
        double mean_dn = 0, mean_dn_n = 0;
        for (int64_t i = 0; i < C; ++i) {
            const float n = (px[r * C + i] - pm[r]) * ps[r], dn = pg[r * C + i] * pw[i];
            mean_dn += dn;
            mean_dn_n += dn * n;
        }
        mean_dn /= C;
        mean_dn_n /= C;
        for (int64_t i = 0; i < C; ++i) {
            const float n = (px[r * C + i] - pm[r]) * ps[r], dn = pg[r * C + i] * pw[i];
            dx[r * C + i] = ps[r] * (dn - float(mean_dn) - n * float(mean_dn_n));
        }
    }
    // Parameter gradients: each thread owns a range of columns, so there are no races and the
    // summation order is fixed.
    float *dw = g.dweight.data(), *db = g.dbias.data();
#pragma omp parallel for schedule(static) if (rows * C > 16384)
    for (int64_t i = 0; i < C; ++i) {
        double sw = 0, sb = 0;
        for (int64_t r = 0; r < rows; ++r) {
            const float n = (px[r * C + i] - pm[r]) * ps[r];
            sw += pg[r * C + i] * n;
            sb += pg[r * C + i];
        }
        dw[i] = float(sw);
        db[i] = float(sb);
    }
    return g;
}

// ---- embedding: out[r] = table[id[r]];  dtable[v] = Σ_{r: id[r] = v} g[r] ----
Tensor embedding(const Tensor& table, const Indices& ids) {
    check_device("embedding", table, Device::CPU);
    SPLATLM_CHECK(table.dim() == 2, "embedding: table must be [vocab, dim], got ", shape_str(table.shape()));
    SPLATLM_CHECK(numel(ids.shape) == static_cast<int64_t>(ids.ids.size()), "embedding: ", ids.ids.size(),
                  " ids do not fill shape ", shape_str(ids.shape));
    const int64_t V = table.size(0), C = table.size(1), n = static_cast<int64_t>(ids.ids.size());
    for (int32_t id : ids.ids)
        SPLATLM_CHECK(id >= 0 && id < V, "embedding: id ", id, " out of range for a table of shape ",
                      shape_str(table.shape()));
    Shape out_shape = ids.shape;
    out_shape.push_back(C);
    Tensor t = contiguous(table), out = Tensor::empty(out_shape);
    const float* pt = t.data();
    float* o = out.data();
#pragma omp parallel for schedule(static) if (n * C > 16384)
    for (int64_t r = 0; r < n; ++r) std::copy_n(pt + int64_t(ids.ids[r]) * C, C, o + r * C);
    return out;
}

Tensor embedding_backward(const Indices& ids, const Tensor& grad_out, int64_t vocab) {
    check_device("embedding_backward", grad_out, Device::CPU);
    const int64_t C = grad_out.size(-1), n = static_cast<int64_t>(ids.ids.size());
    SPLATLM_CHECK(grad_out.numel() == n * C, "embedding_backward: gradient ", shape_str(grad_out.shape()),
                  " does not match ", n, " ids");
    Tensor g = contiguous(grad_out), dtable = Tensor::zeros({vocab, C});
    const float* pg = g.data();
    float* d = dtable.data();
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
    check_device("cross_entropy", logits, Device::CPU);
    SPLATLM_CHECK(logits.dim() == 2, "cross_entropy: logits must be [rows, classes], got ", shape_str(logits.shape()));
    const int64_t N = logits.size(0), V = logits.size(1);
    SPLATLM_CHECK(static_cast<int64_t>(targets.ids.size()) == N, "cross_entropy: ", targets.ids.size(),
                  " targets for logits of shape ", shape_str(logits.shape()));
    for (int32_t t : targets.ids)
        SPLATLM_CHECK(t == ignore_index || (t >= 0 && t < V), "cross_entropy: target ", t,
                      " out of range for logits of shape ", shape_str(logits.shape()));
    Tensor x = contiguous(logits);
    CrossEntropyResult r{Tensor::empty({}), Tensor::empty({N}), 0};
    const float* p = x.data();
    float* lse = r.logsumexp.data();
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
    const int64_t N = logits.size(0), V = logits.size(1);
    Tensor x = contiguous(logits), dx = Tensor::empty({N, V});
    const float *p = x.data(), *lse = logsumexp.data();
    float* d = dx.data();
    const float scale = counted ? grad_loss / float(counted) : 0.f;
#pragma omp parallel for schedule(static) if (N * V > 16384)
    for (int64_t i = 0; i < N; ++i) {
        const bool ignored = targets.ids[i] == ignore_index;
        for (int64_t j = 0; j < V; ++j) d[i * V + j] = ignored ? 0.f : exp_poly(p[i * V + j] - lse[i]) * scale;
        if (!ignored) d[i * V + targets.ids[i]] -= scale;
    }
    return dx;
}

}  // namespace splatlm::raw
