// short_conv.h — the short causal depthwise convolution of nn/short_conv.h on device memory: one
// thread per output element, the sums of short_conv_math.h. Implemented in short_conv.cu when nvcc
// is present, by short_conv_stub.cpp ("built without CUDA") when it is not.
#pragma once
#include "cuda/short_conv_math.h"

namespace splatlm::cuda {

// y from x and w (all contiguous device buffers). Launches on the default stream; does not wait.
void short_conv_forward(const float* x, const float* w, float* y, ShortConvShape shape);
// dx and dw from x, w and dy.
void short_conv_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, ShortConvShape shape);

}  // namespace splatlm::cuda
