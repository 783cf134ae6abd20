#include "nn/layers.h"

namespace splatlm {

Linear::Linear(int64_t in, int64_t out, bool with_bias, Rng& rng, float init_std)
    : weight(add_parameter("weight", Tensor::randn({out, in}, rng, init_std), /*weight_decay=*/true)) {
    if (with_bias) bias = &add_parameter("bias", Tensor::zeros({out}));
}

Tensor Linear::forward(const Tensor& x) const {
    return linear(x, weight, bias ? *bias : Tensor());
}

Embedding::Embedding(int64_t count, int64_t dim, Rng& rng, float init_std)
    : weight(add_parameter("weight", Tensor::randn({count, dim}, rng, init_std))) {}

LayerNorm::LayerNorm(int64_t dim)
    : weight(add_parameter("weight", Tensor::ones({dim}))), bias(add_parameter("bias", Tensor::zeros({dim}))) {}

MLP::MLP(int64_t dim, Rng& rng, float proj_std)
    : fc(add_module("fc", std::make_unique<Linear>(dim, 4 * dim, true, rng))),
      proj(add_module("proj", std::make_unique<Linear>(4 * dim, dim, true, rng, proj_std))) {}

}  // namespace splatlm
