#include "tensor/shape.h"

#include "tensor/error.h"

namespace splatlm {

int64_t numel(const Shape& shape) {
    int64_t n = 1;
    for (int64_t d : shape) {
        SPLATLM_CHECK(d >= 0, "shape ", shape_str(shape), " has a negative size");
        SPLATLM_CHECK(!__builtin_mul_overflow(n, d, &n), "shape ", shape_str(shape), " has too many elements to count");
    }
    return n;
}

Strides contiguous_strides(const Shape& shape) {
    Strides strides(shape.size());
    int64_t s = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = s;
        SPLATLM_CHECK(!__builtin_mul_overflow(s, shape[i], &s), "shape ", shape_str(shape),
                      " has too many elements to count");
    }
    return strides;
}

std::string shape_str(const Shape& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op) {
    int64_t a = axis < 0 ? axis + ndim : axis;
    SPLATLM_CHECK(a >= 0 && a < ndim, op, ": axis ", axis, " out of range for a tensor of rank ", ndim);
    return a;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
    size_t n = std::max(a.size(), b.size());
    Shape out(n);
    for (size_t i = 0; i < n; ++i) {
        int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
        int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
        SPLATLM_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
                      " do not broadcast");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

}  // namespace splatlm
