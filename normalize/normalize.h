// repwatch/normalize/normalize.h - every source's rating onto one 1..5 scale.
//
//   1..5 stars          as is
//   1..10, 0..10, 0..100 and any LO-HI   linear onto 1..5: 1 + 4 * (x - lo) / (hi - lo)
//   binary (recommend)  1 -> 5, 0 -> 1; the sentiment of the text refines it later
//   none                no rating
// Values outside the scale are clamped onto it; NaN and infinities give no rating.
#pragma once

#include <optional>

#include "core/review.h"

namespace repwatch {

std::optional<double> to_stars(double raw, const RatingScale& scale);

// Fills review.rating from review.raw_rating and review.scale.
void normalize(Review& review);

}  // namespace repwatch
