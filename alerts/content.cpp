#include "alerts/content.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "alerts/health.h"
#include "alerts/message.h"
#include "core/error.h"
#include "core/text.h"

namespace repwatch::alerts {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// ---- JSON out ---------------------------------------------------------------------------

void put(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}
void put(Writer& w, const char* key, int64_t v) {
  w.Key(key);
  w.Int64(v);
}
void put(Writer& w, const char* key, double v) {
  w.Key(key);
  w.Double(std::isfinite(v) ? v : 0);
}
void put(Writer& w, const char* key, const std::optional<double>& v) {
  w.Key(key);
  if (v && std::isfinite(*v))
    w.Double(*v);
  else
    w.Null();
}

void write_review(Writer& w, const ReviewSnapshot& r) {
  w.StartObject();
  put(w, "review_id", r.review_id);
  put(w, "revision", static_cast<int64_t>(r.revision));
  put(w, "source_id", r.source_id);
  put(w, "source_type", r.source_type);
  put(w, "location_id", r.location_id);
  put(w, "location_name", r.location_name);
  put(w, "author", r.author);
  put(w, "rating", r.rating);
  put(w, "raw_rating", r.raw_rating);
  put(w, "scale", r.scale);
  put(w, "text", r.text);
  if (!r.translated_text.empty()) {
    put(w, "translated_text", r.translated_text);
    w.Key("on_translation");
    w.Bool(r.on_translation);
  }
  put(w, "created_at", r.created_at);
  put(w, "updated_at", r.updated_at);
  if (r.first_seen_at) put(w, "first_seen_at", r.first_seen_at);
  if (r.removed_at) put(w, "removed_at", r.removed_at);
  put(w, "reply_text", r.reply_text);
  put(w, "url", r.url);
  put(w, "sentiment", r.sentiment);
  put(w, "label", r.label);
  w.Key("touchpoints");
  w.StartArray();
  for (const auto& t : r.touchpoints) {
    w.StartObject();
    put(w, "id", t.id);
    put(w, "name", t.name);
    put(w, "score", t.score);
    w.Key("evidence");
    w.StartArray();
    for (const auto& e : t.evidence) {
      w.StartObject();
      put(w, "phrase", e.phrase);
      put(w, "offset", static_cast<int64_t>(e.offset));
      put(w, "length", static_cast<int64_t>(e.length));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void write_average(Writer& w, const AverageSnapshot& a) {
  w.StartObject();
  put(w, "location_id", a.location_id);
  put(w, "location_name", a.location_name);
  put(w, "touchpoint", a.touchpoint);
  put(w, "touchpoint_name", a.touchpoint_name);
  put(w, "measure", a.measure);
  put(w, "average", a.average);
  put(w, "standard", a.standard);
  put(w, "reviews", static_cast<int64_t>(a.reviews));
  put(w, "window_seconds", a.window_seconds);
  w.EndObject();
}

void put_opt(Writer& w, const char* key, const std::optional<int64_t>& v) {
  w.Key(key);
  if (v)
    w.Int64(*v);
  else
    w.Null();
}

void write_health(Writer& w, const HealthSnapshot& h) {
  w.StartObject();
  put(w, "state", h.state);
  put(w, "episode", h.episode);
  put(w, "source_id", h.source_id);
  put(w, "source_type", h.source_type);
  put(w, "location_id", h.location_id);
  put(w, "location_name", h.location_name);
  put(w, "error_kind", h.error_kind);
  put(w, "error", h.error);
  put(w, "advice", h.advice);
  put(w, "since", h.since);
  put(w, "at", h.at);
  put(w, "failed_polls", static_cast<int64_t>(h.failed_polls));
  put_opt(w, "last_success_at", h.last_success_at);
  put_opt(w, "next_poll_at", h.next_poll_at);
  put(w, "usual_gap_seconds", h.usual_gap_seconds);
  put(w, "threshold_seconds", h.threshold_seconds);
  put(w, "new_reviews", static_cast<int64_t>(h.new_reviews));
  w.EndObject();
}

void write_reply_check(Writer& w, const ReplyCheckSnapshot& r) {
  w.StartObject();
  w.Key("findings");
  w.StartArray();
  for (const auto& f : r.findings) {
    w.StartObject();
    w.Key("kinds");
    w.StartArray();
    for (const auto& k : f.kinds) w.String(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    w.EndArray();
    put(w, "kind_name", f.kind_name);
    put(w, "why", f.why);
    put(w, "hint", f.hint);
    put(w, "offset", static_cast<int64_t>(f.offset));
    put(w, "length", static_cast<int64_t>(f.length));
    put(w, "phrase", f.phrase);
    w.Key("in_review");
    if (f.in_review)
      w.Bool(*f.in_review);
    else
      w.Null();
    w.EndObject();
  }
  w.EndArray();
  put(w, "safe_reply", r.safe_reply);
  w.EndObject();
}

// ---- JSON in ----------------------------------------------------------------------------

const rapidjson::Value* member(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(key);
  return it == o.MemberEnd() ? nullptr : &it->value;
}
std::string get_string(const rapidjson::Value& o, const char* key) {
  const auto* v = member(o, key);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}
int64_t get_int(const rapidjson::Value& o, const char* key) {
  const auto* v = member(o, key);
  return v && v->IsInt64() ? v->GetInt64() : 0;
}
double get_double(const rapidjson::Value& o, const char* key) {
  const auto* v = member(o, key);
  return v && v->IsNumber() ? v->GetDouble() : 0;
}
std::optional<double> get_opt_double(const rapidjson::Value& o, const char* key) {
  const auto* v = member(o, key);
  if (v && v->IsNumber()) return v->GetDouble();
  return std::nullopt;
}

ReviewSnapshot read_review(const rapidjson::Value& o) {
  ReviewSnapshot r;
  r.review_id = get_int(o, "review_id");
  r.revision = static_cast<int>(get_int(o, "revision"));
  r.source_id = get_string(o, "source_id");
  r.source_type = get_string(o, "source_type");
  r.location_id = get_string(o, "location_id");
  r.location_name = get_string(o, "location_name");
  r.author = get_string(o, "author");
  r.rating = get_opt_double(o, "rating");
  r.raw_rating = get_opt_double(o, "raw_rating");
  r.scale = get_string(o, "scale");
  r.text = get_string(o, "text");
  r.translated_text = get_string(o, "translated_text");
  if (const auto* t = member(o, "on_translation"); t && t->IsBool())
    r.on_translation = t->GetBool();
  r.created_at = get_int(o, "created_at");
  r.updated_at = get_int(o, "updated_at");
  r.first_seen_at = get_int(o, "first_seen_at");
  r.removed_at = get_int(o, "removed_at");
  r.reply_text = get_string(o, "reply_text");
  r.url = get_string(o, "url");
  r.sentiment = get_double(o, "sentiment");
  r.label = get_string(o, "label");
  if (const auto* tps = member(o, "touchpoints"); tps && tps->IsArray()) {
    for (const auto& t : tps->GetArray()) {
      TouchpointSnapshot ts;
      ts.id = get_string(t, "id");
      ts.name = get_string(t, "name");
      ts.score = get_double(t, "score");
      if (const auto* ev = member(t, "evidence"); ev && ev->IsArray())
        for (const auto& e : ev->GetArray())
          ts.evidence.push_back({get_string(e, "phrase"),
                                 static_cast<uint32_t>(get_int(e, "offset")),
                                 static_cast<uint32_t>(get_int(e, "length"))});
      r.touchpoints.push_back(std::move(ts));
    }
  }
  return r;
}

std::optional<int64_t> get_opt_int(const rapidjson::Value& o, const char* key) {
  const auto* v = member(o, key);
  if (v && v->IsInt64()) return v->GetInt64();
  return std::nullopt;
}

HealthSnapshot read_health(const rapidjson::Value& o) {
  HealthSnapshot h;
  h.state = get_string(o, "state");
  h.episode = get_string(o, "episode");
  h.source_id = get_string(o, "source_id");
  h.source_type = get_string(o, "source_type");
  h.location_id = get_string(o, "location_id");
  h.location_name = get_string(o, "location_name");
  h.error_kind = get_string(o, "error_kind");
  h.error = get_string(o, "error");
  h.advice = get_string(o, "advice");
  h.since = get_int(o, "since");
  h.at = get_int(o, "at");
  h.failed_polls = static_cast<int>(get_int(o, "failed_polls"));
  h.last_success_at = get_opt_int(o, "last_success_at");
  h.next_poll_at = get_opt_int(o, "next_poll_at");
  h.usual_gap_seconds = get_int(o, "usual_gap_seconds");
  h.threshold_seconds = get_int(o, "threshold_seconds");
  h.new_reviews = static_cast<int>(get_int(o, "new_reviews"));
  return h;
}

AverageSnapshot read_average(const rapidjson::Value& o) {
  AverageSnapshot a;
  a.location_id = get_string(o, "location_id");
  a.location_name = get_string(o, "location_name");
  a.touchpoint = get_string(o, "touchpoint");
  a.touchpoint_name = get_string(o, "touchpoint_name");
  a.measure = get_string(o, "measure");
  a.average = get_double(o, "average");
  a.standard = get_double(o, "standard");
  a.reviews = static_cast<int>(get_int(o, "reviews"));
  a.window_seconds = get_int(o, "window_seconds");
  return a;
}

ReplyCheckSnapshot read_reply_check(const rapidjson::Value& o) {
  ReplyCheckSnapshot r;
  if (const auto* fs = member(o, "findings"); fs && fs->IsArray()) {
    for (const auto& f : fs->GetArray()) {
      ReplyFindingSnapshot s;
      if (const auto* ks = member(f, "kinds"); ks && ks->IsArray())
        for (const auto& k : ks->GetArray())
          if (k.IsString()) s.kinds.emplace_back(k.GetString(), k.GetStringLength());
      s.kind_name = get_string(f, "kind_name");
      s.why = get_string(f, "why");
      s.hint = get_string(f, "hint");
      s.offset = static_cast<uint32_t>(get_int(f, "offset"));
      s.length = static_cast<uint32_t>(get_int(f, "length"));
      s.phrase = get_string(f, "phrase");
      if (const auto* v = member(f, "in_review"); v && v->IsBool()) s.in_review = v->GetBool();
      r.findings.push_back(std::move(s));
    }
  }
  r.safe_reply = get_string(o, "safe_reply");
  return r;
}

// ---- formatting helpers -----------------------------------------------------------------

std::string number(double v, int decimals = 1) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string signed_score(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f", v);
  return buf;
}

std::string when(int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string day(int64_t epoch) { return when(epoch).substr(0, 10); }

// At most `max` code points of valid UTF-8 text, with "…" when cut.
std::string truncate(const std::string& text, size_t max) {
  std::string v = valid_utf8(text);
  size_t count = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if ((static_cast<unsigned char>(v[i]) & 0xC0) != 0x80) {
      if (count == max) return v.substr(0, i) + "\xE2\x80\xA6";
      ++count;
    }
  }
  return v;
}

std::string source_label(const ReviewSnapshot& r) {
  static const std::pair<const char*, const char*> kNames[] = {{"google_business", "Google"},
                                                               {"google", "Google"},
                                                               {"yelp", "Yelp"},
                                                               {"facebook", "Facebook"},
                                                               {"healthgrades", "Healthgrades"},
                                                               {"trustpilot", "Trustpilot"},
                                                               {"file", "import"}};
  std::string type = r.source_type;
  for (const auto& [k, v] : kNames)
    if (type == k) type = v;
  if (type.empty()) return r.source_id;
  return r.source_id + " (" + type + ")";
}

std::string rating_text(const ReviewSnapshot& r) {
  if (!r.rating) return "no rating";
  std::string s = stars(*r.rating) + " " + number(*r.rating) + "/5";
  if (r.scale == "binary" && r.raw_rating)
    s += *r.raw_rating >= 0.5 ? " (recommends)" : " (does not recommend)";
  else if (!r.scale.empty() && r.scale != "1-5" && r.raw_rating)
    s += " (given as " + number(*r.raw_rating) + " on " + r.scale + ")";
  return s;
}

bool safe_url(const std::string& url) {
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) return false;
  for (char c : url) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '"' || c == '<' || c == '>' || c == '|' || c == '\\' ||
        c == '`')
      return false;
  }
  return true;
}

std::string author_of(const ReviewSnapshot& r) {
  std::string a = truncate(sanitize_header(r.author), 60);
  return a.empty() ? "anonymous" : a;
}

// The text the evidence spans point into.
const std::string& analyzed(const ReviewSnapshot& r) {
  return r.on_translation && !r.translated_text.empty() ? r.translated_text : r.text;
}

// The evidence spans of the analysed text (validated, sorted, merged).
std::vector<std::pair<size_t, size_t>> spans(const ReviewSnapshot& r) {
  std::vector<std::pair<size_t, size_t>> s;
  const std::string& text = analyzed(r);
  for (const auto& t : r.touchpoints)
    for (const auto& e : t.evidence) {
      size_t b = e.offset, len = e.length;
      if (len == 0 || b > text.size() || len > text.size() - b) continue;
      if (!e.phrase.empty() && text.compare(b, len, e.phrase) != 0) continue;
      s.push_back({b, b + len});
    }
  std::sort(s.begin(), s.end());
  std::vector<std::pair<size_t, size_t>> merged;
  for (const auto& sp : s) {
    if (!merged.empty() && sp.first <= merged.back().second)
      merged.back().second = std::max(merged.back().second, sp.second);
    else
      merged.push_back(sp);
  }
  return merged;
}

std::string html_text(std::string_view text) {
  std::string esc = html_escape(sanitize_body(text));
  std::string out;
  for (char c : esc) {
    if (c == '\n')
      out += "<br>\n";
    else
      out += c;
  }
  return out;
}

// `text` (the review's text or its translation) as HTML, with every evidence phrase in <mark>
// when it is the text the review was analysed on.
std::string highlighted_html(const ReviewSnapshot& r, const std::string& text) {
  std::string out;
  size_t pos = 0;
  if (&text == &analyzed(r)) {
    for (const auto& [b, e] : spans(r)) {
      out += html_text(std::string_view(text).substr(pos, b - pos));
      out += "<mark style=\"background:#ffe08a\">" +
             html_text(std::string_view(text).substr(b, e - b)) + "</mark>";
      pos = e;
    }
  }
  out += html_text(std::string_view(text).substr(pos));
  return out;
}

// "today", "yesterday", "9 days ago": how long before `now` the time `t` was.
std::string days_before(int64_t t, int64_t now) {
  int64_t days = now > t ? (now - t) / 86400 : 0;
  if (days == 0) return "today";
  if (days == 1) return "yesterday";
  return std::to_string(days) + " days ago";
}

// "Removed at the source 2026-02-03: ..." for a review a complete listing no longer has.
std::string removed_note(const ReviewSnapshot& r) {
  return "Removed at the source: " + source_label(r) + " no longer listed it on " +
         day(r.removed_at) +
         " (deleted by its author or taken down by the site). repwatch keeps it, out of the "
         "figures; `repwatch reviews --include-removed` shows it.";
}

std::string evidence_list_text(const TouchpointSnapshot& t) {
  std::string out;
  for (const auto& e : t.evidence) {
    if (!out.empty()) out += ", ";
    out += "\"" + sanitize_header(e.phrase) + "\"";
  }
  return out;
}

std::string indent(const std::string& text, const char* prefix) {
  std::string out = prefix;
  for (char c : text) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

std::string review_subject(const AlertContent& c, std::string_view prefix) {
  const ReviewSnapshot& r = *c.review;
  std::string s(prefix);
  if (!s.empty()) s += " ";
  if (r.rating) s += stars(*r.rating) + " ";
  s += c.headline;
  if (!r.rating) s += " (no rating)";
  s += ": " + (r.location_name.empty() ? r.location_id : r.location_name) + " \xC2\xB7 " +
       r.source_id + " \xC2\xB7 " + author_of(r);
  return s;
}

void review_text(std::string& t, const ReviewSnapshot& r, int64_t now) {
  t += (r.location_name.empty() ? r.location_id : r.location_name) + " \xC2\xB7 " +
       source_label(r) + "\n";
  t += rating_text(r) + " \xC2\xB7 " + author_of(r) + " \xC2\xB7 " + when(r.created_at);
  if (r.updated_at > r.created_at) t += " (edited " + when(r.updated_at) + ")";
  if (std::string note = backdated_note(r, now); !note.empty()) t += "\n" + note;
  t += "\n\n";
  if (r.text.empty())
    t += "  (no text, rating only)\n";
  else
    t += indent(sanitize_body(r.text), "  ") + "\n";
  if (!r.translated_text.empty())
    t += "\nTranslation (by the source):\n" + indent(sanitize_body(r.translated_text), "  ") + "\n";
  if (r.removed_at) t += "\n" + removed_note(r) + "\n";
  if (!r.touchpoints.empty()) {
    t += "\nTouchpoints:\n";
    for (const auto& tp : r.touchpoints) {
      t += "  - " + (tp.name.empty() ? tp.id : tp.name) + " (" + signed_score(tp.score) + ")";
      std::string ev = evidence_list_text(tp);
      if (!ev.empty()) t += ": " + ev;
      t += "\n";
    }
  }
  t += "\nSentiment: " + signed_score(r.sentiment) + (r.label.empty() ? "" : " (" + r.label + ")") +
       "\n";
  if (!r.reply_text.empty())
    t += "Practice reply: " + truncate(sanitize_header(r.reply_text), 300) + "\n";
  if (safe_url(r.url))
    t += "Open the review to reply: " + r.url + "\n";
  else
    t += "The source gave no link to the review.\n";
}

void review_html(std::string& h, const ReviewSnapshot& r, int64_t now) {
  h += "<p><strong>" + html_escape(r.location_name.empty() ? r.location_id : r.location_name) +
       "</strong> &middot; " + html_escape(source_label(r)) + "</p>\n";
  h += "<p>";
  if (r.rating)
    h += "<span style=\"color:#e8a200;font-size:1.3em\">" + stars(*r.rating) + "</span> ";
  h += html_escape(r.rating ? rating_text(r).substr(stars(*r.rating).size() + 1) : "no rating") +
       " &middot; " + html_escape(author_of(r)) + " &middot; " + when(r.created_at);
  if (r.updated_at > r.created_at) h += " (edited " + when(r.updated_at) + ")";
  if (std::string note = backdated_note(r, now); !note.empty())
    h += "<br>\n<strong>" + html_escape(note) + "</strong>";
  h += "</p>\n";
  h += "<blockquote style=\"border-left:4px solid #ccc;margin:1em 0;padding:0.5em 1em\">";
  h += r.text.empty() ? "<em>(no text, rating only)</em>" : highlighted_html(r, r.text);
  h += "</blockquote>\n";
  if (!r.translated_text.empty()) {
    h += "<p><em>Translation (by the source):</em></p>\n";
    h += "<blockquote style=\"border-left:4px solid #ccc;margin:1em 0;padding:0.5em 1em\">" +
         highlighted_html(r, r.translated_text) + "</blockquote>\n";
  }
  if (r.removed_at) h += "<p><strong>" + html_escape(removed_note(r)) + "</strong></p>\n";
  if (!r.touchpoints.empty()) {
    h += "<p><strong>Touchpoints</strong></p>\n<ul>\n";
    for (const auto& tp : r.touchpoints) {
      h += "<li><strong>" + html_escape(sanitize_header(tp.name.empty() ? tp.id : tp.name)) +
           "</strong> (" + signed_score(tp.score) + ")";
      bool first = true;
      for (const auto& e : tp.evidence) {
        h += first ? ": " : ", ";
        first = false;
        h += "<mark style=\"background:#ffe08a\">" + html_escape(sanitize_header(e.phrase)) +
             "</mark>";
      }
      h += "</li>\n";
    }
    h += "</ul>\n";
  }
  h += "<p>Sentiment " + signed_score(r.sentiment) +
       (r.label.empty() ? "" : " (" + html_escape(r.label) + ")") + "</p>\n";
  if (!r.reply_text.empty())
    h += "<p>Practice reply: " + html_escape(truncate(sanitize_header(r.reply_text), 300)) +
         "</p>\n";
  if (safe_url(r.url))
    h += "<p><a href=\"" + html_escape(r.url) + "\">Open the review to reply</a></p>\n";
  else
    h += "<p>The source gave no link to the review.</p>\n";
}

std::string measure_text(const AverageSnapshot& a) {
  return a.measure == "rating" ? "average rating of the reviews mentioning it"
                               : "touchpoint sentiment on the 1-5 scale";
}

std::string average_sentence(const AverageSnapshot& a) {
  return "The " + number(static_cast<double>(a.window_seconds) / 86400, 0) + "-day average of " +
         a.touchpoint_name + " at " + a.location_name + " is " + number(a.average, 2) + " (" +
         measure_text(a) + ", " + std::to_string(a.reviews) + " reviews); its standard is " +
         number(a.standard, 2) + ".";
}

std::string html_page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" +
         html_escape(sanitize_header(title)) +
         "</title></head>\n<body "
         "style=\"font-family:Arial,Helvetica,sans-serif;line-height:1.4\">\n" +
         body + "</body></html>\n";
}

std::string footer_text(const AlertContent& c) {
  return "\n-- \nrepwatch" + (c.rule.empty() ? std::string() : " \xC2\xB7 rule " + c.rule) + "\n";
}

std::string footer_html(const AlertContent& c) {
  return "<hr>\n<p style=\"color:#888;font-size:small\">repwatch" +
         (c.rule.empty() ? std::string() : " &middot; rule " + html_escape(c.rule)) + "</p>\n";
}

// Slack mrkdwn / Teams: & < > must be entities.
std::string chat_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

std::string chat_review(const ReviewSnapshot& r, bool teams, int64_t now) {
  std::string t = chat_escape((r.location_name.empty() ? r.location_id : r.location_name) +
                              " \xC2\xB7 " + source_label(r)) +
                  "\n" + chat_escape(rating_text(r) + " \xC2\xB7 " + author_of(r)) + "\n";
  if (std::string note = backdated_note(r, now); !note.empty()) t += chat_escape(note) + "\n";
  if (!r.text.empty()) t += ">" + chat_escape(truncate(sanitize_header(r.text), 600)) + "\n";
  if (!r.translated_text.empty())
    t += "Translation: " + chat_escape(truncate(sanitize_header(r.translated_text), 600)) + "\n";
  if (r.removed_at) t += chat_escape(removed_note(r)) + "\n";
  for (const auto& tp : r.touchpoints) {
    std::string ev = evidence_list_text(tp);
    t += "\xE2\x80\xA2 " +
         chat_escape((tp.name.empty() ? tp.id : tp.name) + " (" + signed_score(tp.score) + ")" +
                     (ev.empty() ? "" : ": " + ev)) +
         "\n";
  }
  if (safe_url(r.url))
    t += teams ? "[Open the review](" + r.url + ")" : "<" + r.url + "|Open the review>";
  return t;
}

// ---- source health ----------------------------------------------------------------------

std::string place_of(const HealthSnapshot& h) {
  return h.location_name.empty() ? h.location_id : h.location_name;
}

// "reviews from Facebook for Downtown Family Practice"
std::string reviews_of(const HealthSnapshot& h) {
  return "reviews from " + site_name(h.source_type) + " for " + place_of(h);
}

std::string health_subject(const HealthSnapshot& h) {
  const std::string site = site_name(h.source_type);
  std::string s;
  if (h.state == "needs_attention") {
    s = "Action needed: " + reviews_of(h) + " are not being read";
  } else if (h.state == "unavailable") {
    s = site + " no longer gives repwatch the reviews for " + place_of(h);
  } else if (h.state == "failing") {
    s = "Reviews from " + site + " for " + place_of(h) + ": " + std::to_string(h.failed_polls) +
        " polls in a row failed";
  } else if (h.state == "quiet") {
    s = "No new review from " + site + " for " + place_of(h) + " in " + format_span(h.at - h.since);
  } else if (h.state == "recovered" && h.episode == "quiet") {
    s = "Resolved: a new review from " + site + " for " + place_of(h);
  } else if (h.state == "recovered") {
    s = "Resolved: " + reviews_of(h) + " are read again";
  } else {
    s = "Source " + h.state;
  }
  return s + " \xC2\xB7 " + h.source_id;
}

// The opening paragraph: what happened, in a sentence or three.
std::string health_lead(const HealthSnapshot& h) {
  const std::string site = site_name(h.source_type);
  if (h.state == "needs_attention")
    return "repwatch cannot read the " + reviews_of(h) +
           " until someone fixes the problem below. It tries again on its own, but the same "
           "answer will come back until then.";
  if (h.state == "unavailable")
    return site + " says it does not provide the reviews for " + place_of(h) +
           " to repwatch. repwatch asks again once a day.";
  if (h.state == "failing")
    return "repwatch has not been able to read the " + reviews_of(h) + " in the last " +
           std::to_string(h.failed_polls) +
           " polls. It keeps retrying with growing pauses and will tell you when it works again.";
  if (h.state == "quiet") {
    std::string t = "repwatch reads the " + reviews_of(h) +
                    " without errors, but no new review has come for " +
                    format_span(h.at - h.since) + " (since " + when(h.since) + ").";
    if (h.usual_gap_seconds > 0)
      t += " This source usually gets a new review about every " +
           format_span(h.usual_gap_seconds) +
           "; at that rate, a silence this long happens less than 1% of the time.";
    else
      t += " It has not returned a single review since it was first read.";
    return t;
  }
  if (h.state == "recovered" && h.episode == "quiet")
    return "A new review from " + site + " for " + place_of(h) + " came in at " + when(h.at) +
           ", after a silence of " + format_span(h.at - h.since) + ".";
  if (h.state == "recovered") {
    std::string t = "repwatch reads the " + reviews_of(h) + " again: the poll at " + when(h.at) +
                    " worked, after " + std::to_string(h.failed_polls) +
                    (h.failed_polls == 1 ? " failed poll" : " failed polls in a row") + " since " +
                    when(h.since) + ".";
    t += " It stored " + std::to_string(h.new_reviews) +
         (h.new_reviews == 1 ? " new review" : " new reviews") +
         "; reviews written meanwhile are read now as far as " + site +
         " still lists them, and negative ones are alerted as usual.";
    return t;
  }
  return "Source " + h.state + ".";
}

// Label and value lines of the facts table.
std::vector<std::pair<std::string, std::string>> health_facts(const HealthSnapshot& h) {
  std::vector<std::pair<std::string, std::string>> f;
  f.push_back({"Source", h.source_id + " (" + site_name(h.source_type) + ")"});
  f.push_back({"Location", place_of(h)});
  const bool failure =
      h.state == "needs_attention" || h.state == "unavailable" || h.state == "failing";
  if (failure || (h.state == "recovered" && h.episode != "quiet")) {
    f.push_back({h.state == "recovered" ? "Failing since" : "Since",
                 when(h.since) + " (the first failed poll)"});
    std::string missed = std::to_string(h.failed_polls) +
                         (h.failed_polls == 1 ? " poll failed" : " polls in a row failed") + "; ";
    const int64_t end = h.at;
    if (h.last_success_at)
      missed += "no new data since " + when(*h.last_success_at) + " (" +
                format_span(end - *h.last_success_at) + ")";
    else
      missed += "no poll of this source has worked yet";
    f.push_back({"Missed", missed});
  }
  if (failure && h.next_poll_at) f.push_back({"Next try", when(*h.next_poll_at)});
  if (h.state == "quiet") {
    f.push_back({"Last new review", h.usual_gap_seconds > 0 ? when(h.since) : "none yet"});
    f.push_back({"Counts as quiet after", format_span(h.threshold_seconds)});
  }
  if (failure && !h.error.empty())
    f.push_back({"Error", h.error + (h.error_kind.empty() ? "" : " (" + h.error_kind + ")")});
  return f;
}

std::string health_consequence(const HealthSnapshot& h) {
  if (h.state != "needs_attention" && h.state != "unavailable" && h.state != "failing") return "";
  return "Until this works again, repwatch does not see new " + reviews_of(h) +
         ", so it cannot alert you about negative ones.";
}

void health_text(std::string& t, const HealthSnapshot& h) {
  t += health_lead(h) + "\n\n";
  if (!h.advice.empty()) t += "What to do: " + sanitize_body(h.advice) + "\n\n";
  for (const auto& [label, value] : health_facts(h)) {
    std::string l = label + ":";
    while (l.size() < 23) l += ' ';
    t += l + sanitize_header(value) + "\n";
  }
  if (std::string c = health_consequence(h); !c.empty()) t += "\n" + c + "\n";
}

void health_html(std::string& out, const HealthSnapshot& h) {
  out += "<p>" + html_escape(health_lead(h)) + "</p>\n";
  if (!h.advice.empty())
    out += "<p style=\"background:#fff4d6;padding:0.6em 0.8em\"><strong>What to do:</strong> " +
           html_text(h.advice) + "</p>\n";
  out += "<table style=\"border-collapse:collapse\">\n";
  for (const auto& [label, value] : health_facts(h))
    out += "<tr><th align=\"left\" valign=\"top\" style=\"padding-right:1em\">" +
           html_escape(label) + "</th><td>" + html_escape(sanitize_header(value)) + "</td></tr>\n";
  out += "</table>\n";
  if (std::string c = health_consequence(h); !c.empty()) out += "<p>" + html_escape(c) + "</p>\n";
}

// ---- replies -------------------------------------------------------------------------------

// The findings of a reply_phi alert that are valid spans of the reply: in order, apart.
std::vector<const ReplyFindingSnapshot*> reply_spans(const ReviewSnapshot& r,
                                                     const ReplyCheckSnapshot& rc) {
  std::vector<const ReplyFindingSnapshot*> out;
  size_t end = 0;
  for (const auto& f : rc.findings) {
    size_t b = f.offset, len = f.length;
    if (len == 0 || b < end || b > r.reply_text.size() || len > r.reply_text.size() - b) continue;
    if (!f.phrase.empty() && r.reply_text.compare(b, len, f.phrase) != 0) continue;
    out.push_back(&f);
    end = b + len;
  }
  return out;
}

enum class Markup { kText, kHtml };

// The reply with every finding in [brackets] (text) or <mark> (HTML).
std::string marked_reply(const ReviewSnapshot& r, const ReplyCheckSnapshot& rc, Markup markup) {
  const bool html = markup == Markup::kHtml;
  std::string out;
  size_t pos = 0;
  std::string_view reply = r.reply_text;
  auto plain = [&](std::string_view part) { out += html ? html_text(part) : sanitize_body(part); };
  for (const ReplyFindingSnapshot* f : reply_spans(r, rc)) {
    plain(reply.substr(pos, f->offset - pos));
    std::string_view words = reply.substr(f->offset, f->length);
    if (html)
      out += "<mark style=\"background:#ffb3b3\">" + html_text(words) + "</mark>";
    else
      out += "[" + sanitize_body(words) + "]";
    pos = f->offset + f->length;
  }
  plain(reply.substr(pos));
  return out;
}

// The findings grouped by their kind, in the order the kinds first appear.
std::vector<std::vector<const ReplyFindingSnapshot*>> findings_by_kind(
    const ReplyCheckSnapshot& rc) {
  std::vector<std::vector<const ReplyFindingSnapshot*>> groups;
  for (const auto& f : rc.findings) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.front()->kind_name == f.kind_name; });
    if (it == groups.end())
      groups.push_back({&f});
    else
      it->push_back(&f);
  }
  return groups;
}

