// tensor.h — the float32 Tensor: a view (shape, strides, offset) into a shared Storage on one device,
// plus the autograd state (requires_grad, grad, grad_fn) that autograd/ reads and writes.
//
// Tensor is a cheap handle (shared_ptr to TensorImpl): copying a Tensor aliases the same data.
// Nothing in tensor/ records a graph; differentiable operations live in autograd/ops.h.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/device.h"
#include "tensor/rng.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace splatlm {

struct Node;  // autograd/graph.h: the operation that produced a tensor

struct TensorImpl {
    StoragePtr storage;
    Shape shape;
    Strides strides;
    int64_t offset = 0;
    // autograd state
    bool requires_grad = false;
    std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf (same shape, contiguous)
    std::shared_ptr<Node> grad_fn;     // null for leaves
};

class Tensor {
  public:
    Tensor() = default;  // undefined tensor (e.g. "no gradient")
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // ---- factories (contiguous) ----
    static Tensor empty(const Shape& shape, Device device = Device::CPU);
    static Tensor zeros(const Shape& shape, Device device = Device::CPU);
    static Tensor full(const Shape& shape, float value, Device device = Device::CPU);
    static Tensor ones(const Shape& shape, Device device = Device::CPU) { return full(shape, 1.f, device); }
    static Tensor from_vector(const std::vector<float>& values, const Shape& shape);
    static Tensor scalar(float value) { return from_vector({value}, {}); }
    static Tensor randn(const Shape& shape, Rng& rng, float stddev = 1.f);
    static Tensor rand(const Shape& shape, Rng& rng, float lo = 0.f, float hi = 1.f);
    // A view with explicit strides over existing storage (no copy).
    static Tensor view_of(const StoragePtr& storage, const Shape& shape, const Strides& strides, int64_t offset);

    // ---- metadata ----
    bool defined() const { return impl_ != nullptr; }
    const Shape& shape() const { return impl_->shape; }
    const Strides& strides() const { return impl_->strides; }
    int64_t offset() const { return impl_->offset; }
    int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
    int64_t size(int64_t axis) const;  // negative axes count from the end
    int64_t numel() const { return splatlm::numel(impl_->shape); }
    Device device() const { return impl_->storage->device(); }
    bool is_contiguous() const;
    const StoragePtr& storage() const { return impl_->storage; }
    TensorImpl* impl() const { return impl_.get(); }
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
    bool same_storage(const Tensor& other) const { return impl_->storage == other.impl_->storage; }

    // ---- data access ----
    float* data() { return impl_->storage->data() + impl_->offset; }  // element [0,...,0]
    const float* data() const { return impl_->storage->data() + impl_->offset; }
    float item() const;                                   // the one element of a size-1 tensor
    float at(std::initializer_list<int64_t> index) const;  // CPU, for tests and debugging
    std::vector<float> to_vector() const;                  // all elements in logical (row-major) order
    Tensor to(Device device) const;                        // copy to another device (self if already there)
    Tensor clone() const;                                  // contiguous deep copy, no graph

    // ---- autograd state (graph building lives in autograd/) ----
    bool requires_grad() const { return impl_->requires_grad; }
    Tensor& set_requires_grad(bool on = true);  // only on leaves
    Tensor grad() const { return Tensor(impl_->grad); }
    void zero_grad() { impl_->grad.reset(); }
    const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
    bool is_leaf() const { return impl_->grad_fn == nullptr; }
    Tensor detach() const;  // same data, no history, requires_grad = false

  private:
    std::shared_ptr<TensorImpl> impl_;
};

// Tensors with names, in a meaningful order (module parameters, checkpoint contents).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Throws naming `op` when t lives on another device than `where` (kernels not yet ported say so).
void check_device(const char* op, const Tensor& t, Device where);

}  // namespace splatlm
