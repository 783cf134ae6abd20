// index.h — integer token ids / class targets with a shape (embedding lookups, cross-entropy).
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/shape.h"

namespace splatlm {

struct Indices {
    Shape shape;
    std::vector<int32_t> ids;  // row-major, numel(shape) entries
};

}  // namespace splatlm
