// Dataset tests: byte split sizes, encoded splits, seeded batches that stay inside their split
// and reach both of its ends, the sequential validation walk, and errors for bad corpora.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>

#include "tensor/error.h"
#include "train/dataset.h"
#include "tensor/file_io.h"
#include "train/tokenizer_bpe.h"
#include "train/tokenizer_char.h"

using namespace splatlm;
using Catch::Matchers::Contains;

namespace {

// n random bytes drawn from `alphabet`.
std::string random_text(size_t n, std::string_view alphabet, uint64_t seed) {
    Rng rng(seed);
    std::string text(n, '\0');
    for (char& c : text) c = alphabet[rng.next_u64() % alphabet.size()];
    return text;
}

// Start of `window` inside `tokens`, or -1. Windows of random text are unique in practice.
int64_t find_window(const std::vector<int32_t>& tokens, const int32_t* window, size_t length) {
    auto it = std::search(tokens.begin(), tokens.end(), window, window + length);
    return it == tokens.end() ? -1 : it - tokens.begin();
}

// Train split of lowercase letters, validation split of digits: a token shows its split.
CorpusSplit letters_then_digits(size_t train_bytes, size_t validation_bytes) {
    return {random_text(train_bytes, "abcdefghijklmnopqrstuvwxyz", 1), random_text(validation_bytes, "0123456789", 2)};
}

struct TempDir {
    std::filesystem::path path = std::filesystem::temp_directory_path() / "splatlm_test_dataset";
    TempDir() { std::filesystem::create_directories(path); }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const char* name) const { return (path / name).string(); }
};

}  // namespace

TEST_CASE("split_corpus: the last fraction of the bytes is validation", "[dataset]") {
    const std::string text = random_text(1000, "ab \n", 3);
    const CorpusSplit split = split_corpus(text);
    REQUIRE(split.train.size() == 900);
    REQUIRE(split.validation.size() == 100);
    REQUIRE(split.train + split.validation == text);
    REQUIRE(split_corpus("0123456789", 0.25).validation == "789");  // 2.5 bytes rounds to 3
    REQUIRE_THROWS_WITH(split_corpus(text, 0.0), Contains("validation fraction must be in (0, 1)"));
    REQUIRE_THROWS_AS(split_corpus(text, 1.0), Error);
}

TEST_CASE("read_corpus: clear errors for missing, directory and empty files", "[dataset]") {
    TempDir dir;
    REQUIRE_THROWS_WITH(read_corpus(dir.file("missing.txt")), Contains("No such file") && Contains("missing.txt"));
    REQUIRE_THROWS_WITH(read_corpus(dir.path.string()), Contains("is a directory"));
    write_file_atomic(dir.file("empty.txt"), "");
    REQUIRE_THROWS_WITH(read_corpus(dir.file("empty.txt")), Contains("is empty"));
    write_file_atomic(dir.file("text.txt"), "In the beginning\nGod");
    const CorpusSplit split = read_corpus(dir.file("text.txt"), 0.2);
    REQUIRE(split.train == "In the beginning");
    REQUIRE(split.validation == "\nGod");
}

TEST_CASE("Dataset encodes each split and reports validation bytes per token", "[dataset]") {
    const CorpusSplit corpus = split_corpus(random_text(4000, "the and of\n", 4));
    const auto bpe = BpeTokenizer::train(corpus.train, 300);
    const Dataset dataset(corpus, *bpe, 16);
    REQUIRE(dataset.tokens(Split::train) == bpe->encode(corpus.train));
    REQUIRE(dataset.tokens(Split::validation) == bpe->encode(corpus.validation));
    const double expected = 400.0 / static_cast<double>(dataset.tokens(Split::validation).size());
    REQUIRE(dataset.validation_bytes_per_token() == Approx(expected));
    REQUIRE(dataset.validation_bytes_per_token() > 1.2);

    const Dataset chars(corpus, CharTokenizer(), 16);
    REQUIRE(chars.validation_bytes_per_token() == 1.0);
}

TEST_CASE("Dataset rejects corpora too short for one window in either split", "[dataset]") {
    const CharTokenizer tokenizer;
    REQUIRE_NOTHROW(Dataset(letters_then_digits(100, 9), tokenizer, 8));
    REQUIRE_THROWS_WITH(Dataset(letters_then_digits(100, 8), tokenizer, 8),
                        Contains("validation split has 8 tokens, fewer than one window of context+1 = 9"));
    REQUIRE_THROWS_WITH(Dataset(letters_then_digits(5, 100), tokenizer, 8), Contains("train split has 5 tokens"));
    REQUIRE_THROWS_WITH(Dataset(letters_then_digits(100, 100), tokenizer, 0), Contains("context length must be"));
}

