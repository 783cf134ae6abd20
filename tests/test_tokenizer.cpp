// Tokenizer tests: exact round trips on awkward bytes for both kinds, the BPE pre-split rule,
// BPE training checked against a slow from-the-definition reference, serialization and its
// error messages. The [.bench] case measures BPE on data/kjv.txt (run it explicitly).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/file_io.h"
#include "train/tokenizer.h"
#include "train/tokenizer_bpe.h"
#include "train/tokenizer_char.h"

using namespace splatlm;
using Catch::Matchers::Contains;

namespace Catch {
template <>
struct StringMaker<BpeMerge> {
    static std::string convert(const BpeMerge& m) { return std::to_string(m.left) + "+" + std::to_string(m.right); }
};
}  // namespace Catch

namespace {

std::string random_bytes(size_t n, uint64_t seed) {
    Rng rng(seed);
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(rng.next_u64() & 0xFF);
    return bytes;
}

// Pseudo-English from a few words with skewed frequencies, punctuation and newlines.
std::string word_salad(size_t words, uint64_t seed) {
    static const char* vocabulary[] = {"the", "and", "of", "thee", "there", "then", "aaa", "banana", "LORD", "12"};
    static const char* separators[] = {" ", " ", " ", ", ", ".\n", "  ", ":"};
    Rng rng(seed);
    std::string text;
    for (size_t i = 0; i < words; ++i) {
        const uint64_t r = rng.next_u64();
        text += vocabulary[std::min<uint64_t>(r % 16, r % 10)];  // low indices more frequent
        text += separators[(r >> 8) % 7];
    }
    return text;
}

std::vector<std::string> chunks_of(std::string_view text) {
    std::vector<std::string> chunks;
    for (size_t begin = 0; begin < text.size();) {
        const size_t end = bpe_chunk_end(text, begin);
        REQUIRE(end > begin);
        chunks.emplace_back(text.substr(begin, end - begin));
        begin = end;
    }
    return chunks;
}

// BPE straight from the definition: recount every pair over every chunk before each merge.
std::vector<BpeMerge> reference_merges(std::string_view text, int vocab_size) {
    std::map<std::string, int64_t> chunk_counts;
    for (const std::string& chunk : chunks_of(text)) ++chunk_counts[chunk];
    std::vector<std::pair<std::vector<int32_t>, int64_t>> words;
    for (const auto& [chunk, count] : chunk_counts) {
        std::vector<int32_t> tokens;
        for (char c : chunk) tokens.push_back(static_cast<unsigned char>(c));
        words.emplace_back(tokens, count);
    }
    std::vector<BpeMerge> merges;
    while (256 + static_cast<int>(merges.size()) < vocab_size) {
        std::map<std::pair<int32_t, int32_t>, int64_t> pair_counts;  // ordered: ties → smallest pair
        for (const auto& [tokens, count] : words)
            for (size_t i = 0; i + 1 < tokens.size(); ++i) pair_counts[{tokens[i], tokens[i + 1]}] += count;
        std::pair<int32_t, int32_t> best{};
        int64_t best_count = 1;
        for (const auto& [pair, count] : pair_counts)
            if (count > best_count) best = pair, best_count = count;
        if (best_count < 2) break;
        const int32_t new_token = 256 + static_cast<int32_t>(merges.size());
        for (auto& [tokens, count] : words) {
            std::vector<int32_t> merged;
            for (size_t i = 0; i < tokens.size(); ++i) {
                if (i + 1 < tokens.size() && tokens[i] == best.first && tokens[i + 1] == best.second) {
                    merged.push_back(new_token);
                    ++i;
                } else {
                    merged.push_back(tokens[i]);
                }
            }
            tokens = merged;
        }
        merges.push_back({best.first, best.second});
    }
    return merges;
}

// Encoding from the definition: apply merge 0, then merge 1, ... to each chunk.
std::vector<int32_t> reference_encode(std::string_view text, const std::vector<BpeMerge>& merges) {
    std::vector<int32_t> ids;
    for (const std::string& chunk : chunks_of(text)) {
        std::vector<int32_t> tokens;
        for (char c : chunk) tokens.push_back(static_cast<unsigned char>(c));
        for (size_t m = 0; m < merges.size(); ++m) {
            std::vector<int32_t> merged;
            for (size_t i = 0; i < tokens.size(); ++i) {
                if (i + 1 < tokens.size() && tokens[i] == merges[m].left && tokens[i + 1] == merges[m].right) {
                    merged.push_back(256 + static_cast<int32_t>(m));
                    ++i;
                } else {
                    merged.push_back(tokens[i]);
                }
            }
            tokens = merged;
        }
        ids.insert(ids.end(), tokens.begin(), tokens.end());
    }
    return ids;
}

std::string all_byte_values() {
    std::string bytes;
    for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
    return bytes;
}

std::vector<std::string> awkward_inputs() {
    return {"", "a", " ", "\xff\xfe\xc3\x28 invalid \x80 utf-8", all_byte_values(), random_bytes(5000, 7),
            std::string(3000, 'a') + std::string(100, ' ') + "\n\n\n", "caf\xc3\xa9 na\xc3\xafve \xe2\x80\x94 ok"};
}

void require_round_trips(const Tokenizer& tokenizer) {
    for (const std::string& input : awkward_inputs()) {
        const std::vector<int32_t> ids = tokenizer.encode(input);
        for (int32_t id : ids) REQUIRE((id >= 0 && id < tokenizer.vocab_size()));
        REQUIRE(tokenizer.decode(ids) == input);
    }
}

std::unique_ptr<BpeTokenizer> small_bpe() { return BpeTokenizer::train(word_salad(3000, 11), 400); }

std::string replace_line(const std::string& text, int line_index, const std::string& replacement) {
    std::vector<std::string> lines;
    for (size_t begin = 0; begin < text.size();) {
        size_t end = text.find('\n', begin);
        lines.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    lines.at(line_index) = replacement;
    std::string out;
    for (const std::string& line : lines) out += line + "\n";
    return out;
}

}  // namespace

TEST_CASE("char tokenizer: one token per byte, exact round trips", "[tokenizer]") {
    CharTokenizer tokenizer;
    REQUIRE(tokenizer.vocab_size() == 256);
    REQUIRE(tokenizer.kind() == "char");
    REQUIRE(tokenizer.encode("Az\xff") == std::vector<int32_t>{65, 122, 255});
    REQUIRE(tokenizer.token_text(10) == "\n");
    require_round_trips(tokenizer);
    REQUIRE_THROWS_WITH(tokenizer.decode({65, 256}), Contains("token id 256 out of range [0, 256)"));
    REQUIRE_THROWS_WITH(tokenizer.token_text(-1), Contains("token id -1 out of range"));
}

TEST_CASE("bpe pre-split: words keep their leading space, runs of one class stay together", "[tokenizer]") {
    REQUIRE(chunks_of("And God said, Let 12\n\n") ==
            std::vector<std::string>{"And", " God", " said", ",", " Let", " 12", "\n\n"});
    REQUIRE(chunks_of("a   b") == std::vector<std::string>{"a", "  ", " b"});
    REQUIRE(chunks_of("x?! (y)  \n") == std::vector<std::string>{"x", "?!", " (", "y", ")", "  ", "\n"});
    REQUIRE(chunks_of("caf\xc3\xa9 ok") == std::vector<std::string>{"caf\xc3\xa9", " ok"});
    REQUIRE(chunks_of(" ") == std::vector<std::string>{" "});
}

TEST_CASE("bpe training merges the most frequent pair first, ties by smallest ids", "[tokenizer]") {
    // Pairs: (a,b) 6 times, (b,a) 3, (' ',a) 2, (' ',c) 1, (c,d) 1.
    auto frequent = BpeTokenizer::train("abababab ab ab cd", 257);
    REQUIRE(frequent->merges() == std::vector<BpeMerge>{{'a', 'b'}});
    REQUIRE(frequent->token_text(256) == "ab");

    // Chunks "xy" " xy" " ba" " ba": three pairs tie at 2; ' ' (32) < 'b' < 'x' decides, then
    // the new token 256 = " b" pairs with 'a' (2 times); pairs seen once are never merged.
    auto ties = BpeTokenizer::train("xy xy ba ba", 1000);
    REQUIRE(ties->merges() == std::vector<BpeMerge>{{' ', 'b'}, {'x', 'y'}, {256, 'a'}});
    REQUIRE(ties->vocab_size() == 259);
    REQUIRE(ties->encode(" ba xy") == std::vector<int32_t>{258, ' ', 257});
}

TEST_CASE("bpe training matches the from-the-definition reference and is deterministic", "[tokenizer]") {
    const std::string text = word_salad(2000, 3) + random_bytes(300, 4);
    auto tokenizer = BpeTokenizer::train(text, 350);
    REQUIRE(tokenizer->merges() == reference_merges(text, 350));
    REQUIRE(BpeTokenizer::train(text, 350)->merges() == tokenizer->merges());

    const std::string unseen = word_salad(500, 99) + random_bytes(200, 5);
    REQUIRE(tokenizer->encode(unseen) == reference_encode(unseen, tokenizer->merges()));
    REQUIRE(tokenizer->encode(text) == reference_encode(text, tokenizer->merges()));
}

TEST_CASE("bpe compresses its training text and round-trips any bytes", "[tokenizer]") {
    const std::string text = word_salad(3000, 11);
    auto tokenizer = BpeTokenizer::train(text, 400);
    REQUIRE(tokenizer->vocab_size() > 256);
    const std::vector<int32_t> ids = tokenizer->encode(text);
    REQUIRE(ids.size() * 2 < text.size());
    REQUIRE(tokenizer->decode(ids) == text);
    require_round_trips(*tokenizer);
    // A frequent whole word becomes a single token.
    const std::vector<int32_t> the = tokenizer->encode(" the");
    REQUIRE(the.size() == 1);
    REQUIRE(tokenizer->token_text(the[0]) == " the");
    REQUIRE_THROWS_WITH(tokenizer->decode({tokenizer->vocab_size()}), Contains("out of range"));
}

TEST_CASE("bpe handles overlapping pairs like 'aaaa' the same way in training and encoding", "[tokenizer]") {
    auto tokenizer = BpeTokenizer::train("aaaa aaaa aaaaa", 258);
    REQUIRE(tokenizer->merges() == std::vector<BpeMerge>{{'a', 'a'}, {256, 256}});
    REQUIRE(tokenizer->encode("aaaaa") == std::vector<int32_t>{257, 'a'});
    REQUIRE(tokenizer->encode("aaa") == std::vector<int32_t>{256, 'a'});
}

TEST_CASE("bpe training: bad vocab sizes are errors, empty text gives no merges", "[tokenizer]") {
    REQUIRE_THROWS_WITH(BpeTokenizer::train("some text", 255), Contains("vocab_size must be in [256"));
    REQUIRE_THROWS_AS(BpeTokenizer::train("some text", BpeTokenizer::kMaxVocabSize + 1), Error);
    auto empty = BpeTokenizer::train("", 4096);
    REQUIRE(empty->vocab_size() == 256);
    require_round_trips(*empty);
}

TEST_CASE("make_tokenizer builds both kinds and rejects unknown ones", "[tokenizer]") {
    REQUIRE(make_tokenizer("char", "", 0)->kind() == "char");
    auto bpe = make_tokenizer("bpe", word_salad(500, 1), 270);
    REQUIRE(bpe->kind() == "bpe");
    REQUIRE(bpe->vocab_size() == 270);
    REQUIRE_THROWS_WITH(make_tokenizer("wordpiece", "", 0), Contains("unknown kind 'wordpiece'"));
}

TEST_CASE("serialize then load gives an identical tokenizer", "[tokenizer]") {
    std::vector<std::unique_ptr<Tokenizer>> originals;
    originals.push_back(std::make_unique<CharTokenizer>());
    originals.push_back(small_bpe());
    originals.push_back(BpeTokenizer::train("", 300));
    const std::string probe = word_salad(400, 77) + all_byte_values();
    for (const auto& original : originals) {
        const std::string text = original->serialize();
        REQUIRE(text.rfind("splatlm-tokenizer v1\nkind " + original->kind() + "\n", 0) == 0);
        auto loaded = load_tokenizer(text);
        REQUIRE(loaded->kind() == original->kind());
        REQUIRE(loaded->vocab_size() == original->vocab_size());
        for (int32_t id = 0; id < original->vocab_size(); ++id) REQUIRE(loaded->token_text(id) == original->token_text(id));
        REQUIRE(loaded->encode(probe) == original->encode(probe));
        REQUIRE(loaded->serialize() == text);
    }
}

TEST_CASE("load_tokenizer rejects malformed text with a clear message", "[tokenizer]") {
    const auto bpe = small_bpe();
    const std::string good = bpe->serialize();  // header, kind, vocab, "merges N", N merges, end
    REQUIRE(load_tokenizer(good)->vocab_size() == bpe->vocab_size());
    const int first_merge = 4;
    const std::string merge_count = std::to_string(bpe->merges().size());

    REQUIRE_THROWS_WITH(load_tokenizer(""), Contains("empty input"));
    REQUIRE_THROWS_WITH(load_tokenizer("hello\n"), Contains("not a splatlm tokenizer"));
    REQUIRE_THROWS_WITH(load_tokenizer(replace_line(good, 0, "splatlm-tokenizer v2")),
                        Contains("unsupported format version 'v2'"));
    REQUIRE_THROWS_WITH(load_tokenizer(replace_line(good, 1, "kind unigram")), Contains("unknown kind 'unigram'"));
    REQUIRE_THROWS_WITH(load_tokenizer(replace_line(good, 1, "sort bpe")), Contains("line 2: expected 'kind <value>'"));
    REQUIRE_THROWS_WITH(load_tokenizer(replace_line(good, 2, "vocab -5")),
                        Contains("line 3: vocab must be a non-negative integer, got '-5'"));
    REQUIRE_THROWS_WITH(load_tokenizer(replace_line(good, 2, "vocab 4000")), Contains("declares vocab 4000"));
    REQUIRE_THROWS_WITH(load_tokenizer(replace_line(good, 3, "merges 9999")),
                        Contains("declares 9999 merges but " + merge_count + " merge lines follow"));
    REQUIRE_THROWS_WITH(load_tokenizer(replace_line(good, first_merge, "97 300")),
                        Contains("line 5: merge 0 refers to unknown token id 300 (ids below 256 exist"));
    REQUIRE_THROWS_WITH(load_tokenizer(replace_line(good, first_merge + 1, "12")),
                        Contains("line 6: expected a merge '<left> <right>', got '12'"));
    REQUIRE_THROWS_WITH(load_tokenizer(replace_line(good, first_merge, "1 x")),
                        Contains("merge right id must be a non-negative integer, got 'x'"));
    const BpeMerge m0 = bpe->merges()[0];
    REQUIRE_THROWS_WITH(load_tokenizer(replace_line(good, first_merge + 1,
                                                    std::to_string(m0.left) + " " + std::to_string(m0.right))),
                        Contains("line 6: merge pair") && Contains("appears twice"));

    // Truncation anywhere loses the final 'end' line.
    for (size_t keep : {good.size() - 1 - 3, good.size() / 2, size_t{30}})
        REQUIRE_THROWS_WITH(load_tokenizer(good.substr(0, keep)), Contains("truncated"));
    REQUIRE_THROWS_WITH(load_tokenizer(good.substr(0, good.size() - 4)), Contains("no final 'end' line"));
    REQUIRE_THROWS_WITH(load_tokenizer(good + "extra\n"), Contains("unexpected text after 'end'"));
    REQUIRE_THROWS_WITH(load_tokenizer("splatlm-tokenizer v1\nkind char\nvocab 256\n7\nend\n"),
                        Contains("line 4: a char tokenizer has no body lines"));
    REQUIRE_THROWS_WITH(load_tokenizer("splatlm-tokenizer v1\nkind bpe\nvocab 256\nend\n"),
                        Contains("missing its 'merges <count>' line"));
}

TEST_CASE("tokenizer files: save/load round trip, clear errors for bad paths", "[tokenizer]") {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "splatlm_test_tokenizer";
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "tokenizer.txt").string();
    auto original = small_bpe();
    save_tokenizer_file(*original, path);
    const std::string probe = word_salad(200, 5);
    REQUIRE(load_tokenizer_file(path)->encode(probe) == original->encode(probe));

