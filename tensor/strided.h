// strided.h — walking N operands that share one logical shape but have their own strides (views,
// broadcasts with stride 0, transposes). Axes that every operand can merge are coalesced first, so a
// contiguous tensor is one long row and a transposed one is a few long rows.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>

#include "tensor/shape.h"

namespace splatlm {

template <int N>
struct StridedLayout {
    Shape shape;                       // coalesced, no size-1 axes (rank 0 means one element)
    std::array<Strides, N> strides;    // per operand, same rank as shape
};

// Merge axis i into i+1 when, for every operand, stride[i] == stride[i+1] · shape[i+1].
template <int N>
StridedLayout<N> coalesce(const Shape& shape, const std::array<Strides, N>& strides) {
    StridedLayout<N> out;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == 1) continue;
        bool merge = !out.shape.empty();
        for (int k = 0; k < N && merge; ++k) merge = out.strides[k].back() == strides[k][i] * shape[i];
        if (merge) {
            out.shape.back() *= shape[i];
            for (int k = 0; k < N; ++k) out.strides[k].back() = strides[k][i];
        } else {
            out.shape.push_back(shape[i]);
            for (int k = 0; k < N; ++k) out.strides[k].push_back(strides[k][i]);
        }
    }
    return out;
}

// Calls body(offsets, n, inner_strides) once per piece of an innermost row: offsets[k] is operand k's
// element offset of the piece's start, n its length (at most kRowPiece). Pieces run in parallel when
// there is enough work. Rows are cut into pieces so that a contiguous tensor — one long row after
// coalescing — is split across threads too; the cut points depend on the shape only, and each
// element is visited once whatever the thread count.
inline constexpr int64_t kRowPiece = 16384;

template <int N, class Body>
void for_each_row(const Shape& shape, const std::array<Strides, N>& strides, Body&& body) {
    if (numel(shape) == 0) return;  // nothing to visit, and no row length to divide by
    const StridedLayout<N> L = coalesce<N>(shape, strides);
    const int64_t nd = static_cast<int64_t>(L.shape.size());
    std::array<int64_t, N> inner{};
    for (int k = 0; k < N; ++k) inner[k] = nd ? L.strides[k][nd - 1] : 0;
    const int64_t n = nd ? L.shape[nd - 1] : 1;
    const int64_t rows = nd ? numel(L.shape) / n : 1;
    const int64_t pieces_per_row = (n + kRowPiece - 1) / kRowPiece;
    const int64_t pieces = rows * pieces_per_row;
#pragma omp parallel for schedule(static) if (pieces > 1 && rows * n > 32768)
    for (int64_t p = 0; p < pieces; ++p) {
        const int64_t r = p / pieces_per_row, start = (p % pieces_per_row) * kRowPiece;
        std::array<int64_t, N> off{};
        int64_t rem = r;
        for (int64_t a = nd - 2; a >= 0; --a) {
            int64_t i = rem % L.shape[a];
            rem /= L.shape[a];
            for (int k = 0; k < N; ++k) off[k] += i * L.strides[k][a];
        }
        for (int k = 0; k < N; ++k) off[k] += start * inner[k];
        body(off, std::min(kRowPiece, n - start), inner);
    }
}

}  // namespace splatlm
