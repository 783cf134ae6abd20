// splat_adaptation.cpp — placing splats from the data before step 1 (splat_adaptation.h).
#include "train/splat_adaptation.h"

#include <cstdio>

#include "splat/splat_init.h"
#include "train/batch.h"

namespace splatlm {

void place_splats_from_data(GPT& model, const Dataset& data, const TrainConfig& c, bool say) {
    if (c.splat_init == "random") return;
    Rng rng(c.seed ^ 0x1417000000000000ull);  // its own windows: training's data stream is not advanced
    const int64_t B = c.batch, T = c.model.context;
    const Batch batch = make_batch(data.sample_batch(Split::train, int(B), int(T), rng), B, T);
    const int64_t layers = initialise_splats(model, batch.inputs, c.splat_init, c.seed);
    if (say)
        std::printf("splat_init %s: placed the splats of %lld layers on the keys of %lld training tokens\n",
                c.splat_init.c_str(), (long long)layers, (long long)(B * T));
}

}  // namespace splatlm
