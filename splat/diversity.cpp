#include "splat/diversity.h"

#include <map>

#include "autograd/ops.h"
#include "splat/splat_attention.h"
#include "tensor/error.h"

namespace splatlm {

namespace {
// 1 for the pairs i < j of a head whose two slots both hold a live splat (an empty slot, splat_attention.h,
// is nowhere to be pushed from), else 0: [H, K, K]; `log_amp` undefined counts every slot as live.
Tensor live_pairs(const Tensor& log_amp, int64_t H, int64_t K) {
    const std::vector<float> amp = log_amp.defined() ? log_amp.to_vector() : std::vector<float>(size_t(H * K), 0.f);
    Tensor mask = Tensor::zeros({H, K, K});
    for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < K; ++i)
            for (int64_t j = i + 1; j < K; ++j)
                if (is_live(amp[h * K + i]) && is_live(amp[h * K + j])) mask.data()[(h * K + i) * K + j] = 1.f;
    return mask;
}

// Σ over the pairs `mask` keeps of the overlap, for one layer's centres [H, K, D] and log_scale [H, K].
Tensor pair_overlap_sum(const Tensor& centres, const Tensor& log_scale, const Tensor& mask) {
    const int64_t H = centres.size(0), K = centres.size(1), D = centres.size(2);
    Tensor diff = reshape(centres, {H, K, 1, D}) - reshape(centres, {H, 1, K, D});  // direct: exact 0 on the diagonal
    Tensor d2 = sum(square(diff), -1);                                               // [H, K, K]
    Tensor s2 = exp(log_scale.detach() * 2.f);                                       // constants: see the header
    Tensor width = (reshape(s2, {H, K, 1}) + reshape(s2, {H, 1, K})) * 2.f;
    return sum(exp(-(d2 / width)) * mask.to(centres.device()));
}
}  // namespace

Tensor splat_diversity_loss(const Module& model) {
    std::map<std::string, Tensor> centres, log_scales, log_amps;  // by module prefix ("blocks.0.attn.")
    for (const auto& [name, tensor] : model.named_parameters()) {
        const size_t dot = name.rfind('.') + 1;  // 0 when there is no dot
        const std::string prefix = name.substr(0, dot), leaf = name.substr(dot);
        if (leaf == "centres") centres[prefix] = tensor;
        if (leaf == "log_scale") log_scales[prefix] = tensor;
        if (leaf == "log_amp") log_amps[prefix] = tensor;
    }
    Tensor total;
    int64_t pairs = 0;
    for (const auto& [prefix, mu] : centres) {
        auto scale = log_scales.find(prefix);
        if (scale == log_scales.end() || mu.dim() != 3) continue;
        const Tensor& ls = scale->second;
        SPLATLM_CHECK(ls.shape() == Shape({mu.size(0), mu.size(1)}), "splat diversity: ", prefix, "log_scale is ",
                      shape_str(ls.shape()), " but ", prefix, "centres is ", shape_str(mu.shape()));
        const auto amp = log_amps.find(prefix);
        const Tensor mask = live_pairs(amp == log_amps.end() ? Tensor() : amp->second, mu.size(0), mu.size(1));
        int64_t live = 0;
        for (float x : mask.to_vector()) live += x > 0.f;
        if (live == 0) continue;
        Tensor layer = pair_overlap_sum(mu, ls, mask);
        total = total.defined() ? total + layer : layer;
        pairs += live;
    }
    SPLATLM_CHECK(pairs > 0, "splat diversity: the model has no splat attention with two or more live splats per "
                             "head (use a splat attention kind, or splat_diversity = 0)");
    return total * (1.f / float(pairs));
}

}  // namespace splatlm
