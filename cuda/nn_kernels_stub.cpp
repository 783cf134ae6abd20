// nn_kernels_stub.cpp — CPU-only stand-in for nn_kernels.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/nn_kernels.h"
#include "cuda/not_built.h"

namespace splatlm::cuda {

void softmax(int64_t, int64_t, bool, float*, const float*) { not_built(); }
void softmax_backward(int64_t, int64_t, bool, float*, const float*, const float*) { not_built(); }
void layernorm(int64_t, int64_t, float, float*, float*, float*, const float*, const float*, const float*) {
    not_built();
}
void layernorm_backward(int64_t, int64_t, float*, float*, float*, const float*, const float*, const float*,
                        const float*, const float*) {
    not_built();
}
void embedding(int64_t, int64_t, float*, const float*, const int32_t*) { not_built(); }
void embedding_backward(int64_t, int64_t, float*, const float*, const int32_t*) { not_built(); }
double cross_entropy(int64_t, int64_t, float*, const float*, const int32_t*, int32_t) { not_built(); }
void cross_entropy_backward(int64_t, int64_t, float*, const float*, const float*, const int32_t*, int32_t, float) {
    not_built();
}

}  // namespace splatlm::cuda
