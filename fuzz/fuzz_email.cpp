// fuzz_email: the alert email and webhook builders (alerts/) on hostile review data. Review
// text, author names, location names and the stored alert payload end up in headers and bodies;
// for any input the message must stay well-formed:
//   - 7-bit ASCII throughout (headers RFC 2047-encoded, bodies quoted-printable);
//   - CRLF line ends only, no bare CR or LF; every line at most 998 bytes (RFC 5322 2.1.1);
//   - only the headers we write, each once (no "\r\nBcc:" smuggled in through a subject);
//   - in the HTML part, no markup from review data ("<x-fuzz", "<script" stay escaped);
//   - a webhook payload is one valid JSON object.
// Input: a mode byte, then fields separated by 0x1f.
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "alerts/channel.h"
#include "alerts/content.h"
#include "alerts/message.h"
#include "alerts/rules.h"
#include "core/error.h"
#include "core/text.h"
#include "fuzz/fuzz.h"

namespace repwatch::fuzz::email_target {
namespace {

std::string qp_decode(std::string_view s) {
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
      i += 2;
    } else if (s[i] == '=' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Checks the invariants listed at the top; `rendered` says whether the bodies came from
// render_email (which must escape review data in HTML).
void check_mime(const std::string& m, bool rendered) {
  for (size_t i = 0; i < m.size(); ++i) {
    unsigned char c = m[i];
    FUZZ_CHECK(c < 0x80, "8-bit byte at " + std::to_string(i));
    if (c == '\n') FUZZ_CHECK(i > 0 && m[i - 1] == '\r', "bare LF at " + std::to_string(i));
    if (c == '\r')
      FUZZ_CHECK(i + 1 < m.size() && m[i + 1] == '\n', "bare CR at " + std::to_string(i));
    FUZZ_CHECK(c != 0, "NUL at " + std::to_string(i));
  }
  // Lines.
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < m.size();) {
    size_t end = m.find("\r\n", pos);
    if (end == std::string::npos) end = m.size();
    lines.emplace_back(m.data() + pos, end - pos);
    FUZZ_CHECK(end - pos <= 998, "line of " + std::to_string(end - pos) +
                                     " bytes: " + std::string(m.substr(pos, 80)));
    pos = end + 2;
  }
  // Headers: up to the first empty line.
  static const std::set<std::string> allowed = {"date",
                                                "from",
                                                "to",
                                                "subject",
                                                "message-id",
                                                "mime-version",
                                                "auto-submitted",
                                                "x-auto-response-suppress",
                                                "x-repwatch-alert",
                                                "x-repwatch-kind",
                                                "content-type",
                                                "content-transfer-encoding",
                                                "x-fuzz"};
  std::set<std::string> seen;
  std::string content_type;  // the top-level Content-Type header, continuation lines joined
  std::string name;
  size_t i = 0;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    std::string_view line = lines[i];
    if (line[0] == ' ' || line[0] == '\t') {
      FUZZ_CHECK(i > 0, "the first header line is a continuation");
      if (name == "content-type") content_type += line;
      continue;
    }
    size_t colon = line.find(':');
    FUZZ_CHECK(colon != std::string_view::npos && colon > 0,
               "header line without a name: " + std::string(line.substr(0, 80)));
    name = lower(line.substr(0, colon));
    if (name == "content-type") content_type = line.substr(colon + 1);
    FUZZ_CHECK(allowed.count(name), "unexpected header \"" + name + "\"");
    FUZZ_CHECK(seen.insert(name).second, "header \"" + name + "\" twice");
  }
  FUZZ_CHECK(i < lines.size(), "no empty line after the headers");
  for (const char* h : {"date", "from", "to", "subject", "message-id", "content-type"})
    FUZZ_CHECK(seen.count(h), std::string("no ") + h + " header");

