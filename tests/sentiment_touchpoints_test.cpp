// Touchpoint attribution against the labelling guide (../shared/data/touchpoints/GUIDE.md): the
// right touchpoints, each with the polarity of what is said of it and evidence that is its
// mention and the words carrying that polarity. Sentences written for these tests, in the style
// of US/Canadian online doctor reviews and of NHS survey comments.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "sentiment/analyzer.h"

namespace repwatch::sentiment {
namespace {

const Analyzer& analyzer() {
  static const Analyzer a = Analyzer::builtin();
  return a;
}

std::set<std::string> touchpoints(const std::string& text) {
  std::set<std::string> ids;
  for (const auto& tp : analyzer().analyze(text).touchpoints) ids.insert(tp.touchpoint);
  return ids;
}

bool mentions(const std::string& text, const std::string& id) {
  return touchpoints(text).count(id) > 0;
}

// The touchpoint's result; fails the test when it is missing.
TouchpointResult result(const std::string& text, const std::string& id) {
  for (const auto& tp : analyzer().analyze(text).touchpoints) {
    if (tp.touchpoint == id) return tp;
  }
  ADD_FAILURE() << "no " << id << " in: " << text;
  return {};
}

std::vector<std::string> evidence(const std::string& text, const std::string& id) {
  std::vector<std::string> out;
  for (const auto& e : result(text, id).evidence) out.push_back(e.phrase);
  return out;
}

// "after two years of back pain", "a 20-hour labour": a condition or its duration is no wait.
TEST(SentimentTouchpoints, ConditionsAndDurationsAreNotWaits) {
  EXPECT_FALSE(mentions("After two years of back pain I finally found Dr. Patel.", "wait_time"));
  EXPECT_FALSE(mentions("I had a 20-hour labour and the midwives were amazing.", "wait_time"));
  EXPECT_FALSE(mentions("I've had migraines for 12 months and nothing helps.", "wait_time"));
  EXPECT_FALSE(mentions("The visit itself is a 2 hour drive for me.", "wait_time"));
  // A duration that was waited is one.
  EXPECT_LT(result("We waited 45 minutes in the exam room.", "wait_time").score, 0);
  EXPECT_LT(result("Sat in the waiting area for 2 hours before anyone came.", "wait_time").score,
            0);
  EXPECT_GT(result("Seen within 10 minutes of arriving.", "wait_time").score, 0);
}

// Guide: waiting to get an appointment at all is scheduling; waiting on the day is wait time.
TEST(SentimentTouchpoints, WaitingForAnAppointmentIsScheduling) {
  for (const char* text : {"Waited 3 weeks for an appointment with my PCP.",
                           "I had to wait 4 weeks to book an appointment to see a GP."}) {
    EXPECT_FALSE(mentions(text, "wait_time")) << text;
    EXPECT_LT(result(text, "scheduling").score, 0) << text;
  }
  // Waiting past one's appointment time is the wait on the day.
  std::string text = "We waited 45 minutes past our appointment time.";
  EXPECT_LT(result(text, "wait_time").score, 0);
  EXPECT_FALSE(mentions(text, "scheduling"));
  // A procedure already decided that is delayed is a wait.
  EXPECT_LT(result("I've been waiting 6 months for my knee surgery.", "wait_time").score, 0);
}

// Waiting on the phone is the phone.
TEST(SentimentTouchpoints, WaitingOnThePhoneIsThePhone) {
  std::string text = "Waited over an hour for someone to answer the phone.";
  EXPECT_LT(result(text, "phone").score, 0);
  EXPECT_FALSE(mentions(text, "wait_time"));
  EXPECT_FALSE(mentions("I was on hold for 40 minutes.", "wait_time"));
}

// "called" in a story, "so called", "called my name": no phone. A call that went badly is.
TEST(SentimentTouchpoints, CalledInAStoryIsNotThePhone) {
  EXPECT_FALSE(mentions("The nurse called my name and took me straight to the room.", "phone"));
  EXPECT_FALSE(mentions("I was called in for a blood pressure check.", "phone"));
  EXPECT_FALSE(mentions("I trusted the reception staff more than the so called doctors.", "phone"));
  EXPECT_LT(result("I called three times and nobody picked up.", "phone").score, 0);
  EXPECT_LT(result("Called the office twice, never got a call back.", "phone").score, 0);
}

// "the doctor's office" is the practice; "to see a GP" is getting an appointment.
TEST(SentimentTouchpoints, DoctorNamingThePracticeIsNotThePhysician) {
  EXPECT_FALSE(mentions("The doctor's office lost my paperwork twice.", "physician"));
  EXPECT_FALSE(mentions("The booking system at this GP surgery is a nightmare.", "physician"));
  std::string text = "It is impossible to speak to a doctor at this practice.";
  EXPECT_FALSE(mentions(text, "physician"));
  EXPECT_LT(result(text, "scheduling").score, 0);
  EXPECT_GT(result("Dr. Nguyen listened and explained everything.", "physician").score, 0);
}

// Words in another sense: another facility is another clinic, a private doctor is no privacy.
TEST(SentimentTouchpoints, WordsInAnotherSense) {
  EXPECT_FALSE(mentions("They sent me to another facility for the MRI.", "facility"));
  EXPECT_FALSE(mentions("I ended up paying for a private doctor.", "privacy"));
  EXPECT_FALSE(mentions("The ER staff on the phone were useless.", "nurses_staff"));
  EXPECT_TRUE(mentions("The facility was spotless and modern.", "facility"));
  EXPECT_LT(result("They discussed my results out loud in the waiting room.", "privacy").score, 0);
}

// A consultation held by phone is telehealth, not the phones.
TEST(SentimentTouchpoints, ConsultationByPhoneIsTelehealth) {
  std::string text = "The doctor assessed me over the phone and it was quick and thorough.";
  EXPECT_TRUE(mentions(text, "online_telehealth"));
  EXPECT_FALSE(mentions(text, "phone"));
  EXPECT_TRUE(mentions("My telephone consultation with the GP was rushed.", "online_telehealth"));
}

// Polarity belongs to the touchpoint's own part of the sentence.
TEST(SentimentTouchpoints, PolarityFromTheTouchpointsOwnClause) {
  std::string text = "Dr. Smith is great and the front desk staff were rude.";
  EXPECT_GT(result(text, "physician").score, 0);
  EXPECT_LT(result(text, "front_desk").score, 0);
  std::string nhs = "The nurses were lovely and the parking was a nightmare";
  EXPECT_GT(result(nhs, "nurses_staff").score, 0);
  EXPECT_LT(result(nhs, "parking_access").score, 0);
  // Two mentions before one judgement share it.
  EXPECT_GT(result("The doctor and the nurse were both wonderful.", "nurses_staff").score, 0);
  EXPECT_GT(result("The doctor and the nurse were both wonderful.", "physician").score, 0);
}

// Evidence: the mention and the words carrying its polarity, nothing from the other part.
TEST(SentimentTouchpoints, EvidenceIsTheMentionAndItsOwnWords) {
  std::string text = "Got a same-day appointment and the nurse was kind.";
  EXPECT_EQ(evidence(text, "scheduling"), std::vector<std::string>({"same-day appointment"}));
  EXPECT_EQ(evidence(text, "nurses_staff"), std::vector<std::string>({"nurse", "kind"}));
  std::string billing = "Check-in was quick and the billing for my insurance was a mess.";
  std::vector<std::string> e = evidence(billing, "billing");
  EXPECT_EQ(std::count(e.begin(), e.end(), std::string("quick")), 0);
}

// Suggestions name what should improve: a complaint about that thing (guide: "shorter waits
// for appointments" is scheduling), not about what else the words could mean.
TEST(SentimentTouchpoints, SuggestionsAreComplaints) {
  EXPECT_LT(result("More staff at weekends.", "nurses_staff").score, 0);
  EXPECT_LT(result("Answer the phone faster.", "phone").score, 0);
  std::string text = "Shorter waits for appointments.";
  EXPECT_LT(result(text, "scheduling").score, 0);
  EXPECT_FALSE(mentions(text, "wait_time"));
  EXPECT_LT(result("Easier to get through on the phone in the morning.", "phone").score, 0);
}

// Strong words the lexicon used to miss.
TEST(SentimentTouchpoints, StrongWordsOfFeeling) {
  EXPECT_LT(analyzer().analyze("I was mortified").score, -0.4);
  EXPECT_LT(analyzer().analyze("Honestly horrified by how I was treated").score, -0.4);
  EXPECT_LT(result("The receptionist was callous.", "front_desk").score, -0.4);
}

// Drivers of patient transport are staff; a health visitor too.
TEST(SentimentTouchpoints, TransportDriversAreStaff) {
  EXPECT_GT(result("Ambulance driver very friendly.", "nurses_staff").score, 0);
  EXPECT_GT(result("Fantastic health visitor, explained everything.", "nurses_staff").score, 0);
}

}  // namespace
}  // namespace repwatch::sentiment
