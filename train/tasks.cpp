// tasks.cpp — the example generators and option checks of train/tasks.h. Test: ./bin/tests "[tasks]".
#include "train/tasks.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "nn/config.h"
#include "tensor/error.h"
#include "train/args.h"

namespace splatlm {

namespace {

constexpr int64_t kTaskTokens = 255;  // ids 1..255 of the char vocabulary (0 is padding)
constexpr int32_t kSeparator = 1;     // copy, selective_copy; the trigger A of induction
constexpr int32_t kNoise = 2;         // selective_copy's filler

int64_t draw(Rng& rng, int64_t n) { return static_cast<int64_t>(rng.next_u64() % uint64_t(n)); }

// k distinct numbers of [0, n), in random order (a partial Fisher–Yates shuffle).
std::vector<int64_t> distinct(Rng& rng, int64_t n, int64_t k) {
    std::vector<int64_t> all(n);
    std::iota(all.begin(), all.end(), 0);
    for (int64_t i = 0; i < k; ++i) std::swap(all[i], all[i + draw(rng, n - i)]);
    all.resize(k);
    return all;
}

TaskExample blank(int64_t T) { return {std::vector<int32_t>(T + 1, 0), std::vector<uint8_t>(T, 0)}; }

TaskExample mqar(const TaskSpec& s, int64_t T, Rng& rng) {
    TaskExample e = blank(T);
    const std::vector<int64_t> keys = distinct(rng, s.keys, s.pairs);
    std::vector<int32_t> value(s.pairs);
    for (int64_t i = 0; i < s.pairs; ++i) {
        value[i] = int32_t(1 + s.keys + draw(rng, s.values));
        e.tokens[2 * i] = int32_t(1 + keys[i]);
        e.tokens[2 * i + 1] = value[i];
    }
    const int64_t first = 2 * s.pairs, slots = (T + 1 - first) / 2;
    std::vector<int64_t> where = distinct(rng, slots, s.pairs);  // query i goes to slot where[i]
    const std::vector<int64_t> order = distinct(rng, s.pairs, s.pairs);
    for (int64_t i = 0; i < s.pairs; ++i) {
        const int64_t at = first + 2 * where[i], pair = order[i];
        e.tokens[at] = int32_t(1 + keys[pair]);
        e.tokens[at + 1] = value[pair];
        e.graded[at] = 1;  // predicting tokens[at + 1] from the key at `at`
    }
    return e;
}

int32_t symbol(const TaskSpec& s, Rng& rng, int32_t first_id) { return int32_t(first_id + draw(rng, s.alphabet)); }

TaskExample copy(const TaskSpec& s, int64_t T, Rng& rng) {
    TaskExample e = blank(T);
    for (int64_t i = 0; i < s.span; ++i) e.tokens[i] = e.tokens[s.span + 1 + i] = symbol(s, rng, kSeparator + 1);
    e.tokens[s.span] = kSeparator;
    for (int64_t i = 0; i < s.span; ++i) e.graded[s.span + i] = 1;
    return e;
}

TaskExample selective_copy(const TaskSpec& s, int64_t T, Rng& rng) {
    TaskExample e = blank(T);
    const int64_t region = T - s.span;  // region, separator, span answers = T+1 tokens
    std::fill(e.tokens.begin(), e.tokens.begin() + region, kNoise);
    std::vector<int64_t> at = distinct(rng, region, s.span);
    std::sort(at.begin(), at.end());
    e.tokens[region] = kSeparator;
    for (int64_t i = 0; i < s.span; ++i) {
        e.tokens[at[i]] = e.tokens[region + 1 + i] = symbol(s, rng, kNoise + 1);
        e.graded[region + i] = 1;
    }
    return e;
}

TaskExample induction(const TaskSpec& s, int64_t T, Rng& rng) {
    TaskExample e = blank(T);
    for (int32_t& t : e.tokens) t = symbol(s, rng, kSeparator + 1);  // never the trigger
    const int64_t at = draw(rng, T - 2);                             // A B somewhere before the end
    const int32_t b = e.tokens[at + 1];
    e.tokens[at] = e.tokens[T - 1] = kSeparator;
    e.tokens[T] = b;
    e.graded[T - 1] = 1;
    return e;
}

const std::string kFiller = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ";
std::string needle(const std::string& number) { return "The pass key is " + number + ". Remember it. "; }
std::string question(const std::string& number) { return "What is the pass key? The pass key is " + number; }

TaskExample passkey(const TaskSpec& s, int64_t T, Rng& rng) {
    std::string number;
    for (int64_t i = 0; i < s.digits; ++i) number += char('0' + draw(rng, 10));
    const std::string hidden = needle(number), ask = question(number);
    const int64_t filler = T + 1 - int64_t(ask.size()) - int64_t(hidden.size());
    const double depth = s.depth >= 0 ? s.depth : rng.next_double();
    const int64_t at = std::min<int64_t>(filler, int64_t(depth * double(filler) + 0.5));
    std::string text;
    while (int64_t(text.size()) < filler) text += kFiller;
    text.resize(filler);
    text = text.substr(0, at) + hidden + text.substr(at) + ask;
    TaskExample e = blank(T);
    for (int64_t i = 0; i <= T; ++i) e.tokens[i] = static_cast<unsigned char>(text[i]);
    for (int64_t i = 0; i < s.digits; ++i) e.graded[T - 1 - i] = 1;
    return e;
}

// "64x4,128x8" <-> {{64, 4}, {128, 8}}.
std::vector<MqarShape> parse_mix(const std::string& text) {
    std::vector<MqarShape> mix;
    for (const std::string& item : split_commas(text)) {
        const size_t x = item.find('x');
        SPLATLM_CHECK(x != std::string::npos, "--mix: expected SEQxPAIRS shapes such as 64x4,128x8, got '", item, "'");
        mix.push_back({parse_int(item.substr(0, x), "--mix"), parse_int(item.substr(x + 1), "--mix")});
    }
    return mix;
}

std::string mix_text(const std::vector<MqarShape>& mix) {
    std::string text;
    for (const MqarShape& m : mix) text += (text.empty() ? "" : ",") + std::to_string(m.seq) + "x" + std::to_string(m.pairs);
    return text;
}

void require_kind(const std::string& kind) {
    const auto& kinds = task_kinds();
    if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) return;
    std::string list;
    for (const std::string& k : kinds) list += (list.empty() ? "" : ", ") + k;
    fail("unknown task '", kind, "' (known: ", list, ")");
}

}  // namespace

