// Many HTTP sources polled at once through the daemon's FetchPool: a slow or failing source
// does not delay the others, and Connector::stop() ends a hanging fetch at once.
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <map>
#include <thread>

#include "daemon/fetch_pool.h"
#include "tests/fixtures/http/connector_harness.h"

using namespace repwatch;
using namespace repwatch::testing;
using Clock = std::chrono::steady_clock;

REPWATCH_FIXTURE_SERVER_ENV();

namespace {

std::string source_toml(int i) {
  return "[[sources]]\nid = \"s" + std::to_string(i) +
         "\"\ntype = \"json_http\"\nlocation = \"clinic\"\nurl = \"" + server().base_url() +
         "/synthetic/n" + std::to_string(i) + "z" +
         "?pages=2&per=3\"\nreviews_pointer = \"/data/reviews\"\nnext_pointer = \"/meta/next\"\n"
         "fields = { external_id = \"/id\", rating = \"/stars\", text = \"/text\", created_at = "
         "\"/created\" }\n";
}

// fast_http(): 0.5 s timeout, one retry.
Config config_for(int n, const std::string& timeout = "0.5") {
  std::string toml =
      "state_dir = \"/tmp/rw-conc\"\n[[locations]]\nid = \"clinic\"\n[http]\n" + fast_http();
  toml = replace_all(toml, "\ntimeout = 0.5", "\ntimeout = " + timeout);
  for (int i = 0; i < n; ++i) toml += source_toml(i);
  return parse_config(toml, "/tmp/rw-conc/repwatch.toml");
}

}  // namespace

TEST(Concurrency, ASlowAndAFailingSourceDoNotDelayTheOthers) {
  server().reset();
  server().fault(R"({"match": "/synthetic/n0z", "kind": "slow", "seconds": 2, "times": -1})");
  server().fault(R"({"match": "/synthetic/n1z", "kind": "status", "status": 500, "times": -1,
                     "body": "{}"})");
  Config config = config_for(12);
  std::vector<std::shared_ptr<connectors::Connector>> conns;
  for (const auto& s : config.sources) conns.push_back(connectors::make_connector(s, config));

  daemon::FetchPool pool(4);
  auto t0 = Clock::now();
  for (size_t i = 0; i < conns.size(); ++i) {
    auto c = conns[i];
    const SourceConfig* s = &config.sources[i];
    pool.submit({s->id, 0, [c, s] { return pipeline::fetch_and_score(*c, *s, "", analyzer()); }});
  }
  std::map<std::string, double> finished_at;
  std::map<std::string, bool> ok;
  while (finished_at.size() < conns.size()) {
    pollfd p{pool.fd(), POLLIN, 0};
    ::poll(&p, 1, 5000);
    for (auto& d : pool.take_done()) {
      finished_at[d.source_id] = std::chrono::duration<double>(Clock::now() - t0).count();
      ok[d.source_id] = !d.fetched.error;
      if (d.fetched.result) {
        EXPECT_EQ(d.fetched.result->reviews.size(), 6u) << d.source_id;
      }
    }
  }
  EXPECT_FALSE(ok["s0"]);  // timed out twice (0.5 s each)
  EXPECT_FALSE(ok["s1"]);
  EXPECT_GT(finished_at["s0"], 0.95);
  for (int i = 2; i < 12; ++i) {
    std::string id = "s" + std::to_string(i);
    EXPECT_TRUE(ok[id]) << id;
    // The ten healthy sources finish while s0 is still hanging.
    EXPECT_LT(finished_at[id], finished_at["s0"]) << id;
  }
}

TEST(Concurrency, StopEndsAHangingFetchAtOnce) {
  server().reset();
  server().fault(R"({"match": "/synthetic/", "kind": "slow", "seconds": 5, "times": -1})");
  Config config = config_for(1, "10");
  auto c = connectors::make_connector(config.sources[0], config);
  auto t0 = Clock::now();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    c->stop();
  });
  try {
    c->fetch("");
    ADD_FAILURE() << "expected the fetch to be stopped";
  } catch (const SourceError& e) {
    EXPECT_EQ(e.kind(), SourceError::Kind::kTransient);
    EXPECT_NE(std::string(e.what()).find("stopped"), std::string::npos) << e.what();
  }
  stopper.join();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 1.5);
  EXPECT_THROW(c->fetch(""), SourceError);  // and it stays stopped
}
