// train.cpp — `splatlm train`: resolve the config (defaults → preset → file → flags) and run.
// SIGINT/SIGTERM ask the trainer to finish its step and checkpoint (exit 130/143); a second one
// ends the process at once (the last published checkpoint is whole: train/checkpoint.h).
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "nn/attention.h"
#include "tensor/error.h"
#include "train/checkpoint.h"
#include "train/train_config.h"
#include "train/trainer.h"

namespace splatlm {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signal) {
    if (g_stop_signal) ::_exit(128 + signal);  // the second Ctrl-C: no more waiting
    g_stop_signal = signal;
    static const char note[] = "\nfinishing the current step and writing a checkpoint (again to quit at once)\n";
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, note, sizeof note - 1);
}

int train_until_signal(const TrainConfig& config, const std::string& resume_dir, int64_t stop_at, Verify verify) {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    return run_training(config, resume_dir, stop_at, &g_stop_signal, verify);
}

}  // namespace

int cmd_train(int argc, char** argv) {
    std::vector<OptionSpec> options = train_options();
    options.push_back(kNoVerifyOption);
    Args args("train", options, argc, argv, 2);
    if (args.help()) {
        std::printf("%s\npresets:\n", args.usage().c_str());
        for (const Preset& p : presets()) std::printf("  %-6s %s\n", p.name, p.summary);
        std::printf("attention kinds:");
        for (const std::string& k : attention_kinds()) std::printf(" %s", k.c_str());
        std::printf("\nconfig files hold the same keys as `key = value` lines ('#' comments).\n");
        return 0;
    }
    const int64_t stop_at = args.get_int("stop-at", -1);
    const Verify verify = verify_flag(args);
    if (!args.has("resume")) return train_until_signal(resolve_train_config(args), "", stop_at, verify);
    // Resuming takes everything from the checkpoint; only the step budget may grow, and the run may
    // move to another device or another number of ranks (the dist keys; one process unless given).
    for (const auto& [name, _] : args.values())
        SPLATLM_CHECK(name == "resume" || name == "steps" || name == "stop-at" || name == "device" ||
                          name == "no-verify" || name.rfind("dist", 0) == 0,
                      "train: --", name,
                      " cannot change a resumed run (its config comes from the checkpoint; only --steps, --device and --dist* may)");
    const std::string dir = args.get("resume", "");
    TrainConfig config = load_model(dir, verify).config;
    config.steps = args.get_int("steps", config.steps);
    config.device = args.get("device", config.device);
    config.dist = args.get("dist", "none");
    config.dist_timeout = args.get_double("dist_timeout", config.dist_timeout);
    config.dist_bucket_mb = args.get_double("dist_bucket_mb", config.dist_bucket_mb);
    config.validate();
    return train_until_signal(config, dir, stop_at, verify);
}

}  // namespace splatlm
