// fuzz_tokenizer.cpp — libFuzzer harness for the tokenizer loader (train/tokenizer.cpp): any text
// either loads, and then encodes and decodes a sample, or fails with a splatlm::Error.
// `make fuzz`; seeds in fuzz/corpus/tokenizer/.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/error.h"
#include "train/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace splatlm;
    try {
        const auto tokenizer = load_tokenizer(std::string_view(reinterpret_cast<const char*>(data), size));
        tokenizer->decode(tokenizer->encode("In the beginning God created the heaven and the earth.\n"));
    } catch (const Error&) {
    }
    return 0;
}
