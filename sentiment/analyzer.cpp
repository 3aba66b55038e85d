// repwatch/sentiment/analyzer.cpp - the Analyzer's public side: loading the lexicon and the
// taxonomy (sentiment/lexicon.cpp, taxonomy.cpp) into one phrase trie, and the accessors. The
// analysis itself is in analyze.cpp and touchpoint_attribution.cpp (see analyzer_impl.h).
#include "sentiment/analyzer.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/hash.h"
#include "sentiment/analyzer_impl.h"
#include "sentiment/builtin_data.h"

namespace repwatch::sentiment {

namespace {

std::string read_file(const std::filesystem::path& file, std::string_view what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw ConfigError(file.string() + ": cannot open " + std::string(what) + " file");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Analyzer::Analyzer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;
Analyzer::~Analyzer() = default;

Analyzer Analyzer::from_text(std::string_view lexicon_text, std::string_view lexicon_name,
                             std::string_view taxonomy_text, std::string_view taxonomy_name) {
  auto impl = std::make_unique<Impl>();
  impl->lexicon = detail::load_lexicon(lexicon_text, lexicon_name, impl->trie);
  impl->taxonomy = detail::Taxonomy::load(taxonomy_text, taxonomy_name, impl->trie);
  impl->taxonomy_stamp = impl->taxonomy.version;
  if (impl->taxonomy_stamp.empty()) {
    // FNV-1a from a seed that is not FNV's offset basis (one digit short): stamps already
    // stored depend on it.
    const uint64_t h = fnv1a64(taxonomy_text, 1469598103934665603ull);
    char digest[16];
    std::snprintf(digest, sizeof digest, "#%012llx",
                  static_cast<unsigned long long>(h >> 16));  // 13 chars: no allocation per copy
    impl->taxonomy_stamp = digest;
  }
  impl->trie.build_root_index();
  impl->num_root = impl->trie.child(0, detail::kNumHash);
  impl->start_root = impl->trie.child(0, detail::kStartHash);
  return Analyzer(std::move(impl));
}

Analyzer Analyzer::load(const std::filesystem::path& lexicon_file,
                        const std::filesystem::path& taxonomy_file) {
  std::string lexicon = read_file(lexicon_file, "lexicon");  // in this order: errors too
  std::string taxonomy = read_file(taxonomy_file, "taxonomy");
  return from_text(lexicon, lexicon_file.string(), taxonomy, taxonomy_file.string());
}

Analyzer Analyzer::load_or_builtin(const std::filesystem::path& lexicon_file,
                                   const std::filesystem::path& taxonomy_file) {
  std::string lexicon = lexicon_file.empty() ? std::string(detail::kBuiltinLexicon)
                                             : read_file(lexicon_file, "lexicon");
  std::string taxonomy = taxonomy_file.empty() ? std::string(detail::kBuiltinTaxonomy)
                                               : read_file(taxonomy_file, "taxonomy");
  return from_text(lexicon, lexicon_file.empty() ? "builtin:lexicon.tsv" : lexicon_file.string(),
                   taxonomy,
                   taxonomy_file.empty() ? "builtin:taxonomy.toml" : taxonomy_file.string());
}

Analyzer Analyzer::builtin() { return load_or_builtin({}, {}); }

Analysis Analyzer::analyze(std::string_view text) const { return impl_->analyze(text); }

const std::vector<Touchpoint>& Analyzer::touchpoints() const { return impl_->taxonomy.touchpoints; }

const Touchpoint* Analyzer::find_touchpoint(std::string_view id) const {
  for (const Touchpoint& tp : impl_->taxonomy.touchpoints) {
    if (tp.id == id) return &tp;
  }
  return nullptr;
}

const std::string& Analyzer::lexicon_version() const { return impl_->lexicon.version; }
const std::string& Analyzer::taxonomy_version() const { return impl_->taxonomy_stamp; }

}  // namespace repwatch::sentiment
