#include "splat/register.h"

namespace splatlm {

void register_splat_attentions(SplatOptions options) {
    register_attention("splat", [options](const GPTConfig& c, int64_t layer, Rng& rng) {
        return std::make_unique<SplatAttention>(c, layer, rng, options);
    });
}

}  // namespace splatlm
