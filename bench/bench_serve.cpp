// bench_serve.cpp — `splatlm bench serve`: a bounded load test of `splatlm serve` on loopback, for
// softmax and splat attention side by side (random-weight models of one shape; speed does not
// depend on the weights).
//
//   load:   N concurrent clients × M streaming completions of T tokens each, and the same with one
//           client, alternated R times (--repeats) so that both see the same machine: median
//           requests/s and tokens/s, the median of the paired ratio N clients ÷ one client, p50/p99
//           latency over all repeats, rows per batched forward pass (/metrics), failures (any reply
//           that is not 200 with T tokens and a [DONE]).
//   memory: one session on the server, turn after turn (a short prompt, a T-token reply): the
//           state bytes the server reports for it (/metrics) as the conversation grows.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench.h"
#include "serve/server.h"
#include "tensor/error.h"
#include "train/args.h"
#include "train/json.h"
#include "train/tokenizer.h"

namespace splatlm {

namespace {

struct LoadResult {
    double seconds = 0;
    int64_t requests = 0, tokens = 0, failures = 0;
    std::vector<double> latencies_ms;
    double tokens_per_s() const { return double(tokens) / seconds; }
};

// R repeats of one load as one row: median rates, all latencies, every failure.
struct LoadRow {
    std::vector<LoadResult> runs;
    double median(double (*rate)(const LoadResult&)) const {
        std::vector<double> v;
        for (const LoadResult& r : runs) v.push_back(rate(r));
        return median_of(v);
    }
    std::vector<double> latencies_ms() const {
        std::vector<double> all;
        for (const LoadResult& r : runs) all.insert(all.end(), r.latencies_ms.begin(), r.latencies_ms.end());
        return all;
    }
    int64_t sum(int64_t LoadResult::*field) const {
        int64_t n = 0;
        for (const LoadResult& r : runs) n += r.*field;
        return n;
    }
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

LoadResult run_load(int port, int clients, int per_client, int64_t tokens) {
    const std::string body = R"({"prompt": "And God said", "stream": true, "max_tokens": )" + std::to_string(tokens) + "}";
    std::vector<LoadResult> each(clients);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
            httplib::Client client("127.0.0.1", port);
            client.set_read_timeout(120);
            client.set_keep_alive(true);  // one connection per client, as a real client library keeps
            client.set_tcp_nodelay(true);
            for (int m = 0; m < per_client; ++m) {
                const auto t0 = std::chrono::steady_clock::now();
                auto res = client.Post("/v1/completions", body, "application/json");
                const bool ok = res && res->status == 200 && res->body.find("\"finish_reason\":\"length\"") != std::string::npos &&
                                res->body.find("data: [DONE]") != std::string::npos;
                each[c].latencies_ms.push_back(
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
                ++each[c].requests;
                ok ? each[c].tokens += tokens : ++each[c].failures;
                if (!ok)
                    std::fprintf(stderr, "bench serve: a request failed: %s\n",
                                 res ? ("status " + std::to_string(res->status) + ": " + res->body.substr(0, 200)).c_str()
                                     : httplib::to_string(res.error()).c_str());
            }
        });
    for (std::thread& t : threads) t.join();
    LoadResult all;
    all.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const LoadResult& r : each) {
        all.requests += r.requests, all.tokens += r.tokens, all.failures += r.failures;
        all.latencies_ms.insert(all.latencies_ms.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    }
    return all;
}

double gauge(httplib::Client& client, const std::string& name) {
    auto res = client.Get("/metrics");
    SPLATLM_CHECK(res && res->status == 200, "bench serve: GET /metrics failed");
    const size_t at = res->body.find("\n" + name + " ");
    SPLATLM_CHECK(at != std::string::npos, "bench serve: /metrics lacks ", name);
    return std::stod(res->body.substr(at + name.size() + 2));
}

// State bytes of one session after each turn listed in `report_at` (ascending).
std::vector<double> session_bytes(int port, const std::vector<int>& report_at, int64_t tokens) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(120);
    auto opened = client.Post("/v1/sessions", "", "application/json");
    SPLATLM_CHECK(opened && opened->status == 200, "bench serve: opening a session failed");
    const std::string id = Json::parse(opened->body).at("session").as_string();
    const std::string body = R"({"prompt": "\nAnd ", "max_tokens": )" + std::to_string(tokens) + R"(, "session": ")" + id + "\"}";
    std::vector<double> bytes;
    for (int turn = 1; turn <= report_at.back(); ++turn) {
        auto res = client.Post("/v1/completions", body, "application/json");
        SPLATLM_CHECK(res && res->status == 200, "bench serve: turn ", turn, " failed");
        if (std::find(report_at.begin(), report_at.end(), turn) != report_at.end())
            bytes.push_back(gauge(client, "splatlm_session_state_bytes"));
    }
    client.Delete("/v1/sessions/" + id);
    return bytes;
}

}  // namespace