std::string finding_words(const ReplyFindingSnapshot& f) {
  std::string s = "\"" + truncate(sanitize_header(f.phrase), 120) + "\"";
  if (f.in_review) s += *f.in_review ? " (the review says it too)" : " (not in the review)";
  return s;
}

std::string reply_count(const ReplyCheckSnapshot& rc) {
  return std::to_string(rc.findings.size()) + (rc.findings.size() == 1 ? " finding" : " findings");
}

std::string check_command(const ReviewSnapshot& r) {
  return "repwatch reply-check --review " + std::to_string(r.review_id) + " \"your draft\"";
}

constexpr const char* kBreachAdvice =
    "Tell your privacy officer: they decide whether the disclosure must be assessed and "
    "reported under the HIPAA Breach Notification Rule.";

void reply_phi_text(std::string& t, const ReviewSnapshot& r, const ReplyCheckSnapshot& rc) {
  t += "The practice's public reply to a review on " + source_label(r) + " at " +
       (r.location_name.empty() ? r.location_id : r.location_name) +
       " discloses patient information (" + reply_count(rc) +
       "). Patient-privacy law forbids it even when the reviewer wrote it first.\n\n";
  t += "What to do now:\n";
  t += "  1. Today: edit the reply on the review site so that it names nobody and confirms\n"
       "     nothing - or delete it.\n";
  t += safe_url(r.url) ? "     Open the review: " + r.url + "\n"
                       : "     (The source gave no link to the review.)\n";
  if (!rc.safe_reply.empty())
    t += "  2. Start from a reply that is always safe:\n" +
         indent("\"" + sanitize_body(rc.safe_reply) + "\"", "       ") + "\n";
  else
    t += "  2. Thank them and invite them to call; name nothing.\n";
  t += "     Check the new text on the repwatch server first:\n       " + check_command(r) + "\n";
  t += std::string("  3. ") + kBreachAdvice + "\n\n";
  t += "The reply as posted, the findings in [brackets]:\n\n" +
       indent(marked_reply(r, rc, Markup::kText), "  ") + "\n\nFindings:\n";
  for (const auto& group : findings_by_kind(rc)) {
    const ReplyFindingSnapshot& first = *group.front();
    std::string words;
    for (const auto* f : group) words += (words.empty() ? "" : ", ") + finding_words(*f);
    t += "  - " + sanitize_header(first.kind_name) + ": " + words + "\n";
    if (!first.why.empty()) t += "    " + sanitize_header(first.why) + "\n";
    if (!first.hint.empty()) t += "    Instead: " + sanitize_header(first.hint) + "\n";
  }
  t += "\nThe review it answers:\n";
  ReviewSnapshot review = r;
  review.reply_text.clear();  // shown above
  review_text(t, review, 0);
}

