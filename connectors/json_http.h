// repwatch/connectors/json_http.h - reviews from any JSON API, described in the config: a
// vendor's review feed, a reputation platform's export API, an in-house survey service.
//
// Settings (see repwatch.example.toml):
//   type = "json_http"
//   url = "https://feed.vendor.example/v2/reviews?location=123"   # may contain {page}
//   headers = { Accept = "application/json" }          # plain (non-secret) headers
//   token_file = "vendor-token"                        # optional secret (token / _file / _env)
//   token_header = "Authorization"                     # where the token goes (default)
//   token_prefix = "Bearer "                           # default for Authorization, else ""
//   token_param = "key"                                # or: in this query parameter instead
//   reviews_pointer = "/data/reviews"                  # JSON Pointer to the array ("" = root)
//   next_pointer = "/meta/next"                        # optional: the next page's URL (absolute
//                                                      # or relative) or an opaque token ...
//   next_param = "cursor"                              # ... sent in this query parameter
//   first_page = 1                                     # with {page} in url: pages until empty
//   max_pages = 100
//   since_param = "updated_since"                      # optional: sent on incremental polls
//   since_format = "rfc3339"                           # or "epoch", "epoch_ms"
//   safety_margin = "1h"                               # since = newest seen minus this
//   scale = "1-5"                                      # 1-10, 0-10, 0-100, binary, none, LO-HI
//   time_unit = "s"                                    # numeric timestamps: "s" or "ms"
//   [sources.fields]                                   # JSON Pointers inside each review
//   external_id = "/id"                                # required
//   created_at = "/created"                            # required (RFC 3339 or epoch number)
//   rating = "/stars"    text = "/body"    author = "/author/name"    updated_at = "/updated"
//   language = "/lang"   reply_text = "/reply/text"    reply_at = "/reply/at"    url = "/link"
//   translated_text = "/translation"
//
// Next-page links must stay on the url's host (the token header is not sent elsewhere). When
// the last poll's answer was a single page, it is asked again with If-None-Match if its URL is
// unchanged; a 304 returns no reviews. Paging stops at a missing/null/empty next value, a repeated
// one, an empty page (with {page}) or max_pages (the last two reported as Problems). Reviews that
// lack an id or a valid creation time are skipped as Problems naming page and index.
//
// Cursor (JSON): {"v": 1, "since": <epoch of newest updated/created time>, "etag": "...",
// "etag_url": "<first page URL, redacted>"}
#pragma once

#include <memory>

#include "connectors/connector.h"

namespace repwatch::connectors {

std::unique_ptr<Connector> make_json_http_connector(const SourceConfig& source,
                                                    const Config& config);

}  // namespace repwatch::connectors
