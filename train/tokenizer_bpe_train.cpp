// Learning BPE merges (BpeTokenizer::train). See tokenizer_bpe.h for the algorithm in words.
//
// Cost: each merge touches only the distinct chunks that contain the merged pair, rewriting
// them and adjusting the counts of their pairs, so a merge costs about the total length of
// those chunks instead of a pass over the corpus. The corpus itself is read once, to count
// distinct chunks.
#include <algorithm>
#include <optional>
#include <queue>

#include "tensor/error.h"
#include "train/tokenizer_bpe.h"

namespace splatlm {

namespace {

// A distinct chunk of the training text: its current tokens and how often it occurs.
struct Word {
    std::vector<int32_t> tokens;
    int64_t count;
};

std::vector<Word> count_chunks(std::string_view text) {
    std::unordered_map<std::string_view, int64_t> counts;
    for (size_t begin = 0; begin < text.size();) {
        const size_t end = bpe_chunk_end(text, begin);
        ++counts[text.substr(begin, end - begin)];
        begin = end;
    }
    std::vector<Word> words;
    words.reserve(counts.size());
    for (const auto& [chunk, count] : counts) {
        if (chunk.size() < 2) continue;  // a single byte holds no pair
        std::vector<int32_t> bytes(chunk.size());
        for (size_t i = 0; i < chunk.size(); ++i) bytes[i] = static_cast<unsigned char>(chunk[i]);
        words.push_back({std::move(bytes), count});
    }
    return words;
}

// Heap entry: a pair and its count when pushed. Higher count first; on equal counts the
// smaller (left, right) first.
struct PairEntry {
    int64_t count;
    BpeMerge pair;
    bool operator<(const PairEntry& o) const {
        if (count != o.count) return count < o.count;
        if (pair.left != o.pair.left) return pair.left > o.pair.left;
        return pair.right > o.pair.right;
    }
};

class MergeLearner {
  public:
    explicit MergeLearner(std::vector<Word> words) : words_(std::move(words)), last_visit_(words_.size(), -1) {
        for (int32_t w = 0; w < static_cast<int32_t>(words_.size()); ++w) {
            add_word_pairs(w, +1);
            for (size_t i = 0; i + 1 < words_[w].tokens.size(); ++i)
                words_with_pair_[key_at(w, i)].push_back(w);
        }
        touched_.clear();  // every pair is pushed here instead
        for (const auto& [key, count] : pair_count_) push_if_frequent(key, count);
    }

    // The most frequent pair that occurs at least twice, or nothing.
    std::optional<BpeMerge> take_best_pair() {
        while (!heap_.empty()) {
            const PairEntry top = heap_.top();
            heap_.pop();
            auto it = pair_count_.find(bpe_pair_key(top.pair.left, top.pair.right));
            if (it != pair_count_.end() && it->second == top.count) return top.pair;  // else stale
        }
        return std::nullopt;
    }

    // Rewrites every word containing `pair` with the new token and updates the statistics.
    void merge(BpeMerge pair, int32_t new_token) {
        const uint64_t merged_key = bpe_pair_key(pair.left, pair.right);
        const std::vector<int32_t> candidates = std::move(words_with_pair_[merged_key]);
        words_with_pair_.erase(merged_key);
        for (int32_t w : candidates) {
            if (last_visit_[w] == new_token) continue;  // listed twice
            last_visit_[w] = new_token;
            if (!contains(words_[w].tokens, pair)) continue;  // stale listing
            add_word_pairs(w, -1);
            replace_pair(words_[w].tokens, pair, new_token);
            add_word_pairs(w, +1);
            const std::vector<int32_t>& tokens = words_[w].tokens;
            for (size_t i = 0; i + 1 < tokens.size(); ++i)
                if (tokens[i] == new_token || tokens[i + 1] == new_token) words_with_pair_[key_at(w, i)].push_back(w);
        }
        std::sort(touched_.begin(), touched_.end());
        touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
        for (uint64_t key : touched_) {
            auto it = pair_count_.find(key);
            if (it->second == 0)
                pair_count_.erase(it);
            else
                push_if_frequent(key, it->second);
        }
        touched_.clear();
    }

  private:
    uint64_t key_at(int32_t w, size_t i) const {
        return bpe_pair_key(words_[w].tokens[i], words_[w].tokens[i + 1]);
    }

    // Adds (sign +1) or removes (sign -1) the word's adjacent pairs from the counts.
    void add_word_pairs(int32_t w, int sign) {
        const int64_t delta = sign * words_[w].count;
        for (size_t i = 0; i + 1 < words_[w].tokens.size(); ++i) {
            const uint64_t key = key_at(w, i);
            int64_t& count = pair_count_[key];
            count += delta;
            touched_.push_back(key);
        }
    }

    // Pairs seen once are never merged, so they stay off the heap until their count grows.
    void push_if_frequent(uint64_t key, int64_t count) {
        if (count >= 2) heap_.push({count, {static_cast<int32_t>(key >> 32), static_cast<int32_t>(key & 0xFFFFFFFFu)}});
    }

    static bool contains(const std::vector<int32_t>& tokens, BpeMerge pair) {
        for (size_t i = 0; i + 1 < tokens.size(); ++i)
            if (tokens[i] == pair.left && tokens[i + 1] == pair.right) return true;
        return false;
    }

    // Left to right, non-overlapping: (a, a) on "a a a" gives "aa a".
    static void replace_pair(std::vector<int32_t>& tokens, BpeMerge pair, int32_t new_token) {
        size_t out = 0;
        for (size_t i = 0; i < tokens.size(); ++out) {
            if (i + 1 < tokens.size() && tokens[i] == pair.left && tokens[i + 1] == pair.right) {
                tokens[out] = new_token;
                i += 2;
            } else {
                tokens[out] = tokens[i++];
            }
        }
        tokens.resize(out);
    }

    std::vector<Word> words_;
    std::vector<int32_t> last_visit_;  // word → the new token of the last merge that visited it
    std::unordered_map<uint64_t, int64_t> pair_count_;
    std::unordered_map<uint64_t, std::vector<int32_t>> words_with_pair_;  // may hold stale entries
    std::priority_queue<PairEntry> heap_;  // may hold stale entries
    std::vector<uint64_t> touched_;        // pairs whose count changed since the last heap update
};

}  // namespace

std::unique_ptr<BpeTokenizer> BpeTokenizer::train(std::string_view text, int vocab_size) {
    SPLATLM_CHECK(vocab_size >= kByteTokens && vocab_size <= kMaxVocabSize, "bpe: vocab_size must be in [",
                  kByteTokens, ", ", kMaxVocabSize, "] (256 byte tokens plus merges), got ", vocab_size);
    MergeLearner learner(count_chunks(text));
    std::vector<BpeMerge> merges;
    while (kByteTokens + static_cast<int>(merges.size()) < vocab_size) {
        const std::optional<BpeMerge> best = learner.take_best_pair();
        if (!best) break;
        learner.merge(*best, kByteTokens + static_cast<int32_t>(merges.size()));
        merges.push_back(*best);
    }
    return std::unique_ptr<BpeTokenizer>(new BpeTokenizer(std::move(merges)));
}

}  // namespace splatlm
