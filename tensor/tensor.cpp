#include "tensor/tensor.h"

#include <algorithm>
#include <cstring>

#include "cuda/runtime.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

Tensor Tensor::view_of(const StoragePtr& storage, const Shape& shape, const Strides& strides, int64_t offset) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = storage;
    impl->shape = shape;
    impl->strides = strides;
    impl->offset = offset;
    return Tensor(std::move(impl));
}

Tensor Tensor::empty(const Shape& shape, Device device) {
    for (int64_t d : shape) SPLATLM_CHECK(d >= 0, "empty: negative dimension in shape ", shape_str(shape));
    return view_of(std::make_shared<Storage>(splatlm::numel(shape), device), shape, contiguous_strides(shape), 0);
}

Tensor Tensor::full(const Shape& shape, float value, Device device) {
    Tensor t = empty(shape, device);
    raw::fill(t, value);  // on a CUDA device without a host buffer; on the CPU across threads when large
    return t;
}

Tensor Tensor::zeros(const Shape& shape, Device device) { return full(shape, 0.f, device); }

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape) {
    SPLATLM_CHECK(static_cast<int64_t>(values.size()) == splatlm::numel(shape), "from_vector: ", values.size(),
                  " values do not fill shape ", shape_str(shape));
    Tensor t = empty(shape);
    std::copy(values.begin(), values.end(), t.data());
    return t;
}

Tensor Tensor::randn(const Shape& shape, Rng& rng, float stddev) {
    Tensor t = empty(shape);
    rng.normal(t.data(), t.numel(), 0.f, stddev);
    return t;
}

Tensor Tensor::rand(const Shape& shape, Rng& rng, float lo, float hi) {
    Tensor t = empty(shape);
    rng.uniform(t.data(), t.numel(), lo, hi);
    return t;
}

int64_t Tensor::size(int64_t axis) const { return impl_->shape[normalize_axis(axis, dim(), "size")]; }

bool Tensor::is_contiguous() const {
    int64_t expected = 1;
    for (size_t i = impl_->shape.size(); i-- > 0;) {
        if (impl_->shape[i] == 1) continue;  // the stride of a size-1 axis never matters
        if (impl_->strides[i] != expected) return false;
        expected *= impl_->shape[i];
    }
    return true;
}

float Tensor::item() const {
    SPLATLM_CHECK(numel() == 1, "item: tensor of shape ", shape_str(shape()), " has ", numel(), " elements, not 1");
    return to_vector()[0];
}

float Tensor::at(std::initializer_list<int64_t> index) const {
    check_device("at", *this, Device::CPU);
    SPLATLM_CHECK(static_cast<int64_t>(index.size()) == dim(), "at: ", index.size(), " indices for a tensor of shape ",
                  shape_str(shape()));
    int64_t pos = 0, axis = 0;
    for (int64_t i : index) {
        SPLATLM_CHECK(i >= 0 && i < impl_->shape[axis], "at: index ", i, " out of range for axis ", axis, " of shape ",
                      shape_str(shape()));
        pos += i * impl_->strides[axis++];
    }
    return data()[pos];
}

std::vector<float> Tensor::to_vector() const {
    if (device() != Device::CPU) return to(Device::CPU).to_vector();
    Tensor c = raw::contiguous(*this);
    return std::vector<float>(c.data(), c.data() + c.numel());
}

Tensor Tensor::clone() const {
    SPLATLM_CHECK(defined(), "clone: undefined tensor");
    Tensor out = empty(shape(), device());
    raw::copy_into(out, *this);  // on this tensor's device, any strides
    return out;
}

Tensor Tensor::to(Device target) const {
    if (device() == target) return *this;
    const Tensor src = raw::contiguous(*this);  // gathered on its own device, copied only when strided
    Tensor out = empty(shape(), target);
    size_t bytes = numel() * sizeof(float);
    if (target == Device::CUDA)
        cuda::copy_to_device(out.data(), src.data(), bytes);
    else
        cuda::copy_to_host(out.data(), src.data(), bytes);
    return out;
}

Tensor& Tensor::set_requires_grad(bool on) {
    SPLATLM_CHECK(is_leaf(), "set_requires_grad: only leaf tensors can be marked (this one has a grad_fn)");
    impl_->requires_grad = on;
    return *this;
}

Tensor Tensor::detach() const { return view_of(impl_->storage, impl_->shape, impl_->strides, impl_->offset); }

void check_device(const char* op, const Tensor& t, Device where) {
    SPLATLM_CHECK(t.defined(), op, ": undefined tensor");
    SPLATLM_CHECK(t.device() == where, op, ": tensor of shape ", shape_str(t.shape()), " is on ",
                  device_name(t.device()), ", this kernel runs on ", device_name(where));
}

}  // namespace splatlm
