// net/http against a real HTTP server on 127.0.0.1 (tests/fixtures/http/fixture_server.py).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "config/config.h"
#include "net/http.h"
#include "tests/fixtures/http/fixture_server.h"

using namespace repwatch;
using repwatch::testing::FixtureServer;
using Clock = std::chrono::steady_clock;

namespace {

FixtureServer* server = nullptr;

class Env : public ::testing::Environment {
 public:
  void SetUp() override {
    net::global_init();
    server = new FixtureServer();
  }
  void TearDown() override {
    delete server;
    server = nullptr;
  }
};
const auto* env = ::testing::AddGlobalTestEnvironment(new Env);

net::HttpOptions fast() {
  net::HttpOptions o;
  o.connect_timeout_ms = 1000;
  o.timeout_ms = 1000;
  o.retries = 2;
  o.retry_backoff_ms = 20;
  o.max_backoff_ms = 100;
  o.max_retry_wait_ms = 2000;
  o.proxy_set = true;
  o.proxy = "";
  return o;
}

std::string url(const std::string& path) { return server->base_url() + path; }

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

int count_requests(const std::string& path_part) {
  rapidjson::Document d;
  d.Parse(server->log().c_str());
  int n = 0;
  for (const auto& r : d.GetArray())
    if (std::string(r["path"].GetString()).find(path_part) != std::string::npos) ++n;
  return n;
}

// A port with nothing listening on it.
int closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class Http : public ::testing::Test {
 protected:
  void SetUp() override { server->reset(); }
};

}  // namespace

TEST_F(Http, GetsJsonWithGzipUserAgentAndHeaders) {
  net::HttpClient client(fast());
  net::Request r(url("/synthetic/a?pages=1&per=50"));
  r.headers.push_back({"Accept", "application/json"});
  net::Response res = client.send(r);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.attempts, 1);
  EXPECT_TRUE(net::is_json_content_type(res.content_type));
  EXPECT_EQ(res.header("Content-Encoding"), "gzip");  // decoded for us
  rapidjson::Document d;
  d.Parse(res.body.c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_EQ(d["data"]["reviews"].Size(), 50u);
  EXPECT_FALSE(res.etag.empty());

  rapidjson::Document log;
  log.Parse(server->log().c_str());
  ASSERT_EQ(log.Size(), 1u);
  const auto& h = log[0]["headers"];
  EXPECT_EQ(std::string(h["User-Agent"].GetString()), "repwatch/0.1.0");
  EXPECT_NE(std::string(h["Accept-Encoding"].GetString()).find("gzip"), std::string::npos);
  EXPECT_EQ(std::string(h["Accept"].GetString()), "application/json");
}

TEST_F(Http, EtagGivesNotModified) {
  net::HttpClient client(fast());
  net::Request r(url("/synthetic/e?pages=1&per=2"));
  net::Response first = client.send(r);
  ASSERT_EQ(first.status, 200);
  r.if_none_match = first.etag;
  net::Response second = client.send(r);
  EXPECT_TRUE(second.not_modified());
  EXPECT_TRUE(second.body.empty());
}

TEST_F(Http, RetriesServerErrorsThenSucceeds) {
  server->fault(R"({"match": "/synthetic/", "kind": "status", "status": 503, "times": 2,
                    "body": "<html><title>503 Service Unavailable</title></html>",
                    "content_type": "text/html"})");
  net::HttpClient client(fast());
  net::Response res = client.send(net::Request(url("/synthetic/r?pages=1&per=1")));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.attempts, 3);
  EXPECT_EQ(count_requests("/synthetic/r"), 3);
}

