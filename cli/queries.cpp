#include "cli/queries.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <variant>

#include "alerts/rules.h"
#include "cli/args.h"
#include "core/text.h"
#include "db/store.h"

namespace repwatch::cli {

namespace {

// A WHERE clause built piece by piece with positional parameters.
class Sql {
 public:
  using Param = std::variant<int64_t, double, std::string>;

  Sql& operator<<(std::string_view text) {
    text_ += text;
    return *this;
  }
  Sql& param(Param p) {
    text_ += "?";
    params_.push_back(std::move(p));
    return *this;
  }
  Sql& in_list(const std::vector<std::string>& values) {
    text_ += "(";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) text_ += ", ";
      param(values[i]);
    }
    text_ += ")";
    return *this;
  }
  const std::string& text() const { return text_; }

  db::Statement prepare(const db::Database& db) const {
    db::Statement st = db.prepare(text_);
    for (size_t i = 0; i < params_.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      std::visit([&](const auto& v) { st.bind(idx, v); }, params_[i]);
    }
    return st;
  }

 private:
  std::string text_;
  std::vector<Param> params_;
};

constexpr const char* kWatermark = "(SELECT indexed_upto FROM query_index)";

// " AND ..." for the review-level filters on reviews aliased `r`.
void review_conditions(Sql& sql, const Filter& f, bool with_time = true) {
  if (with_time && f.since) sql << " AND r.created_at >= ", sql.param(*f.since);
  if (with_time && f.until) sql << " AND r.created_at < ", sql.param(*f.until);
  if (!f.sources.empty()) sql << " AND r.source_id IN ", sql.in_list(f.sources);
  if (!f.locations.empty()) sql << " AND r.location_id IN ", sql.in_list(f.locations);
  if (!f.touchpoints.empty()) {
    sql << " AND EXISTS (SELECT 1 FROM touchpoint_hits h WHERE h.review_id = r.id AND "
           "h.touchpoint IN ";
    sql.in_list(f.touchpoints);
    sql << ")";
  }
  if (f.negative) sql << " AND r.negative = 1";
  if (f.unanswered) sql << " AND r.reply_text = ''";
  if (f.min_rating) sql << " AND r.rating >= ", sql.param(*f.min_rating - 1e-9);
  if (f.max_rating) sql << " AND r.rating <= ", sql.param(*f.max_rating + 1e-9);
  if (!f.include_removed) sql << " AND r.removed_at IS NULL";
}

void place_conditions(Sql& sql, const Filter& f, const char* alias) {
  std::string a(alias);
  if (!f.sources.empty()) sql << " AND " << a << ".source_id IN ", sql.in_list(f.sources);
  if (!f.locations.empty()) sql << " AND " << a << ".location_id IN ", sql.in_list(f.locations);
}

void day_conditions(Sql& sql, const Filter& f, const char* alias) {
  std::string a(alias);
  if (f.since) sql << " AND " << a << ".day >= ", sql.param(*f.since / kDay);
  if (f.until) sql << " AND " << a << ".day < ", sql.param((*f.until + kDay - 1) / kDay);
}

constexpr const char* kReviewColumns =
    "r.id, r.source_id, r.external_id, r.location_id, r.author, r.raw_rating, r.scale, "
    "r.rating, r.text, r.language, r.created_at, r.updated_at, r.reply_text, r.reply_at, r.url, "
    "r.revision, r.sentiment, r.label, r.negative, r.translated_text, r.removed_at, "
    "coalesce((SELECT a.on_translation FROM analyses a WHERE a.review_id = r.id), 0)";
constexpr int kReviewColumnCount = 22;

ReviewRow read_review(const db::Statement& st) {
  ReviewRow r;
  r.id = st.column_int(0);
  r.source_id = st.column_text(1);
  r.external_id = st.column_text(2);
  r.location_id = st.column_text(3);
  r.author = st.column_text(4);
  r.raw_rating = st.column_opt_double(5);
  r.scale = st.column_text(6);
  r.rating = st.column_opt_double(7);
  r.text = st.column_text(8);
  r.language = st.column_text(9);
  r.created_at = st.column_int(10);
  r.updated_at = st.column_int(11);
  r.reply_text = st.column_text(12);
  r.reply_at = st.column_opt_int(13);
  r.url = st.column_text(14);
  r.revision = static_cast<int>(st.column_int(15));
  r.sentiment = st.column_double(16);
  r.label = st.column_text(17);
  r.negative = st.column_int(18) != 0;
  r.translated_text = st.column_text(19);
  r.removed_at = st.column_opt_int(20);
  r.on_translation = st.column_int(21) != 0;
  return r;
}

