// repwatch/sentiment/analyzer.h - explainable keyword sentiment and patient-journey touchpoints.
//
//   Analyzer analyzer = Analyzer::load(lexicon_file, taxonomy_file);  // or Analyzer::builtin()
//   Analysis a = analyzer.analyze("The doctor was great but billing was a nightmare.");
//   // a.label == kNegative or kNeutral; a.touchpoints: physician +, billing - with evidence
//
// An Analyzer is immutable after construction and safe to share between threads.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"

namespace repwatch::sentiment {

// One touchpoint of the patient journey, from the taxonomy file.
struct Touchpoint {
  std::string id;                    // "billing"
  std::string name;                  // "Billing and insurance"
  std::vector<std::string> phrases;  // words and multi-word phrases that mention it
  std::string owner;                 // email of the accountable staff member, may be ""
  std::optional<double> standard;    // the average sentiment/rating it must stay above
  // Its phrases name people (the doctor, the nurse, the receptionist): a sentence that begins
  // with "he" or "she" and names no touchpoint speaks of it, when it is the only such
  // touchpoint the sentence before spoke of ("Dr. Patel is new. She never listened.").
  bool people = false;
};

class Analyzer {
 public:
  // Loads the lexicon and taxonomy files. Throws ConfigError naming file and line.
  static Analyzer load(const std::filesystem::path& lexicon_file,
                       const std::filesystem::path& taxonomy_file);
  // The lexicon and default taxonomy shipped with repwatch (compiled in).
  static Analyzer builtin();
  // Like load(), but an empty path means the compiled-in file: a clinic's own taxonomy with
  // the shipped lexicon is load_or_builtin({}, "/etc/repwatch/taxonomy.toml").
  static Analyzer load_or_builtin(const std::filesystem::path& lexicon_file,
                                  const std::filesystem::path& taxonomy_file);
  // From the files' contents; the names are used in error messages ("name:line: ...").
  static Analyzer from_text(std::string_view lexicon_text, std::string_view lexicon_name,
                            std::string_view taxonomy_text, std::string_view taxonomy_name);

  // Labels: score <= kNegativeBelow -> negative, score >= kPositiveFrom -> positive, else
  // neutral. See docs/sentiment.md for how they were chosen.
  static constexpr double kNegativeBelow = -0.05;
  static constexpr double kPositiveFrom = 0.05;
  // At most this many evidence spans per touchpoint (mentions and sentiment terms, in text
  // order) and this many terms per analysis.
  static constexpr size_t kMaxEvidence = 6;
  static constexpr size_t kMaxTerms = 24;
  // Text beyond this many bytes is not analyzed (reviews are far shorter).
  static constexpr size_t kMaxTextBytes = 1 << 20;

  Analyzer(Analyzer&&) noexcept;
  Analyzer& operator=(Analyzer&&) noexcept;
  ~Analyzer();

  Analysis analyze(std::string_view text) const;

  const std::vector<Touchpoint>& touchpoints() const;
  // The touchpoint with this id, nullptr when the taxonomy has none.
  const Touchpoint* find_touchpoint(std::string_view id) const;
  const std::string& lexicon_version() const;
  // The taxonomy's `version` key; for a file without one, "#" and 12 hex digits of a digest of
  // its content. Stored with every analysis (Analysis::taxonomy_version).
  const std::string& taxonomy_version() const;

  struct Impl;

 private:
  explicit Analyzer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace repwatch::sentiment
