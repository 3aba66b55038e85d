// repwatch/sentiment/analyze.cpp - Analyzer::analyze, the hot path: a review's score, the terms
// that explain it and (through touchpoint_attribution.cpp) its touchpoints. docs/sentiment.md
// has the full story; analyze(), at the end of this file, runs the phases in order:
//   tokenize             the tokens (sentiment/tokenizer.h);
//   index_words          every word alone in the phrase trie, stop-word counts, sentence starts
//                        after marks, the tokens where a phrase may start or a clause end;
//   detect_language      non-English is labelled, not scored;
//   find_unmarked_sentences  sentence starts in a text without sentence marks;
//   match_phrases        leftmost-longest lexicon and touchpoint matches;
//   split_clauses        sentences and clauses (punctuation, contrast words);
//   weigh_contrasts      contrast and concession weights of the clauses;
//   score_terms          each sentiment term with negation, intensifiers and ALL-CAPS;
//   add_emphasis         "!" emphasis;
//   score_review         the review's score and label (and a bare topic's);
//   explain_score        the terms shown with it;
//   attribute_touchpoints  each touchpoint's clauses, score and evidence.
// Each phase's comment says what it consumes and what it produces. They share one Review (the
// state of one call) and the thread's Scratch buffers. Each is called once, from analyze(), and
// the compiler inlines them all into it: the split costs nothing (docs/sentiment.md, "The code
// and the compiler").
#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>

#include "sentiment/analyzer_impl.h"

