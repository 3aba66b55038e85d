// fuzz_reply_check: the reply checker on arbitrary bytes. A reply comes from a review site
// (anything at all), and a clinic's terms file is edited by hand. Input: the first byte picks
// the mode; then fields separated by 0x1F.
//   even: reply, review author, review text - checked with the shipped word lists
//   odd:  a terms file, then a reply - the file loads or fails with a ConfigError, and a file
//         that loads checks the reply
// Checks what the CLI, the alert email and the outbox rely on: findings in order, apart, inside
// the reply, equal to their spans, with at least one kind, most specific first; marked() adds
// only the markers; the fingerprint ignores white space; the same input gives the same result.
#include <algorithm>
#include <string>

#include "core/error.h"
#include "fuzz/fuzz.h"
#include "replies/checker.h"

namespace repwatch::fuzz::reply_check_target {
namespace {

void check_findings(std::string_view reply, const replies::Check& c) {
  uint64_t end = 0;
  for (const replies::Finding& f : c.findings) {
    FUZZ_CHECK(f.offset >= end, "finding at " + std::to_string(f.offset) + " overlaps");
    FUZZ_CHECK(f.length > 0, "empty finding at " + std::to_string(f.offset));
    FUZZ_CHECK(uint64_t{f.offset} + f.length <= reply.size(), "finding past the end");
    FUZZ_CHECK(reply.substr(f.offset, f.length) == f.phrase, "phrase differs from its span");
    FUZZ_CHECK(!f.kinds.empty(), "finding without a kind");
    FUZZ_CHECK(std::is_sorted(f.kinds.begin(), f.kinds.end()), "kinds out of order");
    end = uint64_t{f.offset} + f.length;
  }
  std::string marked = replies::marked(reply, c.findings, "\x01", "\x02");
  std::string plain;
  for (char ch : marked)
    if (ch != '\x01' && ch != '\x02') plain += ch;
  std::string original;
  for (char ch : reply)
    if (ch != '\x01' && ch != '\x02') original += ch;
  if (!c.truncated) FUZZ_CHECK(plain == original, "marked() changed the reply");
}

}  // namespace
}  // namespace repwatch::fuzz::reply_check_target

REPWATCH_FUZZ_TARGET(reply_check) {
  using namespace repwatch::fuzz::reply_check_target;
  using repwatch::replies::Checker;
  static const Checker shipped = Checker::builtin();
  if (size == 0) return 0;
  Fields fields(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    std::string reply = fields.next();
    repwatch::replies::ReviewContext review{fields.next(), fields.next()};
    repwatch::replies::Check c = shipped.check(reply, &review);
    check_findings(reply, c);
    repwatch::replies::Check again = shipped.check(reply, &review);
    FUZZ_CHECK(again.findings.size() == c.findings.size(), "a second check differs");
    std::string spaced;
    for (char ch : reply) spaced += ch == ' ' ? std::string("  ") : std::string(1, ch);
    FUZZ_CHECK(repwatch::replies::fingerprint(reply) == repwatch::replies::fingerprint(spaced),
               "fingerprint sees white space");
    check_findings(reply, shipped.check(reply));
    return 0;
  }
  std::string terms = fields.next();
  std::string reply = fields.next();
  try {
    Checker custom = Checker::from_text(terms, "fuzz.toml");
    check_findings(reply, custom.check(reply));
  } catch (const repwatch::ConfigError&) {
    // A terms file with a mistake: expected, and said with file and line.
  }
  return 0;
}
