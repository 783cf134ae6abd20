// short_conv_stub.cpp — CPU-only stand-in for short_conv.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/not_built.h"
#include "cuda/short_conv.h"

namespace splatlm::cuda {

void short_conv_forward(const float*, const float*, float*, ShortConvShape) { not_built(); }
void short_conv_backward(const float*, const float*, const float*, float*, float*, ShortConvShape) { not_built(); }

}  // namespace splatlm::cuda