namespace repwatch::sentiment {

using detail::Buffer;
using detail::Clause;
using detail::kKeptTokens;
using detail::LexEntry;
using detail::LexKind;
using detail::Match;
using detail::PhraseTrie;
using detail::Scratch;
using detail::Term;
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
constexpr int kScope = 3;
constexpr float kBareTopic = -0.6f;      // a comment of at most kBareTopicWords naming only a topic
constexpr uint32_t kBareTopicWords = 4;  // negators and intensifiers reach this many words ahead

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

// The state of one analyze() call that the phases share; each phase's comment names the fields
// it reads and fills. The matches, clauses and terms are in `scratch`. A phase copies the fields
// its loops use into locals first (docs/sentiment.md, "The code and the compiler").
struct Review {
  const Analyzer::Impl& impl;
  Scratch& scratch;
  std::string_view text;  // at most kMaxTextBytes
  Analysis& out;
  // tokenize:
  Token* tk = nullptr;  // scratch.tokens.data()
  uint32_t n = 0;       // tokens
  detail::TextStats stats{};
  // index_words (find_unmarked_sentences may redo the lists):
  uint32_t words = 0;  // word tokens
  uint32_t bangs = 0;  // '!' tokens
  uint32_t stops[kLanes] = {};
  bool marks = false;        // any sentence mark ('.', '!', '?', ';', '\n')
  uint32_t* cand = nullptr;  // cand[0, n_cand): tokens where a phrase may start
  uint32_t n_cand = 0;
  uint32_t* brk = nullptr;  // brk[0, n_brk): tokens where a clause may end, then UINT32_MAX
  uint32_t n_brk = 0;
};

// Tokens. Consumes r.text; produces r.tk[0, r.n) (sentiment/tokenizer.h) and r.stats. First
// gives back the memory a huge review left in the thread's buffers.
void tokenize(Review& r) {
  Scratch& scratch = r.scratch;
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
  r.n = static_cast<uint32_t>(detail::tokenize_into(r.text, tokens, &r.stats));
  r.tk = tokens.data();
}

// Each word alone in the trie. Consumes the tokens; fills each word's root, root_info, numeric
// (number words) and sentence_start (after sentence marks), and r.words, r.bangs, r.stops,
// r.marks. Lists without a branch the tokens where a phrase may start (a word in the trie, a
// number with <num> phrases, a sentence start with <start> phrases: the matcher visits only
// them) in r.cand, and the punctuation tokens (the clause pass visits only them) in r.brk.
void index_words(Review& r) {
  const Analyzer::Impl& impl = r.impl;
  Token* const tk = r.tk;
  const uint32_t n = r.n;
  uint32_t words = 0, bangs = 0;
  uint32_t stops[kLanes] = {};
  bool marks = false;
  auto& candidates = r.scratch.candidates;
  auto& breaks = r.scratch.breaks;
  if (candidates.size() < n) candidates.resize(std::max<size_t>(n, 2 * candidates.size()));
  if (breaks.size() <= n) breaks.resize(std::max<size_t>(n + 1, 2 * breaks.size()));
  uint32_t* const cand = candidates.data();
  uint32_t* const brk = breaks.data();
  uint32_t n_cand = 0, n_brk = 0;
  const bool has_num = impl.num_root != 0, has_start = impl.start_root != 0;
  bool at_start = true;
  const PhraseTrie::RootIndex roots = impl.trie.root_index();  // (built by from_text)
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
      const PhraseTrie::RootHit hit = roots.find(t.hash);  // without a branch on the answer
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
  r.words = words;
  r.bangs = bangs;
  std::copy(std::begin(stops), std::end(stops), r.stops);
  r.marks = marks;
  r.cand = cand;
  r.n_cand = n_cand;
  r.brk = brk;
  r.n_brk = n_brk;
}

// The language. Consumes r.words, r.stats and r.stops; sets out.language and out.scored, and
// returns whether the review is scored (English): the other phases run only then.
bool detect_language(Review& r) {
  Analysis& out = r.out;
  if (r.words == 0) {
    out.language = "";
    return false;
  }
  if (r.stats.non_latin * 2 > r.stats.letters) {
    out.language = "";  // a script we have no lexicon for
    out.scored = false;
    return false;
  }
  // Another language when its stop words clearly outnumber English ones; Romance languages
  // share many, so the best profile wins.
  const uint32_t stop_en = r.stops[kLaneEn];
  const uint32_t stop_other[4] = {r.stops[kLaneEs], r.stops[kLaneIt], r.stops[kLaneFr],
                                  r.stops[kLaneDe]};
  static const char* const kCodes[] = {"es", "it", "fr", "de"};
  int best = 0;
  for (int k = 1; k < 4; ++k) {
    if (stop_other[k] > stop_other[best]) best = k;
  }
  if (stop_other[best] >= 2 && stop_other[best] > 2 * stop_en) {
    out.language = kCodes[best];
    out.scored = false;
    return false;
  }
  out.language = std::string("en");  // (docs/sentiment.md, "The code and the compiler")
  return true;
}

// Texts without sentence punctuation (survey exports often strip it) get a sentence break
// before a capitalized word that follows a lower-case word. Consumes r.marks, r.words and the
// tokens; updates sentence_start and, when one changed, rebuilds r.cand and r.brk (such a break
// may end a clause: it joins the punctuation in r.brk). index_words' lists stay right when no
// sentence start changed: its only one is the first word, which does not end a clause. Ends
// r.brk with UINT32_MAX.
void find_unmarked_sentences(Review& r) {
  Token* const tk = r.tk;
  const uint32_t n = r.n;
  bool new_starts = false;
  if (!r.marks && r.words >= 12) {
    for (uint32_t i = 1; i < n; ++i) {
      Token& t = tk[i];
      if (t.kind != TokenKind::kWord || !t.capitalized || detail::is_title(t.hash)) continue;
      const Token& p = tk[i - 1];
      const bool start =
          p.kind == TokenKind::kWord && !p.capitalized && !p.caps && !joins_next(p.hash);
      new_starts |= start != t.sentence_start;
      t.sentence_start = start;
    }
  }
  uint32_t* const cand = r.cand;
  uint32_t* const brk = r.brk;
  if (new_starts) {
    const bool has_num = r.impl.num_root != 0, has_start = r.impl.start_root != 0;
    uint32_t n_cand = 0, n_brk = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const Token& t = tk[i];
      cand[n_cand] = i;
      n_cand += (t.root_info != 0) | (t.numeric & has_num) | (t.sentence_start & has_start);
      brk[n_brk] = i;
      n_brk += (t.kind == TokenKind::kPunct) | t.sentence_start;
    }
    r.n_cand = n_cand;
    r.n_brk = n_brk;
  }
  brk[r.n_brk] = UINT32_MAX;
}

