// info.cpp — `splatlm info`: what a checkpoint holds (config, step, parameter counts).
#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "tensor/error.h"
#include "train/checkpoint.h"

namespace splatlm {

int cmd_info(int argc, char** argv) {
    Args args("info", {{"ckpt", true, "run directory (its newest checkpoint) or a step directory"}, kNoVerifyOption},
              argc, argv, 2);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    SPLATLM_CHECK(args.has("ckpt"), "info: --ckpt DIR is required");
    LoadedModel loaded = load_model(args.get("ckpt", ""), verify_flag(args));
    std::printf("checkpoint %s at step %lld\n", loaded.dir.c_str(), (long long)loaded.step);
    std::printf("tokenizer: %s, %d tokens\nconfig:\n", loaded.tokenizer->kind().c_str(), loaded.tokenizer->vocab_size());
    const Json config = loaded.config.to_json();
    for (const auto& [key, value] : config.as_object())
        std::printf("  %-16s %s\n", key.c_str(), value.is_string() ? value.as_string().c_str() : value.dump().c_str());
    // Parameters grouped by their first name component (wte, wpe, blocks.N, ln_f).
    std::map<std::string, int64_t> groups;
    for (const auto& [name, t] : loaded.model->named_parameters()) {
        const size_t dot = name.find('.', name.rfind("blocks.", 0) == 0 ? 7 : 0);
        groups[name.substr(0, dot)] += t.numel();
    }
    std::printf("parameters:\n");
    for (const auto& [group, n] : groups) std::printf("  %-16s %lld\n", group.c_str(), (long long)n);
    std::printf("  %-16s %lld\n", "total", (long long)loaded.model->parameter_count());
    const std::string broken = non_finite_weights(*loaded.model);
    if (broken.empty()) return 0;
    std::fprintf(stderr, "splatlm info: error: %s\n", broken.c_str());
    return 1;
}

}  // namespace splatlm