TEST_F(Http, GivesUpAfterRetriesAndReturnsTheLastError) {
  server->fault(R"({"match": "/synthetic/", "kind": "status", "status": 500, "times": -1,
                    "body": "<html><head><title>Internal Server Error</title></head><body><h1>Oops</h1></body></html>",
                    "content_type": "text/html"})");
  net::HttpClient client(fast());
  net::Response res = client.send(net::Request(url("/synthetic/g?pages=1")));
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.attempts, 3);
  EXPECT_EQ(net::body_excerpt(res), "Internal Server Error");
  SourceError e = net::status_error(res, "", "source x");
  EXPECT_EQ(e.kind(), SourceError::Kind::kTransient);
  EXPECT_STREQ(e.what(), "source x: HTTP 500: Internal Server Error");
}

TEST_F(Http, HonoursRetryAfterOn429) {
  server->fault(R"({"match": "/synthetic/", "kind": "status", "status": 429,
                    "headers": {"Retry-After": "1"},
                    "body": "{\"error\":{\"code\":\"TOO_MANY_REQUESTS_PER_SECOND\"}}"})");
  net::HttpClient client(fast());
  auto t0 = Clock::now();
  net::Response res = client.send(net::Request(url("/synthetic/t?pages=1")));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.attempts, 2);
  EXPECT_GE(ms_since(t0), 950);  // waited Retry-After, not the 20 ms backoff
}

TEST_F(Http, LongRetryAfterIsReturnedForTheScheduler) {
  server->fault(R"({"match": "/synthetic/", "kind": "status", "status": 429,
                    "headers": {"Retry-After": "120"}, "body": "slow down",
                    "content_type": "text/plain"})");
  net::HttpClient client(fast());
  auto t0 = Clock::now();
  net::Response res = client.send(net::Request(url("/synthetic/t?pages=1")));
  EXPECT_LT(ms_since(t0), 500);
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.retry_after_seconds, 120);
  SourceError e = net::status_error(res, "", "source y");
  EXPECT_EQ(e.kind(), SourceError::Kind::kTransient);
  EXPECT_EQ(e.retry_after_seconds(), 120);
}

TEST_F(Http, AuthErrorsAreNotRetried) {
  for (int status : {401, 403}) {
    server->reset();
    server->fault(R"({"match": "/synthetic/", "kind": "status", "status": )" +
                  std::to_string(status) + R"(, "body": "{}"})");
    net::HttpClient client(fast());
    net::Response res = client.send(net::Request(url("/synthetic/a")));
    EXPECT_EQ(res.status, status);
    EXPECT_EQ(res.attempts, 1);
    EXPECT_EQ(count_requests("/synthetic/"), 1);
    EXPECT_EQ(net::kind_for_status(status), SourceError::Kind::kAuth);
  }
}

TEST_F(Http, SlowResponseTimesOutAfterRetries) {
  server->fault(R"({"match": "/synthetic/", "kind": "slow", "seconds": 3, "times": -1})");
  auto o = fast();
  o.timeout_ms = 300;
  o.retries = 1;
  net::HttpClient client(o);
  auto t0 = Clock::now();
  try {
    client.send(net::Request(url("/synthetic/slow")));
    FAIL() << "expected a timeout";
  } catch (const SourceError& e) {
    EXPECT_EQ(e.kind(), SourceError::Kind::kTransient);
    EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(2 attempts)"), std::string::npos) << e.what();
  }
  EXPECT_LT(ms_since(t0), 1500);
  EXPECT_EQ(count_requests("/synthetic/slow"), 2);
}

