// splat_adaptation.h — the trainer's side of living splats, kept out of trainer.cpp so the step
// loop stays short:
//   - placing them from the data before step 1 (`splat_init`, splat/splat_init.h);
//   - their health at every evaluation and adaptation step (splat/splat_health.h): in full to
//     <run>/splat_health.jsonl, counts per layer into the evaluation's metrics.jsonl line;
//   - with `splat_adapt` (a comma list of rescue, death, birth, mitosis, merge), on the schedule
//     adapt_start + i·adapt_every ≤ adapt_stop (0: no stop), the events of splat/splat_lifecycle.h,
//     with every AdamW moment of each touched slot zeroed (the others keep theirs), one JSON line
//     per event in <run>/splat_events.jsonl.
// Both logs are trimmed on resume like metrics.jsonl, and the tracker (dead streaks, ages, recent
// health) is rebuilt from them; the slots themselves (live or empty) are parameters, so they come
// back with the checkpoint and a resumed run adapts exactly as an uninterrupted one.
// Tests: `./bin/tests "[splat_init]"`, `"[splat_health]"`, `"[splat_rescue]"`, `"[splat_life]"`.
#pragma once
#include <optional>

#include "nn/flat_parameters.h"
#include "nn/gpt.h"
#include "splat/splat_health.h"
#include "splat/splat_lifecycle.h"
#include "train/adamw.h"
#include "train/training_data.h"
#include "train/metrics_log.h"
#include "train/train_config.h"

namespace splatlm {

// On a fresh run only (a resumed run loads its placed splats): places the splats of `model` (still on
// the CPU) on the keys of one batch of training windows drawn from its own seeded stream (the data
// order of training is untouched), and says so on stdout when `say`. Nothing for splat_init = random.
void place_splats_from_data(GPT& model, const TrainingData& data, const TrainConfig& config, bool say);

// Zeroes both AdamW moments of elements [first, first + count) of parameter `param` (row-major).
void reset_moments(const FlatParameters& flat, AdamW& adam, const Tensor& param, int64_t first, int64_t count);
// Zeroes both moments of every per-splat parameter of one slot (splat_lifecycle.h's slot_parameters).
void reset_slot_moments(const FlatParameters& flat, AdamW& adam, const SplatAttention& attn, int64_t head, int64_t splat);

class SplatLife {
  public:
    // resume_step: the step resumed from, or −1 for a fresh run. Only for models with splat attention.
    SplatLife(const TrainConfig& config, const std::string& dir, int64_t resume_step, const TrainingData& data);
    // A health check at `step` (once per step), logged; with `record`, its counts per layer are added to it.
    void check(int64_t step, GPT& model, Json::Object* record = nullptr);
    // After step `step`'s update: on the schedule, a health check and the events of splat_adapt
    // (returned, for the frames of --viz-every).
    std::vector<SplatEvent> adapt(int64_t step, GPT& model, FlatParameters& flat, AdamW& adam);
    const SplatHealthTracker& tracker() const { return tracker_; }

  private:
    void restore(const std::string& dir, int64_t resume_step);
    const TrainConfig& config_;
    LifePolicy policy_;
    Indices windows_;  // the same training windows at every check
    SplatHealthTracker tracker_;
    MetricsLog health_log_, event_log_;
    std::vector<LayerHealth> last_health_;  // of the check at last_check_
    int64_t last_check_ = -1;
};

}  // namespace splatlm