TEST_CASE("sample_batch: seeded, B rows of T+1 consecutive tokens from the requested split", "[dataset]") {
    const CharTokenizer tokenizer;
    const Dataset dataset(letters_then_digits(3000, 400), tokenizer, 16);
    const int B = 8, T = 16;

    Rng a(42), b(42), c(43);
    const std::vector<int32_t> batch = dataset.sample_batch(Split::train, B, T, a);
    REQUIRE(batch.size() == size_t{B} * (T + 1));
    REQUIRE(dataset.sample_batch(Split::train, B, T, b) == batch);
    REQUIRE(dataset.sample_batch(Split::train, B, T, c) != batch);
    REQUIRE(a.counter() == static_cast<uint64_t>(B));
    REQUIRE(dataset.sample_batch(Split::train, B, T, a) != batch);  // the state moved on

    for (Split split : {Split::train, Split::validation}) {
        const std::vector<int32_t>& source = dataset.tokens(split);
        const std::vector<int32_t> rows = dataset.sample_batch(split, B, T, a);
        for (int row = 0; row < B; ++row) {
            const int32_t* window = rows.data() + row * (T + 1);
            REQUIRE(find_window(source, window, T + 1) >= 0);
            for (int t = 0; t <= T; ++t) REQUIRE(bool(std::isdigit(window[t])) == (split == Split::validation));
        }
    }
    REQUIRE_THROWS_WITH(dataset.sample_batch(Split::train, 0, T, a), Contains("must be at least 1"));
    REQUIRE_THROWS_WITH(dataset.sample_batch(Split::validation, 1, 400, a), Contains("validation split has 400"));
}

TEST_CASE("sample_batch reaches both ends of a split and never past them", "[dataset]") {
    const CharTokenizer tokenizer;
    const Dataset dataset(letters_then_digits(40, 400), tokenizer, 8);
    const std::vector<int32_t>& train = dataset.tokens(Split::train);
    Rng rng(7);
    const std::vector<int32_t> rows = dataset.sample_batch(Split::train, 2000, 8, rng);
    std::set<int64_t> starts;
    for (size_t row = 0; row < 2000; ++row) starts.insert(find_window(train, rows.data() + row * 9, 9));
    REQUIRE(*starts.begin() == 0);
    REQUIRE(*starts.rbegin() == 40 - 9);
    REQUIRE(starts.size() == 40 - 9 + 1);  // every start, and no -1 (a window not in the split)
}

TEST_CASE("ValidationBatches walks the validation split once, targets without overlap", "[dataset]") {
    const CharTokenizer tokenizer;
    const Dataset dataset(letters_then_digits(500, 103), tokenizer, 10);
    const std::vector<int32_t>& validation = dataset.tokens(Split::validation);
    ValidationBatches batches(dataset, 4, 10);
    REQUIRE(batches.window_count() == 10);  // (103 - 1) / 10: the last 2 targets do not fill a window

    std::vector<int32_t> batch, targets;
    std::vector<int> row_counts;
    int64_t window = 0;
    while (int rows = batches.next(batch)) {
        row_counts.push_back(rows);
        REQUIRE(batch.size() == size_t(rows) * 11);
        for (int row = 0; row < rows; ++row, ++window) {
            const auto first = validation.begin() + window * 10;
            REQUIRE(std::equal(first, first + 11, batch.begin() + row * 11));
            targets.insert(targets.end(), batch.begin() + row * 11 + 1, batch.begin() + row * 11 + 11);
        }
    }
    REQUIRE(row_counts == std::vector<int>{4, 4, 2});
    REQUIRE(targets == std::vector<int32_t>(validation.begin() + 1, validation.begin() + 101));
    REQUIRE(batches.next(batch) == 0);
    REQUIRE_THROWS_WITH(ValidationBatches(dataset, 4, 200), Contains("validation split has 103 tokens"));
}

// Figure for docs/TOKENIZER.md: ./bin/tests "[.bench]" (from the repository root).
TEST_CASE("dataset on the KJV corpus: validation bytes per token, BPE trained on the train split", "[.bench]") {
    const CorpusSplit corpus = read_corpus("data/kjv.txt");
    const auto bpe = BpeTokenizer::train(corpus.train, 4096);
    const Dataset dataset(corpus, *bpe, 256);
    std::printf("kjv.txt split %zu / %zu bytes; bpe-4096 learned on the train split: %zu / %zu tokens, "
                "validation %.3f bytes/token\n",
                corpus.train.size(), corpus.validation.size(), dataset.tokens(Split::train).size(),
                dataset.tokens(Split::validation).size(), dataset.validation_bytes_per_token());
    REQUIRE(dataset.validation_bytes_per_token() > 1.0);
}