TEST_F(Http, BodyOverTheCapIsRefusedEvenWhenChunked) {
  server->fault(R"({"match": "/synthetic/", "kind": "oversize", "bytes": 3000000})");
  auto o = fast();
  o.max_response_bytes = 100 * 1024;
  net::HttpClient client(o);
  try {
    client.send(net::Request(url("/synthetic/big")));
    FAIL() << "expected the cap to stop the transfer";
  } catch (const SourceError& e) {
    EXPECT_EQ(e.kind(), SourceError::Kind::kGarbage);
    EXPECT_NE(std::string(e.what()).find("larger than max_response_bytes (102400 bytes)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(count_requests("/synthetic/big"), 1);  // not retried
  // The client still works afterwards (new connection).
  EXPECT_EQ(client.send(net::Request(url("/synthetic/ok?pages=1&per=1"))).status, 200);
}

TEST_F(Http, DroppedConnectionIsRetried) {
  server->fault(R"({"match": "/synthetic/", "kind": "drop"})");
  net::HttpClient client(fast());
  net::Response res = client.send(net::Request(url("/synthetic/d?pages=1&per=1")));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.attempts, 2);
}

TEST_F(Http, ConnectionRefusedIsTransientAndNamesNoSecret) {
  auto o = fast();
  o.retries = 1;
  net::HttpClient client(o);
  net::Request r("http://127.0.0.1:" + std::to_string(closed_port()) +
                 "/v1/x?access_token=EAAGsecret123&limit=5");
  r.headers.push_back({"Authorization", "Bearer ya29.topsecret"});
  try {
    client.send(r);
    FAIL();
  } catch (const SourceError& e) {
    std::string m = e.what();
    EXPECT_EQ(e.kind(), SourceError::Kind::kTransient);
    EXPECT_EQ(m.find("EAAGsecret123"), std::string::npos) << m;
    EXPECT_EQ(m.find("topsecret"), std::string::npos) << m;
    EXPECT_NE(m.find("access_token=REDACTED&limit=5"), std::string::npos) << m;
  }
}

TEST_F(Http, SecretsNeverReachTheLogEvenAtDebug) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("capture", sink);
  logger->set_level(spdlog::level::trace);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);

  server->fault(R"({"match": "/synthetic/", "kind": "status", "status": 502, "times": 1,
                    "body": "bad gateway"})");
  net::HttpClient client(fast());
  client.add_secret("s3cr3t-api-key");
  net::Request r(url("/synthetic/l?pages=1&per=1&key=s3cr3t-api-key&access_token=tok-999"));
  r.headers.push_back({"Authorization", "Bearer bearer-777"});
  r.headers.push_back({"X-Goog-Api-Key", "goog-888"});
  EXPECT_EQ(client.send(r).status, 200);
  spdlog::set_default_logger(previous);

  std::string text = out.str();
  EXPECT_NE(text.find("/synthetic/l"), std::string::npos) << text;  // it did log the requests
  EXPECT_NE(text.find("retry 1/2"), std::string::npos) << text;
  for (const char* secret : {"s3cr3t-api-key", "tok-999", "bearer-777", "goog-888"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in: " << text;
}

TEST_F(Http, StopAbortsASlowRequestFromAnotherThread) {
  server->fault(R"({"match": "/synthetic/", "kind": "slow", "seconds": 5})");
  auto o = fast();
  o.timeout_ms = 10'000;
  net::HttpClient client(o);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    client.stop();
  });
  auto t0 = Clock::now();
  EXPECT_THROW(client.send(net::Request(url("/synthetic/s"))), SourceError);
  stopper.join();
  EXPECT_LT(ms_since(t0), 2000);
}

TEST_F(Http, ProxyFromConfigAndFromTheEnvironment) {
  // The fixture server also answers absolute-form requests, i.e. it works as an HTTP proxy;
  // a .invalid host never resolves, so a success proves the proxy was used.
  const std::string target = "http://reviews.repwatch-test.invalid/synthetic/p?pages=1&per=1";
  auto o = fast();
  o.proxy = server->base_url();
  EXPECT_EQ(net::HttpClient(o).send(net::Request(target)).status, 200);
  rapidjson::Document log;
  log.Parse(server->log().c_str());
  ASSERT_EQ(log.Size(), 1u);
  EXPECT_EQ(std::string(log[0]["path"].GetString()), "/synthetic/p");
  EXPECT_EQ(std::string(log[0]["headers"]["Host"].GetString()), "reviews.repwatch-test.invalid");

  ::setenv("http_proxy", server->base_url().c_str(), 1);
  auto from_env = fast();
  from_env.proxy_set = false;  // no `proxy` key: the environment decides
  EXPECT_EQ(net::HttpClient(from_env).send(net::Request(target)).status, 200);
  auto none = fast();  // proxy = "": no proxy even though http_proxy is set
  EXPECT_THROW(net::HttpClient(none).send(net::Request(target)), SourceError);
  ::unsetenv("http_proxy");
}

