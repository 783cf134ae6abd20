// task_data.cpp — TaskData and score_answers (train/task_data.h). Test: ./bin/tests "[tasks]".
#include "train/task_data.h"

#include <algorithm>
#include <cstdio>

#include "autograd/graph.h"
#include "autograd/ops.h"

namespace splatlm {

constexpr size_t kAnswersInText = 10;  // the log line lists accuracy by answer up to this many answers

AnswerScore score_answers(const Tensor& logits_any, const Indices& targets) {
    const Tensor logits = logits_any.to(Device::CPU);
    const int64_t V = logits.size(-1), T = logits.size(-2), B = logits.numel() / (V * T);
    const float* x = logits.data();
    AnswerScore s;
    for (int64_t b = 0; b < B; ++b) {
        int64_t answers = 0, correct = 0;
        for (int64_t t = 0; t < T; ++t) {
            const int32_t target = targets.ids[b * T + t];
            if (target < 0) continue;
            const float* row = x + (b * T + t) * V;
            int64_t best = 0;
            for (int64_t v = 1; v < V; ++v)
                if (row[v] > row[best]) best = v;
            if (s.answers_by_index.size() <= size_t(answers)) s.answers_by_index.push_back(0), s.correct_by_index.push_back(0);
            ++s.answers_by_index[answers];
            s.correct_by_index[answers] += best == target;
            ++answers;
            correct += best == target;
        }
        s.answers += answers, s.correct += correct;
        if (answers > 0) ++s.examples, s.exact += correct == answers;
    }
    return s;
}

void AnswerScore::add(const AnswerScore& other) {
    answers += other.answers, correct += other.correct, examples += other.examples, exact += other.exact;
    const size_t n = std::max(answers_by_index.size(), other.answers_by_index.size());
    answers_by_index.resize(n), correct_by_index.resize(n);
    for (size_t i = 0; i < other.answers_by_index.size(); ++i)
        answers_by_index[i] += other.answers_by_index[i], correct_by_index[i] += other.correct_by_index[i];
}

TaskData::TaskData(const TaskSpec& spec, int64_t T, uint64_t seed) : spec_(spec), eval_seed_(seed ^ 0x7A5C000000000000ull) {
    check_task(spec_, T);
}

std::string TaskData::describe() const { return "task " + task_spec_text(spec_) + " (examples made on the fly)"; }

Batch TaskData::sample(Split split, int64_t B, int64_t T, Rng& rng) const {
    Batch b{{{B, T}, {}}, {{B * T}, {}}};
    for (int64_t r = 0; r < B; ++r) {
        const TaskExample e = split == Split::train ? make_training_example(spec_, T, rng) : make_task_example(spec_, T, rng);
        b.inputs.ids.insert(b.inputs.ids.end(), e.tokens.begin(), e.tokens.end() - 1);
        for (int64_t t = 0; t < T; ++t) b.targets.ids.push_back(e.graded[t] ? e.tokens[t + 1] : -1);
    }
    return b;
}

Evaluation TaskData::evaluate(GPT& model, int64_t batch, int64_t max_batches) const {
    NoGradGuard no_grad;
    const bool was_training = model.training();
    model.set_training(false);
    const int64_t T = model.config().context;
    Rng rng(eval_seed_);  // the same held-out examples at every evaluation
    AnswerScore total;
    double loss = 0;
    for (int64_t i = 0; i < std::max<int64_t>(max_batches, 1); ++i) {
        const Batch b = sample(Split::validation, batch, T, rng);
        const Tensor logits = model.forward(b.inputs);
        const AnswerScore s = score_answers(logits, b.targets);
        loss += double(cross_entropy(logits, b.targets).item()) * double(s.answers);
        total.add(s);
    }
    model.set_training(was_training);
    const double accuracy = double(total.correct) / double(total.answers), exact = double(total.exact) / double(total.examples);
    char head[128];
    std::snprintf(head, sizeof head, "val_loss %.4f | accuracy %.4f | exact %.4f (%lld examples, %lld answers)",
                  loss / double(total.answers), accuracy, exact, (long long)total.examples, (long long)total.answers);
    std::string text = head;
    Json::Array by_index;
    for (size_t i = 0; i < total.answers_by_index.size(); ++i)
        by_index.push_back(double(total.correct_by_index[i]) / double(total.answers_by_index[i]));
    if (by_index.size() > 1 && by_index.size() <= kAnswersInText) {
        text += " | by answer";
        for (const Json& a : by_index) {
            char item[16];
            std::snprintf(item, sizeof item, " %.3f", a.as_double());
            text += item;
        }
    }
    return {Json::Object{{"val_loss", loss / double(total.answers)}, {"accuracy", accuracy}, {"exact", exact},
                         {"answers", total.answers}, {"accuracy_by_answer", by_index}},
            text};
}

}  // namespace splatlm
