// repwatch/sentiment/touchpoint_attribution.cpp - the last phase of Analyzer::analyze: which
// touchpoints a review mentions and what it says of each (analyzer_impl.h declares it, with what
// it consumes; analyze.cpp runs the phases before it).
//  - Mentions: the touchpoint phrases matched, each kept only where its taxonomy conditions
//    hold (what it needs around it, what rules it out).
//  - Segments: a clause is cut at a coordinator ("and", "also", "plus", "then") or a word that
//    starts a clause of its own ("after", "because", "when", "while", "whereas") once the part
//    before it mentions a touchpoint and holds a term, so "the doctor was great and the
//    receptionist was rude" says "great" of the doctor only, and "treated with dignity by the team
//    after a ridiculous 9 months on the waiting list" says "ridiculous" of the waiting list only. A
//    segment's terms go to the touchpoints it mentions; a segment that mentions none goes on about
//    the touchpoints of the segment before it in its sentence (not across a contrast), unless it
//    names the practice as a whole (the taxonomy's `practice` words: "Good doctor, terrible
//    office").
//  - Each touchpoint's score is the normalised sum of its terms (with their clause's contrast
//    and "!" weights); its evidence is its mentions and those terms, in text order.
#include <algorithm>
#include <iterator>

#include "sentiment/analyzer_impl.h"
#include "sentiment/touchpoint_polarity.h"

namespace repwatch::sentiment::detail {
namespace {

// Words that join two statements in one clause ("the doctor was great and the receptionist was
// rude", "the nurses were kind after a ridiculous wait"): a clause is cut there for touchpoints
// once the part before it mentions a touchpoint and says something of it.
bool is_coordinator(const Token& t) {
  constexpr uint64_t kWords[] = {hash_ascii("and"),   hash_ascii("also"),    hash_ascii("plus"),
                                 hash_ascii("then"),  hash_ascii("after"),   hash_ascii("because"),
                                 hash_ascii("while"), hash_ascii("whereas"), hash_ascii("when")};
  if (t.kind != TokenKind::kWord || t.lex >= 0) return false;  // "in and out" is a phrase
  return is_one_of(t.hash, kWords);
}

struct Attribution {
  const Analyzer::Impl& impl;
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
  // The touchpoint of people (Touchpoint::people) the sentence being read speaks of: none,
  // one, or kPeople for more than one (then "she" in the next sentence could be either).
  static constexpr uint32_t kNoPerson = UINT32_MAX, kPeople = UINT32_MAX - 1;
  uint32_t person_ = kNoPerson;
  const Clause* sentence_ = nullptr;  // its first clause
  size_t sentence_first_m_ = 0;       // its first mention (sentence_m_ restarts at a contrast)
  // A sentence of at most this many words that names no touchpoint ("Greedy.", "Never again.",
  // "They do not.", "Highly recommend!") judges the touchpoints of the sentence before it,
  // unless it begins with he or she (the person's, or nobody's, as above) or says the opposite
  // of that sentence ("Waited 2 hours. Otherwise great.", a sarcastic "Great.").
  static constexpr uint32_t kFragmentWords = 3;

  // The steps in order: find_mentions, reset_accumulators, attribute, emit.
  void run(const Buffer<Match>& tp_matches, Analysis& out) {
    find_mentions(tp_matches);
    if (scratch.mentions.empty()) return;
    reset_accumulators();
    attribute();
    emit(out);
  }

  // Mentions. Consumes the touchpoint matches, the clauses (for each match's sentence) and the
  // tokens; fills scratch.mentions (in text order) with the touchpoints whose taxonomy
  // conditions hold at each match or, where they rule it out, at the shorter phrases inside it
  // (see inside_mentions); names after a title left out.
  void find_mentions(const Buffer<Match>& tp_matches) {
    auto& mentions = scratch.mentions;
    mentions.clear();
    size_t c = 0;
    uint32_t sentence = UINT32_MAX;
    MentionSpan span{};
    for (size_t k = 0; k < tp_matches.size(); ++k) {
      const Match& m = tp_matches[k];
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
      span.end = name_end(m);
      if (!add_mentions(static_cast<uint32_t>(m.id), span) && impl.taxonomy.conditional()) {
        const uint32_t next = k + 1 < tp_matches.size() ? tp_matches[k + 1].start : UINT32_MAX;
        inside_mentions(m, span, std::min(next, span.sentence_end));
      }
    }
  }

