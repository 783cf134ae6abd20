// Faults a careful adversarial user finds (issue 20): sizes that overflow or exhaust memory,
// checkpoints that survive kill -9 and Ctrl-C, damaged logs and files, symlinks, a second writer,
// non-finite weights. ./bin/tests "[faults]"; the 50-kill campaign is `make bench-faults`.
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "splat/register.h"
#include "tests/helpers.h"
#include "tests/train_helpers.h"
#include "train/batch.h"
#include "train/checkpoint.h"
#include "train/memory_budget.h"
#include "train/run_lock.h"
#include "train/safetensors.h"
#include "train/trainer.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

void require_one_error_line(const CliResult& r, const std::string& names) {
    INFO(r.output);
    REQUIRE(r.code == 1);
    REQUIRE(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    REQUIRE_THAT(r.output, Contains(names));
}

// Rewrites one key of the config stored in a checkpoint's model.safetensors.
void set_checkpoint_config(const std::string& run_dir, const std::string& key, const Json& value) {
    const std::string path = checkpoint_directory(run_dir) + "/model.safetensors";
    SafetensorsFile f = load_safetensors(path);
    Json config = Json::parse(f.metadata["config"]);
    config.set(key, value);
    f.metadata["config"] = config.dump();
    save_safetensors(path, f.tensors, f.metadata);
}

// Polls until `ready()` while the child `pid` runs; a child that ended first fails the test (no hang).
template <class Ready>
void wait_while_running(pid_t pid, Ready ready) {
    while (!ready()) {
        siginfo_t info{};
        ::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT);  // peeks: wait_exit still reaps it
        REQUIRE(info.si_pid == 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

bool has_training_lines(const std::string& dir, size_t n) {
    return fs::exists(dir + "/metrics.jsonl") && training_lines(dir).size() >= n;
}

}  // namespace

// ---- 1. sizes ---------------------------------------------------------------

TEST_CASE("sizes: numel overflow and mismatched batches are errors, not huge or short buffers", "[faults][sizes]") {
    REQUIRE_THROWS_WITH(Tensor::empty({int64_t(1) << 40, int64_t(1) << 40}), Contains("too many elements"));
    const std::vector<int32_t> two_windows(2 * 5, 7);
    REQUIRE(make_batch(two_windows, 2, 4).targets.ids.size() == 8);
    REQUIRE_THROWS_WITH(make_batch(two_windows, int64_t(1) << 58, 4), Contains("make_batch"));
    REQUIRE_THROWS_WITH(make_batch(two_windows, 3, 4), Contains("make_batch"));
}

TEST_CASE("config: every numeric key is range-checked, naming the key", "[faults][sizes][config]") {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"batch", "288230376151711745"}, {"lr", "1e39"},        {"lr", "0"},          {"min_lr", "1"},
        {"layers", "1000000000"},        {"context", "0"},      {"width", "100000"},  {"heads", "256"},
        {"sample_tokens", "99999999999"}, {"eval_batches", "0"}, {"beta2", "1"},       {"grad_clip", "1e300"},
        {"keep_checkpoints", "0"},       {"steps", "0"},        {"bpe_vocab", "100"}, {"splats", "100000"},
    };
    for (const auto& [key, value] : bad) {
        INFO(key << " = " << value);
        TrainConfig c;
        set_config_key(c, key, value);
        REQUIRE_THROWS_WITH(c.validate(), Contains("'" + key + "'"));
    }
    TrainConfig drawable;  // 64 heads of width 64: one dimension per head, no plane to draw splats in
    set_config_key(drawable, "width", "64");
    set_config_key(drawable, "heads", "64");
    drawable.validate();
    set_config_key(drawable, "viz_every", "5");
    REQUIRE_THROWS_WITH(drawable.validate(), Contains("'viz_every'"));
}

