#include "alerts/rules.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

#include "core/error.h"
#include "core/redact.h"
#include "core/text.h"

namespace repwatch::alerts {

namespace {

constexpr double kEpsilon = 1e-9;  // as db::NegativeRule: 2.0000000000000004 is still <= 2

const std::vector<std::string_view> kAlertsKeys = {"enabled",         "marketing",
                                                   "managers",        "owners",
                                                   "standards",       "rules",
                                                   "negative_rating", "negative_sentiment",
                                                   "match",           "alert_on_first_sync",
                                                   "backdate_grace",  "quiet_hours",
                                                   "timezone",        "max_emails_per_hour",
                                                   "retry_initial",   "retry_max",
                                                   "retry_for",       "subject_prefix",
                                                   "eml_dir",         "message_id_domain"};
const std::vector<std::string_view> kRuleKeys = {"name",
                                                 "type",
                                                 "enabled",
                                                 "urgent",
                                                 "match",
                                                 "rating_at_most",
                                                 "sentiment_at_most",
                                                 "locations",
                                                 "sources",
                                                 "notify",
                                                 "to",
                                                 "after",
                                                 "measure",
                                                 "window",
                                                 "min_reviews",
                                                 "repeat",
                                                 "touchpoints",
                                                 "after_failures",
                                                 "silent_after"};
const std::vector<std::string_view> kSmtpKeys = {"url",      "starttls",      "username",
                                                 "password", "password_file", "password_env",
                                                 "from",     "ca_file",       "timeout"};
const std::vector<std::string_view> kWebhookKeys = {"name",    "url",    "url_file",
                                                    "url_env", "format", "timeout"};
const std::vector<std::string_view> kDigestKeys = {"mode", "at", "weekday"};
const std::vector<std::string_view> kLocationAlertKeys = {"marketing", "managers", "owners"};

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// A list of addresses from a string or array; each element may itself be "a@x, b@y".
std::vector<std::string> address_list(const Settings& s, std::string_view key) {
  std::vector<std::string> out;
  for (const std::string& item : s.string_list(key)) {
    size_t pos = 0;
    while (pos <= item.size()) {
      size_t comma = item.find(',', pos);
      if (comma == std::string::npos) comma = item.size();
      std::string a(trim(std::string_view(item).substr(pos, comma - pos)));
      pos = comma + 1;
      if (a.empty()) continue;
      if (!is_valid_address(a))
        s.fail(key, "\"" + a + "\" is not an email address like name@clinic.example");
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
  }
  return out;
}

// "22:00" -> 1320
std::optional<int> parse_clock(std::string_view t) {
  t = std::string_view(t.data(), t.size());
  size_t colon = t.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || t.size() - colon != 3)
    return std::nullopt;
  int h = 0, m = 0;
  for (size_t i = 0; i < colon; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
    h = h * 10 + (t[i] - '0');
  }
  for (size_t i = colon + 1; i < t.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
    m = m * 10 + (t[i] - '0');
  }
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

constexpr RuleType kRuleTypes[] = {RuleType::kNewNegative, RuleType::kEditNegative,
                                   RuleType::kNoReply,     RuleType::kTouchpointAverage,
                                   RuleType::kReplyPhi,    RuleType::kRemovedNegative,
                                   RuleType::kSourceHealth};

std::optional<RuleType> parse_type(const std::string& s) {
  for (RuleType t : kRuleTypes)
    if (s == to_string(t)) return t;
  return std::nullopt;
}

Match parse_match(const Settings& s, std::string_view key, Match fallback) {
  auto v = s.string(key);
  if (!v) return fallback;
  if (*v == "rating_then_sentiment") return Match::kRatingThenSentiment;
  if (*v == "either") return Match::kEither;
  if (*v == "both") return Match::kBoth;
  s.fail(key, "expected \"rating_then_sentiment\", \"either\" or \"both\", got \"" + *v + "\"");
}

double rating_threshold(const Settings& s, std::string_view key, double fallback) {
  auto v = s.number(key);
  if (!v) return fallback;
  if (*v < 1 || *v > 5) s.fail(key, "expected a rating from 1 to 5 (the normalized scale)");
  return *v;
}

double sentiment_threshold(const Settings& s, std::string_view key, double fallback) {
  auto v = s.number(key);
  if (!v) return fallback;
  if (*v < -1 || *v > 1) s.fail(key, "expected a sentiment score from -1 to 1");
  return *v;
}

int64_t positive_duration(const Settings& s, std::string_view key, int64_t fallback) {
  auto v = s.duration(key);
  if (!v) return fallback;
  if (*v <= 0) s.fail(key, "must be longer than 0s");
  return *v;
}

// Local or UTC broken-down time <-> epoch.
std::tm to_tm(int64_t epoch, bool utc) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  if (utc)
    gmtime_r(&t, &tm);
  else
    localtime_r(&t, &tm);
  return tm;
}

int64_t from_tm(std::tm tm, bool utc) {
  if (utc) return static_cast<int64_t>(timegm(&tm));
  tm.tm_isdst = -1;
  return static_cast<int64_t>(std::mktime(&tm));
}

// The epoch of `minute` (after midnight) on the day of `tm` plus `day_offset` days.
int64_t at_minute(std::tm tm, int day_offset, int minute, bool utc) {
  tm.tm_mday += day_offset;
  tm.tm_hour = minute / 60;
  tm.tm_min = minute % 60;
  tm.tm_sec = 0;
  return from_tm(tm, utc);
}

}  // namespace

db::AlertKind alert_kind(RuleType type) {
  switch (type) {
    case RuleType::kNewNegative:
      return db::AlertKind::kNewNegative;
    case RuleType::kEditNegative:
      return db::AlertKind::kEditNegative;
    case RuleType::kNoReply:
      return db::AlertKind::kNoReply;
    case RuleType::kTouchpointAverage:
      return db::AlertKind::kTouchpointAverage;
    case RuleType::kReplyPhi:
      return db::AlertKind::kReplyPhi;
    case RuleType::kRemovedNegative:
      return db::AlertKind::kRemovedNegative;
    case RuleType::kSourceHealth:
      return db::AlertKind::kSourceHealth;
  }
  return db::AlertKind::kNewNegative;
}

const char* to_string(RuleType type) { return db::to_string(alert_kind(type)); }

bool Rule::applies_to(const std::string& location_id, const std::string& source_id) const {
  if (!locations.empty() &&
      std::find(locations.begin(), locations.end(), location_id) == locations.end())
    return false;
  if (!sources.empty() && std::find(sources.begin(), sources.end(), source_id) == sources.end())
    return false;
  return true;
}

bool Rule::is_negative(const Review& review, const Analysis& analysis) const {
  const bool has_sentiment = analysis.scored;
  const bool by_sentiment = has_sentiment && analysis.score <= sentiment_at_most + kEpsilon;
  const bool by_rating = review.rating && *review.rating <= rating_at_most + kEpsilon;
  switch (match) {
    case Match::kRatingThenSentiment:
      return review.rating ? by_rating : by_sentiment;
    case Match::kEither:
      return by_rating || by_sentiment;
    case Match::kBoth:
      return review.rating && by_rating && by_sentiment;
  }
  return false;
}

const Rule* AlertsConfig::find_rule(const std::string& name) const {
  for (const Rule& r : rules)
    if (r.name == name) return &r;
  return nullptr;
}

HealthOptions AlertsConfig::health_options(const std::string& location_id,
                                           const std::string& source_id) const {
  for (const Rule& r : rules)
    if (r.type == RuleType::kSourceHealth && r.applies_to(location_id, source_id)) return r.health;
  return {};
}

const std::vector<std::string>& AlertsConfig::group(const std::string& g,
                                                    const std::string& location_id) const {
  auto it = locations.find(location_id);
  if (g == "marketing") {
    if (it != locations.end() && it->second.marketing) return *it->second.marketing;
    return marketing;
  }
  if (g == "managers") {
    if (it != locations.end() && it->second.managers) return *it->second.managers;
    return managers;
  }
  static const std::vector<std::string> none;
  return none;
}

std::vector<std::string> AlertsConfig::owners_of(const std::string& touchpoint,
                                                 const std::string& location_id) const {
  auto loc = locations.find(location_id);
  if (loc != locations.end()) {
    auto o = loc->second.owners.find(touchpoint);
    if (o != loc->second.owners.end()) return o->second;
  }
  auto o = owners.find(touchpoint);
  return o == owners.end() ? std::vector<std::string>{} : o->second;
}

std::string AlertsConfig::location_name(const std::string& location_id) const {
  auto it = location_names.find(location_id);
  return it == location_names.end() || it->second.empty() ? location_id : it->second;
}

std::string AlertsConfig::touchpoint_name(const std::string& touchpoint) const {
  auto it = touchpoint_names.find(touchpoint);
  return it == touchpoint_names.end() || it->second.empty() ? touchpoint : it->second;
}

db::NegativeRule negative_rule(const AlertsConfig& config) {
  db::NegativeRule n;
  n.max_rating = config.negative_rating;
  n.max_sentiment = config.negative_sentiment;
  return n;
}

bool is_valid_address(const std::string& a) {
  if (a.empty() || a.size() > 254) return false;
  size_t at = a.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 >= a.size() || at > 64) return false;
  std::string_view local(a.data(), at), domain(a.data() + at + 1, a.size() - at - 1);
  static const std::string_view kLocalSpecials = "!#$%&'*+-/=?^_`{|}~.";
  for (char c : local) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || kLocalSpecials.find(c) != std::string_view::npos)) return false;
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return false;
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
    return false;
  for (char c : domain) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '-' || c == '.')) return false;
  }
  return true;
}

