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
  const std::string ivr =
      "I had to listen to a recorded message for ages before I got connected to a human.";
  EXPECT_LT(result(ivr, "phone").score, 0);
  EXPECT_FALSE(mentions(ivr, "wait_time"));
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
  // With the doctor's name between: "Dr. Jamison's office" is the practice too.
  EXPECT_FALSE(mentions("Dr. Jamison's office is up two flights of stairs.", "physician"));
  EXPECT_FALSE(mentions("Dr Amy Lee's clinic is always a mess.", "physician"));
  EXPECT_TRUE(mentions("Dr. Patel is great.", "physician"));
  EXPECT_TRUE(mentions("Saw Dr. Lee in the office today, she was lovely.", "physician"));
}

// A title and the name after it are one mention, so what follows the name counts as it would
// after "the doctor": running late is the wait (guide: lateness is wait_time), and the
// evidence shows the name a manager knows.
TEST(SentimentTouchpoints, ATitleAndItsNameAreOneMention) {
  const std::string late = "Dr. Shah was running 50 minutes late with no apology.";
  EXPECT_FALSE(mentions(late, "physician"));
  EXPECT_LT(result(late, "wait_time").score, 0);
  EXPECT_FALSE(mentions("Dr Amy Lee was running an hour behind again.", "physician"));
  EXPECT_EQ(evidence("Dr. Amy Lee explained everything.", "physician"),
            (std::vector<std::string>{"Dr. Amy Lee", "explained"}));
  EXPECT_LT(result("Dr. Shah was rude and dismissive.", "physician").score, 0);
}

// Where it hurts names the patient's condition and judges no one; a condition's duration is no
// wait even near a test (guide); people where they work are those people, not the ward.
TEST(SentimentTouchpoints, ConditionsAndWhereStaffWork) {
  EXPECT_GT(result("Dr Ali looked at my knee pain.", "physician").score, -0.05);
  EXPECT_FALSE(
      mentions("I have had back pain for over 3 years and the scan found nothing.", "wait_time"));
  EXPECT_LT(result("I waited for over 3 weeks for my scan.", "wait_time").score, 0);
  EXPECT_FALSE(mentions("Staff on ward 14 were rude at night.", "facility"));
  EXPECT_LT(result("Staff on ward 14 were rude at night.", "nurses_staff").score, 0);
  EXPECT_LT(result("The ward was filthy.", "facility").score, 0);
  EXPECT_LT(result("The injection was painful and the nurse was rough.", "nurses_staff").score, 0);
}

// Words in another sense: another facility is another clinic, a private doctor is no privacy.
TEST(SentimentTouchpoints, WordsInAnotherSense) {
  EXPECT_FALSE(mentions("They sent me to another facility for the MRI.", "facility"));
  EXPECT_FALSE(mentions("I ended up paying for a private doctor.", "privacy"));
  EXPECT_FALSE(mentions("The ER staff on the phone were useless.", "nurses_staff"));
  EXPECT_TRUE(mentions("The facility was spotless and modern.", "facility"));
  // "My chart" is the portal only where it is used as one; otherwise it is the medical record.
  EXPECT_FALSE(mentions("She never even read my chart before prescribing.", "online_telehealth"));
  EXPECT_TRUE(mentions("I sent a message through my chart last week.", "online_telehealth"));
  EXPECT_TRUE(mentions("Their MyChart app logs me out constantly.", "online_telehealth"));
  EXPECT_LT(result("They discussed my results out loud in the waiting room.", "privacy").score, 0);
}

// A consultation held by phone is telehealth, not the phones.
TEST(SentimentTouchpoints, ConsultationByPhoneIsTelehealth) {
  std::string text = "The doctor assessed me over the phone and it was quick and thorough.";
  EXPECT_TRUE(mentions(text, "online_telehealth"));
  EXPECT_FALSE(mentions(text, "phone"));
  EXPECT_TRUE(mentions("My telephone consultation with the GP was rushed.", "online_telehealth"));
}

// Without a clinician, "on the phone" is no consultation, and the phone word in it is still the
// phone's: ruling a phrase out leaves its later words to the phrases they start.
TEST(SentimentTouchpoints, APhraseRuledOutLeavesItsWordsToShorterOnes) {
  EXPECT_LT(result("I could never get anyone on the phone.", "phone").score, 0);
  EXPECT_LT(result("Spent forty minutes on the phone and nobody picked up.", "phone").score, 0);
  std::string text = "Nobody on the phone could tell me when my referral would go through.";
  EXPECT_LT(result(text, "phone").score, 0);
  EXPECT_FALSE(mentions(text, "online_telehealth"));
  EXPECT_FALSE(mentions("I could never get anyone on the phone.", "wait_time"));
}

// Not every span of time is a wait (guide: wait time is time waited on the day): time a
// clinician gave is care, a drive is the road, being seen in minutes is quick.
TEST(SentimentTouchpoints, TimeGivenOrDrivenIsNoWait) {
  std::string given = "Dr. Haas spent over an hour with me going through my scans.";
  EXPECT_GT(result(given, "physician").score, 0.2);
  EXPECT_FALSE(mentions(given, "wait_time"));
  EXPECT_FALSE(mentions("The nurse took 20 minutes to explain my new insulin pump.", "wait_time"));
  EXPECT_FALSE(mentions("We drove 3 hours for this appointment.", "wait_time"));
  EXPECT_GT(result("Checked in and was seen in 10 minutes.", "wait_time").score, 0.2);
  // A short visit is still a complaint, and a real wait still a wait.
  EXPECT_LT(result("The surgeon only spent 4 minutes with me.", "physician").score, 0);
  EXPECT_LT(result("Sat in the lobby for 2 hours with my toddler.", "wait_time").score, 0);
  // Opening hours are access, not a wait.
  EXPECT_FALSE(mentions("Love that they are open until 8 on weeknights.", "wait_time"));
}

// A span of time that dates something (an age, a stage, how long ago, how far in) is no
// delay, so it neither complains nor makes a wait.
TEST(SentimentTouchpoints, ASpanThatDatesSomethingIsNoDelay) {
  EXPECT_GT(
      result("Our daughter had her checkup at 18 months with the nurse.", "nurses_staff").score,
      -0.05);
  EXPECT_GT(result("I was 30 weeks pregnant when I switched to Dr. Shah.", "physician").score,
            -0.05);
  EXPECT_GT(result("Three weeks ago I saw Dr. Patel for my knee.", "physician").score, -0.05);
  EXPECT_FALSE(
      mentions("Six weeks into physical therapy with Dana I can walk again.", "wait_time"));
  EXPECT_FALSE(mentions("At 6 weeks my scan showed twins and the tech was thrilled.", "wait_time"));
  // A span that was waited stays a delay.
  EXPECT_LT(result("I waited 3 weeks for my surgery.", "wait_time").score, 0);
  EXPECT_LT(
      result("I had my scan 6 weeks ago and still have no results.", "followup_results").score, 0);
}

