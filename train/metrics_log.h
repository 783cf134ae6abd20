// metrics_log.h — metrics.jsonl: one JSON object per line. Training lines carry step, loss, lr,
// tokens_per_s (and grad_norm); evaluation lines step, val_loss, val_bpb; sample lines step, sample.
#pragma once
#include <cstdio>
#include <string>

#include "train/json.h"

namespace splatlm {

class MetricsLog {
  public:
    // Opens `path` for appending. On resume, lines past `keep_through_step` (written after the
    // checkpoint we resume from) are dropped first, so the log never repeats a step.
    MetricsLog(const std::string& path, int64_t keep_through_step);
    ~MetricsLog();
    MetricsLog(const MetricsLog&) = delete;
    MetricsLog& operator=(const MetricsLog&) = delete;
    void write(const Json& record);  // one line, flushed

  private:
    std::string path_;
    std::FILE* file_ = nullptr;
};

}  // namespace splatlm
