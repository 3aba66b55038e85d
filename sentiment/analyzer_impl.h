// repwatch/sentiment/analyzer_impl.h - what the analyzer's phases share. Internal to sentiment/.
//
// Analyzer::Impl is the loaded lexicon and taxonomy (immutable, shared between threads). A
// review is analysed by Impl::analyze (sentiment/analyze.cpp: tokens, language, matches, clauses,
// terms, score) and attribute_touchpoints (sentiment/touchpoint_attribution.cpp: mentions, what
// is said of each touchpoint, evidence); the types below are the per-review records they pass
// on, kept in a per-thread Scratch that is reused from review to review.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"
#include "sentiment/analyzer.h"
#include "sentiment/lexicon.h"
#include "sentiment/phrase_trie.h"
#include "sentiment/taxonomy.h"
#include "sentiment/tokenizer.h"

namespace repwatch::sentiment {

struct Analyzer::Impl {
  detail::PhraseTrie trie;  // lexicon entries and taxonomy phrases
  detail::Lexicon lexicon;
  detail::Taxonomy taxonomy;
  const std::vector<detail::LexEntry>& lex = lexicon.entries;
  uint32_t num_root = 0;    // child of the root along <num>
  uint32_t start_root = 0;  // child of the root along <start>
  // Analysis::taxonomy_version: the taxonomy's version, or "#" and a digest of a file that has
  // none (an edit is then seen by `repwatch rescore --outdated` too).
  std::string taxonomy_stamp;

  Analysis analyze(std::string_view text) const;  // sentiment/analyze.cpp
};

namespace detail {

constexpr float kAlpha = 15.0f;  // score = s / sqrt(s^2 + alpha), as VADER normalizes

// A sum of term valences onto [-1, 1]: the review's score and each touchpoint's.
inline double normalize(double s) {
  if (s == 0) return 0;
  double v = s / std::sqrt(s * s + kAlpha);
  return std::clamp(v, -1.0, 1.0);
}

// A title before a name ("Dr", "nurse"): never a sentence start, and the capitalized word after
// it is a name, not a touchpoint.
inline bool is_title(uint64_t h) {
  constexpr uint64_t kTitles[] = {hash_ascii("dr"),    hash_ascii("mr"),   hash_ascii("mrs"),
                                  hash_ascii("ms"),    hash_ascii("miss"), hash_ascii("doctor"),
                                  hash_ascii("nurse"), hash_ascii("prof")};
  return is_one_of(h, kTitles);
}

// A lexicon entry or touchpoint phrase matched at tokens [start, end).
struct Match {
  uint32_t start = 0;  // first token
  uint32_t end = 0;    // one past the last token
  int32_t id = -1;     // lexicon entry, or trie node (touchpoints)
  bool used = false;   // a negator that negated a term
};

// A clause: tokens [begin, end) of one sentence, its terms and touchpoint matches, its weight.
struct Clause {
  uint32_t begin = 0, end = 0;  // tokens
  uint32_t sentence = 0;
  float weight = 1;
  float sum = 0;
  float emphasis = 1;                       // the "!" factor already in sum
  uint32_t terms_begin = 0, terms_end = 0;  // into Scratch::terms
  uint32_t tps_begin = 0, tps_end = 0;      // into Scratch::tp_matches
};

// A scored sentiment term.
struct Term {
  uint32_t offset, length;  // span incl. its negator/intensifier
  float value;
  uint32_t token;  // the first token of the term's own words (not its modifiers)
};

// What is said of one touchpoint so far: its sum of terms and its evidence spans.
struct TpAcc {
  double sum = 0;
  double most_negative = 0;  // its most negative weighted term (see own_score)
  // A term said of it, weighted.
  void say(double value) {
    sum += value;
    most_negative = std::min(most_negative, value);
  }
  // The terms of sentences that mention it and say nothing of any touchpoint (see
  // Attribution::close_sentence): its score when nothing is said of it directly.
  double unclaimed = 0;
  bool mentioned = false;
  // The last region (Attribution::region_, from 1) whose close_sentence visited it: a second
  // mention in the same region is seen in constant time, not by rescanning the region's
  // mentions (a sentence of thousands of mentions stays linear).
  uint32_t closed_region = 0;
  uint32_t first_offset = 0;
  uint32_t n_evidence = 0;
  uint32_t covered_end = 0;
  uint32_t offset[Analyzer::kMaxEvidence + 1];  // (+ 1: see add)
  uint32_t length[Analyzer::kMaxEvidence + 1];
  // Adds a span of evidence unless full or overlapping the previous span. Without a branch
  // (docs/sentiment.md, "The code and the compiler"): the span goes to the next slot either way,
  // there being a spare one, and is counted only when kept.
  void add(uint32_t off, uint32_t len) {
    const bool keep = (n_evidence < Analyzer::kMaxEvidence) & (off >= covered_end);
    offset[n_evidence] = off;
    length[n_evidence] = len;
    n_evidence += keep;
    covered_end = keep ? off + len : covered_end;
  }
};

// A span of the text that becomes an Evidence where it is stored: emplace_back(Span{...})
// constructs the Evidence in the vector's memory (docs/sentiment.md, "The code and the
// compiler").
struct Span {
  std::string_view text;
  uint32_t offset;
  uint32_t length;
  operator Evidence() const {
    return Evidence{std::string(text.data() + offset, length), offset, length};
  }
};

// A touchpoint's result without its evidence, constructed where it is stored as Span is.
struct Scored {
  const std::string& touchpoint;
  double score;
  operator TouchpointResult() const { return TouchpointResult{touchpoint, score, {}}; }
};

// A touchpoint mention whose taxonomy conditions hold.
struct Mention {
  uint32_t start, end;  // tokens
  uint32_t tp;          // index into the taxonomy's touchpoints
  bool cut = false;     // its clause is cut at a coordinator ("got an appointment and ...")
};

// Texts with more tokens than this do not leave their buffers behind in the thread.
constexpr size_t kKeptTokens = 65536;

// A per-thread buffer for a review's matches, clauses or terms. A review has at most one of each
// per token (plus one term), so reset(bound) makes room for all of them before the pass that
// fills it: push_back is then one store, without a capacity check (docs/sentiment.md, "The code
// and the compiler").
template <class T>
class Buffer {
 public:
  void reset(size_t bound) {
    if (store_.size() > kKeptTokens && bound <= kKeptTokens) {
      store_ = std::vector<T>();  // do not keep a huge review's buffer around
    }
    if (store_.size() < bound) store_.resize(std::max(bound, 2 * store_.size()));
    begin_ = end_ = store_.data();
  }
  void push_back(const T& v) { *end_++ = v; }

