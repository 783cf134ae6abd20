// random_tensors.cpp — the tensor-level random fills of random.h: allocate a CUDA tensor, fill it
// with the pointer-level calls. Host code in every build (without CUDA the allocation refuses).
#include "cuda/random.h"
#include "tensor/error.h"

namespace splatlm::cuda {

Tensor random_uniform(const Shape& shape, uint64_t seed) {
    Tensor out = Tensor::empty(shape, Device::CUDA);
    fill_uniform(out.data(), out.numel(), seed);
    return out;
}

Tensor random_normal(const Shape& shape, float mean, float stddev, uint64_t seed) {
    SPLATLM_CHECK(stddev >= 0.f, "random_normal: standard deviation ", stddev, " is negative");
    // cuRAND draws normals in pairs: an odd count is drawn into one extra element nobody sees.
    const int64_t n = numel(shape), drawn = n + n % 2;
    auto storage = std::make_shared<Storage>(drawn, Device::CUDA);
    fill_normal(storage->data(), drawn, mean, stddev, seed);
    return Tensor::view_of(storage, shape, contiguous_strides(shape), 0);
}

Tensor dropout_mask(const Shape& shape, float p, uint64_t seed) {
    SPLATLM_CHECK(p >= 0.f && p < 1.f, "dropout: probability ", p, " outside [0, 1)");
    Tensor out = Tensor::empty(shape, Device::CUDA);
    fill_dropout_mask(out.data(), out.numel(), p, seed);
    return out;
}

}  // namespace splatlm::cuda