// A few minutes of waiting is quick, and said alone a few minutes is a fact; a few minutes
// with the clinician is still a complaint.
TEST(SentimentTouchpoints, AFewMinutesIsNoDelay) {
  // Within a span is quick, whatever the unit.
  EXPECT_GT(result("They took me on as a new patient within two weeks.", "scheduling").score, 0);
  EXPECT_GT(result("I only waited 5 minutes before the nurse came out.", "wait_time").score, 0);
  EXPECT_GT(result("It was a ten minute wait, tops.", "wait_time").score, 0);
  EXPECT_GT(result("Check-in took two minutes.", "front_desk").score, -0.05);
  EXPECT_LT(result("I waited 45 minutes past my appointment time.", "wait_time").score, 0);
  EXPECT_LT(result("Only 5 minutes with the doctor after all that.", "physician").score, 0);
}

// A clause is cut where a clause of its own starts ("after", "because", "when", "while"), as at
// "and": what is said after it is not said of the touchpoint before it.
TEST(SentimentTouchpoints, AfterBecauseWhenAndWhileStartAClauseOfTheirOwn) {
  const std::string list =
      "My son was treated with dignity by the nurses after a ridiculous 9 months on the waiting "
      "list.";
  EXPECT_GT(result(list, "nurses_staff").score, 0);
  EXPECT_LT(result(list, "scheduling").score, 0);
  const std::string behind =
      "The receptionist was short with me because the doctor was running an hour behind.";
  EXPECT_LT(result(behind, "front_desk").score, 0);
  EXPECT_LT(result(behind, "wait_time").score, 0);
  EXPECT_GT(result("The nurse was lovely while the doctor was dismissive.", "nurses_staff").score,
            0);
  EXPECT_LT(result("The nurse was lovely while the doctor was dismissive.", "physician").score, 0);
  const std::string when = "The doctor was rude when I asked about my results.";
  EXPECT_LT(result(when, "physician").score, 0);
  EXPECT_GT(result(when, "followup_results").score, -0.05);
  EXPECT_GT(result("The nurse was kind when the doctor was rude.", "nurses_staff").score, 0);
}

// The waiting room is the facility as a place (guide), not where a wait was spent, unless what
// it was like is said as well.
TEST(SentimentTouchpoints, TheWaitingRoomAsAPlace) {
  EXPECT_FALSE(mentions("We sat in the waiting room for over an hour.", "facility"));
  EXPECT_LT(result("We sat in the waiting room for over an hour.", "wait_time").score, 0);
  EXPECT_FALSE(mentions("Waited 40 minutes in the waiting area before anyone came.", "facility"));
  EXPECT_FALSE(mentions("Then another hour and a half in the waiting room.", "facility"));
  EXPECT_FALSE(mentions("Then another 40 in the waiting room.", "facility"));
  EXPECT_LT(result("The waiting room was filthy and we waited an hour.", "facility").score, 0);
  EXPECT_LT(result("The waiting room was filthy and we waited an hour.", "wait_time").score, 0);
  EXPECT_GT(result("The waiting room is bright and clean.", "facility").score, 0);
  // Listed twice (with and without a wait near), it is still one mention with one evidence.
  EXPECT_EQ(evidence("The waiting room was filthy and we waited an hour.", "facility"),
            (std::vector<std::string>{"waiting room", "filthy"}));
}

// A call after the visit to see how the patient is doing is a follow-up call (guide); someone
// who checks on a patient on the ward is the nursing, not a follow-up.
TEST(SentimentTouchpoints, ACallToCheckOnThePatientIsFollowUp) {
  EXPECT_TRUE(mentions("Nurse Pam even called the next day to check on him.", "followup_results"));
  EXPECT_TRUE(mentions("The surgeon called that night to check in on her.", "followup_results"));
  EXPECT_TRUE(
      mentions("Dr Lee rang to see how I was getting on after the operation.", "followup_results"));
  EXPECT_FALSE(mentions("Nobody checked on my mum for six hours.", "followup_results"));
}

// "A great team" says how people work together, not who they are; a team that is named is
// staff (guide: "the staff" when not clearly office staff).
TEST(SentimentTouchpoints, AGreatTeamIsNoOne) {
  EXPECT_FALSE(mentions("Dr. Fitzgerald and his PA Jordan are a great team.", "nurses_staff"));
  EXPECT_TRUE(mentions("Dr. Fitzgerald and his PA Jordan are a great team.", "physician"));
  EXPECT_GT(result("The team in the cath lab moved fast and were lovely.", "nurses_staff").score,
            0);
  EXPECT_GT(result("The whole team was kind to my mother.", "nurses_staff").score, 0);
}

// A doctor the patient had before is a bystander (guide: no mention), and what other doctors
// could not do, said of this one, is praise.
TEST(SentimentTouchpoints, ComparedWithOtherDoctors) {
  EXPECT_GT(result("My previous dentist was awful, Dr. Kim is the best.", "physician").score, 0);
  EXPECT_FALSE(mentions("My old family doctor retired last year.", "physician"));
  EXPECT_GT(
      result("Dr. Klein figured out my son's rash when 3 other doctors couldn't.", "physician")
          .score,
      0);
  EXPECT_GT(result("She connects the dots in a way no previous therapist did.", "physician").score,
            0);
  EXPECT_GT(result("She answers the kind of questions most doctors would roll their eyes at.",
                   "physician")
                .score,
            0);
  EXPECT_GT(
      result("Other dentists would have rushed me, Dr. Lin took her time.", "physician").score, 0);
  EXPECT_GT(result("After years of pain I finally found a physical therapist who figured it out.",
                   "physician")
                .score,
            0);
  EXPECT_LT(result("I finally found out my results were lost.", "followup_results").score, 0);
  // This practice's doctors stay the physician.
  EXPECT_LT(result("The other doctor here was rude to my mother.", "physician").score, 0);
  EXPECT_LT(result("The new doctor never called me back.", "physician").score, 0);
}

// Seeing a doctor over time is being their patient, not trying to reach one; being called in
// to the room is no phone call.
TEST(SentimentTouchpoints, SeeingYourDoctorAndBeingCalledIn) {
  EXPECT_GT(result("I have been seeing Dr. Patel for years and she is great.", "physician").score,
            0);
  EXPECT_TRUE(mentions("I started seeing Dr Lee in May and he listens.", "physician"));
  EXPECT_LT(
      result("It is hard to get an appointment, seeing a doctor takes weeks.", "scheduling").score,
      0);
  EXPECT_FALSE(mentions("I waited an hour before the nurse called me in.", "phone"));
  EXPECT_LT(result("I called at 8 and waited on hold for an hour.", "phone").score, 0);
}

