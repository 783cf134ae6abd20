// map_at.h — one element of the single-input maps that write through a BroadcastIndex: copy,
// affine (x·scale + shift), pow_scalar and the accumulation dst += src. Each map is a small functor
// `f(dst, src)` that sets (or updates) one destination element; map_at is the body of the CUDA
// kernel's loop (cuda/map.cu), and the host tests run it unchanged.
#pragma once
#include <cmath>

#include "tensor/broadcast_index.h"

namespace splatlm {

struct CopyMap {
    SPLATLM_HD void operator()(float& d, float s) const { d = s; }
};
struct AffineMap {
    float scale, shift;
    SPLATLM_HD void operator()(float& d, float s) const { d = s * scale + shift; }
};
struct PowMap {
    float p;
    SPLATLM_HD void operator()(float& d, float s) const { d = powf(s, p); }
};
struct AddIntoMap {  // gradient accumulation: dst += src
    SPLATLM_HD void operator()(float& d, float s) const { d += s; }
};

// Index operand 0 is out (the destination), operand 1 the source x.
template <class F>
SPLATLM_HD inline void map_at(const BroadcastIndex<2>& index, int64_t i, float* out, const float* x, F f) {
    const Offsets<2> off = index.offsets(i);
    f(out[off.at[0]], x[off.at[1]]);
}

}  // namespace splatlm