TEST_CASE("memory budget: an estimate against available memory, naming the key that breaks it", "[faults][sizes][budget]") {
    TrainConfig c;
    const double small = estimated_bytes(c, MemoryUse::train);
    REQUIRE(small > 0);
    REQUIRE(estimated_bytes(c, MemoryUse::inspect) < estimated_bytes(c, MemoryUse::evaluate));
    REQUIRE(estimated_bytes(c, MemoryUse::evaluate) < small);
    REQUIRE_NOTHROW(check_memory_budget(c, MemoryUse::train, "train", 1e12));
    REQUIRE_THROWS_WITH(check_memory_budget(c, MemoryUse::train, "train", small / 2), Contains("memory is available"));
    c.model.width = 65536, c.model.heads = 1;
    REQUIRE_THROWS_WITH(check_memory_budget(c, MemoryUse::train, "train", 64e9), Contains("config key 'width'"));
    TrainConfig wide_batch;
    wide_batch.batch = 1 << 20;
    REQUIRE_THROWS_WITH(check_memory_budget(wide_batch, MemoryUse::train, "train", 64e9), Contains("config key 'batch'"));
    REQUIRE(available_bytes() > 0);
}

TEST_CASE("CLI: impossible sizes fail in one line naming the flag, before memory is taken", "[faults][sizes][cli]") {
    const std::string dir = temp_dir("sizes-cli"), data = " --data " + corpus_file() + " --out " + dir + "/run";
    require_one_error_line(run_cli("train --steps 20 --batch 288230376151711745" + data), "'batch'");
    require_one_error_line(run_cli("train --lr 1e39" + data), "'lr'");
    require_one_error_line(run_cli("train --sample_tokens 99999999999" + data), "'sample_tokens'");
    require_one_error_line(run_cli("train --width 65536 --heads 1" + data), "memory is available");
    REQUIRE_FALSE(has_checkpoint(dir + "/run"));
    // A checkpoint whose stored config is impossible fails as fast.
    REQUIRE(run_training(tiny_config(dir + "/ok"), "", 6) == 0);
    require_one_error_line(run_cli("eval --batches -1 --ckpt " + dir + "/ok"), "--batches");
    require_one_error_line(run_cli("generate --tokens 99999999999 --ckpt " + dir + "/ok"), "--tokens");
    require_one_error_line(run_cli("generate --temperature 1e39 --ckpt " + dir + "/ok"), "--temperature");
    set_checkpoint_config(dir + "/ok", "batch", Json(int64_t(288230376151711745)));
    require_one_error_line(run_cli("train --resume " + dir + "/ok"), "'batch'");
    set_checkpoint_config(dir + "/ok", "batch", Json(int64_t(4)));
    set_checkpoint_config(dir + "/ok", "layers", Json(int64_t(1000000000)));
    require_one_error_line(run_cli("info --ckpt " + dir + "/ok"), "'layers'");
    set_checkpoint_config(dir + "/ok", "layers", Json(int64_t(4096)));
    set_checkpoint_config(dir + "/ok", "width", Json(int64_t(8192)));
    require_one_error_line(run_cli("info --ckpt " + dir + "/ok"), "memory is available");
}

TEST_CASE("pictures that cannot be drawn after training are a warning, not a failed run", "[faults][sizes][cli]") {
    const std::string dir = temp_dir("pictures");
    TrainConfig c = tiny_config(dir + "/run");
    c.model.attention = "splat", c.model.heads = 16;  // width 16: one dimension per head
    c.steps = 2, c.eval_every = 2, c.sample_every = 2;
    const CliResult r = run_cli("train --config " + write_config_file(c, dir + "/run.cfg"));
    INFO(r.output);
    REQUIRE(r.code == 0);
    REQUIRE_THAT(r.output, Contains("warning: pictures not drawn"));
    register_splat_attentions();
    REQUIRE(load_model(dir + "/run").step == 2);
}

// ---- 2. checkpoints as one unit -------------------------------------------

