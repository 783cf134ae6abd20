// splat_top_tokens.cpp — each splat's top writing tokens (splat_top_tokens.h).
#include "viz/splat_top_tokens.h"

#include <algorithm>
#include <cstdio>

#include "splat/splat_attention.h"
#include "tensor/error.h"

namespace splatlm::viz {

std::vector<std::vector<TokenWrite>> top_write_tokens(const SplatHead& head, const std::vector<std::string>& labels,
                                                      int64_t count) {
    const int64_t T = head.tokens, K = head.splats;
    SPLATLM_CHECK(count >= 1, "top tokens: need at least 1 token per splat, got ", count);
    SPLATLM_CHECK(int64_t(labels.size()) == T && int64_t(head.send.size()) == T * K &&
                      int64_t(head.log_amp.size()) == K,
                  "top tokens: ", labels.size(), " labels and ", head.send.size(), " write shares for ", T,
                  " tokens and ", K, " splats");
    std::vector<std::vector<TokenWrite>> top(static_cast<size_t>(K));
    for (int64_t j = 0; j < K; ++j) {
        if (!is_live(head.log_amp[j])) continue;
        std::vector<TokenWrite>& writes = top[size_t(j)];  // distinct labels in order of first occurrence
        for (int64_t t = 0; t < T; ++t) {
            auto it = std::find_if(writes.begin(), writes.end(), [&](const TokenWrite& w) { return w.label == labels[t]; });
            if (it == writes.end()) it = writes.insert(writes.end(), {labels[t], 0.0});
            it->mass += head.send[t * K + j];
        }
        std::stable_sort(writes.begin(), writes.end(), [](const TokenWrite& a, const TokenWrite& b) { return a.mass > b.mass; });
        if (int64_t(writes.size()) > count) writes.resize(size_t(count));
    }
    return top;
}

std::vector<std::string> top_token_lines(const SplatSample& sample, int64_t count) {
    std::vector<std::string> lines;
    for (size_t h = 0; h < sample.heads.size(); ++h) {
        const SplatHead& head = sample.heads[h];
        const auto top = top_write_tokens(head, sample.labels, count);
        for (int64_t j = 0; j < head.splats; ++j) {
            if (top[size_t(j)].empty()) continue;
            double total = 0;  // splat j's share of all the sample's writes
            for (int64_t t = 0; t < head.tokens; ++t) total += head.send[t * head.splats + j];
            char line[160];
            std::snprintf(line, sizeof line, "head %zu splat %lld (%.0f%% of writes):", h, (long long)j,
                          100.0 * total / double(head.tokens));
            std::string text = line;
            for (size_t i = 0; i < top[size_t(j)].size(); ++i) {
                std::snprintf(line, sizeof line, "%s %s %.2f", i ? "," : "", top[size_t(j)][i].label.c_str(),
                              top[size_t(j)][i].mass);
                text += line;
            }
            lines.push_back(text);
        }
    }
    return lines;
}

}  // namespace splatlm::viz
