// The scorer. Overview (docs/sentiment.md has the full story):
//   1. tokenize (sentiment/tokenizer.h) and look every word up in the phrase trie once;
//   2. detect the language from stop-word counts; non-English is labelled, not scored;
//   3. one left-to-right pass finds the longest lexicon entry and the longest touchpoint phrase
//      starting at each word (non-overlapping, leftmost-longest);
//   4. split into sentences and clauses (punctuation, contrast words) and score each sentiment
//      term with negation, intensifiers, ALL-CAPS and "!" emphasis; contrast reweights clauses;
//   5. each touchpoint gets the clauses that mention it (a clause without a touchpoint carries
//      the previous clause's touchpoints within its sentence) and its own score and evidence.
#include "sentiment/analyzer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "core/error.h"
#include "sentiment/builtin_data.h"
#include "sentiment/lexicon.h"
#include "sentiment/phrase_trie.h"
#include "sentiment/taxonomy.h"
#include "sentiment/tokenizer.h"
#include "sentiment/touchpoint_polarity.h"

namespace repwatch::sentiment {

using detail::kAnyHash;
using detail::kNumHash;
using detail::LexEntry;
using detail::LexKind;
using detail::PhraseTrie;
using detail::Token;
using detail::TokenKind;

namespace {

constexpr float kCapsBoost = 1.25f;
constexpr float kBeforeContrast = 0.5f;
constexpr float kAfterContrast = 1.5f;
constexpr float kConcessionClause = 0.5f;
// A clause's contrast weight stays within these bounds: a review has a few "but"s, an
// unpunctuated megabyte of text can have thousands in one sentence, and 1.5^219 overflows.
constexpr float kMinWeight = 1.0f / 1024, kMaxWeight = 1024;

// 1.5^ups / 2^halves, within kMinWeight..kMaxWeight (1.5^219 would overflow a float). Exact, as
// repeated multiplication would be, while 3^ups fits a float's mantissa: every real review.
float contrast_weight(int32_t halves, int32_t ups) {
  constexpr auto kPow = [] {
    std::array<float, 16> p{};
    p[0] = 1;
    for (size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 1.5f;
    return p;
  }();
  float w = ups < 16 && halves < 31 ? kPow[ups] * (1.0f / static_cast<float>(1u << halves))
                                    : static_cast<float>(std::exp2(ups * std::log2(1.5) - halves));
  return std::clamp(w, kMinWeight, kMaxWeight);
}
constexpr float kAlpha = 15.0f;  // score = s / sqrt(s^2 + alpha), as VADER normalizes
constexpr int kScope = 3;
constexpr float kBareTopic = -0.6f;      // a comment of at most kBareTopicWords naming only a topic
constexpr uint32_t kBareTopicWords = 4;  // negators and intensifiers reach this many words ahead

double normalize(double s) {
  if (s == 0) return 0;
  double v = s / std::sqrt(s * s + kAlpha);
  return std::clamp(v, -1.0, 1.0);
}

std::string read_file(const std::filesystem::path& file, std::string_view what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw ConfigError(file.string() + ": cannot open " + std::string(what) + " file");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

struct Analyzer::Impl {
  PhraseTrie trie;  // lexicon entries and taxonomy phrases
  detail::Lexicon lexicon;
  detail::Taxonomy taxonomy;
  const std::vector<LexEntry>& lex = lexicon.entries;
  uint32_t num_root = 0;    // child of the root along <num>
  uint32_t start_root = 0;  // child of the root along <start>
  // Analysis::taxonomy_version: the taxonomy's version, or "#" and a digest of a file that has
  // none (an edit is then seen by `repwatch rescore --outdated` too).
  std::string taxonomy_stamp;

  Analysis analyze(std::string_view text) const;
  struct Attribution;
};

// ---------------------------------------------------------------------------------------------
// Analysis

namespace {

struct Match {
  uint32_t start = 0;  // first token
  uint32_t end = 0;    // one past the last token
  int32_t id = -1;     // lexicon entry, or trie node (touchpoints)
  bool used = false;   // a negator that negated a term
};

bool is_title(uint64_t h) {
  constexpr uint64_t kTitles[] = {detail::hash_ascii("dr"),    detail::hash_ascii("mr"),
                                  detail::hash_ascii("mrs"),   detail::hash_ascii("ms"),
                                  detail::hash_ascii("miss"),  detail::hash_ascii("doctor"),
                                  detail::hash_ascii("nurse"), detail::hash_ascii("prof")};
  for (uint64_t t : kTitles) {
    if (t == h) return true;
  }
  return false;
}

// Words a sentence does not end with ("the doctors and Nurses", "to the Reception"): in a text
// without sentence marks, a capitalized word after one of them does not start a sentence.
bool joins_next(uint64_t h) {
  constexpr uint64_t kWords[] = {
      detail::hash_ascii("and"),   detail::hash_ascii("or"),     detail::hash_ascii("the"),
      detail::hash_ascii("a"),     detail::hash_ascii("an"),     detail::hash_ascii("to"),
      detail::hash_ascii("of"),    detail::hash_ascii("for"),    detail::hash_ascii("with"),
      detail::hash_ascii("my"),    detail::hash_ascii("your"),   detail::hash_ascii("our"),
      detail::hash_ascii("their"), detail::hash_ascii("at"),     detail::hash_ascii("by"),
      detail::hash_ascii("from"),  detail::hash_ascii("very"),   detail::hash_ascii("is"),
      detail::hash_ascii("are"),   detail::hash_ascii("was"),    detail::hash_ascii("were"),
      detail::hash_ascii("dear"),  detail::hash_ascii("called"), detail::hash_ascii("named")};
  for (uint64_t w : kWords) {
    if (w == h) return true;
  }
  return false;
}

struct Clause {
  uint32_t begin = 0, end = 0;  // tokens
  uint32_t sentence = 0;
  float weight = 1;
  float sum = 0;
  float emphasis = 1;                       // the "!" factor already in sum
  uint32_t terms_begin = 0, terms_end = 0;  // into Scratch::terms
  uint32_t tps_begin = 0, tps_end = 0;      // into Scratch::tp_matches
};

struct Term {
  uint32_t offset, length;  // span incl. its negator/intensifier
  float value;
  uint32_t token;  // the first token of the term's own words (not its modifiers)
};

struct TpAcc {
  double sum = 0;
  // The terms of sentences that mention it and say nothing of any touchpoint (see
  // Attribution::close_sentence): its score when nothing is said of it directly.
  double unclaimed = 0;
  bool mentioned = false;
  uint32_t first_offset = 0;
  uint32_t n_evidence = 0;
  uint32_t covered_end = 0;
  uint32_t offset[Analyzer::kMaxEvidence + 1];  // (+ 1: see add)
  uint32_t length[Analyzer::kMaxEvidence + 1];
  // Adds a span of evidence unless full or overlapping the previous span. Without a branch
  // (whether a span overlaps the previous one is a coin toss): the span goes to the next slot
  // either way, there being a spare one, and is counted only when kept.
  void add(uint32_t off, uint32_t len) {
    const bool keep = (n_evidence < Analyzer::kMaxEvidence) & (off >= covered_end);
    offset[n_evidence] = off;
    length[n_evidence] = len;
    n_evidence += keep;
    covered_end = keep ? off + len : covered_end;
  }
};

// A span of the text that becomes an Evidence where it is stored: emplace_back(Span{...})
// constructs the Evidence and its phrase in the vector's memory (the conversion's result is
// not a temporary to move from, and Evidence is an aggregate without a constructor to call).
struct Span {
  std::string_view text;
  uint32_t offset;
  uint32_t length;
  operator Evidence() const {
    return Evidence{std::string(text.data() + offset, length), offset, length};
  }
};

// Texts with more tokens than this do not leave their buffers behind in the thread.
constexpr size_t kKeptTokens = 65536;

// A per-thread buffer for a review's matches, clauses or terms. A review has at most one of each
// per token (plus one term), so reset(bound) makes room for all of them before the pass that
// fills it: push_back is then one store, without std::vector's capacity check and out-of-line
// growth path (which the compiler does not inline into the analyzer's long function).
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
  std::vector<uint32_t> breaks;      // tokens where a clause may end: see step 5
  std::vector<uint32_t> contrasts;   // tokens where a contrast or concession match starts
  std::vector<int32_t> halves, ups;  // contrast weights: difference arrays over clauses
};

// The stop words of a word (its trie node's flags) as 1s in 12-bit lanes, one per language:
// adding one table entry per word counts all five languages at once. A lane holds up to 4095,
// so the lanes are moved to 32-bit totals every 4095 tokens.
enum StopLane { kLaneEn, kLaneEs, kLaneIt, kLaneFr, kLaneDe, kLanes };
constexpr unsigned kLaneBits = 12;
constexpr uint32_t kLaneMax = (1u << kLaneBits) - 1;
struct StopLaneTable {
  uint64_t add[256];
  constexpr StopLaneTable() : add() {
    constexpr uint8_t kFlag[kLanes] = {detail::kStopEn, detail::kStopEs, detail::kStopIt,
                                       detail::kStopFr, detail::kStopDe};
    for (int f = 0; f < 256; ++f) {
      for (int lane = 0; lane < kLanes; ++lane) {
        if (f & kFlag[lane]) add[f] |= uint64_t{1} << (kLaneBits * lane);
      }
    }
  }
};
constexpr StopLaneTable kStopLanes;

// Words that join two statements in one clause ("the doctor was great and the receptionist was
// rude"): a clause is cut there for touchpoints once the part before it mentions a touchpoint
// and says something of it.
bool is_coordinator(const Token& t) {
  constexpr uint64_t kWords[] = {detail::hash_ascii("and"), detail::hash_ascii("also"),
                                 detail::hash_ascii("plus"), detail::hash_ascii("then")};
  if (t.kind != TokenKind::kWord || t.lex >= 0) return false;  // "in and out" is a phrase
  for (uint64_t h : kWords) {
    if (h == t.hash) return true;
  }
  return false;
}

}  // namespace

// Step 7 of analyze(): which touchpoints the review mentions and what it says of each.
//  - Mentions: the touchpoint phrases matched, each kept only where its taxonomy conditions
//    hold (what it needs around it, what rules it out).
//  - Segments: a clause is cut at a coordinator ("and", "also", "plus", "then") once the part
//    before it mentions a touchpoint and holds a term, so "the doctor was great and the
//    receptionist was rude" says "great" of the doctor only. A segment's terms go to the
//    touchpoints it mentions; a segment that mentions none goes on about the touchpoints of the
//    segment before it in its sentence (not across a contrast).
//  - Each touchpoint's score is the normalised sum of its terms (with their clause's contrast
//    and "!" weights); its evidence is its mentions and those terms, in text order.
struct Analyzer::Impl::Attribution {
  const Impl& impl;
  Scratch& scratch;
  const Token* tk;
  const Buffer<Match>& lex_matches;
  const Buffer<Clause>& clauses;
  const Buffer<Term>& terms;
  std::string_view text;
  // The score of a touchpoint nothing is said of (sentiment/touchpoint_polarity.h).
  double untold = 0;
  // A region is a sentence, or the part of one after a contrast: terms are said of the
  // touchpoints of their region only (attribute() counts them).
  uint32_t region_ = 0;
  // The last segment of the region being read that held terms: "the nurses were kind and the
  // doctors too" says "kind" of the doctors as well.
  struct {
    uint32_t region = UINT32_MAX, t_begin = 0, t_end = 0;
    float factor = 1;
  } last_{};
  // The sentence being read: its first mention, its first term, and whether a term of it went
  // to a touchpoint.
  size_t sentence_m_ = 0;
  uint32_t sentence_t_ = 0, sentence_t_end_ = 0;
  double sentence_sum_ = 0;  // its terms, weighted as in the review's score
  bool claimed_ = false;

  void run(const Buffer<Match>& tp_matches, Analysis& out) {
    find_mentions(tp_matches);
    if (scratch.mentions.empty()) return;
    reset_accumulators();
    attribute();
    emit(out);
  }

  void find_mentions(const Buffer<Match>& tp_matches) {
    auto& mentions = scratch.mentions;
    mentions.clear();
    size_t c = 0;
    uint32_t sentence = UINT32_MAX;
    detail::MentionSpan span{};
    for (const Match& m : tp_matches) {
      if (is_name(m.start)) continue;
      while (c + 1 < clauses.size() && clauses[c].end <= m.start) ++c;
      if (clauses[c].sentence != sentence) {  // the token range of this clause's sentence
        sentence = clauses[c].sentence;
        size_t b = c, e = c;
        while (b > 0 && clauses[b - 1].sentence == sentence) --b;
        while (e + 1 < clauses.size() && clauses[e + 1].sentence == sentence) ++e;
        span.sentence_begin = clauses[b].begin;
        span.sentence_end = clauses[e].end;
      }
      span.start = m.start;
      span.end = m.end;
      if (!add_mentions(static_cast<uint32_t>(m.id), span) && impl.taxonomy.conditional()) {
        shorter_mentions(m, span);
      }
    }
  }

  // A capitalized word right after a title is a name ("Dr. Park", "Dr Bill Evans"), not a
  // touchpoint.
  // (Both capitalized, the name not itself a title: "the nurse Doctor", "my doctor Prescription"
  // in a text without punctuation are not names.)
  bool is_name(uint32_t i) const {
    if (i == 0 || !tk[i].capitalized || is_title(tk[i].hash)) return false;
    uint32_t p = i - 1;
    if (tk[p].kind == TokenKind::kPunct && tk[p].punct == '.' && p > 0) --p;
    return tk[p].kind == TokenKind::kWord && (tk[p].capitalized || tk[p].caps) &&
           is_title(tk[p].hash);
  }

  // The touchpoints of trie node `node` whose conditions hold for `span`; whether there was one.
  bool add_mentions(uint32_t node, const detail::MentionSpan& span) {
    const detail::TrieNode& nd = impl.trie.node(node);
    bool any = false;
    for (uint32_t k = 0; k < nd.tp_count; ++k) {
      const detail::TpRef& ref = impl.taxonomy.refs[nd.tp_begin + k];
      if (impl.taxonomy.holds(ref, tk, span)) {
        scratch.mentions.push_back({span.start, span.end, ref.tp});
        any = true;
      }
    }
    return any;
  }

  // When the longest phrase at a word is ruled out by its conditions, the next longest that
  // holds ("on the phone" needs a clinician nearby to be a telephone consultation; "phone"
  // alone is still the phone).
  void shorter_mentions(const Match& m, detail::MentionSpan span) {
    uint32_t found[12];  // trie nodes of the touchpoint phrases starting at m.start, by length
    uint32_t ends[12];
    unsigned count = 0;
    detail::walk_phrases(impl.trie, 0, tk, m.start, m.end - 1, [&](uint32_t node, uint32_t end) {
      if (impl.trie.node(node).tp_count && count < std::size(found)) {
        found[count] = node;
        ends[count++] = end;
      }
      return false;
    });
    // Longest first.
    for (unsigned k = count; k-- > 0;) {
      unsigned best = k;
      for (unsigned q = 0; q < k; ++q) best = ends[q] > ends[best] ? q : best;
      std::swap(found[k], found[best]);
      std::swap(ends[k], ends[best]);
      span.end = ends[k];
      if (add_mentions(found[k], span)) return;
    }
  }

  void reset_accumulators() {
    // Reset only what the last review touched (a taxonomy has dozens of touchpoints, a review
    // mentions one or two).
    auto& acc = scratch.acc;
    for (uint32_t tp : scratch.touched) acc[tp] = TpAcc{};
    scratch.touched.clear();
    if (acc.size() < impl.taxonomy.touchpoints.size()) {
      acc.resize(impl.taxonomy.touchpoints.size());
    }
  }

  bool is_content_word(const Token& t) const {
    return t.kind == TokenKind::kWord && !(t.capitalized && !t.sentence_start) && !t.numeric &&
           !(impl.trie.node(t.root).flags & detail::kStopEn);
  }

  bool starts_contrast(const Clause& cl) const {
    const Token& first = tk[cl.begin];
    if (first.lex < 0 || lex_matches[first.lex].start != cl.begin) return false;
    const LexKind k = impl.lex[lex_matches[first.lex].id].kind;
    return k == LexKind::kContrast || k == LexKind::kConcession;
  }

  void attribute() {
    auto& mentions = scratch.mentions;
    auto& carry = scratch.carry;
    carry.clear();
    region_ = 0;
    size_t m = 0;
    uint32_t last_sentence = UINT32_MAX;
    const Clause* prev = nullptr;
    for (const Clause& cl : clauses) {
      if (cl.sentence != last_sentence || starts_contrast(cl)) {
        if (prev) close_sentence(m);
        sentence_m_ = m;
        sentence_t_ = sentence_t_end_ = cl.terms_begin;
        sentence_sum_ = 0;
        claimed_ = false;
        carry.clear();
        last_sentence = cl.sentence;
        ++region_;
      }
      prev = &cl;
      sentence_sum_ += cl.sum * cl.weight;
      if (cl.terms_begin != cl.terms_end) sentence_t_end_ = cl.terms_end;
      const size_t m_begin = m;
      while (m < mentions.size() && mentions[m].start < cl.end) ++m;
      // No cut can change anything unless the clause mentions touchpoints at two places and
      // holds a term: then its terms go to all its mentions (or the carried touchpoints).
      if (cl.terms_begin == cl.terms_end || m == m_begin ||
          mentions[m - 1].start == mentions[m_begin].start) {
        segment_terms(cl, cl.end, cl.terms_begin, cl.terms_end, m_begin, m);
        continue;
      }
      // Cut at coordinators once a segment mentions a touchpoint and says more than its name:
      // a term, or a word other than a function word or a name ("got a same-day appointment
      // and the nurse was kind"; not "the doctor and the nurse were kind").
      size_t seg_m = m_begin, next_m = m_begin;
      uint32_t seg_t = cl.terms_begin, next_t = cl.terms_begin;
      uint32_t covered = 0;  // a coordinator inside a mention does not cut
      bool content = false;  // the segment has a word that is not a mention, function word or name
      for (uint32_t i = cl.begin; i < cl.end; ++i) {
        while (next_m < m && mentions[next_m].start == i) {
          covered = std::max(covered, mentions[next_m].end);
          ++next_m;
        }
        while (next_t < cl.terms_end && terms[next_t].token <= i) ++next_t;
        const Token& t = tk[i];
        if (next_m > seg_m && (next_t > seg_t || content) && i >= covered && is_coordinator(t)) {
          segment_terms(cl, i, seg_t, next_t, seg_m, next_m);
          seg_m = next_m;
          seg_t = next_t;
          content = false;
          continue;
        }
        content |= i >= covered && is_content_word(t);
      }
      if (seg_m != m_begin) {  // cut: each segment keeps to its own words
        for (size_t k = m_begin; k < m; ++k) mentions[k].cut = true;
      }
      segment_terms(cl, cl.end, seg_t, cl.terms_end, seg_m, m);
    }
    if (prev) close_sentence(m);
  }

  // A sentence that mentions touchpoints and says something, none of it of a touchpoint
  // ("Saw the doctor on Monday and could not have been more pleased", "Nobody at the surgery
  // has any idea what they are doing, the receptionist told me"): what it says is said of
  // them, for those that nothing else is said of (emit()). Mentions [sentence_m_, m_end),
  // terms [sentence_t_, sentence_t_end_).
  void close_sentence(size_t m_end) {
    if (m_end == sentence_m_ || sentence_sum_ == 0) return;
    const uint32_t t_end = sentence_t_end_;
    if (claimed_) {  // by another touchpoint: still said of this one when the sentence is all one
                     // way
      bool pos = false, neg = false;
      for (uint32_t b = sentence_t_; b < t_end; ++b) {
        pos |= terms[b].value > 0;
        neg |= terms[b].value < 0;
      }
      if (pos && neg) return;
    }
    const auto& mentions = scratch.mentions;
    auto& acc = scratch.acc;
    for (size_t k = sentence_m_; k < m_end; ++k) {
      const uint32_t tp = mentions[k].tp;
      TpAcc& t = acc[tp];
      bool again = false;  // mentioned twice in the sentence
      for (size_t q = sentence_m_; q < k; ++q) again |= mentions[q].tp == tp;
      // A clause cut at a coordinator keeps each segment to its own words ("Got a same-day
      // appointment and the nurse was kind").
      if (t.sum != 0 || again || (claimed_ && mentions[k].cut)) continue;
      t.unclaimed += sentence_sum_;
      // Its evidence so far (mentions) and the sentence's terms, merged in text order.
      const TpAcc before = t;
      t.n_evidence = 0;
      t.covered_end = 0;
      uint32_t e = 0, b = sentence_t_;
      while (e < before.n_evidence || b < t_end) {
        if (b < t_end && terms[b].value == 0) {
          ++b;
        } else if (b < t_end && (e == before.n_evidence || terms[b].offset < before.offset[e])) {
          t.add(terms[b].offset, terms[b].length);
          ++b;
        } else {
          t.add(before.offset[e], before.length[e]);
          ++e;
        }
      }
    }
  }

  // Whether a segment ending before token `end` ends with "too", "also" or "as well": it says
  // the same as the segment before it ("and the doctors too").
  bool elliptical(uint32_t end) const {
    while (end > 0 && tk[end - 1].kind == TokenKind::kPunct) --end;
    if (end == 0) return false;
    constexpr uint64_t kToo = detail::hash_ascii("too"), kAlso = detail::hash_ascii("also"),
                       kWell = detail::hash_ascii("well"), kAs = detail::hash_ascii("as");
    const uint64_t h = tk[end - 1].hash;
    return h == kToo || h == kAlso || (h == kWell && end >= 2 && tk[end - 2].hash == kAs);
  }

  // The terms [t_begin, t_end) of clause `cl` (a segment ending before token `end`) said of the
  // mentions [m_begin, m_end) or, without a mention, of the carried touchpoints; evidence in
  // text order.
  void segment_terms(const Clause& cl, uint32_t end, uint32_t t_begin, uint32_t t_end,
                     size_t m_begin, size_t m_end) {
    const auto& mentions = scratch.mentions;
    auto& carry = scratch.carry;
    auto& acc = scratch.acc;
    const float factor = cl.weight * cl.emphasis;
    if (m_begin != m_end) {
      carry.clear();
      for (size_t k = m_begin; k < m_end; ++k) {
        const uint32_t tp = mentions[k].tp;
        if (std::find(carry.begin(), carry.end(), tp) == carry.end()) carry.push_back(tp);
        TpAcc& t = acc[tp];
        if (!t.mentioned) {
          t.mentioned = true;
          t.first_offset = tk[mentions[k].start].offset;
          scratch.touched.push_back(tp);
        }
      }
      bool said = false;
      for (uint32_t b = t_begin; b < t_end; ++b) said |= terms[b].value != 0;
      if (!said && last_.region == region_ && elliptical(end)) {
        // "... and the doctors too": the previous segment's terms, after the mentions.
        for (size_t k = m_begin; k < m_end; ++k) {
          const Mention& mt = mentions[k];
          const Token& last = tk[mt.end - 1];
          const uint32_t off = tk[mt.start].offset;
          acc[mt.tp].add(off, last.offset + last.length - off);
        }
        for (uint32_t b = last_.t_begin; b < last_.t_end; ++b) {
          const Term& term = terms[b];
          if (term.value == 0) continue;
          claimed_ = true;
          for (uint32_t tp : carry) {
            acc[tp].sum += term.value * last_.factor;
          }
        }
        return;
      }
    }
    if (t_begin != t_end) {
      last_ = {region_, t_begin, t_end, factor};
    }
    if (carry.empty()) return;
    size_t k = m_begin;
    uint32_t b = t_begin;
    while (k < m_end || b < t_end) {
      const uint32_t m_off = k < m_end ? tk[mentions[k].start].offset : UINT32_MAX;
      if (b < t_end && terms[b].offset < m_off) {
        const Term& term = terms[b++];
        if (term.value == 0) continue;
        claimed_ = true;
        for (uint32_t tp : carry) {
          acc[tp].sum += term.value * factor;
          acc[tp].add(term.offset, term.length);
        }
        continue;
      }
      const Mention& mt = mentions[k++];
      const Token& last = tk[mt.end - 1];
      acc[mt.tp].add(m_off, last.offset + last.length - m_off);
    }
  }

  void emit(Analysis& out) {
    auto& acc = scratch.acc;
    // The mentioned touchpoints by index, then by first mention (the same sort of the same
    // sequence as over all touchpoints, so ties come out the same). Sorted in place: the next
    // review resets them in any order. Most reviews mention one.
    auto& order = scratch.touched;
    if (order.size() > 1) {
      std::sort(order.begin(), order.end());
      std::sort(order.begin(), order.end(),
                [&](uint32_t a, uint32_t b) { return acc[a].first_offset < acc[b].first_offset; });
    }
    out.touchpoints.reserve(order.size());
    for (uint32_t tp : order) {
      const TpAcc& t = acc[tp];
      TouchpointResult& r = out.touchpoints.emplace_back(
          Scored{impl.taxonomy.touchpoints[tp].id,
                 normalize(detail::touchpoint_raw_score(t.sum, t.unclaimed, untold, kAlpha))});
      r.evidence.reserve(t.n_evidence);
      for (uint32_t e = 0; e < t.n_evidence; ++e) {
        r.evidence.emplace_back(Span{text, t.offset[e], t.length[e]});
      }
    }
  }
};

Analysis Analyzer::Impl::analyze(std::string_view text) const {
  Analysis out;
  out.lexicon_version = lexicon.version;
  out.taxonomy_version = taxonomy_stamp;
  if (text.size() > kMaxTextBytes) text = text.substr(0, kMaxTextBytes);
  thread_local Scratch scratch;
  auto& tokens = scratch.tokens;
  if (tokens.size() > kKeptTokens) {  // do not keep a huge review's buffer around
    tokens.resize(kKeptTokens);
    tokens.shrink_to_fit();
  }
  for (auto* list : {&scratch.candidates, &scratch.breaks}) {
    if (list->size() > kKeptTokens) {
      list->resize(kKeptTokens);
      list->shrink_to_fit();
    }
  }
  detail::TextStats stats;
  const uint32_t n = static_cast<uint32_t>(detail::tokenize_into(text, tokens, &stats));
  Token* const tk = tokens.data();  // (the vector's pointer would be reloaded after every store)

  // 1. Each word alone in the trie: root node, number words, stop-word counts; sentence starts
  // after sentence marks.
  // The tokens where a phrase may start (a word in the trie, a number with <num> phrases, a
  // sentence start with <start> phrases) are listed without a branch: the matcher visits only
  // them. The punctuation tokens are listed too: the clause pass visits only them.
  uint32_t words = 0, bangs = 0;
  uint32_t stops[kLanes] = {};
  bool marks = false;
  auto& candidates = scratch.candidates;
  auto& breaks = scratch.breaks;
  if (candidates.size() < n) candidates.resize(std::max<size_t>(n, 2 * candidates.size()));
  if (breaks.size() <= n) breaks.resize(std::max<size_t>(n + 1, 2 * breaks.size()));
  uint32_t* const cand = candidates.data();
  uint32_t* const brk = breaks.data();
  uint32_t n_cand = 0, n_brk = 0;
  const bool has_num = num_root != 0, has_start = start_root != 0;
  {
    bool at_start = true;
    const PhraseTrie::RootIndex roots = trie.root_index();  // (built by from_text)
    for (uint32_t chunk = 0; chunk < n; chunk += kLaneMax) {
      const uint32_t chunk_end = std::min(n, chunk + kLaneMax);
      uint64_t lanes = 0;
      for (uint32_t i = chunk; i < chunk_end; ++i) {
        Token& t = tk[i];
        if (t.kind == TokenKind::kPunct) {
          if (t.punct != ',' && t.punct != ':') at_start = marks = true;
          bangs += t.punct == '!';
          brk[n_brk++] = i;
          continue;
        }
        ++words;
        t.sentence_start = at_start;
        // Branch-free: whether the word is in the trie is a coin toss for the branch predictor.
        const PhraseTrie::RootHit hit = roots.find(t.hash);
        t.root = hit.node;
        t.root_info = hit.info;
        const uint8_t f = hit.flags;  // 0 when the word is not in the trie
        lanes += kStopLanes.add[f];
        t.numeric |= (f & detail::kNumberWord) != 0;
        cand[n_cand] = i;
        n_cand += (hit.info != 0) | (t.numeric & has_num) | (at_start & has_start);
        at_start = false;
      }
      for (int lane = 0; lane < kLanes; ++lane) {
        stops[lane] += static_cast<uint32_t>(lanes >> (kLaneBits * lane)) & kLaneMax;
      }
    }
  }
  const uint32_t stop_en = stops[kLaneEn];
  const uint32_t stop_other[4] = {stops[kLaneEs], stops[kLaneIt], stops[kLaneFr], stops[kLaneDe]};

  // 2. Language.
  if (words == 0) {
    out.language = "";
    return out;
  }
  if (stats.non_latin * 2 > stats.letters) {
    out.language = "";  // a script we have no lexicon for
    out.scored = false;
    return out;
  }
  {
    // Another language when its stop words clearly outnumber English ones; Romance languages
    // share many, so the best profile wins.
    static const char* const kCodes[] = {"es", "it", "fr", "de"};
    int best = 0;
    for (int k = 1; k < 4; ++k) {
      if (stop_other[k] > stop_other[best]) best = k;
    }
    if (stop_other[best] >= 2 && stop_other[best] > 2 * stop_en) {
      out.language = kCodes[best];
      out.scored = false;
      return out;
    }
  }
  // (Moved from a string of known length: assigning the literal calls std::string's _M_replace.)
  out.language = std::string("en");

  // 3. Texts without sentence punctuation (survey exports often strip it) get a sentence break
  // before a capitalized word that follows a lower-case word. Such a break may end a clause:
  // it joins the punctuation in `breaks`. (Step 1's lists stay right when no sentence start
  // changed: its only one is the first word, which does not end a clause.)
  bool new_starts = false;
  if (!marks && words >= 12) {
    for (uint32_t i = 1; i < n; ++i) {
      Token& t = tk[i];
      if (t.kind != TokenKind::kWord || !t.capitalized || is_title(t.hash)) continue;
      const Token& p = tk[i - 1];
      const bool start =
          p.kind == TokenKind::kWord && !p.capitalized && !p.caps && !joins_next(p.hash);
      new_starts |= start != t.sentence_start;
      t.sentence_start = start;
    }
  }
  if (new_starts) {
    n_cand = n_brk = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const Token& t = tk[i];
      cand[n_cand] = i;
      n_cand += (t.root_info != 0) | (t.numeric & has_num) | (t.sentence_start & has_start);
      brk[n_brk] = i;
      n_brk += (t.kind == TokenKind::kPunct) | t.sentence_start;
    }
  }
  brk[n_brk] = UINT32_MAX;

  // 4. Leftmost-longest lexicon and touchpoint matches.
  auto& lex_matches = scratch.lex_matches;
  auto& tp_matches = scratch.tp_matches;
  lex_matches.reset(n);
  tp_matches.reset(n);
  uint32_t lex_next = 0, tp_next = 0;
  struct Best {
    uint32_t lex_end = 0;
    int32_t lex = -1;
    uint32_t tp_end = 0;
    uint32_t tp_node = 0;
  };
  // Depth-first over the trie from `node`, having consumed tokens up to j: the exact word first,
  // then <num>, then ?, as a loop along exact words with the wildcard branches on a small stack
  // (popped deepest first, which is the depth-first order). A phrase has at most 10 words, so
  // the stack never holds more than 2 per word.
  auto walk = [&](uint32_t node, uint32_t j, Best& best) {
    struct Pending {
      uint32_t node, j;
    };
    Pending stack[24];
    unsigned depth = 0;
    for (;;) {
      const detail::TrieNode& nd = trie.node(node);
      if (nd.lex >= 0 && j > best.lex_end) {
        best.lex_end = j;
        best.lex = nd.lex;
      }
      if (nd.tp_count && j > best.tp_end) {
        best.tp_end = j;
        best.tp_node = node;
      }
      uint32_t next = 0;
      if (nd.children && j < n && tk[j].kind != TokenKind::kPunct) {
        const Token& t = tk[j];
        if ((nd.flags & detail::kHasAnyChild) && depth < std::size(stack)) {
          if (uint32_t c = trie.child(node, kAnyHash)) stack[depth++] = {c, j + 1};
        }
        if (t.numeric && (nd.flags & detail::kHasNumChild) && depth < std::size(stack)) {
          if (uint32_t c = trie.child(node, kNumHash)) stack[depth++] = {c, j + 1};
        }
        next = trie.child(node, t.hash);
      }
      if (next) {
        node = next;
        ++j;
      } else if (depth) {
        --depth;
        node = stack[depth].node;
        j = stack[depth].j;
      } else {
        return;
      }
    }
  };
  const bool num_walk_always =
      num_root && (trie.node(num_root).lex >= 0 || trie.node(num_root).tp_count ||
                   (trie.node(num_root).flags & (detail::kHasAnyChild | detail::kHasNumChild)));
  auto& contrasts = scratch.contrasts;
  contrasts.clear();
  for (uint32_t c = 0; c < n_cand; ++c) {
    const uint32_t i = cand[c];
    const Token& t = tk[i];
    // Words that start no phrase (most stop words, most words) are not candidates; words inside
    // both the last lexicon match and the last touchpoint match (whatever starts there cannot
    // be kept) are skipped without a walk.
    if (i < lex_next && i < tp_next) continue;
    const bool anchored = t.sentence_start && start_root;
    Best best;
    if (anchored) walk(start_root, i, best);  // first: wins ties, being more specific
    if (t.root_info) {
      // The word alone (most matches), then a walk only when the next word may continue a
      // phrase: walk(t.root, i + 1) would find the same.
      const detail::TrieNode& nd = trie.node(t.root);
      if (nd.lex >= 0 && i + 1 > best.lex_end) {
        best.lex_end = i + 1;
        best.lex = nd.lex;
      }
      if (nd.tp_count && i + 1 > best.tp_end) {
        best.tp_end = i + 1;
        best.tp_node = t.root;
      }
      if ((t.root_info & PhraseTrie::kRootHasChildren) && i + 1 < n &&
          tk[i + 1].kind != TokenKind::kPunct) {
        if (nd.flags & (detail::kHasAnyChild | detail::kHasNumChild)) {
          walk(t.root, i + 1, best);
        } else if (const uint32_t next = trie.child(t.root, tk[i + 1].hash)) {
          walk(next, i + 2, best);  // what walk(t.root, i + 1) does with no wildcard edges
        }
      }
    }
    if (t.numeric && num_root) {
      // Most numbers and number words ("a", "an") start no <num> phrase: unless <num> alone
      // matters (it ends a phrase or has wildcard edges), walk only past the child along the next
      // word, what walk(num_root, i + 1) would find first.
      if (num_walk_always) {
        walk(num_root, i + 1, best);
      } else if (i + 1 < n && tk[i + 1].kind != TokenKind::kPunct) {
        if (const uint32_t next = trie.child(num_root, tk[i + 1].hash)) walk(next, i + 2, best);
      }
    }
    if (best.lex >= 0 && i >= lex_next) {
      lex_matches.push_back({i, best.lex_end, best.lex});
      for (uint32_t k = i; k < best.lex_end; ++k) {
        tk[k].lex = static_cast<int32_t>(lex_matches.size() - 1);
      }
      lex_next = best.lex_end;
      const LexKind k = lex[best.lex].kind;
      if (k == LexKind::kContrast || k == LexKind::kConcession) contrasts.push_back(i);
    }
    if (best.tp_node && i >= tp_next) {
      tp_matches.push_back({i, best.tp_end, static_cast<int32_t>(best.tp_node)});
      tp_next = best.tp_end;
    }
  }

  // 5. Sentences and clauses. A clause ends at punctuation, before a sentence start that is
  // not already the first word of a clause (only step 3's can be: step 1's follow a mark) and
  // before a contrast or concession match: the pass visits only those tokens, the two sorted
  // lists `breaks` and `contrasts` merged.
  auto& clauses = scratch.clauses;
  clauses.reset(n);  // clauses are not empty and do not overlap
  {
    uint32_t sentence = 0;
    uint32_t begin = 0;
    auto close = [&](uint32_t end) {
      if (end > begin) clauses.push_back(Clause{begin, end, sentence});
    };
    contrasts.push_back(UINT32_MAX);
    const uint32_t* next_break = brk;  // ends with UINT32_MAX too
    const uint32_t* next_contrast = contrasts.data();
    for (;;) {
      const uint32_t i = std::min(*next_break, *next_contrast);
      if (i == UINT32_MAX) break;
      next_contrast += *next_contrast == i;
      if (*next_break != i) {  // a contrast or concession match starts here
        if (i > begin) {
          close(i);
          begin = i;
        }
        continue;
      }
      ++next_break;
      const Token& t = tk[i];
      if (t.kind == TokenKind::kPunct) {
        close(i);
        begin = i + 1;
        if (t.punct != ',' && t.punct != ':') {
          // Consecutive marks ("!!!", "?!") end one sentence.
          if (!clauses.empty() && clauses.back().sentence == sentence) ++sentence;
        }
      } else if (i > begin) {  // a sentence start
        close(i);
        begin = i;
        if (!clauses.empty() && clauses.back().sentence == sentence) ++sentence;
      }
    }
    close(n);
  }
  // Contrast weights. A sentence's clauses are consecutive in `clauses`. Each contrast or
  // concession adds halvings (kBeforeContrast, kConcessionClause) and 1.5x factors
  // (kAfterContrast) to ranges of clauses; the ranges are counted with difference arrays, so a
  // sentence with thousands of "but"s costs no more than its length.
  static_assert(kBeforeContrast == 0.5f && kConcessionClause == 0.5f && kAfterContrast == 1.5f);
  bool contrasted = false;
  auto& halves = scratch.halves;
  auto& ups = scratch.ups;
  auto add = [&](std::vector<int32_t>& diff, size_t from, size_t to) {
    if (from >= to) return;
    if (!contrasted) {
      contrasted = true;
      halves.assign(clauses.size() + 1, 0);
      ups.assign(clauses.size() + 1, 0);
    }
    ++diff[from];
    --diff[to];
  };
  // The clauses [sentence_begin, sentence_end) of the last sentence with a contrast.
  size_t sentence_begin = 0, sentence_end = 0;
  for (size_t c = 0; c < clauses.size(); ++c) {
    const Token& first = tokens[clauses[c].begin];
    if (first.lex < 0 || lex_matches[first.lex].start != clauses[c].begin) continue;
    LexKind k = lex[lex_matches[first.lex].id].kind;
    if (k != LexKind::kContrast && k != LexKind::kConcession) continue;
    const uint32_t s = clauses[c].sentence;
    const bool sentence_start = c == 0 || clauses[c - 1].sentence != s;
    if (sentence_end <= c) {  // the first contrast of this sentence
      sentence_begin = c;
      while (sentence_begin > 0 && clauses[sentence_begin - 1].sentence == s) --sentence_begin;
      sentence_end = c + 1;
      while (sentence_end < clauses.size() && clauses[sentence_end].sentence == s) ++sentence_end;
    }
    if (k == LexKind::kContrast) {
      if (sentence_start) {
        // "However, ..." at the start of a sentence: the previous sentence weighs less.
        size_t b = c;
        while (b > 0 && clauses[b - 1].sentence + 1 == s) --b;
        add(halves, b, c);
      } else {
        add(halves, sentence_begin, c);
      }
      add(ups, c, sentence_end);
    } else {
      // "Although ...": its own clause weighs less, the rest of the sentence more.
      add(ups, sentence_begin, c);
      add(halves, c, c + 1);
      add(ups, c + 1, sentence_end);
    }
  }
  if (contrasted) {
    int32_t h = 0, u = 0;
    for (size_t c = 0; c < clauses.size(); ++c) {
      h += halves[c];
      u += ups[c];
      if ((h | u) != 0) clauses[c].weight = contrast_weight(h, u);
    }
  }

  // 6. Terms: valence with negation, intensifiers and emphasis.
  auto& terms = scratch.terms;
  terms.reset(lex_matches.size() + 1);  // a term per match, and a bare topic's
  const bool shouting = stats.letters > 0 && stats.upper * 10 > stats.letters * 7;
  {
    size_t m = 0;
    for (Clause& cl : clauses) {
      cl.terms_begin = static_cast<uint32_t>(terms.size());
      while (m < lex_matches.size() && lex_matches[m].start < cl.begin) ++m;
      const size_t first = m;
      for (; m < lex_matches.size() && lex_matches[m].start < cl.end; ++m) {
        const Match& mt = lex_matches[m];
        const LexEntry& e = lex[mt.id];
        if (e.kind != LexKind::kTerm) continue;
        float scale = 1;
        bool negated = false;
        bool intensified = false;
        uint32_t span_start = mt.start;
        int distance = 0;
        for (uint32_t k = mt.start; k > cl.begin && distance < kScope;) {
          --k;
          const Token& prev = tokens[k];
          if (prev.kind == TokenKind::kPunct) break;
          ++distance;
          if (prev.lex < 0) continue;
          // A multi-word modifier ("don t", "no one") counts from its first word.
          k = std::max(lex_matches[prev.lex].start, cl.begin);
          const LexEntry& pe = lex[lex_matches[prev.lex].id];
          if (pe.kind == LexKind::kNegator || (pe.kind == LexKind::kSoftNegator && !intensified) ||
              (pe.kind == LexKind::kWish && e.valence > 0)) {
            if (!negated) {
              negated = true;
              span_start = k;
              lex_matches[prev.lex].used = true;
            }
          } else if (pe.kind == LexKind::kSoftNegator) {
            span_start = k;  // "never so good": emphasis, not negation
          } else if (pe.kind == LexKind::kIntensifier) {
            intensified = true;
            scale *= 1 + pe.amount * (1 - 0.05f * (distance - 1));
            span_start = std::min(span_start, k);
          } else if (pe.kind == LexKind::kTerm) {
            break;  // another sentiment term: its own modifiers are not ours
          }
        }
        float v = (negated ? e.negated : e.valence) * scale;
        if (!shouting) {
          bool caps = false;
          for (uint32_t k = mt.start; k < mt.end; ++k) caps |= tokens[k].caps;
          if (caps) v *= kCapsBoost;
        }
        const Token& last = tokens[mt.end - 1];
        uint32_t off = tokens[span_start].offset;
        terms.push_back(Term{off, last.offset + last.length - off, v, mt.start});
        cl.sum += v;
      }
      // A negator that negated no term carries its own valence ("they never called", "didn't
      // get an appointment"): in patient comments negating a neutral verb is a complaint.
      for (size_t k = first; k < m; ++k) {
        const Match& mt = lex_matches[k];
        const LexEntry& e = lex[mt.id];
        if (mt.used || e.valence == 0 ||
            (e.kind != LexKind::kNegator && e.kind != LexKind::kSoftNegator &&
             e.kind != LexKind::kWish)) {
          continue;
        }
        uint32_t end = std::min<uint32_t>(mt.end + 2, cl.end);
        while (end > mt.end && tokens[end - 1].kind == TokenKind::kPunct) --end;
        const Token& last = tokens[end - 1];
        uint32_t off = tokens[mt.start].offset;
        terms.push_back(Term{off, last.offset + last.length - off, e.valence, mt.start});
        cl.sum += e.valence;
      }
      cl.terms_end = static_cast<uint32_t>(terms.size());
      if (cl.terms_end - cl.terms_begin > 1) {
        std::sort(terms.begin() + cl.terms_begin, terms.end(),
                  [](const Term& a, const Term& b) { return a.offset < b.offset; });
      }
    }
  }
  // "!" emphasis: each '!' after a sentence (up to 3) scales its clauses by 1.1.
  if (bangs) {
    size_t c = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (tokens[i].kind != TokenKind::kPunct || tokens[i].punct != '!') continue;
      while (c + 1 < clauses.size() && clauses[c + 1].begin <= i) ++c;
      if (clauses.empty() || clauses[c].begin > i) continue;
      uint32_t s = clauses[c].sentence;
      int count = 0;
      uint32_t j = i;
      while (j < n && tokens[j].kind == TokenKind::kPunct &&
             (tokens[j].punct == '!' || tokens[j].punct == '?'))
        count += tokens[j++].punct == '!';
      count = std::min(count, 3);
      for (size_t b = c + 1; b-- > 0 && clauses[b].sentence == s;) {
        clauses[b].sum *= 1 + 0.1f * count;
        clauses[b].emphasis *= 1 + 0.1f * count;
      }
      i = j;
    }
  }

