// server.h — `splatlm serve`: an HTTP/1.1 server (cpp-httplib) over one model.
//
//   POST   /v1/completions   {"prompt": "...", "max_tokens": 64, "temperature": 0.8, "top_p": 0.95,
//                             "top_k": 0, "seed": 1, "stop": ["\n"], "stream": false, "session": "s…"}
//                            → {"id", "object": "text_completion", "choices": [{"text", "index": 0,
//                               "finish_reason": "length" | "stop" | "timeout" | "cancelled"}],
//                               "usage": {...}}; with "stream": true, server-sent events of the same
//                               shape, one per piece of text, then "data: [DONE]"
//   POST   /v1/sessions      → {"session": "s…"}: a conversation kept on the server between requests
//   DELETE /v1/sessions/ID   forget it
//   GET    /health           {"status": "ok", ...}
//   GET    /metrics          Prometheus text (serve/metrics.h)
//
// Every refused request gets a 4xx/5xx status and {"error": {"message", "code"}}. stop() (from any
// thread, e.g. on SIGTERM) refuses new completions (503), waits for those in flight to finish, then
// closes the listening socket and makes run() return. The model runs on one engine thread (serve/engine.h). Test: ./bin/tests "[serve]"
#pragma once
#include <memory>
#include <string>

#include "serve/engine.h"

namespace splatlm {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                    // 0: any free port (see Server::port())
    int threads = 32;                   // connections served at once
    int64_t max_body_bytes = 1 << 16;   // larger bodies get 413
    RequestLimits request;
    EngineLimits engine;
    SampleOptions defaults{.tokens = 128, .temperature = 0.8f, .top_k = 0, .top_p = 0.95f, .seed = 0};
};

class Server {
  public:
    // Binds the socket (throws naming host and port when it cannot).
    Server(GPT& model, const Tokenizer& tokenizer, const ServerOptions& options);
    ~Server();
    int port() const;
    void run();   // serves until stop()
    void stop();  // blocks until the completions in flight are done (bounded by the request timeout)

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace splatlm