    REQUIRE_THROWS_WITH(load_tokenizer_file((dir / "missing.txt").string()), Contains("No such file"));
    REQUIRE_THROWS_WITH(load_tokenizer_file(dir.string()), Contains("is a directory"));
    write_file_atomic(path, "garbage\n");
    REQUIRE_THROWS_WITH(load_tokenizer_file(path), Contains("not a splatlm tokenizer") && Contains(path));
    REQUIRE_THROWS_WITH(save_tokenizer_file(*original, (dir / "no_such_dir" / "t.txt").string()),
                        Contains("cannot write") && Contains("no_such_dir"));
    std::filesystem::remove_all(dir);
}

// Figures for docs/TOKENIZER.md: ./bin/tests "[.bench]" (from the repository root).
TEST_CASE("bpe on the KJV corpus: training time, encode time, compression", "[.bench]") {
    using Clock = std::chrono::steady_clock;
    const std::string text = read_file("data/kjv.txt");
    const auto t0 = Clock::now();
    auto tokenizer = BpeTokenizer::train(text, 4096);
    const auto t1 = Clock::now();
    const std::vector<int32_t> ids = tokenizer->encode(text);
    const auto t2 = Clock::now();
    const bool round_trips = tokenizer->decode(ids) == text;  // not in REQUIRE: it would print 4 MB
    REQUIRE(round_trips);
    const double train_s = std::chrono::duration<double>(t1 - t0).count();
    const double encode_s = std::chrono::duration<double>(t2 - t1).count();
    std::printf("kjv.txt: %zu bytes; bpe vocab %d trained in %.2f s; encoded in %.2f s (%.1f MB/s) to %zu tokens, "
                "%.3f bytes/token\n",
                text.size(), tokenizer->vocab_size(), train_s, encode_s, text.size() / encode_s / 1e6, ids.size(),
                static_cast<double>(text.size()) / ids.size());
    std::printf("first merges:");
    for (int32_t id = 256; id < 276; ++id) std::printf(" '%s'", tokenizer->token_text(id).c_str());
    std::printf("\nlast merges:");
    for (int32_t id = 4076; id < 4096; ++id) std::printf(" '%s'", tokenizer->token_text(id).c_str());
    std::printf("\n");
}
