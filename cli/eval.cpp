// eval.cpp — `splatlm eval`: validation loss and bits per byte of a checkpoint on a text file
// (its validation split: the last val_fraction of the file, as in training).
#include <cstdio>

#include "cli/commands.h"
#include "tensor/error.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"

namespace splatlm {

int cmd_eval(int argc, char** argv) {
    Args args("eval",
              {{"ckpt", true, "run directory holding model.safetensors"},
               {"device", true, "cpu | cuda: where the model runs (default cpu)"},
               {"data", true, "text file (default: the file the model was trained on)"},
               {"batches", true, "validation batches to use (default 0 = all)"},
               {"json", false, "print one JSON line with val_loss and val_bpb"}},
              argc, argv, 2);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    SPLATLM_CHECK(args.has("ckpt"), "eval: --ckpt DIR is required");
    LoadedModel loaded = load_model_on(args.get("ckpt", ""), args.get("device", "cpu"), "eval");
    const TrainConfig& c = loaded.config;
    const std::string path = args.get("data", c.data);
    Dataset data(read_corpus(path, c.val_fraction), *loaded.tokenizer, static_cast<int>(c.model.context));
    EvalResult r = evaluate(*loaded.model, data, c.batch, args.get_int("batches", 0));
    if (args.flag("json"))
        std::printf("{\"val_loss\":%.6f,\"val_bpb\":%.6f,\"windows\":%lld,\"step\":%lld}\n", r.loss, r.bpb,
                    (long long)r.windows, (long long)loaded.step);
    else
        std::printf("val_loss %.4f  val_bpb %.4f  (%lld windows of %lld tokens from %s, step %lld)\n", r.loss, r.bpb,
                    (long long)r.windows, (long long)c.model.context, path.c_str(), (long long)loaded.step);
    return 0;
}

}  // namespace splatlm