  double total = 0;
  for (const Clause& cl : clauses) total += cl.sum * cl.weight;
  if (terms.empty() && !tp_matches.empty() && words <= kBareTopicWords) {
    // "Parking." "Response time." A comment that only names a stage of the visit is, in
    // patient feedback, pointing at what needs fixing.
    total = kBareTopic;
    const Match& mt = tp_matches.front();
    const Token& last = tokens[mt.end - 1];
    uint32_t off = tokens[mt.start].offset;
    terms.push_back(Term{off, last.offset + last.length - off, kBareTopic, mt.start});
    for (Clause& cl : clauses) {
      if (cl.begin <= mt.start && mt.start < cl.end) {
        cl.sum = kBareTopic;
        cl.terms_begin = 0;
        cl.terms_end = 1;
      }
    }
  }
  out.score = normalize(total);
  out.label = out.score <= kNegativeBelow  ? Label::kNegative
              : out.score >= kPositiveFrom ? Label::kPositive
                                           : Label::kNeutral;
  {
    // The strongest terms explain the score; keep them in text order (terms are in text order:
    // clauses are, and each clause's terms are sorted below).
    // A term of valence 0 ("waiting room", "have to say") only keeps its words from meaning
    // something else; it explains nothing, so it is not shown.
    auto emit = [&](const Term& t) {
      if (t.value != 0) out.terms.emplace_back(Span{text, t.offset, t.length});
    };
    if (terms.size() <= kMaxTerms) {
      out.terms.reserve(terms.size());
      for (const Term& t : terms) emit(t);
    } else {
      auto& order = scratch.order;
      order.clear();
      for (uint32_t k = 0; k < terms.size(); ++k) order.push_back(k);
      std::nth_element(order.begin(), order.begin() + kMaxTerms, order.end(),
                       [&](uint32_t a, uint32_t b) {
                         return std::fabs(terms[a].value) > std::fabs(terms[b].value);
                       });
      order.resize(kMaxTerms);
      std::sort(order.begin(), order.end());
      out.terms.reserve(order.size());
      for (uint32_t k : order) emit(terms[k]);
    }
  }

