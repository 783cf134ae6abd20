// linear_scan_stub.cpp — CPU-only stand-in for linear_scan.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/linear_scan.h"
#include "cuda/not_built.h"

namespace splatlm::cuda {

void linear_attention_forward(const LinearForward&) { not_built(); }
void linear_attention_backward(const LinearBackward&) { not_built(); }

}  // namespace splatlm::cuda
