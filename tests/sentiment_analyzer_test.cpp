// Tests of the sentiment scorer: rules (negation, intensifiers, contrast, idioms), touchpoints
// per clause with exact evidence spans, robustness on bad UTF-8, language detection.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "core/analysis.h"
#include "sentiment/analyzer.h"

namespace repwatch::sentiment {
namespace {

const Analyzer& analyzer() {
  static const Analyzer a = Analyzer::builtin();
  return a;
}

const TouchpointResult* find(const Analysis& a, const std::string& id) {
  for (const auto& tp : a.touchpoints) {
    if (tp.touchpoint == id) return &tp;
  }
  return nullptr;
}

void expect_spans_exact(const std::string& text, const Analysis& a) {
  for (const auto& e : a.terms) {
    ASSERT_LE(e.offset + e.length, text.size());
    EXPECT_EQ(e.phrase, text.substr(e.offset, e.length));
  }
  for (const auto& tp : a.touchpoints) {
    EXPECT_LE(tp.evidence.size(), Analyzer::kMaxEvidence);
    for (const auto& e : tp.evidence) {
      ASSERT_LE(e.offset + e.length, text.size());
      EXPECT_EQ(e.phrase, text.substr(e.offset, e.length)) << tp.touchpoint;
    }
  }
}

TEST(SentimentAnalyzer, BuiltinLoadsWithVersionAndDefaultTouchpoints) {
  const Analyzer& a = analyzer();
  EXPECT_FALSE(a.lexicon_version().empty());
  for (const char* id : {"phone", "scheduling", "front_desk", "wait_time", "billing",
                         "nurses_staff", "physician", "facility", "parking_access",
                         "online_telehealth", "followup_results", "prescriptions", "privacy"}) {
    EXPECT_NE(a.find_touchpoint(id), nullptr) << id;
  }
  EXPECT_EQ(a.find_touchpoint("nope"), nullptr);
  EXPECT_EQ(a.touchpoints().size(), 13u);
}

TEST(SentimentAnalyzer, PlainPolarity) {
  EXPECT_EQ(analyzer().analyze("Excellent care, very friendly staff.").label, Label::kPositive);
  EXPECT_EQ(analyzer().analyze("Rude receptionist and a terrible experience.").label,
            Label::kNegative);
  Analysis empty = analyzer().analyze("");
  EXPECT_EQ(empty.label, Label::kNeutral);
  EXPECT_EQ(empty.score, 0);
  EXPECT_EQ(empty.lexicon_version, analyzer().lexicon_version());
}

TEST(SentimentAnalyzer, Negation) {
  Analysis a = analyzer().analyze("The receptionist was not friendly.");
  EXPECT_EQ(a.label, Label::kNegative);
  ASSERT_EQ(a.terms.size(), 1u);
  EXPECT_EQ(a.terms[0].phrase, "not friendly");  // the negator is part of the evidence
  EXPECT_EQ(analyzer().analyze("The nurse wasn't helpful").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("The nurse didn t listen").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("They never called back").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("No one answered the phone").label, Label::kNegative);
  // "never so good" is praise, not negation.
  EXPECT_EQ(analyzer().analyze("Never been so well looked after").label, Label::kPositive);
  // Negation ends at punctuation.
  EXPECT_EQ(analyzer().analyze("Not sure why, friendly staff").label, Label::kPositive);
}

TEST(SentimentAnalyzer, IntensifiersAndDampeners) {
  double plain = analyzer().analyze("The nurse was rude").score;
  double very = analyzer().analyze("The nurse was extremely rude").score;
  double slightly = analyzer().analyze("The nurse was slightly rude").score;
  EXPECT_LT(very, plain);
  EXPECT_GT(slightly, plain);
  EXPECT_LT(slightly, 0);
  EXPECT_LT(analyzer().analyze("The nurse was RUDE").score, plain);  // caps emphasis
  EXPECT_LT(analyzer().analyze("The nurse was rude!!!").score, plain);
}

TEST(SentimentAnalyzer, ContrastClauseAfterWeighsMore) {
  Analysis a = analyzer().analyze("The doctor was great but billing was a nightmare.");
  const TouchpointResult* physician = find(a, "physician");
  const TouchpointResult* billing = find(a, "billing");
  ASSERT_NE(physician, nullptr);
  ASSERT_NE(billing, nullptr);
  EXPECT_GT(physician->score, 0);
  EXPECT_LT(billing->score, 0);
  EXPECT_LT(a.score, 0);  // the clause after "but" weighs more
  Analysis b = analyzer().analyze("Billing was a nightmare but the doctor was great.");
  EXPECT_GT(b.score, 0);
  Analysis c = analyzer().analyze("Although the doctor was nice, the wait was awful.");
  EXPECT_LT(c.score, 0);
  EXPECT_GT(find(c, "physician")->score, 0);
  EXPECT_LT(find(c, "wait_time")->score, 0);
}

TEST(SentimentAnalyzer, ClinicIdioms) {
  EXPECT_EQ(analyzer().analyze("No pain at all").label, Label::kPositive);
  EXPECT_EQ(analyzer().analyze("The injection was painless").label, Label::kPositive);
  EXPECT_EQ(analyzer().analyze("There was no wait").label, Label::kPositive);
  Analysis waited = analyzer().analyze("We waited 2 hours to be seen");
  EXPECT_EQ(waited.label, Label::kNegative);
  ASSERT_NE(find(waited, "wait_time"), nullptr);
  EXPECT_LT(find(waited, "wait_time")->score, 0);
  EXPECT_EQ(analyzer().analyze("Waited forever in reception").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("I was on hold for 40 minutes").label, Label::kNegative);
}

TEST(SentimentAnalyzer, EvidenceSpansAreExact) {
  std::string text =
      "Dr. Lee’s bedside manner is EXCELLENT!! But the front desk staff, who I spoke to, "
      "were so rude. Billing sent a surprise bill of $400.";
  Analysis a = analyzer().analyze(text);
  expect_spans_exact(text, a);
  const TouchpointResult* physician = find(a, "physician");
  const TouchpointResult* front = find(a, "front_desk");
  const TouchpointResult* billing = find(a, "billing");
  ASSERT_NE(physician, nullptr);
  ASSERT_NE(front, nullptr);
  ASSERT_NE(billing, nullptr);
  EXPECT_GT(physician->score, 0);
  EXPECT_LT(front->score, 0);
  EXPECT_LT(billing->score, 0);
  EXPECT_EQ(front->evidence.front().phrase, "front desk staff");
  EXPECT_EQ(front->evidence.back().phrase, "so rude");  // carried over the relative clause
}

TEST(SentimentAnalyzer, InvalidUtf8NeverCrashes) {
  std::string bad = "Great doctor \xff\xfe\xc3 but \xe2\x80 rude \xf0\x9f\x98 staff\xc3";
  Analysis a = analyzer().analyze(bad);
  expect_spans_exact(bad, a);
  // Every byte value and truncations of multi-byte sequences.
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t cut = 0; cut <= all.size(); cut += 7) {
    Analysis b = analyzer().analyze(std::string_view(all).substr(cut));
    expect_spans_exact(all.substr(cut), b);
  }
}

TEST(SentimentAnalyzer, SpanishAndOtherLanguagesAreDetectedNotScored) {
  Analysis a = analyzer().analyze(
      "La doctora fue muy amable y el servicio es excelente, pero la espera fue larga.");
  EXPECT_EQ(a.language, "es");
  EXPECT_FALSE(a.scored);
  EXPECT_EQ(a.score, 0);
  EXPECT_EQ(analyzer().analyze("Porque la doctora me examinó muy bien").language, "es");
  EXPECT_EQ(analyzer()
                .analyze("Mi trovo benissimo con la dottoressa, molto professionale è molto "
                         "umana. Grazie")
                .language,
            "it");
  EXPECT_EQ(analyzer().analyze("Je suis très satisfaite, merci pour tout").language, "fr");
  Analysis en = analyzer().analyze("The doctor was very kind and the service was excellent.");
  EXPECT_EQ(en.language, "en");
  EXPECT_TRUE(en.scored);
}

TEST(SentimentAnalyzer, EmojiAndEmphasisAreSignals) {
  EXPECT_EQ(analyzer().analyze("Dr Shah 👍").label, Label::kPositive);
  EXPECT_EQ(analyzer().analyze("Reception 😡").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("Front desk :(").label, Label::kNegative);
  // A review written entirely in capitals is not emphasis word by word.
  double caps = analyzer().analyze("THE NURSE WAS RUDE").score;
  double lower = analyzer().analyze("the nurse was rude").score;
  EXPECT_DOUBLE_EQ(caps, lower);
}

TEST(SentimentAnalyzer, SurveySuggestionsCountAsComplaints) {
  EXPECT_EQ(analyzer().analyze("More staff.").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("A shorter waiting time would be nice").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("Could be better organised").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("More than happy with the care").label, Label::kPositive);
  EXPECT_EQ(analyzer().analyze("Nothing to improve").label, Label::kPositive);
  EXPECT_EQ(analyzer().analyze("Better than my last practice").label, Label::kPositive);
}

TEST(SentimentAnalyzer, WishesNegateOnlyWhatTheyAskFor) {
  // A wish names what was missing: the positive word after it counts against the review.
  Analysis a = analyzer().analyze("Be on time.");
  EXPECT_EQ(a.label, Label::kNegative);
  ASSERT_EQ(a.terms.size(), 1u);
  EXPECT_EQ(a.terms[0].phrase, "Be on time");
  EXPECT_EQ(analyzer().analyze("More supportive staff").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("The doctor needs to listen.").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("They should have called me back").label, Label::kNegative);
  // A negative word after a wish keeps its sign ("reduce" is no negator of "waiting").
  EXPECT_EQ(analyzer().analyze("Reduce the long waiting times").label, Label::kNegative);
  // Praise phrased as a negated wish.
  EXPECT_EQ(analyzer().analyze("Nothing could have been done better.").label, Label::kPositive);
  EXPECT_EQ(analyzer().analyze("The driver couldn't have been more helpful").label,
            Label::kPositive);
}

TEST(SentimentAnalyzer, OnlineReviewIdioms) {
  EXPECT_EQ(analyzer().analyze("Zero stars if I could.").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("Felt like just another number.").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("If you want to be treated like cattle, this is your place.").label,
            Label::kNegative);
  EXPECT_EQ(analyzer().analyze("Thanks for nothing.").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("Run from this office.").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("I will be looking for a new doctor.").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("I like Dr. Evans a lot.").label, Label::kPositive);
  EXPECT_EQ(analyzer().analyze("She was so patient with my son.").label, Label::kPositive);
  // "like" as a preposition and "patient" as a noun carry no sentiment.
  EXPECT_EQ(analyzer().analyze("It looked like a patient room.").label, Label::kNeutral);
  // A patient's own health problem is not a complaint about the clinic.
  EXPECT_EQ(analyzer().analyze("Dr. Lee fixed my problem in one visit.").label, Label::kPositive);
}

TEST(SentimentAnalyzer, UnpunctuatedSurveyTextIsSplitAtCapitals) {
  // Survey exports often strip punctuation: "... rude The doctor ..." is two sentences, so the
  // doctor does not inherit the receptionist's rudeness.
  std::string text =
      "The receptionist on the phone was very rude to me today The doctor was lovely and "
      "listened carefully";
  Analysis a = analyzer().analyze(text);
  ASSERT_NE(find(a, "front_desk"), nullptr);
  ASSERT_NE(find(a, "physician"), nullptr);
  EXPECT_LT(find(a, "front_desk")->score, 0);
  EXPECT_GT(find(a, "physician")->score, 0);
  expect_spans_exact(text, a);
}

TEST(SentimentAnalyzer, EvidenceIsCappedPerTouchpoint) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "The billing was awful and the bill was wrong. ";
  Analysis a = analyzer().analyze(text);
  const TouchpointResult* billing = find(a, "billing");
  ASSERT_NE(billing, nullptr);
  EXPECT_EQ(billing->evidence.size(), Analyzer::kMaxEvidence);
  EXPECT_LE(a.terms.size(), Analyzer::kMaxTerms);
  expect_spans_exact(text, a);
  for (size_t i = 1; i < billing->evidence.size(); ++i) {
    EXPECT_LT(billing->evidence[i - 1].offset, billing->evidence[i].offset);
  }
}