// Opening hours are access (guide: parking_access); saying private things where others hear is
// privacy; manners and billing practices reviewers name in so many words are complaints.
TEST(SentimentTouchpoints, HoursHearingAndNamedComplaints) {
  EXPECT_LT(result("Great doctors, terrible hours.", "parking_access").score, 0);
  EXPECT_LT(
      result("They close Saturdays and weekday evenings, useless if you work.", "parking_access")
          .score,
      0);
  EXPECT_LT(
      result("The nurse asked about my STD test loud enough for the whole waiting room to hear.",
             "privacy")
          .score,
      0);
  EXPECT_LT(result("The receptionist rolls her eyes at every question.", "front_desk").score, 0);
  EXPECT_LT(result("The orthodontist was pushy about extra treatment.", "physician").score, 0);
  EXPECT_LT(result("Billing charged my card twice for one visit.", "billing").score, 0);
  EXPECT_LT(result("They billed me as out of network with no warning.", "billing").score, 0);
}

// Words of the guide's touchpoints that US reviews use: phone trees that transfer and cut off,
// insurers by name, disabled parking and drop-off, the optician and whoever draws blood.
TEST(SentimentTouchpoints, PhoneTreesInsurersAndAccessInUsReviews) {
  EXPECT_LT(result("I was transferred four times and then got disconnected.", "phone").score, 0);
  EXPECT_FALSE(mentions("My records were transferred to the new clinic.", "phone"));
  EXPECT_TRUE(mentions("They stopped taking Cigna without telling anyone.", "billing"));
  EXPECT_TRUE(
      mentions("There are only two handicap spaces and no drop-off area.", "parking_access"));
  EXPECT_LT(result("The optician was rude and rushed.", "nurses_staff").score, 0);
  EXPECT_GT(result("The lady drawing blood was gentle and quick.", "nurses_staff").score, 0.2);
  EXPECT_LT(
      result("Checked in on time, then sat another hour in the waiting room.", "wait_time").score,
      0);
  // Portal messages and emails left unanswered are online, calls never returned the phones.
  std::string portal = "Portal messages go unanswered for days.";
  EXPECT_LT(result(portal, "online_telehealth").score, 0);
  EXPECT_FALSE(mentions(portal, "phone"));
  EXPECT_LT(
      result("I emailed the office three times and heard nothing.", "online_telehealth").score, 0);
  EXPECT_LT(result("No one at that office will return my calls.", "phone").score, 0);
  EXPECT_LT(result("Their front desk double books every Monday.", "front_desk").score, 0);
  // An ambulance with the patient within minutes arrived quickly: still a wait.
  EXPECT_GT(result("The ambulance was with me within 15 minutes.", "wait_time").score, 0);
}

// Every kind of doctor is the physician (guide: "the doctor/dentist/chiropractor/GP/
// consultant"), with the same exceptions as "doctor": the specialist's office is the practice,
// booking one is scheduling. Hygienists and dental assistants are clinical staff; the scheduler
// is front desk staff.
TEST(SentimentTouchpoints, EveryKindOfDoctorIsThePhysician) {
  EXPECT_GT(result("Our orthodontist is fantastic with teenagers.", "physician").score, 0.2);
  EXPECT_LT(result("The dermatologist barely looked at my mole.", "physician").score, 0);
  EXPECT_GT(result("Best chiropractor in town, my back has never felt better.", "physician").score,
            0.2);
  EXPECT_LT(result("My OB-GYN was dismissive about my pain.", "physician").score, 0);
  EXPECT_LT(result("The hygienist was rough and lectured me the whole time.", "nurses_staff").score,
            0);
  EXPECT_LT(result("Their scheduler is rude and disorganized.", "front_desk").score, 0);
  EXPECT_FALSE(mentions("The cardiologist's office lost my paperwork.", "physician"));
  EXPECT_FALSE(mentions("It took me two months to book a dermatologist.", "physician"));
}

// A test that names who or what does it is that person or machine (guide: technicians are
// clinical staff, equipment is the facility); a broken bone is the patient's condition, broken
// equipment a complaint.
TEST(SentimentTouchpoints, ATestNamingItsTechOrMachineIsThatTechOrMachine) {
  EXPECT_TRUE(mentions("The x-ray tech was rough with my grandmother.", "nurses_staff"));
  EXPECT_FALSE(mentions("The x-ray tech was rough with my grandmother.", "followup_results"));
  EXPECT_FALSE(mentions("The MRI technologist was patient with me.", "followup_results"));
  EXPECT_LT(result("Their MRI machine was broken for the second week in a row.", "facility").score,
            0);
  EXPECT_FALSE(mentions("Their MRI machine was broken again.", "followup_results"));
  EXPECT_TRUE(mentions("Still waiting on my MRI results after ten days.", "followup_results"));
  EXPECT_GT(
      result("Came in with a broken wrist and the nurses were wonderful.", "nurses_staff").score,
      0.2);
}

// What is said of the practice as a whole is no touchpoint's (guide: generic praise or complaint
// about the practice is no touchpoint): a clause that names the office and no touchpoint does not
// go on about the touchpoint before it.
TEST(SentimentTouchpoints, WhatIsSaidOfThePracticeIsNotTheTouchpointBefore) {
  EXPECT_GT(result("Good doctor, terrible office.", "physician").score, 0.2);
  EXPECT_GT(result("The doctor was great and the office is a mess.", "physician").score, 0.2);
  EXPECT_GT(result("Dr. Ruiz was thorough, everything else was a disaster.", "physician").score,
            0.2);
  // "Everything" alone is as often what someone did something to.
  EXPECT_GT(result("Dr. Ruiz was kind and explained everything.", "physician").score, 0.2);
  EXPECT_GT(result("The nurse was kind, everyone else was rude.", "nurses_staff").score, 0.2);
  // A clause with no word for the practice still goes on about the touchpoint before it.
  EXPECT_LT(result("The doctor came in late, rushed and dismissive.", "physician").score, 0);
}

// A clause after "but" with no subject of its own is still about the touchpoint before it, and
// the concrete complaint in it decides (guide: a complaint next to praise is negative); one
// with a subject of its own is not.
TEST(SentimentTouchpoints, AContrastWithoutASubjectIsAboutTheSameTouchpoint) {
  EXPECT_LT(result("Dr. Varga is smart but has no bedside manner at all.", "physician").score, 0);
  EXPECT_LT(result("The nurses are friendly but painfully slow.", "nurses_staff").score, 0);
  EXPECT_GT(result("The hygienist was thorough but never too rough.", "nurses_staff").score, 0.2);
  EXPECT_GT(result("Dr. Varga is great but I waited an hour.", "physician").score, 0.2);
  EXPECT_GT(result("Dr. Varga is great but Sarah at the desk is rude.", "physician").score, 0.2);
}