void reply_phi_html(std::string& h, const ReviewSnapshot& r, const ReplyCheckSnapshot& rc) {
  h += "<p>The practice's public reply to a review on " + html_escape(source_label(r)) + " at " +
       html_escape(r.location_name.empty() ? r.location_id : r.location_name) +
       " <strong>discloses patient information</strong> (" + reply_count(rc) +
       "). Patient-privacy law forbids it even when the reviewer wrote it first.</p>\n";
  h += "<p><strong>What to do now</strong></p>\n<ol>\n";
  h += "<li><strong>Today:</strong> edit the reply on the review site so that it names nobody and "
       "confirms nothing - or delete it.";
  if (safe_url(r.url))
    h += " <a href=\"" + html_escape(r.url) + "\">Open the review</a>";
  else
    h += " (The source gave no link to the review.)";
  h += "</li>\n<li>";
  if (!rc.safe_reply.empty())
    h += "Start from a reply that is always safe: <em>&ldquo;" + html_text(rc.safe_reply) +
         "&rdquo;</em><br>\n";
  else
    h += "Thank them and invite them to call; name nothing.<br>\n";
  h += "Check the new text on the repwatch server first: <code>" + html_escape(check_command(r)) +
       "</code></li>\n";
  h += std::string("<li>") + html_escape(kBreachAdvice) + "</li>\n</ol>\n";
  h += "<p><strong>The reply as posted</strong>, the findings marked:</p>\n";
  h += "<blockquote style=\"border-left:4px solid #d70000;margin:1em 0;padding:0.5em 1em\">" +
       marked_reply(r, rc, Markup::kHtml) + "</blockquote>\n";
  h += "<p><strong>Findings</strong></p>\n<ul>\n";
  for (const auto& group : findings_by_kind(rc)) {
    const ReplyFindingSnapshot& first = *group.front();
    h += "<li><strong>" + html_escape(sanitize_header(first.kind_name)) + "</strong>: ";
    bool head = true;
    for (const auto* f : group) {
      h += head ? "" : ", ";
      head = false;
      h += "<mark style=\"background:#ffb3b3\">" + html_escape(sanitize_header(f->phrase)) +
           "</mark>";
      if (f->in_review) h += *f->in_review ? " (the review says it too)" : " (not in the review)";
    }
    if (!first.why.empty()) h += "<br>\n" + html_escape(sanitize_header(first.why));
    if (!first.hint.empty())
      h += "<br>\n<em>Instead:</em> " + html_escape(sanitize_header(first.hint));
    h += "</li>\n";
  }
  h += "</ul>\n<p><strong>The review it answers</strong></p>\n";
  ReviewSnapshot review = r;
  review.reply_text.clear();
  review_html(h, review, 0);
}

