// The training stack end to end on a small synthetic corpus: config layering, checkpoint round
// trips, bitwise-identical resume, bad checkpoints, sampling, and the CLI's error contract.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nn/flat_parameters.h"
#include "cuda/runtime.h"
#include "splat/register.h"
#include "splat/splat_attention.h"
#include "tensor/gemm.h"
#include "tensor/file_io.h"
#include "tests/helpers.h"
#include "tests/train_helpers.h"
#include "train/checkpoint.h"
#include "train/json.h"
#include "train/safetensors.h"
#include "train/sampler.h"
#include "train/trainer.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;
namespace fs = std::filesystem;

TEST_CASE("config layering: defaults, preset, file, flags; unknown keys rejected", "[train][config]") {
    const std::string dir = temp_dir("config");
    write_file_atomic(dir + "/run.cfg", "# a comment\nlayers = 3   # trailing comment\n\nlr=0.005\n");
    std::vector<std::string> words = {"--preset", "tiny", "--config", dir + "/run.cfg", "--lr", "0.01", "--out", "x"};
    TrainConfig c = resolve_train_config(Args("train", train_options(), words));
    REQUIRE(c.model.width == 64);   // preset
    REQUIRE(c.model.layers == 3);   // file over preset
    REQUIRE(c.lr == 0.01);          // flag over file
    REQUIRE(TrainConfig::from_json(c.to_json()).to_json() == c.to_json());
    write_file_atomic(dir + "/bad.cfg", "layers = 3\nlayerz = 4\n");
    REQUIRE_THROWS_WITH(apply_config_text(c, read_file(dir + "/bad.cfg"), "bad.cfg"),
                        Contains("bad.cfg:2") && Contains("unknown config key 'layerz'"));
    REQUIRE_THROWS_WITH(set_config_key(c, "steps", "12x"), Contains("steps") && Contains("12x"));
    set_config_key(c, "decay_all", "true");
    REQUIRE(c.decay_all);
    REQUIRE(TrainConfig::from_json(c.to_json()).decay_all);
    REQUIRE_THROWS_WITH(set_config_key(c, "decay_all", "maybe"), Contains("true or false"));
    REQUIRE_THROWS_WITH(apply_preset(c, "huge"), Contains("unknown preset 'huge'"));
    REQUIRE_THROWS_WITH(Args("train", train_options(), std::vector<std::string>{"--stepz", "3"}),
                        Contains("unknown option --stepz"));
}

TEST_CASE("config: splat decay is the default, older checkpoints stay plain, misplaced variants are refused",
          "[train][config]") {
    TrainConfig c;
    REQUIRE(c.model.attention == "splat");
    REQUIRE(c.model.splat_decay);
    REQUIRE(TrainConfig::from_json(c.to_json()).model.splat_decay);
    Json old = c.to_json();  // a checkpoint config written before the key existed
    Json::Object without;
    for (const auto& [name, value] : old.as_object())
        if (name != "splat_decay") without.emplace_back(name, value);
    REQUIRE_FALSE(TrainConfig::from_json(Json(without)).model.splat_decay);
    GPTConfig m{.attention = "softmax", .splat_decay = true};
    m.validate();  // decay has nothing to act on in softmax: allowed (it is the training default)
    m.splat_gate = true;
    REQUIRE_THROWS_WITH(m.validate(), Contains("splat_gate") && Contains("softmax"));
    GPTConfig top{.attention = "splat", .splats = 8, .splat_top = 2};
    top.validate();
    top.splat_top = 9;
    REQUIRE_THROWS_WITH(top.validate(), Contains("splat_top"));
    top.splat_top = 2, top.attention = "linear";
    REQUIRE_THROWS_WITH(top.validate(), Contains("splat_top") && Contains("linear"));
    TrainConfig delta;  // the delta rule has CUDA kernels (cuda/delta_scan.h): both kinds are allowed there
    delta.model.layer_kinds = "splat,splat_delta,delta,splat", delta.device = "cuda";
    delta.validate();
}

TEST_CASE("a run with splat_diversity > 0 logs the regulariser beside the LM loss", "[train][diversity]") {
    register_splat_attentions();
    const std::string dir = temp_dir("diversity");
    TrainConfig c = tiny_config(dir);
    c.model.attention = "splat_local", c.model.splats = 4, c.model.window = 4;
    c.steps = 20, c.eval_every = 20, c.sample_every = 20, c.checkpoint_every = 20, c.log_every = 10;
    c.splat_diversity = 0.5;
    REQUIRE(run_training(c, "") == 0);
    std::vector<std::string> lines = training_lines(dir);
    REQUIRE(lines.size() == 20);
    std::istringstream in(read_file(dir + "/metrics.jsonl"));
    int with_key = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.find("\"loss\"") == std::string::npos) continue;
        Json j = Json::parse(line);
        const double r = j.at("splat_diversity").as_double(), loss = j.at("loss").as_double();
        REQUIRE(r > 0);
        REQUIRE(r <= 1);
        REQUIRE(loss > 1);  // the LM loss alone (a char model near ln 27 at the start), not loss + 0.5·R
        ++with_key;
    }
    REQUIRE(with_key == 20);
    // Off by default: no key.
    const std::string plain = temp_dir("no-diversity");
    TrainConfig p = tiny_config(plain);
    p.steps = 2;
    REQUIRE(run_training(p, "") == 0);
    REQUIRE(read_file(plain + "/metrics.jsonl").find("splat_diversity") == std::string::npos);
}

