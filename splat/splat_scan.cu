// splat_scan.cu — launches the passes of splat/splat_scan_passes.h: one kernel per pass, one thread per
// index of pass.size() (grid-stride loop, 256 threads a block, at most 65536 blocks). The launch
// shapes, per (batch, head), with NC = ⌈T / kSplatChunk⌉:
//   A affinities  T·K threads      B chunk states  NC·K threads (each C tokens × D columns)
//   C prefixes    K·D threads (each NC steps)      D token scalars  NC·K threads (each C tokens)
//   E read-out    T threads (each K splats)        F columns  NC·D threads (each K splats × C tokens)
// Each thread writes only its own outputs and the passes are ordered by the default stream, so the
// results do not depend on the launch configuration and repeat bitwise.
#include "cuda/check.h"
#include "cuda/launch.h"
#include "splat/splat_scan.h"

namespace splatlm::cuda {

namespace {

template <class Pass>
__global__ void run_pass(Pass pass) {
    const int64_t n = pass.size();
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        pass(i);
}

struct Launch {
    template <class Pass>
    void operator()(const Pass& pass) const {
        const int64_t n = pass.size();
        if (n == 0) return;  // a launch of zero blocks is an error
        run_pass<<<grid_stride_blocks(n), kThreads>>>(pass);
        CUDA_CHECK(cudaGetLastError());
    }
};

}  // namespace

void splat_scan_forward(const ScanShape& s, const ScanSplats& sp, HeadsView<const float> q, HeadsView<const float> k,
                        HeadsView<const float> v, HeadsView<float> y, const ScanBuffers& buf) {
    splatlm::splat_scan_forward(s, sp, q, k, v, y, buf, Launch{});
}

void splat_scan_backward(const ScanShape& s, const ScanSplats& sp, HeadsView<const float> q, HeadsView<const float> k,
                         HeadsView<const float> v, const ScanBuffers& buf, const ScanGrads& gr) {
    splatlm::splat_scan_backward(s, sp, q, k, v, buf, gr, Launch{});
}

void splat_scan_step(const ScanShape& s, const ScanSplats& sp, HeadsView<const float> q, HeadsView<const float> k,
                     HeadsView<const float> v, HeadsView<float> y, const ScanBuffers& buf) {
    splatlm::splat_scan_step(s, sp, q, k, v, y, buf, Launch{});
}

}  // namespace splatlm::cuda
