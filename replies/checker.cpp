#include "replies/checker.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "core/hash.h"
#include "replies/terms.h"
#include "replies/text.h"

namespace repwatch::replies {

namespace {

using detail::Match;
using detail::PhraseSet;
using detail::Terms;
using detail::Tok;
using detail::TokKind;

constexpr std::array<const char*, kKindCount> kKindIds = {"identifier", "name",        "medication",
                                                          "condition",  "treatment",   "billing",
                                                          "date",       "relationship"};

constexpr size_t kPossessiveReach = 4;  // "your son's two-month ... shots"
constexpr size_t kDefiniteReach = 2;    // "the remaining balance", "the physical therapy sessions"
constexpr size_t kBeforeReach = 4;      // "you had a deep cleaning"
constexpr size_t kAfterReach = 2;       // "the rash (that) you described"
constexpr size_t kOwnerReach = 8;       // "we called you ... at 555-0199"
constexpr size_t kNumberedReach = 3;    // "account number is 448213"

// Words of the reader: a sentence with one of them is about the reader, never general.
bool is_you(std::string_view w) {
  static const std::unordered_set<std::string_view> kWords = {
      "you",   "your",   "yours", "yourself", "yourselves", "you've", "you're",
      "you'd", "you'll", "ur",    "u",        "y'all",      "youre",  "youve"};
  return kWords.count(w) > 0;
}

// Words that end the reach of "your ..." back to a noun: "your concerns about our appointment
// system" does not make the appointment the reader's.
bool stops_reach(std::string_view w) {
  static const std::unordered_set<std::string_view> kWords = {
      "about", "with",  "of",     "for",   "to",     "from",   "at",    "in",    "on",    "by",
      "our",   "a",     "an",     "and",   "or",     "but",    "that",  "which", "who",   "is",
      "was",   "are",   "were",   "be",    "been",   "has",    "have",  "had",   "we",    "they",
      "it",    "their", "his",    "her",   "my",     "if",     "as",    "so",    "than",  "then",
      "not",   "no",    "any",    "all",   "some",   "every",  "each",  "us",    "me",    "you",
      "will",  "would", "can",    "could", "should", "may",    "might", "must",  "do",    "does",
      "did",   "into",  "over",   "after", "before", "during", "since", "when",  "where", "how",
      "what",  "why",   "please", "thank", "thanks", "the",    "this",  "these", "those", "its"};
  return kWords.count(w) > 0;
}

// A future or an invitation: "we will call you today" is not a day of care.
bool is_future(std::string_view w) {
  static const std::unordered_set<std::string_view> kWords = {
      "will", "we'll", "you'll", "i'll", "they'll", "shall", "tomorrow", "soon", "next", "going"};
  return kWords.count(w) > 0;
}

int month_of(std::string_view w, bool cap, bool followed_by_day) {
  static constexpr std::array<std::string_view, 12> kFull = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  static constexpr std::array<std::string_view, 12> kShort = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  for (int m = 0; m < 12; ++m) {
    if (w == kFull[m]) {
      // "may" and "march" are words too: only capitalised, and "May" only before a day.
      if ((m == 4 || m == 2) && !cap) return -1;
      if (m == 4 && !followed_by_day) return -1;
      return m + 1;
    }
    if ((w == kShort[m] || (m == 8 && w == "sept")) && cap && followed_by_day) return m + 1;
  }
  return -1;
}

int weekday_of(std::string_view w) {
  static constexpr std::array<std::string_view, 7> kDays = {
      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  for (int d = 0; d < 7; ++d)
    if (w == kDays[d]) return d;
  return -1;
}

bool is_plural_weekday(std::string_view w) {
  return w.size() > 1 && w.back() == 's' && weekday_of(w.substr(0, w.size() - 1)) >= 0;
}

// 1..31 as a plain number or ordinal ("19", "19th").
int day_number(const Tok& t) {
  if (t.kind != TokKind::kNumber) return -1;
  std::string_view s = t.norm;
  if (t.ordinal) s.remove_suffix(2);
  if (s.empty() || s.size() > 2) return -1;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v >= 1 && v <= 31 ? v : -1;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "3/14", "3/14/2025", "2025-03-14", "03-14-2025".
bool is_numeric_date(std::string_view s) {
  auto parts = [&](char sep) {
    std::vector<std::string_view> v;
    size_t pos = 0;
    for (;;) {
      size_t k = s.find(sep, pos);
      v.push_back(s.substr(pos, k == std::string_view::npos ? std::string_view::npos : k - pos));
      if (k == std::string_view::npos) break;
      pos = k + 1;
    }
    return v;
  };
  for (char sep : {'/', '-', '.'}) {
    if (s.find(sep) == std::string_view::npos) continue;
    auto v = parts(sep);
    for (auto p : v)
      if (!all_digits(p)) return false;
    if (v.size() == 3 && v[0].size() == 4 && v[1].size() <= 2 && v[2].size() <= 2) {
      int m = std::atoi(std::string(v[1]).c_str()), d = std::atoi(std::string(v[2]).c_str());
      return m >= 1 && m <= 12 && d >= 1 && d <= 31;
    }
    if ((v.size() == 2 || v.size() == 3) && v[0].size() <= 2 && v[1].size() <= 2 &&
        (v.size() == 2 || v[2].size() == 2 || v[2].size() == 4)) {
      if (sep != '/' && v.size() == 2) return false;  // "10-12" is a range, "3.5" a number
      int m = std::atoi(std::string(v[0]).c_str()), d = std::atoi(std::string(v[1]).c_str());
      return m >= 1 && m <= 12 && d >= 1 && d <= 31;
    }
    return false;
  }
  return false;
}

// "2:30", "10:40".
bool is_clock(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || s.size() - colon != 3)
    return false;
  if (!all_digits(s.substr(0, colon)) || !all_digits(s.substr(colon + 1))) return false;
  int h = std::atoi(std::string(s.substr(0, colon)).c_str());
  int m = std::atoi(std::string(s.substr(colon + 1)).c_str());
  return h <= 23 && m <= 59;
}

bool is_meridiem(const Tok& t) {
  return t.norm == "am" || t.norm == "pm" || t.norm == "a.m." || t.norm == "p.m.";
}

// "555-0199", "555-201-8841", "555.201.8841", "201-8841" after "(555)".
bool is_phone_digits(std::string_view s) {
  std::vector<size_t> groups;
  size_t run = 0;
  char sep = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      ++run;
    } else if (c == '-' || c == '.') {
      if (sep && c != sep) return false;
      sep = c;
      groups.push_back(run);
      run = 0;
    } else {
      return false;
    }
  }
  groups.push_back(run);
  if (groups.size() == 2) return groups[0] == 3 && groups[1] == 4;
  if (groups.size() == 3) return groups[0] == 3 && groups[1] == 3 && groups[2] == 4;
  if (groups.size() == 4)
    return groups[0] == 1 && groups[1] == 3 && groups[2] == 3 && groups[3] == 4;
  return false;
}

bool is_ssn(std::string_view s) {
  return s.size() == 11 && s[3] == '-' && s[6] == '-' && all_digits(s.substr(0, 3)) &&
         all_digits(s.substr(4, 2)) && all_digits(s.substr(7));
}

// A candidate finding over tokens [first, last]; [core_first, core_last] are the words that
// disclose (without "your" or "the"), compared with the review for Finding::in_review.
struct Candidate {
  Kind kind;
  uint32_t first, last;
  uint32_t core_first, core_last;
};

// The words of the review (author and text), folded, for Finding::in_review.
std::unordered_set<std::string> review_words(const ReviewContext& r) {
  std::unordered_set<std::string> words;
  for (std::string_view s : {std::string_view(r.author), std::string_view(r.text)})
    for (const Tok& t : detail::tokenize(s)) {
      if (!detail::is_wordlike(t)) continue;
      words.insert(t.norm);
      if (t.kind == TokKind::kInitials) {  // "W." in the author is "W" in a reply
        std::string letters;
        for (char c : t.norm)
          if (c != '.') letters += c;
        words.insert(letters);
      }
    }
  return words;
}

// One check of one reply.
class Scan {
 public:
  Scan(const Terms& terms, std::string_view text, const ReviewContext* review)
      : t_(terms), text_(text), toks_(detail::tokenize(text)), review_(review) {
    if (review_) review_words_ = review_words(*review_);
    prepare();
  }

