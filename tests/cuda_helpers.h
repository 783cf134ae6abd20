// cuda_helpers.h — what the CUDA tests share: running a kernel's block body on the host with a
// one-thread team, and copying a tensor to another device with its layout (strides, offset) kept.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "cuda/head_view.h"
#include "tensor/tensor.h"

namespace splatlm::test {

// Runs a kernel body over every block with the host's one-thread team. Shared memory starts as NaN
// in every block, so a read of something no phase of that block wrote shows up in the result.
template <class Body>
void run_blocks(int64_t blocks, size_t floats, Body body) {
    std::vector<float> shared(floats);
    for (int64_t block = 0; block < blocks; ++block) {
        std::fill(shared.begin(), shared.end(), NAN);
        body(block, shared.data(), cuda::Team{0, 1});
    }
}

// x on `device` with x's shape, strides and offset (its whole storage copied).
inline Tensor same_layout_on(const Tensor& x, Device device) {
    const Tensor storage = Tensor::view_of(x.storage(), {x.storage()->size()}, {1}, 0).to(device);
    return Tensor::view_of(storage.storage(), x.shape(), x.strides(), x.offset());
}

}  // namespace splatlm::test
