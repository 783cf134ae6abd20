// commands.cpp — the table of bin/splatlm subcommands, in the order `splatlm --help` lists them.
#include "cli/commands.h"

namespace splatlm {

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"train", "train a model (presets, config files, --resume)", cmd_train},
        {"generate", "continue a prompt with a trained model", cmd_generate},
        {"chat", "talk to a trained model: turns carried in its cache, /help for commands", cmd_chat},
        {"serve", "an HTTP server for a model: completions, streaming, sessions, metrics", cmd_serve},
        {"eval", "validation loss and bits per byte of a checkpoint", cmd_eval},
        {"task", "train on a synthetic yardstick (mqar, copy, induction, passkey, ...) and report accuracy", cmd_task},
        {"info", "config and parameter counts of a checkpoint", cmd_info},
        {"viz", "pictures of a splat model's splats on a text sample", cmd_viz},
        {"bench", "benchmarks (splatlm bench --help lists them)", cmd_bench},
        {"doctor", "OpenMP threads, CUDA support, the GPUs and a self-test on each", cmd_doctor},
    };
    return table;
}

}  // namespace splatlm
