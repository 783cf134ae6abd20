#include "serve/server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "tensor/error.h"
#include "train/json.h"
#include "train/utf8.h"

namespace splatlm {

namespace {

void send_json(httplib::Response& res, int status, const Json& body) {
    res.status = status;
    res.set_content(body.dump() + "\n", "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
    send_json(res, status, Json(Json::Object{{"error", Json(Json::Object{{"message", message}, {"code", status}})}}));
}

// One chunk of a completion in the OpenAI shape; finish is null until the last one.
Json completion_json(const std::string& id, const std::string& text, const std::string& finish) {
    Json choice(Json::Object{{"text", text}, {"index", 0}, {"finish_reason", finish.empty() ? Json() : Json(finish)}});
    return Json(Json::Object{{"id", id}, {"object", "text_completion"}, {"choices", Json(Json::Array{choice})}});
}

// The route a request matched, as a bounded label for the metrics.
std::string route_of(const httplib::Request& req) {
    for (const char* known : {"/v1/completions", "/v1/sessions", "/health", "/metrics"})
        if (req.path == known) return known;
    return req.path.rfind("/v1/sessions/", 0) == 0 ? "/v1/sessions/:id" : "other";
}

}  // namespace

struct Server::Impl {
    Impl(GPT& model_, const Tokenizer& tokenizer_, const ServerOptions& options_)
        : model(model_), tokenizer(tokenizer_), options(options_),
          engine(model_, tokenizer_, options_.defaults, options_.engine, metrics) {}

    void completions(const httplib::Request& req, httplib::Response& res);
    void routes();

    GPT& model;
    const Tokenizer& tokenizer;
    const ServerOptions options;
    Metrics metrics;
    Engine engine;
    httplib::Server http;
    int port = 0;
    socket_t listening = socket_t(-1);  // the bound socket, seen by the socket-options hook
    std::atomic<uint64_t> completions_started{0};

    // Graceful stop: httplib's own stop() cuts streams short, so first refuse new completions and
    // wait for those in flight; each holds a ticket until its response is written (for a stream,
    // until httplib lets go of the stream's provider).
    std::shared_ptr<void> ticket();  // RequestError 503 once draining
    void drain();
    std::mutex flight_mutex;
    std::condition_variable landed;
    int in_flight = 0;
    bool draining = false;
};

std::shared_ptr<void> Server::Impl::ticket() {
    std::lock_guard<std::mutex> lock(flight_mutex);
    if (draining) throw RequestError(503, "the server is shutting down");
    ++in_flight;
    return std::shared_ptr<void>(nullptr, [this](void*) {
        std::lock_guard<std::mutex> lock(flight_mutex);
        --in_flight;
        landed.notify_all();
    });
}

void Server::Impl::drain() {
    std::unique_lock<std::mutex> lock(flight_mutex);
    draining = true;
    // Every reply ends by the request timeout; a client that stops reading by httplib's write timeout.
    const auto limit = std::chrono::duration<double>(options.engine.request_timeout_seconds + 15);
    landed.wait_for(lock, limit, [&] { return in_flight == 0; });
}

void Server::Impl::completions(const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<void> held = ticket();
    const CompletionRequest request =
        parse_completion_request(req.body, tokenizer, options.defaults, options.request);
    const bool stream = request.stream;
    const std::string id = "cmpl-" + std::to_string(completions_started++);
    std::shared_ptr<Job> job = engine.submit(request);
    std::string error;
    if (const int status = job->wait_started(error); status != 200) return send_error(res, status, error);
    if (!stream) {
        const Reply reply = job->wait_finished();
        Json body = completion_json(id, utf8::sanitize(reply.text), reply.finish);
        body.set("usage", Json(Json::Object{{"prompt_tokens", reply.prompt_tokens},
                                            {"completion_tokens", reply.tokens},
                                            {"total_tokens", reply.prompt_tokens + reply.tokens}}));
        if (!request.session.empty()) body.set("session", request.session);
        return send_json(res, 200, body);
    }
    // Server-sent events: one per piece of text as the engine makes it, then the finish and [DONE].
    res.set_header("Cache-Control", "no-cache");
    auto unsent = std::make_shared<std::string>();  // bytes that may end inside a UTF-8 character
    res.set_chunked_content_provider(
        "text/event-stream",
        [job, id, unsent, held](size_t, httplib::DataSink& sink) {
            auto send = [&](const std::string& event) {
                if (sink.write(event.data(), event.size())) return true;
                job->cancelled = true;  // the client is gone: the engine ends its reply
                return false;
            };
            try {
                std::string text;
                const bool more = job->take(text);
                *unsent += text;
                const size_t ready = more ? utf8::complete_prefix(*unsent) : unsent->size();
                if (ready > 0) {
                    const std::string piece = utf8::sanitize(std::string_view(*unsent).substr(0, ready));
                    unsent->erase(0, ready);
                    if (!send("data: " + completion_json(id, piece, "").dump() + "\n\n")) return false;
                }
                if (more) return true;
                const Reply reply = job->wait_finished();
                if (!send("data: " + completion_json(id, "", reply.finish).dump() + "\n\ndata: [DONE]\n\n"))
                    return false;
                sink.done();
                return true;
            } catch (const std::exception& e) {  // nothing may escape into httplib's thread
                job->cancelled = true;
                return false;
            }
        },
        [job](bool success) {
            if (!success) job->cancelled = true;
        });
}

void Server::Impl::routes() {
    // Our errors become JSON; so do httplib's own (unknown path 404, body too large 413).
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        try {
            std::rethrow_exception(ep);
        } catch (const RequestError& e) {
            send_error(res, e.status, e.what());
        } catch (const std::exception& e) {
            send_error(res, 500, e.what());
        }
    });
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
            send_error(res, res.status,
                       res.status == 413   ? std::string("the body is too large")
                       : res.status == 404 ? "no such endpoint: " + req.method + " " + req.path
                                           : "the request could not be served: " + req.method + " " + req.path);
            return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        metrics.count_request(route_of(req), res.status);
    });
    http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res); });
    http.Post("/v1/sessions", [this](const httplib::Request&, httplib::Response& res) {
        send_json(res, 200, Json(Json::Object{{"session", engine.open_session()}}));
    });
    http.Delete(R"(/v1/sessions/([A-Za-z0-9]+))", [this](const httplib::Request& req, httplib::Response& res) {
        engine.close_session(req.matches[1]);
        send_json(res, 200, Json(Json::Object{{"deleted", std::string(req.matches[1])}}));
    });
    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
        const GPTConfig& c = model.config();
        send_json(res, 200,
                  Json(Json::Object{{"status", "ok"},
                                    {"model", Json(Json::Object{{"attention", c.attention},
                                                                {"layers", c.layers},
                                                                {"context", c.context},
                                                                {"vocab", c.vocab}})}}));
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics.render(), "text/plain; version=0.0.4");
    });
}

