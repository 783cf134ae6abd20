// cli_viz.cpp — `splatlm viz`: draw what a splat model's splats do with a text sample (PNG files).
// A checkpoint without splat attention is an error (the pictures are all about splats), and a
// text longer than the context is truncated to its first `context` tokens with a note.
#include <cstdio>
#include <filesystem>

#include "tensor/error.h"
#include "tensor/file_io.h"
#include "train/checkpoint.h"
#include "train/commands.h"
#include "viz/splat_files.h"

namespace splatlm {

int cmd_viz(int argc, char** argv) {
    Args args("viz",
              {{"ckpt", true, "run directory holding model.safetensors (attention=splat)"},
               {"text", true, "text sample to run (default: a fixed Genesis sentence)"},
               {"text-file", true, "read the text sample from this file instead"},
               {"layer", true, "layer to draw (default 0)"},
               {"out", true, "directory for the PNG files (created if missing)"}},
              argc, argv, 2);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    SPLATLM_CHECK(args.has("ckpt"), "viz: --ckpt DIR is required");
    SPLATLM_CHECK(args.has("out"), "viz: --out DIR is required");
    SPLATLM_CHECK(!(args.has("text") && args.has("text-file")), "viz: give --text or --text-file, not both");
    const std::string text = args.has("text-file") ? read_file(args.get("text-file", ""))
                                                   : args.get("text", viz::kDefaultSplatText);
    SPLATLM_CHECK(!text.empty(), "viz: the text sample is empty");
    const std::string ckpt = args.get("ckpt", "");
    SPLATLM_CHECK(std::filesystem::exists(ckpt + "/model.safetensors"), "viz: no checkpoint at ", ckpt,
                  " (expected ", ckpt, "/model.safetensors)");
    LoadedModel loaded = load_model(ckpt);
    SPLATLM_CHECK(viz::first_splat_layer(*loaded.model) >= 0,
                  "viz: splat pictures need a model trained with attention=splat; ", ckpt, " uses attention=",
                  loaded.config.model.attention);
    const std::string out = args.get("out", "");
    std::filesystem::create_directories(out);
    const viz::SplatPictureFiles files =
        viz::write_splat_pictures(*loaded.model, *loaded.tokenizer, text, args.get_int("layer", 0), out);
    if (files.tokens_used < files.tokens_given)
        std::printf("note: the text has %lld tokens; drew the first %lld (the context length)\n",
                    (long long)files.tokens_given, (long long)files.tokens_used);
    for (const std::string& path : files.paths) std::printf("%s\n", path.c_str());
    return 0;
}

}  // namespace splatlm
