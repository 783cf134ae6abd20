// tokenizer_bpe.h — byte-level byte-pair encoding (BPE).
//
// Vocabulary: ids 0..255 are the 256 byte values, so any byte string can be encoded and
// decode(encode(x)) == x always holds. Every further id 256+i is "merge i": the
// concatenation of two earlier tokens (left, right).
//
// Pre-split. Text is first cut into chunks and merges never cross a chunk boundary, so a
// token never spans, say, the end of one word and the start of the next. Each byte has a
// class — letter (A-Z, a-z and every byte >= 0x80, so UTF-8 characters stay inside words),
// digit, space (' '), other whitespace (\n \r \t \v \f) or punctuation (everything else) —
// and a chunk is a maximal run of one class, except that a single space directly before a
// letter, digit or punctuation run joins that run:
//     "And God said, Let 12\n\n"  →  "And" " God" " said" "," " Let" " 12" "\n\n"
//     "a   b"                     →  "a" "  " " b"     (extra spaces stay on their own)
//
// Training (train): count every distinct chunk once with its frequency; then repeatedly
// merge the adjacent pair of tokens with the highest total count (ties: the smallest left
// id, then the smallest right id, so training is deterministic). Pair counts, and for each
// pair the chunks that contain it, are updated incrementally after each merge — only chunks
// holding the merged pair are touched — and a max-heap with lazily discarded stale entries
// finds the next best pair.
//
// Encoding applies the merges to each chunk in rank order (lowest merge index first,
// leftmost occurrence first), which reproduces exactly how training segmented its text.
// Repeated chunks are looked up in a per-call cache.
#pragma once
#include <memory>
#include <span>
#include <unordered_map>

#include "train/tokenizer.h"

namespace splatlm {

// Merge i turns the adjacent pair (left, right) into the new token 256 + i.
struct BpeMerge {
    int32_t left;
    int32_t right;
    bool operator==(const BpeMerge&) const = default;
};

class BpeTokenizer final : public Tokenizer {
  public:
    static constexpr int kByteTokens = 256;
    static constexpr int kMaxVocabSize = 1 << 20;

    // Learns merges from `text` until the vocabulary has vocab_size tokens or no adjacent pair
    // occurs at least twice (so a small text may give fewer tokens; empty text gives none).
    // Throws unless 256 <= vocab_size <= kMaxVocabSize.
    static std::unique_ptr<BpeTokenizer> train(std::string_view text, int vocab_size);

    std::vector<int32_t> encode(std::string_view bytes) const override;
    std::string decode(const std::vector<int32_t>& ids) const override;
    int vocab_size() const override { return static_cast<int>(token_bytes_.size()); }
    std::string kind() const override { return "bpe"; }
    std::string token_text(int32_t id) const override;

    const std::vector<BpeMerge>& merges() const { return merges_; }

    // Rebuilds from the serialized body: "merges N" then N lines "left right".
    static std::unique_ptr<BpeTokenizer> from_body(std::span<const SerialLine> body);

  protected:
    std::string serialize_body() const override;

  private:
    explicit BpeTokenizer(std::vector<BpeMerge> merges);  // merges already validated
    void encode_chunk(std::string_view chunk, std::vector<int32_t>& out) const;

    std::vector<BpeMerge> merges_;
    std::unordered_map<uint64_t, int32_t> rank_of_pair_;  // bpe_pair_key(left, right) → merge index
    std::vector<std::string> token_bytes_;                // id → the bytes it stands for
};

// Packs a token pair into one hash-map key.
inline uint64_t bpe_pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// End (exclusive) of the pre-split chunk that starts at text[begin]; begin < text.size().
size_t bpe_chunk_end(std::string_view text, size_t begin);

}  // namespace splatlm
