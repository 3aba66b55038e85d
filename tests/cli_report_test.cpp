// `repwatch report`: one self-contained HTML file, and what headless Chromium makes of it.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/report.h"
#include "fixtures/cli/fixture_db.h"

namespace repwatch::cli::testing {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// The fixture plus a review whose text tries to inject markup.
void add_hostile_review(const FixtureDb& fx) {
  db::Database d = db::open_store(fx.path());
  db::ReviewStore store(d);
  ReviewSpec bad{"google-downtown",
                 "downtown",
                 "g9",
                 "2026-02-13T10:00:00Z",
                 1,
                 RatingScale::stars(),
                 "<script>alert('x')</script> & the \"billing\" was awful",
                 -0.9,
                 {{"billing", -0.9, {"billing"}}}};
  auto [r, a] = make_review(bad);
  r.url = "javascript:alert(1)";
  db::Transaction tx(d);
  store.upsert(r, a, at(kNow));
  tx.commit();
}

TEST(CliReport, SelfContainedHtml) {
  FixtureDb fx;
  add_hostile_review(fx);
  std::filesystem::path out = fx.dir() / "report.html";
  Result r = repwatch(fx, {"report", "--out", out.string(), "--title", "Clinic <Group>"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote " + out.string()), std::string::npos) << r.out;
  std::string html = read_file(out);
  EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  // No script, no stylesheet link, no image or font to fetch: nothing external at all.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // Text is escaped; a javascript: URL is not made a link.
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; the &quot;"),
            std::string::npos);
  EXPECT_EQ(html.find("javascript:"), std::string::npos);
  EXPECT_NE(html.find("<title>Clinic &lt;Group&gt;"), std::string::npos);
  // The four charts, the scorecard, the notable reviews with their evidence marked.
  for (const char* chart : {"data-chart=\"rating\"", "data-chart=\"sentiment\"",
                            "data-chart=\"volume\"", "data-chart=\"touchpoints\""})
    EXPECT_EQ(count(html, chart), 1u) << chart;
  EXPECT_GE(count(html, "<polyline"), 6u) << "rating and sentiment lines of 3 sources";
  EXPECT_NE(html.find("<mark>billing</mark>"), std::string::npos);
  EXPECT_NE(html.find("<mark>receptionist</mark>"), std::string::npos);
  EXPECT_NE(html.find("Rude <mark>receptionist</mark>, never again."), std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".part"));

  // A period without reviews still renders, and says so.
  std::filesystem::path empty = fx.dir() / "empty.html";
  Result e = repwatch(fx, {"report", "--out", empty.string(), "--period", "2024-01"});
  ASSERT_EQ(e.code, 0) << e.err;
  std::string eh = read_file(empty);
  EXPECT_NE(eh.find("No negative reviews in this period."), std::string::npos);
  EXPECT_NE(eh.find("No touchpoint was mentioned in this period."), std::string::npos);

  Result bad = repwatch(fx, {"report", "--out", (fx.dir() / "nope/x.html").string()});
  EXPECT_EQ(bad.code, 1);
  Result usage = repwatch(fx, {"report", "--by", "year"});
  EXPECT_EQ(usage.code, 2);
}

TEST(CliReport, RendererIsUsableWithoutTheCommandLine) {
  // A weekly digest gathers and renders without run_cli().
  FixtureDb fx;
  db::Database d = db::Database::open(fx.path(), db::Database::Mode::kReadOnly);
  Queries q(d);
  Catalog c = Catalog::load(d, sentiment::Analyzer::builtin().touchpoints());
  ReportOptions o;
  o.period = {at("2026-02-09T00:00:00Z"), at("2026-02-16T00:00:00Z")};
  o.history_since = at("2025-12-01T00:00:00Z");
  o.by = Bucketing::kWeek;
  o.title = "Weekly digest";
  ReportData data = gather_report(q, c, nullptr, at(kNow), o);
  EXPECT_EQ(data.current.reviews, 3);
  EXPECT_EQ(data.buckets.front(), "2025-12-01");
  EXPECT_EQ(data.buckets.back(), "2026-02-09");
  EXPECT_EQ(data.series.size(), 3u);
  ASSERT_EQ(data.notable.size(), 2u);
  EXPECT_EQ(data.notable[0].review.external_id, "g3");  // most negative first
  ASSERT_EQ(data.failing.size(), 1u);
  std::string html = render_report_html(data);
  EXPECT_NE(html.find("<h1>Weekly digest</h1>"), std::string::npos);
  EXPECT_NE(html.find("Sources that fail to poll"), std::string::npos);
}

// ---- in a real browser -------------------------------------------------------------------

std::string find_program(const char* name) {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    std::filesystem::path p = std::filesystem::path(dir) / name;
    if (std::filesystem::exists(p)) return p.string();
  }
  return "";
}

