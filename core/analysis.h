// repwatch/core/analysis.h - what sentiment/ says about a review.
//
// Explainable by construction: every score carries the words that produced it and every
// touchpoint the exact phrases of the review that put it there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace repwatch {

enum class Label { kNegative = -1, kNeutral = 0, kPositive = 1 };
const char* to_string(Label label);  // "negative", "neutral", "positive"

// A span of the review text: text.substr(offset, length) == phrase.
struct Evidence {
  std::string phrase;
  uint32_t offset = 0;
  uint32_t length = 0;
  bool operator==(const Evidence&) const = default;
};

// One touchpoint of the patient journey the review speaks of.
struct TouchpointResult {
  std::string touchpoint;          // id from the taxonomy, e.g. "billing"
  double score = 0;                // sentiment of the clauses that mention it, in [-1, 1]
  std::vector<Evidence> evidence;  // the phrases that mention it (capped per touchpoint)
  bool operator==(const TouchpointResult&) const = default;
};

struct Analysis {
  double score = 0;  // overall sentiment in [-1, 1]
  Label label = Label::kNeutral;
  std::string language;         // detected: "en", "es", ... or "" when unknown
  bool scored = true;           // false when the language is not supported (score 0)
  std::string lexicon_version;  // which lexicon produced it, for `repwatch rescore`
  std::string taxonomy_version;  // which taxonomy attributed its touchpoints, likewise
  std::vector<TouchpointResult> touchpoints;
  std::vector<Evidence> terms;  // the sentiment-bearing phrases that drove the score
  bool operator==(const Analysis&) const = default;
};

}  // namespace repwatch