  std::vector<Candidate> run() {
    for (size_t k = 0; k < kKindCount; ++k) find_listed(static_cast<Kind>(k));
    find_names();
    find_dates();
    find_money();
    find_identifiers();
    return std::move(found_);
  }

  const std::vector<Tok>& tokens() const { return toks_; }

 private:
  // ---- preparation ------------------------------------------------------------------------

  void mark(const PhraseSet& set, std::vector<char>& starts, std::vector<char>& ends) {
    starts.assign(toks_.size(), 0);
    ends.assign(toks_.size(), 0);
    for (const Match& m : set.find_all(toks_)) {
      starts[m.first] = 1;
      ends[m.last] = 1;
    }
  }

  void prepare() {
    const size_t n = toks_.size();
    size_t sentences = n ? toks_.back().sentence + 1 : 0;
    personal_.assign(sentences, 0);
    general_.assign(sentences, 0);
    invitation_.assign(sentences, 0);
    schedule_.assign(sentences, 0);
    future_.assign(sentences, 0);
    sentence_start_.assign(n, 0);
    int64_t last_sentence = -1;
    for (size_t i = 0; i < n; ++i) {
      const Tok& k = toks_[i];
      if (is_you(k.norm) && k.kind == TokKind::kWord) personal_[k.sentence] = 1;
      if (is_future(k.norm) && k.kind == TokKind::kWord) future_[k.sentence] = 1;
      if (detail::is_wordlike(k) && static_cast<int64_t>(k.sentence) != last_sentence) {
        sentence_start_[i] = 1;
        last_sentence = k.sentence;
      }
    }
    for (const Match& m : t_.general.find_all(toks_)) general_[toks_[m.first].sentence] = 1;
    first_ahead_.assign(sentences, UINT32_MAX);
    for (size_t i = 0; i < n; ++i)
      if (toks_[i].kind == TokKind::kWord && is_future(toks_[i].norm))
        first_ahead_[toks_[i].sentence] =
            std::min(first_ahead_[toks_[i].sentence], static_cast<uint32_t>(i));
    for (const Match& m : t_.invitation.find_all(toks_)) {
      uint32_t s = toks_[m.first].sentence;
      invitation_[s] = 1;
      first_ahead_[s] = std::min(first_ahead_[s], m.first);
    }
    for (const Match& m : t_.schedule.find_all(toks_)) schedule_[toks_[m.first].sentence] = 1;
    std::vector<char> unused;
    mark(t_.possessive, unused, possessive_end_);
    mark(t_.definite, unused, definite_end_);
    mark(t_.before, unused, before_end_);
    mark(t_.after, after_start_, unused);
    mark(t_.generic_heads, head_start_, unused);
    mark(t_.range, unused, range_end_);
    mark(t_.staff, staff_start_, staff_end_);
  }

