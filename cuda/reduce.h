// reduce.h — sum and max along one axis of a contiguous device tensor viewed as [outer, n, inner]
// (tensor/reduce_math.h). Implemented in reduce.cu when nvcc is present, by reduce_stub.cpp when it
// is not. raw::sum, sum_all, max, max_all and sum_to (tensor/reduce.cpp) call these for CUDA tensors.
#pragma once
#include "tensor/reduce_math.h"

namespace splatlm::cuda {

// out: L.outputs() floats, x: L.outer·L.n·L.inner floats, both device pointers. Deterministic: the
// summation order depends on the layout alone. Launch on the default stream, checked.
void sum(const ReduceLayout& L, float* out, const float* x);
void max(const ReduceLayout& L, float* out, const float* x);

}  // namespace splatlm::cuda