const std::vector<std::string>& task_kinds() {
    static const std::vector<std::string> kinds{"mqar", "copy", "selective_copy", "induction", "passkey"};
    return kinds;
}

const std::vector<std::string>& task_option_names(const std::string& kind) {
    require_kind(kind);
    static const std::vector<std::string> mqar{"pairs", "keys", "values", "mix"}, copies{"span", "alphabet"},
        induction{"alphabet"}, passkey{"digits", "depth"};
    if (kind == "mqar") return mqar;
    if (kind == "induction") return induction;
    if (kind == "passkey") return passkey;
    return copies;
}

void set_task_option(TaskSpec& s, const std::string& name, const std::string& value) {
    const auto& names = task_option_names(s.kind);
    SPLATLM_CHECK(std::find(names.begin(), names.end(), name) != names.end(), "task ", s.kind, ": --", name,
                  " is not an option of this task");
    const std::string what = "--" + name;
    if (name == "mix") s.mix = parse_mix(value);
    else if (name == "depth") s.depth = parse_double(value, what);
    else if (name == "pairs") s.pairs = parse_int(value, what);
    else if (name == "keys") s.keys = parse_int(value, what);
    else if (name == "values") s.values = parse_int(value, what);
    else if (name == "span") s.span = parse_int(value, what);
    else if (name == "alphabet") s.alphabet = parse_int(value, what);
    else s.digits = parse_int(value, what);
}

std::string task_spec_text(const TaskSpec& s) {
    std::ostringstream out;
    out << s.kind;
    for (const std::string& name : task_option_names(s.kind)) {
        if (name == "mix" && s.mix.empty()) continue;  // the text of runs from before the option
        out << ' ' << name << '=';
        if (name == "mix") out << mix_text(s.mix);
        else if (name == "depth") out << s.depth;
        else out << (name == "pairs" ? s.pairs : name == "keys" ? s.keys : name == "values" ? s.values
                     : name == "span" ? s.span : name == "alphabet" ? s.alphabet : s.digits);
    }
    return out.str();
}

