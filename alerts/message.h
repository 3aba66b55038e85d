// repwatch/alerts/message.h - RFC 5322 / MIME email built as text.
//
//   Email e;  e.from_name = "repwatch"; e.from_address = "alerts@clinic.example";
//   e.to = {"marketing@clinic.example"}; e.subject = "★☆☆☆☆ Négative review";
//   e.text = "..."; e.html = "<p>...</p>"; e.message_id = make_message_id("clinic.example");
//   std::string bytes = to_mime(e);   // the same bytes go to SMTP and to an .eml file
//
// The message is multipart/alternative (text/plain then text/html, both UTF-8,
// quoted-printable), with CRLF line endings and no line longer than 78 characters.
//
// Header safety: every value that goes into a header is run through sanitize_header() first
// (CR, LF and every other control character removed, bidirectional controls too, invalid
// UTF-8 replaced), then encoded
// per RFC 2047 when it is not plain printable ASCII. So review text or a reviewer name can
// never start a new header line ("\r\nBcc: x@evil.example" becomes part of the subject text).
// Addresses must pass is_valid_address() (rules.h); to_mime() throws Error otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace repwatch::alerts {

struct Email {
  std::string from_name;     // display name, any UTF-8 (sanitized and encoded here)
  std::string from_address;  // envelope sender and From: address
  std::vector<std::string> to;
  std::string subject;     // any UTF-8 (sanitized and encoded here)
  std::string message_id;  // "<token@domain>"
  int64_t date = 0;        // UTC epoch seconds
  std::string text;        // the text/plain part, UTF-8
  std::string html;        // the text/html part, UTF-8; empty: text/plain only
  // Extra headers such as {"X-Repwatch-Alert", "17"}; names must be [A-Za-z0-9-]+, values are
  // sanitized and encoded like the subject.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The whole message, headers and body, CRLF line endings.
std::string to_mime(const Email& email);

// ---- Building blocks (exposed for tests) ------------------------------------------------

// Valid UTF-8: each invalid or overlong byte sequence becomes U+FFFD.
std::string valid_utf8(std::string_view text);
// For header values: valid_utf8, then CR/LF/TAB, U+2028/U+2029 and runs of whitespace become
// one space; other C0 controls, DEL, C1 controls (U+0080..U+009F) and the bidirectional
// controls (U+202A..U+202E, U+2066..U+2069, U+061C, U+200E, U+200F: they could make a name or
// subject display reordered) are removed; leading/trailing spaces trimmed.
std::string sanitize_header(std::string_view text);
// For body text: valid_utf8, CRLF/CR -> LF, controls other than LF and TAB removed.
std::string sanitize_body(std::string_view text);
// `Name: value` folded at 78 columns with CRLF SP. The value is sanitized; when it holds
// anything but printable ASCII (or the sequence "=?"), it becomes RFC 2047 encoded-words
// (=?UTF-8?B?...?=, each at most 75 characters, never splitting a UTF-8 character).
std::string encode_header(std::string_view name, std::string_view value);
// `"Display Name" <addr>` (or `=?UTF-8?B?...?= <addr>`), or just `addr` when the name is empty.
std::string format_mailbox(std::string_view display_name, std::string_view address);
// Quoted-printable (RFC 2045) of UTF-8 text with LF or CRLF line breaks: CRLF hard breaks,
// soft breaks before 76 columns, '=' and non-ASCII escaped, trailing whitespace and a leading
// '.' or "From " escaped so no transport can alter the text.
std::string quoted_printable(std::string_view text);
// "Tue, 03 Feb 2026 10:04:05 +0000"
std::string rfc5322_date(int64_t epoch_seconds);
// "<rw.1767225600.3f9a0c1e5b7d2a44@domain>": a fresh random token; stored with each delivery
// so that it is stable across retries.
std::string make_message_id(std::string_view domain, int64_t now);

}  // namespace repwatch::alerts