// The reminder at the end of an alert about a negative review: what a public reply must not
// say, and how to check a draft - on the clinic's own server, nothing sent anywhere.
constexpr const char* kBeforeYouReply =
    "Before you reply: thank them and take it offline. Do not use their name, do not confirm "
    "they are a patient (\"your visit\", \"our records show\"), and do not mention any "
    "condition, treatment, medication, date, insurance or amount - not even what they wrote "
    "themselves.";

void before_you_reply_text(std::string& t, const ReviewSnapshot& r) {
  t += "\n" + std::string(kBeforeYouReply) + " Check a draft on the repwatch server first:\n  " +
       check_command(r) + "\n";
}

void before_you_reply_html(std::string& h, const ReviewSnapshot& r) {
  h += "<p style=\"background:#f4f4f4;padding:0.5em 1em\">" + html_escape(kBeforeYouReply) +
       " Check a draft on the repwatch server first: <code>" + html_escape(check_command(r)) +
       "</code></p>\n";
}

std::string chat_reply_findings(const ReplyCheckSnapshot& rc) {
  std::string t = "Edit or delete the reply today. Findings:\n";
  for (const auto& group : findings_by_kind(rc)) {
    std::string words;
    for (const auto* f : group) words += (words.empty() ? "" : ", ") + finding_words(*f);
    t += "\xE2\x80\xA2 " + chat_escape(sanitize_header(group.front()->kind_name) + ": " + words) +
         "\n";
  }
  return t;
}

}  // namespace