Server::Server(GPT& model, const Tokenizer& tokenizer, const ServerOptions& options)
    : impl_(std::make_unique<Impl>(model, tokenizer, options)) {
    SPLATLM_CHECK(options.threads > 0, "serve: --threads must be positive");
    SPLATLM_CHECK(options.max_body_bytes > 0, "serve: --max-body must be positive");
    httplib::Server& http = impl_->http;
    const int threads = options.threads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
    http.set_payload_max_length(size_t(options.max_body_bytes));
    http.set_keep_alive_timeout(2);
    http.set_keep_alive_max_count(1000);  // a client that keeps its connection need not reconnect every 5 requests
    http.set_tcp_nodelay(true);  // each streamed event goes out at once, not after the peer's delayed ACK
    http.set_read_timeout(10);
    http.set_write_timeout(10);
    impl_->routes();
    // Debian's httplib is a compiled library that listens with a backlog of 5, so a burst of new
    // connections beyond it waits for a SYN retry (1 s). Its socket-options hook sees the server's
    // socket before the bind; once bound, we listen on it again with the system's backlog (Linux
    // takes a second listen() on a listening socket as a new backlog).
    http.set_socket_options([impl = impl_.get()](socket_t sock) {
        httplib::default_socket_options(sock);
        impl->listening = sock;
    });
    impl_->port = options.port == 0 ? http.bind_to_any_port(options.host) : (http.bind_to_port(options.host, options.port)
                                                                                  ? options.port
                                                                                  : -1);
    SPLATLM_CHECK(impl_->port > 0, "serve: cannot listen on ", options.host, ":", options.port,
                  " (address in use, or not an address of this machine)");
    SPLATLM_CHECK(::listen(impl_->listening, SOMAXCONN) == 0, "serve: cannot listen on ", options.host, ":",
                  impl_->port, ": ", std::strerror(errno));
}

Server::~Server() {
    stop();
    impl_->engine.shutdown();
}

int Server::port() const { return impl_->port; }

void Server::run() {
    impl_->http.listen_after_bind();  // returns after stop(), once the pool's threads have finished
    impl_->engine.shutdown();
}

void Server::stop() {
    impl_->drain();
    impl_->http.stop();
}

}  // namespace splatlm
