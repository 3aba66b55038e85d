#include "cli/queries.h"

#include <algorithm>
#include <set>

#include "alerts/rules.h"
#include "cli/args.h"
#include "core/text.h"

namespace repwatch::cli {

// ---- Catalog -------------------------------------------------------------------------------

Catalog Catalog::load(const db::Database& db, const std::vector<sentiment::Touchpoint>& taxonomy,
                      const Config* config) {
  Catalog c;
  std::set<std::string> seen;
  for (const db::SourceRow& s : db::read_sources(db)) {
    c.sources.push_back({s.id, s.type, s.location_id});
    seen.insert(s.id);
  }
  std::map<std::string, std::string> locations;
  for (db::LocationRow& l : db::read_locations(db)) locations[l.id] = std::move(l.name);
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
  std::vector<std::string> extra;
  for (std::string& id : db::AggregateReads(db).touchpoints_in_data())
    if (!tp_seen.count(id)) extra.push_back(std::move(id));
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

// ---- Queries -------------------------------------------------------------------------------

std::map<std::string, TouchpointTotals> Queries::touchpoint_totals(const Filter& f,
                                                                   const Catalog& catalog) const {
  return aggregates_.touchpoint_totals(
      f, f.touchpoints.empty() ? catalog.touchpoint_ids() : f.touchpoints);
}

std::vector<ReviewRow> Queries::search(std::string_view query, const Filter& f, int64_t limit,
                                       bool* windowed) const {
  try {
    return reviews_.search(query, f, limit, windowed);
  } catch (const db::SearchQueryError& e) {
    if (e.reason().empty()) throw UsageError("search: give some words to look for");
    throw UsageError("search: cannot understand the query \"" + std::string(query) + "\" (" +
                     e.reason() + "); see `repwatch help search`");
  }
}

// ---- sources -------------------------------------------------------------------------------

std::vector<SourceHealth> Queries::sources(const Config* config, bool with_counts) const {
  std::vector<SourceHealth> out;
  for (db::SourceRow& s : db::read_sources(db_)) {
    SourceHealth h;
    static_cast<db::SourceRow&>(h) = std::move(s);
    h.in_database = true;
    out.push_back(std::move(h));
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

}  // namespace repwatch::cli
