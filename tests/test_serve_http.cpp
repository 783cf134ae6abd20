// `splatlm serve` over real HTTP on loopback (127.0.0.1 only, a free port): completions, streaming,
// sessions (kept, evicted, expired), every class of bad request, concurrency (batched or not, each
// reply as alone) with a client that never reads, metrics, a timed-out reply, graceful shutdown in-process and on SIGTERM.
// Run: ./bin/tests "[serve]"
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "serve/server.h"
#include "splat/register.h"
#include "tests/helpers.h"
#include "tests/train_helpers.h"
#include "train/json.h"
#include "train/tokenizer.h"
#include "train/utf8.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;

namespace {

// A random (untrained, spread) splat model behind a server running on its own thread.
struct LiveServer {
    std::unique_ptr<Tokenizer> tokenizer = make_tokenizer("char", "", 256);
    GPT model{[] {
                  register_splat_attentions();
                  return GPTConfig{.vocab = 256, .context = 32, .layers = 2, .heads = 2, .width = 16,
                                   .attention = "splat", .splats = 4};
              }(),
              21};
    std::unique_ptr<Server> server;
    std::thread thread;

    explicit LiveServer(ServerOptions options = {}) {
        spread_parameters(model.parameters(), 22);
        options.host = "127.0.0.1";
        options.port = 0;
        server = std::make_unique<Server>(model, *tokenizer, options);
        thread = std::thread([this] { server->run(); });
    }
    ~LiveServer() {
        server->stop();
        thread.join();
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", server->port());
        c.set_read_timeout(30);
        return c;
    }
    // POST /v1/completions with `body`; status and parsed JSON (or the raw text as a string).
    std::pair<int, Json> complete(const std::string& body) const {
        auto res = client().Post("/v1/completions", body, "application/json");
        REQUIRE(res);
        return {res->status, res->get_header_value("Content-Type") == "application/json" ? Json::parse(res->body)
                                                                                         : Json(res->body)};
    }
    double gauge(const std::string& name) const {
        auto res = client().Get("/metrics");
        REQUIRE(res);
        const size_t at = res->body.find("\n" + name + " ");
        REQUIRE(at != std::string::npos);
        return std::stod(res->body.substr(at + name.size() + 2));
    }
};

std::string text_of(const Json& completion) { return completion.at("choices").at(0).at("text").as_string(); }
std::string finish_of(const Json& completion) { return completion.at("choices").at(0).at("finish_reason").as_string(); }

// The text and finish reason in a server-sent event stream.
struct Events {
    std::string text, finish;
    bool done = false;
};
Events parse_events(const std::string& body) {
    Events e;
    for (size_t at = 0; (at = body.find("data: ", at)) != std::string::npos;) {
        const size_t end = body.find("\n\n", at);
        const std::string data = body.substr(at + 6, end - at - 6);
        at = end;
        if (data == "[DONE]") {
            e.done = true;
            continue;
        }
        const Json choice = Json::parse(data).at("choices").at(0);
        if (!choice.at("finish_reason").is_null()) e.finish = choice.at("finish_reason").as_string();
        e.text += choice.at("text").as_string();
    }
    return e;
}

// Sends `request` on a raw socket and closes it at once (or never reads): a vanished or stuck client.
int raw_request(int port, const std::string& body) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size()));
    return fd;
}

}  // namespace

TEST_CASE("serve: health, completions, streaming, the same text both ways", "[serve][http]") {
    LiveServer live;
    auto health = live.client().Get("/health");
    REQUIRE(health);
    REQUIRE(health->status == 200);
    REQUIRE(Json::parse(health->body).at("model").at("attention").as_string() == "splat");

    const std::string request = R"({"prompt": "In the beginning", "max_tokens": 24, "temperature": 0.9, "seed": 3)";
    const auto [status, reply] = live.complete(request + "}");
    REQUIRE(status == 200);
    REQUIRE(finish_of(reply) == "length");
    REQUIRE(reply.at("usage").at("completion_tokens").as_int() == 24);
    REQUIRE(reply.at("usage").at("prompt_tokens").as_int() == 16);
    REQUIRE(live.complete(request + "}").second.at("choices") == reply.at("choices"));  // seeded: repeatable

    auto streamed = live.client().Post("/v1/completions", request + R"(, "stream": true})", "application/json");
    REQUIRE(streamed);
    REQUIRE(streamed->status == 200);
    REQUIRE(streamed->get_header_value("Content-Type") == "text/event-stream");
    const Events events = parse_events(streamed->body);
    REQUIRE(events.done);
    REQUIRE(events.finish == "length");
    REQUIRE(events.text == text_of(reply));

    // A stop string: the reply ends before it (greedy, so the position is known from a longer reply).
    const std::string greedy = text_of(live.complete(R"({"prompt": "ab", "max_tokens": 30, "temperature": 0})").second);
    size_t ascii = 10;
    while (ascii < greedy.size() && (unsigned char)greedy[ascii] >= 0x80) ++ascii;
    REQUIRE(ascii < greedy.size());
    const std::string stop = greedy.substr(ascii, 1);
    const Json stopped = live.complete(R"({"prompt": "ab", "max_tokens": 30, "temperature": 0, "stop": )" +
                                       Json(stop).dump() + "}").second;
    REQUIRE(finish_of(stopped) == "stop");
    REQUIRE(text_of(stopped) == greedy.substr(0, greedy.find(stop)));
}

