// alerts/: configuration ([alerts], [smtp], [webhook], [digest], location overrides), the
// negativity rule, quiet hours and digest times, and the MIME building blocks (RFC 2047
// encoded-words, quoted-printable, header sanitizing, HTML escaping).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "alerts/content.h"
#include "alerts/message.h"
#include "alerts/rules.h"
#include "config/config.h"
#include "core/error.h"
#include "sentiment/analyzer.h"

namespace repwatch::alerts {
namespace {

const sentiment::Analyzer& analyzer() {
  static const sentiment::Analyzer a = sentiment::Analyzer::builtin();
  return a;
}

const char* kBase =
    "state_dir = \"/tmp/rw-state\"\n"
    "[[locations]]\nid = \"downtown\"\nname = \"Downtown\"\n"
    "[[locations]]\nid = \"north\"\nname = \"North\"\n"
    "alerts = { marketing = [\"north.mkt@clinic.example\"], owners = { billing = "
    "\"north.billing@clinic.example\" } }\n"
    "[[sources]]\nid = \"google\"\ntype = \"file\"\nlocation = \"downtown\"\npath = \"/tmp\"\n";

AlertsConfig load(const std::string& extra) {
  Config c = parse_config(std::string(kBase) + extra, "/tmp/repwatch-test.toml");
  return load_alerts_config(c, analyzer().touchpoints());
}

std::string load_error(const std::string& extra) {
  try {
    load(extra);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(AlertsConfigTest, DefaultsWithoutAnySection) {
  AlertsConfig ac = load("");
  EXPECT_TRUE(ac.enabled);
  ASSERT_EQ(ac.rules.size(), 5u);
  EXPECT_EQ(ac.rules[0].type, RuleType::kNewNegative);
  EXPECT_EQ(ac.rules[1].type, RuleType::kEditNegative);
  EXPECT_EQ(ac.rules[2].type, RuleType::kReplyPhi);
  EXPECT_TRUE(ac.reply_checker);
  EXPECT_EQ(ac.rules[3].type, RuleType::kRemovedNegative);
  EXPECT_EQ(ac.rules[4].type, RuleType::kSourceHealth);
  EXPECT_TRUE(ac.rules[0].urgent);
  EXPECT_FALSE(ac.rules[3].urgent);  // a removal goes into the next digest
  EXPECT_EQ(ac.rules[3].notify, ac.rules[0].notify);
  EXPECT_EQ(ac.rules[0].rating_at_most, 2);
  EXPECT_DOUBLE_EQ(ac.rules[0].sentiment_at_most, -0.3);
  EXPECT_FALSE(ac.smtp);
  EXPECT_EQ(ac.eml_dir, "/tmp/rw-state/outbox-eml");
  EXPECT_FALSE(ac.alert_on_first_sync);
  EXPECT_EQ(ac.max_emails_per_hour, 20);
  EXPECT_EQ(ac.digest.mode, DigestMode::kOff);
  EXPECT_EQ(ac.location_name("north"), "North");
  EXPECT_EQ(ac.touchpoint_name("billing"), "Billing and insurance");
  // Location override replaces the marketing list there only.
  EXPECT_EQ(ac.group("marketing", "north"), std::vector<std::string>{"north.mkt@clinic.example"});
  EXPECT_TRUE(ac.group("marketing", "downtown").empty());
  EXPECT_EQ(ac.owners_of("billing", "north"),
            std::vector<std::string>{"north.billing@clinic.example"});
  EXPECT_TRUE(ac.owners_of("billing", "downtown").empty());
}

TEST(AlertsConfigTest, FullConfiguration) {
  AlertsConfig ac = load(
      "[alerts]\nmarketing = [\"a@clinic.example\", \"b@clinic.example, c@clinic.example\"]\n"
      "managers = \"boss@clinic.example\"\nnegative_rating = 2.5\nquiet_hours = \"21:30-07:00\"\n"
      "timezone = \"UTC\"\nmax_emails_per_hour = 3\nretry_initial = \"10s\"\n"
      "[alerts.owners]\nbilling = \"bill@clinic.example\"\n"
      "[alerts.standards]\nwait_time = 3.5\n"
      "[[alerts.rules]]\ntype = \"new_negative\"\nsources = [\"google\"]\nto = "
      "\"x@clinic.example\"\n"
      "[[alerts.rules]]\nname = \"escalate\"\ntype = \"no_reply\"\nafter = \"24h\"\n"
      "[[alerts.rules]]\ntype = \"touchpoint_average\"\nmeasure = \"rating\"\nwindow = \"14d\"\n"
      "[smtp]\nurl = \"smtps://mail.clinic.example:465\"\nusername = \"u\"\npassword = "
      "\"pw-secret\"\n"
      "from = \"\\\"Clinic Alerts\\\" <alerts@clinic.example>\"\n"
      "[webhook]\nurl = \"https://hooks.example/T000/B000/XXXX\"\nformat = \"teams\"\n"
      "[digest]\nmode = \"weekly\"\nat = \"09:15\"\nweekday = \"fri\"\n");
  EXPECT_EQ(ac.marketing,
            (std::vector<std::string>{"a@clinic.example", "b@clinic.example", "c@clinic.example"}));
  EXPECT_EQ(ac.managers, std::vector<std::string>{"boss@clinic.example"});
  EXPECT_EQ(ac.quiet.start_minute, 21 * 60 + 30);
  EXPECT_EQ(ac.quiet.end_minute, 7 * 60);
  EXPECT_TRUE(ac.utc);
  EXPECT_EQ(ac.max_emails_per_hour, 3);
  EXPECT_EQ(ac.retry_initial_seconds, 10);
  EXPECT_EQ(ac.owners_of("billing", "downtown"), std::vector<std::string>{"bill@clinic.example"});
  EXPECT_EQ(ac.standards.at("wait_time"), 3.5);
  ASSERT_EQ(ac.rules.size(), 3u);
  EXPECT_EQ(ac.rules[0].rating_at_most, 2.5);  // [alerts] default carried into the rule
  EXPECT_EQ(ac.rules[0].sources, std::vector<std::string>{"google"});
  EXPECT_EQ(ac.rules[1].name, "escalate");
  EXPECT_EQ(ac.rules[1].after_seconds, 86400);
  EXPECT_FALSE(ac.rules[1].urgent);
  EXPECT_EQ(ac.rules[1].notify, (std::vector<std::string>{"managers", "webhook"}));
  EXPECT_EQ(ac.rules[2].measure, "rating");
  EXPECT_EQ(ac.rules[2].window_seconds, 14 * 86400);
  ASSERT_TRUE(ac.smtp);
  EXPECT_EQ(*ac.smtp->password, "pw-secret");
  EXPECT_EQ(ac.from, "Clinic Alerts");
  EXPECT_EQ(ac.from_address, "alerts@clinic.example");
  EXPECT_EQ(ac.message_id_domain, "clinic.example");
  ASSERT_TRUE(ac.webhook);
  EXPECT_EQ(ac.webhook->format, "teams");
  EXPECT_EQ(ac.webhook->http.retries, 0);
  EXPECT_EQ(ac.digest.mode, DigestMode::kWeekly);
  EXPECT_EQ(ac.digest.at_minute, 9 * 60 + 15);
  EXPECT_EQ(ac.digest.weekday, 5);
  db::NegativeRule n = negative_rule(ac);
  EXPECT_EQ(n.max_rating, 2.5);
}

TEST(AlertsConfigTest, MistakesNameFileLineAndKey) {
  EXPECT_NE(
      load_error("[alerts]\nmarketing = \"not an address\"\n")
          .find("repwatch-test.toml:15: alerts.marketing: \"not an address\" is not an email"),
      std::string::npos)
      << load_error("[alerts]\nmarketing = \"not an address\"\n");
  EXPECT_NE(load_error("[alerts]\nmarketting = \"a@b.example\"\n").find("marketting"),
            std::string::npos);
  EXPECT_NE(load_error("[alerts]\nquiet_hours = \"late\"\n").find("alerts.quiet_hours: expected"),
            std::string::npos);
  EXPECT_NE(load_error("[alerts]\nnegative_rating = 7\n").find("from 1 to 5"), std::string::npos);
  EXPECT_NE(load_error("[[alerts.rules]]\ntype = \"negative\"\n").find("unknown rule type"),
            std::string::npos);
  EXPECT_NE(load_error(
                "[alerts]\nmarketing = \"a@b.example\"\n[[alerts.rules]]\ntype = \"new_negative\"\n"
                "locations = [\"nowhere\"]\n")
                .find("no [[locations]] entry has id \"nowhere\""),
            std::string::npos);
  EXPECT_NE(load_error("[alerts.owners]\nbillingg = \"a@b.example\"\n").find("no touchpoint"),
            std::string::npos);
  EXPECT_NE(load_error("[[alerts.rules]]\ntype = \"no_reply\"\n").find("notifies"),
            std::string::npos);
  EXPECT_NE(load_error("[alerts]\nmarketing = \"a@b.example\"\n[[alerts.rules]]\n"
                       "type = \"new_negative\"\n[[alerts.rules]]\ntype = \"new_negative\"\n")
                .find("two rules are named"),
            std::string::npos);
  EXPECT_NE(load_error("[smtp]\nurl = \"http://mail.example\"\n").find("smtp.url"),
            std::string::npos);
  EXPECT_NE(load_error("[webhook]\nformat = \"slack\"\n").find("webhook.url"), std::string::npos);
  EXPECT_NE(load_error("[digest]\nmode = \"hourly\"\n").find("digest.mode"), std::string::npos);
  // Secrets are never in messages.
  std::string e = load_error("[smtp]\nurl = \"smtp://m.example\"\npassword = \"hunter2-secret\"\n");
  EXPECT_NE(e.find("username"), std::string::npos) << e;
  EXPECT_EQ(e.find("hunter2-secret"), std::string::npos);
}

// Every commented option in the example config's alerts sections is valid when uncommented.
TEST(AlertsConfigTest, ExampleConfigSectionsParse) {
  std::ifstream in(std::string(REPWATCH_SOURCE_DIR) + "/config/repwatch.example.toml");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  size_t b = text.find("# --- [alerts]:");
  size_t e = text.find("# --- [daemon]");
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  std::istringstream block(text.substr(b, e - b));
  std::string toml, line;
  std::regex option(R"(^# (\[\[?[a-z.]+\]\]?|[a-z_]+ = .*)$)");
  while (std::getline(block, line))
    if (std::regex_match(line, option)) toml += line.substr(2) + "\n";
  // password_file / url_file point at things that do not exist here: give them values.
  toml = std::regex_replace(toml, std::regex("password_file = .*"), "password = \"x-secret\"");
  toml = std::regex_replace(toml, std::regex("url_(env|file) = .*"),
                            "url = \"https://hooks.example/x\"");
  toml = std::regex_replace(toml, std::regex("ca_file = .*"), "");
  AlertsConfig ac;
  ASSERT_NO_THROW(ac = load(toml)) << toml;
  ASSERT_EQ(ac.rules.size(), 7u);  // every rule type, as the example lists them
  EXPECT_EQ(ac.rules[4].type, RuleType::kReplyPhi);
  EXPECT_EQ(ac.rules[5].type, RuleType::kRemovedNegative);
  EXPECT_EQ(ac.rules[6].type, RuleType::kSourceHealth);
  EXPECT_TRUE(ac.smtp);
  EXPECT_TRUE(ac.webhook);
  EXPECT_EQ(ac.digest.mode, DigestMode::kDaily);
}

TEST(AlertsRuleTest, Negativity) {
  Rule r;  // rating <= 2, or no rating and sentiment <= -0.3
  Review rv;
  Analysis a;
  a.score = 0.9;
  rv.rating = 2.0000000000000004;  // normalization noise
  EXPECT_TRUE(r.is_negative(rv, a));
  rv.rating = 2.1;
  a.score = -0.9;
  EXPECT_FALSE(r.is_negative(rv, a));  // the rating decides when there is one
  rv.rating.reset();
  EXPECT_TRUE(r.is_negative(rv, a));
  a.score = -0.2;
  EXPECT_FALSE(r.is_negative(rv, a));
  a.score = -0.9;
  a.scored = false;  // language not supported: no sentiment to go by
  EXPECT_FALSE(r.is_negative(rv, a));
  r.match = Match::kEither;
  a.scored = true;
  rv.rating = 4;
  EXPECT_TRUE(r.is_negative(rv, a));
  r.match = Match::kBoth;
  EXPECT_FALSE(r.is_negative(rv, a));
  rv.rating = 1;
  EXPECT_TRUE(r.is_negative(rv, a));
}

TEST(AlertsRuleTest, QuietHoursAndDigestTimes) {
  QuietHours q{true, 22 * 60, 7 * 60};
  int64_t ends = 0;
  const int64_t day = 1767225600;  // 2026-01-01T00:00Z, a Thursday
  EXPECT_TRUE(in_quiet_hours(q, true, day + 23 * 3600, &ends));
  EXPECT_EQ(ends, day + 86400 + 7 * 3600);
  EXPECT_TRUE(in_quiet_hours(q, true, day + 3 * 3600, &ends));
  EXPECT_EQ(ends, day + 7 * 3600);
  EXPECT_FALSE(in_quiet_hours(q, true, day + 7 * 3600, &ends));
  EXPECT_FALSE(in_quiet_hours(q, true, day + 12 * 3600, &ends));
  QuietHours lunch{true, 12 * 60, 13 * 60};
  EXPECT_TRUE(in_quiet_hours(lunch, true, day + 12 * 3600 + 60, &ends));
  EXPECT_EQ(ends, day + 13 * 3600);

  DigestConfig d{DigestMode::kDaily, 8 * 60, 1};
  EXPECT_EQ(next_digest_time(d, true, day), day + 8 * 3600);
  EXPECT_EQ(next_digest_time(d, true, day + 8 * 3600), day + 86400 + 8 * 3600);
  d.mode = DigestMode::kWeekly;  // Mondays: 2026-01-05
  EXPECT_EQ(next_digest_time(d, true, day), day + 4 * 86400 + 8 * 3600);
}

TEST(AlertsRuleTest, Addresses) {
  EXPECT_TRUE(is_valid_address("a.b+tag@clinic.example"));
  EXPECT_TRUE(is_valid_address("x@localhost"));
  for (const char* bad :
       {"", "a", "@b", "a@", "a b@c.example", "a@b.example\r\nBcc: x@y", "<a@b.example>",
        "a@b..example", "\"a\"@b.example", "a,b@c.example", "a@b.example>", "j\xC3\xB6@b.example"})
    EXPECT_FALSE(is_valid_address(bad)) << bad;
}

// ---- MIME building blocks -------------------------------------------------------------------

std::string b64decode(std::string_view in) {
  static const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    buf = (buf << 6) | static_cast<uint32_t>(chars.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  return out;
}

// Decodes a header value made of =?UTF-8?B?...?= words separated by folding whitespace.
std::string decode_words(const std::string& v) {
  std::string out;
  std::regex word(R"(=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=)");
  for (auto it = std::sregex_iterator(v.begin(), v.end(), word); it != std::sregex_iterator(); ++it)
    out += b64decode((*it)[1].str());
  return out;
}

std::string qp_decode(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
      i += 2;
    } else if (in[i] == '=' && i + 2 < in.size()) {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t e = s.find("\r\n", pos);
    if (e == std::string::npos) e = s.size();
    out.push_back(s.substr(pos, e - pos));
    pos = e + 2;
  }
  return out;
}

TEST(AlertsMessageTest, SanitizeHeader) {
  EXPECT_EQ(sanitize_header("Eve\r\nBcc: x@evil.example\r\n"), "Eve Bcc: x@evil.example");
  EXPECT_EQ(sanitize_header("a\tb\x01\x7f c\xC2\x85 d\xE2\x80\xA8"
                            "e"),
            "a b c d e");
  EXPECT_EQ(sanitize_header("bad \xFF utf8"), "bad \xEF\xBF\xBD utf8");
  EXPECT_EQ(sanitize_header("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(sanitize_header("  lots   of\n\n space  "), "lots of space");
}

// Bidirectional controls reorder what a mail client shows ("Jane \u202Eweiver evitisop" reads
// "Jane positive review"); they go, like the other controls. Right-to-left text stays.
TEST(AlertsMessageTest, SanitizeHeaderRemovesBidiControls) {
  const std::vector<std::pair<const char*, const char*>> controls = {
      {"LRE", "\u202A"}, {"RLE", "\u202B"}, {"PDF", "\u202C"}, {"LRO", "\u202D"},
      {"RLO", "\u202E"}, {"LRI", "\u2066"}, {"RLI", "\u2067"}, {"FSI", "\u2068"},
      {"PDI", "\u2069"}, {"LRM", "\u200E"}, {"RLM", "\u200F"}, {"ALM", "\u061C"}};
  for (const auto& [name, control] : controls)
    EXPECT_EQ(sanitize_header(std::string("Jane") + control + "Doe"), "JaneDoe") << name;
  EXPECT_EQ(sanitize_header("Jane \u202Eweiver evitisop\u202C \u2067\u05e9\u05e8\u05d4\u2069"),
            "Jane weiver evitisop \u05e9\u05e8\u05d4");
  // Neighbouring characters that are not controls stay.
  EXPECT_EQ(sanitize_header("\u2029x\u2065\u206A\u2029"), "x\u2065\u206A");
}

TEST(AlertsMessageTest, EncodedWordsAreShortAndDecodeBack) {
  const std::string subject =
      "[repwatch] \u2605\u2606\u2606\u2606\u2606 New negative review: Cl\u00ednica Norte \u2014 "
      "\u5317 \u00b7 yelp \u00b7 Zo\u00eb \u5c71\u7530 \U0001F621 and a long tail of words to fold";
  std::string h = encode_header("Subject", subject + "\r\nBcc: x@evil.example");
  for (const std::string& l : lines(h)) {
    EXPECT_LE(l.size(), 78u) << l;
    EXPECT_EQ(l.find('\r'), std::string::npos);
  }
  EXPECT_EQ(h.rfind("Subject: =?UTF-8?B?", 0), 0u);
  std::regex word(R"(=\?UTF-8\?B\?[A-Za-z0-9+/=]*\?=)");
  for (auto it = std::sregex_iterator(h.begin(), h.end(), word); it != std::sregex_iterator(); ++it)
    EXPECT_LE(it->str().size(), 75u);
  EXPECT_EQ(decode_words(h), subject + " Bcc: x@evil.example");
  // Every encoded word is whole UTF-8 on its own.
  for (auto it = std::sregex_iterator(h.begin(), h.end(), word); it != std::sregex_iterator(); ++it)
    EXPECT_EQ(valid_utf8(b64decode(it->str().substr(10))), b64decode(it->str().substr(10)));

  // Plain ASCII stays readable, folded at spaces; "=?" forces encoding.
  EXPECT_EQ(encode_header("Subject", "Hello there"), "Subject: Hello there");
  EXPECT_EQ(encode_header("X-Test", "looks =?like?= a word").rfind("X-Test: =?UTF-8?B?", 0), 0u);
  EXPECT_THROW(encode_header("Bad: Name", "x"), Error);
}

TEST(AlertsMessageTest, Mailboxes) {
  EXPECT_EQ(format_mailbox("", "a@b.example"), "a@b.example");
  EXPECT_EQ(format_mailbox("repwatch alerts", "a@b.example"), "repwatch alerts <a@b.example>");
  EXPECT_EQ(format_mailbox("Dr. Who", "a@b.example"), "\"Dr. Who\" <a@b.example>");
  EXPECT_EQ(format_mailbox("Clinic \"Alerts\"", "a@b.example"),
            "\"Clinic \\\"Alerts\\\"\" <a@b.example>");
  std::string enc = format_mailbox("Clínica", "a@b.example");
  EXPECT_EQ(enc.rfind("=?UTF-8?B?", 0), 0u);
  EXPECT_EQ(decode_words(enc), "Clínica");
  EXPECT_THROW(format_mailbox("x", "a@b.example>\r\nBcc: c@d.example"), Error);
}

TEST(AlertsMessageTest, QuotedPrintableRoundTripsAndKeepsLinesShort) {
  std::string text =
      "Plain line\n.leading dot\nFrom the start\ntrailing space \nequals = sign\n"
      "\u00e9moji \U0001F621 " +
      std::string(200, 'x') + "\n\nend";
  std::string qp = quoted_printable(text);
  for (const std::string& l : lines(qp)) {
    EXPECT_LE(l.size(), 76u) << l;
    EXPECT_NE(l.rfind(".", 0), 0u) << "a line starting with '.' could be taken for the end";
    EXPECT_NE(l.rfind("From ", 0), 0u);
    if (!l.empty()) {
      EXPECT_NE(l.back(), ' ');
    }
  }
  std::string decoded = qp_decode(qp);
  for (size_t p; (p = decoded.find("\r\n")) != std::string::npos;) decoded.replace(p, 2, "\n");
  EXPECT_EQ(decoded, text);
}

TEST(AlertsMessageTest, WholeMessage) {
  Email e;
  e.from_name = "repwatch";
  e.from_address = "alerts@clinic.example";
  e.to = {"m@clinic.example"};
  e.subject = "Hi \u00e9";
  e.message_id = make_message_id("clinic.example", 1767225600);
  e.date = 1767225600;
  e.text = "text body";
  e.html = "<p>html body</p>";
  std::string m = to_mime(e);
  EXPECT_NE(m.find("Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nMessage-ID: " + e.message_id + "\r\n"), std::string::npos);
  EXPECT_TRUE(std::regex_match(e.message_id,
                               std::regex(R"(<rw\.1767225600\.[0-9a-f]{16}@clinic\.example>)")))
      << e.message_id;
  EXPECT_NE(m.find("Content-Type: multipart/alternative;\r\n boundary=\"=_repwatch_"),
            std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/plain; charset=UTF-8\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/html; charset=UTF-8\r\n"), std::string::npos);
  EXPECT_LT(m.find("text/plain"), m.find("text/html"));
  EXPECT_EQ(m.find("\n\n"), std::string::npos);
  for (size_t i = 0; i < m.size(); ++i)
    if (m[i] == '\n') {
      EXPECT_EQ(m[i - 1], '\r') << "bare LF at " << i;
    }
  EXPECT_NE(make_message_id("clinic.example", 1), make_message_id("clinic.example", 1));
  e.to = {"bad address"};
  EXPECT_THROW(to_mime(e), Error);
}

TEST(AlertsContentTest, JsonRoundTripAndRendering) {
  AlertContent c;
  c.kind = "new_negative";
  c.rule = "new_negative";
  c.headline = "New negative review";
  ReviewSnapshot r;
  r.review_id = 7;
  r.source_id = "google";
  r.source_type = "google_business";
  r.location_id = "downtown";
  r.location_name = "Downtown";
  r.author = "Jane";
  r.rating = 1.5;
  r.raw_rating = 2;
  r.scale = "0-10";
  r.text = "The billing was a nightmare & <b>rude</b>.";
  r.url = "https://reviews.example/7\"onmouseover=\"x";
  r.touchpoints = {
      {"billing", "Billing and insurance", -0.7, {{"billing", 4, 7}, {"nightmare", 18, 9}}}};
  c.review = r;
  AlertContent back = content_from_json(to_json(c));
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_THROW(content_from_json("{not json"), Error);

  Rendered out = render_email(c, "[rw]");
  EXPECT_EQ(out.subject,
            "[rw] \u2605\u2605\u2606\u2606\u2606 New negative review: Downtown \u00b7 google "
            "\u00b7 Jane");
  EXPECT_NE(out.text.find("1.5/5 (given as 2 on 0-10)"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("Billing and insurance (-0.70): \"billing\", \"nightmare\""),
            std::string::npos)
      << out.text;
  EXPECT_NE(out.html.find("The <mark style=\"background:#ffe08a\">billing</mark> was a "
                          "<mark style=\"background:#ffe08a\">nightmare</mark> &amp; "
                          "&lt;b&gt;rude&lt;/b&gt;."),
            std::string::npos)
      << out.html;
  // A URL that would break out of the attribute is not linked.
  EXPECT_EQ(out.html.find("onmouseover"), std::string::npos);
  EXPECT_NE(out.text.find("The source gave no link"), std::string::npos);

  std::string slack = render_webhook(c, "slack");
  EXPECT_NE(slack.find("\"blocks\""), std::string::npos);
  EXPECT_NE(slack.find("&lt;b&gt;rude&lt;/b&gt;"), std::string::npos) << slack;
  std::string teams = render_webhook(c, "teams");
  EXPECT_NE(teams.find("\"@type\":\"MessageCard\""), std::string::npos);
}

// A snapshot of a review analysed on its translation, first seen 9 days after it was posted:
// the JSON keeps it all; the email shows the original, then the translation with the evidence
// marked; "posted ... first seen ..." is reckoned from the message's date (a digest two days
// later says so); chat messages carry the translation too.
TEST(AlertsContentTest, TranslationAndBackdatedNote) {
  constexpr int64_t kPosted = 1767225600;  // 2026-01-01T00:00:00Z
  AlertContent c;
  c.kind = "new_negative";
  c.rule = "new_negative";
  c.headline = "New negative review";
  ReviewSnapshot r;
  r.review_id = 8;
  r.source_id = "google";
  r.source_type = "google_business";
  r.location_id = "downtown";
  r.author = "Ana";
  r.rating = 1;
  r.scale = "1-5";
  r.text = "La factura llegó dos veces.";
  r.translated_text = "The bill came twice.";
  r.on_translation = true;
  r.created_at = kPosted;
  r.updated_at = kPosted;
  r.first_seen_at = kPosted + 9 * 86400 + 3600;
  r.touchpoints = {{"billing", "Billing and insurance", -0.6, {{"bill", 4, 4}}}};
  c.review = r;
  AlertContent back = content_from_json(to_json(c));
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_TRUE(back.review->on_translation);
  EXPECT_EQ(back.review->first_seen_at, r.first_seen_at);

  Rendered now = render_email(c, "", r.first_seen_at + 60);
  EXPECT_NE(now.text.find("Posted 9 days ago (2026-01-01), first seen today."), std::string::npos)
      << now.text;
  size_t original = now.text.find("  La factura llegó dos veces.");
  size_t translation = now.text.find("Translation (by the source):\n  The bill came twice.");
  ASSERT_NE(original, std::string::npos) << now.text;
  ASSERT_NE(translation, std::string::npos) << now.text;
  EXPECT_LT(original, translation);
  EXPECT_NE(now.html.find("La factura llegó dos veces.</blockquote>"), std::string::npos)
      << now.html;
  EXPECT_NE(now.html.find("The <mark style=\"background:#ffe08a\">bill</mark> came twice."),
            std::string::npos)
      << now.html;
  Rendered later = render_email(c, "", r.first_seen_at + 2 * 86400);
  EXPECT_NE(later.text.find("Posted 11 days ago (2026-01-01), first seen 2 days ago."),
            std::string::npos)
      << later.text;
  // Without a date: as of when it was first seen.
  EXPECT_NE(render_email(c, "").text.find("first seen today"), std::string::npos);
  // Seen within two days of being posted: nothing to say.
  c.review->first_seen_at = kPosted + 86400;
  EXPECT_EQ(render_email(c, "", kPosted + 86400).text.find("first seen"), std::string::npos);

  std::string slack = render_webhook(c, "slack");
  EXPECT_NE(slack.find("Translation: The bill came twice."), std::string::npos) << slack;
}

}  // namespace
}  // namespace repwatch::alerts
