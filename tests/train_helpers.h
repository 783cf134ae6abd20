// train_helpers.h — what tests need to train and run small models: a temporary folder, a small
// synthetic corpus, a tiny training config (a dozen steps, about a second), a tiny trained chat
// model; and, through tests/shell.h, bin/splatlm run in a shell.
#pragma once
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "tensor/file_io.h"
#include "tensor/rng.h"
#include "tests/shell.h"
#include "splat/register.h"
#include "tensor/error.h"
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

}  // namespace splatlm::test
