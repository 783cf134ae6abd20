// utf8.h — the two UTF-8 facts the JSON code needs: how long the valid sequence starting at a
// byte is (0 when it is not valid UTF-8), and how to encode a code point.
//
// "Valid" is the strict RFC 3629 definition: no overlong forms (C0/C1 leads, E0 80..9F,
// F0 80..8F), no UTF-16 surrogates (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF).
// JSON text must be UTF-8, and a header we write has to load in every other implementation.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace splatlm::utf8 {

// Length (1-4) of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid/truncated.
inline size_t sequence_length(std::string_view s, size_t i) {
    const auto byte = [&](size_t k) { return i + k < s.size() ? static_cast<uint8_t>(s[i + k]) : 0u; };
    const auto cont = [&](size_t k, uint8_t lo = 0x80, uint8_t hi = 0xBF) {
        uint8_t b = byte(k);
        return b >= lo && b <= hi;
    };
    const uint8_t b0 = byte(0);
    if (b0 < 0x80) return 1;
    if (b0 < 0xC2) return 0;  // stray continuation byte or overlong 2-byte lead
    if (b0 < 0xE0) return cont(1) ? 2 : 0;
    if (b0 < 0xF0) {
        const uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
        return cont(1, lo, hi) && cont(2) ? 3 : 0;
    }
    if (b0 < 0xF5) {
        const uint8_t lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
        return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
}

// Append the UTF-8 encoding of a Unicode scalar value (caller guarantees cp <= 0x10FFFF, not a surrogate).
inline void append(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// A valid UTF-8 copy of arbitrary bytes: each byte that does not start a valid sequence becomes
// U+FFFD. For text that must go into JSON (generated samples may split a character).
inline std::string sanitize(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        const size_t n = sequence_length(s, i);
        if (n == 0) {
            append(out, 0xFFFD);
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

// Length of `s` without a trailing sequence that is valid so far but unfinished (its lead byte and
// fewer continuation bytes than the lead announces): text streamed in pieces is sanitized up to
// here, the rest waits for the next piece.
inline size_t complete_prefix(std::string_view s) {
    for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
        const uint8_t b = static_cast<uint8_t>(s[s.size() - back]);
        if (b >= 0x80 && b < 0xC0) continue;  // a continuation byte: look further back for its lead
        const size_t wants = b >= 0xC2 && b < 0xE0 ? 2 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xF0 && b < 0xF5 ? 4 : 1;
        return wants > back ? s.size() - back : s.size();
    }
    return s.size();
}

}  // namespace splatlm::utf8
