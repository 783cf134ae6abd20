// serve/session.h: a conversation carried turn by turn in the model's cache, saved and loaded
// bitwise for every attention kind, stop strings held back while streaming, cancellation.
// Run: ./bin/tests "[serve]"
#include <filesystem>

#include "serve/session.h"
#include "splat/register.h"
#include "tests/helpers.h"
#include "tests/train_helpers.h"
#include "train/tokenizer.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;

namespace {

struct TinyChatModel {
    std::unique_ptr<Tokenizer> tokenizer = make_tokenizer("char", "", 256);
    GPT model;
    explicit TinyChatModel(const std::string& kind, int64_t context = 24)
        : model([&] {
              register_splat_attentions();
              GPTConfig c{.vocab = 256, .context = context, .layers = 2, .heads = 2, .width = 16, .window = 5, .splats = 4};
              c.attention = kind;
              return c;
          }(),
                11) {
        spread_parameters(model.parameters(), 12);
    }
};

TurnLimits up_to(int64_t tokens) { return {.max_tokens = tokens, .stop = {}}; }

const SampleOptions kSampled{.tokens = 12, .temperature = 0.9f, .top_k = 0, .top_p = 0.9f, .seed = 5};

}  // namespace

TEST_CASE("a session carries the cache across turns; the reply after a load is bitwise the same", "[serve][session]") {
    const std::string kind = GENERATE("softmax", "local", "linear", "delta", "splat", "splat_local", "splat_delta");
    INFO(kind);
    TinyChatModel m(kind);  // context 24: the third turn passes it, so the cache is rebuilt once
    Session a(m.model, *m.tokenizer, kSampled);
    const TurnLimits limits = up_to(8);
    const Reply first = a.reply("hello", limits, {});
    REQUIRE(first.tokens == 8);
    REQUIRE(first.finish == "length");
    REQUIRE(a.tokens() == 5 + 8);
    const std::string path = temp_dir("session") + "/" + kind + ".safetensors";
    a.save(path);
    const std::string second = a.reply(" more", limits, {}).text;
    const std::string third = a.reply(" again", limits, {}).text;
    REQUIRE(a.tokens() == 5 + 8 + 5 + 8 + 6 + 8);

    Session b(m.model, *m.tokenizer, SampleOptions{.seed = 99});  // other settings and RNG: load replaces them
    b.reply("something else", limits, {});
    b.load(path);
    REQUIRE(b.tokens() == 13);
    REQUIRE(b.settings.top_p == kSampled.top_p);
    REQUIRE(b.reply(" more", limits, {}).text == second);
    REQUIRE(b.reply(" again", limits, {}).text == third);

    // A session saved before its first turn (empty caches: a KV cache with no filled slot) restores too.
    Session empty(m.model, *m.tokenizer, kSampled);
    empty.save(path);
    b.load(path);
    REQUIRE(b.tokens() == 0);
    REQUIRE(b.reply("hello", limits, {}).text == first.text);

    std::filesystem::remove(path);
}

TEST_CASE("session files: a different model or a damaged file is one clear error, the session unchanged",
          "[serve][session]") {
    TinyChatModel splat("splat"), softmax("softmax");
    Session a(splat.model, *splat.tokenizer, kSampled);
    a.reply("abc", up_to(4), {});
    const std::string path = temp_dir("session") + "/other.safetensors";
    a.save(path);
    Session b(softmax.model, *softmax.tokenizer, kSampled);
    b.reply("xy", up_to(3), {});
    REQUIRE_THROWS_WITH(b.load(path), Contains(path) && Contains("model of shape"));
    REQUIRE(b.tokens() == 5);
    REQUIRE_THROWS_WITH(b.load(path + ".missing"), Contains(".missing"));
    std::filesystem::remove(path);
}

TEST_CASE("session state: flat in conversation length for splat, growing for softmax", "[serve][session]") {
    TinyChatModel splat("splat", 256), softmax("softmax", 256);
    Session s(splat.model, *splat.tokenizer, kSampled), k(softmax.model, *softmax.tokenizer, kSampled);
    s.reply("a", up_to(4), {});
    k.reply("a", up_to(4), {});
    const int64_t splat_early = s.state_bytes(), softmax_early = k.state_bytes();
    REQUIRE(splat_early > 0);
    s.reply("b", up_to(40), {});
    k.reply("b", up_to(40), {});
    REQUIRE(s.state_bytes() == splat_early);
    REQUIRE(k.state_bytes() > 5 * softmax_early);
}

TEST_CASE("a turn stops at a stop string, streams only text that cannot begin one, and can be cancelled",
          "[serve][session]") {
    TinyChatModel m("splat");
    const SampleOptions greedy{.temperature = 0.f};
    Session plain(m.model, *m.tokenizer, greedy);
    const std::string text = plain.reply("The ", up_to(20), {}).text;
    REQUIRE(text.size() == 20);  // one byte per token
    const std::string stop = text.substr(9, 3);
    const size_t at = text.find(stop);

    Session stopped(m.model, *m.tokenizer, greedy);
    std::string streamed;
    const Reply r = stopped.reply("The ", {.max_tokens = 20, .stop = {"never-made", stop}},
                                  [&](const std::string& piece) { streamed += piece; });
    REQUIRE(r.finish == "stop");
    REQUIRE(r.text == text.substr(0, at));
    REQUIRE(streamed == r.text);
    REQUIRE(r.tokens == int64_t(at + stop.size()));

    Session cancelled(m.model, *m.tokenizer, greedy);
    int asked = 0;
    const Reply c = cancelled.reply("The ", up_to(20), {}, [&] { return ++asked > 3; });
    REQUIRE(c.finish == "cancelled");
    REQUIRE(c.text == text.substr(0, 3));
    REQUIRE_THROWS_WITH(cancelled.reply("x", {.max_tokens = 2, .stop = {""}}, {}), Contains("stop string is empty"));
}