  bool wordlike(size_t i) const { return i < toks_.size() && detail::is_wordlike(toks_[i]); }
  bool punct(size_t i, char c) const {
    return i < toks_.size() && toks_[i].kind == TokKind::kPunct && toks_[i].mark == c;
  }
  // General: a general phrase and none of the reader's words.
  bool general(size_t i) const {
    uint32_t s = toks_[i].sentence;
    return general_[s] && !personal_[s];
  }

  void add(Kind kind, size_t first, size_t last, size_t core_first, size_t core_last) {
    found_.push_back({kind, static_cast<uint32_t>(first), static_cast<uint32_t>(last),
                      static_cast<uint32_t>(core_first), static_cast<uint32_t>(core_last)});
  }

  // ---- anchors ----------------------------------------------------------------------------

  // The first token of "your" (or a family possessive) that makes the noun at [a, b] the
  // reader's, or -1.
  int64_t possessive_anchor(size_t a) const {
    size_t steps = 0;
    for (int64_t j = static_cast<int64_t>(a) - 1; j >= 0 && steps <= kPossessiveReach;
         --j, ++steps) {
      if (!wordlike(static_cast<size_t>(j))) return -1;
      if (possessive_end_[static_cast<size_t>(j)]) return j;
      if (stops_reach(toks_[static_cast<size_t>(j)].norm)) return -1;
    }
    return -1;
  }

  int64_t definite_anchor(size_t a, size_t b) const {
    if (general(a)) return -1;
    if (wordlike(b + 1) && head_start_[b + 1]) return -1;  // "the billing process"
    size_t steps = 0;
    for (int64_t j = static_cast<int64_t>(a) - 1; j >= 0 && steps <= kDefiniteReach; --j, ++steps) {
      if (!wordlike(static_cast<size_t>(j))) return -1;
      if (definite_end_[static_cast<size_t>(j)]) return j;
      if (stops_reach(toks_[static_cast<size_t>(j)].norm)) return -1;
    }
    return -1;
  }

  bool verb_anchor(size_t a, size_t b) const {
    size_t steps = 0;
    for (int64_t j = static_cast<int64_t>(a) - 1; j >= 0 && steps <= kBeforeReach; --j, ++steps) {
      if (!wordlike(static_cast<size_t>(j))) break;
      if (before_end_[static_cast<size_t>(j)]) return true;
    }
    for (size_t j = b + 1, s = 0; j < toks_.size() && s <= kAfterReach; ++j, ++s) {
      if (!wordlike(j)) break;
      if (after_start_[j]) return true;
    }
    return false;
  }

  // ---- the lists of each kind -------------------------------------------------------------

  void find_listed(Kind kind) {
    const detail::KindTerms& kt = t_.kinds[static_cast<size_t>(kind)];
    for (const Match& m : kt.phrases.find_all(toks_)) {
      if (kind == Kind::kDate && relative_date_excused(m.first) && !in_review(m.first, m.last))
        continue;
      add(kind, m.first, m.last, m.first, m.last);
    }
    for (const Match& m : kt.terms.find_all(toks_)) {
      if (general(m.first)) continue;
      if (kind == Kind::kDate && relative_date_excused(m.first) && !in_review(m.first, m.last))
        continue;
      size_t first = m.first;
      int64_t p = m.first > 0 ? possessive_anchor(m.first) : -1;
      if (p >= 0 && p + 1 == static_cast<int64_t>(m.first)) first = static_cast<size_t>(p);
      if (p < 0 && m.first > 0 && definite_end_[m.first - 1] && wordlike(m.first - 1))
        first = m.first - 1;
      add(kind, first, m.last, m.first, m.last);
    }
    for (const Match& m : kt.nouns.find_all(toks_)) {
      int64_t anchor = possessive_anchor(m.first);
      if (anchor < 0) anchor = definite_anchor(m.first, m.last);
      if (anchor < 0 && verb_anchor(m.first, m.last)) anchor = m.first;
      if (anchor < 0) continue;
      add(kind, static_cast<size_t>(anchor), m.last, m.first, m.last);
    }
  }

