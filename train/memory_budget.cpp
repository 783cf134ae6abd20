// memory_budget.cpp — the estimate and the check of train/memory_budget.h.
#include "train/memory_budget.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "tensor/error.h"

namespace splatlm {

namespace {

// Parameters of nn/gpt.cpp's GPT: token and position embeddings, per block two layer norms, the
// fused q/k/v and output projections and the 4× MLP (with biases), the final norm; splat kinds add
// about (head dim + 4) numbers per splat.
double parameter_count(const GPTConfig& m) {
    const double W = double(m.width), per_block = 12 * W * W + 13 * W;
    const double splat = m.has_splat_layer() ? double(m.heads) * double(m.splats) * (double(m.head_dim()) + 4) : 0;
    return (double(m.vocab) + double(m.context)) * W + double(m.layers) * (per_block + splat) + 2 * W;
}

// Floats a forward pass keeps per token: per block the norms, q/k/v, the attention output, the
// projections and the 4× MLP (about 20 × width), the splat kinds' per-splat weights, and the logits.
double activations_per_token(const GPTConfig& m) {
    const double splat = m.has_splat_layer() ? 2 * double(m.heads) * double(m.splats) : 0;
    return double(m.layers) * (20 * double(m.width) + splat) + 3 * double(m.vocab);
}

std::string gib(double bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g GiB", bytes / double(1ull << 30));
    return buf;
}

double read_number(const std::string& path) {
    std::ifstream in(path);
    double value = 0;
    return in >> value ? value : -1;  // "max" (no limit) and a missing file read as -1
}

}  // namespace

double estimated_bytes(const TrainConfig& c, MemoryUse use) {
    const double params = parameter_count(c.model);
    const double tokens = double(c.batch) * double(c.model.context);
    switch (use) {
        case MemoryUse::inspect: return 4 * params;
        case MemoryUse::evaluate: return 4 * (params + tokens * activations_per_token(c.model));
        case MemoryUse::train: return 4 * (4 * params + 2 * tokens * activations_per_token(c.model));
    }
    return 0;
}

double available_bytes() {
    double available = -1;
    std::ifstream meminfo("/proc/meminfo");
    for (std::string line; std::getline(meminfo, line);)
        if (line.rfind("MemAvailable:", 0) == 0) available = 1024 * std::stod(line.substr(13));  // "… kB"
    if (available < 0) available = double(::sysconf(_SC_AVPHYS_PAGES)) * double(::sysconf(_SC_PAGESIZE));
    const double limit = read_number("/sys/fs/cgroup/memory.max"), used = read_number("/sys/fs/cgroup/memory.current");
    if (limit > 0 && used >= 0) available = std::min(available, std::max(limit - used, 0.0));
    return available;
}

void check_memory_budget(const TrainConfig& c, MemoryUse use, const std::string& who, double available) {
    const double need = estimated_bytes(c, use);
    if (need <= available) return;
    // The key at fault: the one whose reset to its default shrinks the estimate most.
    const TrainConfig defaults;
    struct Candidate {
        const char* key;
        int64_t value;
        double without;
    };
    auto with = [&](auto change) {
        TrainConfig changed = c;
        change(changed);
        return estimated_bytes(changed, use);
    };
    std::vector<Candidate> candidates = {
        {"layers", c.model.layers, with([&](TrainConfig& x) { x.model.layers = defaults.model.layers; })},
        {"width", c.model.width, with([&](TrainConfig& x) { x.model.width = defaults.model.width; })},
        {"context", c.model.context, with([&](TrainConfig& x) { x.model.context = defaults.model.context; })},
        {"splats", c.model.splats, with([&](TrainConfig& x) { x.model.splats = defaults.model.splats; })},
        {c.tokenizer == "bpe" ? "bpe_vocab" : "vocab", c.model.vocab,
         with([&](TrainConfig& x) { x.model.vocab = 256; })},
    };
    if (use != MemoryUse::inspect)
        candidates.push_back({"batch", c.batch, with([&](TrainConfig& x) { x.batch = defaults.batch; })});
    const Candidate& worst = *std::min_element(candidates.begin(), candidates.end(),
                                               [](const Candidate& a, const Candidate& b) { return a.without < b.without; });
    const char* what = use == MemoryUse::inspect    ? "its weights"
                       : use == MemoryUse::evaluate ? "weights and activations"
                                                    : "parameters, gradients, AdamW state and activations";
    std::ostringstream at;
    if (use != MemoryUse::inspect) at << " at batch " << c.batch << " × context " << c.model.context;
    fail(who.empty() ? "" : who + ": ", "config key '", worst.key, "' = ", worst.value, " makes the model need about ", gib(need), " (", what,
         at.str(), ") but ", gib(available), " of memory is available");
}

}  // namespace splatlm