std::string run(const std::string& command, int* status) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  *status = pclose(p);
  return out;
}

struct Rendered {
  rapidjson::Document page;
  std::string png;
};

Rendered render(const std::string& chromium, const std::string& node,
                const std::filesystem::path& html, const std::filesystem::path& png) {
  std::string script = std::string(REPWATCH_SOURCE_DIR) + "/tests/fixtures/cli/render_report.js";
  int status = -1;
  std::string out =
      run(node + " " + script + " " + chromium + " " + html.string() + " " + png.string() + " 2>&1",
          &status);
  Rendered r;
  EXPECT_EQ(status, 0) << out;
  r.page.Parse(out.c_str());
  EXPECT_FALSE(r.page.HasParseError()) << out;
  r.png = read_file(png);
  return r;
}

TEST(CliReport, RendersInHeadlessChromiumWithoutErrors) {
  std::string chromium = find_program("chromium");
  std::string node = find_program("node");
  if (chromium.empty() || node.empty())
    GTEST_SKIP() << "needs Debian's chromium and node (scripts/test installs chromium): "
                 << (chromium.empty() ? "chromium missing " : "")
                 << (node.empty() ? "node missing" : "");
  FixtureDb fx;
  std::filesystem::path html = fx.dir() / "report.html";
  ASSERT_EQ(repwatch(fx, {"report", "--out", html.string()}).code, 0);
  std::filesystem::path png =
      std::filesystem::path(REPWATCH_BINARY_DIR) / "tests" / "cli_report_screenshot.png";
  Rendered r = render(chromium, node, html, png);
  ASSERT_TRUE(r.page.IsObject());
  const auto& errors = r.page["errors"];
  for (const auto& e : errors.GetArray()) ADD_FAILURE() << "browser error: " << e.GetString();
  EXPECT_EQ(r.page["external"].Size(), 0u);
  const auto& charts = r.page["charts"];
  ASSERT_EQ(charts.Size(), 4u);
  for (const auto& c : charts.GetArray()) {
    std::string kind = c["kind"].GetString();
    EXPECT_GT(c["width"].GetDouble(), 300) << kind;
    EXPECT_GT(c["height"].GetDouble(), 100) << kind;
    if (kind == "rating" || kind == "sentiment") {
      // A line per source (3), broken where a source has a month without reviews.
      EXPECT_GE(c["lines"].GetInt(), 3) << kind;
      EXPECT_GE(c["points"].GetInt(), 5) << kind;
    } else {
      EXPECT_GE(c["bars"].GetInt(), 4) << kind;
    }
  }
  EXPECT_GE(r.page["marks"].GetInt(), 3) << "evidence phrases marked in the reviews";
  EXPECT_GT(r.page["pdf_bytes"].GetInt(), 20000) << "it prints";
  // A real PNG of the whole page.
  ASSERT_GT(r.png.size(), 24u);
  EXPECT_EQ(r.png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(r.png[at])) << 24) | (uint32_t(uint8_t(r.png[at + 1])) << 16) |
           (uint32_t(uint8_t(r.png[at + 2])) << 8) | uint32_t(uint8_t(r.png[at + 3]));
  };
  EXPECT_EQ(be32(16), 1000u);  // width
  EXPECT_GT(be32(20), 1500u);  // the full page, not the viewport
  EXPECT_GT(r.png.size(), 50000u) << "charts and text, not a blank page";
}

TEST(CliReport, TheBrowserCheckSeesBlockedAssets) {
  // The control: the same check on a page that tries to load something external must fail.
  std::string chromium = find_program("chromium");
  std::string node = find_program("node");
  if (chromium.empty() || node.empty()) GTEST_SKIP() << "needs chromium and node";
  FixtureDb fx(true, false);
  std::filesystem::path html = fx.dir() / "bad.html";
  {
    std::ofstream f(html);
    f << "<!doctype html><html><head><meta http-equiv=\"Content-Security-Policy\" "
         "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"></head>"
         "<body><img src=\"http://127.0.0.1:9/logo.png\"><p>x</p></body></html>";
  }
  Rendered r = render(chromium, node, html, fx.dir() / "bad.png");
  ASSERT_TRUE(r.page.IsObject());
  EXPECT_GE(r.page["errors"].Size(), 1u) << "a blocked image must show as an error";
  EXPECT_EQ(r.page["external"].Size(), 1u);
}

}  // namespace
}  // namespace repwatch::cli::testing
