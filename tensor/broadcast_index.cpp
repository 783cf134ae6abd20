#include "tensor/broadcast_index.h"

#include "tensor/error.h"
#include "tensor/strided.h"

namespace splatlm {

template <int N>
BroadcastIndex<N> make_broadcast_index(const Shape& shape, const std::array<Strides, N>& strides, const char* op) {
    for (int k = 0; k < N; ++k)
        SPLATLM_CHECK(strides[k].size() == shape.size(), op, ": operand ", k, " has ", strides[k].size(),
                      " strides for shape ", shape_str(shape));
    const StridedLayout<N> L = coalesce<N>(shape, strides);
    SPLATLM_CHECK(L.shape.size() <= size_t(kMaxIndexDims), op, ": shape ", shape_str(shape), " with these strides needs ",
                  L.shape.size(), " axes after merging, more than the ", kMaxIndexDims, " an elementwise kernel indexes");
    BroadcastIndex<N> index;
    index.numel = numel(shape);
    index.ndim = static_cast<int>(L.shape.size());
    for (int a = 0; a < index.ndim; ++a) {
        index.size[a] = L.shape[a];
        for (int k = 0; k < N; ++k) index.stride[k][a] = L.strides[k][a];
    }
    return index;
}

template BroadcastIndex<2> make_broadcast_index<2>(const Shape&, const std::array<Strides, 2>&, const char*);
template BroadcastIndex<3> make_broadcast_index<3>(const Shape&, const std::array<Strides, 3>&, const char*);

}  // namespace splatlm
