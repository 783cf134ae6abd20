// splat_scan_stub.cpp — CPU-only stand-in for splat_scan.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/not_built.h"
#include "splat/splat_scan.h"

namespace splatlm::cuda {

void splat_scan_forward(const ScanShape&, const ScanSplats&, HeadsView<const float>, HeadsView<const float>,
                        HeadsView<const float>, HeadsView<float>, const ScanBuffers&) {
    not_built();
}
void splat_scan_backward(const ScanShape&, const ScanSplats&, HeadsView<const float>, HeadsView<const float>,
                         HeadsView<const float>, const ScanBuffers&, const ScanGrads&) {
    not_built();
}
void splat_scan_step(const ScanShape&, const ScanSplats&, HeadsView<const float>, HeadsView<const float>,
                     HeadsView<const float>, HeadsView<float>, const ScanBuffers&) {
    not_built();
}

}  // namespace splatlm::cuda
