#include "splat/splat_global.h"

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {

void check_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres, const Tensor& log_scale,
                  const Tensor& log_amp) {
    auto shapes = [&] {
        return "q " + shape_str(q.shape()) + ", k " + shape_str(k.shape()) + ", v " + shape_str(v.shape()) +
               ", centres " + shape_str(centres.shape()) + ", log_scale " + shape_str(log_scale.shape()) +
               ", log_amp " + shape_str(log_amp.shape());
    };
    SPLATLM_CHECK(q.dim() == 4 && k.dim() == 4 && k.shape() == v.shape() && centres.dim() == 3,
                  "splat_attention_global: expected q [B, H, Tq, D], k and v [B, H, Tk, D], centres [H, K, D]; got ",
                  shapes());
    const int64_t B = q.size(0), H = q.size(1), D = q.size(3), K = centres.size(1);
    SPLATLM_CHECK(k.size(0) == B && k.size(1) == H && k.size(3) == D && k.size(2) > 0 && q.size(2) > 0 &&
                      centres.size(0) == H && centres.size(2) == D && K > 0 &&
                      log_scale.shape() == Shape({H, K}) && log_amp.shape() == Shape({H, K}),
                  "splat_attention_global: shapes do not agree (need the same B, H, D, at least one query and key, "
                  "log_scale and log_amp [H, K]); got ", shapes());
}

// −c_j·‖x_t − μ_j‖² for x [B, H, T, D] → [B, H, T, K], as ‖x‖² − 2·x·μ + ‖μ‖² (one GEMM). The expanded
// square can come out slightly negative by cancellation; every exponent below is max-subtracted, so
// that is harmless.
Tensor neg_scaled_square_distance(const Tensor& x, const Tensor& centres, const Tensor& c) {
    const int64_t H = centres.size(0), K = centres.size(1);
    Tensor xx = sum(square(x), -1, true);                                 // [B, H, T, 1]
    Tensor xm = matmul(x, transpose(centres, -1, -2));                    // [B, H, T, K]
    Tensor mm = reshape(sum(square(centres), -1), {1, H, 1, K});          // [1, H, 1, K]
    return -(c * ((xx - 2.f * xm) + mm));
}

// x − max(x) along the last axis. The max is a constant (no history): softmax and logsumexp do not
// depend on the shift, so gradients are unchanged, and every exponent becomes ≤ 0 with one equal to 0.
// Shifting here (not only inside softmax) matters when |x| is large (keys ×100: |lk| ~ 1e4): the
// kernel's exp(x − lse) would then carry lse's float round-off (~1e-3) into every weight.
Tensor shift_by_max(const Tensor& x) { return x - raw::max(x.detach(), -1, true); }

}  // namespace

Tensor splat_attention_global(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                              const Tensor& log_scale, const Tensor& log_amp) {
    check_inputs(q, k, v, centres, log_scale, log_amp);
    const int64_t H = centres.size(0), K = centres.size(1);
    Tensor c = reshape(exp(log_scale * -2.f) * 0.5f, {1, H, 1, K});                          // c_j = 1/(2 s_j²)
    Tensor lk = reshape(log_amp, {1, H, 1, K}) + neg_scaled_square_distance(k, centres, c);  // [B, H, Tk, K]
    Tensor lq = neg_scaled_square_distance(q, centres, c);                                   // [B, H, Tq, K]
    Tensor lk_by_splat = transpose(lk, -1, -2);                                               // [B, H, K, Tk]
    Tensor max_lk = raw::max(lk_by_splat.detach(), -1, true);                                 // [B, H, K, 1]
    Tensor shifted = lk_by_splat - max_lk;                                                    // ≤ 0
    Tensor means = matmul(softmax(shifted), v);                                               // v̄: [B, H, K, D]
    Tensor log_z = max_lk + log(sum(exp(shifted), -1, true));                                 // logsumexp_u lk[u, j]
    Tensor ell = lq + transpose(log_z, -1, -2);                                               // [B, H, Tq, K]
    return matmul(softmax(shift_by_max(ell)), means);
}

Tensor splat_attention_global_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                        const Tensor& log_scale, const Tensor& log_amp) {
    check_inputs(q, k, v, centres, log_scale, log_amp);
    const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), Tk = k.size(2), D = q.size(3), K = centres.size(1);
    Tensor y = Tensor::empty({B, H, Tq, D});
    auto affinity = [&](const Tensor& x, int64_t b, int64_t h, int64_t t, int64_t j) {  // −c_j‖x_t − μ_j‖²
        double d2 = 0;
        for (int64_t d = 0; d < D; ++d) {
            const double diff = double(x.at({b, h, t, d})) - centres.at({h, j, d});
            d2 += diff * diff;
        }
        return -0.5 * std::exp(-2.0 * log_scale.at({h, j})) * d2;
    };
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            std::vector<double> lk(Tk * K), log_z(K, -INFINITY);
            for (int64_t j = 0; j < K; ++j) {
                double m = -INFINITY, s = 0;
                for (int64_t u = 0; u < Tk; ++u) m = std::max(m, lk[u * K + j] = log_amp.at({h, j}) + affinity(k, b, h, u, j));
                for (int64_t u = 0; u < Tk; ++u) s += std::exp(lk[u * K + j] - m);
                log_z[j] = m + std::log(s);
            }
            for (int64_t t = 0; t < Tq; ++t) {
                std::vector<double> pi(K), acc(D, 0.0);
                double M = -INFINITY, den = 0;
                for (int64_t j = 0; j < K; ++j) M = std::max(M, pi[j] = affinity(q, b, h, t, j) + log_z[j]);
                for (double& p : pi) den += p = std::exp(p - M);
                for (int64_t u = 0; u < Tk; ++u) {
                    double w = 0;  // w[t,u]
                    for (int64_t j = 0; j < K; ++j) w += pi[j] / den * std::exp(lk[u * K + j] - log_z[j]);
                    for (int64_t d = 0; d < D; ++d) acc[d] += w * v.at({b, h, u, d});
                }
                for (int64_t d = 0; d < D; ++d) y.data()[((b * H + h) * Tq + t) * D + d] = float(acc[d]);
            }
        }
    return y;
}

}  // namespace splatlm
