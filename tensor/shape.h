// shape.h — shapes, strides and broadcasting rules (numpy semantics), independent of storage.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace splatlm {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

int64_t numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);   // row-major: last axis has stride 1
std::string shape_str(const Shape& shape);        // "[2, 3, 4]"
int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op);  // -1 → ndim-1, range-checked
// Broadcast two shapes (align trailing axes; size-1 axes stretch). Throws naming `op` on mismatch.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace splatlm
