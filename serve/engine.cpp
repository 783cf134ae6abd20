#include "serve/engine.h"

#include <cstdio>
#include <optional>
#include <random>

#include "tensor/ops.h"
#include "tensor/rng.h"

namespace splatlm {

using Clock = std::chrono::steady_clock;

// ---- Job ----

Job::Job(CompletionRequest r) : request(std::move(r)) {}

int Job::wait_started(std::string& error) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return status_ != 0; });
    error = error_;
    return status_;
}

bool Job::take(std::string& text) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !text_.empty() || finished_; });
    text.swap(text_);
    text_.clear();
    return !finished_;
}

Reply Job::wait_finished() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return finished_; });
    return reply_;
}

void Job::refuse(int status, const std::string& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = status, error_ = error, finished_ = true;
    changed_.notify_all();
}

void Job::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = 200;
    changed_.notify_all();
}

void Job::add(const std::string& text, const Reply* final_reply) {
    std::lock_guard<std::mutex> lock(mutex_);
    text_ += text;
    if (final_reply) reply_ = *final_reply, finished_ = true;
    changed_.notify_all();
}

// ---- Engine ----

struct Engine::Running {
    std::shared_ptr<Job> job;
    std::unique_ptr<Session> own;  // a one-off conversation
    std::string session_id;        // or a stored one
    Session* session = nullptr;
    std::optional<Turn> turn;
    bool timed_out = false;
};

Engine::Engine(GPT& model, const Tokenizer& tokenizer, const SampleOptions& defaults, const EngineLimits& limits,
               Metrics& metrics)
    : model_(model), tokenizer_(tokenizer), defaults_(defaults), limits_(limits), metrics_(metrics),
      id_salt_((uint64_t(std::random_device{}()) << 32) ^ std::random_device{}()) {
    publish_session_gauges();
    metrics_.set_gauge("splatlm_requests_running", 0);
    thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() { shutdown(); }

void Engine::shutdown() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        wake_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
}

std::shared_ptr<Job> Engine::submit(CompletionRequest request) {
    auto job = std::make_shared<Job>(std::move(request));
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw RequestError(503, "the server is shutting down");
    if (int64_t(queue_.size()) >= limits_.max_queued)
        throw RequestError(503, "too many requests waiting (" + std::to_string(limits_.max_queued) + ")");
    queue_.push_back(job);
    wake_.notify_all();
    return job;
}

std::string Engine::open_session() {
    std::lock_guard<std::mutex> lock(mutex_);
    drop_idle_sessions();
    if (int64_t(sessions_.size()) >= limits_.max_sessions) {
        auto oldest = sessions_.end();
        for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
            if (!it->second.busy && (oldest == sessions_.end() || it->second.last_used < oldest->second.last_used))
                oldest = it;
        if (oldest == sessions_.end()) throw RequestError(503, "every session is answering a request");
        sessions_.erase(oldest);
    }
    char id[24];
    std::snprintf(id, sizeof id, "s%016llx", (unsigned long long)rng_hash(id_salt_, next_id_++));
    Stored& s = sessions_[id];
    s.session = std::make_unique<Session>(model_, tokenizer_, defaults_);
    s.last_used = Clock::now();
    s.state_bytes = s.session->state_bytes();
    publish_session_gauges();
    return id;
}

void Engine::close_session(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) throw RequestError(404, "unknown session '" + id + "'");
    if (it->second.busy) throw RequestError(409, "session '" + id + "' is answering a request");
    sessions_.erase(it);
    publish_session_gauges();
}

void Engine::drop_idle_sessions() {
    const auto now = Clock::now();
    const size_t before = sessions_.size();
    for (auto it = sessions_.begin(); it != sessions_.end();)
        it = !it->second.busy && std::chrono::duration<double>(now - it->second.last_used).count() >
                                      limits_.session_idle_seconds
                 ? sessions_.erase(it)
                 : std::next(it);
    if (sessions_.size() != before) publish_session_gauges();
}

void Engine::publish_session_gauges() {
    int64_t bytes = 0;
    for (const auto& [id, s] : sessions_) bytes += s.state_bytes;
    metrics_.set_gauge("splatlm_live_sessions", double(sessions_.size()));
    metrics_.set_gauge("splatlm_session_state_bytes", double(bytes));
}

