// train.cpp — `splatlm train`: resolve the config (defaults → preset → file → flags) and run.
#include <cstdio>

#include "cli/commands.h"
#include "nn/attention.h"
#include "tensor/error.h"
#include "train/checkpoint.h"
#include "train/train_config.h"
#include "train/trainer.h"

namespace splatlm {

int cmd_train(int argc, char** argv) {
    Args args("train", train_options(), argc, argv, 2);
    if (args.help()) {
        std::printf("%s\npresets:\n", args.usage().c_str());
        for (const Preset& p : presets()) std::printf("  %-6s %s\n", p.name, p.summary);
        std::printf("attention kinds:");
        for (const std::string& k : attention_kinds()) std::printf(" %s", k.c_str());
        std::printf("\nconfig files hold the same keys as `key = value` lines ('#' comments).\n");
        return 0;
    }
    const int64_t stop_at = args.get_int("stop-at", -1);
    if (!args.has("resume")) return run_training(resolve_train_config(args), "", stop_at);
    // Resuming takes everything from the checkpoint; only the step budget may grow, and the run may
    // move to another device or another number of ranks (the dist keys; one process unless given).
    for (const auto& [name, _] : args.values())
        SPLATLM_CHECK(name == "resume" || name == "steps" || name == "stop-at" || name == "device" ||
                          name.rfind("dist", 0) == 0,
                      "train: --", name,
                      " cannot change a resumed run (its config comes from the checkpoint; only --steps, --device and --dist* may)");
    const std::string dir = args.get("resume", "");
    TrainConfig config = load_model(dir).config;
    config.steps = args.get_int("steps", config.steps);
    config.device = args.get("device", config.device);
    config.dist = args.get("dist", "none");
    config.dist_timeout = args.get_double("dist_timeout", config.dist_timeout);
    config.dist_bucket_mb = args.get_double("dist_bucket_mb", config.dist_bucket_mb);
    config.validate();
    return run_training(config, dir, stop_at);
}

}  // namespace splatlm
