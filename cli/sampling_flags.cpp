#include "cli/sampling_flags.h"

#include "tensor/error.h"

namespace splatlm {

std::vector<OptionSpec> sampling_flags(const char* tokens_help) {
    return {{"tokens", true, tokens_help},
            {"temperature", true, "0 = greedy (default 0.8)"},
            {"top-k", true, "sample among the k most likely tokens (default 0 = all)"},
            {"top-p", true, "nucleus sampling mass (default 0.95)"},
            {"seed", true, "sampling seed (default 0)"}};
}

SampleOptions read_sampling_flags(const Args& args) {
    const int64_t seed = args.get_int("seed", 0);
    SPLATLM_CHECK(seed >= 0, "--seed must be >= 0, got ", seed);
    SampleOptions opt{.tokens = args.get_int("tokens", 200),
                      .temperature = float(args.get_double("temperature", 0.8)),
                      .top_k = args.get_int("top-k", 0),
                      .top_p = float(args.get_double("top-p", 0.95)),
                      .seed = uint64_t(seed)};
    SPLATLM_CHECK(opt.tokens >= 0 && opt.tokens <= 10'000'000, "--tokens must be in [0, 10000000], got ", opt.tokens);
    SPLATLM_CHECK(opt.temperature >= 0 && opt.temperature <= 1e3, "--temperature must be in [0, 1000], got ",
                  opt.temperature);
    check_sample_options(opt);
    return opt;
}

}  // namespace splatlm
