// splat_files.cpp — text → tokens → splat pictures on disk: write_splat_pictures and the
// numbered frames of SplatFrames (viz/splat_files.h).
#include "viz/splat_files.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "splat/splat_attention.h"
#include "tensor/error.h"
#include "viz/splat_pictures.h"

namespace splatlm::viz {

int64_t first_splat_layer(GPT& model) {
    for (int64_t i = 0; i < model.config().layers; ++i)
        if (dynamic_cast<SplatAttention*>(&model.block(i).attention())) return i;
    return -1;
}

SplatSample inspect_text(GPT& model, const TextCodec& codec, const std::string& text, int64_t layer,
                         int64_t* tokens_given) {
    SPLATLM_CHECK(!text.empty(), "splat pictures: the text sample is empty");
    std::vector<int32_t> ids = codec.encode(text);
    if (tokens_given) *tokens_given = int64_t(ids.size());
    ids.resize(size_t(std::min<int64_t>(int64_t(ids.size()), model.config().context)));
    std::vector<std::string> labels;
    for (int32_t id : ids) labels.push_back(token_label(codec.token_text(id)));
    return inspect_splats(model, ids, std::move(labels), layer);
}

void keep_heads(SplatSample& sample, int64_t heads) {
    if (heads > 0 && heads < int64_t(sample.heads.size())) sample.heads.resize(size_t(heads));
}

SplatPictureFiles write_splat_pictures(GPT& model, const TextCodec& codec, const std::string& text,
                                       int64_t layer, const std::string& dir, bool field_only, int64_t heads) {
    SplatPictureFiles files;
    SplatSample sample = inspect_text(model, codec, text, layer, &files.tokens_given);
    keep_heads(sample, heads);
    files.tokens_used = int64_t(sample.labels.size());

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
    if (sample.heads[0].top > 0) save(draw_routing(sample, "Top-p routing, " + where), "splat_routing.png");
    return files;
}

}  // namespace splatlm::viz

namespace splatlm::viz {

SplatFrames::SplatFrames(std::string dir, std::string text) : dir_(std::move(dir)), text_(std::move(text)) {
    std::filesystem::create_directories(dir_);
    while (std::filesystem::exists(frame_path(next_))) ++next_;  // a resumed run continues the numbering
}

std::string SplatFrames::frame_path(int64_t number) const {
    char name[32];
    std::snprintf(name, sizeof name, "/%05lld.png", (long long)number);
    return dir_ + name;
}

void SplatFrames::remember(const std::vector<SplatEvent>& events) {
    events_.insert(events_.end(), events.begin(), events.end());
}

namespace {

// The word a frame writes under a splat an event touched.
std::string event_word(const std::string& kind) {
    if (kind == "birth") return "born";
    if (kind == "death") return "died";
    if (kind == "mitosis") return "split";
    if (kind == "merge") return "merged";
    if (kind == "rescue") return "rescued";
    throw Error("splat frames: unknown splat event kind '" + kind + "'");
}

}  // namespace

std::string SplatFrames::write(GPT& model, const TextCodec& codec, int64_t step) {
    const int64_t layer = first_splat_layer(model);
    SPLATLM_CHECK(layer >= 0, "splat frames: the model has no splat attention");
    const SplatSample sample = inspect_text(model, codec, text_, layer);
    if (views_.empty())  // the first frame fixes each head's plane
        for (const SplatHead& head : sample.heads) views_.push_back(fit_field_view(head));
    else  // same plane; the box only grows, so the axes change only when something would leave
        for (size_t h = 0; h < views_.size(); ++h) {
            widen(views_[h], fit_field_view(sample.heads[h], &views_[h].plane));
            views_[h].fixed_plane = true;  // the caption says the plane is the first frame's
        }
    std::vector<FieldMark> marks;
    for (const SplatEvent& e : events_)
        if (e.layer == layer)
            for (int64_t splat : e.splats) marks.push_back({e.head, splat, event_word(e.kind)});
    events_.clear();
    const std::string path = frame_path(next_++);
    draw_splat_field(sample, "Splat field, layer " + std::to_string(layer) + ", step " + std::to_string(step), &views_,
                     marks)
        .save_png(path);
    return path;
}

}  // namespace splatlm::viz