int bench_serve(int argc, char** argv) {
    Args args("bench serve",
              {{"kinds", true, "comma-separated attention kinds (default softmax,splat)"},
               {"clients", true, "concurrent clients (default 16)"},
               {"requests", true, "requests per client (default 8)"},
               {"tokens", true, "tokens per reply (default 32)"},
               {"repeats", true, "alternated runs of the one-client and the N-client load (default 3)"},
               {"turns", true, "turns of the memory conversation (default 100)"},
               {"width", true, "model width (default 128)"},
               {"layers", true, "layers (default 2)"},
               {"context", true, "context: the memory conversation must fit (default 4096)"},
               {"json", false, "one JSON object per line"}},
              argc, argv, 3);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    const int clients = int(args.get_int("clients", 16)), per_client = int(args.get_int("requests", 8)),
              turns = int(args.get_int("turns", 100)), repeats = int(args.get_int("repeats", 3));
    const int64_t tokens = args.get_int("tokens", 32), width = args.get_int("width", 128),
                  layers = args.get_int("layers", 2), context = args.get_int("context", 4096);
    SPLATLM_CHECK(clients > 0 && clients <= 256 && per_client > 0 && per_client <= 100000 && tokens > 0 &&
                      tokens <= 512 && repeats > 0 && repeats <= 100 && turns > 0 && width > 0 && width % 4 == 0 && layers > 0 && context > 0,
                  "bench serve: need 1..256 clients, 1..100000 requests, 1..512 tokens, 1..100 repeats, positive sizes (width a "
                  "multiple of 4)");
    SPLATLM_CHECK(int64_t(turns) * (tokens + 5) <= context, "bench serve: ", turns, " turns of ", tokens + 5,
                  " tokens do not fit the context ", context, " (--context)");
    const std::vector<std::string> kinds = split_commas(args.get("kinds", "softmax,splat"));
    std::vector<int> report_at;
    for (int t : {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000})
        if (t < turns) report_at.push_back(t);
    report_at.push_back(turns);

    const bool json = args.flag("json");
    const auto tokenizer = make_tokenizer("char", "", 256);
    if (!json)
        std::printf("loopback, width %lld, %lld layers, 4 heads, context %lld; streaming replies of %lld tokens;\n"
                    "medians of %d alternated runs; ×1: tokens/s over one client's in the same repeat (median)\n"
                    "%-8s %8s %9s %10s %10s %7s %9s %9s %9s %9s\n",
                    (long long)width, (long long)layers, (long long)context, (long long)tokens, repeats, "kind",
                    "clients", "requests", "req/s", "tokens/s", "×1", "p50 ms", "p99 ms", "rows/pass", "failures");
    for (const std::string& kind : kinds) {
        GPT model(GPTConfig{.vocab = 256, .context = context, .layers = layers, .heads = 4, .width = width,
                            .attention = kind, .splats = 16, .splat_decay = true},
                  7);
        ServerOptions options;
        options.port = 0;
        options.threads = clients + 4;
        options.engine.max_queued = clients * 2;
        options.engine.request_timeout_seconds = 600;
        Server server(model, *tokenizer, options);
        std::thread serving([&] { server.run(); });
        httplib::Client metrics("127.0.0.1", server.port());
        const double steps_before = gauge(metrics, "splatlm_batched_steps_total"),
                     rows_before = gauge(metrics, "splatlm_batched_rows_total");
        LoadRow one, many;
        for (int r = 0; r < repeats; ++r) {
            if (clients > 1) one.runs.push_back(run_load(server.port(), 1, per_client, tokens));
            many.runs.push_back(run_load(server.port(), clients, per_client, tokens));
        }
        const double steps = gauge(metrics, "splatlm_batched_steps_total") - steps_before,
                     rows_per_pass = steps > 0 ? (gauge(metrics, "splatlm_batched_rows_total") - rows_before) / steps : 1;
        std::vector<double> ratios;
        for (int r = 0; r < repeats && clients > 1; ++r)
            ratios.push_back(many.runs[size_t(r)].tokens_per_s() / one.runs[size_t(r)].tokens_per_s());
        for (const auto& [n, row] : {std::pair<int, const LoadRow*>{1, &one}, {clients, &many}}) {
            if (row->runs.empty()) continue;
            const double req_s = row->median([](const LoadResult& r) { return double(r.requests) / r.seconds; }),
                         tok_s = row->median([](const LoadResult& r) { return r.tokens_per_s(); }),
                         ratio = n == 1 ? 1.0 : median_of(ratios),
                         p50 = percentile(row->latencies_ms(), 0.5), p99 = percentile(row->latencies_ms(), 0.99);
            const long long requests = row->sum(&LoadResult::requests), failures = row->sum(&LoadResult::failures);
            if (json)
                std::printf("{\"bench\":\"serve_load\",\"kind\":\"%s\",\"clients\":%d,\"repeats\":%d,\"requests\":%lld,"
                            "\"requests_per_s\":%.2f,\"tokens_per_s\":%.1f,\"vs_one_client\":%.3f,\"p50_ms\":%.2f,"
                            "\"p99_ms\":%.2f,\"rows_per_batched_pass\":%.2f,\"failures\":%lld}\n",
                            kind.c_str(), n, repeats, requests, req_s, tok_s, ratio, p50, p99, rows_per_pass, failures);
            else
                std::printf("%-8s %8d %9lld %10.1f %10.0f %7.2f %9.1f %9.1f %9s %9lld\n", kind.c_str(), n, requests,
                            req_s, tok_s, ratio, p50, p99, n == 1 ? "" : std::to_string(rows_per_pass).substr(0, 4).c_str(),
                            failures);
            std::fflush(stdout);
        }
        const std::vector<double> bytes = session_bytes(server.port(), report_at, tokens);
        for (size_t i = 0; i < report_at.size(); ++i) {
            if (json)
                std::printf("{\"bench\":\"serve_session_memory\",\"kind\":\"%s\",\"turn\":%d,\"state_bytes\":%.0f}\n",
                            kind.c_str(), report_at[i], bytes[i]);
            else
                std::printf("%-8s session state after turn %4d: %10.0f bytes\n", kind.c_str(), report_at[i], bytes[i]);
        }
        std::fflush(stdout);
        server.stop();
        serving.join();
    }
    return 0;
}

}  // namespace splatlm
