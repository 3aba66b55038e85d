#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/file.h"
#include "core/redact.h"
#include "core/review.h"
#include "core/text.h"
#include "core/time.h"
#include "normalize/normalize.h"

using namespace repwatch;

TEST(Normalize, StarsAsIs) {
  for (int s = 1; s <= 5; ++s) EXPECT_DOUBLE_EQ(*to_stars(s, RatingScale::stars()), s);
}

TEST(Normalize, OneToTenLinear) {
  auto scale = RatingScale::parse("1-10");
  EXPECT_DOUBLE_EQ(*to_stars(1, scale), 1.0);
  EXPECT_DOUBLE_EQ(*to_stars(10, scale), 5.0);
  EXPECT_NEAR(*to_stars(5.5, scale), 3.0, 1e-9);
}

TEST(Normalize, ZeroToTenNps) {
  auto scale = RatingScale::parse("nps");
  EXPECT_DOUBLE_EQ(*to_stars(0, scale), 1.0);
  EXPECT_DOUBLE_EQ(*to_stars(10, scale), 5.0);
  EXPECT_DOUBLE_EQ(*to_stars(5, scale), 3.0);
  EXPECT_NEAR(*to_stars(9, scale), 4.6, 1e-9);
}

TEST(Normalize, PercentLikePressGaney) {
  auto scale = RatingScale::parse("0-100");
  EXPECT_DOUBLE_EQ(*to_stars(0, scale), 1.0);
  EXPECT_DOUBLE_EQ(*to_stars(25, scale), 2.0);
  EXPECT_DOUBLE_EQ(*to_stars(75, scale), 4.0);
  EXPECT_DOUBLE_EQ(*to_stars(100, scale), 5.0);
}

TEST(Normalize, BinaryRecommend) {
  EXPECT_DOUBLE_EQ(*to_stars(1, RatingScale::binary()), 5.0);
  EXPECT_DOUBLE_EQ(*to_stars(0, RatingScale::binary()), 1.0);
}

TEST(Normalize, NoneAndOutOfRange) {
  EXPECT_FALSE(to_stars(3, RatingScale::none()));
  EXPECT_DOUBLE_EQ(*to_stars(7, RatingScale::stars()), 5.0);
  EXPECT_DOUBLE_EQ(*to_stars(-3, RatingScale::stars()), 1.0);
  EXPECT_FALSE(to_stars(std::numeric_limits<double>::quiet_NaN(), RatingScale::stars()));
  Review r;
  r.scale = RatingScale::stars();
  normalize(r);
  EXPECT_FALSE(r.rating);
  r.raw_rating = 4;
  normalize(r);
  EXPECT_DOUBLE_EQ(*r.rating, 4.0);
}

TEST(Scale, ParseAndPrint) {
  EXPECT_EQ(RatingScale::parse("0-10").to_string(), "0-10");
  EXPECT_EQ(RatingScale::parse("binary").to_string(), "binary");
  EXPECT_EQ(RatingScale::parse("stars").to_string(), "1-5");
  EXPECT_THROW(RatingScale::parse("fast"), ConfigError);
  EXPECT_THROW(RatingScale::parse("5-1"), ConfigError);
}

TEST(Time, Rfc3339Variants) {
  EXPECT_EQ(*parse_timestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parse_timestamp("2014-10-02T15:01:23Z"), 1412262083);
  EXPECT_EQ(*parse_timestamp("2014-10-02T15:01:23.045123456Z"), 1412262083);
  EXPECT_EQ(*parse_timestamp("2014-10-02T15:01:23.045Z"), 1412262083);
  EXPECT_EQ(*parse_timestamp("2016-03-11T23:14:30+0000"), 1457738070);
  EXPECT_EQ(*parse_timestamp("2016-03-12T01:14:30+02:00"), 1457738070);
  EXPECT_EQ(*parse_timestamp("2024-01-04"), 1704326400);
  EXPECT_EQ(*parse_timestamp("2024-01-04 10:00:00"), 1704326400 + 36000);
  EXPECT_FALSE(parse_timestamp("yesterday"));
  EXPECT_FALSE(parse_timestamp("2024-13-01"));
  EXPECT_FALSE(parse_timestamp("2024-01-04T10:00:00.1234567890Z"));
  EXPECT_EQ(format_timestamp(1412262083), "2014-10-02T15:01:23Z");
  EXPECT_EQ(format_date(1412262083), "2014-10-02");
}