std::string health_headline(const std::string& state) {
  if (state == "needs_attention") return "Source needs attention";
  if (state == "unavailable") return "Source unavailable";
  if (state == "failing") return "Source failing";
  if (state == "quiet") return "Source gone quiet";
  if (state == "recovered") return "Source recovered";
  return "Source health";
}

std::string stars(double rating) {
  int n = static_cast<int>(std::lround(std::clamp(rating, 1.0, 5.0)));
  std::string s;
  for (int i = 0; i < 5; ++i) s += i < n ? "\xE2\x98\x85" : "\xE2\x98\x86";  // ★ ☆
  return s;
}

std::string to_json(const AlertContent& c) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  put(w, "kind", c.kind);
  put(w, "rule", c.rule);
  put(w, "headline", c.headline);
  if (c.review) {
    w.Key("review");
    write_review(w, *c.review);
  }
  if (c.average) {
    w.Key("average");
    write_average(w, *c.average);
  }
  if (c.health) {
    w.Key("health");
    write_health(w, *c.health);
  }
  if (c.reply_check) {
    w.Key("reply_check");
    write_reply_check(w, *c.reply_check);
  }
  if (!c.entries.empty()) {
    w.Key("entries");
    w.StartArray();
    for (const auto& e : c.entries) {
      w.StartObject();
      put(w, "alert_id", e.alert_id);
      put(w, "headline", e.headline);
      put(w, "created_at", e.created_at);
      if (e.review) {
        w.Key("review");
        write_review(w, *e.review);
      }
      if (e.average) {
        w.Key("average");
        write_average(w, *e.average);
      }
      if (e.health) {
        w.Key("health");
        write_health(w, *e.health);
      }
      if (e.reply_check) {
        w.Key("reply_check");
        write_reply_check(w, *e.reply_check);
      }
      w.EndObject();
    }
    w.EndArray();
    w.Key("touchpoint_counts");
    w.StartObject();
    for (const auto& [k, v] : c.touchpoint_counts) {
      w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
      w.Int(v);
    }
    w.EndObject();
    put(w, "period_start", c.period_start);
    put(w, "period_end", c.period_end);
  }
  if (!c.note.empty()) put(w, "note", c.note);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

