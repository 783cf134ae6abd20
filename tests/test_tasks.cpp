// The synthetic tasks behind `splatlm task` (train/tasks.h, train/task_data.h): every answer is
// determined by its context (an oracle per kind recovers it from the earlier tokens alone), examples
// are seeded, the loss mask covers the answers and nothing else, the accuracy counts right, bad
// options give one line naming them, and a tiny MQAR run works end to end.
// Run: ./bin/tests "[tasks]"
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "tests/helpers.h"
#include "tests/shell.h"
#include "train/checkpoint.h"
#include "train/json.h"
#include "train/task_data.h"
#include "train/task_plot.h"
#include "train/train_config.h"
#include "tensor/file_io.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

TaskSpec spec_of(const std::string& text) { return parse_task_spec(text); }

const std::vector<std::string> kSpecs = {"mqar pairs=6 keys=20 values=30", "copy span=7 alphabet=5",
                                         "selective_copy span=5 alphabet=6", "induction alphabet=4",
                                         "passkey digits=4 depth=-1"};
constexpr int64_t kT = 96;

// The answer for graded position t, worked out from tokens[0..t] only (never tokens[t+1..]).
int32_t oracle(const TaskSpec& s, const std::vector<int32_t>& x, int64_t t) {
    if (s.kind == "mqar") {  // the value after the key's first appearance (keys and values never share ids)
        for (int64_t j = 0; j < t; ++j)
            if (x[j] == x[t]) return x[j + 1];
    } else if (s.kind == "copy") {
        return x[t - s.span];
    } else if (s.kind == "selective_copy") {  // the k-th non-noise symbol before the separator
        const int64_t sep = kT - s.span, k = t - sep;
        std::vector<int32_t> kept;
        for (int64_t j = 0; j < sep; ++j)
            if (x[j] != 2) kept.push_back(x[j]);
        if (int64_t(kept.size()) == s.span) return kept[k];
    } else if (s.kind == "induction") {  // what followed the earlier trigger
        for (int64_t j = 0; j + 1 < t; ++j)
            if (x[j] == x[t]) return x[j + 1];
    } else {  // passkey: the digit at the same place of the number hidden earlier
        const std::string text(x.begin(), x.begin() + t + 1), key = "The pass key is ";
        const size_t at = text.find(key);
        const int64_t digit = s.digits - (kT - t);  // graded positions are the last `digits` targets
        if (at != std::string::npos) return static_cast<unsigned char>(text[at + key.size() + digit]);
    }
    return -1;
}

}  // namespace

TEST_CASE("tasks: every graded answer is determined by the earlier tokens", "[tasks]") {
    for (const std::string& text : kSpecs) {
        const TaskSpec s = spec_of(text);
        check_task(s, kT);
        Rng rng(5);
        for (int i = 0; i < 200; ++i) {
            const TaskExample e = make_task_example(s, kT, rng);
            REQUIRE(e.tokens.size() == size_t(kT + 1));
            REQUIRE(e.graded.size() == size_t(kT));
            int64_t graded = 0;
            for (int64_t t = 0; t < kT; ++t) {
                if (!e.graded[t]) continue;
                ++graded;
                INFO(text << " example " << i << " position " << t);
                REQUIRE(oracle(s, e.tokens, t) == e.tokens[t + 1]);
            }
            const int64_t expected = s.kind == "mqar" ? s.pairs : s.kind == "passkey" ? s.digits
                                     : s.kind == "induction" ? 1 : s.span;
            REQUIRE(graded == expected);
            for (int32_t id : e.tokens) REQUIRE((id >= 0 && id < 256));
        }
    }
}

TEST_CASE("tasks: mqar keys are distinct, every key is queried once, and queries follow the pairs", "[tasks]") {
    const TaskSpec s = spec_of("mqar pairs=8 keys=8 values=4");  // keys = pairs: a permutation each time
    Rng rng(11);
    for (int i = 0; i < 50; ++i) {
        const TaskExample e = make_task_example(s, 64, rng);
        std::vector<int> seen(9, 0), asked(9, 0);
        for (int64_t j = 0; j < 16; j += 2) {
            REQUIRE((e.tokens[j] >= 1 && e.tokens[j] <= 8));
            REQUIRE((e.tokens[j + 1] >= 9 && e.tokens[j + 1] <= 12));
            ++seen[e.tokens[j]];
        }
        for (int64_t t = 0; t < 64; ++t) {
            if (!e.graded[t]) continue;
            REQUIRE(t >= 16);
            ++asked[e.tokens[t]];
        }
        for (int k = 1; k <= 8; ++k) REQUIRE((seen[k] == 1 && asked[k] == 1));
    }
}

