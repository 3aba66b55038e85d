#include "sentiment/from_config.h"

namespace repwatch::sentiment {

Analyzer analyzer_for(const Config& config) {
  Settings s = config.section("sentiment");
  auto lexicon = s.path("lexicon");
  auto taxonomy = s.path("taxonomy");
  if (!lexicon && !taxonomy) return Analyzer::builtin();
  return Analyzer::load_or_builtin(lexicon.value_or(std::filesystem::path()),
                                   taxonomy.value_or(std::filesystem::path()));
}

}  // namespace repwatch::sentiment