  // A match whose conditions rule it out leaves its words to the shorter phrases inside it
  // that hold, leftmost longest: "on the phone" needs a clinician nearby to be a telephone
  // consultation, but "phone" in it is still the phone ("I could never get anyone on the
  // phone"). One starting at the match's first word is shorter than the match; one starting
  // later may reach past it, up to `limit` (the next match, or the sentence's end), and counts
  // only for another touchpoint than the match's: a shorter phrase of the same touchpoint inside
  // it ("minutes" in "10 minutes") was ruled out with it.
  void inside_mentions(const Match& m, MentionSpan span, uint32_t limit) {
    const auto ruled_out = static_cast<uint32_t>(m.id);
    for (uint32_t i = m.start; i < m.end;) {
      const uint32_t end = i == m.start ? longest_holding(i, m.end - 1, span, 0)
                           : (tk[i].root_info == 0 && !tk[i].numeric) || is_name(i)
                               ? 0
                               : longest_holding(i, limit, span, ruled_out);
      i = end ? end : i + 1;
    }
  }

  // Adds the mentions of the longest touchpoint phrase that starts at token `at`, ends at or
  // before `limit` and whose conditions hold, for touchpoints other than those of trie node
  // `except` (0: none); returns its end, 0 when there is none.
  uint32_t longest_holding(uint32_t at, uint32_t limit, MentionSpan span, uint32_t except) {
    uint32_t found[12];  // trie nodes of the touchpoint phrases starting at `at`, by length
    uint32_t ends[12];
    unsigned count = 0;
    walk_phrases(impl.trie, 0, tk, at, limit, [&](uint32_t node, uint32_t end) {
      if (end > at && impl.trie.node(node).tp_count && count < std::size(found)) {
        found[count] = node;
        ends[count++] = end;
      }
      return false;
    });
    span.start = at;
    // Longest first.
    for (unsigned k = count; k-- > 0;) {
      unsigned best = k;
      for (unsigned q = 0; q < k; ++q) best = ends[q] > ends[best] ? q : best;
      std::swap(found[k], found[best]);
      std::swap(ends[k], ends[best]);
      span.end = ends[k];
      if (add_mentions(found[k], span, except)) return span.end;
    }
    return 0;
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

  // The end of a title's name: a title and the name after it are one mention ("Dr. Amy Lee"),
  // so that what comes after the name is what the taxonomy's conditions read: "Dr. Jamison's
  // office" is the practice as "the doctor's office" is, "Dr. Shah was running late" a
  // bystander as "the doctor was running late" is. m.end when no name follows.
  uint32_t name_end(const Match& m) const {
    if (m.end != m.start + 1 || !is_title(tk[m.start].hash)) return m.end;
    const uint32_t tk_count = clauses[clauses.size() - 1].end;  // the clauses cover the text
    uint32_t i = m.end;
    if (i < tk_count && tk[i].kind == TokenKind::kPunct && tk[i].punct == '.') ++i;
    uint32_t names = 0;
    while (i < tk_count && names < 2 &&
           (names == 0 ? is_name(i)
                       : tk[i].kind == TokenKind::kWord && tk[i].capitalized &&
                             !tk[i].sentence_start && !is_title(tk[i].hash))) {
      ++i;
      ++names;
    }
    return names > 0 ? i : m.end;
  }

  // The touchpoints of trie node `node` (other than those of node `except`, when not 0) whose
  // conditions hold for `span`; whether there was one.
  bool add_mentions(uint32_t node, const MentionSpan& span, uint32_t except = 0) {
    const TrieNode& nd = impl.trie.node(node);
    auto& mentions = scratch.mentions;
    const size_t first = mentions.size();
    for (uint32_t k = 0; k < nd.tp_count; ++k) {
      const TpRef& ref = impl.taxonomy.refs[nd.tp_begin + k];
      if (except && has_touchpoint(except, ref.tp)) continue;
      // A phrase listed twice under different conditions counts once when both hold.
      const bool added =
          std::any_of(mentions.begin() + static_cast<std::ptrdiff_t>(first), mentions.end(),
                      [&](const Mention& m) { return m.tp == ref.tp; });
      if (!added && impl.taxonomy.holds(ref, tk, span)) {
        mentions.push_back({span.start, span.end, ref.tp});
      }
    }
    return mentions.size() > first;
  }

  bool has_touchpoint(uint32_t node, uint32_t tp) const {
    const TrieNode& nd = impl.trie.node(node);
    for (uint32_t k = 0; k < nd.tp_count; ++k) {
      if (impl.taxonomy.refs[nd.tp_begin + k].tp == tp) return true;
    }
    return false;
  }

  // Makes scratch.acc one initial TpAcc per touchpoint of the taxonomy.
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
           !(impl.trie.node(t.root).flags & kStopEn);
  }

