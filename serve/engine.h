// engine.h — the one thread that runs the model for the server. HTTP threads submit jobs and wait
// on them; the engine admits each (finding its session), then makes one token of every running job
// per round, so concurrent requests share the model and none waits for another to finish. Text waits
// in its job until the HTTP thread takes it: a slow or vanished client never stalls the engine (a
// vanished one cancels its job). Sessions live here: at most max_sessions, the least recently used
// evicted when a new one is opened, idle ones dropped after idle_seconds.
// Batched decoding: the replies that each need one more step, and the prompts being read (a token a
// round), share one forward pass per round (GPT::step_rows), which gives every row bitwise what its
// own step would. Test: ./bin/tests "[serve]"
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/completion_request.h"
#include "serve/metrics.h"

namespace splatlm {

struct EngineLimits {
    int64_t max_sessions = 64;
    double session_idle_seconds = 600;
    double request_timeout_seconds = 60;  // a reply still running then ends with finish "timeout"
    int64_t max_queued = 256;             // jobs waiting to start; more are refused with 503
};

// One completion between an HTTP thread and the engine.
class Job {
  public:
    explicit Job(CompletionRequest request);
    const CompletionRequest request;
    const std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
    std::atomic<bool> cancelled{false};  // set by the HTTP side when its client is gone

    int wait_started(std::string& error);  // blocks until started (200) or refused (4xx/5xx, error says why)
    bool take(std::string& text);          // blocks for new text; false once the reply is over and all taken
    Reply wait_finished();                 // the whole reply

    // The engine's side.
    void refuse(int status, const std::string& error);
    void start();
    void add(const std::string& text, const Reply* final_reply);  // final_reply: the turn is over

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int status_ = 0;
    std::string error_, text_;
    Reply reply_;
    bool finished_ = false;
};

class Engine {
  public:
    Engine(GPT& model, const Tokenizer& tokenizer, const SampleOptions& defaults, const EngineLimits& limits,
           Metrics& metrics);
    ~Engine();
    std::shared_ptr<Job> submit(CompletionRequest request);  // RequestError 503 when full or stopping
    std::string open_session();                              // its id; RequestError 503 if every slot is busy
    void close_session(const std::string& id);               // RequestError 404 unknown, 409 busy
    void shutdown();  // refuse new jobs, finish the running and queued ones, join the thread

  private:
    struct Stored {
        std::unique_ptr<Session> session;
        bool busy = false;
        std::chrono::steady_clock::time_point last_used;
        int64_t state_bytes = 0;
    };
    struct Running;
    void loop();
    void admit(const std::shared_ptr<Job>& job, std::vector<std::unique_ptr<Running>>& running);  // mutex_ held
    // One pass of the model (GPT::step_rows; bitwise the steps each would take alone) for every
    // running reply with a token to feed: its last sampled token, or the next token of its prompt.
    // Returns whether the pass ran; cache rebuilds, and a lone row, go through advance().
    bool feed_together(const std::vector<std::unique_ptr<Running>>& running);
    void advance(Running& r);  // one token; retires the job when its turn is over
    void retire(Running& r);   // mutex_ held
    void drop_idle_sessions();  // mutex_ held
    void publish_session_gauges();  // mutex_ held

    GPT& model_;
    const Tokenizer& tokenizer_;
    const SampleOptions defaults_;
    const EngineLimits limits_;
    Metrics& metrics_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<std::shared_ptr<Job>> queue_;
    std::map<std::string, Stored> sessions_;
    uint64_t next_id_ = 0;
    const uint64_t id_salt_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace splatlm