bool in_quiet_hours(const QuietHours& q, bool utc, int64_t epoch, int64_t* ends_at) {
  if (!q.enabled || q.start_minute == q.end_minute) return false;
  std::tm tm = to_tm(epoch, utc);
  int m = tm.tm_hour * 60 + tm.tm_min;
  bool quiet = false;
  int day_offset = 0;
  if (q.start_minute < q.end_minute) {
    quiet = m >= q.start_minute && m < q.end_minute;
  } else {  // wraps midnight: 22:00-07:00
    if (m >= q.start_minute) {
      quiet = true;
      day_offset = 1;
    } else if (m < q.end_minute) {
      quiet = true;
    }
  }
  if (quiet && ends_at) {
    *ends_at = at_minute(tm, day_offset, q.end_minute, utc);
    if (*ends_at <= epoch) *ends_at = epoch + 60;  // DST oddities: never stall
  }
  return quiet;
}

int64_t next_digest_time(const DigestConfig& d, bool utc, int64_t epoch) {
  std::tm tm = to_tm(epoch, utc);
  for (int day = 0; day <= 8; ++day) {
    int64_t t = at_minute(tm, day, d.at_minute, utc);
    if (t <= epoch) continue;
    if (d.mode == DigestMode::kWeekly && to_tm(t, utc).tm_wday != d.weekday) continue;
    return t;
  }
  return epoch + 86400;  // unreachable in practice
}

