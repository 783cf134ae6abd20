// json_parse.cpp — Json::parse: a strict recursive-descent parser for RFC 8259 JSON.
//
// One pass over the text with a cursor. Every error names the byte offset (0-based, plus line
// and column for multi-line config files), what the grammar expected there, and what it found,
// e.g. "JSON parse error at byte 9 (line 1, column 10): expected ',' or '}' after an object
// member, got 'x'". Recursion depth is bounded (kMaxDepth) so hostile input cannot blow the stack.
#include <charconv>
#include <unordered_set>

#include "tensor/error.h"
#include "train/json.h"
#include "train/utf8.h"

namespace splatlm {
namespace {

constexpr int kMaxDepth = 256;

class Parser {
  public:
    explicit Parser(std::string_view text) : s_(text) {}

    Json parse_document() {
        skip_whitespace();
        Json value = parse_value();
        skip_whitespace();
        if (pos_ != s_.size()) error(pos_, "unexpected ", found(), " after the JSON value (trailing garbage)");
        return value;
    }

  private:
    std::string_view s_;
    size_t pos_ = 0;
    int depth_ = 0;

    template <class... Parts>
    [[noreturn]] void error(size_t at, const Parts&... parts) const {
        size_t line = 1, line_start = 0;
        for (size_t i = 0; i < at && i < s_.size(); ++i)
            if (s_[i] == '\n') ++line, line_start = i + 1;
        fail("JSON parse error at byte ", at, " (line ", line, ", column ", at - line_start + 1, "): ", parts...);
    }

    // What sits at the cursor, for "got ..." in messages.
    std::string found() const {
        if (pos_ >= s_.size()) return "end of input";
        const auto c = static_cast<unsigned char>(s_[pos_]);
        if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
        static const char hex[] = "0123456789abcdef";
        return std::string("byte 0x") + hex[c >> 4] + hex[c & 15];
    }

    bool at_end() const { return pos_ >= s_.size(); }
    // '\0' at the end; callers only compare against non-NUL characters, so no bounds checks needed.
    char peek() const { return at_end() ? '\0' : s_[pos_]; }
    bool is_digit() const { return !at_end() && s_[pos_] >= '0' && s_[pos_] <= '9'; }

    void skip_whitespace() {
        while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
    }

    void expect(char c, const char* context) {
        if (peek() != c) error(pos_, "expected '", c, "' ", context, ", got ", found());
        ++pos_;
    }

    Json parse_value() {
        switch (peek()) {
            case '{': return parse_object();
            case '[': return parse_array();
            case '"': return Json(parse_string());
            case 't': return parse_literal("true", Json(true));
            case 'f': return parse_literal("false", Json(false));
            case 'n': return parse_literal("null", Json());
            default:
                if (peek() == '-' || is_digit()) return parse_number();
                error(pos_, "expected a value (object, array, string, number, true, false or null), got ", found());
        }
    }

    Json parse_literal(std::string_view word, Json value) {
        if (s_.substr(pos_, word.size()) != word) error(pos_, "invalid literal, expected '", word, "'");
        pos_ += word.size();
        return value;
    }

    void enter(size_t at) {
        if (++depth_ > kMaxDepth) error(at, "nesting deeper than ", kMaxDepth, " levels");
    }

    Json parse_object() {
        enter(pos_);
        ++pos_;  // '{'
        Json::Object members;
        std::unordered_set<std::string> seen;
        skip_whitespace();
        if (peek() == '}') {
            ++pos_;
        } else {
            for (;;) {
                skip_whitespace();
                if (peek() != '"') error(pos_, "expected a string key, got ", found());
                const size_t key_at = pos_;
                std::string key = parse_string();
                if (!seen.insert(key).second) error(key_at, "duplicate key \"", key, "\"");
                skip_whitespace();
                expect(':', "after an object key");
                skip_whitespace();
                Json value = parse_value();
                members.emplace_back(std::move(key), std::move(value));
                skip_whitespace();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                if (peek() == '}') {
                    ++pos_;
                    break;
                }
                error(pos_, "expected ',' or '}' after an object member, got ", found());
            }
        }
        --depth_;
        return Json(std::move(members));
    }