TEST_CASE("tasks: an mqar mix trains on every listed shape, padded, and holds out the trained shape alone", "[tasks]") {
    const TaskSpec s = spec_of("mqar pairs=8 keys=20 values=30 mix=16x2,40x5");
    check_task(s, kT);
    Rng rng(21);
    std::map<int64_t, int64_t> by_pairs;  // graded answers of an example -> how many examples
    for (int i = 0; i < 600; ++i) {
        const TaskExample e = make_training_example(s, kT, rng);
        int64_t graded = 0, last = 0;
        for (int64_t t = 0; t < kT; ++t) {
            if (!e.graded[t]) continue;
            ++graded, last = t;
            REQUIRE(oracle(s, e.tokens, t) == e.tokens[t + 1]);
        }
        ++by_pairs[graded];
        const int64_t seq = graded == 2 ? 16 : graded == 5 ? 40 : kT;  // the shape's own window
        REQUIRE(last + 1 <= seq);
        for (int64_t t = seq + 1; t <= kT; ++t) REQUIRE(e.tokens[t] == 0);  // padding after a short shape
    }
    REQUIRE(by_pairs.size() == 3);
    for (const int64_t pairs : {2, 5, 8}) REQUIRE((by_pairs[pairs] > 150 && by_pairs[pairs] < 250));

    const TaskData data(s, kT, 9);
    Rng held(4);
    const Batch b = data.sample(Split::validation, 40, kT, held);
    REQUIRE(std::count_if(b.targets.ids.begin(), b.targets.ids.end(), [](int32_t id) { return id >= 0; }) == 40 * 8);
}

TEST_CASE("tasks: seeded and reproducible; a passkey depth puts the key where asked", "[tasks]") {
    for (const std::string& text : kSpecs) {
        const TaskSpec s = spec_of(text);
        Rng a(7), b(7), c(8);
        const TaskExample ea = make_task_example(s, kT, a), eb = make_task_example(s, kT, b), ec = make_task_example(s, kT, c);
        INFO(text);
        REQUIRE(ea.tokens == eb.tokens);
        REQUIRE(ea.graded == eb.graded);
        REQUIRE(ea.tokens != ec.tokens);
        REQUIRE(make_task_example(s, kT, a).tokens != ea.tokens);  // the stream moved on
    }
    for (double depth : {0.0, 0.5, 1.0}) {
        TaskSpec s = spec_of("passkey digits=5");
        s.depth = depth;
        Rng rng(3);
        const TaskExample e = make_task_example(s, 300, rng);
        const std::string text(e.tokens.begin(), e.tokens.end());
        const size_t at = text.find("The pass key is "), question = text.find("What is the pass key?");
        REQUIRE(question != std::string::npos);
        INFO(text);
        REQUIRE(std::abs(double(at) / double(question - 36) - depth) < 0.02);  // 36 = the hidden sentence's length
    }
}

TEST_CASE("tasks: a batch's loss mask keeps the answers and drops everything else", "[tasks]") {
    const TaskSpec s = spec_of("mqar pairs=3 keys=10 values=10");
    const TaskData data(s, 32, 1);
    Rng batch_rng(4), example_rng(4);
    const Batch b = data.sample(Split::train, 5, 32, batch_rng);
    REQUIRE(b.inputs.shape == Shape{5, 32});
    REQUIRE(b.targets.ids.size() == size_t(5 * 32));
    for (int64_t r = 0; r < 5; ++r) {
        const TaskExample e = make_task_example(s, 32, example_rng);  // the batch's rows, in order
        for (int64_t t = 0; t < 32; ++t) {
            REQUIRE(b.inputs.ids[r * 32 + t] == e.tokens[t]);
            REQUIRE(b.targets.ids[r * 32 + t] == (e.graded[t] ? e.tokens[t + 1] : -1));
        }
    }
    REQUIRE(std::count(b.targets.ids.begin(), b.targets.ids.end(), -1) == 5 * (32 - 3));
}