  // "yesterday", "this morning" do not date care in office news or an invitation to call.
  bool relative_date_excused(size_t i) const {
    uint32_t s = toks_[i].sentence;
    if (general(i)) return true;
    if (!personal_[s] && schedule_[s]) return true;
    return invitation_[s] || future_[s];
  }

  // ---- names ------------------------------------------------------------------------------

  bool is_name_word(size_t i) const {
    if (!wordlike(i)) return false;
    const Tok& k = toks_[i];
    if (k.kind == TokKind::kInitials) return k.cap && !t_.abbreviations.count(k.norm);
    if (k.kind != TokKind::kWord || !k.cap || k.has_digit) return false;
    if (t_.not_names.count(k.norm) || is_you(k.norm)) return false;
    if (weekday_of(k.norm) >= 0 || is_plural_weekday(k.norm) || month_of(k.norm, true, false) > 0)
      return false;
    if (term_start_.empty()) compute_term_starts();
    return !term_start_[i];
  }

  // Capitalised words that are terms of some kind ("Medicare", "Invisalign") are not names.
  void compute_term_starts() const {
    term_start_.assign(toks_.size(), 0);
    for (const detail::KindTerms& kt : t_.kinds)
      for (const PhraseSet* set : {&kt.phrases, &kt.terms, &kt.nouns})
        for (const Match& m : set->find_all(toks_)) term_start_[m.first] = 1;
    for (const Match& m : t_.greetings.find_all(toks_)) term_start_[m.first] = 1;
  }

  // The last token of the name starting at i ("Mary Ann", "Jo Ann R.").
  size_t extend_name(size_t i) const {
    size_t e = i;
    while (e + 1 < toks_.size() && is_name_word(e + 1) && toks_[e + 1].line == toks_[i].line) ++e;
    return e;
  }

  // Is the name at [a, b] a staff member's? A staff word within three words before it
  // ("our office manager, Ms. Lopez", "Dr. Patel"), or after it as an apposition ("Maria, our
  // practice manager", "Jen (office manager)").
  bool staff_context(size_t a, size_t b) const {
    size_t words = 0;
    for (int64_t j = static_cast<int64_t>(a) - 1; j >= 0 && words < 3; --j) {
      const Tok& k = toks_[static_cast<size_t>(j)];
      if (k.ends_sentence) break;
      if (!detail::is_wordlike(k)) {
        if (k.kind == TokKind::kPunct &&
            (k.mark == ',' || k.mark == '.' || k.mark == '(' || k.mark == '-'))
          continue;
        break;
      }
      if (staff_end_[static_cast<size_t>(j)]) return true;
      ++words;
    }
    size_t j = b + 1;
    if (!(punct(j, ',') || punct(j, '(') || punct(j, '-'))) return false;
    ++j;
    for (words = 0; j < toks_.size() && words < 3; ++j, ++words) {
      if (!wordlike(j)) return false;
      if (staff_start_[j]) return true;
    }
    return false;
  }

  bool sign_off_before(size_t a) const {
    // "Sincerely, Maria" at the end of the reply: the writer's signature.
    static const std::unordered_set<std::string_view> kSignOffs = {
        "sincerely", "regards", "best", "warmly", "respectfully", "cordially", "yours"};
    size_t j = a;
    while (j > 0 && !wordlike(j - 1)) --j;
    if (j == 0 || !kSignOffs.count(toks_[j - 1].norm)) return false;
    for (size_t k = extend_name(a) + 1; k < toks_.size(); ++k)
      if (wordlike(k) && toks_[k].kind != TokKind::kInitials) {
        // More text after the name: only staff words ("Maria, Office Manager") are allowed.
        if (!staff_start_[k] && !staff_end_[k] && !toks_[k].cap) return false;
      }
    return true;
  }

  void add_name(size_t a, size_t b) {
    if (staff_context(a, b)) return;
    add(Kind::kName, a, b, a, b);
  }

