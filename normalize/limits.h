// repwatch/normalize/limits.h - caps on what outside input can make the database hold.
//
// Every review passes limit_review() in the pipeline (pipeline/pipeline.cpp fetch_and_score)
// after normalize() and before it is analyzed or stored, whatever connector it came from:
//   - every text field becomes valid UTF-8 (an invalid byte becomes U+FFFD) without control
//     characters: multi-line fields (text, translation, reply) keep tab and line feed, a CR or
//     CRLF becomes a line feed; one-line fields (author, url, language, location) turn tab and
//     line breaks into spaces. So no review carries terminal escape sequences (ESC, C1 CSI) or
//     line-overwriting carriage returns into `repwatch` output or logs;
//   - each field is stored in full up to its cap, then cut on a UTF-8 character boundary and
//     ended with kTruncationMarker (the result, marker included, fits the cap);
//   - a review whose external id is empty or longer than its cap is refused (a truncated
//     identity could merge two reviews); the caller reports it as a Problem.
// The external id itself is never rewritten (it is the review's identity in the database).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/review.h"

namespace repwatch {

struct ReviewLimits {
  size_t text_bytes = 64 * 1024;  // text, translated_text, reply_text (each)
  size_t author_bytes = 256;
  size_t url_bytes = 2048;
  size_t language_bytes = 35;  // the longest sensible BCP 47 tag
  size_t location_bytes = 256;
  size_t external_id_bytes = 512;
};

// Appended to a field cut at its cap.
inline constexpr std::string_view kTruncationMarker =
    "\xE2\x80\xA6 [truncated]";  // "… [truncated]"

// Cleans and caps `review` in place (see above). Returns false, with the reason in `why`, when
// the review must be refused.
bool limit_review(Review& review, std::string& why, const ReviewLimits& limits = {});

// Building blocks (exposed for tests).
// Valid UTF-8 without control characters; `multiline` keeps tab and LF (CR/CRLF -> LF), else
// tab, CR and LF become spaces. C1 controls (U+0080..U+009F) and DEL are removed.
std::string clean_field(std::string_view text, bool multiline);
// `text` when it fits `max_bytes`, else its longest prefix ending on a character boundary that
// leaves room for `marker`, plus `marker`.
std::string truncate_utf8(std::string text, size_t max_bytes,
                          std::string_view marker = kTruncationMarker);

}  // namespace repwatch