TEST_CASE("checkpoints: one published step directory per save, the newest N kept", "[faults][checkpoint]") {
    const std::string dir = temp_dir("steps");
    TrainConfig c = tiny_config(dir);
    c.checkpoint_every = 2, c.keep_checkpoints = 2;
    REQUIRE(run_training(c, "") == 0);
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir + "/checkpoints")) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    REQUIRE(names == std::vector<std::string>{"step-000000010", "step-000000012"});
    REQUIRE(checkpoint_directory(dir) == dir + "/checkpoints/step-000000012");
    for (const char* file : {"model.safetensors", "optimizer.safetensors", "tokenizer.txt"})
        REQUIRE(fs::exists(dir + "/checkpoints/step-000000010/" + file));
    REQUIRE(load_model(dir + "/checkpoints/step-000000010").step == 10);  // a step directory loads by name
    REQUIRE_THROWS_WITH(load_model(dir + "/nothing"), Contains("no checkpoint"));
}

TEST_CASE("checkpoints: the older one-directory layout still loads and resumes", "[faults][checkpoint]") {
    const std::string dir = temp_dir("old-layout"), old = dir + "/old";
    REQUIRE(run_training(tiny_config(dir + "/new"), "", 6) == 0);
    fs::create_directories(old);
    for (const char* file : {"model.safetensors", "optimizer.safetensors", "tokenizer.txt"})
        fs::copy_file(checkpoint_directory(dir + "/new") + "/" + file, old + "/" + file);
    REQUIRE(load_model(old).dir == old);
    REQUIRE(load_model(old).step == 6);
    REQUIRE(run_training(tiny_config(old), old) == 0);
    REQUIRE(checkpoint_directory(old) == old + "/checkpoints/step-000000012");
}

TEST_CASE("checkpoints: a flipped data byte fails its checksum; --no-verify loads it", "[faults][checkpoint]") {
    const std::string dir = temp_dir("crc");
    REQUIRE(run_training(tiny_config(dir), "", 6) == 0);
    const std::string path = checkpoint_directory(dir) + "/model.safetensors";
    std::string bytes = read_file(path);
    bytes[bytes.size() - 5] ^= 0x10;
    write_file_atomic(path, bytes);
    REQUIRE_THROWS_WITH(load_model(dir), Contains("checksum") && Contains("model.safetensors"));
    REQUIRE(load_model(dir, Verify::skip).step == 6);
    require_one_error_line(run_cli("eval --ckpt " + dir), "checksum");
    REQUIRE_THROWS_WITH(run_training(tiny_config(dir), dir), Contains("checksum"));
}

TEST_CASE("resume never needs metrics.jsonl: a damaged log is cut back to the checkpoint with one warning",
          "[faults][checkpoint][resume]") {
    const std::string straight = temp_dir("log-straight"), cut = temp_dir("log-cut"), gone = temp_dir("log-gone");
    REQUIRE(run_training(tiny_config(straight), "") == 0);
    for (const std::string& dir : {cut, gone}) REQUIRE(run_training(tiny_config(dir), "", 6) == 0);
    {  // a full disk leaves `{"`; garbage in the middle too
        std::FILE* f = std::fopen((cut + "/metrics.jsonl").c_str(), "a");
        std::fputs("garbage\n{\"step\":7,\"lo", f);
        std::fclose(f);
    }
    fs::remove(gone + "/metrics.jsonl");
    REQUIRE(run_training(tiny_config(cut), cut) == 0);
    REQUIRE(training_lines(cut) == training_lines(straight));
    REQUIRE(run_training(tiny_config(gone), gone) == 0);
    REQUIRE(training_lines(gone).size() == 6);
}

// ---- 3. signals ---------------------------------------------------------------

TEST_CASE("SIGINT and SIGTERM finish the step, checkpoint, say how to resume, exit 130 / 143", "[faults][signals]") {
    for (const int signal : {SIGINT, SIGTERM}) {
        const std::string dir = temp_dir("signal-" + std::to_string(signal));
        TrainConfig c = tiny_config(dir + "/run");
        c.steps = 100000, c.checkpoint_every = 100000, c.eval_every = 100000, c.sample_every = 100000;
        const pid_t pid = start_cli({"train", "--config", write_config_file(c, dir + "/run.cfg")}, dir + "/log");
        wait_while_running(pid, [&] { return has_training_lines(dir + "/run", 3); });
        ::kill(pid, signal);
        REQUIRE(wait_exit(pid) == 128 + signal);
        const std::string log = read_file(dir + "/log");
        INFO(log);
        REQUIRE_THAT(log, Contains("splatlm train --resume " + dir + "/run"));
        const int64_t step = load_model(dir + "/run").step;
        REQUIRE(step >= 3);
        const CliResult more = run_cli("train --resume " + dir + "/run --steps " + std::to_string(step + 2));
        INFO(more.output);
        REQUIRE(more.code == 0);
        REQUIRE(load_model(dir + "/run").step == step + 2);
    }
}