TEST(Time, Durations) {
  EXPECT_EQ(*parse_duration("15m"), 900);
  EXPECT_EQ(*parse_duration("1h30m"), 5400);
  EXPECT_EQ(*parse_duration("2d"), 172800);
  EXPECT_FALSE(parse_duration("fast"));
  EXPECT_FALSE(parse_duration("15"));
  EXPECT_FALSE(parse_duration(""));
}

TEST(ContentHash, ChangesOnEditOnly) {
  Review a;
  a.text = "Great visit";
  a.raw_rating = 5;
  Review b = a;
  EXPECT_EQ(content_hash(a), content_hash(b));
  b.text = "Great visit!";
  EXPECT_NE(content_hash(a), content_hash(b));
  b = a;
  b.reply_text = "Thank you";
  EXPECT_NE(content_hash(a), content_hash(b));
  b = a;
  b.location_id = "elsewhere";  // not content
  EXPECT_EQ(content_hash(a), content_hash(b));
}

// Stored hashes decide whether a re-fetched review is an edit: the function must give the
// same value in every version (these were computed independently, in Python).
TEST(ContentHash, IsStableAcrossVersions) {
  Review a;
  a.author = "Maria G.";
  a.raw_rating = 4.5;
  a.text = "Great doctor, rude front desk.";
  a.reply_text = "Thanks!";
  a.updated_at = 1735689600;
  a.reply_at = 1735776000;
  EXPECT_EQ(content_hash(a), "4b621517482909b6");
  Review b;
  b.updated_at = -5;
  EXPECT_EQ(content_hash(b), "a013085374c05c25");
}