    Json parse_array() {
        enter(pos_);
        ++pos_;  // '['
        Json::Array elements;
        skip_whitespace();
        if (peek() == ']') {
            ++pos_;
        } else {
            for (;;) {
                skip_whitespace();
                elements.push_back(parse_value());
                skip_whitespace();
                if (peek() == ',') {
                    ++pos_;
                    continue;
                }
                if (peek() == ']') {
                    ++pos_;
                    break;
                }
                error(pos_, "expected ',' or ']' after an array element, got ", found());
            }
        }
        --depth_;
        return Json(std::move(elements));
    }

    // Four hex digits after "\u" (cursor on the first digit).
    uint32_t parse_hex4() {
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i, ++pos_) {
            const char c = peek();
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) error(pos_, "invalid \\u escape: expected 4 hex digits, got ", found());
            v = v * 16 + static_cast<uint32_t>(d);
        }
        return v;
    }

    // "\uXXXX", possibly a UTF-16 surrogate pair "\uD83D\uDE00", as one code point (cursor after "\u").
    uint32_t parse_unicode_escape(size_t escape_at) {
        const uint32_t unit = parse_hex4();
        if (unit >= 0xDC00 && unit <= 0xDFFF) error(escape_at, "unpaired low surrogate in \\u escape");
        if (unit < 0xD800 || unit > 0xDBFF) return unit;
        if (s_.substr(pos_, 2) != "\\u") error(escape_at, "high surrogate \\u escape not followed by a low surrogate");
        pos_ += 2;
        const uint32_t low = parse_hex4();
        if (low < 0xDC00 || low > 0xDFFF) error(escape_at, "high surrogate \\u escape not followed by a low surrogate");
        return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }

    std::string parse_string() {
        const size_t start = pos_;
        ++pos_;  // opening quote
        std::string out;
        for (;;) {
            if (at_end()) error(start, "unterminated string");
            const auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') {
                ++pos_;
                return out;
            }
            if (c < 0x20) error(pos_, "unescaped control character ", found(), " in string");
            if (c >= 0x80) {
                const size_t len = utf8::sequence_length(s_, pos_);
                if (len == 0) error(pos_, "invalid UTF-8 (", found(), ") in string");
                out.append(s_.substr(pos_, len));
                pos_ += len;
                continue;
            }
            if (c != '\\') {
                out += static_cast<char>(c);
                ++pos_;
                continue;
            }
            const size_t escape_at = pos_++;
            if (at_end()) error(start, "unterminated string");
            const char e = s_[pos_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': utf8::append(out, parse_unicode_escape(escape_at)); break;
                default:
                    --pos_;
                    error(escape_at, "invalid escape: backslash followed by ", found(),
                          " (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
            }
        }
    }

    void digits(const char* after) {
        if (!is_digit()) error(pos_, "invalid number: expected a digit ", after, ", got ", found());
        while (is_digit()) ++pos_;
    }

    // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?  Integers that fit stay exact int64s.
    Json parse_number() {
        const size_t start = pos_;
        if (peek() == '-') ++pos_;
        if (peek() == '0') {
            ++pos_;
            if (is_digit()) error(start, "invalid number: leading zeros are not allowed");
        } else {
            digits("after '-'");  // without '-', parse_value saw a digit here
        }
        bool integer = true;
        if (peek() == '.') {
            ++pos_;
            digits("after '.'");
            integer = false;
        }
        if ((peek() == 'e' || peek() == 'E')) {
            ++pos_;
            if (peek() == '+' || peek() == '-') ++pos_;
            digits("in the exponent");
            integer = false;
        }
        const char* first = s_.data() + start;
        const char* last = s_.data() + pos_;
        if (integer) {
            int64_t i = 0;
            auto res = std::from_chars(first, last, i);
            if (res.ec == std::errc()) return Json(i);
            // Too large for int64: keep it as a (rounded) double, as every JSON reader does.
        }
        double d = 0;
        auto res = std::from_chars(first, last, d);
        if (res.ec != std::errc()) error(start, "number ", std::string_view(first, last - first), " is out of double range");
        return Json(d);
    }
};

}  // namespace

Json Json::parse(std::string_view text) { return Parser(text).parse_document(); }

}  // namespace splatlm