  // The first word token of tokens [begin, end), end when there is none.
  uint32_t first_word(uint32_t begin, uint32_t end) const {
    while (begin < end && tk[begin].kind != TokenKind::kWord) ++begin;
    return begin;
  }

  // Whether a clause begins with "he" or "she", perhaps after "and", "but", "so" or "then".
  bool begins_with_he_or_she(const Clause& cl) const {
    constexpr uint64_t kHe = hash_ascii("he"), kShe = hash_ascii("she");
    constexpr uint64_t kLinks[] = {hash_ascii("and"), hash_ascii("but"), hash_ascii("so"),
                                   hash_ascii("then")};
    uint32_t i = first_word(cl.begin, cl.end);
    if (i < cl.end && is_one_of(tk[i].hash, kLinks)) ++i;
    return i < cl.end && tk[i].kind == TokenKind::kWord &&
           (tk[i].hash == kHe || tk[i].hash == kShe);
  }

  // Whether tokens [begin, end) name someone the review is about who is no touchpoint ("my son",
  // "her husband"): then "he" or "she" in the next sentence could be them.
  bool names_someone_else(uint32_t begin, uint32_t end) const {
    constexpr uint64_t kOthers[] = {
        hash_ascii("son"),         hash_ascii("daughter"),    hash_ascii("husband"),
        hash_ascii("wife"),        hash_ascii("partner"),     hash_ascii("mother"),
        hash_ascii("father"),      hash_ascii("mom"),         hash_ascii("mum"),
        hash_ascii("dad"),         hash_ascii("child"),       hash_ascii("baby"),
        hash_ascii("boy"),         hash_ascii("girl"),        hash_ascii("brother"),
        hash_ascii("sister"),      hash_ascii("friend"),      hash_ascii("grandson"),
        hash_ascii("grandmother"), hash_ascii("grandfather"), hash_ascii("granddaughter"),
        hash_ascii("boyfriend"),   hash_ascii("girlfriend"),  hash_ascii("patient"),
        hash_ascii("man"),         hash_ascii("woman"),       hash_ascii("lady"),
        hash_ascii("guy"),         hash_ascii("kid"),         hash_ascii("toddler"),
        hash_ascii("relative"),    hash_ascii("aunt"),        hash_ascii("uncle"),
        hash_ascii("nan"),         hash_ascii("grandma"),     hash_ascii("grandpa")};
    for (uint32_t i = begin; i < end; ++i) {
      if (tk[i].kind == TokenKind::kWord && is_one_of(tk[i].hash, kOthers)) return true;
    }
    return false;
  }

  void note_person(uint32_t tp) {
    if (!impl.taxonomy.touchpoints[tp].people) return;
    person_ = person_ == kNoPerson || person_ == tp ? tp : kPeople;
  }

  // What the sentence clause `cl` begins says: the weighted sum of its clauses; `end` is set to
  // the sentence's end (token).
  double sentence_total(const Clause& cl, uint32_t& end) const {
    double total = 0;
    const Clause* const last = clauses.begin() + clauses.size();
    for (const Clause* c = &cl; c < last && c->sentence == cl.sentence; ++c) {
      total += c->sum * c->weight;
      end = c->end;
    }
    return total;
  }

