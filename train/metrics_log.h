// metrics_log.h — metrics.jsonl: one JSON object per line. Training lines carry step, loss, lr,
// tokens_per_s (and grad_norm); evaluation lines step, val_loss, val_bpb; sample lines step, sample.
#pragma once
#include <cstdio>
#include <string>

#include "train/json.h"

namespace splatlm {

class MetricsLog {
  public:
    // Opens `path` (never through a symlink: that is an error). Fresh runs (keep_through_step < 0)
    // start it empty. On resume, lines past `keep_through_step` (written after the checkpoint we
    // resume from) and damaged lines (one warning) are dropped first, so the log never repeats a
    // step; a missing log is started again — resuming never depends on it.
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