TEST_CASE("serve: a session continues a conversation exactly as an in-process Session does", "[serve][http]") {
    LiveServer live;
    auto opened = live.client().Post("/v1/sessions", "", "application/json");
    REQUIRE(opened);
    const std::string id = Json::parse(opened->body).at("session").as_string();
    const std::string turn1 = R"({"prompt": "hello", "max_tokens": 10, "session": ")" + id + R"(", "seed": 4})";
    const std::string turn2 = R"({"prompt": " again", "max_tokens": 10, "session": ")" + id + R"("})";
    const std::string a = text_of(live.complete(turn1).second), b = text_of(live.complete(turn2).second);
    REQUIRE(live.gauge("splatlm_live_sessions") == 1);
    REQUIRE(live.gauge("splatlm_session_state_bytes") == 2 * 2 * 4 * (1 + 1 + 8) * 4);  // layers·heads·K·(m, z, S[D])

    Session local(live.model, *live.tokenizer, ServerOptions{}.defaults);
    local.reseed(4);
    REQUIRE(utf8::sanitize(local.reply("hello", {.max_tokens = 10, .stop = {}}, {}).text) == a);
    REQUIRE(utf8::sanitize(local.reply(" again", {.max_tokens = 10, .stop = {}}, {}).text) == b);

    auto closed = live.client().Delete("/v1/sessions/" + id);
    REQUIRE(closed);
    REQUIRE(closed->status == 200);
    const auto [status, error] = live.complete(turn2);
    REQUIRE(status == 404);
    REQUIRE_THAT(error.at("error").at("message").as_string(), Contains("unknown session"));
    REQUIRE(live.client().Delete("/v1/sessions/" + id)->status == 404);
}

TEST_CASE("serve: sessions are bounded (least recently used evicted) and expire when idle", "[serve][http]") {
    ServerOptions options;
    options.engine.max_sessions = 2;
    options.engine.session_idle_seconds = 1.0;
    LiveServer live(options);
    auto open = [&] { return Json::parse(live.client().Post("/v1/sessions", "", "application/json")->body).at("session").as_string(); };
    auto use = [&](const std::string& id) {
        return live.complete(R"({"prompt": "x", "max_tokens": 2, "session": ")" + id + R"("})").first;
    };
    const std::string first = open(), second = open();
    REQUIRE(use(first) == 200);  // now `second` is the least recently used
    const std::string third = open();
    REQUIRE(use(second) == 404);
    REQUIRE(use(first) == 200);
    REQUIRE(use(third) == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    REQUIRE(use(first) == 404);
    REQUIRE(live.gauge("splatlm_live_sessions") == 0);
}

TEST_CASE("serve: every bad request is a 4xx with a JSON error naming the problem", "[serve][http]") {
    ServerOptions options;
    options.max_body_bytes = 2000;
    options.request.max_prompt_tokens = 100;
    LiveServer live(options);
    const std::vector<std::tuple<std::string, int, std::string>> cases = {
        {"{\"prompt\": \"a\",", 400, "not valid JSON"},
        {"[1, 2]", 400, "must be a JSON object"},
        {"{}", 400, "'prompt' is required"},
        {R"({"prompt": 7})", 400, "'prompt' must be a string"},
        {R"({"prompt": "a", "max_tokens": "ten"})", 400, "'max_tokens' must be an integer"},
        {R"({"prompt": "a", "max_tokens": 2.5})", 400, "'max_tokens' must be an integer"},
        {R"({"prompt": "a", "stream": 1})", 400, "'stream' must be true or false"},
        {R"({"prompt": "a", "stop": [1]})", 400, "'stop' must be a string"},
        {R"({"prompt": "a", "max_tokens": 0})", 400, "'max_tokens' must be in [1, 512]"},
        {R"({"prompt": "a", "max_tokens": 100000})", 400, "'max_tokens' must be in [1, 512]"},
        {R"({"prompt": "a", "temperature": -1})", 400, "'temperature' must be in"},
        {R"({"prompt": "a", "top_p": 0})", 400, "'top_p' must be in (0"},
        {R"({"prompt": "a", "top_k": 300})", 400, "'top_k' must be in [0, 256]"},
        {R"({"prompt": "a", "seed": -1})", 400, "'seed' must be in"},
        {R"({"prompt": "a", "stop": ["", "x"]})", 400, "each 'stop' string"},
        {R"({"prompt": "a", "n": 2})", 400, "unknown field 'n'"},
        {R"({"prompt": "a", "session": "s123"})", 404, "unknown session 's123'"},
        {R"({"prompt": ")" + std::string(150, 'a') + R"("})", 413, "the limit is 100"},
        {R"({"prompt": ")" + std::string(3000, 'a') + R"("})", 413, "too large"},
    };
    for (const auto& [body, status, message] : cases) {
        INFO(body.substr(0, 80));
        const auto [got, error] = live.complete(body);
        REQUIRE(got == status);
        REQUIRE_THAT(error.at("error").at("message").as_string(), Contains(message));
        REQUIRE(error.at("error").at("code").as_int() == status);
    }
    auto unknown = live.client().Get("/v2/nothing");
    REQUIRE(unknown->status == 404);
    REQUIRE_THAT(Json::parse(unknown->body).at("error").at("message").as_string(), Contains("/v2/nothing"));
    REQUIRE(live.complete(R"({"prompt": "still fine", "max_tokens": 3})").first == 200);
    auto metrics = live.client().Get("/metrics");
    REQUIRE_THAT(metrics->body, Contains("splatlm_requests_total{path=\"/v1/completions\",code=\"400\"} 16") &&
                                    Contains("splatlm_requests_total{path=\"/v1/completions\",code=\"413\"} 2") &&
                                    Contains("splatlm_completion_seconds_count 1") &&
                                    Contains("\nsplatlm_batched_rows_total ") && Contains("\nsplatlm_live_sessions 0\n"));
}

TEST_CASE("serve: concurrent streams all finish while one client vanishes and one never reads", "[serve][http]") {
    LiveServer live;
    const int vanished = raw_request(live.server->port(), R"({"prompt": "a", "max_tokens": 512, "stream": true})");
    ::close(vanished);
    const int stuck = raw_request(live.server->port(), R"({"prompt": "b", "max_tokens": 512, "stream": true})");
    std::vector<std::thread> clients;
    std::vector<Events> got(8);
    for (int i = 0; i < 8; ++i)
        clients.emplace_back([&, i] {
            auto res = live.client().Post("/v1/completions",
                                          R"({"prompt": "client )" + std::to_string(i) +
                                              R"(", "max_tokens": 40, "stream": true, "seed": 1})",
                                          "application/json");
            if (res && res->status == 200) got[i] = parse_events(res->body);
        });
    for (std::thread& t : clients) t.join();
    // Whether or not their tokens shared forward passes (batched decoding), each reply is the one it
    // would be alone.
    for (int i = 0; i < 8; ++i) {
        REQUIRE(got[i].done);
        REQUIRE(got[i].finish == "length");
        Session alone(live.model, *live.tokenizer, ServerOptions{}.defaults);
        alone.reseed(1);
        const std::string prompt = "client " + std::to_string(i);
        REQUIRE(got[i].text == utf8::sanitize(alone.reply(prompt, {.max_tokens = 40, .stop = {}}, {}).text));
    }
    ::close(stuck);
}