AlertContent content_from_json(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject())
    throw Error("alert payload is not a JSON object (offset " + std::to_string(d.GetErrorOffset()) +
                ")");
  AlertContent c;
  c.kind = get_string(d, "kind");
  if (c.kind.empty()) throw Error("alert payload has no \"kind\"");
  c.rule = get_string(d, "rule");
  c.headline = get_string(d, "headline");
  if (const auto* r = member(d, "review"); r && r->IsObject()) c.review = read_review(*r);
  if (const auto* a = member(d, "average"); a && a->IsObject()) c.average = read_average(*a);
  if (const auto* h = member(d, "health"); h && h->IsObject()) c.health = read_health(*h);
  if (const auto* rc = member(d, "reply_check"); rc && rc->IsObject())
    c.reply_check = read_reply_check(*rc);
  if (const auto* es = member(d, "entries"); es && es->IsArray()) {
    for (const auto& e : es->GetArray()) {
      DigestEntry de;
      de.alert_id = get_int(e, "alert_id");
      de.headline = get_string(e, "headline");
      de.created_at = get_int(e, "created_at");
      if (const auto* r = member(e, "review"); r && r->IsObject()) de.review = read_review(*r);
      if (const auto* a = member(e, "average"); a && a->IsObject()) de.average = read_average(*a);
      if (const auto* h = member(e, "health"); h && h->IsObject()) de.health = read_health(*h);
      if (const auto* rc = member(e, "reply_check"); rc && rc->IsObject())
        de.reply_check = read_reply_check(*rc);
      c.entries.push_back(std::move(de));
    }
  }
  if (const auto* tc = member(d, "touchpoint_counts"); tc && tc->IsObject())
    for (const auto& m : tc->GetObject())
      if (m.value.IsInt()) c.touchpoint_counts[m.name.GetString()] = m.value.GetInt();
  c.period_start = get_int(d, "period_start");
  c.period_end = get_int(d, "period_end");
  c.note = get_string(d, "note");
  return c;
}

