// text_codec.h — what the splat pictures need of a tokenizer, as two plain functions, so that
// viz/ depends on no tokenizer type (tokenizers live in train/, above viz/).
//
//   encode(text)     → the token ids of a text
//   token_text(id)   → the bytes one token stands for (the pictures' labels)
//
// TextCodec::of(tokenizer) wraps any object with those two members (train/'s Tokenizer); the
// codec refers to that object, which must outlive it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace splatlm::viz {

struct TextCodec {
    std::function<std::vector<int32_t>(std::string_view)> encode;
    std::function<std::string(int32_t)> token_text;

    template <class Tokenizer>
    static TextCodec of(const Tokenizer& tokenizer) {
        return {[&tokenizer](std::string_view text) { return tokenizer.encode(text); },
                [&tokenizer](int32_t id) { return tokenizer.token_text(id); }};
    }
};

}  // namespace splatlm::viz
