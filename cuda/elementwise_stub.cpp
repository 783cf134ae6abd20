// elementwise_stub.cpp — CPU-only stand-in for elementwise.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/elementwise.h"
#include "cuda/not_built.h"

namespace splatlm::cuda {

void unary(Unary, const BroadcastIndex<2>&, float*, const float*) { not_built(); }
void binary(Binary, const BroadcastIndex<3>&, float*, const float*, const float*) { not_built(); }

}  // namespace splatlm::cuda
