#include "train/tokenizer_char.h"

#include "tensor/error.h"

namespace splatlm {

std::vector<int32_t> CharTokenizer::encode(std::string_view bytes) const {
    std::vector<int32_t> ids(bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) ids[i] = static_cast<unsigned char>(bytes[i]);
    return ids;
}

std::string CharTokenizer::decode(const std::vector<int32_t>& ids) const {
    std::string bytes(ids.size(), '\0');
    for (size_t i = 0; i < ids.size(); ++i) {
        check_token_id(ids[i], kVocabSize, "decode");
        bytes[i] = static_cast<char>(ids[i]);
    }
    return bytes;
}

std::string CharTokenizer::token_text(int32_t id) const {
    check_token_id(id, kVocabSize, "token_text");
    return std::string(1, static_cast<char>(id));
}

std::unique_ptr<CharTokenizer> CharTokenizer::from_body(std::span<const SerialLine> body) {
    if (!body.empty())
        fail("load_tokenizer: line ", body.front().number, ": a char tokenizer has no body lines, got '",
             body.front().text.substr(0, 40), "'");
    return std::make_unique<CharTokenizer>();
}

}  // namespace splatlm
