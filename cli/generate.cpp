// generate.cpp — `splatlm generate`: stream a continuation of --prompt from a checkpoint.
#include <cstdio>

#include "cli/commands.h"
#include "tensor/error.h"
#include "train/checkpoint.h"
#include "train/sampler.h"

namespace splatlm {

int cmd_generate(int argc, char** argv) {
    Args args("generate",
              {{"ckpt", true, "run directory (its newest checkpoint) or a step directory"},
               {"device", true, "cpu | cuda: where the model runs (default cpu)"},
               {"prompt", true, "text to continue (default: empty, which starts from a newline)"},
               {"tokens", true, "tokens to generate (default 200)"},
               {"temperature", true, "0 = greedy (default 0.8)"},
               {"top-k", true, "sample among the k most likely tokens (default 0 = all)"},
               {"top-p", true, "nucleus sampling mass (default 0.95)"},
               {"seed", true, "sampling seed (default 0)"},
               kNoVerifyOption},
              argc, argv, 2);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    SPLATLM_CHECK(args.has("ckpt"), "generate: --ckpt DIR is required");
    const int64_t tokens = args.get_int("tokens", 200);
    const double temperature = args.get_double("temperature", 0.8);
    SPLATLM_CHECK(tokens >= 0 && tokens <= 10'000'000, "generate: --tokens must be in [0, 10000000], got ", tokens);
    SPLATLM_CHECK(temperature >= 0 && temperature <= 1e3, "generate: --temperature must be in [0, 1000], got ", temperature);
    LoadedModel loaded = load_model_on(args.get("ckpt", ""), args.get("device", "cpu"), "generate", verify_flag(args));
    require_finite_weights(loaded, "generate");
    SampleOptions opt{.tokens = tokens,
                      .temperature = float(temperature),
                      .top_k = args.get_int("top-k", 0),
                      .top_p = float(args.get_double("top-p", 0.95)),
                      .seed = uint64_t(args.get_int("seed", 0))};
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