// A sentence of a few words that names nothing ("Greedy.", "Never again.") judges what the
// sentence before it named.
TEST(SentimentTouchpoints, AShortVerdictJudgesTheSentenceBefore) {
  EXPECT_LT(result("They charged me $90 to copy my records. Outrageous.", "billing").score, 0);
  EXPECT_GT(
      result("Dr. Iqbal fixed my shoulder in two visits. Highly recommend!", "physician").score,
      0.2);
  EXPECT_LT(result("The front desk hung up on me twice. Never again.", "front_desk").score, 0);
  // One that says the opposite is sarcasm or about something else.
  EXPECT_LT(result("They lost my lab results twice. Great.", "followup_results").score, 0);
  EXPECT_LT(result("The wait was two hours. Otherwise great.", "wait_time").score, 0);
  // A longer sentence with no touchpoint is not a verdict on the one before.
  EXPECT_GT(
      result("Dr. Iqbal was kind. My husband hated the whole trip though.", "physician").score,
      0.2);
}

// A sentence that begins with a negated verb has no subject of its own: it goes on about the
// touchpoints of the sentence before, whatever its length.
TEST(SentimentTouchpoints, ANegatedVerbWithoutASubjectGoesOnAboutTheSentenceBefore) {
  EXPECT_LT(result("The receptionist was on her personal phone the whole time I stood there. "
                   "Didn't even look up.",
                   "front_desk")
                .score,
            0);
  EXPECT_LT(result("I told the nurse practitioner about my allergy twice. Never wrote it down, "
                   "never apologized.",
                   "physician")
                .score,
            0);
  EXPECT_GT(result("The nurse took my blood. Didn't hurt at all.", "nurses_staff").score, 0);
  // A sentence with a subject of its own is not about the one before.
  EXPECT_GT(
      result("The hygienist was gentle. My husband didn't like the music at all.", "nurses_staff")
          .score,
      0);
}

// Whoever examines, diagnoses or treats the patient in their own right is the physician
// (guide: its rule for an unnamed clinician), whatever the title.
TEST(SentimentTouchpoints, WhoeverTreatsThePatientIsThePhysician) {
  EXPECT_LT(result("The nurse practitioner prescribed the wrong dose.", "physician").score, 0);
  EXPECT_FALSE(mentions("The nurse practitioner prescribed the wrong dose.", "nurses_staff"));
  EXPECT_GT(result("My physical therapist is patient and encouraging.", "physician").score, 0);
  EXPECT_GT(result("Our counselor really listens.", "physician").score, 0);
  EXPECT_LT(result("The NP barely looked at my son.", "physician").score, 0);
  // Those who assist are clinical staff.
  EXPECT_TRUE(mentions("The medical assistant took my vitals.", "nurses_staff"));
  EXPECT_FALSE(mentions("The medical assistant took my vitals.", "physician"));
}

// Talking on the phone is the phone; a consultation is a telephone consultation only with a
// clinician or a consultation in sight.
TEST(SentimentTouchpoints, TalkingOnThePhoneIsNoConsultation) {
  const std::string text = "The person talking to me on the phone was yawning the whole time.";
  EXPECT_TRUE(mentions(text, "phone"));
  EXPECT_FALSE(mentions(text, "online_telehealth"));
  EXPECT_TRUE(mentions("The doctor on the phone was dismissive.", "online_telehealth"));
}

// A duration after a negated verb is still the delay: "not seen for hours" is no praise.
TEST(SentimentTouchpoints, ANegatedVerbDoesNotTurnADelayIntoPraise) {
  EXPECT_LT(result("We weren't seen for 3 hours.", "wait_time").score, 0);
  EXPECT_LT(result("My son wasn't seen for hours.", "wait_time").score, 0);
  EXPECT_LT(result("Still haven't got my results back after 3 weeks.", "followup_results").score,
            0);
}

// Words in another sense, from general English: a book one reads, being struck off a practice's
// list, an elevator that works or not, what parking costs.
TEST(SentimentTouchpoints, SensesOfBookDischargeElevatorAndParkingFees) {
  // Finding the place is access; finding appointments or help is not, and trying hard is
  // praise; an appointment system that is not accessible is no wheelchair matter.
  EXPECT_FALSE(
      mentions("She tries very hard to find hospital appointments for me.", "parking_access"));
  EXPECT_GT(result("She tries very hard to find hospital appointments for me.", "scheduling").score,
            0);
  EXPECT_GT(result("The receptionists work so hard for us.", "front_desk").score, 0);
  EXPECT_LT(result("The office is hard to find.", "parking_access").score, 0);
  EXPECT_LT(result("It is hard to find a parking space.", "parking_access").score, 0);
  EXPECT_FALSE(
      mentions("The appointment system is not accessible for people who work.", "parking_access"));
  EXPECT_TRUE(mentions("The building is not wheelchair accessible.", "parking_access"));
  EXPECT_FALSE(mentions("Dr Park is great but you will wait. Bring a book.", "scheduling"));
  EXPECT_TRUE(mentions("It took me a week to book a physical.", "scheduling"));
  EXPECT_FALSE(
      mentions("A third no-show will get me discharged from the practice.", "followup_results"));
  EXPECT_TRUE(mentions("Nobody explained my discharge instructions.", "followup_results"));
  EXPECT_LT(result("The elevator was broken so I had to take the stairs.", "facility").score, 0);
  EXPECT_FALSE(mentions("Their office is on the third floor with no elevator.", "facility"));
  EXPECT_TRUE(mentions("Their office is on the third floor with no elevator.", "parking_access"));
  EXPECT_FALSE(mentions("The parking garage charges $18 a visit.", "billing"));
  EXPECT_TRUE(mentions("The parking garage charges $18 a visit.", "parking_access"));
  EXPECT_LT(result("Parking costs a fortune.", "parking_access").score, 0);
  EXPECT_FALSE(mentions("Parking costs a fortune.", "billing"));
  EXPECT_LT(result("The car park fees are extortionate.", "parking_access").score, 0);
  EXPECT_LT(result("They charged me $200 for a five minute visit.", "billing").score, 0);
}

