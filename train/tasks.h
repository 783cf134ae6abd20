// tasks.h — synthetic yardsticks beyond loss: each example is a window of T+1 token ids whose
// graded positions hold answers that the earlier tokens determine. `splatlm task` trains on them
// (train/task_data.h serves them to the trainer); docs/TASKS.md has the protocol and the figures.
//
// Kinds (ids live in the 256-token char vocabulary, 0 = padding):
//   mqar           multi-query associative recall (Zoology, Arora et al. 2023): `pairs` key-value
//                  pairs k1 v1 … kP vP, then every key once more, in random order, each in a random
//                  two-token slot of the rest (zeros between): the value after a queried key is graded.
//                  keys are ids 1..keys, values keys+1..keys+values; keys are distinct in an example.
//                  `mix` trains on several (seq, pairs) shapes, as Zoology does: each training example
//                  takes one of them at random, shorter ones padded with zeros to the window.
//   copy           `span` symbols, a separator, the same symbols again: the copy is graded.
//   selective_copy `span` symbols scattered in order among noise tokens, a separator, then the symbols
//                  in order (Mamba's selective copying): the symbols after the separator are graded.
//   induction      random symbols with a trigger A followed by B somewhere; the window ends A B and
//                  that last B is graded (the A B … A → B pattern of induction heads).
//   passkey        English filler with "The pass key is NNNNN." hidden at `depth` (0 = start, 1 = end,
//                  -1 = uniform per example); the window ends "…The pass key is NNNNN", digits graded.
// Test: ./bin/tests "[tasks]".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/rng.h"

namespace splatlm {

// One MQAR shape of a training mix: `pairs` pairs and their queries in the first `seq` tokens.
struct MqarShape {
    int64_t seq = 0, pairs = 0;
    bool operator==(const MqarShape&) const = default;
};

struct TaskSpec {
    std::string kind;
    int64_t pairs = 4;      // mqar
    int64_t keys = 64;      // mqar: key vocabulary
    int64_t values = 64;    // mqar: value vocabulary
    std::vector<MqarShape> mix;  // mqar: training shapes beside (T, pairs); empty = none
    int64_t span = 8;       // copy, selective_copy: symbols to reproduce
    int64_t alphabet = 16;  // copy, selective_copy, induction: distinct symbols
    int64_t digits = 5;     // passkey
    double depth = -1;      // passkey: where the key hides, in [0, 1]; -1 = uniform per example
};

const std::vector<std::string>& task_kinds();
// The options (without "--") a kind reads; any other is an error for that kind.
const std::vector<std::string>& task_option_names(const std::string& kind);
// Sets one option from text; errors name it as --name.
void set_task_option(TaskSpec& spec, const std::string& name, const std::string& value);

// "mqar pairs=4 keys=64 values=64": the kind and its options, as the config key `task` stores it.
std::string task_spec_text(const TaskSpec& spec);
TaskSpec parse_task_spec(const std::string& text);

// Throws one line naming the option when an example of context T cannot be built: unknown kind,
// pairs that do not fit --seq, a vocabulary too small for the pairs, a depth outside [0, 1], ...
void check_task(const TaskSpec& spec, int64_t T);

struct TaskExample {
    std::vector<int32_t> tokens;  // T+1 ids: the model reads tokens[0..T) and predicts tokens[1..T]
    std::vector<uint8_t> graded;  // T flags: graded[t] = 1 when predicting tokens[t+1] is an answer
};

// One example, drawn from rng alone (the same rng state gives the same example). Call check_task first.
TaskExample make_task_example(const TaskSpec& spec, int64_t T, Rng& rng);
// A training example: with an mqar `mix`, first draws its shape uniformly from the mix and (T, pairs),
// then builds it in the first `seq` tokens of the window (zeros after it, nothing graded there).
// Without a mix, make_task_example. Held-out examples are always make_task_example's.
TaskExample make_training_example(const TaskSpec& spec, int64_t T, Rng& rng);

}  // namespace splatlm
