// memory_budget.h — sizes checked before memory is taken: an estimate of what a model needs
// (parameters, gradients, AdamW moments, activations at batch × context) against the memory this
// machine has available, so an impossible config fails in one line naming the key at fault instead
// of allocating until the machine stalls. Test: ./bin/tests "[budget]".
#pragma once
#include <cstdint>
#include <string>

#include "train/train_config.h"

namespace splatlm {

enum class MemoryUse {
    inspect,   // the weights only (info)
    evaluate,  // weights and one forward pass at batch × context (eval, generate)
    train,     // weights, gradients, AdamW moments and a step's activations
};

// A lower estimate in bytes of what `use` of `config`'s model takes (floating point: never overflows).
double estimated_bytes(const TrainConfig& config, MemoryUse use);

// Bytes this process may still take: MemAvailable from /proc/meminfo (sysconf where it is missing),
// lowered to the cgroup's memory.max headroom when one is set.
double available_bytes();

// Throws, naming `who` (when not empty) and the config key whose size makes the estimate exceed `available`.
void check_memory_budget(const TrainConfig& config, MemoryUse use, const std::string& who,
                         double available = available_bytes());

}  // namespace splatlm
