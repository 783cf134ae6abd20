// sampling_flags.h — the sampling options that generate, chat and serve share: one spec list for
// their --help and one reader that checks the values.
#pragma once
#include <vector>

#include "train/args.h"
#include "train/sampler.h"

namespace splatlm {

// --tokens, --temperature, --top-k, --top-p, --seed; `tokens_help` says what --tokens limits.
std::vector<OptionSpec> sampling_flags(const char* tokens_help);
// Reads them (defaults: 200 tokens, temperature 0.8, top-k 0, top-p 0.95, seed 0) and checks them.
SampleOptions read_sampling_flags(const Args& args);

}  // namespace splatlm
