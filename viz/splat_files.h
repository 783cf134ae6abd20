// splat_files.h — the splat pictures of one checkpointed model and text, written as PNG files.
//
// This is what `splatlm viz` and the end of a training run call: tokenize the text with the
// model's tokenizer (passed in as a TextCodec, viz/text_codec.h), keep the first `context` tokens
// (a longer text is truncated, and the result says so), inspect one layer (viz/splat_inspect.h)
// and write, into `dir`:
//   splat_field.png           the splat field of every head (viz/splat_pictures.h)
//   splat_affinity.png        tokens × splats send / receive heatmaps   (unless field_only)
//   splat_attention.png       the implied token-to-token weights       (unless field_only)
//   splat_routing.png         which splats the tokens route to         (unless field_only; top-p layers only)
// Throws splatlm::Error for a model without splat attention, a layer out of range or an empty text.
#pragma once
#include <string>
#include <vector>

#include "nn/gpt.h"
#include "splat/splat_lifecycle.h"
#include "viz/splat_pictures.h"
#include "viz/text_codec.h"

namespace splatlm::viz {

// A fixed sample for runs that name none: short enough to label every token.
inline constexpr const char* kDefaultSplatText = "In the beginning God created the heaven and the earth.";

// The first layer of the model with splat attention (0 for a splat model), or -1 if none has it.
int64_t first_splat_layer(GPT& model);

struct SplatPictureFiles {
    std::vector<std::string> paths;       // in the order listed above
    int64_t tokens_given = 0, tokens_used = 0;  // used < given: the text was truncated to the context
};

// Tokenizes `text`, keeps the first `context` tokens and inspects `layer` (viz/splat_inspect.h).
// tokens_given (optional) receives the token count before truncation.
SplatSample inspect_text(GPT& model, const TextCodec& codec, const std::string& text, int64_t layer,
                         int64_t* tokens_given = nullptr);
// Keeps the first `heads` heads of a sample (0 or more than it has: all).
void keep_heads(SplatSample& sample, int64_t heads);

// heads > 0: draw only the first `heads` heads (smaller pictures, for documents).
SplatPictureFiles write_splat_pictures(GPT& model, const TextCodec& codec, const std::string& text,
                                       int64_t layer, const std::string& dir, bool field_only = false,
                                       int64_t heads = 0);

// Numbered splat-field frames of a training run (`train --viz-every N`): dir/00001.png, 00002.png,
// … for `ffmpeg -i dir/%05d.png`. Each frame draws the first splat layer on the same text. The
// first frame fixes each head's plane (the PCA plane of that frame's keys and queries); later
// frames project onto that same plane, and the drawn box only ever grows (when a token or centre
// would leave it), so the axes hold still and the splats visibly move. Numbering continues after
// frames already in dir (a resumed run), whose plane is then fixed afresh by its first frame.
// Splat events (splat/splat_lifecycle.h) given to remember() are marked on the next frame, on the
// splats they touched, when they happened in the drawn layer (events of other layers are dropped).
class SplatFrames {
  public:
    explicit SplatFrames(std::string dir, std::string text = kDefaultSplatText);
    void remember(const std::vector<SplatEvent>& events);
    // Draws the next frame, titled with `step`, with the events remembered since the last one;
    // returns its path. Throws for a model without splats.
    std::string write(GPT& model, const TextCodec& codec, int64_t step);

  private:
    std::string frame_path(int64_t number) const;
    std::string dir_, text_;
    std::vector<FieldView> views_;  // one per head, fixed by the first frame
    std::vector<SplatEvent> events_;  // since the last frame
    int64_t next_ = 1;
};

}  // namespace splatlm::viz
