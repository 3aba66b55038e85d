// repwatch/replies/checker.h - does a practice's public reply to a review disclose patient
// information?
//
//   replies::Checker checker = replies::checker_for(config);  // or Checker::builtin()
//   replies::Check c = checker.check("Hi Darnell, we're sorry your root canal hurt.");
//   // c.findings: name "Darnell"; treatment "your root canal"
//   for (const replies::Finding& f : c.findings)
//     std::cout << checker.kind(f.kind).name << ": " << f.phrase << "\n";
//
// Why: HHS's Office for Civil Rights settled with Elite Dental Associates (2019, $10,000) and
// New Vision Dental (2022, $23,000) over replies on Yelp that disclosed reviewers' names,
// conditions, treatment, visits and insurance. The rule every healthcare reputation guide
// repeats: never confirm that the reviewer is a patient, never mention their condition,
// treatment, medication, visit dates, insurance or records - even what they wrote themselves;
// thank them, and take it offline. `repwatch reply-check` runs this on a draft, and the daemon's
// `reply_phi` alert on every reply the practice posts (alerts/engine.h).
//
// What it finds (the kinds, in the order the most specific wins when two overlap):
//   identifier    account, record, member or claim numbers; the patient's own phone number,
//                 email, address, birth date or user name
//   name          the reviewer's name or initials: after a greeting ("Hi Darnell"), a title
//                 ("Mrs. Okafor"), a comma ("Thank you, Jessica."), at the start of the reply
//                 ("Priya - ..."), a family member's ("your daughter Emma"); with the review
//                 known, any use of the author's first or last name or initials
//   medication    drug names, doses ("20 mg"), "your prescription", "the refill"
//   condition     conditions, diagnoses, symptoms and results ("your diabetes", "the biopsy
//                 came back benign", "we wish you a quick recovery")
//   treatment     procedures, tests, treatments, devices ("your root canal", "the X-rays",
//                 "the new glasses")
//   billing       insurance, claims, balances and amounts ("your balance of $240", "we billed
//                 Aetna", "the remaining balance")
//   date          dates and times of care ("on March 3rd", "last Tuesday", "your 2:30
//                 appointment", "yesterday morning"); with the review known, any date the
//                 review names, even where it would read as office news
//   relationship  anything that confirms (or denies) the reviewer is a patient: "your visit",
//                 "your chart", "as your doctor", "when you were here", "our records show",
//                 "dear valued patient", "we hope to see you again"
//
// How: the word lists come from a data file a clinic can edit (replies/reply_terms.toml,
// compiled in; [replies] terms = "..." names a clinic's copy). Each kind has phrases that are
// always findings, terms (a drug or procedure name) that are findings unless the sentence
// speaks in general ("we accept Medicare", "our doctors don't prescribe antibiotics for viral
// infections, to anyone"), and nouns (visit, bill, results) that are findings only when tied to
// the reader: "your visit", "the bill" (not "the billing process"), "the rash you described".
// Names, dates, times, amounts, phone numbers and emails are found by rules in code that the
// file tunes; a phone number or email that the reply invites the reader to use ("please call us
// at 555-0100") is the practice's own and fine. Ordinary empathy ("we're sorry your experience
// fell short") and an invitation to call are clean.
//
// What it cannot know: it reads words, not meaning. A name it has no clue for ("Thanks for the
// review Tyrone!" without the review), a made-up procedure name, or a disclosure in a language
// other than English pass unseen; docs/replies.md lists what is and is not caught and the
// measured precision and recall (bench/reply_check). A clean result means "nothing found", not
// "safe": read the reply once more.
//
// A Checker is immutable after construction and safe to share between threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace repwatch::replies {

enum class Kind : uint8_t {
  kIdentifier,
  kName,
  kMedication,
  kCondition,
  kTreatment,
  kBilling,
  kDate,
  kRelationship,
};
inline constexpr size_t kKindCount = 8;
// "identifier", "name", "medication", "condition", "treatment", "billing", "date",
// "relationship": the ids of reply_terms.toml and of --json.
const char* to_string(Kind kind);
std::optional<Kind> parse_kind(std::string_view id);

// What people read about a kind (from the terms file).
struct KindInfo {
  std::string name;  // "Patient's name or initials"
  std::string why;   // why it matters, with the OCR cases
  std::string hint;  // a plain rewrite hint
};

// One disclosure: a span of the reply.
struct Finding {
  std::vector<Kind> kinds;  // every kind found in these words, the most specific first
  uint32_t offset = 0;      // bytes into the reply
  uint32_t length = 0;
  std::string phrase;  // reply.substr(offset, length)
  // With a ReviewContext: does the review itself say it (its author or text has these words)?
  // Repeating it is still a disclosure; not repeating anything is the advice either way.
  std::optional<bool> in_review;

  Kind kind() const { return kinds.front(); }
};

// What the reply answers, when known (`repwatch reply-check --review ID`, the reply_phi
// alert): the author's name is then caught wherever it is used.
struct ReviewContext {
  std::string author;  // display name as the source shows it ("Darnell W.", "A Google User")
  std::string text;    // the review text
};

struct Check {
  std::vector<Finding> findings;  // in text order, not overlapping
  bool truncated = false;         // the reply was longer than kMaxTextBytes; the rest unread
  bool clean() const { return findings.empty(); }
  bool has(Kind kind) const;
};

class Checker {
 public:
  // Replies longer than this are checked up to here: review sites cap replies at a few
  // thousand characters, and this bounds the work a hostile source can ask for (~0.1 s).
  static constexpr size_t kMaxTextBytes = 64 * 1024;

  // The word lists shipped with repwatch (replies/reply_terms.toml, compiled in).
  static Checker builtin();
  // A clinic's copy. Throws ConfigError naming the file and line of a mistake.
  static Checker load(const std::filesystem::path& file);
  // From the file's contents; `name` is used in error messages ("name:line: ...").
  static Checker from_text(std::string_view text, std::string_view name);

  Checker(Checker&&) noexcept;
  Checker& operator=(Checker&&) noexcept;
  ~Checker();

  Check check(std::string_view reply, const ReviewContext* review = nullptr) const;

  const KindInfo& kind(Kind kind) const;
  const std::string& version() const;     // the file's `version`
  const std::string& safe_reply() const;  // the file's `safe_reply`: always safe to post

  struct Impl;

 private:
  explicit Checker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The checker a repwatch.toml asks for:
//   [replies]
//   terms = "/etc/repwatch/reply_terms.toml"   # optional: the shipped lists when left out
// Throws ConfigError for an unknown key in [replies] or a terms file that does not load.
Checker checker_for(const Config& config);

// The reply with every finding wrapped in `open` ... `close` ("[", "]"), e.g. for a terminal
// or a plain-text email. The reply's other bytes are copied as they are.
std::string marked(std::string_view reply, const std::vector<Finding>& findings,
                   std::string_view open, std::string_view close);

// A stable fingerprint of a reply's text (16 hex digits): the same for texts that differ only
// in white space, so a source that re-wraps a reply does not make it a new one.
std::string fingerprint(std::string_view reply);

}  // namespace repwatch::replies
