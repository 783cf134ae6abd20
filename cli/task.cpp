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
    specs.push_back({"json", false, "end with one JSON line: the task, the model and the held-out accuracy"});
    return specs;
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
        if (!train_key && name != "seq" && name != "eval-examples" && name != "json") set_task_option(spec, name, value);
    }
    TrainConfig c = resolve_train_config(args);
    if (!args.has("out")) c.out = "runs/task-" + spec.kind;
    if (!args.has("sample_tokens")) c.sample_tokens = 0;  // no text samples: the model speaks task ids
    c.model.context = args.get_int("seq", c.model.context);
    c.task = task_spec_text(spec);
    c.validate();  // check_task: pairs that do not fit --seq, too few keys, ...
    const int64_t examples = args.get_int("eval-examples", 1000);
    SPLATLM_CHECK(examples >= 1, "--eval-examples must be at least 1, got ", examples);

    const auto start = std::chrono::steady_clock::now();
    if (const int code = run_training(c, ""); code != 0) return code;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    LoadedModel loaded = load_model(c.out);
    const TaskData data(spec, c.model.context, c.seed);
    const int64_t batches = (examples + c.batch - 1) / c.batch;
    const Evaluation e = data.evaluate(*loaded.model, c.batch, batches);
    if (args.flag("json")) {
        Json::Object line{{"task", c.task}, {"attention", c.model.attention}, {"layer_kinds", c.model.layer_kinds},
                          {"seq", c.model.context},
                          {"width", c.model.width}, {"layers", c.model.layers}, {"steps", c.steps},
                          {"seed", int64_t(c.seed)}, {"train_seconds", seconds}};
        line.insert(line.end(), e.fields.begin(), e.fields.end());
        std::printf("%s\n", Json(line).dump().c_str());
    } else {
        std::printf("held out (%s, %s attention): %s\n", c.task.c_str(), c.model.attention.c_str(), e.text.c_str());
    }
    return 0;
}

}  // namespace splatlm