  // 7. Touchpoints: their mentions (the taxonomy's conditions checked), the terms that are said
  // of each, its score and evidence.
  if (!tp_matches.empty()) {
    Attribution{*this,   scratch, tk,   lex_matches,
                clauses, terms,   text, detail::untold_score(marks, out.score)}
        .run(tp_matches, out);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Analyzer

Analyzer::Analyzer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;
Analyzer::~Analyzer() = default;

Analyzer Analyzer::from_text(std::string_view lexicon_text, std::string_view lexicon_name,
                             std::string_view taxonomy_text, std::string_view taxonomy_name) {
  auto impl = std::make_unique<Impl>();
  impl->lexicon = detail::load_lexicon(lexicon_text, lexicon_name, impl->trie);
  impl->taxonomy = detail::Taxonomy::load(taxonomy_text, taxonomy_name, impl->trie);
  impl->taxonomy_stamp = impl->taxonomy.version;
  if (impl->taxonomy_stamp.empty()) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : taxonomy_text) h = (h ^ c) * 1099511628211ull;
    char digest[16];
    std::snprintf(digest, sizeof digest, "#%012llx",
                  static_cast<unsigned long long>(h >> 16));  // 13 chars: no allocation per copy
    impl->taxonomy_stamp = digest;
  }
  impl->trie.build_root_index();
  impl->num_root = impl->trie.child(0, kNumHash);
  impl->start_root = impl->trie.child(0, detail::kStartHash);
  return Analyzer(std::move(impl));
}

Analyzer Analyzer::load(const std::filesystem::path& lexicon_file,
                        const std::filesystem::path& taxonomy_file) {
  std::string lexicon = read_file(lexicon_file, "lexicon");  // in this order: errors too
  std::string taxonomy = read_file(taxonomy_file, "taxonomy");
  return from_text(lexicon, lexicon_file.string(), taxonomy, taxonomy_file.string());
}

Analyzer Analyzer::load_or_builtin(const std::filesystem::path& lexicon_file,
                                   const std::filesystem::path& taxonomy_file) {
  std::string lexicon = lexicon_file.empty() ? std::string(detail::kBuiltinLexicon)
                                             : read_file(lexicon_file, "lexicon");
  std::string taxonomy = taxonomy_file.empty() ? std::string(detail::kBuiltinTaxonomy)
                                               : read_file(taxonomy_file, "taxonomy");
  return from_text(lexicon, lexicon_file.empty() ? "builtin:lexicon.tsv" : lexicon_file.string(),
                   taxonomy,
                   taxonomy_file.empty() ? "builtin:taxonomy.toml" : taxonomy_file.string());
}

Analyzer Analyzer::builtin() { return load_or_builtin({}, {}); }

Analysis Analyzer::analyze(std::string_view text) const { return impl_->analyze(text); }

const std::vector<Touchpoint>& Analyzer::touchpoints() const { return impl_->taxonomy.touchpoints; }

const Touchpoint* Analyzer::find_touchpoint(std::string_view id) const {
  for (const Touchpoint& tp : impl_->taxonomy.touchpoints) {
    if (tp.id == id) return &tp;
  }
  return nullptr;
}

const std::string& Analyzer::lexicon_version() const { return impl_->lexicon.version; }
const std::string& Analyzer::taxonomy_version() const { return impl_->taxonomy_stamp; }

}  // namespace repwatch::sentiment
