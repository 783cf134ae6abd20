#include "train/dataset.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "tensor/file_io.h"

namespace splatlm {

namespace {

void check_window(const std::vector<int32_t>& tokens, Split split, int context_length) {
    SPLATLM_CHECK(static_cast<int64_t>(tokens.size()) >= int64_t{context_length} + 1, "dataset: the ",
                  split_name(split), " split has ", tokens.size(), " tokens, fewer than one window of context+1 = ",
                  int64_t{context_length} + 1, " (use a longer corpus or a shorter context)");
}

}  // namespace

const char* split_name(Split split) { return split == Split::train ? "train" : "validation"; }

CorpusSplit split_corpus(std::string_view text, double validation_fraction) {
    SPLATLM_CHECK(validation_fraction > 0.0 && validation_fraction < 1.0,
                  "dataset: validation fraction must be in (0, 1), got ", validation_fraction);
    const auto validation_size = static_cast<size_t>(std::llround(static_cast<double>(text.size()) * validation_fraction));
    const size_t cut = text.size() - std::min(validation_size, text.size());
    return {std::string(text.substr(0, cut)), std::string(text.substr(cut))};
}

CorpusSplit read_corpus(const std::string& path, double validation_fraction) {
    const std::string text = read_file(path);
    SPLATLM_CHECK(!text.empty(), "dataset: '", path, "' is empty");
    return split_corpus(text, validation_fraction);
}

Dataset::Dataset(const CorpusSplit& corpus, const Tokenizer& tokenizer, int context_length)
    : train_tokens_(tokenizer.encode(corpus.train)),
      validation_tokens_(tokenizer.encode(corpus.validation)),
      validation_bytes_(static_cast<int64_t>(corpus.validation.size())) {
    SPLATLM_CHECK(context_length >= 1, "dataset: context length must be at least 1, got ", context_length);
    check_window(train_tokens_, Split::train, context_length);
    check_window(validation_tokens_, Split::validation, context_length);
}

const std::vector<int32_t>& Dataset::tokens(Split split) const {
    return split == Split::train ? train_tokens_ : validation_tokens_;
}

double Dataset::validation_bytes_per_token() const {
    return static_cast<double>(validation_bytes_) / static_cast<double>(validation_tokens_.size());
}

std::vector<int32_t> Dataset::sample_batch(Split split, int batch_size, int context_length, Rng& rng) const {
    SPLATLM_CHECK(batch_size >= 1 && context_length >= 1, "sample_batch: batch size and context length must be ",
                  "at least 1, got B=", batch_size, " T=", context_length);
    const std::vector<int32_t>& source = tokens(split);
    check_window(source, split, context_length);
    const size_t window = static_cast<size_t>(context_length) + 1;
    const uint64_t start_count = source.size() - window + 1;
    std::vector<int32_t> batch(static_cast<size_t>(batch_size) * window);
    for (int row = 0; row < batch_size; ++row) {
        const size_t start = rng.next_u64() % start_count;
        std::copy_n(source.begin() + start, window, batch.begin() + row * window);
    }
    return batch;
}

ValidationBatches::ValidationBatches(const Dataset& dataset, int batch_size, int context_length)
    : tokens_(dataset.tokens(Split::validation)), batch_size_(batch_size), context_length_(context_length) {
    SPLATLM_CHECK(batch_size >= 1 && context_length >= 1, "ValidationBatches: batch size and context length ",
                  "must be at least 1, got B=", batch_size, " T=", context_length);
    check_window(tokens_, Split::validation, context_length);
    window_count_ = static_cast<int64_t>(tokens_.size() - 1) / context_length;
}

int ValidationBatches::next(std::vector<int32_t>& batch) {
    const int rows = static_cast<int>(std::min<int64_t>(batch_size_, window_count_ - next_window_));
    const size_t window = static_cast<size_t>(context_length_) + 1;
    batch.resize(static_cast<size_t>(rows) * window);
    for (int row = 0; row < rows; ++row) {
        const size_t start = static_cast<size_t>(next_window_ + row) * context_length_;
        std::copy_n(tokens_.begin() + start, window, batch.begin() + row * window);
    }
    next_window_ += rows;
    return rows;
}

}  // namespace splatlm