TEST(Text, InvalidUtf8At) {
  EXPECT_EQ(invalid_utf8_at(""), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_at("plain, Zoë, Олег, 山田, 😀"), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_at("Jos\xE9 M"), 3u);         // Latin-1 é
  EXPECT_EQ(invalid_utf8_at("ab\xC3"), 2u);            // cut off at the end
  EXPECT_EQ(invalid_utf8_at("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(invalid_utf8_at("x\xED\xA0\x80"), 1u);     // a UTF-16 surrogate
  EXPECT_EQ(invalid_utf8_at("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(invalid_utf8_at("ok\x80"), 2u);            // a lone continuation byte
}

TEST(Text, ConvertToUtf8) {
  Converted c = convert_to_utf8("Caf\xE9 \x93ok\x94 \x80", "WINDOWS-1252");
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.text, "Café “ok” €");
  EXPECT_EQ(convert_to_utf8("Caf\xE9", "ISO-8859-1").text, "Café");
  EXPECT_EQ(convert_to_utf8(std::string_view("h\0i\0", 4), "UTF-16LE").text, "hi");
  // 0x81 is no Windows-1252 character: the offset, and what came before it.
  c = convert_to_utf8(
      "ab\x81"
      "cd",
      "WINDOWS-1252");
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.bad_at, 2u);
  EXPECT_EQ(c.text, "ab");
  // Half a UTF-16 code unit at the end.
  c = convert_to_utf8(std::string_view("h\0i", 3), "UTF-16LE");
  EXPECT_EQ(c.bad_at, 2u);
  // A long input grows the output buffer (3 bytes out per byte in).
  std::string euros(100000, '\x80');
  c = convert_to_utf8(euros, "WINDOWS-1252");
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.text.size(), 300000u);
  EXPECT_TRUE(is_known_encoding("cp1252"));
  EXPECT_TRUE(is_known_encoding("utf-16"));
  EXPECT_FALSE(is_known_encoding("klingon"));
  EXPECT_FALSE(is_known_encoding(""));
  EXPECT_THROW(convert_to_utf8("x", "klingon"), std::invalid_argument);
}

TEST(Text, DecodeHtmlEntities) {
  EXPECT_EQ(decode_html_entities("Billing &amp; insurance &lt;3 &quot;ok&quot; O&#39;Brien "
                                 "we&#x27;ll &apos;"),
            "Billing & insurance <3 \"ok\" O'Brien we'll '");
  EXPECT_EQ(decode_html_entities("Jos&eacute; Mu&ntilde;oz &nbsp;&copy; &yuml; &iexcl;"),
            "José Muñoz \u00a0© ÿ ¡");
  EXPECT_EQ(decode_html_entities("wait&mdash;then &hellip; &euro;5 &trade; &ldquo;x&rdquo;"),
            "wait—then … €5 ™ “x”");
  EXPECT_EQ(decode_html_entities("&#128512; &#x1F600;"), "😀 😀");
  // Kept as written: no ';', unknown names, bare '&', NUL, controls, surrogates, too big.
  for (const char* same :
       {"AT&T", "a & b", "&amp", "&bogus;", "&#0;", "&#7;", "&#x80;", "&#xD800;", "&#x110000;",
        "&#;", "&#x;", "&;", "&#12a;", "&averyveryverylongname;"}) {
    EXPECT_EQ(decode_html_entities(same), same) << same;
  }
  EXPECT_EQ(decode_html_entities("&&amp;"), "&&");
  EXPECT_EQ(decode_html_entities("x&#10;y"), "x\ny");     // a line feed is text
  EXPECT_EQ(decode_html_entities("&amp;amp;"), "&amp;");  // decoded once
}

TEST(Text, DecodeUtf8) {
  auto one = [](std::string_view s) {
    uint32_t cp = 0;
    size_t n = decode_utf8(s, 0, cp);
    return std::make_pair(n, n ? cp : 0u);
  };
  EXPECT_EQ(one("A"), std::make_pair(size_t{1}, 0x41u));
  EXPECT_EQ(one("\xC3\xAB"), std::make_pair(size_t{2}, 0xEBu));              // ë
  EXPECT_EQ(one("\xE2\x80\x99"), std::make_pair(size_t{3}, 0x2019u));        // ’
  EXPECT_EQ(one("\xF0\x9F\x98\x80"), std::make_pair(size_t{4}, 0x1F600u));   // 😀
  EXPECT_EQ(one("\xF4\x8F\xBF\xBF"), std::make_pair(size_t{4}, 0x10FFFFu));  // the last one
  // Not well-formed: no byte from 0xF5 up leads a sequence (0xF5 0x80 0x80 would read as a
  // 3-byte lead where the lead's bits are not checked), C0/C1 only lead overlong forms.
  for (const char* bad :
       {"\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80", "\xFF", "\xFE\x80\x80", "\xC0\xAF", "\xC1\xBF",
        "\xE0\x80\xAF", "\xF0\x8F\xBF\xBF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80", "\xC3",
        "\xE2\x80", "\xC3(", "\xE2\x28\xA1"})
    EXPECT_EQ(one(bad).first, 0u) << testing::PrintToString(std::string(bad));
  // Decoding starts at i and never reads past the end of the view.
  std::string_view cut(
      "ab\xE2\x80\x99"
      "cd",
      4);
  uint32_t cp = 0;
  EXPECT_EQ(decode_utf8(cut, 2, cp), 0u);
  EXPECT_EQ(decode_utf8("ab\xE2\x80\x99", 2, cp), 3u);
  EXPECT_EQ(cp, 0x2019u);
  std::string all;
  for (uint32_t c : {0x41u, 0xE9u, 0x20ACu, 0x1F600u}) append_utf8(all, c);
  EXPECT_EQ(all, "Aé€😀");
}

TEST(Text, LowerAndTrim) {
  EXPECT_EQ(lower("Content-TYPE: Zoë ÉCOLE"), "content-type: zoë École");  // ASCII only
  EXPECT_EQ(trim(" \t\r\n\v\f 42 x \r\n"), "42 x");
  EXPECT_EQ(trim(" \xC2\xA0x\xC2\xA0 "), "\xC2\xA0x\xC2\xA0");  // no-break space is text
  EXPECT_EQ(trim("   "), "");
  using Pieces = std::vector<std::string_view>;
  EXPECT_EQ(split("a|b c|d", '|'), (Pieces{"a", "b c", "d"}));
  EXPECT_EQ(split("a||b|", '|'), (Pieces{"a", "", "b", ""}));
  EXPECT_EQ(split("", ' '), (Pieces{""}));
  EXPECT_EQ(split("word", ' '), (Pieces{"word"}));
  EXPECT_EQ(trim(""), "");
}

TEST(Text, HtmlEscape) {
  EXPECT_EQ(html_escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
}

// ---- core/file.h ------------------------------------------------------------------------

class FileTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("repwatch-core-file-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string read(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  std::filesystem::path dir_;
};

TEST_F(FileTest, WritesWholeFileAndReplacesTheOld) {
  const auto target = dir_ / "report.html";
  write_file_atomically(target, "old");
  std::string big(300 * 1024, 'x');  // more than one buffer
  big += "end";
  write_file_atomically(target, big);
  EXPECT_EQ(read(target), big);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "report.html.part"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 1);
}

TEST_F(FileTest, StreamsAndKeepsTheModeAndSuffixAsked) {
  const auto target = dir_ / "alert-1.eml";
  {
    AtomicFile f(target, ".tmp", 0640);
    EXPECT_EQ(f.temporary(), dir_ / "alert-1.eml.tmp");
    f.stream() << "Subject: " << 42 << "\r\n";
    EXPECT_FALSE(std::filesystem::exists(target));  // nothing under the name until commit
    using std::filesystem::perms;  // 0640 less the umask: never more than that, even now
    const perms p = std::filesystem::status(f.temporary()).permissions();
    EXPECT_EQ(p & (perms::others_all | perms::group_write | perms::group_exec | perms::owner_exec),
              perms::none);
    EXPECT_NE(p & perms::owner_write, perms::none);
    f.commit();
  }
  EXPECT_EQ(read(target), "Subject: 42\r\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "alert-1.eml.tmp"));
}

TEST_F(FileTest, UncommittedLeavesTheOldFileAndNoTemporary) {
  const auto target = dir_ / "export.csv";
  write_file_atomically(target, "a,b\r\n");
  {
    AtomicFile f(target);
    f.stream() << "half of a new export";
  }  // an exception before commit()
  EXPECT_EQ(read(target), "a,b\r\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "export.csv.part"));
}

TEST_F(FileTest, ErrorsNameTheFile) {
  const auto missing = dir_ / "no-such-dir" / "report.html";
  try {
    write_file_atomically(missing, "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot write " + missing.string() + ".part: No such file or directory");
  }
  // The target is a directory: the rename fails and the temporary goes.
  std::filesystem::create_directories(dir_ / "taken" / "inside");
  EXPECT_THROW(write_file_atomically(dir_ / "taken", "x"), Error);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "taken.part"));
}

// ---- core/redact.h ----------------------------------------------------------------------

TEST(Redact, SecretNames) {
  for (const char* n :
       {"api_key", "key", "access_token", "client_secret", "X-Api-Key", "Authorization",
        "Proxy-Authorization", "Cookie", "password", "sig", "signature", "code", "credential"})
    EXPECT_TRUE(is_secret_name(n)) << n;
  for (const char* n : {"per_page", "page", "location", "after", "fields", "Accept", "q"})
    EXPECT_FALSE(is_secret_name(n)) << n;
}

TEST(Redact, UrlSecretsAsWrittenAndDecoded) {
  EXPECT_EQ(url_secrets("https://api.example/v2/r?per_page=10&api_key=AB%2Fc+d&x=1"),
            (std::vector<std::string>{"AB%2Fc+d", "AB/c d"}));
  EXPECT_EQ(url_secrets("smtp://alerts%40clinic.example:p%40ss@mail.example:587"),
            (std::vector<std::string>{"p%40ss", "p@ss"}));
  EXPECT_EQ(url_secrets("https://ghp_T0KEN@git.example/x"),
            (std::vector<std::string>{"ghp_T0KEN"}));
  EXPECT_TRUE(url_secrets("https://api.example/v2/r?per_page=10#key=frag").empty());
  EXPECT_TRUE(url_secrets("https://api.example/a@b").empty()) << "an @ in the path is no userinfo";
}

// Secrets in URLs and query strings are removed wherever they appear in a text, with or
// without scheme and host: an API that echoes the request path is covered.
TEST(Redact, TextPatterns) {
  EXPECT_EQ(redact_text("No route for GET /v2/reviews?api_key=K3Y-1&per_page=100 (404)"),
            "No route for GET /v2/reviews?api_key=REDACTED&per_page=100 (404)");
  EXPECT_EQ(redact_text("see https://u:pw@h.example/p?access_token=T&a=b, then \"smtp://x:y@m\""),
            "see https://REDACTED@h.example/p?access_token=REDACTED&a=b, then "
            "\"smtp://REDACTED@m\"");
  EXPECT_EQ(redact_text("<a href='/next?page=2&amp;key=abc'>"),
            "<a href='/next?page=2&amp;key=REDACTED'>");
  EXPECT_EQ(redact_text("{\"path\":\"/r?token=abc\"}"), "{\"path\":\"/r?token=REDACTED\"}");
  // Ordinary text is left alone.
  const std::string plain = "rating=5 & key points: wait time; a?b=c";
  EXPECT_EQ(redact_text(plain), plain);
}

TEST(Redact, RedactorReplacesRegisteredSecretsInEveryForm) {
  Redactor r;
  r.add("s3cr3t/+=");
  r.add("abc");  // too short to register
  r.add_url("https://api.example/r?api_key=URLKEY99");
  EXPECT_EQ(r.redact("a s3cr3t/+= b s3cr3t%2F%2B%3D c URLKEY99 d abc"), "a *** b *** c *** d abc");
  EXPECT_TRUE(r.contains_secret("xx URLKEY99"));
  EXPECT_FALSE(r.contains_secret("nothing here"));
}
