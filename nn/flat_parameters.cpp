#include "nn/flat_parameters.h"

#include <algorithm>

#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

FlatParameters::FlatParameters(const Module& model) {
    NamedTensors named = model.named_parameters();
    std::vector<bool> decay = model.weight_decay_mask();
    int64_t total = 0;
    for (const auto& [_, t] : named) total += t.numel();
    device_ = model.device();
    values_ = Tensor::zeros({total}, device_);
    grads_ = Tensor::zeros({total}, device_);
    int64_t offset = 0;
    for (size_t i = 0; i < named.size(); ++i) {
        const auto& [name, t] = named[i];
        SPLATLM_CHECK(t.is_leaf(), "flat parameters: '", name, "' must be a leaf");
        Tensor slot = Tensor::view_of(values_.storage(), t.shape(), contiguous_strides(t.shape()), offset);
        raw::copy_into(slot, t);
        TensorImpl* impl = t.impl();
        impl->storage = values_.storage();
        impl->offset = offset;
        impl->strides = slot.strides();
        impl->grad = Tensor::view_of(grads_.storage(), impl->shape, impl->strides, offset).impl_ptr();
        slots_.push_back({name, t, offset, decay[i]});
        offset += t.numel();
    }
}

void FlatParameters::zero_grad() { raw::fill(grads_, 0.f); }

}  // namespace splatlm
