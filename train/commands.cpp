#include "train/commands.h"

#include "bench/bench.h"

namespace splatlm {

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"bench", "benchmarks: gemm (more kinds as they land)", run_bench},
    };
    return table;
}

}  // namespace splatlm
