// map.h — copy, affine, pow_scalar, add-into and fill on device memory, any strides on either side
// (tensor/map_at.h). Implemented in map.cu when nvcc is present, by map_stub.cpp when it is not.
// raw::copy_into, raw::affine, raw::pow_scalar and raw::add_inplace call these for CUDA tensors.
#pragma once
#include <cstdint>

#include "tensor/broadcast_index.h"

namespace splatlm::cuda {

// Device pointers at each operand's element [0, ..., 0]; index operand 0 is out, operand 1 is x.
// Launch on the default stream, checked; they return without waiting for the kernel.
void copy(const BroadcastIndex<2>& index, float* out, const float* x);                        // out = x
void affine(const BroadcastIndex<2>& index, float* out, const float* x, float scale, float shift);  // x·scale + shift
void pow_scalar(const BroadcastIndex<2>& index, float* out, const float* x, float p);              // x^p
void add_into(const BroadcastIndex<2>& index, float* out, const float* x);                    // out += x
void fill(float* out, int64_t n, float value);  // n contiguous floats = value (raw::fill on CUDA)

}  // namespace splatlm::cuda
