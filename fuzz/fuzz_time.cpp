// fuzz_time: the timestamp, duration and rating-scale parsers of core/ (every connector and
// the config run outside text through them).
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/review.h"
#include "core/time.h"
#include "fuzz/fuzz.h"

REPWATCH_FUZZ_TARGET(time) {
  std::string_view text = repwatch::fuzz::as_text(data, size);

  if (auto t = repwatch::parse_timestamp(text)) {
    // Years 0000..9999 with offsets of at most a day: the result stays near that range.
    FUZZ_CHECK(*t > -62'200'000'000LL && *t < 253'500'000'000LL, std::to_string(*t));
    std::string back = repwatch::format_timestamp(*t);
    if (back.size() == 20) {  // "YYYY-MM-DDThh:mm:ssZ": years 0..9999 print that way
      auto again = repwatch::parse_timestamp(back);
      FUZZ_CHECK(again && *again == *t, back);
    }
    FUZZ_CHECK(repwatch::format_date(*t).size() >= 10, back);
  }

  if (auto d = repwatch::parse_duration(text)) {
    FUZZ_CHECK(*d >= 0, std::to_string(*d));
  }

  try {
    auto scale = repwatch::RatingScale::parse(std::string(text));
    if (scale.kind == repwatch::RatingScale::Kind::kLinear) {
      FUZZ_CHECK(scale.lo < scale.hi, scale.to_string());
    }
    (void)scale.to_string();
  } catch (const repwatch::ConfigError&) {
  }

  // Any 8 bytes as epoch seconds: formatting must not invoke undefined behaviour.
  if (size >= 8) {
    int64_t t;
    std::memcpy(&t, data, sizeof t);
    (void)repwatch::format_timestamp(t);
  }
  return 0;
}