  T* begin() const { return begin_; }
  T* end() const { return end_; }
  size_t size() const { return static_cast<size_t>(end_ - begin_); }
  bool empty() const { return end_ == begin_; }
  T& operator[](size_t i) const { return begin_[i]; }
  T& front() const { return *begin_; }
  T& back() const { return end_[-1]; }

 private:
  std::vector<T> store_;
  T* begin_ = nullptr;
  T* end_ = nullptr;
};

// Per-thread buffers reused from review to review: the hot path allocates only the result.
struct Scratch {
  std::vector<Token> tokens;
  Buffer<Match> lex_matches;
  Buffer<Match> tp_matches;
  Buffer<Clause> clauses;
  Buffer<Term> terms;
  std::vector<Mention> mentions;
  std::vector<uint32_t> carry;  // touchpoints the next segment's terms go to without a mention
  std::vector<uint32_t> order;
  std::vector<TpAcc> acc;  // per touchpoint; only the `touched` ones are not in their initial state
  std::vector<uint32_t> touched;
  std::vector<uint32_t> candidates;  // tokens where a phrase may start
  std::vector<uint32_t> breaks;      // tokens where a clause may end: see split_clauses()
  std::vector<uint32_t> contrasts;   // tokens where a contrast or concession match starts
  std::vector<int32_t> halves, ups;  // contrast weights: difference arrays over clauses
};

// The last phase of Impl::analyze (sentiment/touchpoint_attribution.cpp): which touchpoints the
// review mentions and what it says of each, appended to out.touchpoints.
// Consumes the tokens `tk` (with the matcher's fields filled), scratch.lex_matches,
// scratch.tp_matches (not empty), scratch.clauses (weights and "!" factors final) and
// scratch.terms, out.score (the review's, final) and whether the text has sentence marks
// (sentiment/touchpoint_polarity.h); uses the rest of `scratch` as its own working space.
void attribute_touchpoints(const Analyzer::Impl& impl, Scratch& scratch, const Token* tk,
                           std::string_view text, bool has_sentence_marks, Analysis& out);

}  // namespace detail
}  // namespace repwatch::sentiment
