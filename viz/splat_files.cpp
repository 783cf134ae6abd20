#include "viz/splat_files.h"

#include <algorithm>

#include "splat/splat_attention.h"
#include "tensor/error.h"
#include "viz/splat_pictures.h"

namespace splatlm::viz {

int64_t first_splat_layer(GPT& model) {
    for (int64_t i = 0; i < model.config().layers; ++i)
        if (dynamic_cast<SplatAttention*>(&model.block(i).attention())) return i;
    return -1;
}

SplatPictureFiles write_splat_pictures(GPT& model, const Tokenizer& tokenizer, const std::string& text,
                                       int64_t layer, const std::string& dir, bool field_only) {
    SPLATLM_CHECK(!text.empty(), "splat pictures: the text sample is empty");
    std::vector<int32_t> ids = tokenizer.encode(text);
    SplatPictureFiles files;
    files.tokens_given = int64_t(ids.size());
    ids.resize(size_t(std::min<int64_t>(files.tokens_given, model.config().context)));
    files.tokens_used = int64_t(ids.size());
    std::vector<std::string> labels;
    for (int32_t id : ids) labels.push_back(token_label(tokenizer.token_text(id)));
    const SplatSample sample = inspect_splats(model, ids, std::move(labels), layer);

    const std::string where = "layer " + std::to_string(layer) + ", " + std::to_string(files.tokens_used) +
                              (files.tokens_used == 1 ? " token" : " tokens");
    auto save = [&](const Canvas& picture, const std::string& name) {
        files.paths.push_back(dir + "/" + name);
        picture.save_png(files.paths.back());
    };
    save(draw_splat_field(sample, "Splat field, " + where), "splat_field.png");
    if (field_only) return files;
    const std::string prefix = files.tokens_used > kMaxHeatmapTokens
                                   ? ", first " + std::to_string(kMaxHeatmapTokens) + " tokens" : "";
    save(draw_splat_affinities(sample, "Token-splat affinities, " + where + prefix), "splat_affinity.png");
    save(draw_effective_attention(sample, "Attention implied by the splats, " + where + prefix),
         "splat_attention.png");
    return files;
}

}  // namespace splatlm::viz
