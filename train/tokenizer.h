// tokenizer.h — turning bytes into token ids and back.
//
// A tokenizer maps any byte string (not only valid UTF-8) to a sequence of integer ids in
// [0, vocab_size()) and back, with decode(encode(x)) == x for every x. Two kinds exist:
//   "char" — one token per byte, vocabulary = the 256 byte values (train/tokenizer_char.h);
//   "bpe"  — byte-level byte-pair encoding learned from a text (train/tokenizer_bpe.h).
//
// A tokenizer is saved as a small versioned text (documented in docs/TOKENIZER.md):
//     splatlm-tokenizer v1
//     kind bpe
//     vocab 4096
//     ...kind-specific lines...
//     end
// The text goes into checkpoints (safetensors metadata) and into tokenizer.txt in a run
// directory; load_tokenizer() reads it back and rejects anything malformed with a one-line
// splatlm::Error.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace splatlm {

class Tokenizer {
  public:
    virtual ~Tokenizer() = default;

    virtual std::vector<int32_t> encode(std::string_view bytes) const = 0;
    // Concatenates token_text of each id; throws splatlm::Error on an id outside [0, vocab_size()).
    virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
    virtual int vocab_size() const = 0;
    virtual std::string kind() const = 0;
    // The bytes that token `id` stands for (throws on an id out of range).
    virtual std::string token_text(int32_t id) const = 0;

    // The versioned text form above; load_tokenizer(serialize()) behaves identically.
    std::string serialize() const;

  protected:
    // The kind-specific lines between the "vocab" line and "end", each ending in '\n'.
    virtual std::string serialize_body() const = 0;
};

// Builds a tokenizer of the given kind ("char" or "bpe"). BPE learns merges from
// training_text up to vocab_size tokens; "char" has a fixed vocabulary of 256 and ignores both.
std::unique_ptr<Tokenizer> make_tokenizer(std::string_view kind, std::string_view training_text,
                                          int vocab_size);

std::unique_ptr<Tokenizer> load_tokenizer(std::string_view serialized);
void save_tokenizer_file(const Tokenizer& tokenizer, const std::string& path);
std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path);

// ---- helpers shared by the tokenizer kinds --------------------------------------------------

// Throws "<op>: token id <id> out of range [0, <vocab_size>)" unless 0 <= id < vocab_size.
void check_token_id(int32_t id, int vocab_size, const char* op);

// One line of a serialized tokenizer with its 1-based line number, for error messages.
struct SerialLine {
    std::string_view text;
    int number;
};

// Parses a whole field as a non-negative decimal integer, or throws
// "load_tokenizer: line <n>: <what> must be a non-negative integer, got '<field>'".
int64_t parse_serial_count(std::string_view field, const SerialLine& line, const char* what);

}  // namespace splatlm