TEST_CASE("tasks: score_answers counts argmax hits on graded positions and exact examples", "[tasks]") {
    // 2 examples × 3 positions × 4 classes; the largest logit per row is at `best`.
    const int best[6] = {2, 0, 3, 1, 1, 2};
    std::vector<float> logits(24);
    for (int r = 0; r < 6; ++r)
        for (int v = 0; v < 4; ++v) logits[r * 4 + v] = 0.25f * float(v + r) + (v == best[r] ? 5.f : 0.f);
    const Tensor x = Tensor::from_vector(logits, {2, 3, 4});
    // example 0: graded rows 0 (right) and 2 (right) → exact; example 1: rows 3 (wrong) and 5 (right)
    const Indices targets{{6}, {2, -1, 3, 0, -1, 2}};
    const AnswerScore s = score_answers(x, targets);
    REQUIRE(s.answers == 4);
    REQUIRE(s.correct == 3);
    REQUIRE(s.examples == 2);
    REQUIRE(s.exact == 1);
    // by answer: the first answers are rows 0 (right) and 3 (wrong), the second rows 2 and 5 (both right)
    REQUIRE(s.answers_by_index == std::vector<int64_t>{2, 2});
    REQUIRE(s.correct_by_index == std::vector<int64_t>{1, 2});
    AnswerScore sum = s;
    sum.add(score_answers(x, Indices{{6}, {-1, -1, -1, 0, -1, -1}}));
    REQUIRE((sum.answers == 5 && sum.correct == 3 && sum.examples == 3 && sum.exact == 1));
    REQUIRE(sum.answers_by_index == std::vector<int64_t>{3, 2});
    REQUIRE(sum.correct_by_index == std::vector<int64_t>{1, 2});
    const AnswerScore none = score_answers(x, Indices{{6}, {-1, -1, -1, 0, -1, -1}});
    REQUIRE((none.answers == 1 && none.correct == 0 && none.examples == 1 && none.exact == 0));
}

TEST_CASE("tasks: spec text round trip; bad options give one line naming them", "[tasks][errors]") {
    for (const std::string& text : kSpecs) REQUIRE(task_spec_text(spec_of(text)) == (text == kSpecs[4] ? "passkey digits=4 depth=-1" : text));
    REQUIRE_THROWS_WITH(check_task(spec_of("mqar pairs=20"), 64), Contains("--pairs 20 does not fit"));
    REQUIRE_THROWS_WITH(check_task(spec_of("mqar pairs=8 keys=4"), 64), Contains("--keys 4 is too small"));
    REQUIRE_THROWS_WITH(check_task(spec_of("mqar keys=200 values=100"), 64), Contains("--keys + --values"));
    REQUIRE(task_spec_text(spec_of("mqar pairs=4 mix=16x2,32x3")) == "mqar pairs=4 keys=64 values=64 mix=16x2,32x3");
    REQUIRE_THROWS_WITH(spec_of("mqar mix=16-2"), Contains("--mix: expected SEQxPAIRS"));
    REQUIRE_THROWS_WITH(spec_of("mqar mix=16x"), Contains("--mix"));
    REQUIRE_THROWS_WITH(check_task(spec_of("mqar mix=128x4"), 64), Contains("--mix shape 128x4"));
    REQUIRE_THROWS_WITH(check_task(spec_of("mqar mix=16x8"), 64), Contains("4·pairs = 32"));
    REQUIRE_THROWS_WITH(check_task(spec_of("mqar keys=8 mix=64x10"), 64), Contains("--keys 8"));
    REQUIRE_THROWS_WITH(check_task(spec_of("copy span=40"), 64), Contains("--span 40"));
    REQUIRE_THROWS_WITH(check_task(spec_of("passkey depth=2"), 512), Contains("--depth"));
    REQUIRE_THROWS_WITH(check_task(spec_of("passkey"), 32), Contains("--seq 32 is too short"));
    REQUIRE_THROWS_WITH(check_task(spec_of("induction alphabet=1"), 32), Contains("--alphabet"));
    REQUIRE_THROWS_WITH(spec_of("copy pairs=3"), Contains("--pairs is not an option"));
    REQUIRE_THROWS_WITH(spec_of("sort"), Contains("unknown task 'sort'"));
    TrainConfig config;  // the config key `task` is checked against the context like the flags
    config.task = "mqar pairs=20";
    REQUIRE_THROWS_WITH(config.validate(), Contains("--pairs 20 does not fit"));
    config.task = "mqar pairs=4", config.tokenizer = "bpe";
    REQUIRE_THROWS_WITH(config.validate(), Contains("tokenizer must be char"));

    auto one_error_line = [](const CliResult& r, const std::string& names) {
        INFO(r.output);
        REQUIRE(r.code != 0);
        REQUIRE(std::count(r.output.begin(), r.output.end(), '\n') == 1);
        REQUIRE(r.output.find(names) != std::string::npos);
    };
    const std::string out = " --out /tmp/splatlm-test-" + std::to_string(::getpid()) + "-never";
    one_error_line(run_cli("task mqar --seq 64 --pairs 20" + out), "--pairs");
    one_error_line(run_cli("task mqar --pairs 8 --keys 5" + out), "--keys");
    one_error_line(run_cli("task sort" + out), "unknown task 'sort'");
    one_error_line(run_cli("task mqar --bogus 1" + out), "--bogus");
    one_error_line(run_cli("task copy --pairs 2" + out), "--pairs");
    one_error_line(run_cli("task mqar --seq 64 --mix 256x16" + out), "--mix");
    one_error_line(run_cli("task mqar --steps x" + out), "steps");
    one_error_line(run_cli("task passkey --seq 256 --eval-seq 1024" + out), "--positions none");
    one_error_line(run_cli("task mqar --eval-depths 0.5" + out), "--eval-depths");
    one_error_line(run_cli("task passkey --seq 256 --positions none --eval-seq 1024 --eval-depths 1.5" + out), "--depth");
    REQUIRE(run_cli("task --help").code == 0);
}

