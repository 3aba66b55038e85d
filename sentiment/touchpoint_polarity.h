// repwatch/sentiment/touchpoint_polarity.h - where a touchpoint's polarity comes from when
// nothing in its own clause judges it. Internal to sentiment/ (the analyzer's attribution).
//
// A touchpoint's score is, in this order of preference (each a raw, not yet normalised sum of
// weighted term valences):
//   1. what is said of it: the terms of the segments that mention it or go on about it, at
//      most its most negative one when that is a concrete complaint (own_score);
//   2. what its sentence says when that sentence says nothing of any other touchpoint, or says
//      it all one way ("Saw the doctor on Monday and could not have been more pleased");
//   3. in a text without sentence punctuation (survey exports, free text typed on a phone), the
//      tone of the whole review. There the clause boundaries are guesses (sentiment/analyzer.cpp
//      step 3), so "nothing is said of it" is as likely a wrong cut as a fact: a touchpoint named
//      between other grievances in one long unpunctuated complaint ("... the receptionist ...")
//      is part of that complaint. In punctuated text the clauses are known and a touchpoint that
//      nothing judges stays neutral, as the guide says ("Terrible parking. I saw the doctor on
//      Monday." says nothing of the doctor). Its evidence stays the mention alone.
#pragma once

#include <algorithm>
#include <cmath>

namespace repwatch::sentiment::detail {

// What is said of a touchpoint (raw), from the sum of its own weighted terms and the most
// negative of them: a concrete complaint next to praise of the same touchpoint is a complaint
// (guide: "the handler was kind but I was on hold for 77 minutes" is phone negative; negatives
// decide alerts). A complaint is concrete when its weighted valence is at most
// kConcreteComplaint ("rude", "on hold for", "never called back"; not "a bit slow", and not a
// complaint that a "but" after it halves); the score is then at most that complaint's.
constexpr double kConcreteComplaint = -2.0;
inline double own_score(double sum, double most_negative) {
  return most_negative <= kConcreteComplaint ? std::min(sum, most_negative) : sum;
}

// The score (normalised, -1..1) a touchpoint takes when neither its own words nor its sentence
// judge it: the review's `review_score` in a text without sentence marks, else 0.
inline double untold_score(bool has_sentence_marks, double review_score) {
  return has_sentence_marks ? 0 : review_score;
}

// The raw score of a touchpoint from its own terms (`own`), its sentence's unclaimed terms
// (`sentence`), else `untold` (untold_score(), normalised: it is mapped back to a raw sum, so
// that normalising with `alpha` gives it again).
inline double touchpoint_raw_score(double own, double sentence, double untold, double alpha) {
  if (own != 0) return own;
  if (sentence != 0) return sentence;
  if (untold <= -1 || untold >= 1) return untold * 1e6;
  return untold * std::sqrt(alpha / (1 - untold * untold));  // inverse of s / sqrt(s^2 + alpha)
}

}  // namespace repwatch::sentiment::detail
