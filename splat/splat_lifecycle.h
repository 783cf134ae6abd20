// splat_lifecycle.h — splats that are born, split, merge, die and are rescued between optimiser
// steps (issue 18; docs/SPLAT.md §16). K per head is a fixed number of slots (GPTConfig::splat_slots);
// a slot is live or empty (splat/splat_attention.h), so every event is a few writes into the
// parameters and shapes never change. The trainer resets the touched slots' AdamW moments
// (train/splat_adaptation.h). Tests: `./bin/tests "[splat_life]"` and `"[splat_rescue]"`.
//
// The events on one head h (CPU parameters, no autograd):
//   seat    slot j gets centre μ, scale s, amplitude 1 (log a = 0); decay and gates as they were;
//   empty   slot j: log a = kRetiredLogAmp (nothing writes to it or reads from it any more);
//   split   (mitosis) parent p into p and an empty slot c: c copies every per-splat parameter of p,
//           both amplitudes halve (log a − log 2), centres μ ± δ·u. With δ = 0 the layer's output is
//           unchanged exactly (two halves of one Gaussian write and read what it did); with δ > 0 it
//           changes by O(δ²/s²) (the first order cancels by symmetry). Under top-p routing the two
//           halves take two of a token's p routes, so there the output changes by the route dropped.
//   merge   i and j into i: a = a_i + a_j, μ = (a_i μ_i + a_j μ_j)/a, s² = Σ (a_·/a)(s_·² + ‖μ_· − μ‖²/D),
//           decay and gate averaged with the same weights; j emptied. Two identical splats merge
//           exactly into the one they are halves of (dense routing).
//
// The policy (adapt_splats), per layer in order (each on the keys its adapted earlier layers give),
// per head, on the health check of this step:
//   1. merge   collapsed live pairs (overlap > kCollapsedOverlap, same level) while live > min_splats;
//   2. death   dead splats (SplatHealthTracker::dead) emptied while live > min_splats; otherwise, with
//              rescue, re-seated at the worst covered point (keys or queries: `seat_on_queries`) with
//              the rms distance of its max(4, points/K) nearest points as scale;
//   3. mitosis live splats read more than min(kOverloadShare × an even share (1 / live), ½), most read first,
//              split along the principal axis of the keys they win (the largest affinity), δ =
//              kMitosisOffset·s, into an empty slot of the same level;
//   4. birth   while more than kBirthUncovered of the points lie farther than kUncoveredScales scales
//              from every live centre, an empty slot is seated at the worst covered one.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "nn/gpt.h"
#include "splat/splat_health.h"

namespace splatlm {

class SplatAttention;

inline constexpr double kOverloadShare = 4.0;
inline constexpr double kMitosisOffset = 0.05;
inline constexpr double kBirthUncovered = 0.02;

struct SplatEvent {
    int64_t step = 0, layer = 0, head = 0;
    std::vector<int64_t> splats;  // the slots touched: [j], or [parent, child] / [kept, emptied]
    std::string kind, reason;     // rescue|death|birth|mitosis|merge; dead|collapsed|overloaded|uncovered
    std::vector<std::pair<std::string, double>> numbers;  // what the reason was measured with
};

// The elements of one slot in each per-splat parameter: centres, log_scale, log_amp, log_decay,
// send_gate and decay_gate weight rows and biases, and with splat_flow the row of the layer above's
// `flow` that reads this slot's π (so a split copies it, a merge averages it, its moments reset).
struct SlotSlice {
    Tensor param;
    int64_t first = 0, count = 0;
};
std::vector<SlotSlice> slot_parameters(const SplatAttention& attn, int64_t head, int64_t splat);

void seat_splat(SplatAttention& attn, int64_t head, int64_t splat, const double* centre, double scale);
void empty_slot(SplatAttention& attn, int64_t head, int64_t splat);
// direction: a unit vector of D; offset δ in the units of the centres.
void split_splat(SplatAttention& attn, int64_t head, int64_t parent, int64_t child, const double* direction, double offset);
void merge_splats(SplatAttention& attn, int64_t head, int64_t keep, int64_t drop);

struct LifePolicy {
    bool rescue = false, death = false, birth = false, mitosis = false, merge = false;
    bool seat_on_queries = false;  // rescue and birth place on poorly covered queries instead of keys
    int64_t min_splats = 1;        // death and merge leave at least this many live splats per head
};

// Parses splat_adapt: "off", or a comma list of rescue, death, birth, mitosis, merge. Throws one
// line naming the key on anything else.
LifePolicy parse_life_policy(const std::string& splat_adapt);

// Runs the policy on `model` (CPU) with the windows `ids` [B, T] and this step's `health` (one entry
// per splat layer, from measure_splat_health + tracker.record); marks every touched slot placed in
// `tracker`; returns the events in the order they happened.
std::vector<SplatEvent> adapt_splats(GPT& model, const Indices& ids, const std::vector<LayerHealth>& health,
                                     SplatHealthTracker& tracker, const LifePolicy& policy, int64_t step);

}  // namespace splatlm