// The longest lexicon entry and the longest touchpoint phrase found from one token.
struct Best {
  uint32_t lex_end = 0;
  int32_t lex = -1;
  uint32_t tp_end = 0;
  uint32_t tp_node = 0;
  // Trie node `node` (`nd`) reached with the tokens up to `end` read.
  void reach(const detail::TrieNode& nd, uint32_t node, uint32_t end) {
    if (nd.lex >= 0 && end > lex_end) {
      lex_end = end;
      lex = nd.lex;
    }
    if (nd.tp_count && end > tp_end) {
      tp_end = end;
      tp_node = node;
    }
  }
};

// Every phrase from trie node `node`, reading tokens from j: detail::walk_phrases.
void walk(const PhraseTrie& trie, uint32_t node, const Token* tk, uint32_t j, uint32_t n,
          Best& best) {
  detail::walk_phrases(trie, node, tk, j, n, [&](uint32_t at, uint32_t end) {
    best.reach(trie.node(at), at, end);
    return false;
  });
}

// The longest phrases starting at token i, a candidate of index_words. A phrase anchored at
// a sentence start is tried first: it wins ties, being more specific.
Best longest_at(const Analyzer::Impl& impl, const Token* tk, uint32_t n, uint32_t i,
                bool num_walk_always) {
  const PhraseTrie& trie = impl.trie;
  const Token& t = tk[i];
  Best best;
  if (t.sentence_start && impl.start_root) walk(trie, impl.start_root, tk, i, n, best);
  if (t.root_info) {
    // The word alone (most matches), then a walk only when the next word may continue a
    // phrase: walk(t.root, i + 1) would find the same.
    const detail::TrieNode& nd = trie.node(t.root);
    best.reach(nd, t.root, i + 1);
    if ((t.root_info & PhraseTrie::kRootHasChildren) && i + 1 < n &&
        tk[i + 1].kind != TokenKind::kPunct) {
      // A <num> edge can only be taken by a number: before any other word, the word's own edge
      // is the only one ("at" has "at <num> weeks" but "at the" follows only "the").
      const bool wildcard = (nd.flags & detail::kHasAnyChild) ||
                            ((nd.flags & detail::kHasNumChild) && tk[i + 1].numeric);
      if (wildcard) {
        walk(trie, t.root, tk, i + 1, n, best);
      } else if (const uint32_t next = trie.child(t.root, tk[i + 1].hash)) {
        walk(trie, next, tk, i + 2, n, best);  // what walk(t.root, i + 1) does with no wildcards
      }
    }
  }
  if (t.numeric && impl.num_root) {
    // Most numbers and number words ("a", "an") start no <num> phrase: unless <num> alone
    // matters (it ends a phrase or has wildcard edges), walk only past the child along the next
    // word, what walk(num_root, i + 1) would find first.
    if (num_walk_always) {
      walk(trie, impl.num_root, tk, i + 1, n, best);
    } else if (i + 1 < n && tk[i + 1].kind != TokenKind::kPunct) {
      if (const uint32_t next = trie.child(impl.num_root, tk[i + 1].hash)) {
        walk(trie, next, tk, i + 2, n, best);
      }
    }
  }
  return best;
}

