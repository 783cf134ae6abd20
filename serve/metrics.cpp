#include "serve/metrics.h"

#include <cstdio>

namespace splatlm {

const std::vector<double>& Metrics::latency_buckets() {
    static const std::vector<double> bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    return bounds;
}

void Metrics::count_request(const std::string& path, int status) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{path, status}];
}

void Metrics::count_tokens(int64_t prompt, int64_t generated) {
    std::lock_guard<std::mutex> lock(mutex_);
    prompt_tokens_ += prompt;
    generated_tokens_ += generated;
}

void Metrics::observe_latency(double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < latency_buckets().size(); ++i)
        if (seconds <= latency_buckets()[i]) ++bucket_counts_[i];
    ++latency_count_;
    latency_sum_ += seconds;
}

void Metrics::count_batch(int64_t rows) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++batched_steps_;
    batched_rows_ += rows;
}

void Metrics::set_gauge(const std::string& name, double value) {
    std::lock_guard<std::mutex> lock(mutex_);
    gauges_[name] = value;
}

std::string Metrics::render() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    char line[1024];
    out += "# TYPE splatlm_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
        std::snprintf(line, sizeof line, "splatlm_requests_total{path=\"%s\",code=\"%d\"} %lld\n", key.first.c_str(),
                      key.second, (long long)n);
        out += line;
    }
    std::snprintf(line, sizeof line,
                  "# TYPE splatlm_prompt_tokens_total counter\nsplatlm_prompt_tokens_total %lld\n"
                  "# TYPE splatlm_generated_tokens_total counter\nsplatlm_generated_tokens_total %lld\n"
                  "# TYPE splatlm_batched_steps_total counter\nsplatlm_batched_steps_total %lld\n"
                  "# TYPE splatlm_batched_rows_total counter\nsplatlm_batched_rows_total %lld\n",
                  (long long)prompt_tokens_, (long long)generated_tokens_, (long long)batched_steps_,
                  (long long)batched_rows_);
    out += line;
    out += "# TYPE splatlm_completion_seconds histogram\n";
    for (size_t i = 0; i < latency_buckets().size(); ++i) {
        std::snprintf(line, sizeof line, "splatlm_completion_seconds_bucket{le=\"%g\"} %lld\n", latency_buckets()[i],
                      (long long)bucket_counts_[i]);
        out += line;
    }
    std::snprintf(line, sizeof line,
                  "splatlm_completion_seconds_bucket{le=\"+Inf\"} %lld\nsplatlm_completion_seconds_sum %.6f\n"
                  "splatlm_completion_seconds_count %lld\n",
                  (long long)latency_count_, latency_sum_, (long long)latency_count_);
    out += line;
    for (const auto& [name, value] : gauges_) {
        std::snprintf(line, sizeof line, "# TYPE %s gauge\n%s %.17g\n", name.c_str(), name.c_str(), value);
        out += line;
    }
    return out;
}

}  // namespace splatlm
