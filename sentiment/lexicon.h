// repwatch/sentiment/lexicon.h - the sentiment lexicon (lexicon.tsv): terms with their valence,
// negators, wishes, intensifiers, contrast words, number words and stop words, loaded into the
// phrase trie the analyzer matches with. Internal to sentiment/; the file format is documented
// at the top of sentiment/lexicon.tsv and in docs/sentiment.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sentiment/phrase_trie.h"

namespace repwatch::sentiment::detail {

enum class LexKind : uint8_t {
  kTerm,
  kNegator,
  kSoftNegator,  // "never": no negation when an intensifier stands between ("never so good")
  kWish,         // "should be", "more", "arrive": negates a positive term only ("be on time")
  kIntensifier,
  kContrast,
  kConcession,
};

struct LexEntry {
  LexKind kind = LexKind::kTerm;
  float valence = 0;  // kTerm; a negator's or wish's own valence when it negates nothing
  float negated = 0;  // kTerm: valence when negated
  float amount = 0;   // kIntensifier
  uint32_t line = 0;  // in the lexicon file, for messages
};

// A negated term without a negated valence of its own: "not friendly" 2.2 -> -1.65,
// "not rude" -2.8 -> 1.4.
constexpr float kNegatePositive = -0.75f;
constexpr float kNegateNegative = -0.5f;

struct Lexicon {
  std::vector<LexEntry> entries;  // TrieNode::lex indexes this
  std::string version;            // the required "version" line
};

// Parses a lexicon file's text and adds its phrases to `trie` (TrieNode::lex, stop-word and
// number-word flags). Throws ConfigError "name:line: message" on any error.
Lexicon load_lexicon(std::string_view text, std::string_view name, PhraseTrie& trie);

}  // namespace repwatch::sentiment::detail
