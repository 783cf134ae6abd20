// training_data.cpp — the corpus kind of TrainingData and the choice between corpus and task
// (train/training_data.h). Test: ./bin/tests "[tasks]" and "[train]".
#include "train/training_data.h"

#include <cstdio>

#include "train/evaluate.h"
#include "train/task_data.h"

namespace splatlm {

namespace {

class CorpusData final : public TrainingData {
  public:
    CorpusData(const TrainConfig& c, const CorpusSplit& corpus, const Tokenizer& tokenizer)
        : config_(c), dataset_(corpus, tokenizer, static_cast<int>(c.model.context)) {}

    std::string describe() const override {
        return config_.data + " (" + config_.tokenizer + " tokenizer): " +
               std::to_string(dataset_.tokens(Split::train).size()) + " training tokens, " +
               std::to_string(dataset_.tokens(Split::validation).size()) + " validation tokens";
    }
    Batch sample(Split split, int64_t B, int64_t T, Rng& rng) const override {
        return make_batch(dataset_.sample_batch(split, int(B), int(T), rng), B, T);
    }
    Evaluation evaluate(GPT& model, int64_t batch, int64_t max_batches) const override {
        const EvalResult e = splatlm::evaluate(model, dataset_, batch, max_batches);
        char text[96];
        std::snprintf(text, sizeof text, "val_loss %.4f | val_bpb %.4f (%lld windows)", e.loss, e.bpb,
                      (long long)e.windows);
        return {Json::Object{{"val_loss", e.loss}, {"val_bpb", e.bpb}}, text};
    }

  private:
    TrainConfig config_;
    Dataset dataset_;
};

}  // namespace

std::unique_ptr<TrainingData> make_training_data(const TrainConfig& c, const CorpusSplit& corpus,
                                                 const Tokenizer& tokenizer) {
    if (!c.task.empty()) return std::make_unique<TaskData>(parse_task_spec(c.task), c.model.context, c.seed);
    return std::make_unique<CorpusData>(c, corpus, tokenizer);
}

}  // namespace splatlm