namespace {

// The names a config may refer to: touchpoints of the taxonomy, [[locations]], [[sources]].
class KnownNames {
 public:
  KnownNames(const Config& config, std::vector<std::string> touchpoint_ids, bool has_taxonomy)
      : config_(config), touchpoint_ids_(std::move(touchpoint_ids)), has_taxonomy_(has_taxonomy) {}

  // Without a taxonomy (the CLI's listing) every touchpoint is accepted.
  bool has_touchpoint(const std::string& id) const {
    return !has_taxonomy_ ||
           std::find(touchpoint_ids_.begin(), touchpoint_ids_.end(), id) != touchpoint_ids_.end();
  }
  void check_touchpoint(const Settings& s, std::string_view key, const std::string& id) const {
    if (!has_touchpoint(id))
      s.fail(key, "no touchpoint \"" + id + "\" in the taxonomy; known: " + join(touchpoint_ids_));
  }
  void check_location(const Settings& s, std::string_view key, const std::string& id) const {
    if (!config_.find_location(id)) s.fail(key, "no [[locations]] entry has id \"" + id + "\"");
  }
  void check_source(const Settings& s, std::string_view key, const std::string& id) const {
    if (!config_.find_source(id)) s.fail(key, "no [[sources]] entry has id \"" + id + "\"");
  }

