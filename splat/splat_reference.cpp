// splat_reference.cpp — the splat op's float64 oracle, O(T²·K): every token-to-token weight w[t,u]
// built straight from the definition (splat_op.h), then y_t = Σ_u w[t,u]·v_u. The tests compare the
// fast CPU and GPU passes with it; the pictures read its weights.
#include <algorithm>
#include <cmath>
#include <vector>

#include "splat/splat_inputs.h"
#include "splat/splat_op.h"
#include "tensor/error.h"

namespace splatlm {

bool splat_picked(const double* l, int64_t K, int64_t top, int64_t j) {
    if (top == 0) return true;
    int64_t rank = 0;  // splats ahead of j
    for (int64_t i = 0; i < K; ++i) rank += l[i] > l[j] || (l[i] == l[j] && i < j);
    return rank < top;
}

namespace {
// Affinities in float64 with the direct square ‖x − μ‖² (no expansion): [T][K].
std::vector<std::vector<double>> affinities_reference(const Tensor& x, const Tensor& centres, const Tensor& log_scale,
                                                      const Tensor& log_amp, const SplatOptions& o, int64_t b,
                                                      int64_t h, bool key) {
    const int64_t T = x.size(2), D = x.size(3), K = centres.size(1);
    std::vector<std::vector<double>> l(T, std::vector<double>(K));
    for (int64_t t = 0; t < T; ++t)
        for (int64_t j = 0; j < K; ++j) {
            double d2 = 0;
            for (int64_t d = 0; d < D; ++d) {
                const double diff = double(x.at({b, h, t, d})) - centres.at({h, j, d});
                d2 += diff * diff;
            }
            const double c = 0.5 * std::exp(-2.0 * double(log_scale.at({h, j})));
            double bias = 0;
            if (key) bias = double(log_amp.at({h, j})) + (o.send_bias.defined() ? o.send_bias.at({b, h, t, j}) : 0.f);
            else if (o.read_bias.defined()) bias = o.read_bias.at({h, j});
            l[t][j] = bias - c * d2;
        }
    return l;
}

// picked[t][j] = splat_picked(l[t], j): the routes of every token.
std::vector<std::vector<bool>> picked_reference(const std::vector<std::vector<double>>& l, int64_t top) {
    std::vector<std::vector<bool>> picked;
    for (const std::vector<double>& row : l) {
        picked.emplace_back(row.size());
        for (size_t j = 0; j < row.size(); ++j) picked.back()[j] = splat_picked(row.data(), int64_t(row.size()), top, int64_t(j));
    }
    return picked;
}

// w[t,u] for one (b, h), row by row, straight from the definition: the decayed write
// e_tu = lk[u,j] − r_j·(t−u) (−∞ where u does not write to j), z_t[j] = Σ_{u≤t} e^{e_tu} (via its max
// m_tj; 0 for a splat nothing was written to), ℓ_tj = lq[t,j] + log z_t[j] (−∞ where t does not read j
// or z = 0), π over splats (all 0 when every ℓ is −∞), then w[t,u] = Σ_j π_tj·exp(e_tu − m_tj) / z̃_tj.
// With `read`, also π itself ([T][K]).
std::vector<std::vector<double>> weights_reference(const Tensor& q, const Tensor& k, const Tensor& centres,
                                                   const Tensor& log_scale, const Tensor& log_amp,
                                                   const SplatOptions& o, int64_t b, int64_t h,
                                                   std::vector<std::vector<double>>* read = nullptr) {
    const int64_t T = q.size(2), K = centres.size(1);
    auto lq = affinities_reference(q, centres, log_scale, log_amp, o, b, h, false);
    auto lk = affinities_reference(k, centres, log_scale, log_amp, o, b, h, true);
    const auto reads = picked_reference(lq, o.top), writes = picked_reference(lk, o.top);
    // R[t][j] = Σ_{s≤t} (r_j + ρ[s,j]): a write at u has lost R[t][j] − R[u][j] by t.
    std::vector<double> rate(K, 0.0);
    if (o.log_decay.defined())
        for (int64_t j = 0; j < K; ++j) rate[j] = std::exp(double(o.log_decay.at({h, j})));
    std::vector<std::vector<double>> R(T, std::vector<double>(K));
    for (int64_t t = 0; t < T; ++t)
        for (int64_t j = 0; j < K; ++j)
            R[t][j] = (t ? R[t - 1][j] : 0.0) + rate[j] +
                      (o.token_decay.defined() ? double(o.token_decay.at({b, h, t, j})) : 0.0);
    auto write = [&](int64_t t, int64_t u, int64_t j) {
        return writes[u][j] ? lk[u][j] - (R[t][j] - R[u][j]) : -INFINITY;
    };
    std::vector<std::vector<double>> w(T, std::vector<double>(T, 0.0));
    std::vector<double> m(K), z(K), pi(K);
    if (read) read->assign(T, std::vector<double>(K, 0.0));
    for (int64_t t = 0; t < T; ++t) {
        double M = -INFINITY;
        for (int64_t j = 0; j < K; ++j) {
            m[j] = -INFINITY;
            for (int64_t u = 0; u <= t; ++u) m[j] = std::max(m[j], write(t, u, j));
            z[j] = 0;
            if (m[j] > -INFINITY)
                for (int64_t u = 0; u <= t; ++u) z[j] += std::exp(write(t, u, j) - m[j]);
            pi[j] = reads[t][j] && z[j] > 0 ? lq[t][j] + m[j] + std::log(z[j]) : -INFINITY;
            M = std::max(M, pi[j]);
        }
        if (M == -INFINITY) continue;  // nothing to read: y_t = 0
        double den = kSplatEps;
        for (int64_t j = 0; j < K; ++j) den += pi[j] = std::exp(pi[j] - M);
        if (read)
            for (int64_t j = 0; j < K; ++j) (*read)[t][j] = pi[j] / den;
        for (int64_t u = 0; u <= t; ++u)
            for (int64_t j = 0; j < K; ++j)
                if (pi[j] > 0) w[t][u] += pi[j] / den * std::exp(write(t, u, j) - m[j]) / z[j];
    }
    return w;
}
}  // namespace

Tensor splat_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                 const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& opt) {
    check_splat_inputs("splat_attention_reference", q, k, v, centres, log_scale, log_amp, opt, 4);
    check_device("splat_attention_reference", q, Device::CPU);  // (so every input is on the CPU)
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
    Tensor y = Tensor::zeros({B, H, T, D});
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            auto w = weights_reference(q, k, centres, log_scale, log_amp, opt, b, h);
            for (int64_t t = 0; t < T; ++t)
                for (int64_t d = 0; d < D; ++d) {
                    double acc = 0;
                    for (int64_t u = 0; u <= t; ++u) acc += w[t][u] * v.at({b, h, u, d});
                    y.data()[((b * H + h) * T + t) * D + d] = float(acc);
                }
        }
    return y;
}