// Praise that is said with a negation or with a word that usually complains.
TEST(SentimentTouchpoints, PraiseSaidWithANegation) {
  EXPECT_GT(result("The dentist never once made me feel judged.", "physician").score, 0);
  EXPECT_LT(result("The receptionist didn't make me feel welcome.", "front_desk").score, 0);
  EXPECT_GT(result("The hygienist didn't lecture me about flossing.", "nurses_staff").score, 0);
  EXPECT_GT(result("No surprise bills, everything was quoted up front.", "billing").score, 0);
  EXPECT_GT(result("They put me on a payment plan with no interest.", "billing").score, 0);
  EXPECT_LT(result("The surgeon showed no interest in my questions.", "physician").score, 0);
  const std::string waived = "They waived the late fee when my flight was cancelled.";
  EXPECT_GT(result(waived, "billing").score, 0);
  EXPECT_FALSE(mentions(waived, "wait_time"));
  EXPECT_GT(result("My lab results were ready in 20 minutes.", "followup_results").score, 0);
  EXPECT_GT(result("Free parking, one less thing to worry about.", "parking_access").score, 0);
  // Worry about a symptom is the patient's, not a judgement of whoever treats it.
  EXPECT_GE(
      result("She referred me to a dermatologist for a mole I'd been worried about.", "physician")
          .score,
      0);
  // Results back in two days are a fact, not a delay; "no less" is emphasis.
  EXPECT_GE(result("My blood results were back in two days.", "followup_results").score, 0);
  EXPECT_GE(result("The surgeon called from his daughter's recital, no less.", "physician").score,
            0);
}

// Complaints that carry no ordinary sentiment word: selling, a shrug, notes not read, a brick
// wall, the calls it took, sarcasm, being called back to a room late.
TEST(SentimentTouchpoints, ComplaintsWithoutASentimentWord) {
  EXPECT_LT(result("The pharmacy didn't have my meds ready.", "prescriptions").score, 0);
  // What the patient did not have before is their story, what they do not have now a complaint.
  EXPECT_GT(
      result("I didn't have a family doctor for a year before Dr. Moss took me on.", "physician")
          .score,
      -0.05);
  EXPECT_LT(
      result("We don't have a named GP and see someone different every time.", "followup_results")
          .score,
      0);
  EXPECT_LT(result("The call handler was polite but I was 17th in the queue.", "phone").score,
            -0.2);
  EXPECT_LT(result("The doctor was kind but offered no treatment plan at all.", "physician").score,
            0);
  EXPECT_LT(result("It is taking ages to get my referral sent.", "followup_results").score, 0);
  EXPECT_LT(
      result("They don't follow up on anything and the care is fine.", "followup_results").score,
      0);
  EXPECT_LT(
      result("Nice enough nurses who didn't follow through on my care plan.", "nurses_staff").score,
      0);
  EXPECT_LT(result("The receptionist seemed unaware of how the portal works.", "front_desk").score,
            0);
  EXPECT_LT(result("The doctor spent the visit trying to sell me vitamins.", "physician").score, 0);
  EXPECT_LT(
      result("I asked where my results were and the receptionist just shrugged.", "front_desk")
          .score,
      0);
  EXPECT_LT(result("The surgeon hadn't read my notes.", "physician").score, -0.3);
  EXPECT_LT(result("Getting past reception is like hitting a brick wall.", "front_desk").score, 0);
  EXPECT_LT(result("The rudest receptionist I have ever dealt with.", "front_desk").score, 0);
  EXPECT_LT(result("Took three phone calls to get my bill corrected.", "billing").score, 0);
  EXPECT_LT(
      result("They talked about my diagnosis at the front desk. So much for privacy.", "privacy")
          .score,
      0);
  EXPECT_LT(result("Please sort out the phone system.", "phone").score, -0.2);
  // Called back to a room late is the wait on the day, not a phone call.
  const std::string late = "I wasn't called back until 4:10 for a 2:30 appointment.";
  EXPECT_LT(result(late, "wait_time").score, 0);
  EXPECT_FALSE(mentions(late, "phone"));
  EXPECT_GT(result("We were called back to a room within 10 minutes.", "wait_time").score, 0);
  EXPECT_TRUE(mentions("Nobody called back.", "phone"));
  // Ringing at 8 on the dot is the patient's punctuality, no praise of the phones.
  EXPECT_LE(result("I rang at 8am on the dot and all the appointments were gone.", "phone").score,
            0);
}

// Privacy (guide: confidentiality, personal information disclosed, being discussed in front of
// others) in the words patients use for it.
TEST(SentimentTouchpoints, PrivacyInThePatientsOwnWords) {
  EXPECT_LT(result("The pharmacy handed my prescription to someone else.", "privacy").score, 0);
  EXPECT_LT(
      result("The nurse weighed me in the corridor with other patients walking by.", "privacy")
          .score,
      0);
  EXPECT_GT(result("The nurse took my blood pressure in a private room.", "nurses_staff").score,
            -0.05);
  EXPECT_LT(
      result("The walls are so thin you can hear every word from the next room.", "privacy").score,
      0);
  EXPECT_LT(result("The surgeon went over my biopsy results in the hallway where other patients "
                   "could hear.",
                   "privacy")
                .score,
            0);
  EXPECT_LT(result("A student sat in on my exam without my consent.", "privacy").score, 0);
  EXPECT_TRUE(mentions("She announced my test in front of the waiting room.", "privacy"));
  EXPECT_TRUE(mentions("The office mailed my lab results to my old employer.", "privacy"));
  // Sending results where they belong is follow-up, not a disclosure.
  EXPECT_FALSE(mentions("They sent my results to my GP the same day.", "privacy"));
}

// Names and roles of US and NHS care that patients use: a triage nurse is a nurse, a nurse line
// is the phones, pharmacy chains and their techs are the pharmacy, booking sites are online.
TEST(SentimentTouchpoints, RolesAndNamesOfCare) {
  const std::string triage = "The triage nurse was dismissive and made me feel like a nuisance.";
  EXPECT_LT(result(triage, "nurses_staff").score, 0);
  EXPECT_FALSE(mentions(triage, "scheduling"));
  EXPECT_TRUE(mentions("It took three weeks to see my own doctor.", "scheduling"));
  EXPECT_GT(result("The after-hours nurse line talked me through her fever at 3am.", "phone").score,
            0);
  EXPECT_TRUE(mentions("They sent my antibiotics to the CVS on Main Street.", "prescriptions"));
  const std::string tech = "The pharmacy tech was rude about my insurance card.";
  EXPECT_TRUE(mentions(tech, "prescriptions"));
  EXPECT_FALSE(mentions(tech, "nurses_staff"));
  EXPECT_TRUE(mentions("I booked on Zocdoc and they had no record of it.", "online_telehealth"));
  EXPECT_TRUE(mentions("Results were on the app by lunchtime.", "online_telehealth"));
  const std::string lactation = "The lactation consultant never came.";
  EXPECT_TRUE(mentions(lactation, "nurses_staff"));
  EXPECT_FALSE(mentions(lactation, "physician"));
  EXPECT_LT(result("The check-in kiosk was broken again.", "facility").score, 0);
  EXPECT_GT(result("We got in the same day.", "scheduling").score, 0);
}

