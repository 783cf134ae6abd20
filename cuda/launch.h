// launch.h — the launch configuration every grid-stride kernel shares (elementwise, map, reduce, nn,
// optimizer, random and the splat scan's passes).
#pragma once
#include <algorithm>
#include <cstdint>

namespace splatlm::cuda {

inline constexpr int kThreads = 256;  // threads per block; a multiple of the warp size (block reductions need it)

// Enough blocks for one element per thread, capped: past the cap each thread loops.
inline int grid_stride_blocks(int64_t numel) {
    return static_cast<int>(std::min<int64_t>((numel + kThreads - 1) / kThreads, 1 << 16));
}

}  // namespace splatlm::cuda