  // Whether the sentence clause `cl` begins, whose first mention (if any) is mentions[m], is a
  // short verdict on the sentence before (kFragmentWords).
  bool is_short_verdict(const Clause& cl, size_t m) const {
    if (!sentence_) return false;
    uint32_t end = cl.end, before_end = 0;
    const double total = sentence_total(cl, end);
    const double before = sentence_total(*sentence_, before_end);
    const auto& mentions = scratch.mentions;
    const bool names_none = m == mentions.size() || mentions[m].start >= end;
    const bool opposite = (total < 0 && before > 0) || (total > 0 && before < 0);
    return names_none && !opposite &&
           (at_most_words(cl.begin, end, kFragmentWords) || begins_with_negated_verb(cl) ||
            begins_with_part_of_them(cl.begin, end));
  }

  // Whether the clause begins with a negated verb and no subject: "Didn't even look up.",
  // "Never called back.", "Wouldn't listen.": the subject is the sentence before's.
  bool begins_with_negated_verb(const Clause& cl) const {
    constexpr uint64_t kNegated[] = {
        hash_ascii("didn't"),  hash_ascii("didnt"),  hash_ascii("didn"),
        hash_ascii("doesn't"), hash_ascii("doesnt"), hash_ascii("wouldn't"),
        hash_ascii("wouldnt"), hash_ascii("won't"),  hash_ascii("couldn't"),
        hash_ascii("couldnt"), hash_ascii("never"),  hash_ascii("refused"),
        hash_ascii("barely"),  hash_ascii("hardly"), hash_ascii("wasn't"),
        hash_ascii("isn't")};
    const uint32_t i = first_word(cl.begin, cl.end);
    return i < cl.end && is_one_of(tk[i].hash, kNegated);
  }

  // Whether tokens [begin, end) hold at most `limit` words.
  bool at_most_words(uint32_t begin, uint32_t end, uint32_t limit) const {
    uint32_t n = 0;
    for (uint32_t i = begin; i < end && n <= limit; ++i) n += tk[i].kind == TokenKind::kWord;
    return n <= limit;
  }

  // Whether the words from token `i` to `end` begin with a subject of their own ("the front
  // desk...", "I...", "it...", "she...", a name, a number) rather than a verb, an adjective or
  // an adverb ("has zero people skills", "slow", "never again"); a few sentence adverbs
  // ("unfortunately", "still") are passed over.
  bool has_own_subject(uint32_t i, uint32_t end) const {
    constexpr uint64_t kSubjects[] = {
        hash_ascii("i"),          hash_ascii("we"),       hash_ascii("you"),
        hash_ascii("they"),       hash_ascii("it"),       hash_ascii("he"),
        hash_ascii("she"),        hash_ascii("my"),       hash_ascii("our"),
        hash_ascii("your"),       hash_ascii("their"),    hash_ascii("his"),
        hash_ascii("her"),        hash_ascii("its"),      hash_ascii("this"),
        hash_ascii("that"),       hash_ascii("these"),    hash_ascii("those"),
        hash_ascii("there"),      hash_ascii("here"),     hash_ascii("the"),
        hash_ascii("a"),          hash_ascii("an"),       hash_ascii("some"),
        hash_ascii("most"),       hash_ascii("many"),     hash_ascii("all"),
        hash_ascii("every"),      hash_ascii("everyone"), hash_ascii("everybody"),
        hash_ascii("everything"), hash_ascii("nobody"),   hash_ascii("someone"),
        hash_ascii("somebody"),   hash_ascii("anyone"),   hash_ascii("nothing"),
        hash_ascii("no"),         hash_ascii("when"),     hash_ascii("if"),
        hash_ascii("after"),      hash_ascii("before"),   hash_ascii("once"),
        hash_ascii("since"),      hash_ascii("as"),       hash_ascii("because"),
        hash_ascii("other"),      hash_ascii("another"),  hash_ascii("one"),
        hash_ascii("what"),       hash_ascii("which"),    hash_ascii("who")};
    constexpr uint64_t kSkip[] = {hash_ascii("unfortunately"), hash_ascii("sadly"),
                                  hash_ascii("honestly"),      hash_ascii("overall"),
                                  hash_ascii("now"),           hash_ascii("then"),
                                  hash_ascii("today"),         hash_ascii("still")};
    while (i < end && (tk[i].kind != TokenKind::kWord || is_one_of(tk[i].hash, kSkip))) ++i;
    if (i >= end) return true;  // nothing said
    const Token& t = tk[i];
    return (t.capitalized && !t.sentence_start) || t.numeric || is_one_of(t.hash, kSubjects);
  }

