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

}  // namespace

Lexicon load_lexicon(std::string_view text, std::string_view name, PhraseTrie& trie) {
  Lexicon out;
  std::vector<LexEntry>& lex = out.entries;
  std::string& lexicon_version = out.version;
  size_t pos = 0;
  uint32_t line_no = 0;
  auto fail = [&](const std::string& msg) -> void {
    throw ConfigError(std::string(name) + ":" + std::to_string(line_no) + ": " + msg);
  };
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string stripped(trim(line));
    if (stripped.empty() || stripped[0] == '#') {
      if (end == text.size()) break;
      continue;
    }
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
    if (fields.size() < 2) {
      fail("expected \"phrase<TAB>valence\" (fields separated by a TAB), got \"" + stripped + "\"");
    }
    const std::string& phrase = fields[0];
    const std::string& kind = fields[1];
    if (phrase == "version") {
      if (!lexicon_version.empty()) fail("a second version line");
      lexicon_version = kind;
      continue;
    }
    if (phrase.empty()) fail("empty phrase");
    std::vector<std::vector<uint64_t>> paths;
    try {
      paths = detail::parse_phrase(phrase);
    } catch (const std::invalid_argument& e) {
      fail("\"" + phrase + "\": " + e.what());
    }
    auto expect_fields = [&](size_t n) {
      if (fields.size() != n) {
        fail("\"" + phrase + "\": " + kind + " takes " + std::to_string(n) + " fields, got " +
             std::to_string(fields.size()));
      }
    };
    uint8_t flag = 0;
    LexEntry entry;
    entry.line = line_no;
    static const std::pair<const char*, uint8_t> kFlags[] = {
        {"stop:en", detail::kStopEn}, {"stop:es", detail::kStopEs},
        {"stop:it", detail::kStopIt}, {"stop:fr", detail::kStopFr},
        {"stop:de", detail::kStopDe}, {"number", detail::kNumberWord}};
    for (const auto& [name, f] : kFlags) {
      if (kind == name) flag = f;
    }
    if (flag) {
      expect_fields(2);
      for (const auto& p : paths) {
        if (p.size() != 1) fail("\"" + phrase + "\": " + kind + " entries must be one word");
      }
    } else if (kind == "negator" || kind == "negator-soft" || kind == "wish") {
      if (fields.size() == 3) {
        auto bare = parse_float(fields[2]);
        if (!bare || *bare < -5 || *bare > 5) {
          fail("\"" + phrase + "\": a negator's own valence must be a number in [-5, 5], got \"" +
               fields[2] + "\"");
        }
        entry.valence = *bare;
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
      auto amount = parse_float(fields[2]);
      if (!amount || *amount <= -1 || *amount > 3) {
        fail("\"" + phrase + "\": intensifier amount must be a number in (-1, 3], got \"" +
             fields[2] + "\"");
      }
      entry.kind = LexKind::kIntensifier;
      entry.amount = *amount;
    } else {
      auto valence = parse_float(kind);
      if (!valence) {
        fail("\"" + phrase +
             "\": expected a valence (number) or one of negator, negator-soft, "
             "intensifier, "
             "contrast, concession, number, stop:en|es|it|fr|de; got \"" +
             kind + "\"");
      }
      if (*valence < -5 || *valence > 5) fail("\"" + phrase + "\": valence out of [-5, 5]");
      if (fields.size() > 3) fail("\"" + phrase + "\": too many fields");
      entry.kind = LexKind::kTerm;
      entry.valence = *valence;
      entry.negated = *valence > 0 ? *valence * kNegatePositive : *valence * kNegateNegative;
      if (fields.size() == 3) {
        auto negated = parse_float(fields[2]);
        if (!negated || *negated < -5 || *negated > 5) {
          fail("\"" + phrase + "\": negated valence must be a number in [-5, 5], got \"" +
               fields[2] + "\"");
        }
        entry.negated = *negated;
      }
    }
    int32_t index = -1;
    if (flag == 0) {
      index = static_cast<int32_t>(lex.size());
      lex.push_back(entry);
    }
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
    if (end == text.size()) break;
  }
  if (lexicon_version.empty()) {
    line_no = 1;
    fail("missing the \"version<TAB>...\" line");
  }
  return out;
}

}  // namespace repwatch::sentiment::detail