// Leftmost-longest lexicon and touchpoint matches (each kind non-overlapping). Consumes the
// tokens and r.cand; fills scratch.lex_matches (and each covered token's lex),
// scratch.tp_matches (id: the trie node) and scratch.contrasts (the tokens where a contrast or
// concession match starts, in order).
void match_phrases(Review& r) {
  const Analyzer::Impl& impl = r.impl;
  Token* const tk = r.tk;
  const uint32_t n = r.n;
  auto& lex_matches = r.scratch.lex_matches;
  auto& tp_matches = r.scratch.tp_matches;
  lex_matches.reset(n);
  tp_matches.reset(n);
  uint32_t lex_next = 0, tp_next = 0;
  const uint32_t num_root = impl.num_root;
  const detail::TrieNode& num = impl.trie.node(num_root);
  const bool num_walk_always =
      num_root &&
      (num.lex >= 0 || num.tp_count || (num.flags & (detail::kHasAnyChild | detail::kHasNumChild)));
  auto& contrasts = r.scratch.contrasts;
  contrasts.clear();
  const uint32_t* const cand = r.cand;
  for (uint32_t c = 0; c < r.n_cand; ++c) {
    const uint32_t i = cand[c];
    // Words inside both the last lexicon match and the last touchpoint match (whatever starts
    // there cannot be kept) are skipped without a walk.
    if (i < lex_next && i < tp_next) continue;
    const Best best = longest_at(impl, tk, n, i, num_walk_always);
    if (best.lex >= 0 && i >= lex_next) {
      lex_matches.push_back({i, best.lex_end, best.lex});
      for (uint32_t k = i; k < best.lex_end; ++k) {
        tk[k].lex = static_cast<int32_t>(lex_matches.size() - 1);
      }
      lex_next = best.lex_end;
      const LexKind k = impl.lex[best.lex].kind;
      if (k == LexKind::kContrast || k == LexKind::kConcession) contrasts.push_back(i);
    }
    if (best.tp_node && i >= tp_next) {
      tp_matches.push_back({i, best.tp_end, static_cast<int32_t>(best.tp_node)});
      tp_next = best.tp_end;
    }
  }
}

