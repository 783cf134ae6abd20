// viz.cpp — `splatlm viz`: draw what a splat model's splats do with a text sample (PNG files):
// with --compare-ckpt first the implied attention next to a softmax model's, then the splat
// pictures, the hierarchy (L > 1), the decay half-lives (splat_decay) and the run's dashboard. A checkpoint without splat
// attention is an error (the pictures are all about splats), and a text longer than the context
// is truncated to its first `context` tokens with a note. Last, each splat's top writing tokens
// (viz/splat_top_tokens.h) on stdout.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "tensor/error.h"
#include "tensor/file_io.h"
#include "train/checkpoint.h"
#include "train/dashboard.h"
#include "viz/splat_files.h"
#include "viz/splat_hierarchy.h"
#include "viz/splat_top_tokens.h"

namespace splatlm {

namespace {

constexpr int64_t kTopTokens = 5;  // tokens listed per splat

// attention_compare.png: the splat model's implied attention beside the softmax model's.
std::string draw_comparison(LoadedModel& splat, const std::string& dir, const std::string& text, int64_t layer,
                            int64_t heads, const std::string& out) {
    SPLATLM_CHECK(has_checkpoint(dir), "viz: no checkpoint at ", dir, " (expected ", dir,
                  "/checkpoints/step-*/ or ", dir, "/model.safetensors)");
    LoadedModel softmax = load_model(dir);
    SPLATLM_CHECK(softmax.config.model.attention == "softmax", "viz: --compare-ckpt needs a model trained with "
                  "attention=softmax; ", dir, " uses attention=", softmax.config.model.attention);
    SPLATLM_CHECK(softmax.tokenizer->serialize() == splat.tokenizer->serialize(),
                  "viz: --compare-ckpt ", dir, " has a different tokenizer (", softmax.tokenizer->kind(), ", ",
                  softmax.tokenizer->vocab_size(), " tokens) from the splat model's (", splat.tokenizer->kind(), ", ",
                  splat.tokenizer->vocab_size(), " tokens): the same text would be different tokens");
    SPLATLM_CHECK(layer < softmax.config.model.layers, "viz: the softmax model has only ",
                  softmax.config.model.layers, " layers; layer ", layer, " cannot be compared");
    const int64_t context = std::min(splat.config.model.context, softmax.config.model.context);
    viz::SplatSample s = viz::inspect_text(*splat.model, viz::TextCodec::of(*splat.tokenizer), text, layer);
    viz::keep_heads(s, heads);
    std::vector<int32_t> ids = splat.tokenizer->encode(text);
    ids.resize(size_t(std::min<int64_t>(int64_t(ids.size()), context)));
    SPLATLM_CHECK(int64_t(ids.size()) == int64_t(s.labels.size()), "viz: the softmax model's context (", context,
                  ") is shorter than the splat model's; give a text of at most ", context, " tokens");
    viz::AttentionSample a = viz::inspect_softmax(*softmax.model, ids, s.labels, layer);
    if (heads > 0 && heads < int64_t(a.heads.size())) a.heads.resize(size_t(heads));
    const std::string path = out + "/attention_compare.png";
    viz::draw_attention_comparison(s, a, "Layer " + std::to_string(layer) + ": splat (left) vs softmax (right), " +
                                             std::to_string(ids.size()) + " tokens").save_png(path);
    return path;
}

}  // namespace

int cmd_viz(int argc, char** argv) {
    Args args("viz",
              {{"ckpt", true, "run directory (its newest checkpoint) or a step directory (attention=splat)"},
               {"text", true, "text sample to run (default: a fixed Genesis sentence)"},
               {"text-file", true, "read the text sample from this file instead"},
               {"layer", true, "layer to draw (default 0)"},
               {"heads", true, "draw only the first N heads (default: all)"},
               {"compare-ckpt", true, "also draw the implied attention next to this softmax model's (same tokenizer)"},
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
    SPLATLM_CHECK(has_checkpoint(ckpt), "viz: no checkpoint at ", ckpt, " (expected ", ckpt,
                  "/checkpoints/step-*/ or ", ckpt, "/model.safetensors)");
    LoadedModel loaded = load_model(ckpt);
    SPLATLM_CHECK(viz::first_splat_layer(*loaded.model) >= 0,
                  "viz: splat pictures need a model trained with attention=splat; ", ckpt, " uses attention=",
                  loaded.config.model.attention);
    const std::string out = args.get("out", "");
    std::filesystem::create_directories(out);
    const int64_t layer = args.get_int("layer", 0), heads = args.get_int("heads", 0);
    SPLATLM_CHECK(heads >= 0, "viz: --heads must be >= 1 (or 0 for all), got ", heads);
    std::vector<std::string> paths;  // the comparison first: the picture a newcomer should see first
    if (args.has("compare-ckpt")) paths.push_back(draw_comparison(loaded, args.get("compare-ckpt", ""), text, layer, heads, out));
    const viz::SplatPictureFiles files = viz::write_splat_pictures(
        *loaded.model, viz::TextCodec::of(*loaded.tokenizer), text, layer, out, false, heads);
    if (files.tokens_used < files.tokens_given)
        std::printf("note: the text has %lld tokens; drew the first %lld (the context length)\n",
                    (long long)files.tokens_given, (long long)files.tokens_used);
    paths.insert(paths.end(), files.paths.begin(), files.paths.end());
    const std::string where = "layer " + std::to_string(layer);
    const viz::SplatHierarchy hierarchy =
        viz::read_hierarchy(loaded.model->block(layer).attention(), loaded.config.model.splat_levels);
    if (hierarchy.levels > 1) {  // one level has no hierarchy to draw
        paths.push_back(out + "/splat_hierarchy.png");
        viz::draw_hierarchy(hierarchy, "Splat hierarchy, " + where).save_png(paths.back());
    }
    if (!hierarchy.log_decay.empty()) {
        paths.push_back(out + "/splat_decay.png");
        viz::draw_decay_strip(hierarchy, loaded.config.model.context, "Splat memory, " + where).save_png(paths.back());
    }
    const DashboardInput dash{loaded.model.get(), loaded.tokenizer.get(), &loaded.config, loaded.step, ckpt, text, layer};
    paths.push_back(write_dashboard(dash, out + "/dashboard.png"));
    for (const std::string& path : paths) std::printf("%s\n", path.c_str());
    viz::SplatSample sample = viz::inspect_text(*loaded.model, viz::TextCodec::of(*loaded.tokenizer), text, layer);
    viz::keep_heads(sample, heads);
    std::printf("top tokens per splat, %s (write shares summed over each token's occurrences):\n", where.c_str());
    for (const std::string& line : viz::top_token_lines(sample, kTopTokens)) std::printf("  %s\n", line.c_str());
    return 0;
}

}  // namespace splatlm