  void find_names() {
    const size_t n = toks_.size();
    // After a greeting: "Hi Darnell", "Dear Mrs. Okafor" (the title rule), "Thanks Grandma Rose".
    for (const Match& m : t_.greetings.find_all(toks_)) {
      size_t k = m.last + 1;
      if (punct(k, ',')) ++k;
      if (!wordlike(k) || toks_[k].line != toks_[m.last].line) continue;
      if (t_.titles.longest_at(toks_, k) >= 0) continue;
      if (t_.family.longest_at(toks_, k) >= 0 || t_.not_names.count(toks_[k].norm)) {
        if (!toks_[k].cap) continue;
        ++k;  // "Dear Grandma Rose"
      }
      bool single = wordlike(k) && toks_[k].kind == TokKind::kWord && toks_[k].norm.size() == 1 &&
                    toks_[k].cap;  // "Dear K,"
      if (is_name_word(k) || single) add_name(k, single ? k : extend_name(k));
    }
    // After a title: "Mrs. Okafor", "Ms. K", "Mr. Hill's".
    for (const Match& m : t_.titles.find_all(toks_)) {
      size_t k = m.last + 1;
      if (punct(k, '.')) ++k;
      if (!wordlike(k)) continue;
      const Tok& w = toks_[k];
      bool initial = (w.kind == TokKind::kWord && w.norm.size() == 1 && w.cap) ||
                     (w.kind == TokKind::kInitials && w.cap);
      if (initial || is_name_word(k)) add_name(m.first, initial ? k : extend_name(k));
    }
    // A family member: "your daughter Emma's first visit".
    for (const Match& m : t_.family.find_all(toks_)) {
      size_t k = m.last + 1;
      if (toks_[m.first].cap || !is_name_word(k) || toks_[k].kind != TokKind::kWord) continue;
      add_name(k, extend_name(k));
    }
    // Addressed after a comma: "Thank you for the feedback, Jessica." "..., Linda, and ..."
    for (size_t c = 0; c + 1 < n; ++c) {
      if (!punct(c, ',')) continue;
      size_t k = c + 1;
      if (toks_[k].line != toks_[c].line || !is_name_word(k) || toks_[k].kind == TokKind::kInitials)
        continue;
      size_t e = extend_name(k);
      bool closes = e + 1 >= n || punct(e + 1, ',') || punct(e + 1, '!') || punct(e + 1, '?') ||
                    punct(e + 1, '.') || punct(e + 1, ';') || punct(e + 1, '-') ||
                    punct(e + 1, '\n') || punct(e + 1, ':');
      if (!closes || sign_off_before(k)) continue;
      add_name(k, e);
    }
    // At the very start: "Priya - we hear you", "Karen, you were ...".
    size_t f = 0;
    while (f < n && !wordlike(f)) ++f;
    if (f < n && is_name_word(f) && toks_[f].kind == TokKind::kWord) {
      size_t e = extend_name(f);
      if (punct(e + 1, ',') || punct(e + 1, '-') || punct(e + 1, ':')) add_name(f, e);
    }
    // Dotted initials anywhere: "Hello J.M.," "Thank you for your review, G.N."
    for (size_t i = 0; i < n; ++i) {
      const Tok& k = toks_[i];
      if (k.kind == TokKind::kInitials && k.cap && k.norm.size() >= 4 &&
          !t_.abbreviations.count(k.norm))
        add_name(i, i);
    }
    find_author_names();
  }

  // With the review known: the author's names and initials wherever the reply uses them.
  void find_author_names() {
    if (!review_) return;
    std::string author;
    for (char c : review_->author)
      author += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!author.empty() && author.back() == ' ') author.pop_back();
    if (author.empty() || t_.anonymous.count(author)) return;
    std::vector<Tok> parts = detail::tokenize(review_->author);
    std::vector<std::string> names;
    std::string initials;
    for (const Tok& p : parts) {
      if (p.kind == TokKind::kInitials) {
        for (char c : p.norm)
          if (c != '.') initials += c;
        continue;
      }
      if (p.kind != TokKind::kWord || p.has_digit) continue;
      if (!p.norm.empty()) initials += p.norm[0];
      if (p.norm.size() >= 2 && !t_.not_names.count(p.norm) && !t_.anonymous.count(p.norm))
        names.push_back(p.norm);
    }
    for (size_t i = 0; i < toks_.size(); ++i) {
      const Tok& k = toks_[i];
      if (k.kind == TokKind::kInitials && initials.size() >= 2) {
        std::string letters;
        for (char c : k.norm)
          if (c != '.') letters += c;
        if (letters == initials) add_name(i, i);
        continue;
      }
      if (k.kind != TokKind::kWord || !k.cap) continue;
      if (std::find(names.begin(), names.end(), k.norm) == names.end()) continue;
      if (t_.common_words.count(k.norm) && sentence_start_[i]) continue;  // "Hope to hear ..."
      add_name(i, i);
    }
  }

  // ---- dates and times --------------------------------------------------------------------

