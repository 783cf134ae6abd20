#include "train/tokenizer.h"

#include <charconv>

#include "tensor/error.h"
#include "tensor/file_io.h"
#include "train/tokenizer_bpe.h"
#include "train/tokenizer_char.h"

namespace splatlm {

namespace {

constexpr std::string_view kHeader = "splatlm-tokenizer v1";
constexpr std::string_view kMagic = "splatlm-tokenizer ";
constexpr size_t kQuoteLimit = 40;  // how much of a bad line an error message repeats

std::string_view clipped(std::string_view text) { return text.substr(0, kQuoteLimit); }

// Splits into lines numbered from 1; the '\n' ending the last line is optional.
std::vector<SerialLine> split_lines(std::string_view text) {
    std::vector<SerialLine> lines;
    size_t begin = 0;
    while (begin < text.size()) {
        size_t end = text.find('\n', begin);
        if (end == std::string_view::npos) end = text.size();
        lines.push_back({text.substr(begin, end - begin), static_cast<int>(lines.size()) + 1});
        begin = end + 1;
    }
    return lines;
}

// "kind bpe" with key "kind" → "bpe".
std::string_view value_of(const SerialLine& line, std::string_view key) {
    const bool ok = line.text.size() > key.size() + 1 && line.text.substr(0, key.size()) == key &&
                    line.text[key.size()] == ' ';
    if (!ok) fail("load_tokenizer: line ", line.number, ": expected '", key, " <value>', got '", clipped(line.text), "'");
    return line.text.substr(key.size() + 1);
}

void check_header(const std::vector<SerialLine>& lines) {
    SPLATLM_CHECK(!lines.empty(), "load_tokenizer: empty input, expected a '", kHeader, "' header");
    const std::string_view first = lines[0].text;
    if (first == kHeader) return;
    if (first.substr(0, kMagic.size()) == kMagic)
        fail("load_tokenizer: unsupported format version '", clipped(first.substr(kMagic.size())),
             "' (this build reads '", kHeader, "')");
    fail("load_tokenizer: not a splatlm tokenizer: first line is '", clipped(first), "', expected '", kHeader, "'");
}

// The last line must be "end": text cut short loses it, text appended after it hides it.
void check_end(const std::vector<SerialLine>& lines) {
    if (lines.back().text == "end") return;
    for (const SerialLine& line : lines)
        if (line.text == "end") fail("load_tokenizer: unexpected text after 'end' on line ", line.number);
    fail("load_tokenizer: truncated: no final 'end' line (last line ", lines.back().number, " is '",
         clipped(lines.back().text), "')");
}

}  // namespace

void check_token_id(int32_t id, int vocab_size, const char* op) {
    SPLATLM_CHECK(id >= 0 && id < vocab_size, op, ": token id ", id, " out of range [0, ", vocab_size, ")");
}

int64_t parse_serial_count(std::string_view field, const SerialLine& line, const char* what) {
    int64_t value = -1;
    const char* end = field.data() + field.size();
    auto [ptr, ec] = std::from_chars(field.data(), end, value);
    if (ec != std::errc() || ptr != end || value < 0)
        fail("load_tokenizer: line ", line.number, ": ", what, " must be a non-negative integer, got '",
             clipped(field), "'");
    return value;
}

std::string Tokenizer::serialize() const {
    std::string out;
    out.append(kHeader).append("\nkind ").append(kind());
    out.append("\nvocab ").append(std::to_string(vocab_size())).append("\n");
    out.append(serialize_body());
    out.append("end\n");
    return out;
}

std::unique_ptr<Tokenizer> make_tokenizer(std::string_view kind, std::string_view training_text, int vocab_size) {
    if (kind == "char") return std::make_unique<CharTokenizer>();
    if (kind == "bpe") return BpeTokenizer::train(training_text, vocab_size);
    fail("tokenizer: unknown kind '", kind, "' (expected 'char' or 'bpe')");
}

std::unique_ptr<Tokenizer> load_tokenizer(std::string_view serialized) {
    const std::vector<SerialLine> lines = split_lines(serialized);
    check_header(lines);
    SPLATLM_CHECK(lines.size() >= 4, "load_tokenizer: truncated: ", lines.size(),
                  " line(s), expected at least header, kind, vocab and 'end'");
    const std::string_view kind = value_of(lines[1], "kind");
    const int64_t declared_vocab = parse_serial_count(value_of(lines[2], "vocab"), lines[2], "vocab");
    check_end(lines);

    const std::span<const SerialLine> body = std::span(lines).subspan(3, lines.size() - 4);
    std::unique_ptr<Tokenizer> tokenizer;
    if (kind == "char")
        tokenizer = CharTokenizer::from_body(body);
    else if (kind == "bpe")
        tokenizer = BpeTokenizer::from_body(body);
    else
        fail("load_tokenizer: line 2: unknown kind '", clipped(kind), "' (expected 'char' or 'bpe')");

    SPLATLM_CHECK(tokenizer->vocab_size() == declared_vocab, "load_tokenizer: line 3 declares vocab ", declared_vocab,
                  " but the ", kind, " body defines ", tokenizer->vocab_size(), " tokens");
    return tokenizer;
}

void save_tokenizer_file(const Tokenizer& tokenizer, const std::string& path) {
    write_file_atomic(path, tokenizer.serialize());
}

std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path) {
    const std::string text = read_file(path);
    try {
        return load_tokenizer(text);
    } catch (const Error& e) {
        fail(e.what(), " (in '", path, "')");
    }
}

}  // namespace splatlm
