#include "splat/splat_cross_attention.h"

#include <cmath>

#include "nn/projected_attention.h"
#include "splat/splat_global.h"
#include "tensor/error.h"

namespace splatlm {

namespace {
int64_t checked_head_dim(int64_t width, int64_t context_width, int64_t heads, int64_t splats) {
    SPLATLM_CHECK(width > 0 && context_width > 0 && heads > 0 && splats > 0 && width % heads == 0,
                  "splat cross-attention: need positive sizes and width divisible by heads; got width ", width,
                  ", context width ", context_width, ", heads ", heads, ", splats ", splats);
    return width / heads;
}
}  // namespace

SplatCrossAttention::SplatCrossAttention(int64_t width, int64_t context_width, int64_t heads, int64_t splats, Rng& rng)
    : q(add_module("q", std::make_unique<Linear>(width, width, true, rng))),
      kv(add_module("kv", std::make_unique<Linear>(context_width, 2 * width, true, rng))),
      proj(add_module("proj", std::make_unique<Linear>(width, width, true, rng))),
      centres(add_parameter(
          "centres", Tensor::randn({heads, splats, checked_head_dim(width, context_width, heads, splats)}, rng, 0.5f))),
      log_scale(add_parameter("log_scale", Tensor::full({heads, splats}, 0.5f * std::log(float(width / heads))))),
      log_amp(add_parameter("log_amp", Tensor::zeros({heads, splats}))),
      heads_(heads) {}

Tensor SplatCrossAttention::forward(const Tensor& x, const Tensor& context) const {
    const int64_t C = q.weight.size(0);
    SPLATLM_CHECK(x.dim() == 3 && context.dim() == 3 && x.size(0) == context.size(0) && x.size(2) == C &&
                      context.size(2) == kv.weight.size(1),
                  "splat cross-attention: expected x [B, Tq, ", C, "] and context [B, Tk, ", kv.weight.size(1),
                  "], got ", shape_str(x.shape()), " and ", shape_str(context.shape()));
    const int64_t B = x.size(0), Tq = x.size(1), Tk = context.size(1), H = heads_, D = C / H;
    Tensor qh = permute(reshape(q.forward(x), {B, Tq, H, D}), {0, 2, 1, 3});
    Tensor kvr = reshape(kv.forward(context), {B, Tk, 2, H, D});
    Tensor kh = permute(select(kvr, 2, 0), {0, 2, 1, 3}), vh = permute(select(kvr, 2, 1), {0, 2, 1, 3});
    return proj.forward(merge_heads(splat_attention_global(qh, kh, vh, centres, log_scale, log_amp)));
}

}  // namespace splatlm
