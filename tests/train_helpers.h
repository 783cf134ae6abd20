// train_helpers.h — what the training tests share: scratch directories, a small synthetic corpus, a
// tiny config that trains in a fraction of a second, a tiny trained chat model, the training lines of
// a metrics log, and bin/splatlm started as a user would (through tests/shell.h, or as a child).
#pragma once
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "splat/register.h"
#include "tensor/error.h"
#include "tensor/file_io.h"
#include "tensor/rng.h"
#include "tests/helpers.h"
#include "tests/shell.h"
#include "train/checkpoint.h"
#include "train/train_config.h"
#include "train/trainer.h"

namespace splatlm::test {

inline std::string temp_dir(const std::string& name) {
    std::string dir = "/tmp/splatlm-test-" + std::to_string(::getpid()) + "-" + name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// ~40 KB of pseudo-English: enough windows in both splits for a tiny model.
inline std::string corpus_file() {
    static const std::string path = [] {
        const char* words[] = {"the", "lord", "said", "unto", "and", "of", "his", "people", "land", "in", "was", "light"};
        Rng rng(99);
        std::string text;
        while (text.size() < 40000) {
            text += words[rng.next_u64() % 12];
            text += rng.next_u64() % 9 == 0 ? ".\n" : " ";
        }
        std::string p = temp_dir("corpus") + "/corpus.txt";
        write_file_atomic(p, text);
        return p;
    }();
    return path;
}

inline TrainConfig tiny_config(const std::string& out) {
    TrainConfig c;
    c.data = corpus_file();
    c.model = GPTConfig{.context = 16, .layers = 1, .heads = 2, .width = 16};
    c.batch = 4, c.steps = 12, c.warmup = 3, c.lr = 3e-3, c.min_lr = 3e-4;
    c.log_every = 100, c.eval_every = 6, c.eval_batches = 3, c.sample_every = 12, c.sample_tokens = 8;
    c.checkpoint_every = 6;
    c.out = out;
    return c;
}

// A tiny splat model, trained once per test run on corpus_file() with its line breaks made spaces, so
// that its replies (which end at a newline in `chat`) run on until their token limit or a stop.
inline std::string chat_checkpoint() {
    static const std::string dir = [] {
        register_splat_attentions();
        std::string text = read_file(corpus_file());
        for (char& c : text)
            if (c == '\n') c = ' ';
        const std::string folder = temp_dir("chat-model");
        TrainConfig c = tiny_config(folder + "/run");
        c.data = folder + "/corpus.txt";
        write_file_atomic(c.data, text);
        c.model.attention = "splat";
        c.steps = 40, c.checkpoint_every = 40, c.eval_every = 40, c.sample_every = 40;
        if (run_training(c, "") != 0) throw Error("chat_checkpoint: training failed");
        return c.out;
    }();
    return dir;
}

inline std::vector<std::string> training_lines(const std::string& dir) {
    std::vector<std::string> lines;
    std::istringstream in(read_file(dir + "/metrics.jsonl"));
    for (std::string line; std::getline(in, line);)
        if (line.find("\"loss\"") != std::string::npos) lines.push_back(line.substr(0, line.find(",\"tokens_per_s\"")));
    return lines;
}

// Trains config(dir) once straight through and once stopped after step 6 and resumed, each in its own
// scratch directory named after `name`: both must log the same training lines and end with bitwise the
// same parameters. Returns the straight run's directory.
template <class MakeConfig>
std::string require_bitwise_resume(const std::string& name, const MakeConfig& config) {
    const std::string straight = temp_dir(name + "-straight"), split = temp_dir(name + "-split");
    REQUIRE(run_training(config(straight), "") == 0);
    REQUIRE(run_training(config(split), "", 6) == 0);  // a session that stops after step 6
    REQUIRE(load_model(split).step == 6);
    REQUIRE(run_training(config(split), split) == 0);  // ...and one that resumes
    REQUIRE(training_lines(straight) == training_lines(split));
    LoadedModel a = load_model(straight), b = load_model(split);
    for (size_t i = 0; i < a.model->parameters().size(); ++i)
        REQUIRE(a.model->parameters()[i].to_vector() == b.model->parameters()[i].to_vector());
    return straight;
}

// `config` as a `key = value` file for `splatlm train --config`; returns its path.
inline std::string write_config_file(const TrainConfig& config, const std::string& path) {
    std::string text;
    const Json json = config.to_json();
    for (const auto& [key, value] : json.as_object())
        if (key != "vocab") text += key + " = " + (value.is_string() ? value.as_string() : value.dump()) + "\n";
    write_file_atomic(path, text);
    return path;
}

// Starts bin/splatlm with `args`, its output going to `log`; returns the child's pid.
inline pid_t start_cli(const std::vector<std::string>& args, const std::string& log) {
    const std::string program = cli_path();
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {  // only async-signal-safe calls between fork and exec
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) ::_exit(127);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

// Waits for a child: its exit code, or 1000 + the signal that ended it.
inline int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

}  // namespace splatlm::test
