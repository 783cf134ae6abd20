// trainer.cpp — run_training (train/trainer.h): the step loop, progress lines, evaluation, samples,
// checkpoints and the pictures at the end of a run.
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "cuda/runtime.h"
#include "nn/flat_parameters.h"
#include "splat/diversity.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/file_io.h"
#include "tensor/free_cores.h"
#include "train/batch.h"
#include "train/checkpoint.h"
#include "train/curves.h"
#include "train/data_parallel.h"
#include "train/host_model.h"
#include "train/dashboard.h"
#include "train/memory_budget.h"
#include "train/training_data.h"
#include "train/metrics_log.h"
#include "train/run_lock.h"
#include "train/sampler.h"
#include "train/splat_adaptation.h"
#include "train/splat_lives.h"
#include "train/progressive.h"
#include "train/utf8.h"
#include "splat/splat_stats.h"
#include "viz/contact_sheet.h"
#include "viz/splat_files.h"

namespace splatlm {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string clock_text(double seconds) {
    const int64_t s = static_cast<int64_t>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
    return buf;
}

// Everything one run holds; the loop below reads like the algorithm.
struct Run {
    TrainConfig config;
    std::unique_ptr<dist::Communicator> comm;  // the ranks sharing each batch (one unless --dist)
    std::string dir;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<TrainingData> data;  // the corpus or a task (train/training_data.h)
    std::unique_ptr<GPT> model;
    std::unique_ptr<FlatParameters> flat;
    std::unique_ptr<AdamW> adam;
    TrainingProgress progress;
    int64_t last_checkpoint = -1;
    std::string checkpoint_dir;  // where the last checkpoint is (resumed from or written)
};

Run set_up(const TrainConfig& requested, const std::string& resume_dir, Verify verify,
           std::unique_ptr<dist::Communicator> comm) {
    Run run;
    run.config = requested;
    run.comm = std::move(comm);
    const Device device = parse_device(run.config.device);
    if (device == Device::CUDA) cuda::require_gpu("train --device cuda");
    run.dir = resume_dir.empty() ? requested.out : resume_dir;
    const CorpusSplit corpus = run.config.task.empty() ? read_corpus(run.config.data, run.config.val_fraction) : CorpusSplit{};
    if (resume_dir.empty()) {
        SPLATLM_CHECK(!has_checkpoint(run.dir), run.dir, " already holds a checkpoint: continue it with --resume ",
                      run.dir, " or choose another --out");
        const auto t0 = Clock::now();
        run.tokenizer = make_tokenizer(run.config.tokenizer, corpus.train, static_cast<int>(run.config.bpe_vocab));
        if (run.config.tokenizer == "bpe" && run.comm->is_root())
            std::printf("trained a %d-token BPE in %.1f s\n", run.tokenizer->vocab_size(), seconds_since(t0));
        run.config.model.vocab = run.tokenizer->vocab_size();
        check_memory_budget(run.config, MemoryUse::train, "");
        run.model = std::make_unique<GPT>(run.config.model, run.config.seed);
        run.progress.data_rng = Rng(run.config.seed ^ 0xDA7A000000000000ull);
    } else {
        LoadedModel loaded = load_model(resume_dir, verify);
        check_memory_budget(run.config, MemoryUse::train, "");
        std::printf("resuming from %s (step %lld)\n", loaded.dir.c_str(), (long long)loaded.step);
        run.checkpoint_dir = loaded.dir;
        run.tokenizer = std::move(loaded.tokenizer);
        run.model = std::move(loaded.model);
        run.progress.step = loaded.step;
    }
    run.data = make_training_data(run.config, corpus, *run.tokenizer);
    if (resume_dir.empty()) place_splats_from_data(*run.model, *run.data, run.config, run.comm->is_root());  // splat_init
    run.model->to(device);  // initialised (or loaded) on the CPU: the same start on either device
    run.flat = std::make_unique<FlatParameters>(*run.model);
    AdamWOptions opt{.beta1 = float(run.config.beta1), .beta2 = float(run.config.beta2), .eps = 1e-8f,
                     .weight_decay = float(run.config.weight_decay), .decay_everything = run.config.decay_all};
    run.adam = std::make_unique<AdamW>(*run.flat, opt);
    if (!resume_dir.empty()) {
        run.progress = load_optimizer_state(run.checkpoint_dir, *run.model, *run.adam, run.progress.step, verify);
        run.last_checkpoint = run.progress.step;
    }
    return run;
}

void print_header(const Run& run) {
    const GPTConfig& m = run.config.model;
    const std::string kinds = m.layer_kinds.empty() ? m.attention : m.layer_kinds + " (per layer)";
    std::printf("model: %s attention, %lld layers, %lld heads, width %lld, context %lld, vocab %lld — %.2fM parameters\n",
                kinds.c_str(), (long long)m.layers, (long long)m.heads, (long long)m.width, (long long)m.context,
                (long long)m.vocab, run.model->parameter_count() / 1e6);
    std::printf("data: %s\n", run.data->describe().c_str());
    std::printf("run: %s, steps %lld → %lld, batch %lld\n", run.dir.c_str(), (long long)run.progress.step,
                (long long)run.config.steps, (long long)run.config.batch);
    std::fflush(stdout);
}

Json finite_or_null(double x) { return std::isfinite(x) ? Json(x) : Json(); }  // JSON has no NaN

// Splat usage statistics (splat/splat_stats.h) on a fixed set of validation windows, one array
// entry per splat layer: "splat_scale", "splat_entropy", "splat_dead", "splat_mi_token",
// "splat_mi_position". Nothing for other models.
void add_splat_stats(Json::Object& record, GPT& model, const TrainingData& data, const TrainConfig& c) {
    Rng rng(c.seed ^ 0x5EA7000000000000ull);  // the same windows at every evaluation
    const int64_t B = std::min<int64_t>(c.batch, 4), T = c.model.context;
    const std::vector<SplatLayerStats> stats =
        splat_stats(model, data.sample(Split::validation, B, T, rng).inputs);
    if (stats.empty()) return;
    Json::Array scale, entropy, dead, mi_token, mi_position;
    for (const SplatLayerStats& s : stats)
        scale.push_back(finite_or_null(s.mean_scale)), entropy.push_back(finite_or_null(s.entropy)),
            dead.push_back(s.dead), mi_token.push_back(s.mi_token), mi_position.push_back(s.mi_position);
    record.emplace_back("splat_scale", std::move(scale));
    record.emplace_back("splat_entropy", std::move(entropy));
    record.emplace_back("splat_dead", std::move(dead));
    record.emplace_back("splat_mi_token", std::move(mi_token));
    record.emplace_back("splat_mi_position", std::move(mi_position));
}

}  // namespace

