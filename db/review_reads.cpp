#include "db/review_reads.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "core/text.h"
#include "db/query_index.h"
#include "db/read_sql.h"
#include "db/review_fields.h"

namespace repwatch::db {

using read_sql::review_conditions;
using read_sql::Sql;

namespace {

constexpr const char* kReviewColumns =
    "r.id, " REPWATCH_REVIEW_FIELDS("r.") ", r.revision, r.sentiment, r.label, r.negative, "
    "r.removed_at, coalesce((SELECT a.on_translation FROM analyses a WHERE a.review_id = r.id), 0)";
constexpr int kReviewColumnCount = 1 + detail::kReviewFieldCount + 6;

// Reads a row of kReviewColumns.
ReviewRow read_review(const Statement& st) {
  ReviewRow row;
  row.id = st.column_int(0);
  detail::read_review_fields(st, 1, row.id, row.review);
  constexpr int kNext = 1 + detail::kReviewFieldCount;
  row.revision = static_cast<int>(st.column_int(kNext));
  row.analysis.score = st.column_double(kNext + 1);
  // As ReviewStore reads it: the store writes only to_string(Label).
  row.analysis.label = parse_label(st.column_view(kNext + 2)).value_or(Label::kNeutral);
  row.negative = st.column_int(kNext + 3) != 0;
  row.removed_at = st.column_opt_int(kNext + 4);
  row.analysis.on_translation = st.column_int(kNext + 5) != 0;
  return row;
}

// Stored spans with their phrases cut from the review's text; nothing for a malformed array
// (the CLI shows what it can rather than refusing the whole answer).
std::vector<Evidence> parse_evidence(std::string_view json, std::string_view text) {
  auto spans = decode_spans(json, text);
  return spans ? std::move(*spans) : std::vector<Evidence>{};
}

class HitLoader {
 public:
  explicit HitLoader(const Database& db)
      : st_(db.prepare("SELECT touchpoint, score, evidence FROM touchpoint_hits WHERE "
                       "review_id = ?1 ORDER BY ord")) {}
  std::vector<TouchpointResult> load(int64_t review_id, std::string_view text) {
    std::vector<TouchpointResult> out;
    st_.bind(1, review_id);
    while (st_.step()) {
      TouchpointResult t;
      t.touchpoint = st_.column_text(0);
      t.score = st_.column_double(1);
      t.evidence = parse_evidence(st_.column_view(2), text);
      out.push_back(std::move(t));
    }
    st_.reset();
    return out;
  }