 private:
  const Config& config_;
  std::vector<std::string> touchpoint_ids_;
  bool has_taxonomy_;
};

// What a rule takes from [alerts] unless it says otherwise.
struct RuleDefaults {
  double rating_at_most = 2;
  double sentiment_at_most = -0.3;
  Match match = Match::kRatingThenSentiment;
  std::vector<std::string> privacy;  // reply_phi's touchpoints: "privacy" when there is one
};

// Touchpoint names, standards and owners from the taxonomy; returns the touchpoint ids.
std::vector<std::string> read_taxonomy(const std::vector<sentiment::Touchpoint>& taxonomy,
                                       AlertsConfig& ac) {
  std::vector<std::string> ids;
  for (const sentiment::Touchpoint& t : taxonomy) {
    ids.push_back(t.id);
    ac.touchpoint_names[t.id] = t.name;
    if (t.standard) ac.standards[t.id] = *t.standard;
    std::vector<std::string> owners;
    size_t pos = 0;
    while (pos <= t.owner.size()) {
      size_t comma = t.owner.find(',', pos);
      if (comma == std::string::npos) comma = t.owner.size();
      std::string a(trim(std::string_view(t.owner).substr(pos, comma - pos)));
      pos = comma + 1;
      if (a.empty()) continue;
      if (!is_valid_address(a))
        throw ConfigError("taxonomy: touchpoint \"" + t.id + "\": owner \"" + a +
                          "\" is not an email address");
      owners.push_back(a);
    }
    if (!owners.empty()) ac.owners[t.id] = owners;
  }
  return ids;
}

// [alerts] marketing, managers, [alerts.owners], [alerts.standards].
void parse_recipients(const Settings& alerts, const KnownNames& known, AlertsConfig& ac) {
  ac.marketing = address_list(alerts, "marketing");
  ac.managers = address_list(alerts, "managers");
  const Settings owners = alerts.table("owners");
  for (const std::string& tp : owners.keys()) {
    known.check_touchpoint(owners, tp, tp);
    ac.owners[tp] = address_list(owners, tp);
  }
  const Settings standards = alerts.table("standards");
  for (const std::string& tp : standards.keys()) {
    known.check_touchpoint(standards, tp, tp);
    auto v = standards.number(tp);
    if (!v || *v < 1 || *v > 5) standards.fail(tp, "expected an average from 1 to 5");
    ac.standards[tp] = *v;
  }
}

// Each [[locations]] entry's `alerts` table.
void parse_location_routing(const Config& config, const KnownNames& known, AlertsConfig& ac) {
  for (const LocationConfig& l : config.locations) {
    const Settings la = l.settings.table("alerts");
    if (la.keys().empty()) continue;
    la.reject_unknown(kLocationAlertKeys);
    LocationRouting r;
    if (la.has("marketing")) r.marketing = address_list(la, "marketing");
    if (la.has("managers")) r.managers = address_list(la, "managers");
    const Settings owners = la.table("owners");
    for (const std::string& tp : owners.keys()) {
      known.check_touchpoint(owners, tp, tp);
      r.owners[tp] = address_list(owners, tp);
    }
    ac.locations[l.id] = std::move(r);
  }
}

// [alerts] quiet_hours = "HH:MM-HH:MM" (absent or empty: none).
QuietHours parse_quiet_hours(const Settings& alerts) {
  auto q = alerts.string("quiet_hours");
  if (!q || q->empty()) return {};
  size_t dash = q->find('-');
  std::optional<int> start, end;
  if (dash != std::string::npos) {
    start = parse_clock(trim(std::string_view(*q).substr(0, dash)));
    end = parse_clock(trim(std::string_view(*q).substr(dash + 1)));
  }
  if (!start || !end)
    alerts.fail("quiet_hours", "expected \"HH:MM-HH:MM\" like \"21:00-07:00\", got \"" + *q + "\"");
  return {true, *start, *end};
}

// [alerts]: history, quiet hours and time zone, the hourly limit, retries, subject, .eml files.
void parse_delivery_policy(const Settings& alerts, const Config& config, AlertsConfig& ac) {
  ac.alert_on_first_sync = alerts.boolean("alert_on_first_sync").value_or(false);
  ac.backdate_grace_seconds = alerts.duration("backdate_grace").value_or(86400);
  ac.quiet = parse_quiet_hours(alerts);
  if (auto tz = alerts.string("timezone")) {
    if (lower(*tz) == "utc")
      ac.utc = true;
    else if (lower(*tz) != "local")
      alerts.fail("timezone",
                  "expected \"local\" (the machine's time zone) or \"UTC\", got \"" + *tz + "\"");
  }
  if (auto n = alerts.integer("max_emails_per_hour")) {
    if (*n < 0) alerts.fail("max_emails_per_hour", "expected 0 (no limit) or more");
    ac.max_emails_per_hour = static_cast<int>(*n);
  }
  ac.retry_initial_seconds = positive_duration(alerts, "retry_initial", 60);
  ac.retry_max_seconds = positive_duration(alerts, "retry_max", 3600);
  ac.retry_for_seconds = positive_duration(alerts, "retry_for", 3 * 86400);
  if (ac.retry_max_seconds < ac.retry_initial_seconds)
    alerts.fail("retry_max", "must not be shorter than retry_initial");
  ac.subject_prefix = alerts.string_or("subject_prefix", "[repwatch]");
  ac.eml_dir = alerts.path("eml_dir").value_or(config.state_dir / "outbox-eml");
}

// [smtp] from ("Name <addr>" or "addr") and [alerts] message_id_domain (default: from's).
void parse_sender_identity(const Settings& smtp, const Settings& alerts, AlertsConfig& ac) {
  if (auto from = smtp.string("from")) {
    std::string f(trim(*from));
    std::string name, addr = f;
    size_t lt = f.rfind('<');
    if (lt != std::string::npos) {
      if (f.back() != '>') smtp.fail("from", "expected \"Name <address>\" or \"address\"");
      addr = f.substr(lt + 1, f.size() - lt - 2);
      name = trim(std::string_view(f).substr(0, lt));
      if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
        name = name.substr(1, name.size() - 2);
    }
    if (!is_valid_address(addr))
      smtp.fail("from", "\"" + addr + "\" is not an email address like repwatch@clinic.example");
    ac.from = name;
    ac.from_address = addr;
  } else {
    ac.from = "repwatch";
    ac.from_address = "repwatch@localhost";
  }
  ac.message_id_domain =
      alerts.string_or("message_id_domain", ac.from_address.substr(ac.from_address.find('@') + 1));
}

// Credentials in the URL (smtp://user:password@host) become username and password, so that the
// channel authenticates with them and scrubs the password from its messages as it does for the
// keys; the URL it connects to and shows carries none.
void move_url_credentials(const Settings& smtp, SmtpConfig& sc) {
  const size_t host = sc.url.find("://") + 3;
  const size_t at = sc.url.find('@', host);
  if (at == std::string::npos || at >= sc.url.find_first_of("/?#", host)) return;
  std::string userinfo = sc.url.substr(host, at - host);
  if (!sc.username.empty() || sc.password)
    smtp.fail("url", "credentials both in the URL and in username / password: keep one");
  size_t colon = userinfo.find(':');
  sc.username = url_decode(userinfo.substr(0, colon));
  if (colon != std::string::npos) sc.password = url_decode(userinfo.substr(colon + 1));
  sc.url.erase(host, at + 1 - host);
}

// [smtp] url and the rest; nullopt without a url (.eml files instead).
std::optional<SmtpConfig> parse_smtp(const Settings& smtp) {
  auto url = smtp.string("url");
  if (!url || url->empty()) return std::nullopt;
  SmtpConfig sc;
  sc.url = *url;
  std::string scheme = lower(sc.url.substr(0, sc.url.find("://")));
  if (sc.url.find("://") == std::string::npos || (scheme != "smtp" && scheme != "smtps"))
    smtp.fail("url", "expected \"smtp://host:587\" (STARTTLS) or \"smtps://host:465\"");
  sc.starttls = smtp.string_or("starttls", "required");
  if (sc.starttls != "required" && sc.starttls != "try" && sc.starttls != "off")
    smtp.fail("starttls", "expected \"required\", \"try\" or \"off\", got \"" + sc.starttls + "\"");
  sc.username = smtp.string_or("username", "");
  sc.password = smtp.secret("password");
  move_url_credentials(smtp, sc);
  if (sc.password && sc.username.empty())
    smtp.fail("password", "a password without a username: set username too");
  if (auto ca = smtp.path("ca_file")) sc.ca_file = ca->string();
  sc.timeout_seconds = positive_duration(smtp, "timeout", 60);
  return sc;
}

// [webhook]; nullopt when the section is absent.
std::optional<WebhookConfig> parse_webhook(const Config& config) {
  const Settings webhook = config.section("webhook");
  if (webhook.keys().empty()) return std::nullopt;
  webhook.reject_unknown(kWebhookKeys);
  WebhookConfig wc;
  wc.name = webhook.string_or("name", "webhook");
  wc.url = webhook.secret("url");
  if (!wc.url) webhook.fail("url", "[webhook] needs url (or url_file / url_env)");
  if (wc.url->rfind("https://", 0) != 0 && wc.url->rfind("http://", 0) != 0)
    webhook.fail("url", "expected an http:// or https:// URL");
  wc.format = webhook.string_or("format", "slack");
  if (wc.format != "slack" && wc.format != "teams")
    webhook.fail("format", "expected \"slack\" or \"teams\", got \"" + wc.format + "\"");
  wc.timeout_seconds = positive_duration(webhook, "timeout", 30);
  wc.http = net::HttpOptions::from_settings(config.section("http"));
  wc.http.retries = 0;
  wc.http.timeout_ms = wc.timeout_seconds * 1000;
  wc.http.connect_timeout_ms = std::min<int64_t>(wc.http.connect_timeout_ms, wc.http.timeout_ms);
  return wc;
}

// [digest] mode, at, weekday.
DigestConfig parse_digest(const Config& config) {
  const Settings digest = config.section("digest");
  digest.reject_unknown(kDigestKeys);
  DigestConfig dc;
  if (auto mode = digest.string("mode")) {
    if (*mode == "off")
      dc.mode = DigestMode::kOff;
    else if (*mode == "daily")
      dc.mode = DigestMode::kDaily;
    else if (*mode == "weekly")
      dc.mode = DigestMode::kWeekly;
    else
      digest.fail("mode", "expected \"off\", \"daily\" or \"weekly\", got \"" + *mode + "\"");
  }
  if (auto at = digest.string("at")) {
    auto m = parse_clock(*at);
    if (!m) digest.fail("at", "expected a time of day \"HH:MM\", got \"" + *at + "\"");
    dc.at_minute = *m;
  }
  if (auto wd = digest.string("weekday")) {
    static const char* kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                  "thursday", "friday", "saturday"};
    int found = -1;
    for (int i = 0; i < 7; ++i)
      if (lower(*wd) == kDays[i] || lower(*wd) == std::string(kDays[i]).substr(0, 3)) found = i;
    if (found < 0) digest.fail("weekday", "expected a day of the week like \"monday\"");
    dc.weekday = found;
  }
  return dc;
}