// A concrete complaint next to praise of the same touchpoint is a complaint (guide: "the
// handler was kind but I was on hold for 77 minutes" is phone negative; negatives decide alerts).
TEST(SentimentTouchpoints, AConcreteComplaintNextToPraiseIsAComplaint) {
  EXPECT_LT(result("Lovely, friendly, helpful receptionists who lost my referral letter twice.",
                   "front_desk")
                .score,
            -0.3);
  EXPECT_LT(result("Dr. Shah is kind, funny and thorough and he misdiagnosed my broken wrist.",
                   "physician")
                .score,
            -0.3);
  // A mild complaint does not outweigh the praise, nor one that a "but" turns past.
  EXPECT_GT(result("Lovely, friendly receptionists, a bit slow at times.", "front_desk").score, 0);
  EXPECT_GT(result("The receptionist was rude at first but then incredibly helpful and kind.",
                   "front_desk")
                .score,
            0);
  // Praise of the doctor and a complaint about the office in one clause: the office is the
  // practice's, not the doctor's.
  EXPECT_GT(result("The doctor was great and the office is a mess.", "physician").score, 0.2);
}

// "One of them", "some of them" are the people just named.
TEST(SentimentTouchpoints, APartOfThemIsThePeopleJustNamed) {
  EXPECT_LT(result("The hygienists are sweet but one of them was really rough with my son.",
                   "nurses_staff")
                .score,
            0);
  EXPECT_GT(result("The paramedics were brilliant. One of them held my hand the whole way.",
                   "nurses_staff")
                .score,
            0.2);
  // Someone else's "them" in a sentence of its own is not carried.
  EXPECT_GT(result("The nurses were lovely. My kids loved them.", "nurses_staff").score, 0.2);
}

// Conditions whose context words have spaces in them: the waiting room hearing, the cold office,
// logging in to "my chart".
TEST(SentimentTouchpoints, ContextPhrasesOfSeveralWords) {
  EXPECT_LT(result("The exam rooms are always freezing.", "facility").score, 0);
  EXPECT_LT(result("She read my weight out so the whole waiting room could hear.", "privacy").score,
            0);
  EXPECT_TRUE(mentions("I cannot log in to my chart since the update.", "online_telehealth"));
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
  // Asked for with "keep to", "try to", or wished for in a condition.
  EXPECT_LT(result("Keep to appointments when made.", "scheduling").score, 0);
  EXPECT_LT(result("Try to answer the phone faster.", "phone").score, -0.3);
  EXPECT_LT(result("If the doctor was more communicative and looked interested in what I was "
                   "telling him",
                   "physician")
                .score,
            0);
  // Not a request: keeping up the good work is praise.
  EXPECT_GT(result("Keep up the good work, the nurses are lovely.", "nurses_staff").score, 0);
}

// Strong words the lexicon used to miss.
TEST(SentimentTouchpoints, StrongWordsOfFeeling) {
  EXPECT_LT(analyzer().analyze("I was mortified").score, -0.4);
  EXPECT_LT(analyzer().analyze("Honestly horrified by how I was treated").score, -0.4);
  EXPECT_LT(result("The receptionist was callous.", "front_desk").score, -0.4);
  EXPECT_LT(result("The GP was uncommunicative.", "physician").score, -0.3);
  // "No" before a noun does not reach past it to turn the next judgement round.
  EXPECT_LT(result("the gp showed no interest was unfriendly and cold", "physician").score, -0.3);
}

// Drivers of patient transport are staff; a health visitor too.
// Contact with the practice with no channel named is the phone (guide).
TEST(SentimentTouchpoints, ContactWithNoChannelNamedIsThePhone) {
  EXPECT_LT(result("It is impossible to get hold of anyone at this surgery.", "phone").score, 0);
  EXPECT_LT(result("Frustrating that I cannot contact my doctor directly.", "phone").score, 0);
  EXPECT_LT(result("Very hard to communicate with the practice about anything.", "phone").score, 0);
}

// An ambulance asked to come sooner is the wait (guide: an ambulance arriving quickly or late).
TEST(SentimentTouchpoints, AnAmbulanceSoonerIsTheWait) {
  EXPECT_LT(
      result("Please send a quicker ambulance next time, my dad was on the floor.", "wait_time")
          .score,
      0);
  EXPECT_FALSE(mentions("The ambulance crew were lovely.", "wait_time"));
}

TEST(SentimentTouchpoints, TransportDriversAreStaff) {
  EXPECT_GT(result("The HCAs on the ward were so kind to my dad.", "nurses_staff").score, 0);
  EXPECT_LT(result("The porters left her in a corridor for an hour.", "nurses_staff").score, 0);
  EXPECT_GT(result("Ambulance driver very friendly.", "nurses_staff").score, 0);
  EXPECT_GT(result("Fantastic health visitor, explained everything.", "nurses_staff").score, 0);
}

// Survey exports strip punctuation: a capitalized noun after "and", "the", "to"... does not
// start a sentence ("The Doctors and Nurses are very thorough" praises both).
TEST(SentimentTouchpoints, UnpunctuatedCapitalizedNounsStayInTheirSentence) {
  std::string text = "The Doctors and Nurses at this practice are very thorough and caring always";
  EXPECT_GT(result(text, "physician").score, 0.3);
  EXPECT_GT(result(text, "nurses_staff").score, 0.3);
  // A capitalized word after a word that can end a sentence still starts one.
  std::string two = "the wait was very long and tiring for us Reception staff were lovely";
  EXPECT_LT(result(two, "wait_time").score, 0);
  EXPECT_GT(result(two, "front_desk").score, 0);
}

// "... and the doctors too", "as well": an elliptical segment says what the one before said.
TEST(SentimentTouchpoints, TooAndAsWellRepeatWhatWasSaid) {
  EXPECT_GT(result("Staff are very helpful and the doctors too", "physician").score, 0.3);
  EXPECT_LT(
      result("The receptionist was rude, and the office manager as well.", "front_desk").score,
      -0.3);
  // Not across a contrast.
  std::string text = "The nurses were lovely but the doctor too busy to talk too";
  EXPECT_LE(result(text, "physician").score, 0);
}

// General words of judgement the lexicon used to miss (lexicon 2026.2): a facility that is
// beautiful, fair prices, an indifferent receptionist.
TEST(SentimentTouchpoints, GeneralWordsOfJudgement) {
  EXPECT_GT(result("The new building is beautiful.", "facility").score, 0.3);
  EXPECT_GT(result("Their prices are fair.", "billing").score, 0.2);
  EXPECT_LT(result("The receptionists are completely indifferent.", "front_desk").score, -0.3);
  EXPECT_LT(result("Waiting room is dingy and cramped.", "facility").score, -0.3);
  EXPECT_LT(result("The portal is glitchy and the app is buggy.", "online_telehealth").score, -0.3);
  EXPECT_LT(result("I hate calling this office, nobody picks up.", "phone").score, -0.3);
}