int run_training(const TrainConfig& requested, const std::string& resume_dir, int64_t stop_at,
                 const volatile std::sig_atomic_t* stop_signal, Verify verify) {
    std::unique_ptr<dist::Communicator> comm = connect_ranks(requested);
    // Rank 0 alone writes the run directory, so it alone locks it: a resumed one before anything is read.
    std::optional<RunLock> lock;
    if (comm->is_root() && !resume_dir.empty()) lock.emplace(resume_dir);
    Run run = set_up(requested, resume_dir, verify, std::move(comm));
    const TrainConfig& c = run.config;
    std::optional<MetricsLog> metrics;  // rank 0 alone opens (on resume: trims) and writes it
    if (run.comm->is_root()) {
        if (!lock) {  // a fresh run: its directory exists from here on
            ensure_directory(run.dir);
            lock.emplace(run.dir);
        }
        if (const int stale = remove_stale_temporaries(run.dir))
            std::printf("removed %d temporary file%s left by an interrupted save\n", stale, stale == 1 ? "" : "s");
        metrics.emplace(run.dir + "/metrics.jsonl", resume_dir.empty() ? -1 : run.progress.step);
        print_header(run);
    }
    run.model->set_training(true);

    const int64_t T = c.model.context, tokens_per_step = c.batch * T;
    const auto start = Clock::now();
    const int64_t first_step = run.progress.step;
    double interval_seconds = 0;  // compute time of the steps since the last progress line
    int64_t interval_steps = 0;
    const int64_t last = stop_at >= 0 ? std::min(stop_at, c.steps) : c.steps;
    const viz::TextCodec codec = viz::TextCodec::of(*run.tokenizer);  // the pictures' tokenizer
    std::optional<viz::SplatFrames> frames;  // --viz-every: numbered splat-field frames
    if (c.viz_every > 0) {
        if (viz::first_splat_layer(*run.model) >= 0)
            frames.emplace(run.dir + "/frames");
        else
            std::printf("viz-every: this %s model has no splat attention, so there are no splat frames to draw\n",
                        c.model.attention.c_str());
    }
    std::optional<SplatLife> life;  // splat health and adaptation (train/splat_adaptation.h)
    if (run.comm->is_root() && viz::first_splat_layer(*run.model) >= 0)
        life.emplace(c, run.dir, resume_dir.empty() ? -1 : run.progress.step, *run.data);
    FreeCoreThreads free_cores;  // the CPU kernels' threads follow the cores other processes leave free
    std::optional<ProgressiveFreeze> progressive;  // progressive_every (train/progressive.h)
    if (c.progressive_every > 0) progressive.emplace(*run.flat, c.progressive_every, c.model.layers);
    for (int64_t& step = run.progress.step; step < last;) {
        free_cores.update();
        const auto step_start = Clock::now();
        const float lr = learning_rate(step, c.warmup, c.steps, float(c.lr), float(c.min_lr));
        Batch batch = rank_batch(run.data->sample(Split::train, c.batch, T, run.progress.data_rng), *run.comm);
        run.flat->zero_grad();
        Tensor loss = run.model->loss(batch.inputs, batch.targets);
        const float loss_value = run.comm->mean(loss.item());  // the LM loss: what "loss" reports, with or without regulariser
        Tensor objective = loss;
        float diversity = NAN;
        if (c.splat_diversity > 0) {  // + weight·R, R = splat-centre overlap (splat/diversity.h)
            Tensor r = splat_diversity_loss(*run.model);
            diversity = r.item();
            objective = loss + r * float(c.splat_diversity);
        }
        GradClip clip{NAN, 1.f};
        if (std::isfinite(loss_value)) {
            backward(objective);
            if (progressive) progressive->hold(step, *run.flat);
            average_gradients(*run.flat, *run.comm, c.dist_bucket_mb);
            clip = gradient_clip(*run.flat, c.grad_clip);
        }
        if (!std::isfinite(loss_value) || !std::isfinite(clip.norm)) {
            std::fprintf(stderr, "\ntraining stopped: %s is %s at step %lld; %s\n",
                         std::isfinite(loss_value) ? "the gradient norm" : "the loss",
                         std::isfinite(loss_value) ? "not finite" : "NaN/Inf", (long long)step + 1,
                         run.last_checkpoint >= 0
                             ? ("the last good checkpoint (step " + std::to_string(run.last_checkpoint) + ") is kept in " + run.dir).c_str()
                             : "no checkpoint was written yet");
            return 1;
        }
        run.adam->step(lr, clip.scale);
        if (progressive) progressive->restore(*run.flat);
        ++step;
        const double step_seconds = seconds_since(step_start);  // evaluation and I/O not counted
        interval_seconds += step_seconds;
        ++interval_steps;
        // A stop signal ends the step on every rank together (mpirun forwards it, but to be sure the
        // ranks agree): rank 0 checkpoints, the others leave before the next all-reduce.
        const bool stopping = run.comm->mean(stop_signal && *stop_signal ? 1.f : 0.f) > 0.f;
        const int signal = stop_signal && *stop_signal ? int(*stop_signal) : SIGTERM;
        if (!run.comm->is_root()) {
            if (stopping) return 128 + signal;
            continue;  // rank 0 alone logs, evaluates, samples, draws and checkpoints
        }

        Json::Object line{{"step", step}, {"tokens", step * tokens_per_step}, {"loss", loss_value}, {"lr", lr},
                          {"tokens_per_s", tokens_per_step / step_seconds}, {"grad_norm", clip.norm}};
        if (c.splat_diversity > 0) line.emplace_back("splat_diversity", diversity);
        metrics->write(line);
        if (step % c.log_every == 0 || step == c.steps) {
            const double elapsed = seconds_since(start), eta = elapsed / double(step - first_step) * (c.steps - step);
            char extra[48] = "";
            if (c.splat_diversity > 0) std::snprintf(extra, sizeof extra, " | splat_diversity %.4f", diversity);
            std::printf("step %6lld/%lld | loss %.4f%s | lr %.2e | %7.0f tok/s | %s elapsed | eta %s\n", (long long)step,
                        (long long)c.steps, loss_value, extra, lr, interval_steps * tokens_per_step / interval_seconds,
                        clock_text(elapsed).c_str(), clock_text(eta).c_str());
            interval_seconds = 0;
            interval_steps = 0;
        }
        if (step % c.eval_every == 0 || step == c.steps) {
            Evaluation e = run.data->evaluate(*run.model, c.batch, c.eval_batches);
            Json::Object record{{"step", step}};
            record.insert(record.end(), e.fields.begin(), e.fields.end());
            HostModel host = on_host(*run.model, c);
            add_splat_stats(record, *host, *run.data, c);
            if (life) life->check(step, *host, &record);
            metrics->write(record);
            std::printf("  eval @ %lld: %s\n", (long long)step, e.text.c_str());
        }
        if (life) {
            const std::vector<SplatEvent> events = life->adapt(step, *run.model, *run.flat, *run.adam);
            if (frames) frames->remember(events);  // marked on the next frame
        }
        if (c.sample_tokens > 0 && (step % c.sample_every == 0 || step == c.steps)) {
            SampleOptions so{.tokens = c.sample_tokens, .temperature = 0.8f, .top_k = 0, .top_p = 0.95f,
                             .seed = c.seed + uint64_t(step)};
            std::string sample = generate_text(*run.model, *run.tokenizer, "", so);
            metrics->write(Json::Object{{"step", step}, {"sample", utf8::sanitize(sample)}});
            std::printf("  sample @ %lld:\n%s\n  ---\n", (long long)step, sample.c_str());
        }
        if (frames && step % c.viz_every == 0) frames->write(*on_host(*run.model, c), codec, step);
        if (step % c.checkpoint_every == 0 || step == last || stopping) {
            run.checkpoint_dir = save_checkpoint(run.dir, c, *run.tokenizer, *run.model, *run.adam, run.progress);
            run.last_checkpoint = step;
        }
        std::fflush(stdout);
        if (stopping) {
            std::printf("\n%s: stopped after step %lld with a checkpoint in %s\ncontinue with: splatlm train --resume %s\n",
                        signal == SIGINT ? "interrupted" : "terminated", (long long)step, run.checkpoint_dir.c_str(),
                        run.dir.c_str());
            std::fflush(stdout);
            return 128 + signal;
        }
    }
    if (!run.comm->is_root()) return 0;
    try {  // the training is done and saved: a picture that cannot be drawn is a warning, not a failure
        std::printf("loss curves: %s\n", draw_loss_curves(run.dir).c_str());
        if (frames)  // the frames as one contact sheet (and an MP4 when ffmpeg is installed)
            for (const std::string& path : viz::assemble_frames(run.dir + "/frames", run.dir))
                std::printf("frames: %s\n", path.c_str());
        HostModel final_model = on_host(*run.model, c);
        const int64_t layer = viz::first_splat_layer(*final_model);
        if (layer >= 0) {  // `make run` draws its splats, and their lives (train/splat_lives.h)
            std::printf("splat field: %s\n", viz::write_splat_pictures(*final_model, codec, viz::kDefaultSplatText,
                                                                          layer, run.dir, true).paths[0].c_str());
            if (const std::string lives = write_splat_lives(run.dir); !lives.empty()) std::printf("splat lives: %s\n", lives.c_str());
        }
        const DashboardInput dash{final_model.model, run.tokenizer.get(), &c, last, run.dir, viz::kDefaultSplatText,
                                  std::max<int64_t>(layer, 0)};
        std::printf("dashboard: %s\n", write_dashboard(dash, run.dir + "/dashboard.png").c_str());
    } catch (const Error& e) {
        std::fprintf(stderr, "warning: pictures not drawn: %s\n", e.what());
    }
    std::printf("%s: step %lld of %lld after %s; checkpoint in %s\n", last == c.steps ? "done" : "stopped",
                (long long)last, (long long)c.steps, clock_text(seconds_since(start)).c_str(), run.checkpoint_dir.c_str());
    return 0;
}

}  // namespace splatlm
