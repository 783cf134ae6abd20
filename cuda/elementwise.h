// elementwise.h — unary and binary elementwise ops on device memory. Implemented in elementwise.cu
// when nvcc is present, by elementwise_stub.cpp ("built without CUDA") when it is not. raw::unary
// and raw::binary (tensor/elementwise.cpp) call these for CUDA tensors.
#pragma once
#include "tensor/broadcast_index.h"
#include "tensor/elementwise_math.h"

namespace splatlm::cuda {

// Device pointers at each operand's element [0, ..., 0]; index operand 0 is out, then the inputs.
// Launches on the default stream and checks the launch; returns without waiting for the kernel.
void unary(Unary op, const BroadcastIndex<2>& index, float* out, const float* x);
void binary(Binary op, const BroadcastIndex<3>& index, float* out, const float* a, const float* b);

}  // namespace splatlm::cuda