  if (!rendered) return;
  // The HTML part: the MIME part (between boundary lines) whose own headers say text/html.
  // (Searching the whole message would find review text that merely reads "Content-Type".)
  // The boundary comes from the top-level Content-Type header only: review text elsewhere in
  // the headers (encoded or not) may read ` boundary="..."` too.
  size_t b = content_type.find(" boundary=\"");
  if (b == std::string::npos) return;
  b += 11;
  std::string delimiter = "\r\n--" + content_type.substr(b, content_type.find('"', b) - b);
  std::string decoded;
  for (size_t part = m.find(delimiter); part != std::string::npos;) {
    size_t start = part + delimiter.size();
    size_t next = m.find(delimiter, start);
    std::string_view p(m.data() + start, (next == std::string::npos ? m.size() : next) - start);
    size_t body = p.find("\r\n\r\n");
    if (body != std::string_view::npos &&
        p.substr(0, body).find("Content-Type: text/html") != std::string_view::npos)
      decoded = lower(qp_decode(p.substr(body + 4)));
    part = next;
  }
  FUZZ_CHECK(!decoded.empty(), "multipart message without an HTML part");
  FUZZ_CHECK(decoded.find("<x-fuzz") == std::string::npos, "review markup in the HTML part");
  FUZZ_CHECK(decoded.find("<script") == std::string::npos, "script in the HTML part");
}

void check_webhook(const std::string& payload) {
  rapidjson::Document d;
  d.Parse(payload.data(), payload.size());
  FUZZ_CHECK(!d.HasParseError() && d.IsObject(),
             "webhook payload is not a JSON object: " + payload.substr(0, 200));
}

int64_t int_of(const std::string& s) {
  int64_t v = 0;
  std::memcpy(&v, s.data(), std::min(s.size(), sizeof v));
  return v;
}

void render_all(const alerts::AlertContent& content, const std::string& recipient) {
  alerts::AlertsConfig config;
  alerts::Outgoing out;
  out.delivery_id = 7;
  out.alert_id = 3;
  out.recipient = recipient;
  out.message_id = "<rw.1767225600.3f9a0c1e5b7d2a44@clinic.example>";
  out.date = 1767225600;
  out.content = &content;
  std::string mime;
  try {
    mime = alerts::build_email(config, out);
  } catch (const repwatch::Error&) {
    return;  // refused (e.g. an invalid recipient): fine, as long as it does not crash
  }
  check_mime(mime, true);
  check_webhook(alerts::render_webhook(content, "slack"));
  check_webhook(alerts::render_webhook(content, "teams"));
}

}  // namespace
}  // namespace repwatch::fuzz::email_target

REPWATCH_FUZZ_TARGET(email) {
  using namespace repwatch::fuzz::email_target;
  namespace alerts = repwatch::alerts;
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  Fields f(data + 1, size - 1);

  if (mode == 0) {  // an Email straight into to_mime()
    alerts::Email e;
    e.from_name = f.next();
    e.from_address = "alerts@clinic.example";
    e.to = {"marketing@clinic.example", "owner@clinic.example"};
    e.subject = f.next();
    e.message_id = "<rw.1.abc@clinic.example>";
    e.date = int_of(f.next());
    e.text = f.next();
    e.html = f.next();
    e.headers.push_back({"X-Fuzz", f.next()});
    std::string mime;
    try {
      mime = alerts::to_mime(e);
    } catch (const repwatch::Error&) {
      return 0;
    }
    check_mime(mime, false);
    return 0;
  }

  alerts::AlertContent c;
  if (mode == 1) {  // a review alert built from hostile review fields
    c.kind = f.next();
    c.rule = f.next();
    c.headline = f.next();
    alerts::ReviewSnapshot r;
    r.source_id = f.next();
    r.source_type = f.next();
    r.location_id = f.next();
    r.location_name = f.next();
    r.author = f.next();
    r.text = f.next();
    r.reply_text = f.next();
    r.url = f.next();
    r.label = f.next();
    r.scale = f.next();
    int64_t n = int_of(f.next());
    r.rating = static_cast<double>(n % 11) / 2.0;
    r.raw_rating = static_cast<double>(n % 101);
    r.created_at = int_of(f.next());
    r.updated_at = int_of(f.next());
    r.sentiment = static_cast<double>(n % 201 - 100) / 100.0;
    alerts::TouchpointSnapshot tp;
    tp.id = f.next();
    tp.name = f.next();
    tp.score = -0.5;
    // Evidence spans with offsets taken from the input: they may be wrong (a stored payload
    // from an older version, a tampered database) and must not be trusted blindly.
    while (!f.rest().empty() && tp.evidence.size() < 8) {
      repwatch::Evidence ev;
      ev.phrase = f.next();
      int64_t span = int_of(f.next());
      ev.offset = static_cast<uint32_t>(span);
      ev.length = static_cast<uint32_t>(span >> 32);
      tp.evidence.push_back(ev);
    }
    r.touchpoints.push_back(tp);
    c.review = r;
  } else {  // a stored alert payload (JSON) from the outbox
    try {
      c = alerts::content_from_json(f.rest());
    } catch (const repwatch::Error&) {
      return 0;
    }
  }
  render_all(c, "marketing@clinic.example");
  return 0;
}
