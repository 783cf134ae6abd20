// config.h — the shape of a GPT model. Serialised into checkpoints (train/model_config.cpp).
#pragma once
#include <cstdint>
#include <string>

namespace splatlm {

struct GPTConfig {
    int64_t vocab = 256;      // tokens
    int64_t context = 64;     // longest sequence (learned positions)
    int64_t layers = 4;
    int64_t heads = 4;
    int64_t width = 128;      // embedding width; head size = width / heads
    std::string attention = "softmax";  // a name in the attention registry (nn/attention.h)
    float dropout = 0.f;
    int64_t window = 32;      // sliding-window size for `local` (and the local part of hybrids)
    int64_t splats = 16;      // Gaussian splats per head for `splat`

    int64_t head_dim() const { return width / heads; }
    void validate() const;    // clear errors for impossible shapes
};

}  // namespace splatlm