  // A date at [a, b] that is not a date of care: a schedule ("until 7 pm", "Monday through
  // Friday"), office news in a sentence without the reader, or a general statement.
  bool date_excused(size_t a, size_t b) const {
    if (a > 0 && range_end_[a - 1] && wordlike(a - 1)) return true;
    if (a > 1 && range_end_[a - 2] && wordlike(a - 2) &&
        (toks_[a - 1].norm == "on" || toks_[a - 1].norm == "at"))
      return true;
    if (wordlike(b + 1) && range_end_[b + 1] && wordlike(b + 2) &&
        (weekday_of(toks_[b + 2].norm) >= 0 || toks_[b + 2].kind == TokKind::kNumber))
      return true;  // "Monday to Friday", "8 am to 5 pm"
    // "Monday-Friday": two weekdays with only a dash between.
    if (weekday_of(toks_[b].norm) >= 0 &&
        ((wordlike(b + 1) && weekday_of(toks_[b + 1].norm) >= 0) ||
         (a > 0 && wordlike(a - 1) && weekday_of(toks_[a - 1].norm) >= 0)))
      return true;
    uint32_t s = toks_[a].sentence;
    // "Please call us Monday", "Dr. Smith will call you on Friday": a day ahead, not of care.
    if (first_ahead_[s] < a) return true;
    if (general(a)) return true;
    return !personal_[s] && schedule_[s];
  }

  // A date the review itself names ("I was there on the 19th") is the day of the visit, even
  // in a sentence that would otherwise read as a schedule ("we closed early on the 19th").
  void add_date(size_t a, size_t b) {
    if (!date_excused(a, b) || in_review(a, b)) add(Kind::kDate, a, b, a, b);
  }

  // Does the review say every word of tokens [a, b]?
  bool in_review(size_t a, size_t b) const {
    if (!review_) return false;
    for (size_t i = a; i <= b; ++i)
      if (wordlike(i) && !review_words_.count(toks_[i].norm)) return false;
    return true;
  }

  void find_dates() {
    const size_t n = toks_.size();
    for (size_t i = 0; i < n; ++i) {
      const Tok& k = toks_[i];
      if (k.kind == TokKind::kWord) {
        bool next_day = wordlike(i + 1) && day_number(toks_[i + 1]) > 0;
        int month = month_of(k.norm, k.cap, next_day);
        if (month > 0) {
          if (next_day) {
            size_t e = i + 1;
            if (punct(e + 1, ',') && wordlike(e + 2) && toks_[e + 2].kind == TokKind::kNumber &&
                toks_[e + 2].digits == 4)
              e += 2;  // "March 3, 2026"
            add_date(i, e);
          } else if (personal_[k.sentence] && k.cap) {
            add_date(i, i);  // "your plan changed in January"
          }
          continue;
        }
        if (weekday_of(k.norm) >= 0) {
          size_t a = i;
          if (i > 0 && wordlike(i - 1) &&
              (toks_[i - 1].norm == "last" || toks_[i - 1].norm == "this" ||
               toks_[i - 1].norm == "past"))
            a = i - 1;
          if (wordlike(i + 1) &&
              (toks_[i + 1].norm == "mornings" || toks_[i + 1].norm == "afternoons" ||
               toks_[i + 1].norm == "evenings" || toks_[i + 1].norm == "nights"))
            continue;  // "Saturday mornings from 9 to noon"
          add_date(a, i);
        }
        continue;
      }
      if (k.kind != TokKind::kNumber) continue;
      // "the 19th", "on the 12th"
      if (k.ordinal && day_number(k) > 0 && i > 0 && wordlike(i - 1) &&
          toks_[i - 1].norm == "the") {
        size_t e = i;
        if (wordlike(i + 1) && toks_[i + 1].norm == "of" && wordlike(i + 2) &&
            month_of(toks_[i + 2].norm, true, true) > 0)
          e = i + 2;
        add_date(i - 1, e);
        continue;
      }
      // "3rd of March"
      if (k.ordinal && day_number(k) > 0 && wordlike(i + 1) && toks_[i + 1].norm == "of" &&
          wordlike(i + 2) && month_of(toks_[i + 2].norm, true, true) > 0) {
        add_date(i, i + 2);
        continue;
      }
      if (is_numeric_date(k.norm)) {
        add_date(i, i);
        continue;
      }
      // Times: "2:30", "4:15 pm", "3 pm".
      bool meridiem = wordlike(i + 1) && is_meridiem(toks_[i + 1]);
      if (is_clock(k.norm) || (meridiem && all_digits(k.norm) && k.norm.size() <= 2)) {
        add_date(i, meridiem ? i + 1 : i);
        continue;
      }
      // "since 2015" about the reader.
      if (k.digits == 4 && all_digits(k.norm) && i > 0 && wordlike(i - 1) &&
          (toks_[i - 1].norm == "since" || toks_[i - 1].norm == "in") && personal_[k.sentence]) {
        int year = std::atoi(k.norm.c_str());
        if (year >= 1950 && year <= 2100) add_date(i - 1, i);
      }
    }
  }

  // ---- amounts ----------------------------------------------------------------------------

