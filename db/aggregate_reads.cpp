#include "db/aggregate_reads.h"

#include "db/read_sql.h"

namespace repwatch::db {

using read_sql::day_conditions;
using read_sql::kDaySeconds;
using read_sql::kWatermark;
using read_sql::place_conditions;
using read_sql::Sql;

std::optional<double> Totals::rating() const {
  return rated ? std::optional<double>(rating_sum / rated) : std::nullopt;
}
std::optional<double> Totals::sentiment() const {
  return reviews ? std::optional<double>(sentiment_sum / reviews) : std::nullopt;
}
std::optional<double> Totals::share_negative() const {
  return reviews ? std::optional<double>(double(negative) / reviews) : std::nullopt;
}
void Totals::add(const Totals& o) {
  reviews += o.reviews;
  rated += o.rated;
  negative += o.negative;
  rating_sum += o.rating_sum;
  sentiment_sum += o.sentiment_sum;
}

std::optional<double> TouchpointTotals::sentiment() const {
  return mentions ? std::optional<double>(score_sum / mentions) : std::nullopt;
}
std::optional<double> TouchpointTotals::share_negative() const {
  return mentions ? std::optional<double>(double(negative_mentions) / mentions) : std::nullopt;
}
std::optional<double> TouchpointTotals::rating() const {
  return rated ? std::optional<double>(rating_sum / rated) : std::nullopt;
}
void TouchpointTotals::add(const TouchpointTotals& o) {
  mentions += o.mentions;
  negative_mentions += o.negative_mentions;
  rated += o.rated;
  score_sum += o.score_sum;
  rating_sum += o.rating_sum;
}

namespace {

// The aggregates answer for reviews up to the watermark; the reviews above it are summed from
// the reviews table with the same grouping. Two statements rather than one UNION ALL, so that
// each can stream in its own index order (a GROUP BY over a UNION sorts every row).
//
// `keys` are "day", "source_id", "location_id", "touchpoint" (or empty); each statement selects
// them first, then five sums.
struct KeySpec {
  bool day = false;
  std::string text_key;  // "", "source_id", "location_id" or "touchpoint"
};

std::string agg_keys(const KeySpec& k) {
  std::string s;
  if (!k.text_key.empty() && k.text_key == "touchpoint") s = "a.touchpoint";
  if (k.day) s += std::string(s.empty() ? "" : ", ") + "a.day";
  if (!k.text_key.empty() && k.text_key != "touchpoint")
    s += std::string(s.empty() ? "" : ", ") + "a." + k.text_key;
  return s;
}

std::string tail_keys(const KeySpec& k, const char* tp) {
  std::string s;
  if (k.text_key == "touchpoint") s = tp;
  if (k.day) s += std::string(s.empty() ? "" : ", ") + "r.created_at / 86400";
  if (!k.text_key.empty() && k.text_key != "touchpoint")
    s += std::string(s.empty() ? "" : ", ") + "r." + k.text_key;
  return s;
}

// The reviews the aggregates do not count that a question adds from the reviews table: those
// above the watermark (not removed, unless include_removed) and, with include_removed, the
// removed ones below it (the aggregates leave removed reviews out). One statement each.
//
// The reviews above the watermark are few while the daemon keeps the index refreshed: read
// them by id (NOT INDEXED keeps the rowid range and forbids the other indexes), not through
// the period's range of reviews_by_created, which holds the period's every review, folded in
// or not, and grows with the history. A backlog (a large import not folded in yet) is left
// to the planner, as are the removed reviews below the watermark (reviews_removed).
struct TailRows {
  const char* from;
  std::string where;
};
constexpr int64_t kShortTail = 20000;
std::vector<TailRows> tail_rows(const Database& db, const ReviewFilter& f) {
  const char* above_from =
      query_index_state(db).pending() <= kShortTail ? "reviews r NOT INDEXED" : "reviews r";
  std::string above = std::string("r.id > ") + kWatermark;
  if (!f.include_removed) return {{above_from, above + " AND r.removed_at IS NULL"}};
  return {{above_from, above},
          {"reviews r", std::string("r.id <= ") + kWatermark + " AND r.removed_at IS NOT NULL"}};
}

void tail_time(Sql& sql, const ReviewFilter& f) {
  if (f.since) sql << " AND r.created_at >= ", sql.param(*f.since / kDaySeconds * kDaySeconds);
  if (f.until)
    sql << " AND r.created_at < ",
        sql.param((*f.until + kDaySeconds - 1) / kDaySeconds * kDaySeconds);
}

struct KeyedSums {
  int64_t day = 0;
  std::string key;
  double v[5] = {0, 0, 0, 0, 0};
};

// Steps a statement of [touchpoint] [day] [text key] + 5 sums.
template <typename Fn>
void each_keyed(Statement& st, const KeySpec& k, Fn fn) {
  while (st.step()) {
    KeyedSums row;
    int c = 0;
    if (k.text_key == "touchpoint") row.key = st.column_text(c++);
    if (k.day) row.day = st.column_int(c++);
    if (!k.text_key.empty() && k.text_key != "touchpoint") row.key = st.column_text(c++);
    if (st.is_null(c)) continue;  // sums over no row
    for (int i = 0; i < 5; ++i) row.v[i] = st.column_double(c + i);
    fn(row);
  }
}

// What one kind of sums reads: a daily aggregate, and the same five sums over the reviews it
// does not count (tail_rows()).
struct SumsSpec {
  const char* aggregate;        // "review_daily" or "touchpoint_daily"
  const char* agg_sums;         // its five sums, in KeyedSums::v order
  const char* tail_sums;        // the same five over reviews r (and touchpoint_hits h)
  const char* tail_join;        // what the tail joins to reviews r ("" if nothing)
  const char* tail_touchpoint;  // the tail's touchpoint column ("" if none)
  // Every touchpoint wanted (the aggregate's key starts with it); nullptr: no touchpoint.
  const std::vector<std::string>* touchpoints = nullptr;
};

// The reviews: reviews, rated, rating_sum, sentiment_sum, negative (Totals).
SumsSpec review_spec() {
  return {"review_daily",
          "sum(a.reviews), sum(a.rated), sum(a.rating_sum), sum(a.sentiment_sum), sum(a.negative)",
          "count(*), count(r.rating), total(r.rating), total(r.sentiment), total(r.negative)", "",
          ""};
}

// The touchpoints' mentions: mentions, negative_mentions, score_sum, rated, rating_sum
// (TouchpointTotals).
SumsSpec touchpoint_spec(const std::vector<std::string>& touchpoints) {
  return {"touchpoint_daily",
          "sum(a.mentions), sum(a.negative_mentions), sum(a.score_sum), sum(a.rated), "
          "sum(a.rating_sum)",
          "count(*), total(h.score < 0), total(h.score), count(r.rating), total(r.rating)",
          " JOIN touchpoint_hits h ON h.review_id = r.id",
          "h.touchpoint",
          &touchpoints};
}

// The aggregate's sums keyed by `k`, then the tail's, each row to `fn` (a key may come twice:
// `fn` adds).
template <typename Fn>
void keyed_sums(const Database& db, const ReviewFilter& f, const SumsSpec& spec, const KeySpec& k,
                Fn fn) {
  std::string ak = agg_keys(k), tk = tail_keys(k, spec.tail_touchpoint);
  Sql agg;
  agg << "SELECT " << (ak.empty() ? "" : ak + ", ") << spec.agg_sums << " FROM " << spec.aggregate
      << " a WHERE 1";
  if (spec.touchpoints) agg << " AND a.touchpoint IN ", agg.in_list(*spec.touchpoints);
  day_conditions(agg, f, "a");
  place_conditions(agg, f, "a");
  if (!ak.empty()) agg << " GROUP BY " << ak;
  Statement st = agg.prepare(db);
  each_keyed(st, k, fn);
  for (const TailRows& rows : tail_rows(db, f)) {
    Sql tail;
    tail << "SELECT " << (tk.empty() ? "" : tk + ", ") << spec.tail_sums << " FROM " << rows.from
         << spec.tail_join << " WHERE " << rows.where;
    if (spec.touchpoints) tail << " AND h.touchpoint IN ", tail.in_list(*spec.touchpoints);
    tail_time(tail, f);
    place_conditions(tail, f, "r");
    if (!tk.empty()) tail << " GROUP BY " << tk;
    Statement st2 = tail.prepare(db);
    each_keyed(st2, k, fn);
  }
}

Totals to_totals(const KeyedSums& r) {
  Totals t;
  t.reviews = static_cast<int64_t>(r.v[0]);
  t.rated = static_cast<int64_t>(r.v[1]);
  t.rating_sum = r.v[2];
  t.sentiment_sum = r.v[3];
  t.negative = static_cast<int64_t>(r.v[4]);
  return t;
}

TouchpointTotals to_tp_totals(const KeyedSums& r) {
  TouchpointTotals t;
  t.mentions = static_cast<int64_t>(r.v[0]);
  t.negative_mentions = static_cast<int64_t>(r.v[1]);
  t.score_sum = r.v[2];
  t.rated = static_cast<int64_t>(r.v[3]);
  t.rating_sum = r.v[4];
  return t;
}

// The column a GroupBy keys the sums by ("" for kAll).
const char* group_column(GroupBy group) {
  return group == GroupBy::kSource ? "source_id" : group == GroupBy::kLocation ? "location_id" : "";
}

}  // namespace

std::vector<DayTotals> AggregateReads::daily(const ReviewFilter& f, GroupBy group) const {
  std::map<std::pair<int64_t, std::string>, Totals> sums;
  KeySpec k{true, group_column(group)};
  if (!f.touchpoints.empty()) {
    // Reviews mentioning the touchpoints: mentions, the touchpoint's sentiment, negative mentions.
    KeySpec kt{true, group_column(group)};
    keyed_sums(db_, f, touchpoint_spec(f.touchpoints), kt, [&](const KeyedSums& r) {
      TouchpointTotals t = to_tp_totals(r);
      Totals& d = sums[{r.day, r.key}];
      d.reviews += t.mentions;
      d.negative += t.negative_mentions;
      d.sentiment_sum += t.score_sum;
      d.rated += t.rated;
      d.rating_sum += t.rating_sum;
    });
  } else {
    keyed_sums(db_, f, review_spec(), k, [&](const KeyedSums& r) {
      sums[{r.day, r.key}].add(to_totals(r));
    });
  }
  std::vector<DayTotals> out;
  out.reserve(sums.size());
  for (auto& [key, t] : sums) out.push_back({key.first, key.second, t});
  return out;
}

std::map<std::string, Totals> AggregateReads::totals(const ReviewFilter& f, GroupBy group) const {
  std::map<std::string, Totals> out;
  KeySpec k{false, group_column(group)};
  keyed_sums(db_, f, review_spec(), k, [&](const KeyedSums& r) { out[r.key].add(to_totals(r)); });
  if (group == GroupBy::kAll) out[""];  // always present
  return out;
}

std::map<std::string, TouchpointTotals> AggregateReads::touchpoint_totals(
    const ReviewFilter& f, const std::vector<std::string>& ids) const {
  std::map<std::string, TouchpointTotals> out;
  if (ids.empty()) return out;
  keyed_sums(db_, f, touchpoint_spec(ids), KeySpec{false, "touchpoint"},
             [&](const KeyedSums& r) { out[r.key].add(to_tp_totals(r)); });
  return out;
}

std::vector<std::string> AggregateReads::touchpoints_in_data() const {
  Statement st = db_.prepare(
      "WITH RECURSIVE t(x) AS (SELECT min(touchpoint) FROM touchpoint_daily UNION ALL "
      "SELECT (SELECT min(touchpoint) FROM touchpoint_daily WHERE touchpoint > x) FROM t "
      "WHERE x IS NOT NULL) SELECT x FROM t WHERE x IS NOT NULL UNION "
      "SELECT DISTINCT touchpoint FROM touchpoint_hits WHERE review_id > "
      "(SELECT indexed_upto FROM query_index)");
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.column_text(0));
  return out;
}

}  // namespace repwatch::db
