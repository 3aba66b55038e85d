// repwatch/connectors/google_business.h - reviews of one location from the Google Business
// Profile API (My Business v4): GET {base_url}/v4/accounts/{a}/locations/{l}/reviews.
//
// Settings (see repwatch.example.toml):
//   type = "google_business"
//   account_id = "1234567890"                # accounts/{account_id}
//   business_location_id = "987654321"       # locations/{business_location_id}
//   # OAuth: either a refresh token (preferred; access tokens are refreshed before expiry and
//   # once on a 401) ...
//   client_id = "....apps.googleusercontent.com"
//   client_secret_file = "google-client-secret"          # or client_secret / _env
//   refresh_token_file = "google-refresh-token"          # or refresh_token / _env
//   token_endpoint = "https://oauth2.googleapis.com/token"
//   # ... or an access token that something else keeps fresh (re-read on every poll and on a
//   # 401; plain text or JSON {"access_token": "..."}):
//   access_token_file = "/run/repwatch/google-token"
//   base_url = "https://mybusiness.googleapis.com"
//   page_size = 50                           # 1..50
//   max_pages = 100                          # guard against endless paging
//   safety_margin = "1h"                     # re-read this much before the watermark
//   full_sweep_interval = "1d"               # re-read everything this often (reply-only
//                                            # edits, deletions); "0s" = every poll
//   detect_removals = true                   # a full sweep marks reviews it lacks removed
//
// Mapping: reviewId -> external_id, starRating ONE..FIVE -> 1..5 stars
// (STAR_RATING_UNSPECIFIED or absent -> no rating), comment -> text (split into original text
// and Google's translation, see split_google_translation()), reviewer.displayName -> author,
// createTime / updateTime, reviewReply.comment / .updateTime -> reply.
//
// Incremental polling: the list is ordered by updateTime desc (edited old reviews come back to
// the top), so a poll pages until it reaches reviews older than the watermark (the newest
// updateTime seen so far) minus the safety margin. Cursor (JSON):
//   {"v": 1, "updated": <epoch of newest updateTime>, "full_at": <epoch of last full sweep>}
// Paging stops when nextPageToken is absent, repeats, or max_pages is reached (the last two
// are reported as Problems). A full sweep that paged to the end without a problem is a
// complete listing (FetchResult::complete): a stored review it lacks was deleted.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "connectors/connector.h"

namespace repwatch::connectors {

std::unique_ptr<Connector> make_google_business_connector(const SourceConfig& source,
                                                          const Config& config);

// Google puts both the original and its translation into `comment`, in one of two layouts:
//   "<original>\n\n(Translated by Google)\n<translation>"
//   "(Translated by Google) <translation>\n\n(Original)\n<original>"
// Returns {original, translation}; {comment, ""} when there is no marker.
struct SplitText {
  std::string original;
  std::string translation;
};
SplitText split_google_translation(std::string_view comment);

}  // namespace repwatch::connectors
