// repwatch/db/store.cpp - ReviewStore: reviews and their analyses (upserts, reads, removals).
// Poll state: db/poll_state.cpp; the statements: db/store_statements.cpp; the schema:
// db/schema.cpp; evidence spans: db/spans.cpp.
#include "db/store.h"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "db/review_fields.h"
#include "db/store_statements.h"

namespace repwatch::db {

using detail::bind_opt;
using detail::bind_static;
using detail::Use;

namespace {

// Binds ?(base+1)..?(base+20) of insert_review / update_review / insert_reviews(). Text is
// bound without copying: `review`, `hash` and `scale` must outlive the step.
void bind_review(Statement& st, int base, const Review& r, std::string_view hash,
                 std::string_view scale, int64_t now, const Analysis& a, bool negative) {
  bind_static(st, base + 1, r.source_id);
  bind_static(st, base + 2, r.external_id);
  bind_static(st, base + 3, r.location_id);
  bind_static(st, base + 4, r.author);
  bind_opt(st, base + 5, r.raw_rating);
  bind_static(st, base + 6, scale);
  bind_opt(st, base + 7, r.rating);
  bind_static(st, base + 8, r.text);
  bind_static(st, base + 9, r.language);
  bind_static(st, base + 10, r.translated_text);
  st.bind(base + 11, r.created_at);
  st.bind(base + 12, r.updated_at);
  bind_static(st, base + 13, r.reply_text);
  bind_opt(st, base + 14, r.reply_at);
  bind_static(st, base + 15, r.url);
  bind_static(st, base + 16, hash);
  st.bind(base + 17, now);
  st.bind(base + 18, a.score);
  bind_static(st, base + 19, to_string(a.label));
  st.bind(base + 20, int64_t{negative ? 1 : 0});
}

// Binds the kAnalysisParams parameters of an analyses row from ?(base+1); `terms` as
// encode_spans() wrote it.
void bind_analysis(Statement& st, int base, int64_t review_id, const Analysis& a, int64_t now,
                   std::string_view terms) {
  st.bind(base + 1, review_id).bind(base + 2, a.score);
  bind_static(st, base + 3, to_string(a.label));
  bind_static(st, base + 4, a.language);
  st.bind(base + 5, int64_t{a.scored ? 1 : 0});
  bind_static(st, base + 6, a.lexicon_version);
  st.bind(base + 7, now);
  bind_static(st, base + 8, terms);
  st.bind(base + 9, int64_t{a.on_translation ? 1 : 0});
  bind_static(st, base + 10, a.taxonomy_version);
}

// Reads a row of REVIEW_COLUMNS.
StoredReview read_review(const Statement& st) {
  StoredReview s;
  s.id = st.column_int(0);
  detail::read_review_fields(st, 1, s.id, s.review);
  constexpr int kNext = 1 + detail::kReviewFieldCount;
  s.content_hash = st.column_text(kNext);
  s.revision = static_cast<int>(st.column_int(kNext + 1));
  s.first_seen_at = st.column_int(kNext + 2);
  s.removed_at = st.column_opt_int(kNext + 3);
  return s;
}

Label parse_label(std::string_view s) {
  if (s == "negative") return Label::kNegative;
  if (s == "positive") return Label::kPositive;
  return Label::kNeutral;
}

std::vector<Evidence> read_evidence(std::string_view json, std::string_view text, int64_t review_id,
                                    const char* what) {
  if (json.empty()) return {};
  std::optional<std::vector<Evidence>> spans = decode_spans(json, text);
  if (!spans)
    throw DbError("review " + std::to_string(review_id) + ": " + what +
                  ": stored evidence is not a JSON array of [offset, length] spans");
  return std::move(*spans);
}

// Numerical noise from normalization (2.0000000000000004) must not flip the rule.
constexpr double kEpsilon = 1e-9;

}  // namespace

// ---- ReviewStore ------------------------------------------------------------------------

ReviewStore::ReviewStore(const Database& db, NegativeRule negative)
    : db_(db), negative_(negative), st_(std::make_unique<Statements>(db)) {}

ReviewStore::~ReviewStore() = default;

void ReviewStore::ensure_location(const std::string& id, const std::string& name) {
  Use st(st_->upsert_location);
  st->bind(1, id).bind(2, name);
  st->run();
}

void ReviewStore::ensure_location_id(const std::string& id) {
  Use st(st_->add_location);
  st->bind(1, id);
  st->run();
}

void ReviewStore::ensure_source(const std::string& id, const std::string& type,
                                const std::string& location_id, int64_t now) {
  // A location the daemon has not registered by name yet is named by its id.
  ensure_location_id(location_id);
  Use st(st_->upsert_source);
  st->bind(1, id).bind(2, type).bind(3, location_id).bind(4, now);
  st->run();
}

UpsertResult ReviewStore::upsert(const Review& review, const Analysis& analysis, int64_t now) {
  if (review.source_id.empty() || review.external_id.empty())
    throw DbError("cannot store a review without source id and external id (source \"" +
                  review.source_id + "\", external id \"" + review.external_id + "\")");
  try {
    return upsert_review(review, analysis, now);
  } catch (const DbError& e) {
    throw DbError("storing review \"" + review.external_id + "\" of source \"" + review.source_id +
                      "\": " + e.what(),
                  e.code());
  }
}

UpsertResult ReviewStore::upsert_review(const Review& review, const Analysis& analysis,
                                        int64_t now) {
  const std::string hash = content_hash(review);
  const bool negative = negative_.is_negative(review.rating, analysis.score);
  UpsertResult result;

  // Insert first: on a first sync (the bulk of all work) that is the only lookup. A review
  // already stored is a conflict that inserts nothing.
  {
    Use st(st_->insert_review);
    bind_review(*st, 0, review, hash, st_->scale_column(review.scale), now, analysis, negative);
    st->step();
    if (db_.changes() > 0) {
      result.outcome = UpsertOutcome::kInserted;
      result.review_id = db_.last_insert_rowid();
      result.revision = 1;
      write_analysis(result.review_id, analysis, now, false);
      return result;
    }
  }

  int64_t id = 0;
  {
    Use st(st_->find_key);
    bind_static(*st, 1, review.source_id);
    bind_static(*st, 2, review.external_id);
    if (!st->step()) throw DbError("the review was neither inserted nor found");
    id = st->column_int(0);
    result.review_id = id;
    result.revision = static_cast<int>(st->column_int(2));
    result.outcome =
        st->column_view(1) == hash ? UpsertOutcome::kUnchanged : UpsertOutcome::kEdited;
    result.restored = st->column_int(3) != 0;  // update_review clears removed_at too
  }
  if (result.outcome == UpsertOutcome::kUnchanged) {
    Use st(result.restored ? st_->restore_review : st_->touch_review);
    st->bind(1, id).bind(2, now);
    st->step();
    return result;
  }

  // An edit: keep the replaced version (and its analysis) for the caller and the history.
  std::optional<StoredReview> old = get(id);
  if (!old) throw DbError("review " + std::to_string(id) + " vanished during upsert");
  {
    Use st(st_->copy_revision);
    st->bind(1, id).bind(2, now);
    st->step();
  }
  {
    Use st(st_->update_review);
    bind_review(*st, 0, review, hash, st_->scale_column(review.scale), now, analysis, negative);
    st->bind(21, id);
    st->step();
  }
  result.revision = old->revision + 1;
  result.previous = std::move(old->review);
  result.previous_analysis = std::move(old->analysis);
  write_analysis(id, analysis, now, true);
  return result;
}

// State of one upsert_many() call across its batches.
struct ReviewStore::Batch {
  const std::string* source = nullptr;  // of the first review
  bool fresh = false;                   // nothing of `source` was stored before the call
  std::unordered_set<std::string_view> stored_keys;  // if fresh: its external ids stored since
  // Whether stored_keys are all the stored keys of `source_id`.
  bool knows(const std::string& source_id) const { return fresh && source_id == *source; }
};

std::vector<UpsertResult> ReviewStore::upsert_many(std::span<const Review> reviews,
                                                   std::span<const Analysis> analyses,
                                                   int64_t now) {
  if (reviews.size() != analyses.size())
    throw DbError("upsert_many: " + std::to_string(analyses.size()) + " analyses for " +
                  std::to_string(reviews.size()) + " reviews");
  std::vector<UpsertResult> results(reviews.size());
  if (reviews.empty()) return results;

  // A source with nothing stored (a first sync, the bulk of all work) needs no lookups: what
  // it has stored is what this call stored so far.
  Batch batch;
  batch.source = &reviews[0].source_id;
  if (!batch.source->empty()) {
    Use st(st_->any_review);
    bind_static(*st, 1, *batch.source);
    if (!st->step()) {
      batch.fresh = true;
      batch.stored_keys.reserve(reviews.size());
    }
  }
  for (size_t first = 0; first < reviews.size(); first += kReviewsPerInsert) {
    const size_t n = std::min(kReviewsPerInsert, reviews.size() - first);
    upsert_batch(batch, reviews.subspan(first, n), analyses.subspan(first, n), now,
                 std::span(results).subspan(first, n));
  }
  return results;
}

void ReviewStore::upsert_batch(Batch& batch, std::span<const Review> reviews,
                               std::span<const Analysis> analyses, int64_t now,
                               std::span<UpsertResult> results) {
  // One source, no external id twice: otherwise (never in one poll of a connector, but the
  // API allows it) the reviews go one by one, where a repeat is an edit of the first.
  const std::string& source_id = reviews[0].source_id;
  bool simple = true;
  for (size_t i = 0; i < reviews.size() && simple; ++i) {
    const Review& r = reviews[i];
    if (r.source_id.empty() || r.external_id.empty() || r.source_id != source_id) simple = false;
    for (size_t j = 0; j < i && simple; ++j)
      if (reviews[j].external_id == r.external_id) simple = false;
  }
  const bool first_sync = batch.knows(source_id);
  if (!simple) {
    for (size_t i = 0; i < reviews.size(); ++i) {
      results[i] = upsert(reviews[i], analyses[i], now);
      if (batch.knows(reviews[i].source_id)) batch.stored_keys.insert(reviews[i].external_id);
    }
    return;
  }

  // Which are stored already (they take the one-by-one path: unchanged or edited).
  std::array<bool, kReviewsPerInsert> stored{};
  if (first_sync) {
    for (size_t i = 0; i < reviews.size(); ++i)
      stored[i] = !batch.stored_keys.insert(reviews[i].external_id).second;
  } else {
    Use st(st_->find_keys(reviews.size()));
    bind_static(*st, 1, source_id);
    for (size_t i = 0; i < reviews.size(); ++i)
      bind_static(*st, static_cast<int>(i) + 2, reviews[i].external_id);
    while (st->step()) {
      const std::string_view key = st->column_view(0);
      for (size_t i = 0; i < reviews.size(); ++i)
        if (reviews[i].external_id == key) stored[i] = true;
    }
  }
  size_t n_new = 0;
  for (size_t i = 0; i < reviews.size(); ++i) n_new += !stored[i];

  if (n_new > 0) {
    // The new ones in one INSERT per table, with ids chosen here as SQLite would (max + 1), so
    // that their analyses and hits can be written without a round trip per review.
    int64_t id;
    {
      Use st(st_->max_id);
      st->step();
      id = st->column_int(0) + 1;
    }
    st_->review_hashes.resize(reviews.size());
    st_->review_scales.resize(reviews.size());
    st_->term_spans.resize(reviews.size());
    for (size_t i = 0; i < reviews.size(); ++i) {
      if (stored[i]) continue;
      const Review& r = reviews[i];
      st_->review_hashes[i] = content_hash(r);
      st_->review_scales[i] = st_->scale_column(r.scale);  // short: no allocation
      results[i].outcome = UpsertOutcome::kInserted;
      results[i].review_id = id++;
      results[i].revision = 1;
    }
    try {
      {
        Use st(st_->insert_reviews(n_new));
        int row = 0;
        for (size_t i = 0; i < reviews.size(); ++i) {
          if (stored[i]) continue;
          const int b = row++ * 21;
          st->bind(b + 1, results[i].review_id);
          bind_review(*st, b + 1, reviews[i], st_->review_hashes[i], st_->review_scales[i], now,
                      analyses[i], negative_.is_negative(reviews[i].rating, analyses[i].score));
        }
        st->step();
      }
      {
        Use st(st_->insert_analyses(n_new));
        int row = 0;
        for (size_t i = 0; i < reviews.size(); ++i) {
          if (stored[i]) continue;
          encode_spans(analyses[i].terms, st_->term_spans[i]);
          bind_analysis(*st, row++ * kAnalysisParams, results[i].review_id, analyses[i], now,
                        st_->term_spans[i]);
        }
        st->step();
      }
      for (size_t i = 0; i < reviews.size(); ++i) {
        if (stored[i]) continue;
        const auto& tps = analyses[i].touchpoints;
        for (size_t k = 0; k < tps.size(); ++k)
          st_->hits.push_back({results[i].review_id, static_cast<int64_t>(k), &tps[k]});
      }
      st_->write_hits();
    } catch (const DbError& e) {
      size_t first = 0, last = reviews.size() - 1;
      while (stored[first]) ++first;
      while (stored[last]) --last;
      throw DbError("storing " + std::to_string(n_new) + " new reviews of source \"" + source_id +
                        "\" (external ids \"" + reviews[first].external_id + "\" to \"" +
                        reviews[last].external_id + "\"): " + e.what(),
                    e.code());
    }
  }
  for (size_t i = 0; i < reviews.size(); ++i)
    if (stored[i]) results[i] = upsert(reviews[i], analyses[i], now);
}

void ReviewStore::write_analysis(int64_t review_id, const Analysis& analysis, int64_t now,
                                 bool replace_hits) {
  if (replace_hits) {
    Use st(st_->delete_hits);
    st->bind(1, review_id);
    st->step();
  }
  {
    Use st(st_->upsert_analysis);
    encode_spans(analysis.terms, st_->spans);
    bind_analysis(*st, 0, review_id, analysis, now, st_->spans);
    st->step();
  }
  // All hits of the review in one statement: a statement execution costs about as much as the
  // row it writes.
  for (size_t i = 0; i < analysis.touchpoints.size(); ++i)
    st_->hits.push_back({review_id, static_cast<int64_t>(i), &analysis.touchpoints[i]});
  st_->write_hits();
  if (replace_hits && !analysis.touchpoints.empty()) {
    Use st(st_->index_hits);
    st->bind(1, review_id);
    st->step();
  }
}

void ReviewStore::save_analysis(int64_t review_id, const Analysis& analysis, int64_t now) {
  {
    Use st(st_->update_summary);
    st->bind(1, review_id).bind(2, analysis.score);
    bind_static(*st, 3, to_string(analysis.label));
    st->bind(4, negative_.max_rating + kEpsilon).bind(5, negative_.max_sentiment + kEpsilon);
    st->step();
    if (db_.changes() == 0)
      throw DbError("save_analysis: no review with id " + std::to_string(review_id));
  }
  write_analysis(review_id, analysis, now, true);
}

std::optional<StoredReview> ReviewStore::find(const std::string& source_id,
                                              const std::string& external_id) const {
  int64_t id;
  {
    Use st(st_->find_key);
    st->bind(1, source_id).bind(2, external_id);
    if (!st->step()) return std::nullopt;
    id = st->column_int(0);
  }
  return get(id);
}

std::optional<StoredReview> ReviewStore::get(int64_t review_id) const {
  std::optional<StoredReview> s;
  {
    Use st(st_->select_by_id);
    st->bind(1, review_id);
    if (!st->step()) return std::nullopt;
    s = read_review(*st);
  }
  {
    Use st(st_->select_analysis);
    st->bind(1, review_id);
    if (st->step()) {
      Analysis& a = s->analysis;
      a.score = st->column_double(0);
      a.label = parse_label(st->column_view(1));
      a.language = st->column_text(2);
      a.scored = st->column_int(3) != 0;
      a.lexicon_version = st->column_text(4);
      a.on_translation = st->column_int(6) != 0;
      a.terms = read_evidence(st->column_view(5), analyzed_text(s->review, a), review_id, "terms");
      a.taxonomy_version = st->column_text(7);
    }
  }
  Use st(st_->select_hits);
  st->bind(1, review_id);
  while (st->step()) {
    TouchpointResult t;
    t.touchpoint = st->column_text(0);
    t.score = st->column_double(1);
    t.evidence = read_evidence(st->column_view(2), analyzed_text(s->review, s->analysis), review_id,
                               t.touchpoint.c_str());
    s->analysis.touchpoints.push_back(std::move(t));
  }
  return s;
}

int64_t ReviewStore::count_reviews() const {
  Use st(st_->count_reviews);
  st->step();
  return st->column_int(0);
}

int64_t ReviewStore::count_reviews(const std::string& source_id, bool include_removed) const {
  Use st(st_->count_source_reviews);
  st->bind(1, source_id).bind(2, int64_t{include_removed ? 1 : 0});
  st->step();
  return st->column_int(0);
}

bool ReviewStore::has_reviews(const std::string& source_id) const {
  Use st(st_->any_review);
  st->bind(1, source_id);
  return st->step();
}

int ReviewStore::count_revisions(int64_t review_id) const {
  Use st(st_->count_revisions);
  st->bind(1, review_id);
  st->step();
  return static_cast<int>(st->column_int(0));
}

std::vector<int64_t> ReviewStore::mark_removed(const std::string& source_id,
                                               std::vector<int64_t> listed, int64_t now) {
  std::sort(listed.begin(), listed.end());
  std::vector<int64_t> missing;
  {
    Use st(st_->listed_ids);
    st->bind(1, source_id);
    while (st->step()) {
      const int64_t id = st->column_int(0);
      if (!std::binary_search(listed.begin(), listed.end(), id)) missing.push_back(id);
    }
  }
  std::sort(missing.begin(), missing.end());
  for (int64_t id : missing) {
    Use st(st_->set_removed);
    st->bind(1, id).bind(2, now);
    st->step();
  }
  return missing;
}

}  // namespace repwatch::db
