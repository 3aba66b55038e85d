// repwatch/connectors/facebook.h - a Facebook Page's ratings (recommendations) from the Graph
// API: GET {base_url}/{api_version}/{page_id}/ratings?fields=...&limit=N, with the Page access
// token in an Authorization: Bearer header.
//
// Settings (see repwatch.example.toml):
//   type = "facebook"
//   page_id = "123456789012345"
//   access_token_file = "facebook-page-token"  # or access_token / access_token_env
//   api_version = "v21.0"                      # the ratings edge answers error 12 from v22.0
//   base_url = "https://graph.facebook.com"
//   page_size = 25                             # `limit`, 1..100
//   max_pages = 100
//   safety_margin = "1h"                       # re-read this much before the newest seen
//   full_sweep_interval = "1d"                 # re-read everything (edits) this often
//   throttle_wait = "15m"                      # wait after a rate-limit error when Facebook
//                                              # does not say how long
//   detect_removals = true                     # a full sweep marks ratings it lacks removed
//
// `fields` is always explicit: created_time, recommendation_type, rating, has_rating,
// has_review, review_text, reviewer{id,name}, open_graph_story{id}.
//
// Mapping: open_graph_story.id -> external_id (items older than ~2018 lack it: then
// "t<created epoch>-<reviewer id or text digest>"); recommendation_type positive/negative ->
// 1/0 on the binary scale; legacy `rating` 1..5 -> stars; review_text -> text (absent when
// has_review is false); reviewer.name -> author; created_time ("+0000", no colon) -> created_at
// and updated_at; https://www.facebook.com/<story id> -> url.
//
// Paging follows paging.next (which carries the access token in its query: it is never logged,
// and it must point at base_url's host or the poll fails) with `fields` and `limit` set to
// ours again (a `next` without them answers default fields only: no story id, no reviewer),
// and stops ONLY when `next` is absent: an empty page may still have a `next`. An item
// without any of the requested fields (has_review, has_rating, reviewer, open_graph_story)
// fails the poll as kGarbage rather than being stored under an id derived from its text. An
// incremental poll stops early once a page reaches items older than the newest created_time
// seen minus the safety margin. A full sweep that reached the end without a problem is a
// complete listing (FetchResult::complete).
//
// Errors ({"error": {"message", "type", "code", "error_subcode", "is_transient"}}), branched
// on code, not HTTP status: 4, 17, 32, 613, 80001 (throttling) -> transient, waiting
// X-Business-Use-Case-Usage's estimated_time_to_regain_access (minutes) or throttle_wait;
// 1, 2 or is_transient -> transient; 190, 102, 10, 200-299 -> auth; 12 (deprecated for this API
// version) and 100, 803 -> config.
//
// Cursor (JSON): {"v": 1, "newest": <epoch of newest created_time>, "full_at": <epoch>}
#pragma once

#include <memory>

#include "connectors/connector.h"

namespace repwatch::connectors {

std::unique_ptr<Connector> make_facebook_connector(const SourceConfig& source,
                                                   const Config& config);

}  // namespace repwatch::connectors
