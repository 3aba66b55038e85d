// repwatch/connectors/yelp.h - the review excerpts Yelp Fusion gives for a business:
// GET {base_url}/v3/businesses/{business_id}/reviews?locale=..&sort_by=newest, with
// Authorization: Bearer <API key>.
//
// Settings (see repwatch.example.toml):
//   type = "yelp"
//   business_id = "clinica-dental-san-jose"   # id or alias; non-ASCII is percent-encoded
//   api_key_file = "yelp-key"                 # or api_key / api_key_env
//   locales = ["en_US", "es_US"]              # Yelp filters reviews by locale; default en_US
//   base_url = "https://api.yelp.com"
//
// Yelp returns at most 3 reviews per locale, and only an excerpt (~160 characters ending in
// "...") of each: a signal source, never a complete record, so deletion is never inferred.
// Each poll reads the newest 3 per locale, dedupes by review id and returns the ones new or
// changed since the last poll. Yelp filters reviews by locale: when a configured locale answers
// no reviews but a non-zero `total` and `possible_languages` (a business reviewed only in
// Spanish), the poll also reads each of those languages it does not read yet, in Yelp's locale
// for it (of a configured locale's country when Yelp has one, fr_CA next to en_CA; else the
// language's main one, es_ES), and logs that once; a failure of such an extra read is a
// problem, not a failed poll.
//
// Mapping: id -> external_id, rating 1..5 stars, text (excerpt), user.name -> author,
// url (without the adjust_creative and utm_* tracking parameters), the locale's language ->
// language, time_created -> created_at and updated_at. time_created ("2024-03-10 01:30:00")
// has no zone: it is Pacific time (America/Los_Angeles), see parse_pacific_time().
//
// Errors ({"error": {"code", "description"}}): UNAUTHORIZED_ACCESS_TOKEN, TOKEN_INVALID,
// TOKEN_MISSING -> auth; TOO_MANY_REQUESTS_PER_SECOND and ACCESS_LIMIT_REACHED -> transient
// (waiting until RateLimit-ResetTime when given); BUSINESS_UNAVAILABLE, BUSINESS_NOT_FOUND ->
// config.
//
// Cursor (JSON): {"v": 1, "seen": {"<review id>": "<content hash>", ...}}
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "connectors/connector.h"

namespace repwatch::connectors {

std::unique_ptr<Connector> make_yelp_connector(const SourceConfig& source, const Config& config);

// "YYYY-MM-DD HH:MM:SS" (or with 'T') as wall-clock time in America/Los_Angeles -> UTC epoch
// seconds, with the US daylight-saving rules of the date (2007 on: second Sunday of March to
// first Sunday of November; 1987-2006: first Sunday of April to last Sunday of October; before
// that: last Sunday of April to last Sunday of October), so no tz database is needed. A time
// in the skipped spring hour is read as standard time; one in the repeated autumn hour as the
// first (daylight) one. Returns nullopt when the text is not such a date-time.
std::optional<int64_t> parse_pacific_time(std::string_view text);

}  // namespace repwatch::connectors
