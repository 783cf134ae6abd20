// evaluate.h — validation loss (mean nats per token) and bits per byte over the validation split.
//   bits per byte = loss / ln 2 / (validation bytes per token)
#pragma once
#include "nn/gpt.h"
#include "train/dataset.h"

namespace splatlm {

struct EvalResult {
    double loss = 0;     // mean cross-entropy per predicted token, in nats
    double bpb = 0;      // bits per byte of validation text
    int64_t windows = 0; // context windows evaluated
};

// Walks the validation windows in order; max_batches = 0 means all of them. No graph is built.
EvalResult evaluate(GPT& model, const Dataset& data, int64_t batch, int64_t max_batches);

}  // namespace splatlm
