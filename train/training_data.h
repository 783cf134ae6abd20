// training_data.h — what the trainer learns from, as one interface: seeded batches for the steps
// and a held-out measurement for the evaluations. Two kinds, chosen by the config key `task`:
//   empty  — the text corpus (train/dataset.h): evaluation = validation loss and bits per byte;
//   a task — synthetic examples made on the fly (train/task_data.h): evaluation = answer accuracy.
// The training loop (train/trainer.cpp) is the same for both.
#pragma once
#include <memory>
#include <string>

#include "nn/gpt.h"
#include "tensor/rng.h"
#include "train/batch.h"
#include "train/dataset.h"
#include "train/json.h"
#include "train/train_config.h"

namespace splatlm {

struct Evaluation {
    Json::Object fields;  // for metrics.jsonl: val_loss always, then what the kind measures
    std::string text;     // one line for the log
};

class TrainingData {
  public:
    virtual ~TrainingData() = default;
    virtual std::string describe() const = 0;  // the log header's "data:" line
    // B rows of T inputs and T targets from `split`; a target of -1 carries no loss. Draws from rng only.
    virtual Batch sample(Split split, int64_t B, int64_t T, Rng& rng) const = 0;
    // Held-out figures over at most max_batches batches of `batch` rows (0: all the corpus has).
    virtual Evaluation evaluate(GPT& model, int64_t batch, int64_t max_batches) const = 0;
};

// The corpus (already split; ignored for a task) encoded with `tokenizer`, or config.task's examples.
std::unique_ptr<TrainingData> make_training_data(const TrainConfig& config, const CorpusSplit& corpus,
                                                 const Tokenizer& tokenizer);

}  // namespace splatlm
