// eval.cpp — `splatlm eval`: validation loss and bits per byte of a checkpoint on a text file
// (its validation split: the last val_fraction of the file, as in training).
#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "tensor/error.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/memory_budget.h"

namespace splatlm {

int cmd_eval(int argc, char** argv) {
    Args args("eval",
              {{"ckpt", true, "run directory (its newest checkpoint) or a step directory"},
               {"device", true, "cpu | cuda: where the model runs (default cpu)"},
               {"data", true, "text file (default: the file the model was trained on)"},
               {"batches", true, "validation batches to use (default 0 = all)"},
               {"json", false, "print one JSON line with val_loss and val_bpb"},
               kNoVerifyOption},
              argc, argv, 2);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    SPLATLM_CHECK(args.has("ckpt"), "eval: --ckpt DIR is required");
    const int64_t batches = args.get_int("batches", 0);
    SPLATLM_CHECK(batches >= 0, "eval: --batches must be >= 0 (0 = all), got ", batches);
    LoadedModel loaded = load_model_on(args.get("ckpt", ""), args.get("device", "cpu"), "eval", verify_flag(args));
    const TrainConfig& c = loaded.config;
    require_finite_weights(loaded, "eval");
    check_memory_budget(c, MemoryUse::evaluate, "eval");
    const std::string path = args.get("data", c.data);
    Dataset data(read_corpus(path, c.val_fraction), *loaded.tokenizer, static_cast<int>(c.model.context));
    EvalResult r = evaluate(*loaded.model, data, c.batch, batches);
    SPLATLM_CHECK(std::isfinite(r.loss), "eval: the validation loss of ", args.get("ckpt", ""), " is ", r.loss,
                  " (the weights overflow on this text)");
    if (args.flag("json"))
        std::printf("{\"val_loss\":%.6f,\"val_bpb\":%.6f,\"windows\":%lld,\"step\":%lld}\n", r.loss, r.bpb,
                    (long long)r.windows, (long long)loaded.step);
    else
        std::printf("val_loss %.4f  val_bpb %.4f  (%lld windows of %lld tokens from %s, step %lld)\n", r.loss, r.bpb,
                    (long long)r.windows, (long long)c.model.context, path.c_str(), (long long)loaded.step);
    return 0;
}

}  // namespace splatlm
