// flash_attention_stub.cpp — CPU-only stand-in for flash_attention.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/flash_attention.h"
#include "cuda/not_built.h"

namespace splatlm::cuda {

void flash_attention_forward(const FlashForward&) { not_built(); }
void flash_attention_backward(const FlashBackward&) { not_built(); }

}  // namespace splatlm::cuda
