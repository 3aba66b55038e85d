// repwatch/connectors/connector.h - where reviews come from.
//
// A connector turns one configured source ([[sources]] entry) into Reviews. It knows the
// source's API or file format, its paging and its incremental-poll cursor; it knows nothing
// of normalization, sentiment, storage or alerts.
//
// Adding a source type is one new file plus one line in registry.cpp's table.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "core/review.h"

namespace repwatch::connectors {

struct FetchResult {
  // New or changed reviews since the cursor passed to fetch(), raw_rating and scale filled,
  // rating not yet normalized. May repeat reviews already stored (the store dedupes).
  std::vector<Review> reviews;
  // The cursor to persist once these reviews are committed; passed to the next fetch().
  std::string cursor;
  // Records that were skipped (bad CSV row, JSONL line that is not JSON...), each naming its
  // place. The rest of the input is still returned.
  std::vector<Problem> problems;
  // True when `reviews` is everything the source has now (a Google Business Profile or Facebook
  // full sweep that paged to the end, a file source read whole), so that a stored review of the
  // source missing from it was removed at the source. A poll in parts says it on its last part,
  // for the reviews of all its parts. Never set on a partial, capped or
  // incremental poll, nor by sources that only sample (Places' 5, Yelp's 3). The pipeline
  // removes nothing when the poll also has problems (a skipped record may be a stored review).
  bool complete = false;
  // False on a part of a poll that fetch_parts() delivers with more parts to follow. The last
  // part (and a whole fetch()) ends the poll: its cursor covers everything the poll saw, and
  // it is where a source that lists everything it has can say the poll saw a complete listing.
  bool last = true;
};

// Receives the parts of one poll, in order (Connector::fetch_parts()).
using PartSink = std::function<void(FetchResult&& part)>;

class Connector {
 public:
  virtual ~Connector() = default;

  // Fetches reviews new or changed since `cursor` ("" on the first sync: everything).
  // Throws SourceError when the source cannot be read at all; then nothing is stored and
  // the cursor stays where it was.
  virtual FetchResult fetch(const std::string& cursor) = 0;

  // The same poll in parts of about `part_size` reviews, so that a large first sync (a file of
  // a million reviews) is never held in memory whole. Each part's cursor covers that part and
  // the ones before it and nothing later (a poll stopped after any part resumes from it
  // without loss); the last part has `last` set. `deliver` may throw to stop the poll: the
  // exception leaves fetch_parts(). A SourceError thrown after some parts were delivered
  // leaves those parts standing. Default: fetch() as one part.
  virtual void fetch_parts(const std::string& cursor, size_t part_size, const PartSink& deliver) {
    (void)part_size;
    FetchResult all = fetch(cursor);
    all.last = true;
    deliver(std::move(all));
  }

  // Asks a fetch() running on another thread to give up soon (at shutdown): HTTP transfers
  // are aborted within about a second and retry sleeps cut short, and that fetch() throws
  // SourceError kTransient. Later fetch() calls throw at once. Thread-safe. Does nothing for
  // connectors that cannot block for long (files).
  virtual void stop() {}

  // What a poll would run into that can be seen without polling - an import directory that
  // does not exist or that this process cannot read - one "file:line: key: message" line each
  // (Settings::describe()). `repwatchd --check-config` reports them with the config's mistakes
  // (run as the daemon's user); repwatchd logs them at start. Default: none.
  virtual std::vector<std::string> preflight() const { return {}; }
};

// Builds a connector from its [[sources]] entry, validating its own keys (throws ConfigError
// through source.settings.fail()). `config` gives access to shared sections such as [http].
using ConnectorFactory =
    std::function<std::unique_ptr<Connector>(const SourceConfig& source, const Config& config)>;

// The explicit table of connector types by name ("file", "google_business", ...).
const std::map<std::string, ConnectorFactory>& registry();

// Looks up source.type in registry() and builds it; throws ConfigError for an unknown type,
// naming the known ones.
std::unique_ptr<Connector> make_connector(const SourceConfig& source, const Config& config);

}  // namespace repwatch::connectors
