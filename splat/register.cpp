#include "splat/register.h"

#include "splat/splat_delta.h"
#include "splat/splat_local.h"

namespace splatlm {

void register_splat_attentions() {
    register_attention("splat", [](const GPTConfig& c, int64_t layer, Rng& rng) {
        return std::make_unique<SplatAttention>(c, layer, rng);
    });
    register_attention("splat_local", [](const GPTConfig& c, int64_t layer, Rng& rng) {
        return std::make_unique<SplatLocalAttention>(c, layer, rng);
    });
    register_attention("splat_delta", [](const GPTConfig& c, int64_t layer, Rng& rng) {
        return std::make_unique<SplatDeltaAttention>(c, layer, rng);
    });
}

}  // namespace splatlm
