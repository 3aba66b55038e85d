// repwatch/core/analysis.h - what sentiment/ says about a review.
//
// Explainable by construction: every score carries the words that produced it and every
// touchpoint the exact phrases of the review that put it there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/review.h"

namespace repwatch {

enum class Label { kNegative = -1, kNeutral = 0, kPositive = 1 };
const char* to_string(Label label);  // "negative", "neutral", "positive"
// The label named by to_string() ("negative" -> kNegative); nullopt for anything else.
std::optional<Label> parse_label(std::string_view name);

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
  std::string language;          // detected: "en", "es", ... or "" when unknown
  bool scored = true;            // false when the language is not supported (score 0)
  std::string lexicon_version;   // which lexicon produced it, for `repwatch rescore`
  std::string taxonomy_version;  // which taxonomy attributed its touchpoints, likewise
  std::vector<TouchpointResult> touchpoints;
  std::vector<Evidence> terms;  // the sentiment-bearing phrases that drove the score
  // Which text the spans (terms, evidence) point into: false = Review::text, the reviewer's own
  // words; true = Review::translated_text, the translation the source supplied (see
  // analyze_review()).
  bool on_translation = false;
  bool operator==(const Analysis&) const = default;
};

// The text of `review` that `analysis` was made from (its spans point into it).
inline const std::string& analyzed_text(const Review& review, const Analysis& analysis) {
  return analysis.on_translation ? review.translated_text : review.text;
}

// Analyses a review with `analyze` (sentiment::Analyzer::analyze: Analysis(std::string_view)).
// The reviewer's own words are analysed, unless the source supplied a translation that is in a
// language the analyzer scores (Google's English for a Spanish review): then the translation is,
// `on_translation` is set, and `language` is the original's (as the source gave it, else as
// detected). A translation the analyzer does not score (into another language) is ignored, and
// so is any translation when the source says the original is in a language the analyzer scores
// and the analyzer agrees (a short translation into Spanish may read as English).
template <typename Analyze>
Analysis analyze_review(const Review& review, Analyze&& analyze) {
  if (review.translated_text.empty()) return analyze(std::string_view(review.text));
  std::optional<Analysis> original;
  if (!review.language.empty()) {
    original = analyze(std::string_view(review.text));
    const std::string_view said(review.language);
    if (original->scored && !original->language.empty() &&
        said.substr(0, said.find_first_of("-_")) == original->language)
      return *original;
  }
  Analysis a = analyze(std::string_view(review.translated_text));
  if (a.scored && !a.language.empty()) {
    a.on_translation = true;
    a.language = !review.language.empty() ? review.language
                                          : analyze(std::string_view(review.text)).language;
    return a;
  }
  return original ? std::move(*original) : analyze(std::string_view(review.text));
}

}  // namespace repwatch