TEST_CASE("a second SIGINT ends training at once, leaving the last published checkpoint", "[faults][signals]") {
    const std::string dir = temp_dir("signal-twice");
    TrainConfig c = tiny_config(dir + "/run");
    c.model = GPTConfig{.context = 128, .layers = 4, .heads = 4, .width = 256};  // steps long enough to interrupt
    c.steps = 100000, c.batch = 16, c.checkpoint_every = 100000, c.eval_every = 100000, c.sample_every = 100000;
    const pid_t pid = start_cli({"train", "--config", write_config_file(c, dir + "/run.cfg")}, dir + "/log");
    wait_while_running(pid, [&] { return has_training_lines(dir + "/run", 1); });
    ::kill(pid, SIGINT);
    wait_while_running(pid, [&] {  // the first one has landed
        return read_file(dir + "/log").find("finishing the current step") != std::string::npos;
    });
    ::kill(pid, SIGINT);
    REQUIRE(wait_exit(pid) == 130);
    INFO(read_file(dir + "/log"));
    REQUIRE_FALSE(has_checkpoint(dir + "/run"));  // it did not wait for the step to end
}

// ---- 4. one writer, no symlinks, no stale temporaries -----------------------------

TEST_CASE("one writer per run directory: a second one gets a clear error", "[faults][lock]") {
    const std::string dir = temp_dir("lock");
    REQUIRE(run_training(tiny_config(dir), "", 6) == 0);
    {
        RunLock held(dir);
        REQUIRE_THROWS_WITH(RunLock(dir), Contains("in use"));
        REQUIRE_THROWS_WITH(run_training(tiny_config(dir), dir), Contains("in use"));
        require_one_error_line(run_cli("train --resume " + dir), "in use");
    }
    REQUIRE(run_training(tiny_config(dir), dir) == 0);  // released with its holder
}

TEST_CASE("no file is written through a symlink; stale temporaries are removed on the next start", "[faults][files]") {
    const std::string dir = temp_dir("symlink");
    write_file_atomic(dir + "/victim", "precious");
    fs::create_directories(dir + "/run");
    fs::create_symlink(dir + "/victim", dir + "/run/metrics.jsonl");
    REQUIRE_THROWS_WITH(run_training(tiny_config(dir + "/run"), ""), Contains("symbolic link"));
    REQUIRE(read_file(dir + "/victim") == "precious");

    const std::string run = dir + "/stale";
    REQUIRE(run_training(tiny_config(run), "", 6) == 0);
    fs::create_directories(run + "/checkpoints/.tmp-step-000000008-999");
    write_file_atomic(run + "/checkpoints/.tmp-step-000000008-999/model.safetensors", "half");
    write_file_atomic(run + "/.metrics.jsonl.tmp-999-0", "half");
    REQUIRE(checkpoint_directory(run) == run + "/checkpoints/step-000000006");  // never a temporary
    REQUIRE(run_training(tiny_config(run), run) == 0);
    REQUIRE_FALSE(fs::exists(run + "/checkpoints/.tmp-step-000000008-999"));
    REQUIRE_FALSE(fs::exists(run + "/.metrics.jsonl.tmp-999-0"));
}

// ---- 5. non-finite weights --------------------------------------------------------------

