#include "sentiment/from_config.h"

namespace repwatch::sentiment {

Analyzer analyzer_for(const Config& config) {
  Settings s = config.section("sentiment");
  // A file that is missing or unreadable is a mistake of its key, "repwatch.toml:40:
  // sentiment.taxonomy: cannot read ...", like every other; what is wrong inside a file is
  // reported with that file's own name and line.
  bool named = s.has("lexicon") || s.has("taxonomy");
  auto lexicon = s.readable_path("lexicon");
  auto taxonomy = s.readable_path("taxonomy");
  if (named && !lexicon && !taxonomy) {
    // Both named and neither readable (recorded, in collecting mode): nothing to load.
    s.fail(s.has("taxonomy") ? "taxonomy" : "lexicon", "cannot be read");
  }
  if (!lexicon && !taxonomy) return Analyzer::builtin();
  return Analyzer::load_or_builtin(lexicon.value_or(std::filesystem::path()),
                                   taxonomy.value_or(std::filesystem::path()));
}

}  // namespace repwatch::sentiment
