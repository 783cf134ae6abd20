// serve.cpp — `splatlm serve`: the HTTP server of serve/server.h over one checkpoint, until SIGTERM
// or SIGINT: then it stops accepting, lets the replies in flight finish and exits 0. It prints
// "listening on http://HOST:PORT" once the socket is bound (--port 0 picks a free port).
// Test: ./bin/tests "[serve]"
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "cli/sampling_flags.h"
#include "serve/server.h"
#include "tensor/error.h"
#include "train/checkpoint.h"

namespace splatlm {

int cmd_serve(int argc, char** argv) {
    std::vector<OptionSpec> flags = {
        {"ckpt", true, "run directory holding model.safetensors"},
        {"device", true, "cpu | cuda: where the model runs (default cpu)"},
        {"host", true, "address to listen on (default 127.0.0.1)"},
        {"port", true, "port (default 8080; 0 = any free port)"},
        {"threads", true, "connections served at once (default 32)"},
        {"max-body", true, "largest request body in bytes (default 65536)"},
        {"max-prompt-tokens", true, "longest prompt (default 2048)"},
        {"max-tokens", true, "most tokens one reply may ask for (default 512)"},
        {"max-sessions", true, "sessions kept; the least recently used goes first (default 64)"},
        {"session-idle", true, "seconds an unused session is kept (default 600)"},
        {"timeout", true, "seconds a request may run; then its reply ends (default 60)"}};
    for (OptionSpec& s : sampling_flags("default reply length in tokens (default 128)")) flags.push_back(s);
    Args args("serve", flags, argc, argv, 2);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    SPLATLM_CHECK(args.has("ckpt"), "serve: --ckpt DIR is required");
    ServerOptions o;
    o.host = args.get("host", "127.0.0.1");
    o.port = int(args.get_int("port", 8080));
    SPLATLM_CHECK(o.port >= 0 && o.port <= 65535, "serve: --port must be in [0, 65535], got ", o.port);
    o.threads = int(args.get_int("threads", 32));
    o.max_body_bytes = args.get_int("max-body", 1 << 16);
    o.request.max_prompt_tokens = args.get_int("max-prompt-tokens", 2048);
    o.request.max_reply_tokens = args.get_int("max-tokens", 512);
    o.engine.max_sessions = args.get_int("max-sessions", 64);
    o.engine.session_idle_seconds = args.get_double("session-idle", 600);
    o.engine.request_timeout_seconds = args.get_double("timeout", 60);
    SPLATLM_CHECK(o.request.max_prompt_tokens > 0 && o.request.max_reply_tokens > 0 && o.engine.max_sessions > 0 &&
                      o.engine.session_idle_seconds > 0 && o.engine.request_timeout_seconds > 0,
                  "serve: --max-prompt-tokens, --max-tokens, --max-sessions, --session-idle and --timeout must be "
                  "positive");
    o.defaults = read_sampling_flags(args);
    if (!args.has("tokens")) o.defaults.tokens = 128;
    LoadedModel loaded = load_model_on(args.get("ckpt", ""), args.get("device", "cpu"), "serve");

    // SIGTERM and SIGINT go to one waiting thread (blocked everywhere else, so every thread the
    // server starts inherits the block); a closed socket is an error return, not SIGPIPE.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    Server server(*loaded.model, *loaded.tokenizer, o);
    std::thread waiter([&] {
        int signal = 0;
        sigwait(&stop_signals, &signal);
        std::fprintf(stderr, "splatlm serve: %s: finishing the requests in flight\n", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        server.stop();
    });
    std::printf("listening on http://%s:%d (%s attention)\n", o.host.c_str(), server.port(),
                loaded.config.model.attention.c_str());
    std::fflush(stdout);
    server.run();
    waiter.join();
    return 0;
}

}  // namespace splatlm
