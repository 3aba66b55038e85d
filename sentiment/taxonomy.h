// repwatch/sentiment/taxonomy.h - the touchpoints of the patient journey (taxonomy.toml): each
// touchpoint's phrases go into the phrase trie the analyzer matches with, each with the context
// it needs around it to count as a mention. Internal to sentiment/; the file format is
// documented at the top of sentiment/taxonomy.toml and in docs/sentiment.md.
//
// Context conditions. A phrase may be a table instead of a string:
//
//   { phrase = "<num> minutes|hours", near = ["@waiting"], not_near = ["labour", "drive"] }
//
//   near       one of these phrases must occur within `within` words before or after it
//   not_near   none of these may occur within `within` words
//   not_after  none of these may end right before it ("another facility")
//   not_before none of these may start right after it ("doctor's office")
//   within     the window of near/not_near in words on each side (default 6), never past the
//              end of the sentence
//
// Context phrases use the phrase syntax; "@name" stands for the list `name` of the taxonomy's
// [lists] table. A context phrase must lie outside the mention itself.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sentiment/analyzer.h"
#include "sentiment/phrase_trie.h"
#include "sentiment/tokenizer.h"

namespace repwatch::sentiment::detail {

// The context lists one check looks for (context-list ids), and a summary of the words their
// phrases start with: a check walks the context trie only from a word that may start one of
// them. The phrases of all lists together start with common words ("for", "was", "to"); those
// of one check's lists rarely do, so most words of a window are passed over at one bit test.
struct ContextSet {
  std::vector<uint32_t> lists;
  // A Bloom filter of the first words: two bits of 1024 per word, from two parts of its hash.
  uint64_t first_words[16] = {};
  bool first_num = false;  // a phrase starts with <num> (none starts with ?: parse_phrase)

  bool empty() const { return lists.empty(); }
  bool contains(uint32_t list) const {
    return std::find(lists.begin(), lists.end(), list) != lists.end();
  }
  bool may_start(const Token& t) const {
    const uint64_t a = t.hash >> 54, b = (t.hash >> 44) & 1023;
    return ((first_words[a >> 6] >> (a & 63)) & (first_words[b >> 6] >> (b & 63)) & 1) |
           (t.numeric & first_num);
  }
  void add_first(uint64_t hash);  // a phrase's first word (or kNumHash)
  void add(const ContextSet& other);
};

// What one (phrase, touchpoint) needs around it.
struct Condition {
  static constexpr uint32_t kDefaultWithin = 6;
  static constexpr uint32_t kMaxWithin = 30;
  uint32_t within = kDefaultWithin;
  ContextSet near, not_near, not_after, not_before;
};

// A touchpoint that a trie node stands for, and the condition it counts under.
struct TpRef {
  static constexpr uint32_t kAlways = UINT32_MAX;
  uint32_t tp = 0;               // index into Taxonomy::touchpoints
  uint32_t condition = kAlways;  // index into Taxonomy::conditions
  bool operator==(const TpRef&) const = default;
};

// The token range a condition is checked in: the mention and its sentence.
struct MentionSpan {
  uint32_t start, end;                    // tokens of the mention
  uint32_t sentence_begin, sentence_end;  // tokens of its sentence
};

class Taxonomy {
 public:
  std::vector<Touchpoint> touchpoints;
  std::vector<TpRef> refs;  // TrieNode::tp_begin/tp_count (touchpoint nodes) index this
  std::string version;      // the file's `version` key, "" when none

  // Whether `ref`'s condition holds for a mention: tokens are the review's (numeric flags set).
  bool holds(const TpRef& ref, const Token* tokens, const MentionSpan& m) const {
    return ref.condition == TpRef::kAlways || holds(conditions_[ref.condition], tokens, m);
  }
  bool conditional() const { return !conditions_.empty(); }
  // Whether tokens [begin, end) hold a phrase of the file's `practice` list: words that name the
  // practice as a whole ("the office", "everyone else"), of which what is said is of no
  // touchpoint.
  bool names_practice(const Token* tokens, uint32_t begin, uint32_t end) const;

  // Parses a taxonomy file's text and adds its phrases to `trie`. Throws ConfigError
  // "name:line: message" on any error.
  static Taxonomy load(std::string_view text, std::string_view name, PhraseTrie& trie);

 private:
  bool holds(const Condition& c, const Token* tokens, const MentionSpan& m) const;
  // Calls found(list, end) for each context phrase starting at token `at` and ending at or
  // before `limit`; stops early when found returns true (and then returns true).
  template <class Found>
  bool walk(const Token* tokens, uint32_t at, uint32_t limit, Found&& found) const;
  bool any_in(const ContextSet& set, const Token* tokens, uint32_t lo, uint32_t hi,
              uint32_t skip_begin, uint32_t skip_end) const;

  std::vector<Condition> conditions_;
  ContextSet practice_;                  // the context lists of the `practice` key
  PhraseTrie context_;                   // context phrases; a node's tp_begin/tp_count index:
  std::vector<uint32_t> context_lists_;  // the lists a context phrase ending there belongs to
  friend class TaxonomyLoader;
};

}  // namespace repwatch::sentiment::detail