// Stored spans with their phrases cut from the review's text; nothing for a malformed array
// (the CLI shows what it can rather than refusing the whole answer).
std::vector<Evidence> parse_evidence(std::string_view json, std::string_view text) {
  auto spans = db::decode_spans(json, text);
  return spans ? std::move(*spans) : std::vector<Evidence>{};
}

class HitLoader {
 public:
  explicit HitLoader(const db::Database& db)
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
  db::Statement st_;
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

// ---- Catalog -------------------------------------------------------------------------------

Catalog Catalog::load(const db::Database& db, const std::vector<sentiment::Touchpoint>& taxonomy,
                      const Config* config) {
  Catalog c;
  std::set<std::string> seen;
  {
    db::Statement st = db.prepare("SELECT id, type, location_id FROM sources ORDER BY id");
    while (st.step()) {
      c.sources.push_back({st.column_text(0), st.column_text(1), st.column_text(2)});
      seen.insert(c.sources.back().id);
    }
  }
  std::map<std::string, std::string> locations;
  {
    db::Statement st = db.prepare("SELECT id, name FROM locations ORDER BY id");
    while (st.step()) locations[st.column_text(0)] = st.column_text(1);
  }
  if (config) {
    for (const auto& s : config->sources)
      if (seen.insert(s.id).second) c.sources.push_back({s.id, s.type, s.location});
    for (const auto& l : config->locations) {
      auto& name = locations[l.id];
      if (name.empty() || name == l.id) name = l.name;
    }
    std::sort(c.sources.begin(), c.sources.end(),
              [](const Source& a, const Source& b) { return a.id < b.id; });
  }
  for (auto& [id, name] : locations) c.locations.push_back({id, name.empty() ? id : name});

  // Owners and standards as the alerts use them: the taxonomy's, overridden by [alerts.owners]
  // and [alerts.standards]. A config whose alert sections do not load (repwatchd would refuse
  // it and say why) leaves the taxonomy's.
  std::optional<alerts::AlertsConfig> alerting;
  if (config) {
    try {
      alerting = alerts::load_alerts_config(*config, taxonomy);
    } catch (const std::exception&) {
    }
  }
  std::set<std::string> tp_seen;
  for (const auto& t : taxonomy) {
    std::string owner = t.owner;
    std::optional<double> standard = t.standard;
    if (alerting) {
      if (auto it = alerting->owners.find(t.id); it != alerting->owners.end()) {
        owner.clear();
        for (const auto& address : it->second) owner += (owner.empty() ? "" : ", ") + address;
      }
      if (auto it = alerting->standards.find(t.id); it != alerting->standards.end())
        standard = it->second;
    }
    c.touchpoints.push_back({t.id, t.name.empty() ? t.id : t.name, owner, standard});
    tp_seen.insert(t.id);
  }
  // Touchpoints in the data but not in the taxonomy (renamed or from an older taxonomy): a
  // skip-scan over touchpoint_daily's primary key (one seek per distinct value) for the
  // indexed reviews, plus the hits of the reviews above the watermark.
  db::Statement st = db.prepare(
      "WITH RECURSIVE t(x) AS (SELECT min(touchpoint) FROM touchpoint_daily UNION ALL "
      "SELECT (SELECT min(touchpoint) FROM touchpoint_daily WHERE touchpoint > x) FROM t "
      "WHERE x IS NOT NULL) SELECT x FROM t WHERE x IS NOT NULL UNION "
      "SELECT DISTINCT touchpoint FROM touchpoint_hits WHERE review_id > "
      "(SELECT indexed_upto FROM query_index)");
  std::vector<std::string> extra;
  while (st.step()) {
    std::string id = st.column_text(0);
    if (!tp_seen.count(id)) extra.push_back(id);
  }
  for (auto& id : extra) c.touchpoints.push_back({id, id, "", std::nullopt});
  return c;
}

const TouchpointInfo* Catalog::touchpoint(std::string_view id) const {
  for (const auto& t : touchpoints)
    if (t.id == id) return &t;
  return nullptr;
}

const Catalog::Source* Catalog::source(std::string_view id) const {
  for (const auto& s : sources)
    if (s.id == id) return &s;
  return nullptr;
}

std::string Catalog::location_name(std::string_view id) const {
  for (const auto& l : locations)
    if (l.id == id) return l.name;
  return std::string(id);
}

std::vector<std::string> Catalog::touchpoint_ids() const {
  std::vector<std::string> ids;
  for (const auto& t : touchpoints) ids.push_back(t.id);
  return ids;
}

namespace {

void add_unique(std::vector<std::string>& out, const std::string& id) {
  if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
}

// "a,b" and repeated options both work.
std::vector<std::string> split_commas(const std::vector<std::string>& given) {
  std::vector<std::string> out;
  for (const auto& g : given) {
    size_t start = 0;
    while (start <= g.size()) {
      size_t comma = g.find(',', start);
      if (comma == std::string::npos) comma = g.size();
      std::string part = g.substr(start, comma - start);
      while (!part.empty() && part.front() == ' ') part.erase(0, 1);
      while (!part.empty() && part.back() == ' ') part.pop_back();
      if (!part.empty()) out.push_back(part);
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> Catalog::resolve_sources(const std::vector<std::string>& given) const {
  std::vector<std::string> out;
  for (const auto& name : split_commas(given)) {
    bool found = false;
    for (const auto& s : sources)
      if (s.id == name) add_unique(out, s.id), found = true;
    if (!found)
      for (const auto& s : sources)
        if (lower(s.type) == lower(name) || lower(s.id) == lower(name))
          add_unique(out, s.id), found = true;
    if (!found) {
      std::vector<std::string> names;
      std::set<std::string> types;
      for (const auto& s : sources) names.push_back(s.id), types.insert(s.type);
      std::vector<std::string> candidates = names;
      candidates.insert(candidates.end(), types.begin(), types.end());
      std::string msg = unknown_name_message("source", name, names);
      auto near = closest(name, std::vector<std::string>(types.begin(), types.end()), 1);
      if (!near.empty() && closest(name, names, 1).empty())
        msg = "unknown source \"" + name + "\" (did you mean the type \"" + near[0] +
              "\"?); known: " + [&] {
                std::string s;
                for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
                return s;
              }();
      throw UsageError("--source: " + msg);
    }
  }
  return out;
}

namespace {

// Names given on the command line for a kind with ids and display names (locations,
// touchpoints): each matches an id or a display name, case-insensitively, and comma lists are
// split. An unknown one is a UsageError naming `option` that suggests the closest id, or the
// closest display name with its id.
template <typename Item>
std::vector<std::string> resolve_named(const std::vector<std::string>& given,
                                       const std::vector<Item>& items, const std::string& kind,
                                       const std::string& option) {
  std::vector<std::string> out;
  for (const auto& name : split_commas(given)) {
    bool found = false;
    for (const auto& item : items)
      if (item.id == name || lower(item.id) == lower(name) || lower(item.name) == lower(name))
        add_unique(out, item.id), found = true;
    if (found) continue;
    std::vector<std::string> ids, names;
    for (const auto& item : items) ids.push_back(item.id), names.push_back(item.name);
    std::string msg = unknown_name_message(kind, name, ids);
    if (closest(name, ids, 1).empty()) {
      auto near = closest(name, names, 1);
      if (!near.empty())
        for (const auto& item : items)
          if (item.name == near[0])
            msg = "unknown " + kind + " \"" + name + "\" (did you mean \"" + item.id + "\", " +
                  item.name + "?)" + msg.substr(msg.find(';'));
    }
    throw UsageError(option + ": " + msg);
  }
  return out;
}

}  // namespace

std::vector<std::string> Catalog::resolve_locations(const std::vector<std::string>& given) const {
  return resolve_named(given, locations, "location", "--location");
}

std::vector<std::string> Catalog::resolve_touchpoints(const std::vector<std::string>& given) const {
  return resolve_named(given, touchpoints, "touchpoint", "--touchpoint");
}

// ---- figures -------------------------------------------------------------------------------

void parse_rating_filter(std::string_view text, Filter& f) {
  std::string t(text);
  t.erase(std::remove(t.begin(), t.end(), ' '), t.end());
  auto num = [&](const std::string& s) -> double {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(s, &used);
    } catch (...) {
      used = 0;
    }
    if (used != s.size() || s.empty() || v < 1 || v > 5)
      throw UsageError(
          "--rating: expected a rating from 1 to 5 or a range like 1-2, <=2, >=4, "
          "got \"" +
          std::string(text) + "\"");
    return v;
  };
  if (t.rfind("<=", 0) == 0) {
    f.max_rating = num(t.substr(2));
  } else if (t.rfind(">=", 0) == 0) {
    f.min_rating = num(t.substr(2));
  } else if (t.rfind("<", 0) == 0) {
    f.max_rating = num(t.substr(1)) - 1e-6;
  } else if (t.rfind(">", 0) == 0) {
    f.min_rating = num(t.substr(1)) + 1e-6;
  } else if (auto dash = t.find('-', 1); dash != std::string::npos) {
    f.min_rating = num(t.substr(0, dash));
    f.max_rating = num(t.substr(dash + 1));
    if (*f.min_rating > *f.max_rating)
      throw UsageError("--rating: the range \"" + std::string(text) + "\" is empty (low > high)");
  } else {
    f.min_rating = f.max_rating = num(t);
  }
}

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
std::vector<TailRows> tail_rows(const db::Database& db, const Filter& f) {
  const char* above_from =
      db::query_index_state(db).pending() <= kShortTail ? "reviews r NOT INDEXED" : "reviews r";
  std::string above = std::string("r.id > ") + kWatermark;
  if (!f.include_removed) return {{above_from, above + " AND r.removed_at IS NULL"}};
  return {{above_from, above},
          {"reviews r", std::string("r.id <= ") + kWatermark + " AND r.removed_at IS NOT NULL"}};
}

void tail_time(Sql& sql, const Filter& f) {
  if (f.since) sql << " AND r.created_at >= ", sql.param(*f.since / kDay * kDay);
  if (f.until) sql << " AND r.created_at < ", sql.param((*f.until + kDay - 1) / kDay * kDay);
}

struct KeyedSums {
  int64_t day = 0;
  std::string key;
  double v[5] = {0, 0, 0, 0, 0};
};

// Steps a statement of [touchpoint] [day] [text key] + 5 sums.
template <typename Fn>
void each_keyed(db::Statement& st, const KeySpec& k, Fn fn) {
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

template <typename Fn>
void review_sums(const db::Database& db, const Filter& f, const KeySpec& k, Fn fn) {
  std::string ak = agg_keys(k), tk = tail_keys(k, "");
  Sql agg;
  agg << "SELECT " << (ak.empty() ? "" : ak + ", ")
      << "sum(a.reviews), sum(a.rated), sum(a.rating_sum), sum(a.sentiment_sum), sum(a.negative) "
         "FROM review_daily a WHERE 1";
  day_conditions(agg, f, "a");
  place_conditions(agg, f, "a");
  if (!ak.empty()) agg << " GROUP BY " << ak;
  db::Statement st = agg.prepare(db);
  each_keyed(st, k, fn);
  for (const TailRows& rows : tail_rows(db, f)) {
    Sql tail;
    tail << "SELECT " << (tk.empty() ? "" : tk + ", ")
         << "count(*), count(r.rating), total(r.rating), total(r.sentiment), total(r.negative) "
            "FROM "
         << rows.from << " WHERE " << rows.where;
    tail_time(tail, f);
    place_conditions(tail, f, "r");
    if (!tk.empty()) tail << " GROUP BY " << tk;
    db::Statement st2 = tail.prepare(db);
    each_keyed(st2, k, fn);
  }
}

// The same over touchpoint_daily: mentions, negative_mentions, score_sum, rated, rating_sum.
// `touchpoints` must list every touchpoint wanted (the aggregate's key starts with it).
template <typename Fn>
void touchpoint_sums(const db::Database& db, const Filter& f,
                     const std::vector<std::string>& touchpoints, const KeySpec& k, Fn fn) {
  std::string ak = agg_keys(k), tk = tail_keys(k, "h.touchpoint");
  Sql agg;
  agg << "SELECT " << (ak.empty() ? "" : ak + ", ")
      << "sum(a.mentions), sum(a.negative_mentions), sum(a.score_sum), sum(a.rated), "
         "sum(a.rating_sum) FROM touchpoint_daily a WHERE a.touchpoint IN ";
  agg.in_list(touchpoints);
  day_conditions(agg, f, "a");
  place_conditions(agg, f, "a");
  if (!ak.empty()) agg << " GROUP BY " << ak;
  db::Statement st = agg.prepare(db);
  each_keyed(st, k, fn);
  for (const TailRows& rows : tail_rows(db, f)) {
    Sql tail;
    tail << "SELECT " << (tk.empty() ? "" : tk + ", ")
         << "count(*), total(h.score < 0), total(h.score), count(r.rating), total(r.rating) FROM "
         << rows.from << " JOIN touchpoint_hits h ON h.review_id = r.id WHERE " << rows.where
         << " AND h.touchpoint IN ";
    tail.in_list(touchpoints);
    tail_time(tail, f);
    place_conditions(tail, f, "r");
    if (!tk.empty()) tail << " GROUP BY " << tk;
    db::Statement st2 = tail.prepare(db);
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

std::vector<DayTotals> Queries::daily(const Filter& f, GroupBy group) const {
  std::map<std::pair<int64_t, std::string>, Totals> sums;
  KeySpec k{true, group_column(group)};
  if (!f.touchpoints.empty()) {
    // Reviews mentioning the touchpoints: mentions, the touchpoint's sentiment, negative mentions.
    KeySpec kt{true, group_column(group)};
    touchpoint_sums(db_, f, f.touchpoints, kt, [&](const KeyedSums& r) {
      TouchpointTotals t = to_tp_totals(r);
      Totals& d = sums[{r.day, r.key}];
      d.reviews += t.mentions;
      d.negative += t.negative_mentions;
      d.sentiment_sum += t.score_sum;
      d.rated += t.rated;
      d.rating_sum += t.rating_sum;
    });
  } else {
    review_sums(db_, f, k, [&](const KeyedSums& r) { sums[{r.day, r.key}].add(to_totals(r)); });
  }
  std::vector<DayTotals> out;
  out.reserve(sums.size());
  for (auto& [key, t] : sums) out.push_back({key.first, key.second, t});
  return out;
}

std::map<std::string, Totals> Queries::totals(const Filter& f, GroupBy group) const {
  std::map<std::string, Totals> out;
  KeySpec k{false, group_column(group)};
  review_sums(db_, f, k, [&](const KeyedSums& r) { out[r.key].add(to_totals(r)); });
  if (group == GroupBy::kAll) out[""];  // always present
  return out;
}

std::map<std::string, TouchpointTotals> Queries::touchpoint_totals(const Filter& f,
                                                                   const Catalog& catalog) const {
  std::map<std::string, TouchpointTotals> out;
  std::vector<std::string> ids = f.touchpoints.empty() ? catalog.touchpoint_ids() : f.touchpoints;
  if (ids.empty()) return out;
  touchpoint_sums(db_, f, ids, KeySpec{false, "touchpoint"},
                  [&](const KeyedSums& r) { out[r.key].add(to_tp_totals(r)); });
  return out;
}

std::map<std::string, std::vector<std::pair<std::string, int64_t>>> Queries::top_phrases(
    const Filter& f, size_t per_touchpoint, int64_t max_mentions, bool* capped) const {
  Sql sql;
  sql << "SELECT h.touchpoint, h.evidence, CASE WHEN (SELECT a.on_translation FROM analyses a "
         "WHERE a.review_id = r.id) THEN r.translated_text ELSE r.text END FROM reviews r JOIN "
         "touchpoint_hits h ON h.review_id = r.id WHERE 1";
  Filter g = f;
  g.touchpoints.clear();  // filter the hits themselves instead
  review_conditions(sql, g);
  if (!f.touchpoints.empty()) sql << " AND h.touchpoint IN ", sql.in_list(f.touchpoints);
  sql << " ORDER BY r.created_at DESC LIMIT ", sql.param(max_mentions + 1);
  db::Statement st = sql.prepare(db_);
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

// ---- reviews -------------------------------------------------------------------------------

void Queries::each_review(const Filter& f, ReviewOrder order,
                          const std::function<void(const ReviewRow&)>& fn) const {
  const bool with_touchpoints = order.with_touchpoints, newest_first = order.newest_first;
  Sql sql;
  sql << "SELECT " << kReviewColumns << " FROM reviews r WHERE 1";
  review_conditions(sql, f);
  sql << (newest_first ? " ORDER BY r.created_at DESC, r.id DESC" : " ORDER BY r.created_at, r.id");
  db::Statement st = sql.prepare(db_);
  HitLoader hits(db_);
  while (st.step()) {
    ReviewRow row = read_review(st);
    if (with_touchpoints) row.touchpoints = hits.load(row.id, row.analyzed_text());
    fn(row);
  }
}

std::vector<ReviewRow> Queries::reviews(const Filter& f, int64_t limit, ReviewOrder order) const {
  const bool with_touchpoints = order.with_touchpoints, newest_first = order.newest_first;
  Sql sql;
  sql << "SELECT " << kReviewColumns << " FROM reviews r WHERE 1";
  review_conditions(sql, f);
  sql << (newest_first ? " ORDER BY r.created_at DESC, r.id DESC" : " ORDER BY r.created_at, r.id");
  if (limit >= 0) sql << " LIMIT ", sql.param(limit);
  db::Statement st = sql.prepare(db_);
  std::vector<ReviewRow> out;
  while (st.step()) out.push_back(read_review(st));
  if (with_touchpoints) {
    HitLoader hits(db_);
    for (auto& r : out) r.touchpoints = hits.load(r.id, r.analyzed_text());
  }
  return out;
}

std::vector<ReviewRow> Queries::most_negative(const Filter& f, int64_t limit) const {
  Filter g = f;
  g.negative = true;
  Sql sql;
  sql << "SELECT " << kReviewColumns << " FROM reviews r WHERE 1";
  review_conditions(sql, g);
  sql << " ORDER BY r.sentiment, r.rating, r.created_at DESC LIMIT ", sql.param(limit);
  db::Statement st = sql.prepare(db_);
  std::vector<ReviewRow> out;
  while (st.step()) out.push_back(read_review(st));
  HitLoader hits(db_);
  for (auto& r : out) r.touchpoints = hits.load(r.id, r.analyzed_text());
  return out;
}

int64_t Queries::count_reviews(const Filter& f) const {
  Sql sql;
  sql << "SELECT count(*) FROM reviews r WHERE 1";
  review_conditions(sql, f);
  db::Statement st = sql.prepare(db_);
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

std::vector<ReviewRow> Queries::search(std::string_view query, const Filter& f, int64_t limit,
                                       bool* windowed) const {
  if (windowed) *windowed = false;
  std::string match = fts_query(query);
  if (match.empty()) throw UsageError("search: give some words to look for");
  // Reviews not folded into reviews_fts yet (above the watermark) go into a temporary FTS5
  // table with the same tokenizer (TEMP works on a read-only connection), so that stemming,
  // phrases and the query syntax are the same whether or not the daemon has refreshed.
  bool pending = index_state().pending() > 0;
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
    std::string t(table);
    Sql sql;
    sql << "SELECT " << kReviewColumns << ", highlight(" << t << ", 0, char(1), char(2)), snippet("
        << t << ", 0, char(1), char(2), '…', 20), bm25(" << t << ") FROM " << t
        << " JOIN reviews r ON r.id = " << t << ".rowid WHERE " << t << " MATCH ";
    sql.param(match);
    // BM25 costs ~2 us per matching review: on a common word over millions of reviews, rank
    // among the newest kSearchWindow matches (by arrival) rather than all of them.
    {
      Sql window;
      window << "SELECT " << t << ".rowid FROM " << t << " JOIN reviews r ON r.id = " << t
             << ".rowid WHERE " << t << " MATCH ";
      window.param(match);
      review_conditions(window, f);
      window << " ORDER BY " << t << ".rowid DESC LIMIT 1 OFFSET ", window.param(kSearchWindow - 1);
      try {
        db::Statement w = window.prepare(db_);
        if (w.step()) {
          sql << " AND " << t << ".rowid >= ", sql.param(w.column_int(0));
          if (windowed) *windowed = true;
        }
      } catch (const DbError&) {
        // A query FTS5 cannot parse: reported by the main statement below.
      }
    }
    review_conditions(sql, f);
    sql << " ORDER BY " << t << ".rank LIMIT ", sql.param(limit);
    try {
      db::Statement st = sql.prepare(db_);
      while (st.step()) {
        ReviewRow r = read_review(st);
        std::vector<std::pair<size_t, size_t>> spans;
        std::string plain = strip_marks(st.column_view(kReviewColumnCount), &spans);
        if (plain == r.text) r.matches = std::move(spans);
        r.snippet = st.column_text(kReviewColumnCount + 1);
        ranked.emplace_back(st.column_double(kReviewColumnCount + 2), std::move(r));
      }
    } catch (const DbError& e) {
      std::string what = e.what();
      if (what.find("fts5") != std::string::npos || what.find("syntax") != std::string::npos)
        throw UsageError("search: cannot understand the query \"" + std::string(query) + "\" (" +
                         what.substr(what.rfind(": ") + 2) + "); see `repwatch help search`");
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

// ---- sources -------------------------------------------------------------------------------

std::vector<SourceHealth> Queries::sources(const Config* config, bool with_counts) const {
  std::vector<SourceHealth> out;
  db::Statement st = db_.prepare(
      "SELECT s.id, s.type, s.location_id, s.added_at, s.first_sync_at, p.last_attempt_at, "
      "p.last_success_at, p.last_error, p.last_error_kind, p.last_error_at, "
      "coalesce(p.consecutive_failures, 0), p.next_poll_at, coalesce(p.needs_attention, 0), "
      "(SELECT max(created_at) FROM reviews r WHERE r.source_id = s.id) "
      "FROM sources s LEFT JOIN poll_state p ON p.source_id = s.id ORDER BY s.id");
  while (st.step()) {
    SourceHealth h;
    h.id = st.column_text(0);
    h.type = st.column_text(1);
    h.location_id = st.column_text(2);
    h.in_database = true;
    h.added_at = st.column_opt_int(3);
    h.first_sync_at = st.column_opt_int(4);
    h.last_attempt_at = st.column_opt_int(5);
    h.last_success_at = st.column_opt_int(6);
    h.last_error = st.column_text(7);
    h.last_error_kind = st.column_text(8);
    h.last_error_at = st.column_opt_int(9);
    h.consecutive_failures = static_cast<int>(st.column_int(10));
    h.next_poll_at = st.column_opt_int(11);
    h.needs_attention = st.column_int(12) != 0;
    h.latest_review_at = st.column_opt_int(13);
    out.push_back(std::move(h));
  }
  {
    std::map<std::string, db::PollState> polls;
    for (db::PollState& p : db::read_poll_states(db_)) polls[p.source_id] = std::move(p);
    for (auto& h : out)
      if (auto it = polls.find(h.id); it != polls.end()) h.poll = std::move(it->second);
  }
  if (with_counts) {
    auto counts = totals(Filter{}, GroupBy::kSource);
    for (auto& h : out)
      if (auto it = counts.find(h.id); it != counts.end()) h.reviews = it->second.reviews;
  }
  if (config) {
    for (const auto& s : config->sources) {
      auto it = std::find_if(out.begin(), out.end(), [&](const auto& h) { return h.id == s.id; });
      if (it == out.end()) {
        SourceHealth h;
        h.id = s.id;
        h.type = s.type;
        h.location_id = s.location;
        out.push_back(std::move(h));
        it = std::prev(out.end());
      }
      it->interval_seconds = s.interval_seconds;
      it->enabled = s.enabled;
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  }
  return out;
}

std::optional<std::pair<int64_t, int64_t>> Queries::review_span() const {
  // Two subqueries: each is one step down reviews_by_created, where min() and max() in one
  // SELECT would read the whole index.
  db::Statement st = db_.prepare(
      "SELECT (SELECT min(created_at) FROM reviews), (SELECT max(created_at) FROM reviews)");
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return std::make_pair(st.column_int(0), st.column_int(1));
}

// ---- ReadSnapshot --------------------------------------------------------------------------

ReadSnapshot::ReadSnapshot(const db::Database& db) : db_(db) { db_.exec("BEGIN"); }
ReadSnapshot::~ReadSnapshot() {
  try {
    db_.exec("COMMIT");
  } catch (...) {
  }
}

}  // namespace repwatch::cli