  // Whether clause `cl`, which begins with a contrast ("but", "although"), has no subject of
  // its own and so goes on about the one before: "brilliant but has zero people skills",
  // "friendly but slow", not "but the front desk...", "but I...", "but Sarah was rude".
  bool continues_subject(const Clause& cl) const {
    const Token& first = tk[cl.begin];
    const uint32_t after = first.lex >= 0 ? lex_matches[first.lex].end : cl.begin + 1;
    return !has_own_subject(after, cl.end) || begins_with_part_of_them(after, cl.end);
  }

  // Whether the words from token `i` to `end` begin with a part of "them": "one of them", "some
  // of them", "a few of them" are the people just named ("The nurses were lovely but one of
  // them was rude to my mum").
  bool begins_with_part_of_them(uint32_t i, uint32_t end) const {
    constexpr uint64_t kParts[] = {hash_ascii("one"),  hash_ascii("some"), hash_ascii("most"),
                                   hash_ascii("two"),  hash_ascii("few"),  hash_ascii("several"),
                                   hash_ascii("many"), hash_ascii("all"),  hash_ascii("none")};
    constexpr uint64_t kA = hash_ascii("a"), kOf = hash_ascii("of"), kThem = hash_ascii("them");
    i = first_word(i, end);
    if (i < end && tk[i].hash == kA) ++i;
    return i + 2 < end && is_one_of(tk[i].hash, kParts) && tk[i + 1].hash == kOf &&
           tk[i + 2].hash == kThem;
  }

  bool starts_contrast(const Clause& cl) const {
    const Token& first = tk[cl.begin];
    if (first.lex < 0 || lex_matches[first.lex].start != cl.begin) return false;
    const LexKind k = impl.lex[lex_matches[first.lex].id].kind;
    return k == LexKind::kContrast || k == LexKind::kConcession;
  }

