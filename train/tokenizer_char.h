// tokenizer_char.h — the character-level tokenizer: one token per byte, id = byte value.
//
// "Character" here means byte, not Unicode code point: the vocabulary is all 256 byte values,
// so every input — empty, binary, invalid UTF-8 — round-trips exactly and no unknown-token
// case exists. For ASCII text such as the KJV corpus a byte *is* a character; multi-byte UTF-8
// characters simply become several tokens. It learns nothing, so it needs no training text,
// and its serialized body is empty.
#pragma once
#include <memory>
#include <span>

#include "train/tokenizer.h"

namespace splatlm {

class CharTokenizer final : public Tokenizer {
  public:
    static constexpr int kVocabSize = 256;

    std::vector<int32_t> encode(std::string_view bytes) const override;
    std::string decode(const std::vector<int32_t>& ids) const override;
    int vocab_size() const override { return kVocabSize; }
    std::string kind() const override { return "char"; }
    std::string token_text(int32_t id) const override;

    // Rebuilds from the serialized body lines (there must be none).
    static std::unique_ptr<CharTokenizer> from_body(std::span<const SerialLine> body);

  protected:
    std::string serialize_body() const override { return {}; }
};

}  // namespace splatlm