// TLS against the fixture server with a self-signed certificate made by openssl(1).
TEST(HttpTls, VerificationIsOnAndCaFileIsHonoured) {
  std::string dir = ::testing::TempDir() + "rw-tls-" + std::to_string(::getpid());
  std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  std::string cmd = "mkdir -p " + dir +
                    " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
                    "-addext subjectAltName=IP:127.0.0.1 -keyout " +
                    key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "openssl(1) cannot make a certificate";
  FixtureServer tls(cert, key);
  const std::string url = tls.base_url() + "/synthetic/t?pages=1&per=1";

  auto o = fast();
  try {
    net::HttpClient(o).send(net::Request(url));
    ADD_FAILURE() << "a self-signed certificate was accepted";
  } catch (const SourceError& e) {
    EXPECT_EQ(e.kind(), SourceError::Kind::kConfig);
    EXPECT_NE(std::string(e.what()).find("certificate"), std::string::npos) << e.what();
  }
  o.ca_file = cert;
  EXPECT_EQ(net::HttpClient(o).send(net::Request(url)).status, 200);
  // The name is checked too: the certificate is for 127.0.0.1, not for "localhost".
  std::string by_name = "https://localhost:" + std::to_string(tls.port()) + "/synthetic/t";
  EXPECT_THROW(net::HttpClient(o).send(net::Request(by_name)), SourceError);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(HttpHelpers, RedactUrl) {
  EXPECT_EQ(net::redact_url("https://graph.facebook.com/v19.0/1/ratings?access_token=EAAB&limit=25"
                            "&after=QVFI"),
            "https://graph.facebook.com/v19.0/1/ratings?access_token=REDACTED&limit=25&after=QVFI");
  EXPECT_EQ(net::redact_url("https://maps.example/x?key=AIza&fields=reviews#frag"),
            "https://maps.example/x?key=REDACTED&fields=reviews#frag");
  EXPECT_EQ(net::redact_url("http://user:pw@proxy:3128/"), "http://REDACTED@proxy:3128/");
  EXPECT_EQ(net::redact_url("https://a/b?client_secret=x&api_key=y&apikey=z&signature=q"),
            "https://a/b?client_secret=REDACTED&api_key=REDACTED&apikey=REDACTED"
            "&signature=REDACTED");
  EXPECT_EQ(net::redact_url("https://a/b"), "https://a/b");
}

TEST(HttpHelpers, ScrubRemovesRegisteredSecretsAndUrlQueries) {
  net::HttpClient client(net::HttpOptions{});
  client.add_secret("abc/def+ghi");
  std::string s = client.scrub(
      "token abc/def+ghi and abc%2Fdef%2Bghi; see https://x.example/p?access_token=T1&a=b now");
  EXPECT_EQ(s, "token *** and ***; see https://x.example/p?access_token=REDACTED&a=b now");
}

TEST(HttpHelpers, QueryAndFormEncoding) {
  EXPECT_EQ(net::add_query("https://a/b", "orderBy", "updateTime desc"),
            "https://a/b?orderBy=updateTime%20desc");
  EXPECT_EQ(net::add_query("https://a/b?x=1", "t", "a&b=c"), "https://a/b?x=1&t=a%26b%3Dc");
  EXPECT_EQ(net::url_encode("clínica"), "cl%C3%ADnica");
  // set_query replaces every occurrence of a parameter (a next-page link that dropped or
  // changed it gets ours back) and keeps the others in order.
  EXPECT_EQ(net::set_query("https://a/b", "fields", "x,y"), "https://a/b?fields=x%2Cy");
  EXPECT_EQ(net::set_query("https://a/b?limit=2&after=Q", "fields", "x"),
            "https://a/b?limit=2&after=Q&fields=x");
  EXPECT_EQ(net::set_query("https://a/b?fields=id&after=Q&fields&z=1", "fields", "x"),
            "https://a/b?after=Q&z=1&fields=x");
  EXPECT_EQ(net::set_query("https://a/b?fields=id#frag", "fields", "x"),
            "https://a/b?fields=x#frag");
  EXPECT_EQ(net::set_query("https://a/b?myfields=1", "fields", "x"),
            "https://a/b?myfields=1&fields=x");
  EXPECT_EQ(net::form_encode({{"grant_type", "refresh_token"}, {"client_secret", "a b/c"}}),
            "grant_type=refresh_token&client_secret=a%20b%2Fc");
  EXPECT_EQ(net::origin_of("HTTPS://Graph.Facebook.com:443/v19.0?x"),
            "https://graph.facebook.com:443");
  EXPECT_EQ(net::origin_of("/relative"), "");
}

TEST(HttpHelpers, ContentTypesAndExcerpts) {
  EXPECT_TRUE(net::is_json_content_type("application/json; charset=UTF-8"));
  EXPECT_TRUE(net::is_json_content_type("application/problem+json"));
  EXPECT_TRUE(net::is_json_content_type(""));
  EXPECT_FALSE(net::is_json_content_type("text/html; charset=utf-8"));
  EXPECT_FALSE(net::is_json_content_type("application/xml"));
  net::Response r;
  r.body = "line one\r\n<b>bold</b>\tend " + std::string(300, 'x');
  std::string ex = net::body_excerpt(r, 40);
  EXPECT_EQ(ex.rfind("line one bold end xxx", 0), 0u) << ex;
  EXPECT_LE(ex.size(), 43u);
  r.body = "\xF0\x9F\x98\x80\xF0\x9F\x98\x80";  // two emoji: never cut in the middle of one
  EXPECT_EQ(net::body_excerpt(r, 6), "\xF0\x9F\x98\x80...");
}

TEST(HttpOptions, FromSettings) {
  Config c = parse_config(R"(
state_dir = "/tmp/rw-net-test"
[http]
connect_timeout = "2s"
timeout = 0.5
retries = 4
retry_backoff = 0.05
max_response_bytes = 65536
proxy = ""
no_proxy = "localhost"
)",
                          "/tmp/rw-net-test/repwatch.toml");
  auto o = net::HttpOptions::from_settings(c.section("http"));
  EXPECT_EQ(o.connect_timeout_ms, 2000);
  EXPECT_EQ(o.timeout_ms, 500);
  EXPECT_EQ(o.retries, 4);
  EXPECT_EQ(o.retry_backoff_ms, 50);
  EXPECT_EQ(o.max_response_bytes, 65536);
  EXPECT_TRUE(o.proxy_set);
  EXPECT_EQ(o.proxy, "");
  EXPECT_EQ(o.no_proxy, "localhost");

  auto defaults = net::HttpOptions::from_settings(Settings());
  EXPECT_FALSE(defaults.proxy_set);
  EXPECT_EQ(defaults.timeout_ms, 60'000);
}

TEST(HttpOptions, RejectsBadValues) {
  auto load = [](const std::string& http) {
    Config c = parse_config("state_dir = \"/tmp/rw-net-test\"\n[http]\n" + http,
                            "/tmp/rw-net-test/repwatch.toml");
    return net::HttpOptions::from_settings(c.section("http"));
  };
  auto message = [&](const std::string& http) {
    try {
      load(http);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("timout = \"5s\"\n").find("timout"), std::string::npos);
  EXPECT_NE(message("timeout = \"fast\"\n").find("http.timeout"), std::string::npos);
  EXPECT_NE(message("retries = 99\n").find("between 0 and 10"), std::string::npos);
  EXPECT_NE(message("ca_file = \"/nonexistent/ca.pem\"\n").find("no such file"), std::string::npos);
  EXPECT_NE(message("verify = false\n").find("verify"), std::string::npos);  // no such knob
}
