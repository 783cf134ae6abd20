// flat_parameters.h — a model's parameters and gradients as two contiguous buffers.
//
// Every parameter tensor is re-pointed (same TensorImpl, so every holder sees it) to a slice of one
// `values` buffer, and its gradient to the matching slice of one `grads` buffer that backward()
// accumulates into. Zeroing gradients, the optimiser step, gradient norms and checkpoint I/O
// become single loops over flat memory. The buffers live where the model's parameters live
// (Module::to first, then FlatParameters): CPU loops or CUDA kernels.
#pragma once
#include <string>
#include <vector>

#include "nn/module.h"

namespace splatlm {

class FlatParameters {
  public:
    explicit FlatParameters(const Module& model);

    struct Slot {
        std::string name;
        Tensor tensor;      // the parameter itself (a view into `values`)
        int64_t offset;     // into the flat buffers
        bool weight_decay;
    };
    const std::vector<Slot>& slots() const { return slots_; }
    int64_t size() const { return values_.numel(); }
    Device device() const { return device_; }
    float* values() { return values_.data(); }
    float* grads() { return grads_.data(); }
    const float* grads() const { return grads_.data(); }
    void zero_grad();

  private:
    std::vector<Slot> slots_;
    Device device_ = Device::CPU;
    Tensor values_, grads_;  // 1-D, size() floats each
};

}  // namespace splatlm
