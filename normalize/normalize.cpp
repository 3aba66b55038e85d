#include "normalize/normalize.h"

#include <algorithm>
#include <cmath>

namespace repwatch {

std::optional<double> to_stars(double raw, const RatingScale& scale) {
  if (!std::isfinite(raw)) return std::nullopt;
  switch (scale.kind) {
    case RatingScale::Kind::kNone:
      return std::nullopt;
    case RatingScale::Kind::kBinary:
      return raw >= 0.5 ? 5.0 : 1.0;
    case RatingScale::Kind::kLinear: {
      if (!(scale.hi > scale.lo)) return std::nullopt;
      double x = std::clamp(raw, scale.lo, scale.hi);
      return 1.0 + 4.0 * (x - scale.lo) / (scale.hi - scale.lo);
    }
  }
  return std::nullopt;
}

void normalize(Review& review) {
  review.rating = review.raw_rating ? to_stars(*review.raw_rating, review.scale) : std::nullopt;
}

}  // namespace repwatch
