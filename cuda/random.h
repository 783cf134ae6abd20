// random.h — seeded random fills of device memory through cuRAND's Philox4x32-10 generator. The
// pointer-level fills are implemented in random.cu when nvcc is present (random_stub.cpp: "built
// without CUDA" otherwise); the tensor-level ones (random_tensors.cpp) allocate and call them.
//
// A draw is a pure function of (seed, offset, n): the same arguments give bitwise-identical values
// on any run. They are not the CPU Rng's values (a different generator), so a CPU and a CUDA draw
// with one seed differ; each is reproducible on its own.
#pragma once
#include <cstdint>

#include "tensor/tensor.h"

namespace splatlm::cuda {

// dst: n floats of device memory. offset is cuRAND's absolute skip-ahead in the seed's stream.
// All launch on the default stream and return without waiting.
void fill_uniform(float* dst, int64_t n, uint64_t seed, uint64_t offset = 0);  // [0, 1)
// n must be even (cuRAND draws normals in pairs, Box–Muller).
void fill_normal(float* dst, int64_t n, float mean, float stddev, uint64_t seed, uint64_t offset = 0);
// dst[i] = dropout_scale(u_i, p) (random_math.h) for uniform u_i in [0, 1): 1/(1 − p) or 0.
void fill_dropout_mask(float* dst, int64_t n, float p, uint64_t seed);

// New contiguous CUDA tensors, e.g. for initialising parameters on the device.
Tensor random_uniform(const Shape& shape, uint64_t seed);
Tensor random_normal(const Shape& shape, float mean, float stddev, uint64_t seed);
Tensor dropout_mask(const Shape& shape, float p, uint64_t seed);

}  // namespace splatlm::cuda
