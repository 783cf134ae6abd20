#include "nn/flat_parameters.h"

#include <algorithm>

#include "tensor/error.h"

namespace splatlm {

FlatParameters::FlatParameters(const Module& model) {
    NamedTensors named = model.named_parameters();
    std::vector<bool> decay = model.weight_decay_mask();
    int64_t total = 0;
    for (const auto& [_, t] : named) total += t.numel();
    values_ = Tensor::zeros({total});
    grads_ = Tensor::zeros({total});
    int64_t offset = 0;
    for (size_t i = 0; i < named.size(); ++i) {
        const auto& [name, t] = named[i];
        SPLATLM_CHECK(t.device() == Device::CPU && t.is_leaf(), "flat parameters: '", name, "' must be a CPU leaf");
        std::vector<float> data = t.to_vector();
        std::copy(data.begin(), data.end(), values_.data() + offset);
        TensorImpl* impl = t.impl();
        impl->storage = values_.storage();
        impl->offset = offset;
        impl->strides = contiguous_strides(impl->shape);
        impl->grad = Tensor::view_of(grads_.storage(), impl->shape, impl->strides, offset).impl_ptr();
        slots_.push_back({name, t, offset, decay[i]});
        offset += t.numel();
    }
}

void FlatParameters::zero_grad() { std::fill_n(grads_.data(), grads_.numel(), 0.f); }

}  // namespace splatlm
