// repwatch/db/poll_state.cpp - each source's poll state: cursor, outcome of the last poll,
// health (warnings, arrivals); read_poll_states() for read-only connections too.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "db/store.h"
#include "db/store_statements.h"

namespace repwatch::db {

using detail::bind_opt;
using detail::Use;

namespace {

// poll_state.warnings: [{"where": ..., "message": ...}]. Unreadable JSON reads as none: it is
// a display aid, never worth failing a poll over.
std::string encode_warnings(const std::vector<Problem>& problems) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (size_t i = 0; i < problems.size() && i < kMaxStoredWarnings; ++i) {
    w.StartObject();
    w.Key("where");
    w.String(problems[i].where.c_str(), static_cast<rapidjson::SizeType>(problems[i].where.size()));
    w.Key("message");
    w.String(problems[i].message.c_str(),
             static_cast<rapidjson::SizeType>(problems[i].message.size()));
    w.EndObject();
  }
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

std::vector<Problem> decode_warnings(std::string_view json) {
  std::vector<Problem> out;
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsArray()) return out;
  for (const auto& v : d.GetArray()) {
    if (!v.IsObject()) continue;
    Problem p;
    if (auto it = v.FindMember("where"); it != v.MemberEnd() && it->value.IsString())
      p.where = it->value.GetString();
    if (auto it = v.FindMember("message"); it != v.MemberEnd() && it->value.IsString())
      p.message = it->value.GetString();
    out.push_back(std::move(p));
  }
  return out;
}

// poll_state.arrivals: "1767225600,1767139200" (newest first); anything else is skipped.
std::vector<int64_t> decode_arrivals(std::string_view text) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + comma, v);
    if (ec == std::errc() && end == text.data() + comma) out.push_back(v);
    pos = comma + 1;
  }
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

// poll_state.last_error_kind: "" while healthy, else to_string(SourceError::Kind). Anything else
// was written by another program (or a newer repwatch) and is named, not guessed at.
std::optional<SourceError::Kind> read_error_kind(const std::string& source_id,
                                                 const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (auto kind = parse_source_error_kind(text)) return kind;
  throw DbError("poll_state of source \"" + source_id + "\": last_error_kind \"" + text +
                "\" is not one of transient, auth, garbage, config, unavailable");
}

PollState read_poll_state(const Statement& st) {
  PollState p;
  p.source_id = st.column_text(0);
  p.cursor = st.column_text(1);
  p.first_sync_at = st.column_opt_int(2);
  p.last_attempt_at = st.column_opt_int(3);
  p.last_success_at = st.column_opt_int(4);
  p.last_error = st.column_text(5);
  p.last_error_kind = read_error_kind(p.source_id, st.column_text(6));
  p.last_error_at = st.column_opt_int(7);
  p.consecutive_failures = static_cast<int>(st.column_int(8));
  p.next_poll_at = st.column_opt_int(9);
  p.needs_attention = st.column_int(10) != 0;
  p.failing_since = st.column_opt_int(11);
  p.advice = st.column_text(12);
  p.warnings = decode_warnings(st.column_text(13));
  p.warning_count = static_cast<int>(st.column_int(14));
  p.warnings_at = st.column_opt_int(15);
  p.last_new_at = st.column_opt_int(16);
  p.arrivals = decode_arrivals(st.column_text(17));
  return p;
}

}  // namespace

PollState ReviewStore::poll_state(const std::string& source_id) const {
  Use st(st_->select_poll_state);
  st->bind(1, source_id);
  if (!st->step()) {
    PollState p;
    p.source_id = source_id;
    return p;
  }
  return read_poll_state(*st);
}

std::vector<PollState> read_poll_states(const Database& db) {
  std::vector<PollState> out;
  Statement st = db.prepare(kSelectAllPollStates);
  while (st.step()) out.push_back(read_poll_state(st));
  return out;
}

std::vector<PollState> ReviewStore::all_poll_states() const {
  std::vector<PollState> out;
  Use st(st_->select_all_poll_states);
  while (st->step()) out.push_back(read_poll_state(*st));
  return out;
}

namespace {

void require_source(Statement& exists, const std::string& source_id, const char* what) {
  Use st(exists);
  st->bind(1, source_id);
  if (!st->step())
    throw DbError(std::string(what) + ": unknown source \"" + source_id +
                  "\" (register it with ensure_source first)");
}

}  // namespace

void ReviewStore::save_cursor(const std::string& source_id, const std::string& cursor) {
  require_source(st_->source_exists, source_id, "save_cursor");
  Use st(st_->save_cursor);
  st->bind(1, source_id).bind(2, cursor);
  st->step();
}

void ReviewStore::record_success(const std::string& source_id, const std::string& cursor,
                                 int64_t now, std::optional<int64_t> next_poll_at) {
  require_source(st_->source_exists, source_id, "record_success");
  {
    Use st(st_->success);
    st->bind(1, source_id).bind(2, cursor).bind(3, now);
    bind_opt(*st, 4, next_poll_at);
    st->step();
  }
  Use st(st_->first_sync);
  st->bind(1, source_id).bind(2, now);
  st->step();
}

void ReviewStore::record_failure(const std::string& source_id, const PollFailure& failure,
                                 int64_t now) {
  require_source(st_->source_exists, source_id, "record_failure");
  Use st(st_->failure);
  st->bind(1, source_id).bind(2, now).bind(3, failure.message).bind(4, to_string(failure.kind));
  bind_opt(*st, 5, failure.next_poll_at);
  st->bind(6, int64_t{failure.needs_attention ? 1 : 0});
  st->bind(7, failure.advice);
  st->step();
}

void ReviewStore::record_health(const std::string& source_id, const std::vector<Problem>& problems,
                                int new_reviews, int64_t now) {
  if (!problems.empty()) {
    Use st(st_->warnings);
    st->bind(1, source_id)
        .bind(2, encode_warnings(problems))
        .bind(3, static_cast<int64_t>(problems.size()))
        .bind(4, now);
    st->step();
  }
  if (new_reviews > 0) {
    std::vector<int64_t> arrivals = poll_state(source_id).arrivals;
    if (arrivals.empty() || arrivals.front() != now) arrivals.insert(arrivals.begin(), now);
    if (arrivals.size() > kMaxStoredArrivals) arrivals.resize(kMaxStoredArrivals);
    std::string text;
    for (int64_t t : arrivals) text += (text.empty() ? "" : ",") + std::to_string(t);
    Use st(st_->arrival);
    st->bind(1, source_id).bind(2, now).bind(3, text);
    st->step();
  }
}

}  // namespace repwatch::db
