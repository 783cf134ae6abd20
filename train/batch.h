// batch.h — B windows of T+1 tokens (as the dataset serves them) → model inputs and targets:
// inputs are tokens 0..T−1 of each window, targets tokens 1..T (the next token at every position).
#pragma once
#include <vector>

#include "tensor/index.h"

namespace splatlm {

struct Batch {
    Indices inputs;   // [B, T]
    Indices targets;  // [B·T]
};

inline Batch make_batch(const std::vector<int32_t>& windows, int64_t rows, int64_t T) {
    Batch b{{{rows, T}, {}}, {{rows * T}, {}}};
    b.inputs.ids.reserve(rows * T);
    b.targets.ids.reserve(rows * T);
    for (int64_t r = 0; r < rows; ++r) {
        const int32_t* w = windows.data() + r * (T + 1);
        b.inputs.ids.insert(b.inputs.ids.end(), w, w + T);
        b.targets.ids.insert(b.targets.ids.end(), w + 1, w + T + 1);
    }
    return b;
}

}  // namespace splatlm