TEST_CASE("tasks: a tiny MQAR run trains, checkpoints, logs accuracy and reports it as JSON", "[tasks][cli]") {
    const std::string dir = "/tmp/splatlm-test-" + std::to_string(::getpid()) + "-task";
    fs::remove_all(dir);
    const CliResult r = run_cli("task mqar --seq 16 --pairs 2 --keys 8 --values 8 --mix 8x1 --layers 2 "
                                "--layer_kinds softmax,splat --heads 2 --width 16 --batch 4 --steps 20 --eval_every 10 "
                                "--eval_batches 2 --eval-examples 16 --json --out " + dir);
    INFO(r.output);
    REQUIRE(r.code == 0);
    REQUIRE(r.output.find("model: softmax,splat (per layer) attention, 2 layers") != std::string::npos);
    const std::string last = r.output.substr(r.output.rfind('\n', r.output.size() - 2) + 1);
    const Json report = Json::parse(last);
    REQUIRE(report.find("task")->as_string() == "mqar pairs=2 keys=8 values=8 mix=8x1");
    REQUIRE(report.find("answers")->as_int() == 32);  // 16 examples × 2 queries
    const double accuracy = report.find("accuracy")->as_double();
    REQUIRE((accuracy >= 0 && accuracy <= 1));
    REQUIRE(has_checkpoint(dir));
    const std::string metrics = read_file(dir + "/metrics.jsonl");
    REQUIRE(metrics.find("\"accuracy\"") != std::string::npos);
    REQUIRE(metrics.find("\"val_bpb\"") == std::string::npos);  // no corpus was read
    fs::remove_all(dir);
}

TEST_CASE("tasks: a model without positions is evaluated beyond its training length, depth by depth", "[tasks][cli]") {
    const std::string dir = "/tmp/splatlm-test-" + std::to_string(::getpid()) + "-passkey";
    fs::remove_all(dir);
    const std::string model = "task passkey --seq 96 --digits 2 --attention splat --short_conv 3 --positions none "
                              "--layers 1 --heads 2 --width 16 --batch 2 --steps 2 --eval_every 2 --eval_batches 1 "
                              "--eval-examples 2 --json --out " + dir;
    const CliResult r = run_cli(model + " --eval-seq 96,300 --eval-depths 0,1");
    INFO(r.output);
    REQUIRE(r.code == 0);
    std::vector<Json> reports;
    for (size_t at = 0, end; (end = r.output.find('\n', at)) != std::string::npos; at = end + 1)
        if (r.output.compare(at, 9, "{\"task\":\"") == 0) reports.push_back(Json::parse(r.output.substr(at, end - at)));
    REQUIRE(reports.size() == 4);  // (96, 0), (96, 1), (300, 0), (300, 1)
    REQUIRE(reports[3].find("eval_seq")->as_int() == 300);
    REQUIRE(reports[3].find("depth")->as_double() == 1.0);
    REQUIRE(reports[3].find("seq")->as_int() == 96);
    REQUIRE(reports[3].find("answers")->as_int() == 4);  // 2 examples × 2 digits
    const Json::Array& by_digit = reports[3].find("accuracy_by_answer")->as_array();
    REQUIRE(by_digit.size() == 2);
    REQUIRE((by_digit[0].as_double() + by_digit[1].as_double()) / 2 == Approx(reports[3].find("accuracy")->as_double()));
    // --eval-only reads the same checkpoint again without training: the same accuracy at 300 tokens.
    const CliResult again = run_cli(model + " --eval-seq 300 --eval-depths 1 --eval-only");
    INFO(again.output);
    REQUIRE(again.code == 0);
    REQUIRE(Json::parse(again.output.substr(again.output.rfind('{'))).find("accuracy")->as_double() ==
            reports[3].find("accuracy")->as_double());
    fs::remove_all(dir);
}