 private:
  Statement st_;
};

// Splits FTS5 highlight() output (matches between \x01 and \x02) into the plain text and the
// byte spans of the matches.
std::string strip_marks(std::string_view marked, std::vector<std::pair<size_t, size_t>>* spans) {
  std::string out;
  out.reserve(marked.size());
  size_t start = 0;
  for (char c : marked) {
    if (c == '\x01') {
      start = out.size();
    } else if (c == '\x02') {
      if (spans) spans->emplace_back(start, out.size() - start);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void ReviewReads::each(const ReviewFilter& f, ReviewOrder order,
                       const std::function<void(const ReviewRow&)>& fn) const {
  const bool with_touchpoints = order.with_touchpoints, newest_first = order.newest_first;
  Sql sql;
  sql << "SELECT " << kReviewColumns << " FROM reviews r WHERE 1";
  review_conditions(sql, f);
  sql << (newest_first ? " ORDER BY r.created_at DESC, r.id DESC" : " ORDER BY r.created_at, r.id");
  Statement st = sql.prepare(db_);
  HitLoader hits(db_);
  while (st.step()) {
    ReviewRow row = read_review(st);
    if (with_touchpoints) row.analysis.touchpoints = hits.load(row.id, row.analyzed_text());
    fn(row);
  }
}

std::vector<ReviewRow> ReviewReads::list(const ReviewFilter& f, int64_t limit,
                                         ReviewOrder order) const {
  const bool with_touchpoints = order.with_touchpoints, newest_first = order.newest_first;
  Sql sql;
  sql << "SELECT " << kReviewColumns << " FROM reviews r WHERE 1";
  review_conditions(sql, f);
  sql << (newest_first ? " ORDER BY r.created_at DESC, r.id DESC" : " ORDER BY r.created_at, r.id");
  if (limit >= 0) sql << " LIMIT ", sql.param(limit);
  Statement st = sql.prepare(db_);
  std::vector<ReviewRow> out;
  while (st.step()) out.push_back(read_review(st));
  if (with_touchpoints) {
    HitLoader hits(db_);
    for (auto& r : out) r.analysis.touchpoints = hits.load(r.id, r.analyzed_text());
  }
  return out;
}

std::vector<ReviewRow> ReviewReads::most_negative(const ReviewFilter& f, int64_t limit) const {
  ReviewFilter g = f;
  g.negative = true;
  Sql sql;
  sql << "SELECT " << kReviewColumns << " FROM reviews r WHERE 1";
  review_conditions(sql, g);
  sql << " ORDER BY r.sentiment, r.rating, r.created_at DESC LIMIT ", sql.param(limit);
  Statement st = sql.prepare(db_);
  std::vector<ReviewRow> out;
  while (st.step()) out.push_back(read_review(st));
  HitLoader hits(db_);
  for (auto& r : out) r.analysis.touchpoints = hits.load(r.id, r.analyzed_text());
  return out;
}

int64_t ReviewReads::count(const ReviewFilter& f) const {
  Sql sql;
  sql << "SELECT count(*) FROM reviews r WHERE 1";
  review_conditions(sql, f);
  Statement st = sql.prepare(db_);
  st.step();
  return st.column_int(0);
}

std::string fts_query(std::string_view typed) {
  std::string out;
  size_t i = 0;
  auto emit = [&](const std::string& term) {
    if (!out.empty()) out += " ";
    out += term;
  };
  while (i < typed.size()) {
    char c = typed[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '(' || c == ')') {
      emit(std::string(1, c));
      ++i;
      continue;
    }
    if (c == '"') {
      size_t end = typed.find('"', i + 1);
      std::string phrase(typed.substr(
          i + 1, end == std::string_view::npos ? std::string_view::npos : end - i - 1));
      i = end == std::string_view::npos ? typed.size() : end + 1;
      bool prefix = i < typed.size() && typed[i] == '*';
      if (prefix) ++i;
      if (!phrase.empty()) emit("\"" + phrase + "\"" + (prefix ? "*" : ""));
      continue;
    }
    size_t end = i;
    while (end < typed.size() && !std::isspace(static_cast<unsigned char>(typed[end])) &&
           typed[end] != '"' && typed[end] != '(' && typed[end] != ')')
      ++end;
    std::string word(typed.substr(i, end - i));
    i = end;
    if (word == "OR" || word == "AND" || word == "NOT") {
      emit(word);
      continue;
    }
    bool prefix = word.size() > 1 && word.back() == '*';
    if (prefix) word.pop_back();
    std::string quoted = "\"";
    for (char ch : word) {
      if (ch == '"') quoted += '"';
      quoted += ch;
    }
    quoted += "\"";
    emit(quoted + (prefix ? "*" : ""));
  }
  return out;
}

std::vector<ReviewRow> ReviewReads::search(std::string_view query, const ReviewFilter& f,
                                           int64_t limit, bool* windowed) const {
  if (windowed) *windowed = false;
  std::string match = fts_query(query);
  if (match.empty()) throw SearchQueryError("");
  // Reviews not folded into reviews_fts yet (above the watermark) go into a temporary FTS5
  // table with the same tokenizer (TEMP works on a read-only connection), so that stemming,
  // phrases and the query syntax are the same whether or not the daemon has refreshed.
  bool pending = query_index_state(db_).pending() > 0;
  if (pending) {
    db_.exec(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.pending_fts USING fts5(text, "
        "tokenize='porter unicode61 remove_diacritics 2'); DELETE FROM temp.pending_fts; "
        "INSERT INTO temp.pending_fts(rowid, text) SELECT id, text FROM reviews WHERE id > "
        "(SELECT indexed_upto FROM query_index)");
  }
  std::vector<std::pair<double, ReviewRow>> ranked;
  for (const char* table : {"reviews_fts", "pending_fts"}) {
    if (std::string_view(table) == "pending_fts" && !pending) continue;
    const std::string t(table);
    // 1. Rank: ids and scores only. Computing highlight() and snippet() and reading the review
    //    for every candidate would cost more than the ranking itself (at 10M reviews, a common
    //    word has tens of thousands of candidates); only the `limit` shown get them, in 2.
    Sql rank;
    rank << "SELECT " << t << ".rowid, bm25(" << t << ") FROM " << t
         << " JOIN reviews r ON r.id = " << t << ".rowid WHERE " << t << " MATCH ";
    rank.param(match);
    // BM25 costs ~2 us per matching review: on a common word over millions of reviews, rank
    // among the newest kSearchWindow matches (by arrival) rather than all of them. Without a
    // filter that narrows the reviews, the window is counted in the index alone: reading each
    // candidate's review only to leave out the (rare) removed ones costs more than the ranking.
    {
      ReviewFilter every;
      every.include_removed = f.include_removed;
      const bool narrowed = !(f == every);
      Sql window;
      window << "SELECT " << t << ".rowid FROM " << t;
      if (narrowed) window << " JOIN reviews r ON r.id = " << t << ".rowid";
      window << " WHERE " << t << " MATCH ";
      window.param(match);
      if (narrowed) review_conditions(window, f);
      window << " ORDER BY " << t << ".rowid DESC LIMIT 1 OFFSET ", window.param(kSearchWindow - 1);
      try {
        Statement w = window.prepare(db_);
        if (w.step()) {
          rank << " AND " << t << ".rowid >= ", rank.param(w.column_int(0));
          if (windowed) *windowed = true;
        }
      } catch (const DbError&) {
        // A query FTS5 cannot parse: reported by the ranking statement below.
      }
    }
    review_conditions(rank, f);
    rank << " ORDER BY " << t << ".rank LIMIT ", rank.param(limit);
    try {
      std::vector<std::pair<double, std::optional<ReviewRow>>> best;  // BM25, best first
      std::map<int64_t, size_t> place;                                // review id -> in best
      Statement st = rank.prepare(db_);
      while (st.step()) {
        place.emplace(st.column_int(0), best.size());
        best.emplace_back(st.column_double(1), std::nullopt);
      }
      if (best.empty()) continue;
      // 2. The rows shown: the review, its text with the matches marked, and a snippet; by id,
      //    in lists that stay far below SQLite's limit on parameters.
      constexpr size_t kIdsPerStatement = 500;
      for (auto from = place.begin(); from != place.end();) {
        Sql shown;
        shown << "SELECT " << kReviewColumns << ", highlight(" << t
              << ", 0, char(1), char(2)), snippet(" << t << ", 0, char(1), char(2), '…', 20) FROM "
              << t << " JOIN reviews r ON r.id = " << t << ".rowid WHERE " << t << " MATCH ";
        shown.param(match);
        shown << " AND " << t << ".rowid IN (";
        for (size_t n = 0; from != place.end() && n < kIdsPerStatement; ++from, ++n)
          shown << (n ? ", " : ""), shown.param(from->first);
        shown << ")";
        Statement rows = shown.prepare(db_);
        while (rows.step()) {
          ReviewRow r = read_review(rows);
          std::vector<std::pair<size_t, size_t>> spans;
          std::string plain = strip_marks(rows.column_view(kReviewColumnCount), &spans);
          if (plain == r.review.text) r.matches = std::move(spans);
          r.snippet = rows.column_text(kReviewColumnCount + 1);
          best[place.at(r.id)].second = std::move(r);
        }
      }
      for (auto& [bm25, row] : best)
        if (row) ranked.emplace_back(bm25, std::move(*row));
    } catch (const DbError& e) {
      std::string what = e.what();
      if (what.find("fts5") != std::string::npos || what.find("syntax") != std::string::npos)
        throw SearchQueryError(what.substr(what.rfind(": ") + 2));
      throw;
    }
  }
  // BM25: lower is better.
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ReviewRow> out;
  for (auto& [score, row] : ranked) {
    if (static_cast<int64_t>(out.size()) == limit) break;
    out.push_back(std::move(row));
  }
  return out;
}

std::map<std::string, std::vector<std::pair<std::string, int64_t>>> ReviewReads::top_phrases(
    const ReviewFilter& f, size_t per_touchpoint, int64_t max_mentions, bool* capped) const {
  Sql sql;
  sql << "SELECT h.touchpoint, h.evidence, CASE WHEN (SELECT a.on_translation FROM analyses a "
         "WHERE a.review_id = r.id) THEN r.translated_text ELSE r.text END FROM reviews r JOIN "
         "touchpoint_hits h ON h.review_id = r.id WHERE 1";
  ReviewFilter g = f;
  g.touchpoints.clear();  // filter the hits themselves instead
  review_conditions(sql, g);
  if (!f.touchpoints.empty()) sql << " AND h.touchpoint IN ", sql.in_list(f.touchpoints);
  sql << " ORDER BY r.created_at DESC LIMIT ", sql.param(max_mentions + 1);
  Statement st = sql.prepare(db_);
  std::map<std::string, std::map<std::string, int64_t>> counts;
  int64_t n = 0;
  if (capped) *capped = false;
  while (st.step()) {
    if (++n > max_mentions) {
      if (capped) *capped = true;
      break;
    }
    auto& per = counts[st.column_text(0)];
    std::set<std::string> in_review;  // a phrase counts once per mention
    for (const Evidence& e : parse_evidence(st.column_view(1), st.column_view(2))) {
      std::string p = lower(e.phrase);
      if (!p.empty() && in_review.insert(p).second) ++per[p];
    }
  }
  std::map<std::string, std::vector<std::pair<std::string, int64_t>>> out;
  for (auto& [tp, phrases] : counts) {
    std::vector<std::pair<std::string, int64_t>> v(phrases.begin(), phrases.end());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (v.size() > per_touchpoint) v.resize(per_touchpoint);
    out[tp] = std::move(v);
  }
  return out;
}

void ReviewReads::each_replied(const ReviewFilter& f,
                               const std::function<void(const ReviewRow&)>& fn) const {
  Sql sql;
  sql << "SELECT " << kReviewColumns << " FROM reviews r WHERE r.reply_text != ''";
  review_conditions(sql, f);
  sql << " ORDER BY coalesce(r.reply_at, r.created_at) DESC, r.id DESC";
  Statement st = sql.prepare(db_);
  while (st.step()) fn(read_review(st));
}

std::optional<ReviewRow> ReviewReads::get(int64_t id) const {
  Statement st =
      db_.prepare(std::string("SELECT ") + kReviewColumns + " FROM reviews r WHERE r.id = ?1");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_review(st);
}

std::vector<ReviewRow> reviews_to_rescore(const Database& db, int64_t after_id, int64_t limit,
                                          const RescoreSelection& selection) {
  Statement st = db.prepare(
      "SELECT r.id, r.text, r.label, r.translated_text, r.language FROM reviews r LEFT JOIN "
      "analyses a ON a.review_id = r.id WHERE r.id > ?1 AND (?2 = 0 OR a.lexicon_version IS NOT "
      "?3 OR a.taxonomy_version IS NOT ?5) ORDER BY r.id LIMIT ?4");
  st.bind(1, after_id).bind(2, int64_t{selection.outdated_only ? 1 : 0});
  st.bind(3, selection.lexicon_version).bind(4, std::max<int64_t>(limit, 1));
  st.bind(5, selection.taxonomy_version);
  std::vector<ReviewRow> out;
  while (st.step()) {
    ReviewRow row;
    row.id = st.column_int(0);
    row.review.text = st.column_text(1);
    row.analysis.label = parse_label(st.column_view(2)).value_or(Label::kNeutral);
    row.review.translated_text = st.column_text(3);
    row.review.language = st.column_text(4);
    out.push_back(std::move(row));
  }
  return out;
}

std::optional<std::pair<int64_t, int64_t>> ReviewReads::span() const {
  // Two subqueries: each is one step down reviews_by_created, where min() and max() in one
  // SELECT would read the whole index.
  Statement st = db_.prepare(
      "SELECT (SELECT min(created_at) FROM reviews), (SELECT max(created_at) FROM reviews)");
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return std::make_pair(st.column_int(0), st.column_int(1));
}

}  // namespace repwatch::db
