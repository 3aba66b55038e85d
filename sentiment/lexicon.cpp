#include "sentiment/lexicon.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "core/error.h"
#include "core/text.h"

namespace repwatch::sentiment::detail {
namespace {

std::optional<float> parse_float(std::string_view s) {
  std::string t(trim(s));
  if (!t.empty() && t[0] == '+') t.erase(0, 1);
  float v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size() || t.empty() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

// A line's failure: throws ConfigError "name:line: message".
struct LineError {
  std::string_view name;
  uint32_t line_no = 0;
  [[noreturn]] void operator()(const std::string& msg) const {
    throw ConfigError(std::string(name) + ":" + std::to_string(line_no) + ": " + msg);
  }
};

// The TAB-separated fields of a line, trimmed, without trailing empty ones.
std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> fields;
  size_t fpos = 0;
  while (true) {
    size_t fend = line.find('\t', fpos);
    if (fend == std::string_view::npos) {
      fields.emplace_back(trim(line.substr(fpos)));
      break;
    }
    fields.emplace_back(trim(line.substr(fpos, fend - fpos)));
    fpos = fend + 1;
  }
  while (!fields.empty() && fields.back().empty()) fields.pop_back();
  return fields;
}

// The trie flag a kind sets ("stop:en", "number", ...), 0 for the kinds that are entries.
uint8_t flag_of(const std::string& kind) {
  static const std::pair<const char*, uint8_t> kFlags[] = {
      {"stop:en", detail::kStopEn}, {"stop:es", detail::kStopEs}, {"stop:it", detail::kStopIt},
      {"stop:fr", detail::kStopFr}, {"stop:de", detail::kStopDe}, {"number", detail::kNumberWord}};
  uint8_t flag = 0;
  for (const auto& [name, f] : kFlags) {
    if (kind == name) flag = f;
  }
  return flag;
}

// A number field in [lo, hi] (lo itself excluded when `open_lo`), or the failure `what`.
float number_field(const std::string& field, float lo, float hi, bool open_lo,
                   const std::string& what, const LineError& fail) {
  auto v = parse_float(field);
  if (!v || (open_lo ? *v <= lo : *v < lo) || *v > hi) fail(what + ", got \"" + field + "\"");
  return *v;
}

// The entry of a line whose kind is not a flag: `fields` are phrase, kind and what the kind
// takes (a negator's own valence, an intensifier's amount, a term's negated valence).
LexEntry parse_entry(const std::vector<std::string>& fields, const LineError& fail) {
  const std::string& phrase = fields[0];
  const std::string& kind = fields[1];
  const std::string quoted = "\"" + phrase + "\": ";
  auto expect_fields = [&](size_t n) {
    if (fields.size() != n) {
      fail(quoted + kind + " takes " + std::to_string(n) + " fields, got " +
           std::to_string(fields.size()));
    }
  };
  LexEntry entry;
  entry.line = fail.line_no;
  if (kind == "negator" || kind == "negator-soft" || kind == "wish") {
    if (fields.size() == 3) {
      entry.valence =
          number_field(fields[2], -5, 5, false,
                       quoted + "a negator's own valence must be a number in [-5, 5]", fail);
    } else {
      expect_fields(2);
    }
    entry.kind = kind == "negator"        ? LexKind::kNegator
                 : kind == "negator-soft" ? LexKind::kSoftNegator
                                          : LexKind::kWish;
  } else if (kind == "contrast") {
    expect_fields(2);
    entry.kind = LexKind::kContrast;
  } else if (kind == "concession") {
    expect_fields(2);
    entry.kind = LexKind::kConcession;
  } else if (kind == "intensifier") {
    expect_fields(3);
    entry.kind = LexKind::kIntensifier;
    entry.amount = number_field(fields[2], -1, 3, true,
                                quoted + "intensifier amount must be a number in (-1, 3]", fail);
  } else {
    auto valence = parse_float(kind);
    if (!valence) {
      fail(quoted +
           "expected a valence (number) or one of negator, negator-soft, intensifier, contrast, "
           "concession, number, stop:en|es|it|fr|de; got \"" +
           kind + "\"");
    }
    if (*valence < -5 || *valence > 5) fail(quoted + "valence out of [-5, 5]");
    if (fields.size() > 3) fail(quoted + "too many fields");
    entry.kind = LexKind::kTerm;
    entry.valence = *valence;
    entry.negated = *valence > 0 ? *valence * kNegatePositive : *valence * kNegateNegative;
    if (fields.size() == 3) {
      entry.negated = number_field(fields[2], -5, 5, false,
                                   quoted + "negated valence must be a number in [-5, 5]", fail);
    }
  }
  return entry;
}

// Adds the paths of a phrase to the trie, ending in lexicon entry `index` or, for a flag line,
// setting `flag` on each path's node.
void add_paths(const std::vector<std::vector<uint64_t>>& paths, uint8_t flag, int32_t index,
               const std::string& phrase, const std::vector<LexEntry>& lex, PhraseTrie& trie,
               const LineError& fail) {
  for (const auto& path : paths) {
    uint32_t node = 0;
    for (uint64_t h : path) node = trie.add_child(node, h);
    auto& n = trie.node(node);
    if (flag) {
      n.flags |= flag;
    } else if (n.lex >= 0 && n.lex != index) {
      fail("\"" + phrase + "\": already defined on line " + std::to_string(lex[n.lex].line));
    } else {
      n.lex = index;
    }
  }
}

}  // namespace

Lexicon load_lexicon(std::string_view text, std::string_view name, PhraseTrie& trie) {
  Lexicon out;
  std::vector<LexEntry>& lex = out.entries;
  size_t pos = 0;
  LineError fail{name};
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++fail.line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string stripped(trim(line));
    if (stripped.empty() || stripped[0] == '#') {
      if (end == text.size()) break;
      continue;
    }
    const std::vector<std::string> fields = split_fields(line);
    if (fields.size() < 2) {
      fail("expected \"phrase<TAB>valence\" (fields separated by a TAB), got \"" + stripped + "\"");
    }
    const std::string& phrase = fields[0];
    const std::string& kind = fields[1];
    if (phrase == "version") {
      if (!out.version.empty()) fail("a second version line");
      out.version = kind;
      continue;
    }
    if (phrase.empty()) fail("empty phrase");
    std::vector<std::vector<uint64_t>> paths;
    try {
      paths = detail::parse_phrase(phrase);
    } catch (const std::invalid_argument& e) {
      fail("\"" + phrase + "\": " + e.what());
    }
    const uint8_t flag = flag_of(kind);
    int32_t index = -1;
    if (flag) {
      if (fields.size() != 2) {
        fail("\"" + phrase + "\": " + kind + " takes 2 fields, got " +
             std::to_string(fields.size()));
      }
      for (const auto& p : paths) {
        if (p.size() != 1) fail("\"" + phrase + "\": " + kind + " entries must be one word");
      }
    } else {
      index = static_cast<int32_t>(lex.size());
      lex.push_back(parse_entry(fields, fail));
    }
    add_paths(paths, flag, index, phrase, lex, trie, fail);
    if (end == text.size()) break;
  }
  if (out.version.empty()) {
    fail.line_no = 1;
    fail("missing the \"version<TAB>...\" line");
  }
  return out;
}

}  // namespace repwatch::sentiment::detail