// Complaints said without an evaluative word: a delay, a failure, a wish (lexicon 2026.2).
TEST(SentimentTouchpoints, ComplaintConstructions) {
  EXPECT_LT(result("It took me weeks to get a telephone appointment.", "online_telehealth").score,
            -0.2);
  EXPECT_LT(result("It took several days to get my prescription.", "prescriptions").score, -0.2);
  EXPECT_LT(result("Would it kill you to answer the phone?", "phone").score, -0.2);
  EXPECT_LT(result("It would be very useful to have a proper website.", "online_telehealth").score,
            -0.2);
  EXPECT_LT(result("The patient portal needs a lot of work.", "online_telehealth").score, -0.2);
  EXPECT_LT(result("Their billing leaves a lot to be desired.", "billing").score, -0.2);
}

// Guide: a doctor who is only part of the story is no physician mention; a doctor running
// late is the wait; seeing the same doctor is continuity of care; email is online.
TEST(SentimentTouchpoints, BystanderDoctors) {
  EXPECT_FALSE(mentions("I got a call from a doctor two days later.", "physician"));
  EXPECT_FALSE(mentions("The hospital said they sent the results to my GP.", "physician"));
  EXPECT_FALSE(mentions("I'm a doctor myself and the nurses here are superb.", "physician"));
  EXPECT_FALSE(mentions("The receptionist liaised with the GP and rang me back.", "physician"));
  std::string late = "The doctor is always running late.";
  EXPECT_FALSE(mentions(late, "physician"));
  EXPECT_LT(result(late, "wait_time").score, 0);
  std::string same = "I never see the same doctor twice.";
  EXPECT_FALSE(mentions(same, "physician"));
  EXPECT_TRUE(mentions(same, "followup_results"));
  // Judged, the doctor is one.
  EXPECT_GT(result("I went to my GP and she was wonderful.", "physician").score, 0);
  std::string email = "They never answer emails.";
  EXPECT_FALSE(mentions(email, "phone"));
  EXPECT_LT(result(email, "online_telehealth").score, 0);
}

// A capitalized word after a title is a name: "Dr. Park" is no parking, "Dr. Bill Evans" no bill.
TEST(SentimentTouchpoints, NamesAfterTitlesAreNotTouchpoints) {
  EXPECT_FALSE(mentions("Dr. Park did my crown in one visit.", "parking_access"));
  EXPECT_FALSE(mentions("Dr Bill Evans is great", "billing"));
  EXPECT_TRUE(mentions("Dr. Park did my crown in one visit.", "physician"));
  EXPECT_TRUE(mentions("Parking was easy.", "parking_access"));
  EXPECT_LT(result("The building is hard to find.", "parking_access").score, 0);
}

// "My appointment" is the visit unless getting, changing or the availability of it is what is
// said of (guide: scheduling is booking and availability, not the visit).
TEST(SentimentTouchpoints, MyAppointmentIsTheVisit) {
  EXPECT_FALSE(mentions("The nurse was lovely during my appointment.", "scheduling"));
  EXPECT_FALSE(mentions("At the appointment the doctor barely looked at me.", "scheduling"));
  EXPECT_LT(result("My appointment was cancelled twice.", "scheduling").score, 0);
  EXPECT_LT(result("The appointment system is a nightmare.", "scheduling").score, 0);
  EXPECT_LT(result("Impossible to get an appointment.", "scheduling").score, 0);
}

// A touchpoint that nothing is said of directly takes what its sentence (up to a contrast) says
// when that part is all one way (guide: polarity is what the review says about that touchpoint;
// "Great doctor, highly recommend" is physician positive): a clearly negative or positive
// sentence that names it is about it too. Mixed words, another sentence, the other side of a
// contrast, or a segment cut at "and" from the words that follow keep it neutral.
TEST(SentimentTouchpoints, AMentionWithoutItsOwnWordsTakesItsSentencesPolarity) {
  const std::string story = "Horrible experience overall, I saw Dr. Lee on Tuesday.";
  EXPECT_LT(result(story, "physician").score, -0.05);
  EXPECT_EQ(evidence(story, "physician"), (std::vector<std::string>{"Horrible", "Dr. Lee"}));
  EXPECT_GT(
      result("Highly recommend, been going to this dentist for ten years.", "physician").score,
      0.05);
  const std::string all = "From the receptionist to the doctor, everyone was wonderful.";
  EXPECT_GT(result(all, "front_desk").score, 0.05);
  EXPECT_GT(result(all, "physician").score, 0.05);
  EXPECT_EQ(result("The nurse was lovely but the billing office was rude and I saw the doctor.",
                   "physician")
                .score,
            0);
  EXPECT_EQ(result("Terrible parking. I saw the doctor on Monday.", "physician").score, 0);
  // "Higher than quoted" is billing's own complaint (lexicon 2026.5), not the sentence's praise.
  EXPECT_LT(
      result("Everything was great except the copay was higher than quoted.", "billing").score, 0);
  EXPECT_EQ(result("Everything was great except for the insurance paperwork.", "billing").score, 0);
  EXPECT_EQ(result("Got a same-day appointment and the nurse was kind.", "scheduling").score, 0);
}

// A review typed without sentence punctuation: its clause boundaries are guesses, so a
// touchpoint named in it without words of its own shares the review's tone (guide: a complaint
// about the visit that names the receptionist is a complaint the front desk owns). Punctuated,
// the same words keep it neutral: nothing is said of it.
TEST(SentimentTouchpoints, UnpunctuatedReviewsLendTheirToneToUnjudgedTouchpoints) {
  const std::string angry =
      "horrible experience from start to finish i waited an hour past my time then the "
      "receptionist sent me to the lab across town and nobody could tell me why the doctor "
      "ordered the tests i will be finding a new practice";
  EXPECT_LT(result(angry, "front_desk").score, -0.05);
  EXPECT_EQ(evidence(angry, "front_desk"), (std::vector<std::string>{"receptionist"}));
  const std::string glad =
      "i am so thankful for this office the doctor spent real time with me and answered all my "
      "questions then the receptionist booked my follow up and my refill was at the pharmacy "
      "that afternoon";
  EXPECT_GT(result(glad, "front_desk").score, 0.05);
  EXPECT_GT(result(glad, "prescriptions").score, 0.05);
  EXPECT_EQ(result("I am so thankful for this office. The doctor spent real time with me. Then "
                   "the receptionist booked my follow up.",
                   "front_desk")
                .score,
            0);
}

