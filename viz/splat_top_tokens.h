// splat_top_tokens.h — which tokens of a text sample write the most into each splat (issue 18's
// "each splat's top tokens"), from the write shares inspect_splats measured (SplatHead::send: send
// gates and routing applied). `splatlm viz` prints them under the files it wrote.
// Test: ./bin/tests "[viz]" (test_viz_splat.cpp, "splat top tokens").
#pragma once
#include <string>
#include <vector>

#include "viz/splat_inspect.h"

namespace splatlm::viz {

struct TokenWrite {
    std::string label;  // the token's label (SplatSample::labels)
    double mass = 0;    // Σ over its occurrences t of send[t, j]: how many whole writes it puts into splat j
};

// Per splat j of `head`, the `count` distinct labels with the largest write mass into j, largest
// first (ties: first occurrence first); an empty slot (not live) gets none. labels: one per token.
// Throws for count < 1 or labels that do not match the head.
std::vector<std::vector<TokenWrite>> top_write_tokens(const SplatHead& head, const std::vector<std::string>& labels,
                                                      int64_t count);

// One line per live splat of every head: "head 0 splat 3 (12% of writes): e 2.31, _ 1.20, t 0.80".
std::vector<std::string> top_token_lines(const SplatSample& sample, int64_t count);

}  // namespace splatlm::viz
