// splat_adaptation.cpp — splat placement, health logs and adaptation events for the trainer (splat_adaptation.h).
#include "train/splat_adaptation.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "splat/splat_attention.h"
#include "splat/splat_init.h"
#include "tensor/error.h"
#include "tensor/file_io.h"
#include "tensor/ops.h"
#include "train/batch.h"
#include "train/host_model.h"

namespace splatlm {

void place_splats_from_data(GPT& model, const TrainingData& data, const TrainConfig& c, bool say) {
    if (c.splat_init == "random") return;
    Rng rng(c.seed ^ 0x1417000000000000ull);  // its own windows: training's data stream is not advanced
    const int64_t B = c.batch, T = c.model.context;
    const Batch batch = data.sample(Split::train, B, T, rng);
    const int64_t layers = initialise_splats(model, batch.inputs, c.splat_init, c.seed);
    if (say)
        std::printf("splat_init %s: placed the splats of %lld layers on the keys of %lld training tokens\n",
                    c.splat_init.c_str(), (long long)layers, (long long)(B * T));
}

void reset_moments(const FlatParameters& flat, AdamW& adam, const Tensor& param, int64_t first, int64_t count) {
    for (const FlatParameters::Slot& slot : flat.slots())
        if (slot.tensor.data() == param.data()) {
            SPLATLM_CHECK(first >= 0 && first + count <= slot.tensor.numel(), "reset_moments: ", slot.name, " has ",
                          slot.tensor.numel(), " elements, not ", first + count);
            for (Tensor* moments : {&adam.m(), &adam.v()}) {  // (where they live: CPU or GPU)
                Tensor part = raw::slice(*moments, 0, slot.offset + first, slot.offset + first + count);
                raw::copy_into(part, Tensor::zeros({count}, part.device()));
            }
            return;
        }
    fail("reset_moments: the parameter is not in the flat buffers");
}

void reset_slot_moments(const FlatParameters& flat, AdamW& adam, const SplatAttention& attn, int64_t head, int64_t splat) {
    for (const SlotSlice& s : slot_parameters(attn, head, splat)) reset_moments(flat, adam, s.param, s.first, s.count);
}

namespace {

std::string log_path(const std::string& dir, const char* name) { return dir + "/" + name; }

// A log is trimmed on resume only when it exists (a run from before the logs starts them afresh).
int64_t keep_through(const std::string& path, int64_t resume_step) {
    return resume_step >= 0 && std::filesystem::exists(path) ? resume_step : -1;
}

Json number_or_null(double x) { return std::isfinite(x) ? Json(x) : Json(); }

Json health_line(int64_t step, const std::vector<LayerHealth>& health) {
    Json::Array layers;
    for (const LayerHealth& l : health) {
        Json::Array heads;
        for (const HeadHealth& h : l.heads) {
            Json::Array alive, write, read, scale, half_life, age, streak;
            for (const SplatHealth& s : h.splats)
                alive.push_back(int64_t(s.alive)), write.push_back(s.write_share), read.push_back(s.read_share),
                    scale.push_back(s.scale),
                    half_life.push_back(number_or_null(s.half_life)), age.push_back(s.age), streak.push_back(s.dead_streak);
            heads.push_back(Json::Object{{"alive", alive}, {"write", write}, {"read", read}, {"scale", scale}, {"half_life", half_life},
                                         {"age", age}, {"dead_streak", streak}, {"collapsed_pairs", h.collapsed_pairs},
                                         {"uncovered_keys", h.uncovered_keys},
                                         {"uncovered_queries", h.uncovered_queries}, {"keys", h.keys}});
        }
        layers.push_back(Json::Object{{"layer", l.layer}, {"heads", heads}});
    }
    return Json::Object{{"step", step}, {"layers", layers}};
}

Json event_line(const SplatEvent& e) {
    Json::Array splats;
    for (int64_t j : e.splats) splats.push_back(j);
    Json::Object numbers;
    for (const auto& [name, x] : e.numbers) numbers.emplace_back(name, number_or_null(x));
    return Json::Object{{"step", e.step}, {"layer", e.layer}, {"head", e.head}, {"splats", splats}, {"kind", e.kind},
                        {"reason", e.reason}, {"numbers", numbers}};
}

std::vector<Json> lines_of(const std::string& path) {
    std::vector<Json> out;
    if (!std::filesystem::exists(path)) return out;
    std::istringstream in(read_file(path));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(Json::parse(line));
    return out;
}

}  // namespace

SplatLife::SplatLife(const TrainConfig& c, const std::string& dir, int64_t resume_step, const TrainingData& data)
    : config_(c),
      policy_(parse_life_policy(c.splat_adapt)),
      tracker_(c.dead_evals),
      health_log_(log_path(dir, "splat_health.jsonl"), keep_through(log_path(dir, "splat_health.jsonl"), resume_step)),
      event_log_(log_path(dir, "splat_events.jsonl"), keep_through(log_path(dir, "splat_events.jsonl"), resume_step)) {
    Rng rng(c.seed ^ 0x4EA1000000000000ull);
    const int64_t B = std::min<int64_t>(c.batch, 4), T = c.model.context;
    windows_ = data.sample(Split::train, B, T, rng).inputs;
    if (resume_step >= 0) restore(dir, resume_step);
}

// The tracker as it was after step resume_step: every logged health check replayed, then the
// events since the last check (a rescue follows the check of its step).
void SplatLife::restore(const std::string& dir, int64_t resume_step) {
    int64_t last = -1;
    for (const Json& line : lines_of(log_path(dir, "splat_health.jsonl"))) {
        last = line.at("step").as_int();
        for (const Json& l : line.at("layers").as_array()) {
            const Json::Array& heads = l.at("heads").as_array();
            for (size_t h = 0; h < heads.size(); ++h)
                for (size_t j = 0; j < heads[h].at("read").as_array().size(); ++j) {
                    const Json& hd = heads[h];
                    const Json& hl = hd.at("half_life").at(j);
                    const SplatHealth s{.alive = !hd.contains("alive") || hd.at("alive").at(j).as_int() != 0,
                                        .write_share = hd.at("write").at(j).as_double(), .read_share = hd.at("read").at(j).as_double(),
                                        .scale = hd.at("scale").at(j).as_double(), .half_life = hl.is_null() ? INFINITY : hl.as_double(),
                                        .age = hd.at("age").at(j).as_int(), .dead_streak = hd.at("dead_streak").at(j).as_int()};
                    tracker_.restore({l.at("layer").as_int(), int64_t(h), int64_t(j)}, s, last);
                }
        }
    }
    for (const Json& e : lines_of(log_path(dir, "splat_events.jsonl")))
        if (e.at("step").as_int() >= last && e.at("step").as_int() <= resume_step)
            for (const Json& j : e.at("splats").as_array())
                tracker_.placed({e.at("layer").as_int(), e.at("head").as_int(), j.as_int()}, e.at("step").as_int());
    last_check_ = last;
}

void SplatLife::check(int64_t step, GPT& model, Json::Object* record) {
    if (step != last_check_) {
        last_health_ = measure_splat_health(model, windows_);
        tracker_.record(step, last_health_);
        health_log_.write(health_line(step, last_health_));
        last_check_ = step;
    }
    if (!record) return;
    Json::Array dead, collapsed, uncovered;
    for (const LayerHealth& l : last_health_) {
        int64_t d = 0, pairs = 0, far = 0, keys = 0;
        for (const HeadHealth& h : l.heads) {
            for (const SplatHealth& s : h.splats) d += s.dead_streak >= tracker_.dead_after();
            pairs += h.collapsed_pairs, far += h.uncovered_keys, keys += h.keys;
        }
        dead.push_back(d), collapsed.push_back(pairs), uncovered.push_back(double(far) / double(std::max<int64_t>(keys, 1)));
    }
    record->emplace_back("splat_dead_lasting", std::move(dead));
    record->emplace_back("splat_collapsed", std::move(collapsed));
    record->emplace_back("splat_uncovered", std::move(uncovered));
}

std::vector<SplatEvent> SplatLife::adapt(int64_t step, GPT& model, FlatParameters& flat, AdamW& adam) {
    const TrainConfig& c = config_;
    if (c.splat_adapt == "off" || step < c.adapt_start || (c.adapt_stop > 0 && step > c.adapt_stop) ||
        (step - c.adapt_start) % c.adapt_every != 0)
        return {};
    // On a GPU the events run on a host copy of the model, written back whole (shapes never change,
    // so the device's flat buffers take the new values in place); the moments are zeroed on the device.
    HostModel host = on_host(model, c);
    check(step, *host);
    LifePolicy policy = policy_;
    policy.seat_on_queries = c.splat_seat == "queries";
    policy.min_splats = c.min_splats;
    std::vector<SplatEvent> events = adapt_splats(*host, windows_, last_health_, tracker_, policy, step);
    if (host.copy && !events.empty()) copy_parameters(*host, model);
    for (const SplatEvent& e : events) {
        const auto& attn = dynamic_cast<const SplatAttention&>(model.block(e.layer).attention());
        for (int64_t j : e.splats) reset_slot_moments(flat, adam, attn, e.head, j);
        event_log_.write(event_line(e));
    }
    return events;
}

}  // namespace splatlm
