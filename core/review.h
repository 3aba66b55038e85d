// repwatch/core/review.h - the review model shared by every module.
//
// One `Review` per (source id, external id). A connector fills everything but `rating`;
// normalize/ maps the rating as given (`raw_rating` on `scale`) onto 1..5 and fills `rating`.
// Times are UTC seconds since the epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace repwatch {

// The scale a source gives its rating on.
struct RatingScale {
  enum class Kind {
    kNone,    // the source gives no rating (text only)
    kLinear,  // a number from `lo` to `hi`: 1..5 stars, 1..10, 0..10 NPS, 0..100 percent
    kBinary,  // recommend (1) / not recommend (0), e.g. Facebook recommendations
  };
  Kind kind = Kind::kLinear;
  double lo = 1;
  double hi = 5;

  static RatingScale stars() { return {Kind::kLinear, 1, 5}; }
  static RatingScale binary() { return {Kind::kBinary, 0, 1}; }
  static RatingScale none() { return {Kind::kNone, 0, 0}; }
  static RatingScale linear(double lo, double hi) { return {Kind::kLinear, lo, hi}; }

  // "1-5", "1-10", "0-10", "0-100", "binary", "none"; also "stars" (= 1-5), "nps" (= 0-10),
  // "percent" (= 0-100). Throws ConfigError naming the text for anything else.
  static RatingScale parse(const std::string& text);
  // The inverse of parse(): "1-5", "0-10", "binary", "none"...
  std::string to_string() const;

  bool operator==(const RatingScale&) const = default;
};

struct Review {
  // Identity: unique per (source_id, external_id).
  std::string source_id;    // the [[sources]] id in the config
  std::string external_id;  // the source's own stable id of the review
  std::string location_id;  // the clinic location the source belongs to

  std::string author;                // display name as the source shows it; may be empty
  std::optional<double> raw_rating;  // rating as given, on `scale`; absent when none given
  RatingScale scale = RatingScale::stars();
  std::optional<double> rating;  // normalized onto 1..5 by normalize/; absent when none

  std::string text;             // full text (or the excerpt the source gives); may be empty
  std::string language;         // BCP 47 code if the source says, e.g. "en", "es"; or ""
  std::string translated_text;  // a translation the source supplied, if any

  int64_t created_at = 0;           // UTC epoch seconds
  int64_t updated_at = 0;           // UTC epoch seconds; == created_at if never edited
  std::string reply_text;           // the practice's public reply, if any
  std::optional<int64_t> reply_at;  // when the reply was written or last changed
  std::string url;                  // link to the review (for the alert's "reply" link)
};

// A stable digest of the fields whose change makes an edit: author, rating as given, text,
// reply and update time. Two fetches of an unchanged review give the same hash.
std::string content_hash(const Review& review);

}  // namespace repwatch
