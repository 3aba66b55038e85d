// The "webhook" channel: a Slack- or Teams-compatible JSON POST through net/'s HTTP client.
// The URL is a secret (it grants posting rights): it never appears in errors or in sent_via.
#include <memory>
#include <stop_token>

#include "alerts/channel.h"
#include "core/error.h"
#include "net/http.h"

namespace repwatch::alerts {

namespace {

class WebhookChannel : public Channel {
 public:
  explicit WebhookChannel(const AlertsConfig& config)
      : webhook_(*config.webhook), client_(webhook_.http) {
    client_.add_secret(*webhook_.url);
    // The secret parts of a webhook URL are its path segments and query values (Slack:
    // /services/T…/B…/<token>); a server echoing one of them in an error must not put it in the
    // outbox or the log (found by tests/reliability_secrets_test). Short parts ("services",
    // "v1") are public; the client ignores anything under 4 bytes anyway.
    const std::string& url = *webhook_.url;
    size_t start = url.find("://");
    start = url.find('/', start == std::string::npos ? 0 : start + 3);
    while (start != std::string::npos && start < url.size()) {
      size_t end = url.find_first_of("/?&=#", start + 1);
      std::string part = url.substr(start + 1, end == std::string::npos ? end : end - start - 1);
      if (part.size() >= 12) client_.add_secret(part);
      start = end;
    }
  }

  SendResult send(const Outgoing& m) override {
    if (!m.content) return {SendResult::Status::kPermanent, "no content", ""};
    const std::string via = "webhook:" + webhook_.name;
    net::Request req;
    req.method = "POST";
    req.url = *webhook_.url;
    req.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
    req.body = render_webhook(*m.content, webhook_.format, m.date);
    net::Response res;
    try {
      // Stopping aborts the request in flight (the client stays stopped: the sender is done).
      std::stop_callback abort(m.stop, [this] { client_.stop(); });
      res = client_.send(req);
    } catch (const SourceError& e) {
      std::string msg = client_.scrub(std::string("webhook ") + webhook_.name + ": " + e.what());
      if (m.stop.stop_requested()) return {SendResult::Status::kInterrupted, msg, via};
      // No connection, a timeout, TLS: the endpoint is down, not this message.
      SendResult down{SendResult::Status::kTemporary, msg, via};
      down.channel_down = true;
      return down;
    }
    if (res.ok()) return {SendResult::Status::kSent, "", via};
    std::string msg = client_.scrub("webhook " + webhook_.name + ": HTTP " +
                                    std::to_string(res.status) + ": " + net::body_excerpt(res));
    // 408, 429 and 5xx may pass; other 4xx (bad payload, revoked hook) will not.
    if (res.status == 408 || res.status == 429 || res.status >= 500)
      return {SendResult::Status::kTemporary, msg, via};
    return {SendResult::Status::kPermanent, msg, via};
  }

 private:
  WebhookConfig webhook_;
  net::HttpClient client_;
};

}  // namespace

std::unique_ptr<Channel> make_webhook_channel(const AlertsConfig& config) {
  if (!config.webhook || !config.webhook->url) throw ConfigError("[webhook] url is not set");
  return std::make_unique<WebhookChannel>(config);
}

}  // namespace repwatch::alerts