  void find_money() {
    for (size_t i = 0; i < toks_.size(); ++i) {
      const Tok& k = toks_[i];
      size_t a = i, b = i;
      if (k.kind == TokKind::kSymbol && k.mark == '$' && i + 1 < toks_.size() &&
          toks_[i + 1].kind == TokKind::kNumber && toks_[i + 1].offset == k.offset + 1) {
        b = i + 1;
      } else if (k.kind == TokKind::kNumber && wordlike(i + 1) &&
                 (toks_[i + 1].norm == "dollars" || toks_[i + 1].norm == "usd" ||
                  toks_[i + 1].norm == "bucks")) {
        b = i + 1;
      } else {
        continue;
      }
      if (general(a)) continue;
      add(Kind::kBilling, a, b, a, b);
    }
  }

  // ---- identifiers ------------------------------------------------------------------------

  // Does a phrase of `owners` match in the sentence of token i, before it (within reach)?
  bool owned_before(const PhraseSet& owners, size_t i) const {
    std::vector<Match> m;
    size_t words = 0, steps = 0;  // marks count too: a sentence of 10,000 emails is no slower
    for (int64_t j = static_cast<int64_t>(i) - 1;
         j >= 0 && words <= kOwnerReach && steps <= 3 * kOwnerReach; --j, ++steps) {
      const Tok& k = toks_[static_cast<size_t>(j)];
      if (k.sentence != toks_[i].sentence) break;
      if (!detail::is_wordlike(k)) continue;
      ++words;
      m.clear();
      owners.match_at(toks_, static_cast<size_t>(j), m);
      if (!m.empty()) return true;
    }
    return false;
  }

  void find_identifiers() {
    const size_t n = toks_.size();
    for (size_t i = 0; i < n; ++i) {
      const Tok& k = toks_[i];
      if (k.kind == TokKind::kNumber) {
        if (is_ssn(k.norm)) {
          add(Kind::kIdentifier, i, i, i, i);
          continue;
        }
        // A phone number: the reader's only when the reply says so ("we called you at").
        size_t a = i;
        bool phone = is_phone_digits(k.norm) && k.norm.size() >= 8;
        if (!phone && k.digits == 7 && k.norm.find('-') == 3 && i >= 3 && punct(i - 1, ')') &&
            toks_[i - 2].kind == TokKind::kNumber && toks_[i - 2].digits == 3 &&
            punct(i - 3, '(')) {
          phone = true;
          a = i - 3;
        }
        if (phone) {
          if (owned_before(t_.phone_owner, a)) add(Kind::kIdentifier, a, i, a, i);
          continue;
        }
        // "#448213"
        if (k.digits >= 4 && i > 0 && toks_[i - 1].kind == TokKind::kSymbol &&
            toks_[i - 1].mark == '#' && toks_[i - 1].offset + 1 == k.offset)
          add(Kind::kIdentifier, i - 1, i, i, i);
        continue;
      }
      if (k.kind == TokKind::kEmail) {
        std::string_view domain = std::string_view(k.norm).substr(k.norm.find('@') + 1);
        if (t_.personal_domains.count(std::string(domain)) || owned_before(t_.email_owner, i))
          add(Kind::kIdentifier, i, i, i, i);
      }
    }
    // "account #448213", "claim number 2024-88123", "member ID ends in 4471".
    for (const Match& m : t_.numbered.find_all(toks_)) {
      size_t words = 0;
      for (size_t j = m.last + 1; j < n && words <= kNumberedReach; ++j) {
        const Tok& k = toks_[j];
        if (k.ends_sentence || k.sentence != toks_[m.first].sentence) break;
        if (k.kind == TokKind::kNumber) {
          if (k.digits >= 4 && !is_phone_digits(k.norm) && !is_numeric_date(k.norm))
            add(Kind::kIdentifier, m.first, j, j, j);
          break;
        }
        if (detail::is_wordlike(k)) ++words;
      }
    }
    // "user dmartinez2"
    for (const Match& m : t_.user_words.find_all(toks_)) {
      for (size_t j = m.last + 1; j < n && j <= m.last + 2; ++j) {
        if (!wordlike(j)) break;
        if (toks_[j].kind == TokKind::kWord && toks_[j].has_digit) {
          add(Kind::kIdentifier, j, j, j, j);
          break;
        }
      }
    }
  }

  const Terms& t_;
  std::string_view text_;
  std::vector<Tok> toks_;
  const ReviewContext* review_;
  std::unordered_set<std::string> review_words_;  // with a review: its words, folded
  std::vector<Candidate> found_;

  // Per sentence.
  std::vector<char> personal_, general_, invitation_, schedule_, future_;
  std::vector<uint32_t> first_ahead_;  // the first future or invitation word (UINT32_MAX: none)
  // Per token.
  std::vector<char> sentence_start_, possessive_end_, definite_end_, before_end_, after_start_,
      head_start_, range_end_, staff_start_, staff_end_;
  mutable std::vector<char> term_start_;  // computed when names need it
};

// Cuts at most `max` bytes on a UTF-8 character boundary.
std::string_view cut_utf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

const char* to_string(Kind kind) { return kKindIds[static_cast<size_t>(kind)]; }

