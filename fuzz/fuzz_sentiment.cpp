// fuzz_sentiment: the tokenizer and the analyzer on arbitrary bytes (review text is written by
// strangers: invalid UTF-8, NULs, huge words, emoji soup). Checks what the alert emails and the
// database rely on: scores in [-1, 1], every evidence span inside the text and equal to its
// phrase, spans on UTF-8 character boundaries, at most kMaxEvidence spans per touchpoint.
#include <cmath>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "fuzz/fuzz.h"
#include "sentiment/analyzer.h"
#include "sentiment/tokenizer.h"

namespace repwatch::fuzz::sentiment_target {
namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// A span [offset, offset + length) is a whole number of characters when the text around it is
// valid UTF-8: it does not start or end inside a multi-byte sequence.
void check_span(std::string_view text, uint32_t offset, uint32_t length, bool valid_utf8,
                const std::string& what) {
  FUZZ_CHECK(uint64_t{offset} + length <= text.size(),
             what + " span " + std::to_string(offset) + "+" + std::to_string(length) +
                 " past the end (" + std::to_string(text.size()) + ")");
  if (!valid_utf8) return;
  FUZZ_CHECK(offset == text.size() || !is_continuation(text[offset]),
             what + " starts inside a character at " + std::to_string(offset));
  size_t end = size_t{offset} + length;
  FUZZ_CHECK(end == text.size() || !is_continuation(text[end]),
             what + " ends inside a character at " + std::to_string(end));
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t len = c < 0x80                   ? 1
                 : (c >= 0xC2 && c <= 0xDF) ? 2
                 : (c >= 0xE0 && c <= 0xEF) ? 3
                 : (c >= 0xF0 && c <= 0xF4) ? 4
                                            : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if (!is_continuation(s[i + k])) return false;
    i += len;
  }
  return true;
}

void check_score(double v, const std::string& what) {
  FUZZ_CHECK(std::isfinite(v) && v >= -1.0 && v <= 1.0, what + " = " + std::to_string(v));
}

}  // namespace
}  // namespace repwatch::fuzz::sentiment_target

REPWATCH_FUZZ_TARGET(sentiment) {
  using repwatch::sentiment::Analyzer;
  static const Analyzer analyzer = Analyzer::builtin();
  std::string_view text = as_text(data, size);
  const bool valid = sentiment_target::is_valid_utf8(text);

  // Tokens: inside the text, in order, not overlapping.
  std::vector<repwatch::sentiment::detail::Token> tokens;
  repwatch::sentiment::detail::tokenize(text, tokens);
  uint64_t end = 0;
  for (const auto& t : tokens) {
    FUZZ_CHECK(t.offset >= end, "token at " + std::to_string(t.offset) + " overlaps the previous");
    FUZZ_CHECK(t.length > 0, "empty token at " + std::to_string(t.offset));
    sentiment_target::check_span(text, t.offset, t.length, valid, "token");
    end = uint64_t{t.offset} + t.length;
  }

  repwatch::Analysis a = analyzer.analyze(text);
  sentiment_target::check_score(a.score, "score");
  FUZZ_CHECK(a.terms.size() <= Analyzer::kMaxTerms, std::to_string(a.terms.size()) + " terms");
  for (const auto& e : a.terms) {
    sentiment_target::check_span(text, e.offset, e.length, valid, "term \"" + e.phrase + "\"");
    FUZZ_CHECK(text.substr(e.offset, e.length) == e.phrase, "term phrase differs from its span");
  }
  for (const auto& tp : a.touchpoints) {
    sentiment_target::check_score(tp.score, tp.touchpoint + " score");
    FUZZ_CHECK(!tp.evidence.empty(), tp.touchpoint + " without evidence");
    FUZZ_CHECK(tp.evidence.size() <= Analyzer::kMaxEvidence,
               tp.touchpoint + ": " + std::to_string(tp.evidence.size()) + " evidence spans");
    for (const auto& e : tp.evidence) {
      sentiment_target::check_span(text, e.offset, e.length, valid, tp.touchpoint + " evidence");
      FUZZ_CHECK(text.substr(e.offset, e.length) == e.phrase,
                 tp.touchpoint + " evidence phrase differs from its span");
    }
  }
  // Deterministic: the same text gives the same analysis (the analyzer keeps thread_local
  // scratch buffers between calls).
  FUZZ_CHECK(analyzer.analyze(text) == a, "second analysis differs");
  return 0;
}