  // What is said of each touchpoint. Consumes the clauses (weights, "!" factors, terms
  // ranges), the terms and scratch.mentions; cuts clauses into segments at coordinators (see
  // the top of this file), gives each segment's terms to its touchpoints (segment_terms) and
  // each sentence's unclaimed terms to its mentions (close_sentence); fills scratch.acc for the
  // touched touchpoints (listed in scratch.touched) and marks mentions `cut`.
  void attribute() {
    auto& mentions = scratch.mentions;
    auto& carry = scratch.carry;
    carry.clear();
    region_ = 0;
    size_t m = 0;
    uint32_t last_sentence = UINT32_MAX;
    const Clause* prev = nullptr;
    person_ = kNoPerson;
    for (const Clause& cl : clauses) {
      if (cl.sentence != last_sentence || starts_contrast(cl)) {
        if (prev) close_sentence(m);
        sentence_m_ = m;
        sentence_t_ = sentence_t_end_ = cl.terms_begin;
        sentence_sum_ = 0;
        claimed_ = false;
        // "Dr. Kaplan is brilliant but has zero people skills": a contrast whose clause has no
        // subject of its own goes on about the touchpoints before it.
        if (cl.sentence != last_sentence || !continues_subject(cl)) carry.clear();
        if (cl.sentence != last_sentence) {
          // "Dr. Patel is new to me. She never listened": a sentence that begins with he or
          // she, before it names a touchpoint, goes on about the one person the sentence
          // before spoke of (and so may the next).
          const uint32_t before = person_;
          person_ = kNoPerson;
          const bool he_or_she = begins_with_he_or_she(cl);
          if (he_or_she && before < kPeople &&
              !names_someone_else(sentence_ ? sentence_->begin : 0, cl.begin)) {
            carry.push_back(before);
            person_ = before;
          } else if (!he_or_she && is_short_verdict(cl, m)) {
            // "They charge $40 to fill out a form. Greedy.": a sentence of a few words that
            // names no touchpoint judges those of the sentence before.
            for (size_t k = sentence_first_m_; k < m; ++k) {
              if (std::find(carry.begin(), carry.end(), mentions[k].tp) == carry.end()) {
                carry.push_back(mentions[k].tp);
              }
            }
          }
          sentence_ = &cl;
          sentence_first_m_ = m;
        }
        last_sentence = cl.sentence;
        ++region_;
      }
      prev = &cl;
      sentence_sum_ += cl.sum * cl.weight;
      if (cl.terms_begin != cl.terms_end) sentence_t_end_ = cl.terms_end;
      const size_t m_begin = m;
      while (m < mentions.size() && mentions[m].start < cl.end) note_person(mentions[m++].tp);
      // No cut can change anything unless the clause holds a term and mentions touchpoints at
      // two places, or one and then the practice ("the doctor was great and the office is a
      // mess"): then its terms go to all its mentions (or the carried touchpoints).
      if (cl.terms_begin == cl.terms_end || m == m_begin ||
          (mentions[m - 1].start == mentions[m_begin].start &&
           !impl.taxonomy.names_practice(tk, mentions[m - 1].end, cl.end))) {
        segment_terms(cl, cl.begin, cl.end, cl.terms_begin, cl.terms_end, m_begin, m);
        continue;
      }
      // Cut at coordinators once a segment mentions a touchpoint and says more than its name:
      // a term, or a word other than a function word or a name ("got a same-day appointment
      // and the nurse was kind"; not "the doctor and the nurse were kind").
      uint32_t seg_begin = cl.begin;
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
          segment_terms(cl, seg_begin, i, seg_t, next_t, seg_m, next_m);
          seg_begin = i;
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
      segment_terms(cl, seg_begin, cl.end, seg_t, cl.terms_end, seg_m, m);
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
      const bool again = t.closed_region == region_;  // mentioned twice in the sentence
      t.closed_region = region_;
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
    constexpr uint64_t kToo = hash_ascii("too"), kAlso = hash_ascii("also"),
                       kWell = hash_ascii("well"), kAs = hash_ascii("as");
    const uint64_t h = tk[end - 1].hash;
    return h == kToo || h == kAlso || (h == kWell && end >= 2 && tk[end - 2].hash == kAs);
  }

  // The terms [t_begin, t_end) of clause `cl` (a segment of tokens [begin, end)) said of the
  // mentions [m_begin, m_end) or, without a mention, of the carried touchpoints (none once a
  // segment names the practice as a whole); evidence in text order.
  void segment_terms(const Clause& cl, uint32_t begin, uint32_t end, uint32_t t_begin,
                     uint32_t t_end, size_t m_begin, size_t m_end) {
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
            acc[tp].say(term.value * last_.factor);
          }
        }
        return;
      }
    }
    if (t_begin != t_end) {
      last_ = {region_, t_begin, t_end, factor};
    }
    // "Good doctor, terrible office": a segment that names no touchpoint but the practice as a
    // whole is about the practice, not about the touchpoints before it.
    if (m_begin == m_end && t_begin != t_end && !carry.empty() &&
        impl.taxonomy.names_practice(tk, begin, end)) {
      carry.clear();
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
          acc[tp].say(term.value * factor);
          acc[tp].add(term.offset, term.length);
        }
        continue;
      }
      const Mention& mt = mentions[k++];
      const Token& last = tk[mt.end - 1];
      acc[mt.tp].add(m_off, last.offset + last.length - m_off);
    }
  }

  // The result. Consumes scratch.acc and scratch.touched; appends to out.touchpoints the
  // mentioned touchpoints in order of first mention, each with its normalised score (its own
  // terms, else its sentences' unclaimed ones) and evidence.
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
                 normalize(touchpoint_raw_score(own_score(t.sum, t.most_negative), t.unclaimed,
                                                untold, kAlpha))});
      r.evidence.reserve(t.n_evidence);
      for (uint32_t e = 0; e < t.n_evidence; ++e) {
        r.evidence.emplace_back(Span{text, t.offset[e], t.length[e]});
      }
    }
  }
};

}  // namespace

void attribute_touchpoints(const Analyzer::Impl& impl, Scratch& scratch, const Token* tk,
                           std::string_view text, bool has_sentence_marks, Analysis& out) {
  Attribution{impl,
              scratch,
              tk,
              scratch.lex_matches,
              scratch.clauses,
              scratch.terms,
              text,
              untold_score(has_sentence_marks, out.score)}
      .run(scratch.tp_matches, out);
}

}  // namespace repwatch::sentiment::detail