// The rules without any [[alerts.rules]]: new_negative, edit_negative, reply_phi,
// removed_negative, source_health.
std::vector<Rule> default_rules(const RuleDefaults& defaults) {
  Rule n;
  n.name = "new_negative";
  n.type = RuleType::kNewNegative;
  Rule e;
  e.name = "edit_negative";
  e.type = RuleType::kEditNegative;
  Rule p;
  p.name = "reply_phi";
  p.type = RuleType::kReplyPhi;
  p.notify = {"owners", "managers"};
  p.fallback = {"marketing"};
  p.touchpoints = defaults.privacy;
  Rule gone;  // not urgent: the next digest (or, without one, an email outside quiet hours)
  gone.name = "removed_negative";
  gone.type = RuleType::kRemovedNegative;
  gone.urgent = false;
  for (Rule* r : {&n, &e, &gone}) {
    r->match = defaults.match;
    r->rating_at_most = defaults.rating_at_most;
    r->sentiment_at_most = defaults.sentiment_at_most;
    r->notify = {"marketing", "owners", "webhook"};
  }
  Rule h;
  h.name = "source_health";
  h.type = RuleType::kSourceHealth;
  h.notify = {"managers", "webhook"};
  h.fallback = {"marketing"};
  return {n, e, p, gone, h};
}