TaskSpec parse_task_spec(const std::string& text) {
    std::istringstream in(text);
    TaskSpec s;
    in >> s.kind;
    require_kind(s.kind);
    for (std::string word; in >> word;) {
        const size_t eq = word.find('=');
        SPLATLM_CHECK(eq != std::string::npos, "task '", text, "': expected name=value, got '", word, "'");
        set_task_option(s, word.substr(0, eq), word.substr(eq + 1));
    }
    return s;
}

void check_task(const TaskSpec& s, int64_t T) {
    require_kind(s.kind);
    const std::string seq = " (--seq " + std::to_string(T) + ")";
    if (s.kind == "mqar") {
        SPLATLM_CHECK(s.pairs >= 1, "--pairs must be at least 1, got ", s.pairs);
        SPLATLM_CHECK(s.keys >= s.pairs, "--keys ", s.keys, " is too small a key vocabulary for --pairs ", s.pairs,
                      ": every pair of an example needs its own key");
        SPLATLM_CHECK(s.values >= 2, "--values must be at least 2, got ", s.values);
        SPLATLM_CHECK(s.keys + s.values <= kTaskTokens, "--keys + --values = ", s.keys + s.values, " exceed the ",
                      kTaskTokens, " task tokens of the char vocabulary");
        SPLATLM_CHECK(4 * s.pairs <= T, "--pairs ", s.pairs, " does not fit the sequence", seq,
                      ": pairs and queries take 4·pairs = ", 4 * s.pairs, " tokens");
        for (const MqarShape& m : s.mix) {
            const std::string shape = "--mix shape " + mix_text({m});
            SPLATLM_CHECK(m.pairs >= 1 && m.seq <= T, shape, " must have at least 1 pair and fit the sequence", seq);
            SPLATLM_CHECK(4 * m.pairs <= m.seq, shape, ": its pairs and queries take 4·pairs = ", 4 * m.pairs, " tokens");
            SPLATLM_CHECK(m.pairs <= s.keys, shape, " needs more keys than --keys ", s.keys);
        }
    } else if (s.kind == "passkey") {
        SPLATLM_CHECK(s.digits >= 1 && s.digits <= 18, "--digits must be in 1..18, got ", s.digits);
        SPLATLM_CHECK(s.depth == -1 || (s.depth >= 0 && s.depth <= 1), "--depth must be in [0, 1] (or -1: random), got ",
                      s.depth);
        const std::string number(s.digits, '0');
        const int64_t need = int64_t(needle(number).size() + question(number).size());
        SPLATLM_CHECK(need <= T + 1, "--seq ", T, " is too short for the pass key: its sentence and question take ",
                      need, " tokens");
    } else {
        const int64_t reserved = s.kind == "selective_copy" ? kNoise : kSeparator;
        SPLATLM_CHECK(s.alphabet >= 2 && s.alphabet + reserved <= kTaskTokens, "--alphabet must be in 2..",
                      kTaskTokens - reserved, ", got ", s.alphabet);
        if (s.kind == "induction") {
            SPLATLM_CHECK(T >= 4, "--seq must be at least 4 for induction, got ", T);
        } else {
            SPLATLM_CHECK(s.span >= 1, "--span must be at least 1, got ", s.span);
            const int64_t need = 2 * s.span + 1;  // the symbols, a separator, the answers
            SPLATLM_CHECK(need <= T + 1, "--span ", s.span, " does not fit the sequence", seq, ": ", s.kind, " takes ",
                          need, " tokens");
        }
    }
}

TaskExample make_training_example(const TaskSpec& s, int64_t T, Rng& rng) {
    if (s.mix.empty()) return make_task_example(s, T, rng);
    const int64_t pick = draw(rng, int64_t(s.mix.size()) + 1);
    if (pick == int64_t(s.mix.size())) return make_task_example(s, T, rng);
    TaskSpec shape = s;
    shape.pairs = s.mix[pick].pairs;
    TaskExample e = mqar(shape, s.mix[pick].seq, rng);
    e.tokens.resize(T + 1, 0);  // padding to the window, nothing graded there
    e.graded.resize(T, 0);
    return e;
}

TaskExample make_task_example(const TaskSpec& s, int64_t T, Rng& rng) {
    if (s.kind == "mqar") return mqar(s, T, rng);
    if (s.kind == "copy") return copy(s, T, rng);
    if (s.kind == "selective_copy") return selective_copy(s, T, rng);
    if (s.kind == "induction") return induction(s, T, rng);
    return passkey(s, T, rng);
}

}  // namespace splatlm
