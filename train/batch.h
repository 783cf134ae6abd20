// batch.h — B windows of T+1 tokens (as the dataset serves them) → model inputs and targets:
// inputs are tokens 0..T−1 of each window, targets tokens 1..T (the next token at every position).
#pragma once
#include <vector>

#include "tensor/error.h"
#include "tensor/index.h"

namespace splatlm {

struct Batch {
    Indices inputs;   // [B, T]
    Indices targets;  // [B·T]
};

inline Batch make_batch(const std::vector<int32_t>& windows, int64_t rows, int64_t T) {
    SPLATLM_CHECK(rows >= 1 && T >= 1 && windows.size() / size_t(T + 1) == size_t(rows) &&
                      windows.size() % size_t(T + 1) == 0,
                  "make_batch: ", windows.size(), " tokens are not ", rows, " windows of ", T + 1);
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
