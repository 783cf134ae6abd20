#include "splat/diversity.h"

#include <map>

#include "autograd/ops.h"
#include "tensor/error.h"

namespace splatlm {

namespace {
// Σ over heads and pairs i < j of the overlap, for one layer's centres [H, K, D] and log_scale [H, K].
Tensor pair_overlap_sum(const Tensor& centres, const Tensor& log_scale) {
    const int64_t H = centres.size(0), K = centres.size(1), D = centres.size(2);
    Tensor diff = reshape(centres, {H, K, 1, D}) - reshape(centres, {H, 1, K, D});  // direct: exact 0 on the diagonal
    Tensor d2 = sum(square(diff), -1);                                               // [H, K, K]
    Tensor s2 = exp(log_scale.detach() * 2.f);                                       // constants: see the header
    Tensor width = (reshape(s2, {H, K, 1}) + reshape(s2, {H, 1, K})) * 2.f;
    Tensor upper = Tensor::zeros({K, K});                                            // pairs i < j
    for (int64_t i = 0; i < K; ++i)
        for (int64_t j = i + 1; j < K; ++j) upper.data()[i * K + j] = 1.f;
    return sum(exp(-(d2 / width)) * upper.to(centres.device()));
}
}  // namespace

Tensor splat_diversity_loss(const Module& model) {
    std::map<std::string, Tensor> centres, log_scales;  // by module prefix ("blocks.0.attn.")
    for (const auto& [name, tensor] : model.named_parameters()) {
        const size_t dot = name.rfind('.') + 1;  // 0 when there is no dot
        const std::string prefix = name.substr(0, dot), leaf = name.substr(dot);
        if (leaf == "centres") centres[prefix] = tensor;
        if (leaf == "log_scale") log_scales[prefix] = tensor;
    }
    Tensor total;
    int64_t pairs = 0;
    for (const auto& [prefix, mu] : centres) {
        auto scale = log_scales.find(prefix);
        if (scale == log_scales.end() || mu.dim() != 3) continue;
        const Tensor& ls = scale->second;
        SPLATLM_CHECK(ls.shape() == Shape({mu.size(0), mu.size(1)}), "splat diversity: ", prefix, "log_scale is ",
                      shape_str(ls.shape()), " but ", prefix, "centres is ", shape_str(mu.shape()));
        const int64_t K = mu.size(1);
        if (K < 2) continue;
        Tensor layer = pair_overlap_sum(mu, ls);
        total = total.defined() ? total + layer : layer;
        pairs += mu.size(0) * K * (K - 1) / 2;
    }
    SPLATLM_CHECK(pairs > 0, "splat diversity: the model has no splat attention with two or more splats per head "
                             "(use a splat attention kind, or splat_diversity = 0)");
    return total * (1.f / float(pairs));
}

}  // namespace splatlm
