// Replays every input that once crashed a fuzz target (fuzz/regressions/<target>/*) and the
// seed corpora (fuzz/corpus/<target>/*) through the very entry points the fuzzers use, so a
// fixed finding stays fixed in the normal build (and under scripts/test --sanitize address).
#define REPWATCH_FUZZ_REPLAY 1

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "alerts/message.h"
#include "connectors/http_source.h"
#include "core/time.h"
#include "fuzz/fuzz.h"
// Each target, compiled here instead of into a libFuzzer program.
#include "fuzz/fuzz_config.cpp"
#include "fuzz/fuzz_email.cpp"
#include "fuzz/fuzz_facebook.cpp"
#include "fuzz/fuzz_file_import.cpp"
#include "fuzz/fuzz_google_business.cpp"
#include "fuzz/fuzz_google_places.cpp"
#include "fuzz/fuzz_json_http.cpp"
#include "fuzz/fuzz_reply_check.cpp"
#include "fuzz/fuzz_sentiment.cpp"
#include "fuzz/fuzz_time.cpp"
#include "fuzz/fuzz_yelp.cpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs every file under fuzz/<dir>/<target>/ through the target; returns how many ran.
int replay(const std::string& target, const std::string& dir) {
  auto fn = repwatch::fuzz::targets().at(target);
  fs::path root = fs::path(REPWATCH_SOURCE_DIR) / "fuzz" / dir / target;
  if (!fs::is_directory(root)) return 0;
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::string bytes = slurp(entry.path());
    ++n;
    try {
      fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    } catch (const std::exception& e) {
      ADD_FAILURE() << entry.path() << ": " << e.what();
    }
  }
  return n;
}

class FuzzReplay : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
};

TEST_P(FuzzReplay, RegressionsAndSeedsPass) {
  int regressions = replay(GetParam(), "regressions");
  int seeds = replay(GetParam(), "corpus");
  EXPECT_GT(regressions + seeds, 0) << "no inputs for fuzz target " << GetParam();
}

std::vector<std::string> target_names() {
  std::vector<std::string> out;
  for (const auto& [name, fn] : repwatch::fuzz::targets()) out.push_back(name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay, ::testing::ValuesIn(target_names()),
                         [](const auto& info) { return info.param; });

// Every fuzz/fuzz_<name>.cpp must be replayed here (add its #include above).
TEST(FuzzReplay, EveryTargetIsIncluded) {
  for (const auto& entry : fs::directory_iterator(fs::path(REPWATCH_SOURCE_DIR) / "fuzz")) {
    std::string file = entry.path().filename().string();
    if (file.rfind("fuzz_", 0) != 0 || entry.path().extension() != ".cpp") continue;
    std::string name = file.substr(5, file.size() - 9);
    EXPECT_TRUE(repwatch::fuzz::targets().count(name)) << file << " is not replayed";
  }
}

// ---- findings that are easier to state than to store as files ---------------------------

// fuzz_time: format_timestamp overflowed the calendar arithmetic for far-off epoch values.
TEST(FuzzFindings, FormatTimestampClampsWildEpochs) {
  EXPECT_EQ(repwatch::format_timestamp(std::numeric_limits<int64_t>::min()),
            "0000-01-01T00:00:00Z");
  EXPECT_EQ(repwatch::format_timestamp(std::numeric_limits<int64_t>::max()),
            "9999-12-31T23:59:59Z");
  EXPECT_EQ(repwatch::format_timestamp(0), "1970-01-01T00:00:00Z");
}

// parse_duration summed components without an overflow check ("99999999w" repeated).
TEST(FuzzFindings, ParseDurationRefusesOverflow) {
  std::string huge;
  for (int i = 0; i < 200000; ++i) huge += "99999999w";
  EXPECT_FALSE(repwatch::parse_duration(huge));
  EXPECT_EQ(*repwatch::parse_duration("1w1d1h1m1s"), 694861);
}

// fuzz_email: a header value with a word longer than a line was folded only at spaces, giving
// a line over RFC 5322's 998-byte limit (SMTP servers refuse the message, the alert is lost).
TEST(FuzzFindings, HeaderWithHugeWordStaysWithinLineLimits) {
  std::string header = repwatch::alerts::encode_header("Subject", std::string(1200, 'A'));
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t end = header.find("\r\n", pos);
    if (end == std::string::npos) end = header.size();
    EXPECT_LE(end - pos, 78u) << header.substr(pos, 80);
    pos = end + 2;
  }
  // Short words still fold as plain text.
  EXPECT_EQ(repwatch::alerts::encode_header("Subject", "Test message"), "Subject: Test message");
}

// fuzz_file_import: a JSONL line of deeply nested arrays overflowed the stack of RapidJSON's
// recursive parser (a crash of the whole daemon). Too big to keep as a file, so built here.
TEST(FuzzFindings, DeeplyNestedJsonlLineIsAProblemNotACrash) {
  std::string input = "\x05" + std::string(1'000'000, '[') + "\n{\"external_id\":\"a\"}\n";
  auto fn = repwatch::fuzz::targets().at("file_import");
  EXPECT_NO_THROW(fn(reinterpret_cast<const uint8_t*>(input.data()), input.size()));
}

// fuzz_facebook: clean_text() let bytes 0xF5..0xFF through as 3-byte sequences (invalid UTF-8
// in stored review text).
TEST(FuzzFindings, CleanTextRejectsBytesThatLeadNoSequence) {
  for (std::string bad : {"\xF8\x80\x80", "\xFF\xBF\xBF", "\xF5\x80\x80\x80", "\xC0\x80"})
    EXPECT_EQ(repwatch::connectors::clean_text("a" + bad + "b").find(bad), std::string::npos)
        << "kept an invalid sequence";
  EXPECT_EQ(repwatch::connectors::clean_text("\xF0\x9F\x98\x80 ok"), "\xF0\x9F\x98\x80 ok");
}

}  // namespace