// Sentences and clauses. Consumes the tokens, r.brk and scratch.contrasts; fills
// scratch.clauses (in text order, not empty, not overlapping; weights 1). A clause ends at
// punctuation, before a sentence start that is not already the first word of a clause (only
// find_unmarked_sentences' can be: index_words' follow a mark) and before a contrast or
// concession match: the pass visits only those tokens, the two sorted lists merged.
void split_clauses(Review& r) {
  const Token* const tk = r.tk;
  const uint32_t n = r.n;
  auto& clauses = r.scratch.clauses;
  auto& contrasts = r.scratch.contrasts;
  clauses.reset(n);
  uint32_t sentence = 0;
  uint32_t begin = 0;
  auto close = [&](uint32_t end) {
    if (end > begin) clauses.push_back(Clause{begin, end, sentence});
  };
  contrasts.push_back(UINT32_MAX);
  const uint32_t* next_break = r.brk;  // ends with UINT32_MAX too
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

// Contrast weights. Consumes the clauses and the lexicon matches; sets the weight of the clauses
// a contrast or concession reweights. A sentence's clauses are consecutive in `clauses`. Each
// contrast or concession adds halvings (kBeforeContrast, kConcessionClause) and 1.5x factors
// (kAfterContrast) to ranges of clauses; the ranges are counted with difference arrays, so a
// sentence with thousands of "but"s costs no more than its length.
void weigh_contrasts(Review& r) {
  static_assert(kBeforeContrast == 0.5f && kConcessionClause == 0.5f && kAfterContrast == 1.5f);
  const Token* const tk = r.tk;
  const auto& lex_matches = r.scratch.lex_matches;
  auto& clauses = r.scratch.clauses;
  bool contrasted = false;
  auto& halves = r.scratch.halves;
  auto& ups = r.scratch.ups;
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
    const Token& first = tk[clauses[c].begin];
    if (first.lex < 0 || lex_matches[first.lex].start != clauses[c].begin) continue;
    LexKind k = r.impl.lex[lex_matches[first.lex].id].kind;
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
}

// The term of sentiment-term match `mt` of clause `cl`: its valence, negated by a negator up to
// kScope words before it in the clause, scaled by intensifiers there and by ALL-CAPS (unless the
// whole review shouts); its span starts at the negator or intensifier. Marks the negator used.
Term modified_term(const Review& r, const Clause& cl, const Match& mt, bool shouting) {
  const Token* const tk = r.tk;
  const auto& lex = r.impl.lex;
  const auto& lex_matches = r.scratch.lex_matches;
  const LexEntry& e = lex[mt.id];
  float scale = 1;
  bool negated = false;
  bool intensified = false;
  uint32_t span_start = mt.start;
  int distance = 0;
  for (uint32_t k = mt.start; k > cl.begin && distance < kScope;) {
    --k;
    const Token& prev = tk[k];
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
    for (uint32_t k = mt.start; k < mt.end; ++k) caps |= tk[k].caps;
    if (caps) v *= kCapsBoost;
  }
  const Token& last = tk[mt.end - 1];
  uint32_t off = tk[span_start].offset;
  return Term{off, last.offset + last.length - off, v, mt.start};
}

// A negator that negated no term carries its own valence ("they never called", "didn't get an
// appointment"): in patient comments negating a neutral verb is a complaint. Appends the terms
// of the unused negators among lexicon matches [first, last) of clause `cl` to scratch.terms and
// adds them to cl.sum.
void bare_negator_terms(Review& r, Clause& cl, size_t first, size_t last_match) {
  const Token* const tk = r.tk;
  const auto& lex_matches = r.scratch.lex_matches;
  auto& terms = r.scratch.terms;
  for (size_t k = first; k < last_match; ++k) {
    const Match& mt = lex_matches[k];
    const LexEntry& e = r.impl.lex[mt.id];
    if (mt.used || e.valence == 0 ||
        (e.kind != LexKind::kNegator && e.kind != LexKind::kSoftNegator &&
         e.kind != LexKind::kWish)) {
      continue;
    }
    uint32_t end = std::min<uint32_t>(mt.end + 2, cl.end);
    while (end > mt.end && tk[end - 1].kind == TokenKind::kPunct) --end;
    const Token& last = tk[end - 1];
    uint32_t off = tk[mt.start].offset;
    terms.push_back(Term{off, last.offset + last.length - off, e.valence, mt.start});
    cl.sum += e.valence;
  }
}

// Terms: valence with negation, intensifiers and emphasis. Consumes the clauses, the lexicon
// matches and r.stats; fills scratch.terms (in text order) and each clause's terms range and
// sum (unweighted).
void score_terms(Review& r) {
  const auto& lex_matches = r.scratch.lex_matches;
  auto& clauses = r.scratch.clauses;
  auto& terms = r.scratch.terms;
  terms.reset(lex_matches.size() + 1);  // a term per match, and a bare topic's
  const bool shouting = r.stats.letters > 0 && r.stats.upper * 10 > r.stats.letters * 7;
  size_t m = 0;
  for (Clause& cl : clauses) {
    cl.terms_begin = static_cast<uint32_t>(terms.size());
    while (m < lex_matches.size() && lex_matches[m].start < cl.begin) ++m;
    const size_t first = m;
    for (; m < lex_matches.size() && lex_matches[m].start < cl.end; ++m) {
      const Match& mt = lex_matches[m];
      if (r.impl.lex[mt.id].kind != LexKind::kTerm) continue;
      const Term term = modified_term(r, cl, mt, shouting);
      terms.push_back(term);
      cl.sum += term.value;
    }
    bare_negator_terms(r, cl, first, m);
    cl.terms_end = static_cast<uint32_t>(terms.size());
    if (cl.terms_end - cl.terms_begin > 1) {
      std::sort(terms.begin() + cl.terms_begin, terms.end(),
                [](const Term& a, const Term& b) { return a.offset < b.offset; });
    }
  }
}

// "!" emphasis: each '!' after a sentence (up to 3) scales its clauses by 1.1. Consumes the
// tokens, r.bangs and the clauses; scales the sum and emphasis of the clauses of each sentence
// that ends with '!'.
void add_emphasis(Review& r) {
  if (!r.bangs) return;
  const Token* const tk = r.tk;
  const uint32_t n = r.n;
  auto& clauses = r.scratch.clauses;
  size_t c = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (tk[i].kind != TokenKind::kPunct || tk[i].punct != '!') continue;
    while (c + 1 < clauses.size() && clauses[c + 1].begin <= i) ++c;
    if (clauses.empty() || clauses[c].begin > i) continue;
    uint32_t s = clauses[c].sentence;
    int count = 0;
    uint32_t j = i;
    while (j < n && tk[j].kind == TokenKind::kPunct && (tk[j].punct == '!' || tk[j].punct == '?'))
      count += tk[j++].punct == '!';
    count = std::min(count, 3);
    for (size_t b = c + 1; b-- > 0 && clauses[b].sentence == s;) {
      clauses[b].sum *= 1 + 0.1f * count;
      clauses[b].emphasis *= 1 + 0.1f * count;
    }
    i = j;
  }
}