void Engine::admit(const std::shared_ptr<Job>& job, std::vector<std::unique_ptr<Running>>& running) {
    const CompletionRequest& req = job->request;
    auto r = std::make_unique<Running>();
    r->job = job;
    if (req.session.empty()) {
        r->own = std::make_unique<Session>(model_, tokenizer_, defaults_);
        r->session = r->own.get();
    } else {
        auto it = sessions_.find(req.session);
        if (it == sessions_.end()) return job->refuse(404, "unknown session '" + req.session + "'");
        if (it->second.busy) return job->refuse(409, "session '" + req.session + "' is answering another request");
        it->second.busy = true;
        r->session_id = req.session;
        r->session = it->second.session.get();
    }
    try {
        if (req.seeded) r->session->reseed(req.sampling.seed);
        r->turn.emplace(*r->session, req.prompt, req.limits, req.sampling);
    } catch (const std::exception& e) {
        if (!r->session_id.empty()) sessions_[r->session_id].busy = false;
        return job->refuse(400, e.what());
    }
    job->start();
    running.push_back(std::move(r));
}

void Engine::advance(Running& r) {
    std::string text;
    try {
        if (r.job->cancelled) {
            text = r.turn->cancel();
        } else if (std::chrono::duration<double>(Clock::now() - r.job->submitted).count() >
                   limits_.request_timeout_seconds) {
            text = r.turn->cancel();
            r.timed_out = true;
        } else {
            text = r.turn->next();
        }
    } catch (const std::exception& e) {  // the model refused a step: end the reply, say why
        text = r.turn->cancel();
        std::fprintf(stderr, "splatlm serve: reply ended: %s\n", e.what());
    }
    if (!r.turn->done()) return r.job->add(text, nullptr);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        retire(r);  // before the client hears of the end, so its next request finds the session free
    }
    Reply reply = r.turn->reply();
    if (r.timed_out) reply.finish = "timeout";
    r.job->add(text, &reply);
}

void Engine::retire(Running& r) {
    const Reply& reply = r.turn->reply();
    metrics_.count_tokens(reply.prompt_tokens, reply.tokens);
    metrics_.observe_latency(std::chrono::duration<double>(Clock::now() - r.job->submitted).count());
    if (r.session_id.empty()) return;
    auto it = sessions_.find(r.session_id);
    it->second.busy = false;
    it->second.last_used = Clock::now();
    it->second.state_bytes = it->second.session->state_bytes();
    publish_session_gauges();
}

bool Engine::feed_together(const std::vector<std::unique_ptr<Running>>& running) {
    std::vector<int32_t> tokens;
    std::vector<GPT::Cache*> caches;
    std::vector<Decoder*> decoders;
    for (const auto& r : running) {
        Decoder& d = r->session->decoder();
        if (r->job->cancelled || r->turn->done()) continue;
        if (const std::optional<int32_t> token = d.next_to_feed()) {
            tokens.push_back(*token);
            caches.push_back(&d.cache());
            decoders.push_back(&d);
        }
    }
    if (tokens.size() < 2) return false;  // one row: its own step is the same
    try {
        const Tensor logits = model_.step_rows(tokens, caches);
        for (size_t i = 0; i < decoders.size(); ++i)
            decoders[i]->fed(raw::slice(logits, 0, int64_t(i), int64_t(i) + 1).clone());
        metrics_.count_batch(int64_t(tokens.size()));
        return true;
    } catch (const std::exception& e) {  // step_rows checks before it changes a cache: advance() goes on alone
        std::fprintf(stderr, "splatlm serve: batched step failed: %s\n", e.what());
        return false;
    }
}

void Engine::loop() {
    std::vector<std::unique_ptr<Running>> running;
    while (true) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (running.empty())
                wake_.wait_for(lock, std::chrono::seconds(1), [&] { return !queue_.empty() || stopping_; });
            drop_idle_sessions();
            std::vector<std::shared_ptr<Job>> arrived;
            arrived.swap(queue_);
            for (const auto& job : arrived) admit(job, running);
            std::erase_if(running, [](const std::unique_ptr<Running>& r) { return r->turn->done(); });
            metrics_.set_gauge("splatlm_requests_running", double(running.size()));
            if (stopping_ && running.empty() && queue_.empty()) return;
        }
        // A prompt read in the shared pass moves one token per round, with the replies; the
        // reply draws its first token once the whole prompt is in.
        const bool shared = feed_together(running);
        for (auto& r : running) {
            const Decoder& d = r->session->decoder();
            if (!shared || r->job->cancelled || d.pending() == 0 || !d.next_to_feed()) advance(*r);
        }
    }
}

}  // namespace splatlm
