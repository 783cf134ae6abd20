// splat_scan.h — the splat op's chunked scan on device memory (forward, backward and the recurrent
// step). The passes are in splat_scan_passes.h, shared with the host tests; here they are launched,
// one thread per index, in splat_scan.cu (splat_scan_stub.cpp: "built without CUDA").
// splat_gpu.cpp calls these for CUDA tensors.
#pragma once
#include "splat/splat_scan_passes.h"

namespace splatlm::cuda {

// All pointers are device pointers; launches on the default stream, checks every launch, and returns
// without waiting for the kernels.
void splat_scan_forward(const ScanShape& s, const ScanSplats& sp, HeadsView<const float> q, HeadsView<const float> k,
                        HeadsView<const float> v, HeadsView<float> y, const ScanBuffers& buf);
void splat_scan_backward(const ScanShape& s, const ScanSplats& sp, HeadsView<const float> q, HeadsView<const float> k,
                         HeadsView<const float> v, const ScanBuffers& buf, const ScanGrads& gr);
void splat_scan_step(const ScanShape& s, const ScanSplats& sp, HeadsView<const float> q, HeadsView<const float> k,
                     HeadsView<const float> v, HeadsView<float> y, const ScanBuffers& buf);

}  // namespace splatlm::cuda