// The review's score. Consumes the clauses, the terms, scratch.tp_matches and r.words; sets
// out.score and out.label. A comment of at most kBareTopicWords words with no term that
// names a touchpoint ("Parking." "Response time.") is, in patient feedback, pointing at what
// needs fixing: it gets the term kBareTopic (appended to scratch.terms, its clause's only one).
void score_review(Review& r) {
  auto& clauses = r.scratch.clauses;
  auto& terms = r.scratch.terms;
  const auto& tp_matches = r.scratch.tp_matches;
  double total = 0;
  for (const Clause& cl : clauses) total += cl.sum * cl.weight;
  if (terms.empty() && !tp_matches.empty() && r.words <= kBareTopicWords) {
    total = kBareTopic;
    const Match& mt = tp_matches.front();
    const Token& last = r.tk[mt.end - 1];
    uint32_t off = r.tk[mt.start].offset;
    terms.push_back(Term{off, last.offset + last.length - off, kBareTopic, mt.start});
    for (Clause& cl : clauses) {
      if (cl.begin <= mt.start && mt.start < cl.end) {
        cl.sum = kBareTopic;
        cl.terms_begin = 0;
        cl.terms_end = 1;
      }
    }
  }
  Analysis& out = r.out;
  out.score = detail::normalize(total);
  out.label = out.score <= Analyzer::kNegativeBelow  ? Label::kNegative
              : out.score >= Analyzer::kPositiveFrom ? Label::kPositive
                                                     : Label::kNeutral;
}

// The terms that explain the score. Consumes scratch.terms; fills out.terms: the strongest
// kMaxTerms, in text order (terms are in text order: clauses are, and each clause's terms are
// sorted by score_terms). A term of valence 0 ("waiting room", "have to say") only keeps its
// words from meaning something else; it explains nothing, so it is not shown.
void explain_score(Review& r) {
  const auto& terms = r.scratch.terms;
  Analysis& out = r.out;
  auto emit = [&](const Term& t) {
    if (t.value != 0) out.terms.emplace_back(detail::Span{r.text, t.offset, t.length});
  };
  if (terms.size() <= Analyzer::kMaxTerms) {
    out.terms.reserve(terms.size());
    for (const Term& t : terms) emit(t);
    return;
  }
  auto& order = r.scratch.order;
  order.clear();
  for (uint32_t k = 0; k < terms.size(); ++k) order.push_back(k);
  std::nth_element(order.begin(), order.begin() + Analyzer::kMaxTerms, order.end(),
                   [&](uint32_t a, uint32_t b) {
                     return std::fabs(terms[a].value) > std::fabs(terms[b].value);
                   });
  order.resize(Analyzer::kMaxTerms);
  std::sort(order.begin(), order.end());
  out.terms.reserve(order.size());
  for (uint32_t k : order) emit(terms[k]);
}

}  // namespace

Analysis Analyzer::Impl::analyze(std::string_view text) const {
  Analysis out;
  out.lexicon_version = lexicon.version;
  out.taxonomy_version = taxonomy_stamp;
  if (text.size() > kMaxTextBytes) text = text.substr(0, kMaxTextBytes);
  thread_local Scratch scratch;
  Review r{*this, scratch, text, out};
  tokenize(r);
  index_words(r);
  if (!detect_language(r)) return out;
  find_unmarked_sentences(r);
  match_phrases(r);
  split_clauses(r);
  weigh_contrasts(r);
  score_terms(r);
  add_emphasis(r);
  score_review(r);
  explain_score(r);
  if (!scratch.tp_matches.empty())
    detail::attribute_touchpoints(*this, scratch, r.tk, text, r.marks, out);
  return out;
}

}  // namespace repwatch::sentiment
