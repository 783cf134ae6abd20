// elementwise_at.h — one output element of a unary or binary op, located through a BroadcastIndex:
// the body of the CUDA kernels' loop (cuda/elementwise.cu), which the host tests also run.
#pragma once
#include "tensor/broadcast_index.h"
#include "tensor/elementwise_math.h"

namespace splatlm {

// out, x, a, b point at each operand's element [0, ..., 0]; operand 0 of the index is out.
template <Unary op>
SPLATLM_HD inline void unary_at(const BroadcastIndex<2>& index, int64_t i, float* out, const float* x) {
    const Offsets<2> off = index.offsets(i);
    out[off.at[0]] = apply_unary<op>(x[off.at[1]]);
}

template <Binary op>
SPLATLM_HD inline void binary_at(const BroadcastIndex<3>& index, int64_t i, float* out, const float* a, const float* b) {
    const Offsets<3> off = index.offsets(i);
    out[off.at[0]] = apply_binary<op>(a[off.at[1]], b[off.at[2]]);
}

}  // namespace splatlm
