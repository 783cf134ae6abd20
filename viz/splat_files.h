// splat_files.h — the splat pictures of one checkpointed model and text, written as PNG files.
//
// This is what `splatlm viz` and the end of a training run call: tokenize the text, keep the
// first `context` tokens (a longer text is truncated, and the result says so), inspect one layer
// (viz/splat_inspect.h) and write, into `dir`:
//   splat_field.png           the splat field of every head (viz/splat_pictures.h)
//   splat_affinity.png        tokens × splats send / receive heatmaps   (unless field_only)
//   splat_attention.png       the implied token-to-token weights       (unless field_only)
// Throws splatlm::Error for a model without splat attention, a layer out of range or an empty text.
#pragma once
#include <string>
#include <vector>

#include "nn/gpt.h"
#include "train/tokenizer.h"

namespace splatlm::viz {

// A fixed sample for runs that name none: short enough to label every token.
inline constexpr const char* kDefaultSplatText = "In the beginning God created the heaven and the earth.";

// The first layer of the model with splat attention (0 for a splat model), or -1 if none has it.
int64_t first_splat_layer(GPT& model);

struct SplatPictureFiles {
    std::vector<std::string> paths;       // in the order listed above
    int64_t tokens_given = 0, tokens_used = 0;  // used < given: the text was truncated to the context
};

SplatPictureFiles write_splat_pictures(GPT& model, const Tokenizer& tokenizer, const std::string& text,
                                       int64_t layer, const std::string& dir, bool field_only = false);

}  // namespace splatlm::viz
