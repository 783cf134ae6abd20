// register.h — puts the splat attention kinds into the attention registry (nn/attention.h).
// nn/ cannot know about splat/ (layering), so whoever builds models from names — the CLI, tests —
// calls register_splat_attentions() once before make_attention()/GPT. Calling it again is harmless.
#pragma once
#include "splat/splat_attention.h"

namespace splatlm {

// Registers "splat": SplatAttention with K = GPTConfig::splats splats per head, and "splat_local":
// SplatLocalAttention (splat path + softmax over the last GPTConfig::window tokens, gated per head).
void register_splat_attentions();

}  // namespace splatlm
