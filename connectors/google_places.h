// repwatch/connectors/google_places.h - the reviews Google Maps shows for a place, from the
// Places API (New): GET {base_url}/v1/places/{place_id} with X-Goog-Api-Key and
// X-Goog-FieldMask: id,displayName,rating,userRatingCount,reviews.
//
// Settings (see repwatch.example.toml):
//   type = "google_places"
//   place_id = "ChIJN1t_tDeuEmsRUsoyG83frY4"
//   api_key_file = "google-places-key"        # or api_key / api_key_env
//   language_code = "en"                      # optional; Google translates text into it
//   region_code = "us"                        # optional
//   base_url = "https://places.googleapis.com"
//
// The API returns at most 5 reviews "sorted by relevance" and no paging, so this source is a
// sample: use google_business for a complete record. Each poll reads the 5, dedupes them by
// review `name` (places/{place}/reviews/{id}, the external_id) and returns the ones that are
// new or changed since the last poll. Deletion is never inferred from absence. When
// userRatingCount grows by more than the new reviews visible, that is logged (info).
//
// Mapping: originalText (the reviewer's own words and language) -> text and language; `text`
// (Google's translation) -> translated_text when it differs; rating 1..5 stars;
// authorAttribution.displayName -> author; publishTime -> created_at and updated_at;
// googleMapsUri -> url.
//
// Cursor (JSON): {"v": 1, "seen": {"<name>": "<content hash>", ...}, "count": <userRatingCount>}
#pragma once

#include <memory>

#include "connectors/connector.h"

namespace repwatch::connectors {

std::unique_ptr<Connector> make_google_places_connector(const SourceConfig& source,
                                                        const Config& config);

}  // namespace repwatch::connectors