// A rule's type, its name (unique: `names` holds those taken) and urgency.
void parse_rule_identity(const Settings& rs, std::set<std::string>& names, Rule& r) {
  std::string type = rs.require_string("type");
  auto t = parse_type(type);
  if (!t)
    rs.fail("type", "unknown rule type \"" + type +
                        "\"; expected one of new_negative, edit_negative, no_reply, "
                        "touchpoint_average, reply_phi, removed_negative, source_health");
  r.type = *t;
  r.name = rs.string_or("name", type);
  if (r.name.empty() || r.name.find(':') != std::string::npos)
    rs.fail("name", "a rule name must be non-empty and must not contain ':'");
  if (!names.insert(r.name).second)
    rs.fail("name", "two rules are named \"" + r.name + "\"; give each a distinct name");
  const bool periodic = r.type == RuleType::kNoReply || r.type == RuleType::kTouchpointAverage;
  // Not urgent by default: periodic rules, removed_negative (a digest note), and source_health
  // (urgent only for "needs attention").
  r.urgent = rs.boolean("urgent").value_or(!periodic && r.type != RuleType::kRemovedNegative);
}

// A rule's `notify` groups (the type's when absent) and `to` addresses.
void parse_rule_recipients(const Settings& rs, Rule& r) {
  if (rs.has("notify")) {
    r.notify = rs.string_list("notify");
    for (const auto& g : r.notify)
      if (g != "marketing" && g != "managers" && g != "owners" && g != "webhook")
        rs.fail("notify",
                "unknown group \"" + g + "\"; expected marketing, managers, owners or webhook");
  } else if (r.type == RuleType::kNoReply) {
    r.notify = {"managers", "webhook"};
  } else if (r.type == RuleType::kTouchpointAverage) {
    r.notify = {"owners", "managers", "webhook"};
  } else if (r.type == RuleType::kReplyPhi) {
    r.notify = {"owners", "managers"};
  } else if (r.type == RuleType::kSourceHealth) {
    r.notify = {"managers", "webhook"};
  } else {
    r.notify = {"marketing", "owners", "webhook"};
  }
  r.to = address_list(rs, "to");
}