std::string backdated_note(const ReviewSnapshot& r, int64_t now) {
  if (r.first_seen_at == 0 || r.first_seen_at - r.created_at < kBackdatedAfter) return "";
  if (now == 0) now = r.first_seen_at;
  return "Posted " + days_before(r.created_at, now) + " (" + day(r.created_at) + "), first seen " +
         days_before(r.first_seen_at, now) + ".";
}

namespace {

// The subject, text and HTML body of an email, before its footer.
struct EmailBody {
  std::string subject, text, html;
};

// "Billing, Wait time": the touchpoints a review mentions.
std::string touchpoint_list(const ReviewSnapshot& r) {
  std::string tps;
  for (const auto& tp : r.touchpoints) tps += (tps.empty() ? "" : ", ") + tp.name;
  return tps;
}

std::string place_of(const ReviewSnapshot& r) {
  return r.location_name.empty() ? r.location_id : r.location_name;
}

// The digest's table of touchpoints, by how many of its alerts mention them.
void digest_touchpoints(const AlertContent& c, std::string& t, std::string& h) {
  if (c.touchpoint_counts.empty()) return;
  std::vector<std::pair<std::string, int>> counts(c.touchpoint_counts.begin(),
                                                  c.touchpoint_counts.end());
  std::stable_sort(counts.begin(), counts.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  t += "Touchpoints mentioned:\n";
  h += "<table style=\"border-collapse:collapse\">\n<tr><th align=\"left\">Touchpoint</th>"
       "<th align=\"right\">Alerts</th></tr>\n";
  for (const auto& [name, n] : counts) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-40s %4d\n", sanitize_header(name).c_str(), n);
    t += line;
    h += "<tr><td>" + html_escape(sanitize_header(name)) + "</td><td align=\"right\">" +
         std::to_string(n) + "</td></tr>\n";
  }
  t += "\n";
  h += "</table>\n";
}

// Entry `i` (from 1) of a digest, as text.
void digest_entry_text(std::string& t, const DigestEntry& e, int i, int64_t now) {
  t += std::to_string(i) + ". " + e.headline + " \xC2\xB7 " + when(e.created_at) + "\n";
  if (e.review) {
    const ReviewSnapshot& r = *e.review;
    t += "   " + place_of(r) + " \xC2\xB7 " + source_label(r) + " \xC2\xB7 " + rating_text(r) +
         " \xC2\xB7 " + author_of(r) + "\n";
    if (!r.text.empty()) t += "   \"" + truncate(sanitize_header(r.text), 240) + "\"\n";
    if (!r.translated_text.empty())
      t += "   Translation: \"" + truncate(sanitize_header(r.translated_text), 240) + "\"\n";
    if (std::string note = backdated_note(r, now); !note.empty()) t += "   " + note + "\n";
    if (r.removed_at) t += "   " + removed_note(r) + "\n";
    if (std::string tps = touchpoint_list(r); !tps.empty()) t += "   Touchpoints: " + tps + "\n";
    if (e.reply_check) {
      std::string found;
      for (const auto& f : e.reply_check->findings)
        found += (found.empty() ? "" : ", ") + finding_words(f);
      t += "   The practice's reply discloses: " + found + " - edit or delete it today\n";
    }
    if (safe_url(r.url)) t += "   " + r.url + "\n";
  }
  if (e.average) t += "   " + average_sentence(*e.average) + "\n";
  if (e.health) {
    t += "   " + sanitize_header(health_subject(*e.health)) + "\n";
    if (!e.health->advice.empty())
      t += "   What to do: " + sanitize_header(e.health->advice) + "\n";
  }
  t += "\n";
}

// An entry of a digest, as an HTML list item.
void digest_entry_html(std::string& h, const DigestEntry& e, int64_t now) {
  h += "<li><p><strong>" + html_escape(e.headline) + "</strong> &middot; " + when(e.created_at) +
       "</p>\n";
  if (e.review) {
    const ReviewSnapshot& r = *e.review;
    if (e.reply_check) {
      std::string found;
      for (const auto& f : e.reply_check->findings)
        found += (found.empty() ? "" : ", ") + finding_words(f);
      h += "<p><strong>The practice's reply discloses:</strong> " + html_escape(found) +
           " - edit or delete it today</p>\n";
    }
    h += "<p>" +
         html_escape(place_of(r) + " \xC2\xB7 " + source_label(r) + " \xC2\xB7 " + rating_text(r) +
                     " \xC2\xB7 " + author_of(r)) +
         "</p>\n";
    if (!r.text.empty())
      h += "<blockquote>" + html_escape(truncate(sanitize_header(r.text), 240)) + "</blockquote>\n";
    if (!r.translated_text.empty())
      h += "<p><em>Translation:</em></p><blockquote>" +
           html_escape(truncate(sanitize_header(r.translated_text), 240)) + "</blockquote>\n";
    if (std::string note = backdated_note(r, now); !note.empty())
      h += "<p>" + html_escape(note) + "</p>\n";
    if (r.removed_at) h += "<p><strong>" + html_escape(removed_note(r)) + "</strong></p>\n";
    if (std::string tps = touchpoint_list(r); !tps.empty())
      h += "<p>Touchpoints: " + html_escape(sanitize_header(tps)) + "</p>\n";
    if (safe_url(r.url)) h += "<p><a href=\"" + html_escape(r.url) + "\">Open the review</a></p>\n";
  }
  if (e.average) h += "<p>" + html_escape(average_sentence(*e.average)) + "</p>\n";
  if (e.health) {
    h += "<p>" + html_escape(sanitize_header(health_subject(*e.health))) + "</p>\n";
    if (!e.health->advice.empty())
      h += "<p>What to do: " + html_escape(sanitize_header(e.health->advice)) + "</p>\n";
  }
  h += "</li>\n";
}

EmailBody digest_body(const AlertContent& c, const std::string& sp, int64_t now) {
  EmailBody b;
  b.subject = sp + "Digest: " + std::to_string(c.entries.size()) + " alert" +
              (c.entries.size() == 1 ? "" : "s") + " since " + day(c.period_start);
  b.text = "repwatch digest: " + std::to_string(c.entries.size()) + " alerts from " +
           when(c.period_start) + " to " + when(c.period_end) + "\n\n";
  b.html = "<h2>repwatch digest</h2>\n<p>" + std::to_string(c.entries.size()) + " alerts from " +
           when(c.period_start) + " to " + when(c.period_end) + "</p>\n";
  digest_touchpoints(c, b.text, b.html);
  b.html += "<ol>\n";
  int i = 0;
  for (const auto& e : c.entries) {
    digest_entry_text(b.text, e, ++i, now);
    digest_entry_html(b.html, e, now);
  }
  b.html += "</ol>\n";
  return b;
}

EmailBody test_body(const AlertContent& c, const std::string& sp) {
  EmailBody b;
  b.subject = sp + "Test message";
  b.text = "This is a test message from repwatch. If you can read it, alert email works.\n";
  if (!c.note.empty()) b.text += "\n" + c.note + "\n";
  b.html = "<h2>repwatch test message</h2>\n<p>If you can read it, alert email works.</p>\n";
  if (!c.note.empty()) b.html += "<p>" + html_text(c.note) + "</p>\n";
  return b;
}

}  // namespace

