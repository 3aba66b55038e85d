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
};

class Analyzer {
 public:
  // Loads the lexicon and taxonomy files. Throws ConfigError naming file and line.
  static Analyzer load(const std::filesystem::path& lexicon_file,
                       const std::filesystem::path& taxonomy_file);
  // The lexicon and default taxonomy shipped with repwatch (compiled in).
  static Analyzer builtin();

  Analyzer(Analyzer&&) noexcept;
  Analyzer& operator=(Analyzer&&) noexcept;
  ~Analyzer();

  Analysis analyze(std::string_view text) const;

  const std::vector<Touchpoint>& touchpoints() const;
  const std::string& lexicon_version() const;

  struct Impl;

 private:
  explicit Analyzer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace repwatch::sentiment
