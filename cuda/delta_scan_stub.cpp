// delta_scan_stub.cpp — CPU-only stand-in for delta_scan.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/delta_scan.h"
#include "cuda/not_built.h"

namespace splatlm::cuda {

void delta_rule_forward(const DeltaForward&) { not_built(); }
void delta_rule_backward(const DeltaBackward&) { not_built(); }

}  // namespace splatlm::cuda
