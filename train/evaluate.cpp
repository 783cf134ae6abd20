#include "train/evaluate.h"

#include <cmath>

#include "train/batch.h"

namespace splatlm {

EvalResult evaluate(GPT& model, const Dataset& data, int64_t batch, int64_t max_batches) {
    NoGradGuard no_grad;
    const bool was_training = model.training();
    model.set_training(false);
    const int64_t T = model.config().context;
    ValidationBatches batches(data, static_cast<int>(batch), static_cast<int>(T));
    std::vector<int32_t> windows;
    double total = 0;
    int64_t tokens = 0, count = 0, done = 0;
    for (int rows; (max_batches == 0 || done < max_batches) && (rows = batches.next(windows)) > 0; ++done) {
        Batch b = make_batch(windows, rows, T);
        total += double(model.loss(b.inputs, b.targets).item()) * rows * T;
        tokens += rows * T;
        count += rows;
    }
    model.set_training(was_training);
    EvalResult r;
    r.windows = count;
    r.loss = tokens ? total / tokens : 0;
    r.bpb = r.loss / std::log(2.0) / data.validation_bytes_per_token();
    return r;
}

}  // namespace splatlm
