// fuzz_config.cpp — libFuzzer harness for the config parser (train/train_config.cpp): any bytes,
// read as a `key = value` file and as a checkpoint's JSON config, either give a valid config or
// fail with a splatlm::Error naming the key. `make fuzz`; seeds in fuzz/corpus/config/.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/error.h"
#include "train/train_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace splatlm;
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        TrainConfig config;
        apply_config_text(config, text, "fuzz.cfg");
        config.validate();
    } catch (const Error&) {
    }
    try {
        TrainConfig::from_json(Json::parse(text));
    } catch (const Error&) {
    }
    return 0;
}
