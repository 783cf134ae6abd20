// fuzz_json.cpp — libFuzzer harness for the strict JSON parser (train/json_parse.cpp): any bytes
// either parse, and then dump and parse again to the same value, or fail with a splatlm::Error.
// Built and run by `make fuzz` (clang, ASan + UBSan); seeds in fuzz/corpus/json/.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/error.h"
#include "train/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace splatlm;
    Json value;
    try {
        value = Json::parse(std::string(reinterpret_cast<const char*>(data), size));
    } catch (const Error&) {
        return 0;
    }
    std::string text;
    try {
        text = value.dump();
    } catch (const Error&) {
        return 0;  // parsed numbers the serializer refuses (out of double's range) are named, not written
    }
    if (!(Json::parse(text) == value)) __builtin_trap();  // dump → parse must round-trip
    return 0;
}