Rendered render_email(const AlertContent& c, std::string_view prefix, int64_t now) {
  Rendered out;
  std::string p(prefix);
  std::string sp = p.empty() ? "" : p + " ";
  std::string t, h;
  if (c.kind == "digest" || c.kind == "test") {
    EmailBody b = c.kind == "digest" ? digest_body(c, sp, now) : test_body(c, sp);
    out.subject = std::move(b.subject);
    t = std::move(b.text);
    h = std::move(b.html);
  } else if (c.health) {
    out.subject = sp + health_subject(*c.health);
    t = c.headline + "\n\n";
    health_text(t, *c.health);
    h = "<h2>" + html_escape(c.headline) + "</h2>\n";
    health_html(h, *c.health);
  } else if (c.average) {
    const AverageSnapshot& a = *c.average;
    out.subject = sp + a.touchpoint_name + " below standard at " + a.location_name + ": " +
                  number(a.average, 2) + " < " + number(a.standard, 2);
    t = c.headline + "\n\n" + average_sentence(a) + "\n";
    h = "<h2>" + html_escape(c.headline) + "</h2>\n<p>" + html_escape(average_sentence(a)) +
        "</p>\n";
  } else if (c.review && c.reply_check) {
    const ReviewSnapshot& r = *c.review;
    out.subject = sp + c.headline + ": " +
                  (r.location_name.empty() ? r.location_id : r.location_name) + " \xC2\xB7 " +
                  r.source_id + " \xC2\xB7 reply to " + author_of(r);
    t = c.headline + "\n\n";
    reply_phi_text(t, r, *c.reply_check);
    h = "<h2 style=\"color:#d70000\">" + html_escape(c.headline) + "</h2>\n";
    reply_phi_html(h, r, *c.reply_check);
  } else if (c.review) {
    out.subject = review_subject(c, prefix);
    t = c.headline + "\n\n";
    // A review removed at its source can no longer be answered there.
    const bool answerable = !c.review->removed_at;
    review_text(t, *c.review, now);
    if (answerable) before_you_reply_text(t, *c.review);
    h = "<h2>" + html_escape(c.headline) + "</h2>\n";
    review_html(h, *c.review, now);
    if (answerable) before_you_reply_html(h, *c.review);
  } else {
    out.subject = sp + c.headline;
    t = c.headline + "\n";
    h = "<h2>" + html_escape(c.headline) + "</h2>\n";
  }
  out.text = t + footer_text(c);
  out.html = html_page(out.subject, h + footer_html(c));
  return out;
}

std::string render_webhook(const AlertContent& c, std::string_view format, int64_t now) {
  const bool teams = format == "teams";
  Rendered r = render_email(c, "", now);
  std::string title = sanitize_header(r.subject);
  std::string body;
  if (c.review) {
    body = (c.reply_check ? chat_reply_findings(*c.reply_check) : std::string()) +
           chat_review(*c.review, teams, now);
  } else if (c.average) {
    body = chat_escape(average_sentence(*c.average));
  } else {
    body = chat_escape(sanitize_body(r.text));
  }
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  if (teams) {
    put(w, "@type", std::string("MessageCard"));
    put(w, "@context", std::string("https://schema.org/extensions"));
    put(w, "summary", title);
    put(w, "themeColor", std::string(c.kind == "test" ? "0078D7" : "D70000"));
    put(w, "title", chat_escape(title));
    put(w, "text", body);
  } else {
    put(w, "text", chat_escape(title) + "\n" + body);
    w.Key("blocks");
    w.StartArray();
    w.StartObject();
    put(w, "type", std::string("section"));
    w.Key("text");
    w.StartObject();
    put(w, "type", std::string("mrkdwn"));
    put(w, "text", "*" + chat_escape(title) + "*\n" + body);
    w.EndObject();
    w.EndObject();
    w.EndArray();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace repwatch::alerts
