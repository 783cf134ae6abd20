// dataset.h — the training corpus as token ids, split in two, served as batches of windows.
//
// The pipeline, in order:
//   1. read_corpus(path) reads the text and splits its *bytes* contiguously: the last 10%
//      (by default) is the validation split, the rest the training split.
//   2. The caller builds a tokenizer, training BPE on corpus.train only, so no validation
//      text leaks into the vocabulary.
//   3. Dataset encodes each split separately with that tokenizer. Because the split happened
//      on bytes, validation_bytes_per_token() is exact: validation bytes / validation tokens,
//      which turns a loss in nats per token into bits per byte
//      (bpb = loss / ln 2 / bytes_per_token).
//
// A window is T+1 consecutive token ids of one split: the model reads the first T and
// predicts the last T. sample_batch draws B windows at uniformly random start positions
// (seeded, so the same Rng state gives the same batch); a window never crosses from one
// split into the other because each split is its own token array. ValidationBatches walks
// the validation split in order for evaluation.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/rng.h"
#include "train/tokenizer.h"

namespace splatlm {

enum class Split { train, validation };
const char* split_name(Split split);

// The corpus bytes, split: train = text[0, cut), validation = text[cut, end).
struct CorpusSplit {
    std::string train;
    std::string validation;
};

// cut = size - round(size * validation_fraction); validation_fraction must be in (0, 1).
CorpusSplit split_corpus(std::string_view text, double validation_fraction = 0.1);

// Reads the whole file (errors: missing, a directory, unreadable, empty) and splits it.
CorpusSplit read_corpus(const std::string& path, double validation_fraction = 0.1);

class Dataset {
  public:
    // Encodes both splits; throws unless each holds at least one window of context_length+1 tokens.
    Dataset(const CorpusSplit& corpus, const Tokenizer& tokenizer, int context_length);

    // B windows of T+1 tokens from `split`, row-major B×(T+1). Draws B numbers from rng.
    std::vector<int32_t> sample_batch(Split split, int batch_size, int context_length, Rng& rng) const;

    const std::vector<int32_t>& tokens(Split split) const;
    double validation_bytes_per_token() const;

  private:
    std::vector<int32_t> train_tokens_;
    std::vector<int32_t> validation_tokens_;
    int64_t validation_bytes_;
};

// Evaluation order over the validation split: window k is tokens [k*T, k*T + T], so the
// predicted targets of different windows never overlap and together cover tokens 1..W*T
// (the tail of fewer than T tokens that would not fill a window is left out). Windows come
// B at a time; the last batch may hold fewer rows.
class ValidationBatches {
  public:
    // Keeps a reference to the dataset's tokens: the Dataset must outlive this walker.
    ValidationBatches(const Dataset& dataset, int batch_size, int context_length);

    int64_t window_count() const { return window_count_; }
    // Replaces `batch` with the next rows×(T+1) window tokens and returns rows; 0 when done.
    int next(std::vector<int32_t>& batch);

  private:
    const std::vector<int32_t>& tokens_;
    int batch_size_;
    int context_length_;
    int64_t window_count_;
    int64_t next_window_ = 0;
};

}  // namespace splatlm