std::optional<Kind> parse_kind(std::string_view id) {
  for (size_t k = 0; k < kKindCount; ++k)
    if (id == kKindIds[k]) return static_cast<Kind>(k);
  return std::nullopt;
}

bool Check::has(Kind kind) const {
  for (const Finding& f : findings)
    if (std::find(f.kinds.begin(), f.kinds.end(), kind) != f.kinds.end()) return true;
  return false;
}

struct Checker::Impl {
  Terms terms;
  std::array<KindInfo, kKindCount> info;
};

Checker::Checker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Checker::Checker(Checker&&) noexcept = default;
Checker& Checker::operator=(Checker&&) noexcept = default;
Checker::~Checker() = default;

Checker Checker::from_text(std::string_view text, std::string_view name) {
  auto impl = std::make_unique<Impl>();
  impl->terms = detail::parse_terms(text, name);
  for (size_t k = 0; k < kKindCount; ++k)
    impl->info[k] = {impl->terms.kinds[k].name, impl->terms.kinds[k].why,
                     impl->terms.kinds[k].hint};
  return Checker(std::move(impl));
}

Checker Checker::builtin() { return from_text(detail::kBuiltinTerms, "builtin:reply_terms.toml"); }

Checker Checker::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string() + ": cannot open the reply terms file");
  std::stringstream ss;
  ss << in.rdbuf();
  return from_text(ss.str(), file.string());
}

const KindInfo& Checker::kind(Kind kind) const { return impl_->info[static_cast<size_t>(kind)]; }
const std::string& Checker::version() const { return impl_->terms.version; }
const std::string& Checker::safe_reply() const { return impl_->terms.safe_reply; }

Check Checker::check(std::string_view reply, const ReviewContext* review) const {
  Check result;
  std::string_view text = cut_utf8(reply, kMaxTextBytes);
  result.truncated = text.size() < reply.size();
  Scan scan(impl_->terms, text, review);
  std::vector<Candidate> found = scan.run();
  const std::vector<Tok>& toks = scan.tokens();
  if (found.empty()) return result;

  // Overlapping candidates become one finding with every kind found in it.
  std::sort(found.begin(), found.end(), [&](const Candidate& a, const Candidate& b) {
    return toks[a.first].offset < toks[b.first].offset;
  });
  std::optional<std::unordered_set<std::string>> words;
  if (review) words = review_words(*review);
  struct Span {
    uint32_t begin, end;
    std::vector<Kind> kinds;
    bool in_review = true;
  };
  std::vector<Span> spans;
  for (const Candidate& c : found) {
    uint32_t begin = toks[c.first].offset;
    uint32_t end = toks[c.last].offset + toks[c.last].length;
    bool in_review = true;
    if (words) {
      for (uint32_t i = c.core_first; i <= c.core_last; ++i)
        if (detail::is_wordlike(toks[i]) && !words->count(toks[i].norm)) in_review = false;
    }
    if (!spans.empty() && begin < spans.back().end) {
      Span& s = spans.back();
      s.end = std::max(s.end, end);
      if (std::find(s.kinds.begin(), s.kinds.end(), c.kind) == s.kinds.end())
        s.kinds.push_back(c.kind);
      s.in_review = s.in_review && in_review;
    } else {
      spans.push_back({begin, end, {c.kind}, in_review});
    }
  }
  for (Span& s : spans) {
    std::sort(s.kinds.begin(), s.kinds.end());
    Finding f;
    f.kinds = std::move(s.kinds);
    f.offset = s.begin;
    f.length = s.end - s.begin;
    f.phrase = std::string(text.substr(s.begin, s.end - s.begin));
    if (review) f.in_review = s.in_review;
    result.findings.push_back(std::move(f));
  }
  return result;
}

Checker checker_for(const Config& config) {
  Settings s = config.section("replies");
  s.reject_unknown({"terms"});
  auto terms = s.path("terms");
  if (!terms) return Checker::builtin();
  return Checker::load(*terms);
}

std::string marked(std::string_view reply, const std::vector<Finding>& findings,
                   std::string_view open, std::string_view close) {
  std::string out;
  size_t pos = 0;
  for (const Finding& f : findings) {
    if (f.offset < pos || f.offset + static_cast<size_t>(f.length) > reply.size()) continue;
    out.append(reply.substr(pos, f.offset - pos));
    out.append(open);
    out.append(reply.substr(f.offset, f.length));
    out.append(close);
    pos = f.offset + f.length;
  }
  out.append(reply.substr(pos));
  return out;
}

std::string fingerprint(std::string_view reply) {
  // FNV-1a of the words: runs of white space count as one space, leading and trailing none.
  std::string normal;
  normal.reserve(reply.size());
  bool space = false;
  for (char c : reply) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !normal.empty();
      continue;
    }
    if (space) normal += ' ';
    space = false;
    normal += c;
  }
  return hex64(fnv1a64(normal));
}

}  // namespace repwatch::replies
