// task.cpp — `splatlm task KIND`: train a model on a synthetic yardstick (train/tasks.h) with the
// same trainer, checkpoints and metrics as `splatlm train`, then report held-out answer accuracy.
//   splatlm task mqar --seq 64 --pairs 4 --attention softmax --steps 600 --json
// Every `train` key is an option too (except --context: use --seq). docs/TASKS.md has the protocol.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "cli/commands.h"
#include "tensor/error.h"
#include "tensor/file_io.h"
#include "train/checkpoint.h"
#include "train/task_data.h"
#include "train/task_plot.h"
#include "train/train_config.h"
#include "train/trainer.h"

namespace splatlm {

namespace {

std::vector<OptionSpec> task_command_options() {
    std::vector<OptionSpec> specs;
    for (const OptionSpec& s : train_options())
        if (s.name != "task" && s.name != "context" && s.name != "resume" && s.name != "tokenizer") specs.push_back(s);
    specs.push_back({"seq", true, "sequence length T the model reads (its context; default 64)"});
    std::set<std::string> names;
    for (const std::string& kind : task_kinds())
        for (const std::string& n : task_option_names(kind)) names.insert(n);
    for (const std::string& n : names) specs.push_back({n, true, "task option (see the kinds below)"});
    specs.push_back({"eval-examples", true, "held-out examples in the final report (default 1000)"});
    specs.push_back({"eval-seq", true, "comma-separated lengths of the held-out examples (default --seq; longer needs --positions none)"});
    specs.push_back({"eval-depths", true, "passkey: comma-separated depths in [0, 1] to report one by one (default --depth)"});
    specs.push_back({"eval-only", false, "skip training: evaluate the checkpoint in --out (trained with the same task options)"});
    specs.push_back({"json", false, "end with one JSON line per evaluation: the task, the model and the held-out accuracy"});
    return specs;
}

// The spec of the held-out examples at one passkey depth: the trained shape alone, without the mqar mix.
TaskSpec held_out_spec(const TaskSpec& spec, double depth) {
    TaskSpec at = spec;
    at.depth = depth;
    at.mix.clear();
    return at;
}

}  // namespace

int cmd_task(int argc, char** argv) {
    if (argc >= 3 && std::string(argv[2]) == "plot") {  // splatlm task plot RESULTS.jsonl --out PNG
        SPLATLM_CHECK(argc == 6 && std::string(argv[4]) == "--out", "usage: splatlm task plot RESULTS.jsonl --out PNG");
        draw_mqar_accuracy(read_file(argv[3]), argv[5]);
        std::printf("%s\n", argv[5]);
        return 0;
    }
    const std::vector<OptionSpec> specs = task_command_options();
    const bool no_kind = argc < 3 || std::string(argv[2]).rfind("--", 0) == 0;
    Args args("task", specs, argc, argv, no_kind ? 2 : 3);
    if (args.help() || no_kind) {
        std::printf("usage: splatlm task KIND [options]   |   splatlm task plot RESULTS.jsonl --out PNG\nkinds and their options:\n");
        for (const std::string& kind : task_kinds()) {
            std::printf("  %-15s", kind.c_str());
            for (const std::string& n : task_option_names(kind)) std::printf(" --%s", n.c_str());
            std::printf("\n");
        }
        std::printf("%s", args.usage().c_str());
        return args.help() ? 0 : 2;
    }
    TaskSpec spec;
    spec.kind = argv[2];
    task_option_names(spec.kind);  // "unknown task '...'" before anything else
    const std::vector<OptionSpec> train_specs = train_options();
    for (const auto& [name, value] : args.values()) {
        const bool train_key = std::any_of(train_specs.begin(), train_specs.end(), [&](const OptionSpec& s) { return s.name == name; });
        if (!train_key && name != "seq" && !name.starts_with("eval-") && name != "json") set_task_option(spec, name, value);
    }
    TrainConfig c = resolve_train_config(args);
    if (!args.has("out")) c.out = "runs/task-" + spec.kind;
    if (!args.has("sample_tokens")) c.sample_tokens = 0;  // no text samples: the model speaks task ids
    c.model.context = args.get_int("seq", c.model.context);
    c.task = task_spec_text(spec);
    c.validate();  // check_task: pairs that do not fit --seq, too few keys, ...
    const int64_t examples = args.get_int("eval-examples", 1000);
    SPLATLM_CHECK(examples >= 1, "--eval-examples must be at least 1, got ", examples);

    std::vector<int64_t> lengths;
    for (const std::string& item : split_commas(args.get("eval-seq", std::to_string(c.model.context))))
        lengths.push_back(parse_int(item, "--eval-seq"));
    std::vector<double> depths;
    if (args.has("eval-depths"))
        for (const std::string& item : split_commas(args.get("eval-depths", "")))
            depths.push_back(parse_double(item, "--eval-depths"));
    SPLATLM_CHECK(depths.empty() || spec.kind == "passkey", "--eval-depths is an option of the passkey task");
    if (depths.empty()) depths.push_back(spec.depth);
    for (const int64_t length : lengths) {
        SPLATLM_CHECK(length >= 1 && length <= (1 << 20), "--eval-seq ", length, " must be in [1, 1048576]");
        SPLATLM_CHECK(args.flag("eval-only") || length == c.model.context || c.model.positions == "none",
                      "--eval-seq ", length, " differs from --seq ", c.model.context,
                      ", which a model with learned positions cannot read (add --positions none)");
        for (const double depth : depths) {
            check_task(held_out_spec(spec, depth), length);  // a length too short for the task, a depth outside [0, 1]
        }
    }

    const auto start = std::chrono::steady_clock::now();
    if (!args.flag("eval-only"))
        if (const int code = run_training(c, ""); code != 0) return code;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    LoadedModel loaded = load_model(c.out);
    const TrainConfig trained = loaded.config;  // with --eval-only, what the checkpoint was trained with
    SPLATLM_CHECK(trained.task == c.task, "--eval-only: ", c.out, " was trained on '", loaded.config.task,
                  "', not '", c.task, "'");
    for (const int64_t length : lengths) {
        set_context(loaded, length, "--eval-seq");
        // About as many tokens per batch as in training, at least one example.
        const int64_t batch = std::max<int64_t>(1, trained.batch * trained.model.context / length);
        for (const double depth : depths) {
            const TaskData data(held_out_spec(spec, depth), length, trained.seed);
            const Evaluation e = data.evaluate(*loaded.model, batch, (examples + batch - 1) / batch);
            if (args.flag("json")) {
                const GPTConfig& m = trained.model;
                Json::Object line{{"task", c.task}, {"attention", m.attention}, {"layer_kinds", m.layer_kinds},
                                  {"short_conv", m.short_conv}, {"positions", m.positions},
                                  {"splat_token_decay", m.splat_token_decay}, {"splats", m.splats},
                                  {"splat_delta_rank", m.splat_delta_rank}, {"seq", m.context},
                                  {"eval_seq", length}, {"depth", depth}, {"width", m.width}, {"layers", m.layers},
                                  {"steps", trained.steps}, {"seed", int64_t(trained.seed)}, {"train_seconds", seconds}};
                line.insert(line.end(), e.fields.begin(), e.fields.end());
                std::printf("%s\n", Json(line).dump().c_str());
            } else {
                std::printf("held out (%s, %s attention, %lld tokens, depth %g): %s\n", c.task.c_str(),
                            trained.model.attention.c_str(), (long long)length, depth, e.text.c_str());
            }
            std::fflush(stdout);
        }
    }
    return 0;
}

}  // namespace splatlm