// no_reply's `after`; touchpoint_average's measure, window, min_reviews and repeat.
void parse_rule_periodic(const Settings& rs, Rule& r) {
  r.after_seconds = positive_duration(rs, "after", 48 * 3600);
  r.measure = rs.string_or("measure", "sentiment");
  if (r.measure != "sentiment" && r.measure != "rating")
    rs.fail("measure", "expected \"sentiment\" or \"rating\", got \"" + r.measure + "\"");
  r.window_seconds = positive_duration(rs, "window", 30 * 86400);
  if (auto n = rs.integer("min_reviews")) {
    if (*n < 1) rs.fail("min_reviews", "expected 1 or more");
    r.min_reviews = static_cast<int>(*n);
  }
  r.repeat_seconds = positive_duration(rs, "repeat", 7 * 86400);
}

// source_health's after_failures and silent_after (a duration, or "off").
void parse_rule_health(const Settings& rs, Rule& r) {
  if (auto n = rs.integer("after_failures")) {
    if (*n < 1 || *n > 1000) rs.fail("after_failures", "expected 1 to 1000 failed polls");
    r.health.after_failures = static_cast<int>(*n);
  }
  std::optional<std::string> silent;
  try {
    silent = rs.string("silent_after");
  } catch (const ConfigError&) {
    // an integer of seconds: a duration, read below
  }
  if (silent && *silent == "off") {
    r.health.judge_quiet = false;
  } else {
    r.health.silent_after_seconds = positive_duration(rs, "silent_after", 7 * 86400);
  }
}

// An explicit rule that can reach nobody is a mistake worth stopping for.
void check_reachable(const Settings& rs, const Rule& r, const AlertsConfig& ac) {
  bool reachable = !r.to.empty();
  std::vector<std::string> groups = r.notify;
  groups.insert(groups.end(), r.fallback.begin(), r.fallback.end());
  for (const auto& g : groups) {
    if (g == "webhook") reachable |= ac.webhook.has_value();
    if (g == "owners") {
      reachable |= !ac.owners.empty();
      for (const auto& [id, lr] : ac.locations) reachable |= !lr.owners.empty();
    }
    if (g == "marketing" || g == "managers") {
      reachable |= !(g == "marketing" ? ac.marketing : ac.managers).empty();
      for (const auto& [id, lr] : ac.locations)
        reachable |= g == "marketing" ? lr.marketing && !lr.marketing->empty()
                                      : lr.managers && !lr.managers->empty();
    }
  }
  if (!reachable)
    rs.fail("notify", "rule \"" + r.name + "\" notifies " + join(r.notify) +
                          " but none of them has an address: set [alerts] marketing / "
                          "managers, owners, a [webhook], or the rule's `to`");
}

