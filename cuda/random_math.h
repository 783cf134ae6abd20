// random_math.h — the per-element math of the device random fills, SPLATLM_HD so the kernels in
// random.cu and the host tests run the same code (and CPU dropout uses the same mask rule).
#pragma once
#include <cstdint>

#include "tensor/hd.h"

namespace splatlm::cuda {

// 32 random bits → uniform in [0, 1): the top 24 bits times 2⁻²⁴, exact in a float, so 0 can occur
// and 1 cannot. (cuRAND's own float uniforms lie in (0, 1], hence raw bits are drawn instead.)
SPLATLM_HD inline float uniform_from_bits(uint32_t bits) { return float(bits >> 8) * (1.f / 16777216.f); }

// Inverted dropout: keep with probability 1 − p and scale the survivor by 1/(1 − p), so that the
// expected output equals the input. u is uniform in [0, 1); 0 <= p < 1.
SPLATLM_HD inline float dropout_scale(float u, float p) { return u >= p ? 1.f / (1.f - p) : 0.f; }

}  // namespace splatlm::cuda
