// fuzz_safetensors.cpp — libFuzzer harness for the safetensors reader (train/safetensors.cpp): any
// file either loads (with its checksums verified) or fails with one splatlm::Error; never a crash,
// an out-of-bounds read or a huge allocation. `make fuzz`; seeds in fuzz/corpus/safetensors/.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tensor/error.h"
#include "train/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace splatlm;
    static const std::string path = "/tmp/splatlm-fuzz-safetensors-" + std::to_string(::getpid());
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) __builtin_trap();
    try {
        load_safetensors(path);
    } catch (const Error&) {
    }
    return 0;
}
