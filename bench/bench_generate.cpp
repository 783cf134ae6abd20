// bench_generate.cpp — `splatlm bench generate`: the cost of generating one token with one
// attention layer, against how many tokens came before it (the context position).
//
// Each kind's recurrent form (Attention::step, the one `generate` uses) is fed one position at a
// time from 0; at each reported position the next `repeats` steps are timed and their median is
// reported. A KV cache makes a step O(t·D) (softmax); splat's state is O(K·D) whatever t is, so
// its cost per token should stay flat. The layer includes the q/k/v and output projections.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "bench/bench.h"
#include "nn/attention.h"
#include "tensor/error.h"
#include "train/args.h"

namespace splatlm {

namespace {

// Steps every position up to the largest reported one and times `repeats` steps at each position.
std::vector<double> step_times(Attention& attn, int64_t width, const std::vector<int64_t>& positions, int repeats) {
    Rng rng(5);
    const int64_t last = positions.back() + repeats;
    auto cache = attn.new_cache(1, last);
    Tensor x = Tensor::randn({1, width}, rng);
    std::vector<double> medians;
    size_t next = 0;
    std::vector<double> times;
    for (int64_t t = 0; t < last && next < positions.size(); ++t) {
        const bool timed = t >= positions[next];
        const auto t0 = std::chrono::steady_clock::now();
        Tensor y = attn.step(x, *cache);
        if (!timed) continue;
        times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        if (int64_t(times.size()) == repeats) {
            medians.push_back(median_of(times));
            times.clear();
            ++next;
        }
    }
    return medians;
}

}  // namespace

int bench_generate(int argc, char** argv) {
    Args args("bench generate",
              {{"kinds", true, "comma-separated attention kinds (default: every registered kind)"},
               {"d", true, "head dimension (default 64)"},
               {"heads", true, "heads (default 4)"},
               {"k", true, "splats per head (default 16)"},
               {"max-quadratic", true, "largest position for kinds whose step grows with t (default 16384)"},
               {"repeats", true, "timed steps per position (default 64)"},
               {"json", false, "one JSON object per line"}},
              argc, argv, 3);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    const int64_t d = args.get_int("d", 64), heads = args.get_int("heads", 4), splats = args.get_int("k", 16),
                  max_quadratic = args.get_int("max-quadratic", 16384);
    const int repeats = int(args.get_int("repeats", 64));
    SPLATLM_CHECK(d > 0 && heads > 0 && splats > 0 && repeats > 0 && max_quadratic > 0,
                  "bench generate: sizes must be positive");
    std::vector<std::string> kinds;
    if (args.has("kinds")) {
        kinds = split_commas(args.get("kinds", ""));
    } else {
        kinds = attention_kinds();
    }
    const std::vector<int64_t> all_positions = {256, 1024, 4096, 16384, 65536};
    const bool json = args.flag("json");
    if (!json)
        std::printf("one attention layer, D=%lld, heads=%lld, k=%lld: µs per generated token (median of %d steps)\n"
                    "%-12s %10s %12s\n",
                    (long long)d, (long long)heads, (long long)splats, repeats, "kind", "position", "µs/token");
    NoGradGuard no_grad;
    for (const std::string& kind : kinds) {
        GPTConfig config{.context = all_positions.back() + repeats, .layers = 1, .heads = heads, .width = heads * d,
                         .attention = kind, .splats = splats, .splat_decay = true};  // as the default model
        Rng rng(7);
        std::unique_ptr<Attention> attn = make_attention(config, 0, rng);
        // softmax's step reads every cached position: stepping to 65536 would take minutes
        const bool quadratic = kind == "softmax";
        std::vector<int64_t> positions;
        for (int64_t p : all_positions)
            if (!quadratic || p <= max_quadratic) positions.push_back(p);
        const std::vector<double> us = step_times(*attn, heads * d, positions, repeats);
        for (size_t i = 0; i < all_positions.size(); ++i) {
            const int64_t p = all_positions[i];
            if (i >= us.size()) {
                if (!json)
                    std::printf("%-12s %10lld   skipped: O(t) per token, O(n²) to get there (--max-quadratic)\n",
                                kind.c_str(), (long long)p);
                continue;
            }
            if (json)
                std::printf("{\"kind\":\"%s\",\"position\":%lld,\"d\":%lld,\"heads\":%lld,\"k\":%lld,\"us_per_token\":%.2f}\n",
                            kind.c_str(), (long long)p, (long long)d, (long long)heads, (long long)splats, us[i]);
            else
                std::printf("%-12s %10lld %12.1f\n", kind.c_str(), (long long)p, us[i]);
            std::fflush(stdout);
        }
    }
    return 0;
}

}  // namespace splatlm
