// `splatlm chat` end to end on a tiny trained model: piped stdin (one reply per line, slash commands,
// a saved conversation continuing bitwise in another process) and a pseudo-terminal (prompt,
// streaming, Ctrl-C stops the reply and not the program, Ctrl-D quits with status 0).
// Run: ./bin/tests "[chat]"
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "tests/helpers.h"
#include "tests/train_helpers.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// Runs `splatlm chat` with `script` on stdin (not a terminal); stdout and stderr together.
CliResult chat_piped(const std::string& flags, const std::string& script, const std::string& name) {
    const std::string input = temp_dir("chat-" + name) + "/input.txt";
    write_file_atomic(input, script);
    return run_cli("chat --ckpt " + chat_checkpoint() + " " + flags + " < " + input);
}

// A child process on a pseudo-terminal, read with a deadline so that no test can hang.
struct Terminal {
    pid_t pid = -1;
    int fd = -1;
    std::string seen;

    explicit Terminal(const std::vector<std::string>& argv) {
        pid = ::forkpty(&fd, nullptr, nullptr, nullptr);
        REQUIRE(pid >= 0);
        if (pid == 0) {
            std::vector<char*> args;
            for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    ~Terminal() {
        if (pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0) ::kill(pid, SIGKILL), ::waitpid(pid, nullptr, 0);
        if (fd >= 0) ::close(fd);
    }
    void type(const std::string& keys) { REQUIRE(::write(fd, keys.data(), keys.size()) == ssize_t(keys.size())); }
    // Reads until `text` appears after offset `from` of everything seen; false after 20 s without it.
    bool wait_for(const std::string& text, size_t from = 0) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (seen.find(text, from) == std::string::npos) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 200) <= 0) continue;
            char buf[4096];
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) return seen.find(text, from) != std::string::npos;
            seen.append(buf, size_t(n));
        }
        return true;
    }
    int exit_status() {  // waits at most 20 s
        for (int i = 0; i < 200; ++i) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) return pid = -1, WIFEXITED(status) ? WEXITSTATUS(status) : -2;
            ::usleep(100000);
        }
        return -1;
    }
};

}  // namespace

TEST_CASE("chat with piped stdin: one reply per line, slash commands, errors that do not end it", "[chat]") {
    const CliResult r = chat_piped("--tokens 30", "the lord\n/temperature 0\n/stats\n/top-p 2\n/bogus\nhis people\n", "piped");
    INFO(r.output);
    REQUIRE(r.code == 0);
    REQUIRE_THAT(r.output, Contains("top-p must be in (0, 1], got 2") && Contains("unknown command /bogus"));
    std::vector<std::string> replies;
    for (const std::string& line : lines_of(r.output))
        if (line.rfind("error:", 0) != 0 && line.rfind("tokens ", 0) != 0) replies.push_back(line);
    REQUIRE(replies.size() == 2);
    for (const std::string& reply : replies) REQUIRE(reply.size() == 30);  // no newline made: the token limit
    // "the lord\n" and 30 tokens: the stats line counts the conversation and the splat state.
    REQUIRE_THAT(r.output, Contains("tokens 39, state bytes ") && Contains("generated 30 at"));
    REQUIRE(run_cli("chat").output.find("--ckpt DIR is required") != std::string::npos);
}

TEST_CASE("chat: a conversation saved with /save continues bitwise after /load in another process", "[chat]") {
    const std::string file = temp_dir("chat-save") + "/talk.safetensors";
    const CliResult first = chat_piped("--tokens 20 --temperature 0.9",
                                       "the lord\n/save " + file + "\nhis people\nand the land\n", "save");
    const CliResult second = chat_piped("--tokens 5 --temperature 0.3 --seed 7",  // replaced by the loaded settings
                                        "/load " + file + "\nhis people\nand the land\n", "load");
    INFO(first.output << "\n---\n" << second.output);
    REQUIRE(first.code == 0);
    REQUIRE(second.code == 0);
    const std::vector<std::string> a = lines_of(first.output), b = lines_of(second.output);
    REQUIRE(a.size() == 4);
    REQUIRE(b.size() == 3);
    REQUIRE(a[2].size() == 20);
    REQUIRE(b[1] == a[2]);
    REQUIRE(b[2] == a[3]);
    const CliResult missing = chat_piped("", "/load " + file + ".nope\n", "missing");
    REQUIRE(missing.code == 0);
    REQUIRE_THAT(missing.output, Contains("error:") && Contains(".nope"));
}

TEST_CASE("chat on a terminal: streams, Ctrl-C stops the reply and not the program, Ctrl-D quits", "[chat]") {
    Terminal chat({cli_path(), "chat", "--ckpt", chat_checkpoint(), "--tokens", "10000000", "--top-k", "3"});
    REQUIRE(chat.wait_for("Ctrl-D quits"));
    REQUIRE(chat.wait_for("> "));
    chat.type("the lord\n");
    REQUIRE(chat.wait_for("lord\r\n"));
    // Part of the reply has streamed while it is still being made (10^8 tokens take hours).
    const size_t reply_start = chat.seen.find("lord\r\n") + 6;
    REQUIRE(chat.wait_for(" ", reply_start));
    chat.type("\x03");
    REQUIRE(chat.wait_for("[stopped]"));
    const size_t after = chat.seen.find("[stopped]");
    REQUIRE(chat.wait_for("> ", after));
    chat.type("/stats\n");
    REQUIRE(chat.wait_for("state bytes", after));
    chat.type("\x04");
    REQUIRE(chat.exit_status() == 0);
}