TEST_CASE("checkpoint: save then load gives identical logits", "[train][checkpoint]") {
    const std::string kind = GENERATE("splat", "delta", "splat_delta");
    const std::string dir = temp_dir("ckpt-" + kind);
    TrainConfig c = tiny_config(dir);
    c.model.attention = kind;
    REQUIRE(run_training(c, "") == 0);
    LoadedModel a = load_model(dir), b = load_model(dir);
    REQUIRE(a.step == 12);
    Indices ids{{1, 16}, std::vector<int32_t>(16)};
    for (int t = 0; t < 16; ++t) ids.ids[t] = 97 + t % 20;
    REQUIRE(a.model->forward(ids).to_vector() == b.model->forward(ids).to_vector());
    // The file parses as safetensors with the documented metadata.
    SafetensorsFile f = load_safetensors(checkpoint_directory(dir) + "/model.safetensors");
    REQUIRE(f.metadata.count("config"));
    REQUIRE(f.metadata.count("tokenizer"));
    REQUIRE(f.tensors.size() == a.model->named_parameters().size());
    // The run also leaves its training curves as a PNG.
    const std::string png = read_file(dir + "/loss.png");
    REQUIRE(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_CASE("resume gives bitwise-identical losses to an uninterrupted run", "[train][checkpoint][resume]") {
    const std::string straight = require_bitwise_resume("resume", [](const std::string& out) {
        TrainConfig c = tiny_config(out);
        c.model.dropout = 0.1f;  // the dropout stream must resume exactly too
        return c;
    });
    REQUIRE(training_lines(straight).size() == 12);
    REQUIRE(read_file(checkpoint_directory(straight) + "/model.safetensors").substr(0, 64).size() == 64);
}

TEST_CASE("splat life: logged, and a resumed run adapts bitwise like an uninterrupted one", "[train][splat_rescue][splat_life][resume]") {
    register_splat_attentions();
    // rescue at K = 8; then death, birth, mitosis and merge in 12 slots, which leave K different per head
    const bool rescue = GENERATE(true, false);
    const std::string name = rescue ? "rescue" : "life";
    const std::string straight = temp_dir(name + "-straight"), split = temp_dir(name + "-split");
    auto config = [&](const std::string& out) {
        TrainConfig c = tiny_config(out);
        c.model.attention = "splat", c.model.splats = 8, c.model.splat_top = 2;  // routing leaves splats unread: some die
        c.splat_init = "kmeans", c.adapt_every = 2, c.adapt_start = 2, c.dead_evals = 2;
        c.splat_adapt = rescue ? "rescue" : "rescue,death,birth,mitosis,merge";  // rescue once at min_splats
        if (!rescue) c.model.max_splats = 12, c.min_splats = 4, c.splat_seat = "queries";
        return c;
    };
    REQUIRE(run_training(config(straight), "") == 0);
    REQUIRE(run_training(config(split), "", rescue ? 6 : 3) == 0);
    if (!rescue) {  // the checkpoint resumed from holds a different live count per head (a birth at step 2)
        LoadedModel stopped = load_model(split);
        const auto& attn = dynamic_cast<const SplatAttention&>(stopped.model->block(0).attention());
        REQUIRE(attn.live_splats(0) != attn.live_splats(1));
    }
    REQUIRE(run_training(config(split), split) == 0);
    REQUIRE(training_lines(straight) == training_lines(split));
    const std::string events = read_file(straight + "/splat_events.jsonl");
    REQUIRE(events.find(rescue ? "\"kind\":\"rescue\"" : "\"kind\":\"death\"") != std::string::npos);
    REQUIRE(events.find("\"step\":8,") != std::string::npos);  // events after the resume point too
    REQUIRE(events == read_file(split + "/splat_events.jsonl"));
    REQUIRE(read_file(straight + "/splat_health.jsonl") == read_file(split + "/splat_health.jsonl"));
    LoadedModel a = load_model(straight), b = load_model(split);
    for (size_t i = 0; i < a.model->parameters().size(); ++i)
        REQUIRE(a.model->parameters()[i].to_vector() == b.model->parameters()[i].to_vector());
    // counts per layer beside the evaluation
    REQUIRE(read_file(straight + "/metrics.jsonl").find("\"splat_dead_lasting\":[") != std::string::npos);
}

TEST_CASE("bad checkpoints give one clear error", "[train][checkpoint][errors]") {
    const std::string dir = temp_dir("bad");
    REQUIRE(run_training(tiny_config(dir), "", 6) == 0);
    const std::string model = checkpoint_directory(dir) + "/model.safetensors";
    const std::string good = read_file(model);
    SECTION("truncated") {
        write_file_atomic(model, good.substr(0, good.size() / 2));
        REQUIRE_THROWS_AS(load_model(dir), Error);
    }
    SECTION("header length beyond the file") {
        std::string bad = good;
        bad[6] = '\x7f';
        write_file_atomic(model, bad);
        REQUIRE_THROWS_WITH(load_model(dir), Contains("model.safetensors"));
    }
    SECTION("config that does not match the tensors") {
        SafetensorsFile f = load_safetensors(model);
        Json config = Json::parse(f.metadata["config"]);
        config.set("width", Json(int64_t(32)));
        f.metadata["config"] = config.dump();
        save_safetensors(model, f.tensors, f.metadata);
        REQUIRE_THROWS_WITH(load_model(dir), Contains("has shape") && Contains("config expects"));
    }
    SECTION("model and optimizer from different steps") {
        const std::string other = temp_dir("bad-other");
        REQUIRE(run_training(tiny_config(other), "") == 0);  // step 12
        fs::copy_file(checkpoint_directory(other) + "/model.safetensors", model, fs::copy_options::overwrite_existing);
        REQUIRE_THROWS_WITH(run_training(tiny_config(dir), dir), Contains("optimizer state at step 6"));
    }
    SECTION("missing") { REQUIRE_THROWS_WITH(load_model(dir + "/nope"), Contains("nope")); }
}

TEST_CASE("a NaN loss stops training with the last good checkpoint intact", "[train][checkpoint][errors]") {
    const std::string dir = temp_dir("nan");
    REQUIRE(run_training(tiny_config(dir), "", 6) == 0);
    // Poison one weight: the next forward pass produces NaN.
    const std::string model = checkpoint_directory(dir) + "/model.safetensors";
    SafetensorsFile f = load_safetensors(model);
    f.tensors[0].second.data()[3] = NAN;
    save_safetensors(model, f.tensors, f.metadata);
    const std::string before = read_file(model);
    REQUIRE(run_training(tiny_config(dir), dir) == 1);
    REQUIRE(read_file(model) == before);  // nothing was overwritten
    REQUIRE(load_model(dir).step == 6);
}

TEST_CASE("sampling: greedy, top-k, top-p", "[train][sampling]") {
    const float logits[5] = {1.f, 3.f, 2.f, -1.f, 2.9f};
    Rng rng(1);
    REQUIRE(sample_token(logits, 5, {.temperature = 0.f}, rng) == 1);
    std::vector<int> counts(5, 0);
    for (int i = 0; i < 2000; ++i) ++counts[sample_token(logits, 5, {.temperature = 1.f, .top_k = 2}, rng)];
    REQUIRE(counts[0] + counts[2] + counts[3] == 0);
    REQUIRE(counts[1] > 800);
    REQUIRE(counts[4] > 800);
    std::fill(counts.begin(), counts.end(), 0);
    for (int i = 0; i < 2000; ++i) ++counts[sample_token(logits, 5, {.temperature = 1.f, .top_p = 0.3f}, rng)];
    REQUIRE(counts[1] == 2000);  // the top token alone holds more than 30%
    REQUIRE_THROWS_AS(sample_token(logits, 5, {.temperature = -1.f}, rng), Error);
}

TEST_CASE("training on the GPU: the CPU's losses within 1e-4, the same bits twice, a checkpoint the CPU resumes",
          "[train][cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    register_splat_attentions();
    const std::string dir = temp_dir("gpu-train");
    for (const std::string kind : {"softmax", "splat"}) {
        INFO(kind);
        auto config = [&](const std::string& device, const std::string& name) {
            TrainConfig c = tiny_config(dir + "/" + kind + "-" + name);
            c.model.attention = kind;
            c.model.splat_decay = kind == "splat";
            c.device = device;
            return c;
        };
        REQUIRE(run_training(config("cpu", "cpu"), "") == 0);
        REQUIRE(run_training(config("cuda", "gpu"), "") == 0);
        REQUIRE(run_training(config("cuda", "gpu2"), "") == 0);
        const std::vector<std::string> cpu = training_lines(dir + "/" + kind + "-cpu"),
                                       gpu = training_lines(dir + "/" + kind + "-gpu");
        REQUIRE(gpu == training_lines(dir + "/" + kind + "-gpu2"));  // deterministic
        REQUIRE(cpu.size() == gpu.size());
        for (size_t i = 0; i < cpu.size(); ++i) {
            const double a = Json::parse(cpu[i] + "}").at("loss").as_double(),
                         b = Json::parse(gpu[i] + "}").at("loss").as_double();
            REQUIRE(std::abs(a - b) <= 1e-4 * std::abs(a));
        }
        // The GPU run's checkpoint continues on the CPU.
        TrainConfig more = load_model(dir + "/" + kind + "-gpu").config;
        more.steps += 2;
        more.device = "cpu";
        REQUIRE(run_training(more, dir + "/" + kind + "-gpu") == 0);
    }
}

TEST_CASE("CLI: bad input gives one error line and a non-zero exit", "[train][cli][errors]") {
    REQUIRE(fs::exists(cli_path()));
    auto one_error_line = [](const CliResult& r) {
        INFO(r.output);
        REQUIRE(r.code != 0);
        REQUIRE(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    };
    one_error_line(run_cli("train --bogus 1"));
    one_error_line(run_cli("train --steps abc"));
    one_error_line(run_cli("train --data /nonexistent/file.txt --out /tmp/splatlm-never"));
    const std::string dir = temp_dir("cli");
    write_file_atomic(dir + "/empty.txt", "");
    one_error_line(run_cli("train --data " + dir + "/empty.txt --out " + dir + "/run"));
    REQUIRE_FALSE(has_checkpoint(dir + "/run"));
    one_error_line(run_cli("generate --prompt hi"));
    one_error_line(run_cli("eval --ckpt " + dir + "/missing"));
    one_error_line(run_cli("frobnicate"));
    one_error_line(run_cli("doctor --bogus"));
    one_error_line(run_cli("train --device tpu --out " + dir + "/tpu"));
    one_error_line(run_cli("train --splat_init kmeens --out " + dir + "/init"));
    one_error_line(run_cli("train --attention softmax --splat_init pca --out " + dir + "/init"));
    one_error_line(run_cli("train --splat_adapt rescue --adapt_every 0 --out " + dir + "/init"));
    one_error_line(run_cli("train --attention linear --splat_adapt rescue --out " + dir + "/init"));
    one_error_line(run_cli("train --splat_adapt rescued --out " + dir + "/init"));
    one_error_line(run_cli("train --splat_adapt death,split --out " + dir + "/init"));
    one_error_line(run_cli("train --splats 16 --max_splats 8 --out " + dir + "/init"));
    one_error_line(run_cli("train --splat_adapt death --min_splats 0 --out " + dir + "/init"));
    one_error_line(run_cli("train --splat_adapt birth --splat_seat values --out " + dir + "/init"));
    REQUIRE_FALSE(fs::exists(dir + "/init"));
    if (!cuda::available()) {  // "train --device cuda: no GPU: <reason>", before any work is done
        one_error_line(run_cli("train --preset tiny --device cuda --out " + dir + "/gpu"));
        REQUIRE_FALSE(fs::exists(dir + "/gpu"));
        one_error_line(run_cli("generate --ckpt " + dir + "/run --device cuda"));
        one_error_line(run_cli("eval --ckpt " + dir + "/run --device cuda"));
    }
    for (const char* sub : {"train", "generate", "eval", "info", "bench", "doctor"}) {
        CliResult r = run_cli(std::string(sub) + " --help");
        INFO(sub << ": " << r.output);
        REQUIRE(r.code == 0);
        REQUIRE(r.output.find("usage") != std::string::npos);
    }
}

TEST_CASE("CLI: doctor reports OpenMP, the GEMM kernel, CUDA and the GPUs, and exits 0 when all works",
          "[train][cli][cuda]") {
    REQUIRE(fs::exists(cli_path()));
    const CliResult r = run_cli("doctor");
    INFO(r.output);
    REQUIRE(r.code == 0);
    REQUIRE_THAT(r.output, Contains("OpenMP: "));
    // The program runs the kernel this test binary was built with (under make test-arm: NEON, via qemu).
    REQUIRE_THAT(r.output, Contains("GEMM micro-kernel: " + gemm_micro_kernel() + "\n"));
    REQUIRE_THAT(r.output, Contains(cuda::built_with_cuda() ? "CUDA: support built" : "CUDA: support not built"));
    std::string why;
    if (cuda::available(&why)) {
        REQUIRE_THAT(r.output, Contains("GPU 0: ") && Contains("compute capability"));
        REQUIRE_THAT(r.output, Contains("reused a cached block") && Contains("all GPUs passed"));
        REQUIRE_THAT(r.output, !Contains("FAILED"));
    } else {
        REQUIRE_THAT(r.output, Contains("GPUs: none (no GPU: " + why + ")"));
    }
}
