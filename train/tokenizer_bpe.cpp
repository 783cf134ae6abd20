// Pre-split, encoding, decoding and the serialized form of the BPE tokenizer; learning the
// merges lives in tokenizer_bpe_train.cpp.
#include "train/tokenizer_bpe.h"

#include <algorithm>
#include <queue>
#include <set>

#include "tensor/error.h"

namespace splatlm {

namespace {

enum class ByteClass { letter, digit, space, other_whitespace, punctuation };

ByteClass byte_class(char c) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b >= 0x80) return ByteClass::letter;
    if (b >= '0' && b <= '9') return ByteClass::digit;
    if (b == ' ') return ByteClass::space;
    if (b == '\n' || b == '\r' || b == '\t' || b == '\v' || b == '\f') return ByteClass::other_whitespace;
    return ByteClass::punctuation;
}

size_t run_end(std::string_view text, size_t begin) {
    const ByteClass cls = byte_class(text[begin]);
    size_t end = begin + 1;
    while (end < text.size() && byte_class(text[end]) == cls) ++end;
    return end;
}

bool starts_word(ByteClass cls) { return cls != ByteClass::space && cls != ByteClass::other_whitespace; }

// Candidate merge inside one chunk: merge `rank` applied at the node starting at `position`.
struct Candidate {
    int32_t rank;
    int32_t position;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : position > o.position; }
};

// Caching every distinct chunk of a huge input would grow without bound; past this many
// entries the cache starts over.
constexpr size_t kChunkCacheLimit = 1 << 16;

}  // namespace

size_t bpe_chunk_end(std::string_view text, size_t begin) {
    const size_t end = run_end(text, begin);
    if (byte_class(text[begin]) != ByteClass::space || end == text.size() || !starts_word(byte_class(text[end])))
        return end;
    // Spaces followed by a word: the last space belongs to the word.
    return end - begin == 1 ? run_end(text, end) : end - 1;
}

BpeTokenizer::BpeTokenizer(std::vector<BpeMerge> merges) : merges_(std::move(merges)) {
    token_bytes_.reserve(kByteTokens + merges_.size());
    for (int b = 0; b < kByteTokens; ++b) token_bytes_.emplace_back(1, static_cast<char>(b));
    for (size_t i = 0; i < merges_.size(); ++i) {
        const BpeMerge& m = merges_[i];
        token_bytes_.push_back(token_bytes_[m.left] + token_bytes_[m.right]);
        rank_of_pair_.emplace(bpe_pair_key(m.left, m.right), static_cast<int32_t>(i));
    }
}

// Merges by rank with a min-heap of candidates over a linked list of nodes; node i starts as
// byte i. An entry is stale when its node was absorbed or its pair changed since the push.
void BpeTokenizer::encode_chunk(std::string_view chunk, std::vector<int32_t>& out) const {
    const int32_t n = static_cast<int32_t>(chunk.size());
    std::vector<int32_t> token(n), next(n), prev(n);
    for (int32_t i = 0; i < n; ++i) {
        token[i] = static_cast<unsigned char>(chunk[i]);
        next[i] = i + 1;
        prev[i] = i - 1;
    }
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    auto push_pair_at = [&](int32_t i) {
        if (i < 0 || next[i] >= n) return;
        auto it = rank_of_pair_.find(bpe_pair_key(token[i], token[next[i]]));
        if (it != rank_of_pair_.end()) heap.push({it->second, i});
    };
    for (int32_t i = 0; i + 1 < n; ++i) push_pair_at(i);

    while (!heap.empty()) {
        const auto [rank, i] = heap.top();
        heap.pop();
        const int32_t j = next[i];
        if (token[i] < 0 || j >= n || !(merges_[rank] == BpeMerge{token[i], token[j]})) continue;
        token[i] = kByteTokens + rank;
        token[j] = -1;
        next[i] = next[j];
        if (next[j] < n) prev[next[j]] = i;
        push_pair_at(prev[i]);
        push_pair_at(i);
    }
    for (int32_t i = 0; i < n; i = next[i]) out.push_back(token[i]);
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view bytes) const {
    std::vector<int32_t> ids;
    ids.reserve(bytes.size() / 3 + 1);
    std::unordered_map<std::string_view, std::vector<int32_t>> cache;
    for (size_t begin = 0; begin < bytes.size();) {
        const size_t end = bpe_chunk_end(bytes, begin);
        const std::string_view chunk = bytes.substr(begin, end - begin);
        begin = end;
        if (chunk.size() == 1) {
            ids.push_back(static_cast<unsigned char>(chunk[0]));
            continue;
        }
        auto it = cache.find(chunk);
        if (it == cache.end()) {
            if (cache.size() >= kChunkCacheLimit) cache.clear();
            std::vector<int32_t> chunk_ids;
            encode_chunk(chunk, chunk_ids);
            it = cache.emplace(chunk, std::move(chunk_ids)).first;
        }
        ids.insert(ids.end(), it->second.begin(), it->second.end());
    }
    return ids;
}

