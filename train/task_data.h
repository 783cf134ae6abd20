// task_data.h — a synthetic task (train/tasks.h) as TrainingData: batches of fresh examples with
// the loss on the graded answers only (other targets are -1), and a held-out accuracy.
//
// Held out: evaluation draws its examples from its own seeded stream (seed ^ a constant), the same
// examples at every evaluation; training draws from the trainer's data stream. The streams are
// independent, not disjoint: with 64 keys and 4 pairs an evaluation example can repeat a training
// one by chance, which a model can only exploit by memorising ~1e7 combinations.
// Test: ./bin/tests "[tasks]".
#pragma once
#include "train/tasks.h"
#include "train/training_data.h"

namespace splatlm {

// Answer accuracy of logits [B, T, V] against targets [B·T] (−1 = not graded): a graded position is
// right when its largest logit is the target's; an example is exact when all its answers are right.
// By answer: the same counts for the i-th graded position of each example (passkey: the i-th digit;
// mqar: the i-th query), which tells *which* answers a model loses.
struct AnswerScore {
    int64_t answers = 0, correct = 0;
    int64_t examples = 0, exact = 0;                      // examples with at least one answer
    std::vector<int64_t> answers_by_index, correct_by_index;  // [i]: over the examples' i-th answers
    void add(const AnswerScore& other);
};
AnswerScore score_answers(const Tensor& logits, const Indices& targets);

class TaskData final : public TrainingData {
  public:
    TaskData(const TaskSpec& spec, int64_t T, uint64_t seed);  // check_task(spec, T) first
    std::string describe() const override;
    Batch sample(Split split, int64_t B, int64_t T, Rng& rng) const override;  // train: with the mqar mix
    Evaluation evaluate(GPT& model, int64_t batch, int64_t max_batches) const override;
    const TaskSpec& spec() const { return spec_; }

  private:
    TaskSpec spec_;
    uint64_t eval_seed_;
};

}  // namespace splatlm