namespace {
// A [rows][cols] table of float64 values as a float tensor.
Tensor table_tensor(const std::vector<std::vector<double>>& x, int64_t cols) {
    const int64_t rows = int64_t(x.size());
    Tensor out = Tensor::zeros({rows, cols});
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) out.data()[r * cols + c] = float(x[r][c]);
    return out;
}
}  // namespace

Tensor splat_weights_reference(const Tensor& q, const Tensor& k, const Tensor& centres, const Tensor& log_scale,
                               const Tensor& log_amp, int64_t b, int64_t h, const SplatOptions& opt) {
    check_splat_inputs("splat_weights_reference", q, k, k, centres, log_scale, log_amp, opt, 4);
    check_device("splat_weights_reference", q, Device::CPU);
    return table_tensor(weights_reference(q, k, centres, log_scale, log_amp, opt, b, h), q.size(2));
}

Tensor splat_read_weights_reference(const Tensor& q, const Tensor& k, const Tensor& centres, const Tensor& log_scale,
                                    const Tensor& log_amp, int64_t b, int64_t h, const SplatOptions& opt) {
    check_splat_inputs("splat_read_weights_reference", q, k, k, centres, log_scale, log_amp, opt, 4);
    check_device("splat_read_weights_reference", q, Device::CPU);
    std::vector<std::vector<double>> read;
    weights_reference(q, k, centres, log_scale, log_amp, opt, b, h, &read);
    return table_tensor(read, centres.size(1));
}

Tensor splat_write_shares_reference(const Tensor& q, const Tensor& k, const Tensor& centres, const Tensor& log_scale,
                                    const Tensor& log_amp, int64_t b, int64_t h, const SplatOptions& opt) {
    check_splat_inputs("splat_write_shares_reference", q, k, k, centres, log_scale, log_amp, opt, 4);
    check_device("splat_write_shares_reference", k, Device::CPU);
    const int64_t T = k.size(2), K = centres.size(1);
    const auto lk = affinities_reference(k, centres, log_scale, log_amp, opt, b, h, true);
    const auto writes = picked_reference(lk, opt.top);
    Tensor out = Tensor::zeros({T, K});
    for (int64_t t = 0; t < T; ++t) {
        double m = -INFINITY, sum = 0;
        for (int64_t j = 0; j < K; ++j)
            if (writes[t][j]) m = std::max(m, lk[t][j]);
        for (int64_t j = 0; j < K; ++j)
            if (writes[t][j]) sum += std::exp(lk[t][j] - m);
        for (int64_t j = 0; j < K; ++j)
            if (writes[t][j]) out.data()[t * K + j] = float(std::exp(lk[t][j] - m) / sum);
    }
    return out;
}

}  // namespace splatlm