std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
    std::string bytes;
    for (int32_t id : ids) {
        check_token_id(id, vocab_size(), "decode");
        bytes += token_bytes_[id];
    }
    return bytes;
}

std::string BpeTokenizer::token_text(int32_t id) const {
    check_token_id(id, vocab_size(), "token_text");
    return token_bytes_[id];
}

std::string BpeTokenizer::serialize_body() const {
    std::string body = "merges " + std::to_string(merges_.size()) + "\n";
    for (const BpeMerge& m : merges_) body += std::to_string(m.left) + " " + std::to_string(m.right) + "\n";
    return body;
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_body(std::span<const SerialLine> body) {
    SPLATLM_CHECK(!body.empty(), "load_tokenizer: bpe body is missing its 'merges <count>' line");
    const SerialLine& count_line = body[0];
    SPLATLM_CHECK(count_line.text.substr(0, 7) == "merges ", "load_tokenizer: line ", count_line.number,
                  ": expected 'merges <count>', got '", count_line.text.substr(0, 40), "'");
    const int64_t count = parse_serial_count(count_line.text.substr(7), count_line, "merge count");
    SPLATLM_CHECK(count <= kMaxVocabSize - kByteTokens, "load_tokenizer: line ", count_line.number, ": ", count,
                  " merges exceed the limit of ", kMaxVocabSize - kByteTokens);
    SPLATLM_CHECK(static_cast<int64_t>(body.size()) - 1 == count, "load_tokenizer: line ", count_line.number,
                  " declares ", count, " merges but ", body.size() - 1, " merge lines follow");

    std::vector<BpeMerge> merges;
    std::set<uint64_t> seen;
    for (const SerialLine& line : body.subspan(1)) {
        const size_t space = line.text.find(' ');
        SPLATLM_CHECK(space != std::string_view::npos, "load_tokenizer: line ", line.number,
                      ": expected a merge '<left> <right>', got '", line.text.substr(0, 40), "'");
        const int64_t left = parse_serial_count(line.text.substr(0, space), line, "merge left id");
        const int64_t right = parse_serial_count(line.text.substr(space + 1), line, "merge right id");
        const int64_t known = kByteTokens + static_cast<int64_t>(merges.size());
        SPLATLM_CHECK(left < known && right < known, "load_tokenizer: line ", line.number, ": merge ",
                      merges.size(), " refers to unknown token id ", std::max(left, right), " (ids below ", known,
                      " exist at that point)");
        SPLATLM_CHECK(seen.insert(bpe_pair_key(left, right)).second, "load_tokenizer: line ", line.number,
                      ": merge pair ", left, " ", right, " appears twice");
        merges.push_back({static_cast<int32_t>(left), static_cast<int32_t>(right)});
    }
    return std::unique_ptr<BpeTokenizer>(new BpeTokenizer(std::move(merges)));
}

}  // namespace splatlm
