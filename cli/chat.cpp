// chat.cpp — `splatlm chat`: talk to a checkpoint. Each line you type is pushed into one Session
// (serve/session.h) and the model answers until it writes a newline; the cache carries the
// conversation, so no turn re-reads the ones before. Replies stream token by token. Ctrl-C stops the
// current reply, EOF (Ctrl-D) ends the chat. With stdin not a terminal there are no prompts: one
// reply line per input line, for scripts. Test: ./bin/tests "[chat]"
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/sampling_flags.h"
#include "serve/session.h"
#include "tensor/error.h"
#include "train/checkpoint.h"

namespace splatlm {

namespace {

volatile std::sig_atomic_t interrupted = 0;
void on_interrupt(int) { interrupted = 1; }

// Ctrl-C sets a flag the reply loop reads; SA_RESTART lets a read at the prompt carry on.
void catch_interrupts() {
    struct sigaction action = {};
    action.sa_handler = on_interrupt;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
}

void print(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

const char* kHelp =
    "/help              this list\n"
    "/reset             forget the conversation\n"
    "/save FILE         save the conversation (state, history, settings, RNG)\n"
    "/load FILE         continue a saved conversation\n"
    "/temperature [X]   show or set the sampling temperature (0 = greedy)\n"
    "/top-p [X]         show or set the nucleus mass, in (0, 1]\n"
    "/top-k [N]         show or set top-k (0 = all tokens)\n"
    "/tokens [N]        show or set the longest reply in tokens\n"
    "/stats             tokens in the conversation, state bytes, tokens/s\n"
    "Ctrl-C stops a reply; Ctrl-D (end of input) quits.\n";

// One slash command; errors are printed and the chat goes on.
void run_command(const std::string& line, Session& session) {
    std::istringstream words(line);
    std::string name, value;
    words >> name >> value;
    SampleOptions& s = session.settings;
    auto show_or_set = [&](const std::string& current, auto set) {
        if (value.empty()) return (void)std::printf("%s %s\n", name.c_str(), current.c_str()), (void)std::fflush(stdout);
        SampleOptions changed = s;
        set(changed);
        check_sample_options(changed);
        SPLATLM_CHECK(changed.tokens >= 0, "/tokens must be >= 0");
        s = changed;
    };
    if (name == "/help") {
        print(kHelp);
    } else if (name == "/reset") {
        session.reset();
        print("(conversation forgotten)\n");
    } else if (name == "/save" || name == "/load") {
        SPLATLM_CHECK(!value.empty(), name, " needs a file name");
        name == "/save" ? session.save(value) : session.load(value);
        std::printf("(%s %s)\n", name == "/save" ? "saved to" : "loaded", value.c_str());
        std::fflush(stdout);
    } else if (name == "/temperature") {
        show_or_set(std::to_string(s.temperature), [&](SampleOptions& o) { o.temperature = float(parse_double(value, name)); });
    } else if (name == "/top-p") {
        show_or_set(std::to_string(s.top_p), [&](SampleOptions& o) { o.top_p = float(parse_double(value, name)); });
    } else if (name == "/top-k") {
        show_or_set(std::to_string(s.top_k), [&](SampleOptions& o) { o.top_k = parse_int(value, name); });
    } else if (name == "/tokens") {
        show_or_set(std::to_string(s.tokens), [&](SampleOptions& o) { o.tokens = parse_int(value, name); });
    } else if (name == "/stats") {
        const double seconds = session.generation_seconds();
        std::printf("tokens %lld, state bytes %lld, generated %lld at %.1f tokens/s\n", (long long)session.tokens(),
                    (long long)session.state_bytes(), (long long)session.generated_tokens(),
                    seconds > 0 ? double(session.generated_tokens()) / seconds : 0.0);
        std::fflush(stdout);
    } else {
        fail("unknown command ", name, " (see /help)");
    }
}

}  // namespace

int cmd_chat(int argc, char** argv) {
    std::vector<OptionSpec> flags = {{"ckpt", true, "run directory holding model.safetensors"},
                                     {"device", true, "cpu | cuda: where the model runs (default cpu)"},
                                     {"load", true, "start from a conversation saved with /save"}};
    for (OptionSpec& s : sampling_flags("longest reply in tokens (default 200)")) flags.push_back(s);
    Args args("chat", flags, argc, argv, 2);
    if (args.help()) return std::printf("%s%s", args.usage().c_str(), kHelp), 0;
    SPLATLM_CHECK(args.has("ckpt"), "chat: --ckpt DIR is required");
    LoadedModel loaded = load_model_on(args.get("ckpt", ""), args.get("device", "cpu"), "chat");
    Session session(*loaded.model, *loaded.tokenizer, read_sampling_flags(args));
    if (args.has("load")) session.load(args.get("load", ""));
    const bool terminal = ::isatty(STDIN_FILENO);
    if (terminal)
        std::printf("chatting with %s (%s attention); /help lists the commands, Ctrl-D quits\n",
                    args.get("ckpt", "").c_str(), loaded.config.model.attention.c_str());
    catch_interrupts();
    std::string line;
    while (true) {
        interrupted = 0;  // a Ctrl-C typed from here on stops the coming reply
        if (terminal) print("> ");
        if (!std::getline(std::cin, line)) break;
        if (!line.empty() && line[0] == '/') {
            try {
                run_command(line, session);
            } catch (const Error& e) {
                std::fprintf(stderr, "error: %s\n", e.what());
            }
            continue;
        }
        const Reply reply = session.reply(line + "\n", {.max_tokens = session.settings.tokens, .stop = {"\n"}}, print,
                                          [] { return interrupted != 0; });
        print(reply.finish == "cancelled" ? " [stopped]\n" : "\n");
    }
    if (terminal) print("\n");
    return 0;
}

}  // namespace splatlm