// Phrases of valence 0 in the lexicon only keep their words from meaning something else
// ("waiting room" is not "waiting"); they explain nothing and are not shown as terms or evidence.
TEST(SentimentAnalyzer, NeutralBlockerPhrasesAreNotShownAsTerms) {
  const std::string text = "I have to say the waiting room was dirty. Not used them for a while";
  Analysis a = analyzer().analyze(text);
  EXPECT_LT(a.score, 0);
  std::vector<std::string> terms;
  for (const auto& t : a.terms) terms.push_back(t.phrase);
  EXPECT_EQ(terms, std::vector<std::string>{"dirty"});
  const TouchpointResult* facility = find(a, "facility");
  ASSERT_NE(facility, nullptr);
  for (const auto& e : facility->evidence) EXPECT_NE(e.phrase, "have to say");
  expect_spans_exact(text, a);
}

// A text of several megabytes (a pasted document, a broken export) scores like any other:
// every score finite and within -1..1, whatever accumulates over a million words.
TEST(SentimentAnalyzer, HugeTextsKeepScoresFiniteAndInRange) {
  const std::vector<std::string> units = {
      "Parking is a nightmare and the garage is always full. ",
      "Parking was easy and the building is accessible! ",
      "The receptionist was EXTREMELY rude!!! ",
      "great great great doctor, very very very kind ",
      "not bad, not bad at all, but the bill was wrong. ",
      "wait wait wait wait ",
      "!!!!!!!!!!!!!!!!!!!! ",
      // One unpunctuated sentence with a contrast every few words: thousands of "but"s.
      "the doctor was kind but the wait was long although the nurse was lovely ",
  };
  for (const std::string& unit : units) {
    std::string text;
    while (text.size() < (3u << 20)) text += unit;
    Analysis a = analyzer().analyze(text);
    EXPECT_TRUE(std::isfinite(a.score)) << unit;
    EXPECT_GE(a.score, -1.0) << unit;
    EXPECT_LE(a.score, 1.0) << unit;
    for (const auto& tp : a.touchpoints) {
      EXPECT_TRUE(std::isfinite(tp.score)) << unit << tp.touchpoint;
      EXPECT_GE(tp.score, -1.0) << unit << tp.touchpoint;
      EXPECT_LE(tp.score, 1.0) << unit << tp.touchpoint;
    }
    expect_spans_exact(text, a);
  }
}

TEST(SentimentAnalyzer, SameResultFromManyThreads) {
  std::vector<std::string> texts = {"The doctor was great but billing was a nightmare.",
                                    "No wait, lovely nurses!", "Never called back about my results",
                                    "La doctora fue muy amable y el servicio excelente"};
  std::vector<Analysis> expected;
  for (const auto& t : texts) expected.push_back(analyzer().analyze(t));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 500; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          if (!(analyzer().analyze(texts[i]) == expected[i])) ++mismatches[k];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(SentimentAnalyzer, GpSurveyContractionsWithoutApostrophes) {
  EXPECT_EQ(analyzer().analyze("The GP didn t listen").label, Label::kNegative);
  EXPECT_EQ(analyzer().analyze("I can t fault them").label, Label::kPositive);
  EXPECT_EQ(analyzer().analyze("I couldn t get an appointment").label, Label::kNegative);
}

}  // namespace
}  // namespace repwatch::sentiment