TEST_CASE("serve: a reply past the time limit ends with 'timeout'; stop() lets it finish, then run() returns",
          "[serve][http]") {
    ServerOptions options;
    options.engine.request_timeout_seconds = 0.5;
    options.request.max_reply_tokens = 1000000;
    auto live = std::make_unique<LiveServer>(options);
    Events events;
    std::atomic<bool> answered{false};
    std::thread client([&] {
        auto res = live->client().Post("/v1/completions", R"({"prompt": "a", "max_tokens": 1000000, "stream": true})",
                                       "application/json");
        if (res) events = parse_events(res->body);
        answered = true;
    });
    // Stop while the reply runs — unless a starved machine let its 0.5 s run out before we saw it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!answered && live->gauge("splatlm_requests_running") < 1 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    live->server->stop();
    client.join();
    REQUIRE(events.done);
    REQUIRE(events.finish == "timeout");
    REQUIRE(!events.text.empty());
    live->thread.join();  // run() returned
    live->thread = std::thread([] {});
    REQUIRE(!live->client().Get("/health"));  // no longer accepting
}

TEST_CASE("splatlm serve: prints its port, answers, and exits 0 on SIGTERM", "[serve][http]") {
    const std::string dir = chat_checkpoint(), program = cli_path();
    int out[2];
    REQUIRE(::pipe(out) == 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::close(out[0]);
        ::execl(program.c_str(), "splatlm", "serve", "--ckpt", dir.c_str(), "--port", "0", "--host", "127.0.0.1",
                (char*)nullptr);
        ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (line.find('\n') == std::string::npos && ::read(out[0], &c, 1) == 1) line += c;
    ::close(out[0]);
    INFO(line);
    const size_t colon = line.find("127.0.0.1:");
    REQUIRE(colon != std::string::npos);
    httplib::Client client("127.0.0.1", std::stoi(line.substr(colon + 10)));
    auto res = client.Post("/v1/completions", R"({"prompt": "the lord", "max_tokens": 5})", "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    REQUIRE(::kill(pid, SIGTERM) == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE_THAT(run_cli("serve --ckpt " + dir + " --port 70000").output, Contains("--port must be in [0, 65535]"));
}
