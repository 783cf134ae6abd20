// metrics.h — what GET /metrics reports, in the Prometheus text format: requests by path and
// status, prompt and generated tokens, batched decoding steps and their rows, a histogram of completion latency, and gauges (live
// sessions, their state bytes, requests in flight) that the server sets. Thread-safe.
// Test: ./bin/tests "[serve]"
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace splatlm {

class Metrics {
  public:
    void count_request(const std::string& path, int status);
    void count_tokens(int64_t prompt, int64_t generated);
    void observe_latency(double seconds);  // one finished completion
    void count_batch(int64_t rows);        // one forward pass shared by `rows` replies
    void set_gauge(const std::string& name, double value);
    std::string render() const;

    static const std::vector<double>& latency_buckets();  // upper bounds in seconds

  private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, int64_t> requests_;
    int64_t prompt_tokens_ = 0, generated_tokens_ = 0, batched_steps_ = 0, batched_rows_ = 0;
    std::vector<int64_t> bucket_counts_ = std::vector<int64_t>(latency_buckets().size(), 0);
    int64_t latency_count_ = 0;
    double latency_sum_ = 0;
    std::map<std::string, double> gauges_;
};

}  // namespace splatlm
