// Tests of replies/checker.h: each kind of disclosure the issue and the OCR guidance name is
// found, ordinary empathy and an invitation to call are clean, generic uses of the trigger words
// are clean, the review's author is caught with the review known, and the terms file is a data
// file a clinic can edit (syntax, errors with file:line, [replies] terms in the config).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "core/error.h"
#include "replies/checker.h"
#include "replies/terms.h"

namespace repwatch::replies {
namespace {

namespace fs = std::filesystem;

const Checker& checker() {
  static const Checker c = Checker::builtin();
  return c;
}

// "kind \"phrase\"; ..." for messages and exact expectations.
std::string describe(const Check& c) {
  std::string s;
  for (const Finding& f : c.findings) {
    if (!s.empty()) s += "; ";
    s += std::string(to_string(f.kind())) + " \"" + f.phrase + "\"";
  }
  return s;
}

bool finds(std::string_view reply, Kind kind, const ReviewContext* review = nullptr) {
  return checker().check(reply, review).has(kind);
}

TEST(RepliesChecker, EachKindOfTheIssueIsFound) {
  struct Case {
    const char* reply;
    Kind kind;
  };
  const Case cases[] = {
      {"Hi Darnell, we are sorry to hear this.", Kind::kName},
      {"Dear Mrs. Alvarez, thank you for writing.", Kind::kName},
      {"Thank you for the kind words, Jessica!", Kind::kName},
      {"Hello K.T., please give us a call.", Kind::kName},
      {"We're sorry your visit was not what you hoped for.", Kind::kRelationship},
      {"We looked at your chart and everything was done correctly.", Kind::kRelationship},
      {"As your doctor, I take this seriously.", Kind::kRelationship},
      {"When you were here we explained the wait.", Kind::kRelationship},
      {"Our records show you cancelled twice.", Kind::kRelationship},
      {"We hope your diabetes is under control now.", Kind::kCondition},
      {"We're glad the biopsy came back benign.", Kind::kCondition},
      {"We're sorry the extraction was painful.", Kind::kTreatment},
      {"Your MRI results were sent to the specialist.", Kind::kTreatment},
      {"We could not refill the oxycodone early.", Kind::kMedication},
      {"Your prescription is ready at the pharmacy.", Kind::kMedication},
      {"Your appointment on March 3rd started on time.", Kind::kDate},
      {"We're sorry about the wait last Tuesday.", Kind::kDate},
      {"We apologize that your 2:30 appointment ran late.", Kind::kDate},
      {"Your balance of $240 is from the deductible.", Kind::kBilling},
      {"Your insurance denied the claim.", Kind::kBilling},
      {"Please quote account #448213 when you call.", Kind::kIdentifier},
      {"We called you at 555-0199 twice.", Kind::kIdentifier},
      {"We sent the forms to jdoe1982@gmail.com.", Kind::kIdentifier},
  };
  for (const Case& c : cases) {
    Check check = checker().check(c.reply);
    EXPECT_TRUE(check.has(c.kind))
        << c.reply << " -> " << describe(check) << " (expected " << to_string(c.kind) << ")";
  }
}

TEST(RepliesChecker, EmpathyAndAnInvitationToCallAreClean) {
  const char* clean[] = {
      "Thank you for taking the time to share your feedback. We're sorry to hear your experience "
      "fell short. Please call our office manager at (555) 010-4477 so we can make it right.",
      "We take every concern seriously, but privacy law keeps us from discussing anyone's care "
      "online. Please contact us at feedback@clinic.example.",
      "Thank you so much for the kind words! We'll share them with the whole team.",
      "Hello, and thank you for your review. We'd welcome the chance to talk by phone.",
      "Thank you for your feedback.\n\nSincerely,\nDr. Priya Shah\nMedical Director",
      checker().safe_reply().c_str(),
  };
  for (const char* reply : clean) {
    Check c = checker().check(reply);
    EXPECT_TRUE(c.clean()) << reply << " -> " << describe(c);
  }
}

TEST(RepliesChecker, GenericUsesOfTheTriggerWordsAreClean) {
  // The practice's billing process versus the reviewer's balance; insurance in general versus
  // their insurance; office hours versus a date of care; the practice's number versus theirs.
  const char* clean[] = {
      "We value your feedback about our billing process.",
      "Our billing team can answer questions about any bill at 555-0150.",
      "We accept most insurance plans, including Medicare and Medicaid.",
      "Prescription refill requests can be sent through our patient portal.",
      "Our office hours are Monday through Friday, 8 am to 5 pm.",
      "We expect the parking garage to reopen on June 1.",
      "Our doctors do not prescribe antibiotics for viral infections, for anyone.",
      "Everyone deserves clear answers about costs before any procedure.",
      "Please ask for Maria, our practice manager, at 555-0188.",
  };
  for (const char* reply : clean) {
    Check c = checker().check(reply);
    EXPECT_TRUE(c.clean()) << reply << " -> " << describe(c);
  }
  EXPECT_TRUE(finds("Your balance of $240 is due.", Kind::kBilling));
  EXPECT_TRUE(finds("We billed your insurance twice.", Kind::kBilling));
  EXPECT_TRUE(finds("We're sorry about the wait on Tuesday.", Kind::kDate));
  EXPECT_TRUE(finds("We have your cell number as (555) 201-8841.", Kind::kIdentifier));
}

TEST(RepliesChecker, TemplatesOfTheGuidesAreClean) {
  const char* clean[] = {
      "Thank you for your review. We appreciate your feedback and are always looking for ways "
      "to improve the patient experience.",
      "We're sorry to hear about your experience. At Smile Dental we strive to provide excellent "
      "care to all of our patients. Please contact our office manager, Jennifer, at (555) "
      "123-4567 so we can discuss your concerns.",
      "Per federal privacy law (HIPAA), we are unable to confirm or deny whether any individual "
      "is a patient of our practice.",
      "We take pride in our work and would welcome the opportunity to discuss your concerns. "
      "Call us anytime Monday-Friday 8-5.",
      "We hear you. Dental anxiety is very common, and our team offers several options to help "
      "nervous patients feel comfortable.",
      "Please note that our office will be closed on Monday, May 27 for Memorial Day.",
      "Dr. Smith is out of the office until next week, and will call you on Monday.",
      "Reviews like this help us improve our billing and scheduling processes.",
      "Sorry for the confusion! The new patient portal launched in January.",
  };
  for (const char* reply : clean) {
    Check c = checker().check(reply);
    EXPECT_TRUE(c.clean()) << reply << " -> " << describe(c);
  }
  struct Case {
    const char* reply;
    Kind kind;
  };
  const Case unsafe[] = {
      {"Mrs. Garcia, as discussed, your son needs a referral.", Kind::kRelationship},
      {"We're so proud of you for quitting smoking!", Kind::kCondition},
      {"We're sorry we could not see you on Tuesday.", Kind::kDate},
      {"Our hygienist noted that you declined x-rays at your last cleaning.", Kind::kTreatment},
      {"Your mother's Alzheimer's diagnosis is something we take seriously.", Kind::kCondition},
      {"We hope you feel better soon.", Kind::kCondition},
  };
  for (const Case& c : unsafe) {
    Check check = checker().check(c.reply);
    EXPECT_TRUE(check.has(c.kind)) << c.reply << " -> " << describe(check);
  }
}

TEST(RepliesChecker, TheReviewMakesTheAuthorsNameAFinding) {
  ReviewContext review{"Tyrone B.", "Waited ninety minutes on the 19th for a cleaning."};
  const char* reply = "Thanks for the review Tyrone! We apologize for the 19th.";
  Check without = checker().check(reply);
  EXPECT_FALSE(without.has(Kind::kName)) << describe(without);
  Check with = checker().check(reply, &review);
  ASSERT_TRUE(with.has(Kind::kName)) << describe(with);
  for (const Finding& f : with.findings) {
    ASSERT_TRUE(f.in_review.has_value());
    EXPECT_TRUE(*f.in_review) << f.phrase << ": the review says it too";
  }
  EXPECT_TRUE(with.has(Kind::kDate));

  // A real name where the reviewer used a screen name is new information (New Vision Dental).
  ReviewContext moniker{"kbrooks88", "Rude receptionist."};
  Check named = checker().check("Ms. Brooks, we would like to talk.", &moniker);
  ASSERT_EQ(named.findings.size(), 1u) << describe(named);
  EXPECT_EQ(named.findings[0].kind(), Kind::kName);
  EXPECT_EQ(named.findings[0].in_review, false);

  // A date the review names is the day of the visit, even where a date would read as news.
  const char* news = "Our office closed early on the 19th because of a power cut.";
  EXPECT_TRUE(checker().check(news).clean()) << describe(checker().check(news));
  EXPECT_TRUE(checker().check(news, &review).has(Kind::kDate));

  // A first name that is an ordinary word counts only as a name.
  ReviewContext hope{"Hope Martinez", "Long wait."};
  EXPECT_TRUE(checker().check("We hope to hear from you soon. Hope you call us.", &hope).clean());
  EXPECT_TRUE(finds("We are sorry, Hope. Please call us.", Kind::kName, &hope));
  // Anonymous authors are nobody's name.
  ReviewContext anon{"A Google User", "Bad."};
  EXPECT_TRUE(checker().check("Thank you, we hear you. A Google review matters.", &anon).clean());
}

TEST(RepliesChecker, FindingsAreSpansOfTheReply) {
  std::string reply = "Hi Darnell, we’re sorry your root canal on the 19th hurt. – Dr. Ortiz";
  Check c = checker().check(reply);
  ASSERT_GE(c.findings.size(), 3u) << describe(c);
  uint32_t end = 0;
  for (const Finding& f : c.findings) {
    EXPECT_GE(f.offset, end) << "findings do not overlap and are in order";
    EXPECT_EQ(reply.substr(f.offset, f.length), f.phrase);
    end = f.offset + f.length;
  }
  EXPECT_EQ(marked(reply, c.findings, "[", "]"),
            "Hi [Darnell], we’re sorry [your root canal] on [the 19th] hurt. – Dr. Ortiz");
}

TEST(RepliesChecker, OverlappingKindsBecomeOneFindingMostSpecificFirst) {
  Check c = checker().check("We apologize that your 2:30 appointment started late.");
  ASSERT_EQ(c.findings.size(), 1u) << describe(c);
  EXPECT_EQ(c.findings[0].phrase, "your 2:30 appointment");
  EXPECT_EQ(c.findings[0].kinds, (std::vector<Kind>{Kind::kDate, Kind::kRelationship}));
}

TEST(RepliesChecker, OddTextNeverBreaksIt) {
  std::string junk = "Hi \xff\xfe Darnell,\x01 your\xc3 visit \xe2\x80";
  Check c = checker().check(junk);
  for (const Finding& f : c.findings) EXPECT_EQ(junk.substr(f.offset, f.length), f.phrase);
  EXPECT_TRUE(checker().check("").clean());
  EXPECT_TRUE(checker().check("...,,,!!! ??? - -- ( ) $ # @").clean());

  std::string longer(Checker::kMaxTextBytes + 100, 'a');
  longer.replace(0, 20, "Your visit was fine ");
  Check big = checker().check(longer);
  EXPECT_TRUE(big.truncated);
  EXPECT_TRUE(big.has(Kind::kRelationship));
}

TEST(RepliesChecker, FingerprintIgnoresWhiteSpaceOnly) {
  EXPECT_EQ(fingerprint("We are  sorry,\nplease call."),
            fingerprint(" We are sorry, please call. "));
  EXPECT_NE(fingerprint("We are sorry, please call."), fingerprint("We are sorry, please call!"));
  EXPECT_EQ(fingerprint("x").size(), 16u);
}

// ---- the terms file ------------------------------------------------------------------------

// A whole terms file: every kind with a name, why and hint, plus `extra` lines in [[kind]]
// relationship (which comes last, so its keys can be appended).
std::string terms_file(const std::string& extra, const std::string& top = "") {
  std::string s = "version = \"clinic-1\"\n" + top + "\n";
  for (const char* id :
       {"name", "condition", "treatment", "medication", "date", "billing", "identifier"})
    s += std::string("[[kind]]\nid = \"") + id + "\"\nname = \"N\"\nwhy = \"W\"\nhint = \"H\"\n";
  s += "[[kind]]\nid = \"relationship\"\nname = \"Relationship\"\nwhy = \"W\"\nhint = \"H\"\n" +
       extra;
  return s;
}

std::string load_error(const std::string& text) {
  try {
    Checker::from_text(text, "clinic_terms.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(RepliesTerms, PhraseSyntax) {
  Checker c = Checker::from_text(
      terms_file("phrases = [\"we (saw|took care of) you\", \"chart* note|notes\", "
                 "\"<num> visits\", \"dear ? member\", \"see you ... again\"]\n"),
      "t.toml");
  EXPECT_EQ(c.version(), "clinic-1");
  EXPECT_EQ(c.kind(Kind::kRelationship).name, "Relationship");
  for (const char* hit : {"We saw you.", "We took care of you.", "Charting notes are done.",
                          "After 3 visits it helped.", "Dear valued member,", "Charted notes.",
                          "We hope to see you and your family again."})
    EXPECT_TRUE(c.check(hit).has(Kind::kRelationship)) << hit;
  for (const char* miss : {"We took care.", "Chat note.", "See you.", "Dear member,",
                           "see you one two three four again"})
    EXPECT_FALSE(c.check(miss).has(Kind::kRelationship)) << miss;
}

TEST(RepliesTerms, NounsNeedTheReader) {
  Checker c =
      Checker::from_text(terms_file("nouns = [\"visit\"]\n",
                                    "[anchors]\npossessive = [\"your\"]\ndefinite = [\"the\"]\n"
                                    "generic_heads = [\"policy\"]\nafter = [\"you had\"]\n"),
                         "t.toml");
  EXPECT_TRUE(c.check("Your recent visit").has(Kind::kRelationship));
  EXPECT_TRUE(c.check("The visit ran late").has(Kind::kRelationship));
  EXPECT_TRUE(c.check("A visit you had").has(Kind::kRelationship));
  EXPECT_FALSE(c.check("A visit is easy to book").has(Kind::kRelationship));
  EXPECT_FALSE(c.check("The visit policy changed").has(Kind::kRelationship));
  EXPECT_FALSE(c.check("Your concerns about a visit").has(Kind::kRelationship));
}

TEST(RepliesTerms, MistakesNameFileAndLine) {
  EXPECT_EQ(load_error(terms_file("phrases = [\"ok\", \"bad (group\"]\n")),
            "clinic_terms.toml:43: kind.relationship.phrases: \"bad (group\": a '(' without "
            "its ')'");
  EXPECT_NE(load_error(terms_file("colour = \"blue\"\n"))
                .find("clinic_terms.toml:43: "
                      "kind.relationship.colour: "
                      "unknown key"),
            std::string::npos);
  EXPECT_NE(load_error(terms_file("", "[anchors]\nposessive = [\"your\"]\n"))
                .find("clinic_terms.toml:3: anchors.posessive: unknown key"),
            std::string::npos);
  EXPECT_NE(load_error(terms_file("terms = [\"a*\"]\n")).find("at least 3 letters"),
            std::string::npos);
  EXPECT_NE(load_error(terms_file("phrases = [\"... your\"]\n")).find("cannot start or end"),
            std::string::npos);
  EXPECT_NE(load_error(terms_file("phrases = [\"x|(a b)\"]\n")).find("empty alternative"),
            std::string::npos);
  EXPECT_NE(load_error("version = \"1\"\n[[kind]]\nid = \"names\"\nname = \"x\"\n")
                .find("clinic_terms.toml:3: kind[0].id: unknown kind \"names\""),
            std::string::npos);
  EXPECT_NE(load_error("version = \"1\"\n[[kind]]\nid = \"name\"\nname = \"x\"\nwhy = \"y\"\n"
                       "hint = \"z\"\n")
                .find("clinic_terms.toml:2: no [[kind]] with id = \"identifier\""),
            std::string::npos);
  EXPECT_NE(load_error("version = \"1\"\nkind = [").find("clinic_terms.toml:2: "),
            std::string::npos);
}

TEST(RepliesTerms, TheShippedFileLoadsAndEveryKindHasItsTexts) {
  for (size_t k = 0; k < kKindCount; ++k) {
    const KindInfo& info = checker().kind(static_cast<Kind>(k));
    EXPECT_FALSE(info.name.empty());
    EXPECT_FALSE(info.why.empty());
    EXPECT_FALSE(info.hint.empty());
    EXPECT_EQ(parse_kind(to_string(static_cast<Kind>(k))), static_cast<Kind>(k));
  }
  // The copy in the source tree is the one compiled in.
  std::ifstream in(fs::path(REPWATCH_SOURCE_DIR) / "replies" / "reply_terms.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, detail::kBuiltinTerms);
}

TEST(RepliesTerms, TheConfigNamesAClinicsCopy) {
  fs::path dir =
      fs::temp_directory_path() / ("repwatch_replies_terms_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "terms.toml") << terms_file("phrases = [\"our favourite patient\"]\n");
  Config config =
      parse_config("state_dir = \"" + dir.string() + "\"\n[replies]\nterms = \"terms.toml\"\n",
                   dir / "repwatch.toml");
  Checker c = checker_for(config);
  EXPECT_EQ(c.version(), "clinic-1");
  EXPECT_TRUE(c.check("Our favourite patient!").has(Kind::kRelationship));

  Config typo = parse_config("state_dir = \"" + dir.string() + "\"\n[replies]\nterm = \"x\"\n",
                             dir / "repwatch.toml");
  try {
    checker_for(typo);
    ADD_FAILURE() << "an unknown key in [replies] must be refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("replies.term"), std::string::npos) << e.what();
  }
  Config missing =
      parse_config("state_dir = \"" + dir.string() + "\"\n[replies]\nterms = \"nope.toml\"\n",
                   dir / "repwatch.toml");
  EXPECT_THROW(checker_for(missing), ConfigError);
  Config none = parse_config("state_dir = \"" + dir.string() + "\"\n", dir / "repwatch.toml");
  EXPECT_EQ(checker_for(none).version(), checker().version());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace repwatch::replies