// One [[alerts.rules]] entry (enabled).
Rule parse_rule(const Settings& rs, const KnownNames& known, const RuleDefaults& defaults,
                const AlertsConfig& ac, std::set<std::string>& names) {
  Rule r;
  parse_rule_identity(rs, names, r);
  r.match = parse_match(rs, "match", defaults.match);
  r.rating_at_most = rating_threshold(rs, "rating_at_most", defaults.rating_at_most);
  r.sentiment_at_most = sentiment_threshold(rs, "sentiment_at_most", defaults.sentiment_at_most);
  r.locations = rs.string_list("locations");
  for (const auto& l : r.locations) known.check_location(rs, "locations", l);
  r.sources = rs.string_list("sources");
  for (const auto& s : r.sources) known.check_source(rs, "sources", s);
  parse_rule_recipients(rs, r);
  parse_rule_periodic(rs, r);
  if (r.type == RuleType::kReplyPhi || r.type == RuleType::kSourceHealth)
    r.fallback = {"marketing"};
  parse_rule_health(rs, r);
  r.touchpoints = rs.string_list("touchpoints");
  if (r.type == RuleType::kReplyPhi && !rs.has("touchpoints")) r.touchpoints = defaults.privacy;
  for (const auto& tp : r.touchpoints) known.check_touchpoint(rs, "touchpoints", tp);
  check_reachable(rs, r, ac);
  return r;
}

// [[alerts.rules]], or the default rules when there is none.
void parse_rules(const Settings& alerts, const KnownNames& known, const RuleDefaults& defaults,
                 AlertsConfig& ac) {
  std::vector<Settings> rule_tables = alerts.table_array("rules");
  if (!alerts.has("rules")) ac.rules = default_rules(defaults);
  std::set<std::string> names;
  for (const Settings& rs : rule_tables) {
    rs.reject_unknown(kRuleKeys);
    if (!rs.boolean("enabled").value_or(true)) continue;
    ac.rules.push_back(parse_rule(rs, known, defaults, ac, names));
  }
}

}  // namespace

AlertsConfig load_alerts_config(const Config& config,
                                const std::vector<sentiment::Touchpoint>& taxonomy) {
  AlertsConfig ac;
  const Settings alerts = config.section("alerts");
  alerts.reject_unknown(kAlertsKeys);

  for (const LocationConfig& l : config.locations) ac.location_names[l.id] = l.name;
  for (const SourceConfig& s : config.sources) ac.source_types[s.id] = s.type;
  const KnownNames known(config, read_taxonomy(taxonomy, ac), !taxonomy.empty());

  ac.enabled = alerts.boolean("enabled").value_or(true);
  parse_recipients(alerts, known, ac);
  parse_location_routing(config, known, ac);

  RuleDefaults defaults;
  defaults.rating_at_most = rating_threshold(alerts, "negative_rating", 2);
  defaults.sentiment_at_most = sentiment_threshold(alerts, "negative_sentiment", -0.3);
  defaults.match = parse_match(alerts, "match", Match::kRatingThenSentiment);
  // reply_phi tells the owners of the privacy touchpoint, when the taxonomy has one.
  if (known.has_touchpoint("privacy")) defaults.privacy = {"privacy"};
  ac.negative_rating = defaults.rating_at_most;
  ac.negative_sentiment = defaults.sentiment_at_most;
  parse_delivery_policy(alerts, config, ac);

  const Settings smtp = config.section("smtp");
  smtp.reject_unknown(kSmtpKeys);
  parse_sender_identity(smtp, alerts, ac);
  ac.smtp = parse_smtp(smtp);
  ac.webhook = parse_webhook(config);
  ac.digest = parse_digest(config);
  parse_rules(alerts, known, defaults, ac);

  // [replies]: validated (and its terms file loaded) whether or not a reply_phi rule uses it.
  ac.reply_checker = std::make_shared<const replies::Checker>(replies::checker_for(config));
  return ac;
}

}  // namespace repwatch::alerts