TEST_CASE("NaN/Inf weights: info reports them, eval and generate refuse", "[faults][nonfinite]") {
    const std::string dir = temp_dir("nonfinite");
    REQUIRE(run_training(tiny_config(dir), "", 6) == 0);
    REQUIRE(non_finite_weights(*load_model(dir).model).empty());
    const std::string path = checkpoint_directory(dir) + "/model.safetensors";
    SafetensorsFile f = load_safetensors(path);
    f.tensors[0].second.data()[3] = NAN;
    f.tensors[0].second.data()[4] = INFINITY;
    save_safetensors(path, f.tensors, f.metadata);
    REQUIRE_THAT(non_finite_weights(*load_model(dir).model), Contains(f.tensors[0].first + " (2)"));
    const CliResult info = run_cli("info --ckpt " + dir);
    INFO(info.output);
    REQUIRE(info.code == 1);
    REQUIRE_THAT(info.output, Contains("NaN/Inf weights in " + f.tensors[0].first));
    require_one_error_line(run_cli("eval --ckpt " + dir), "NaN/Inf");
    require_one_error_line(run_cli("generate --tokens 5 --ckpt " + dir), "NaN/Inf");
}

// ---- 6. kill -9 at random moments ------------------------------------------------------

namespace {

// Trains a tiny run straight through; then trains the same run again in rounds, each in a fresh
// directory, SIGKILLing every session at a random moment of its life and restarting it (resuming
// from the newest checkpoint, or afresh when none was published yet) until a session finishes.
// Every restart must work, and every round's losses and weights must equal the straight run's
// bitwise. Rounds continue until `kills` kills have landed in a running training.
void kill9_campaign(int kills, int64_t steps, uint64_t seed) {
    const std::string dir = temp_dir("kill9");
    auto config = [&](const std::string& out) {
        TrainConfig c = tiny_config(out);
        c.model.dropout = 0.1f;  // the dropout stream must resume exactly too
        c.steps = steps, c.checkpoint_every = 2, c.keep_checkpoints = 2;
        c.eval_every = 10, c.sample_every = steps / 2, c.log_every = 1000;
        return c;
    };
    const std::string straight = dir + "/straight";
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(wait_exit(start_cli({"train", "--config", write_config_file(config(straight), dir + "/straight.cfg")},
                                dir + "/straight.log")) == 0);
    const double run_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    const std::vector<std::string> expected = training_lines(straight);
    const LoadedModel reference = load_model(straight);

    Rng rng(seed);
    int landed = 0, rounds = 0;
    while (landed < kills) {
        const std::string killed = dir + "/killed-" + std::to_string(rounds++);
        const std::string fresh = write_config_file(config(killed), killed + ".cfg");
        for (bool finished = false; !finished;) {
            const pid_t pid = start_cli(has_checkpoint(killed) ? std::vector<std::string>{"train", "--resume", killed}
                                                               : std::vector<std::string>{"train", "--config", fresh},
                                        killed + ".log");
            if (landed < kills) {
                std::this_thread::sleep_for(std::chrono::microseconds(int64_t(run_us * double(rng.next_u64() % 1000) / 1000)));
                ::kill(pid, SIGKILL);
            }
            const int code = wait_exit(pid);
            INFO("round " << rounds << ": " << read_file(killed + ".log"));
            REQUIRE((code == 1000 + SIGKILL || code == 0));  // killed, or done: never a failed restart
            finished = code == 0;
            landed += !finished;
        }
        REQUIRE(training_lines(killed) == expected);
        const LoadedModel resumed = load_model(killed);
        REQUIRE(resumed.step == steps);
        for (size_t i = 0; i < reference.model->parameters().size(); ++i)
            REQUIRE(reference.model->parameters()[i].to_vector() == resumed.model->parameters()[i].to_vector());
    }
    std::printf("kill -9 campaign: %d kills in %d runs of %lld steps; every run resumed, losses and weights bitwise equal\n",
                landed, rounds, (long long)steps);
}

}  // namespace

TEST_CASE("kill -9 at random moments: every run resumes, losses bitwise equal to an uninterrupted run",
          "[faults][kill9]") {
    kill9_campaign(5, 40, 20);
}

TEST_CASE("kill -9 campaign: 50 kills (make bench-faults)", "[.][bench-faults]") { kill9_campaign(50, 200, 50); }
