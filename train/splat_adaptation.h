// splat_adaptation.h — the trainer's side of living splats: placing them from the data before
// step 1 (`splat_init`, splat/splat_init.h). Kept out of trainer.cpp so the step loop stays short.
// Tests: `./bin/tests "[splat_init]"`.
#pragma once
#include "nn/gpt.h"
#include "train/dataset.h"
#include "train/train_config.h"

namespace splatlm {

// On a fresh run only (a resumed run loads its placed splats): places the splats of `model` (still on
// the CPU) on the keys of one batch of training windows drawn from its own seeded stream (the data
// order of training is untouched), and says so on stdout when `say`. Nothing for splat_init = random.
void place_splats_from_data(GPT& model, const Dataset& data, const TrainConfig& config, bool say);

}  // namespace splatlm
