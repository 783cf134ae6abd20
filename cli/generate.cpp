// generate.cpp — `splatlm generate`: stream a continuation of --prompt from a checkpoint.
#include <cstdio>

#include "cli/commands.h"
#include "cli/sampling_flags.h"
#include "tensor/error.h"
#include "train/checkpoint.h"
#include "train/sampler.h"

namespace splatlm {

int cmd_generate(int argc, char** argv) {
    std::vector<OptionSpec> flags = {{"ckpt", true, "run directory (its newest checkpoint) or a step directory"},
                                     {"device", true, "cpu | cuda: where the model runs (default cpu)"},
                                     {"prompt", true, "text to continue (default: empty, which starts from a newline)"},
                                     kNoVerifyOption};
    for (OptionSpec& s : sampling_flags("tokens to generate (default 200)")) flags.push_back(s);
    Args args("generate", flags, argc, argv, 2);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    SPLATLM_CHECK(args.has("ckpt"), "generate: --ckpt DIR is required");
    const SampleOptions opt = read_sampling_flags(args);
    LoadedModel loaded = load_model_on(args.get("ckpt", ""), args.get("device", "cpu"), "generate", verify_flag(args));
    require_finite_weights(loaded, "generate");
    const std::string prompt = args.get("prompt", "");
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    generate_text(*loaded.model, *loaded.tokenizer, prompt, opt, [](const std::string& text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    });
    std::printf("\n");
    return 0;
}

}  // namespace splatlm
