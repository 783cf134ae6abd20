// progressive.h — progressive layer training (SplatFlow): with `progressive_every = N` only the
// lowest block trains at first and one more block unfreezes every N steps (block b trains from step
// b·N on); embeddings, the final norm and the head always train. A frozen block's gradients are
// zeroed before clipping (so they count in no norm) and its parameters are put back after the
// AdamW step (so neither the update nor weight decay moves them; its moments stay 0 until it
// thaws). The schedule is a function of the step alone, so a resumed run freezes exactly as an
// uninterrupted one. CPU parameters only. Test: ./bin/tests "[progressive]".
#pragma once
#include <cstdint>
#include <vector>

#include "nn/flat_parameters.h"

namespace splatlm {

class ProgressiveFreeze {
  public:
    // every: N > 0; blocks: the model's layer count.
    ProgressiveFreeze(const FlatParameters& flat, int64_t every, int64_t blocks);
    int64_t trainable_blocks(int64_t step) const;  // blocks 0 … this − 1 train at step `step` (0-based)
    // After backward at step `step`: zero the frozen blocks' gradients and remember their values.
    void hold(int64_t step, FlatParameters& flat);
    // After the optimiser step: the frozen blocks' values as they were.
    void restore(FlatParameters& flat) const;

  private:
    struct Range {
        int64_t block, offset, count;
    };
    std::vector<Range> ranges_;  // per parameter of a block, in the flat buffers
    int64_t every_, blocks_;
    std::vector<float> held_;    // the values of the ranges frozen at this step, in order
    int64_t frozen_from_ = 0;    // blocks ≥ this are frozen at the step being taken
};

}  // namespace splatlm
