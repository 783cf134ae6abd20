// broadcast_index.h — the index logic an elementwise kernel needs when it gives each output element
// its own thread: flat output index → element offset in every operand. Operands share one logical
// shape but keep their own strides (0 on broadcast axes, anything for views: transposes, slices).
//
// BroadcastIndex is plain data (a kernel argument); offsets() is SPLATLM_HD, so the CUDA kernels
// and the host tests run the very same code. The CPU loops walk rows instead (strided.h), which is
// faster there; both start from the same coalesced layout.
#pragma once
#include <array>
#include <cstdint>

#include "tensor/hd.h"
#include "tensor/shape.h"

namespace splatlm {

// Most axes an indexer handles after coalescing (merging axes every operand walks contiguously);
// more is an error naming the shape.
inline constexpr int kMaxIndexDims = 8;

template <int N>
struct Offsets {
    int64_t at[N];
};

// N operands; by convention operand 0 is the output.
template <int N>
struct BroadcastIndex {
    int64_t numel = 1;                      // elements of the logical shape (flat indices 0..numel-1)
    int ndim = 0;                           // coalesced axes, none of size 1
    int64_t size[kMaxIndexDims] = {};       // coalesced shape
    int64_t stride[N][kMaxIndexDims] = {};  // per operand, in elements

    // Offsets of the element at row-major flat index i (0 <= i < numel) of the logical shape.
    SPLATLM_HD Offsets<N> offsets(int64_t i) const {
        Offsets<N> off{};
        for (int a = ndim - 1; a >= 0; --a) {
            const int64_t idx = i % size[a];
            i /= size[a];
            for (int k = 0; k < N; ++k) off.at[k] += idx * stride[k][a];
        }
        return off;
    }
};

// Built on the host from the logical shape and each operand's strides (all of shape's rank);
// `op` names the caller in the error when the coalesced rank exceeds kMaxIndexDims.
template <int N>
BroadcastIndex<N> make_broadcast_index(const Shape& shape, const std::array<Strides, N>& strides, const char* op);

}  // namespace splatlm