// "Family medicine", "internal medicine": a specialty (US reviews name them often), not what is
// prescribed; the medicine one picks up is still a prescription.
TEST(SentimentTouchpoints, MedicineAsASpecialtyIsNoPrescription) {
  EXPECT_FALSE(mentions("My family medicine doctor is great.", "prescriptions"));
  EXPECT_FALSE(
      mentions("She is board certified in internal medicine and very thorough.", "prescriptions"));
  EXPECT_FALSE(mentions("Honestly he is not fit to practice medicine.", "prescriptions"));
  EXPECT_TRUE(mentions("The pharmacy never had my medicine ready.", "prescriptions"));
}

// Guide: a complaint or a suggestion that names its object is negative for it, even without an
// evaluative word ("the only downside is ...", "would love it if they ..."); "changed my life" is
// praise.
TEST(SentimentTouchpoints, ComplaintsAndWishesThatNameTheirObject) {
  EXPECT_LT(result("The only downside is the billing department.", "billing").score, -0.05);
  EXPECT_LT(
      result("Great doctor. The one thing I would change is the front desk.", "front_desk").score,
      -0.05);
  EXPECT_LT(result("Would love it if they answered the phone once in a while.", "phone").score,
            -0.05);
  EXPECT_GT(result("I wouldn't change a thing about the front desk.", "front_desk").score, 0.05);
  EXPECT_GT(
      result("Dr. Smith put me on a new medication and it changed my life.", "physician").score,
      0.05);
}

// Getting through the forms or the day is not getting through on the phone.
TEST(SentimentTouchpoints, GettingThroughTheFormsIsNotThePhone) {
  EXPECT_FALSE(mentions("It took forever to get through the forms at check-in.", "phone"));
  EXPECT_TRUE(mentions("Took an hour to get through to the practice.", "phone"));
}

// Guide: opening hours are access; the time of one's appointment, overrun, is the wait on the
// day (not the booking).
TEST(SentimentTouchpoints, OpeningHoursAndAppointmentTimes) {
  EXPECT_LT(result("Consider offering extended hours in the early mornings or weekends.",
                   "parking_access")
                .score,
            -0.05);
  EXPECT_LT(result("Their office hours are terrible, closed at lunch and never open on Saturdays.",
                   "parking_access")
                .score,
            -0.05);
  EXPECT_FALSE(
      mentions("Consider offering extended hours in the early mornings or weekends.", "wait_time"));
  const std::string late = "Doc was running late again, I was seen 40 mins after my appt time";
  EXPECT_LT(result(late, "wait_time").score, -0.05);
  EXPECT_FALSE(mentions(late, "scheduling"));
  EXPECT_FALSE(mentions(late, "physician"));  // a bystander, as "the doctor was running late"
}

// Phrases of several words among alternatives go in parentheses ("a|b c" is two words): the
// shipped taxonomy's "turned up", "out of order", "on time", "long time" work as the guide means.
TEST(SentimentTouchpoints, MultiWordAlternativesInTheShippedTaxonomy) {
  EXPECT_LT(result("The ambulance was slow to arrive.", "wait_time").score, -0.05);
  EXPECT_LT(result("The elevator was out of order again.", "parking_access").score, -0.05);
  EXPECT_LT(result("We sat in that lobby forever.", "wait_time").score, -0.05);
  EXPECT_LT(result("The doctor ran late, I was seen an hour past my appointment time.", "wait_time")
                .score,
            -0.05);
  EXPECT_FALSE(
      mentions("The doctor ran late, I was seen an hour past my appointment time.", "physician"));
}

// "He" or "she" at the start of a sentence is the one person the sentence before spoke of
// (taxonomy key `people`): what that sentence says is said of them.
TEST(SentimentTouchpoints, HeOrSheIsThePersonOfTheSentenceBefore) {
  EXPECT_LT(
      result("Dr. Patel is new to me. She never listened and rushed me out.", "physician").score,
      0);
  EXPECT_GT(result("Saw Dr. Lee last week. He was wonderful and explained everything.", "physician")
                .score,
            0);
  EXPECT_LT(
      result("The receptionist checked me in. She was rude and dismissive.", "front_desk").score,
      0);
  EXPECT_LT(
      result("My nurse today was Jen. And she was so rude with the needle.", "nurses_staff").score,
      0);
  // On, sentence after sentence, while each begins with he or she.
  EXPECT_LT(result("Dr. Ruiz is new here. She seemed nice. She never listened and got my history "
                   "wrong.",
                   "physician")
                .score,
            0);
  // The words that say it are the evidence.
  const auto ev = evidence("Dr. Patel is new to me. She was rude.", "physician");
  EXPECT_NE(std::find(ev.begin(), ev.end(), "rude"), ev.end());
}

TEST(SentimentTouchpoints, HeOrSheWithAnotherPossiblePersonIsNobodys) {
  // Someone else the sentence before named could be "he".
  EXPECT_EQ(result("The doctor saw my son. He was scared and crying.", "physician").score, 0);
  EXPECT_EQ(result("Dr. Shah treated my husband. He was in awful pain.", "physician").score, 0);
  // Two people of the practice: either could be "she".
  EXPECT_EQ(result("The nurse and the doctor came in. She was rude.", "physician").score, 0);
  EXPECT_EQ(result("The nurse and the doctor came in. She was rude.", "nurses_staff").score, 0);
  // Only the sentence right before counts, and "they" is not carried (often the practice).
  EXPECT_GE(result("I liked Dr. Kim. The parking lot was full. She was rude.", "physician").score,
            0);
  EXPECT_EQ(result("The receptionist checked me in. They lost my file.", "front_desk").score, 0);
  // A touchpoint that names no person is not "he" or "she".
  EXPECT_EQ(result("Billing sent the statement. She was rude.", "billing").score, 0);
}

// The phone touchpoint is the practice's phones, not someone's own (guide: phoning the
// practice, getting through, the practice's communication by phone).
TEST(SentimentTouchpoints, SomeonesOwnPhoneIsNotThePractices) {
  EXPECT_FALSE(mentions("The receptionist was on her phone the whole time.", "phone"));
  EXPECT_FALSE(mentions("Dr. Reyes kept checking his phone during the exam.", "phone"));
  EXPECT_LT(result("Their phones are always busy.", "phone").score, 0);
  EXPECT_LT(result("The phone is never answered.", "phone").score, 0);
  EXPECT_FALSE(mentions("The MA was texting on her personal phone the entire visit.", "phone"));
  EXPECT_FALSE(mentions("He kept checking his cell phone while I talked.", "phone"));
}

}  // namespace
}  // namespace repwatch::sentiment