TEST_CASE("tasks: the accuracy plot has one line per model, sorted by pairs", "[tasks]") {
    const std::string results =
        "{\"task\":\"mqar pairs=8 keys=64 values=64\",\"attention\":\"softmax\",\"accuracy\":0.5}\n"
        "{\"task\":\"copy span=8 alphabet=16\",\"attention\":\"softmax\",\"accuracy\":0.9}\n"
        "{\"task\":\"mqar pairs=4 keys=64 values=64\",\"attention\":\"splat\",\"accuracy\":0.25}\n"
        "{\"task\":\"mqar pairs=4 keys=64 values=64\",\"attention\":\"softmax\",\"accuracy\":0.75}\n"
        "{\"task\":\"mqar pairs=4 keys=64 values=64\",\"attention\":\"splat\",\"layer_kinds\":\"\",\"short_conv\":4,"
        "\"positions\":\"learned\",\"splat_token_decay\":true,\"accuracy\":0.375}\n"
        "{\"task\":\"mqar pairs=4 keys=64 values=64\",\"attention\":\"softmax\",\"layer_kinds\":\"splat,softmax\","
        "\"short_conv\":0,\"positions\":\"none\",\"splat_token_decay\":true,\"accuracy\":0.4}\n"
        "{\"task\":\"mqar pairs=4 keys=64 values=64\",\"attention\":\"splat_delta\",\"layer_kinds\":\"\",\"short_conv\":4,"
        "\"splat_token_decay\":true,\"splats\":2,\"splat_delta_rank\":64,\"accuracy\":0.9}\n"
        "{\"task\":\"mqar pairs=4 keys=64 values=64\",\"attention\":\"softmax\",\"layer_kinds\":\"splat_delta,softmax\","
        "\"short_conv\":4,\"splat_token_decay\":true,\"splats\":16,\"splat_delta_rank\":8,\"accuracy\":0.6}\n";
    const std::vector<viz::Series> s = mqar_accuracy_series(results);
    REQUIRE(s.size() == 6);
    // token decay is named only where a kind reads it; splat_delta's splats x dimensions always (the plot font is ASCII)
    REQUIRE((s[4].name == "splat_delta 2x64 + conv 4" && s[4].y == std::vector<double>{0.9}));
    REQUIRE((s[5].name == "splat_delta,softmax 16x8 + conv 4" && s[5].y == std::vector<double>{0.6}));
    REQUIRE((s[2].name == "splat + token decay + conv 4" && s[2].y == std::vector<double>{0.375}));
    REQUIRE((s[3].name == "splat,softmax + token decay, no positions" && s[3].y == std::vector<double>{0.4}));
    REQUIRE(s[0].name == "softmax");
    REQUIRE(s[0].x == std::vector<double>{4, 8});
    REQUIRE(s[0].y == std::vector<double>{0.75, 0.5});
    REQUIRE((s[1].name == "splat" && s[1].x == std::vector<double>{4} && s[1].y == std::vector<double>{0.25}));
    REQUIRE_THROWS_WITH(mqar_accuracy_series("{\"loss\":1}\n"), Contains("not a `splatlm task --json` line"));
    REQUIRE_THROWS_WITH(draw_mqar_accuracy("", "/tmp/never.png"), Contains("no mqar results"));
}
