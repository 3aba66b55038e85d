// repwatch/alerts/channel.h - how one delivery leaves the machine.
//
// A Channel sends one rendered alert to one recipient and says how it went; the Sender
// (sender.h) owns the outbox bookkeeping (claims, retries, backoff, digests). A channel never
// blocks longer than its timeout, and less when Outgoing::stop is requested. Channels:
//   "email"    SmtpChannel (libcurl: smtp:// with STARTTLS, smtps://, AUTH) or, when no
//              [smtp] url is configured, EmlChannel (one RFC 5322 .eml file per delivery)
//   "webhook"  WebhookChannel: Slack/Teams-compatible JSON POST
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>

#include "alerts/content.h"
#include "alerts/rules.h"

namespace repwatch::alerts {

struct Outgoing {
  int64_t delivery_id = 0;
  int64_t alert_id = 0;
  std::string recipient;   // an address, or the webhook's name
  std::string message_id;  // stable per delivery
  int64_t date = 0;        // the Date: of this attempt
  const AlertContent* content = nullptr;
  // When a stop is requested (repwatchd is stopping), the transfer in flight is aborted within
  // about a second, whatever the server does, and send() returns kInterrupted.
  std::stop_token stop;
};

struct SendResult {
  enum class Status {
    kSent,         // accepted: mark sent
    kTemporary,    // an outage or a 4xx: retry with backoff, until retry_for
    kPermanent,    // this recipient refused for good, or a message that can never be sent
    kInterrupted,  // aborted by Outgoing::stop: no verdict, retried by the next sender
  };
  Status status = Status::kSent;
  std::string error;  // the server's own message when there is one; never a secret
  std::string via;    // where it went: "smtp://mail.example:587", "eml:/var/.../x.eml"
  // kTemporary only: the failure is the relay's or the sender's, not this message's or its
  // recipient's (no connection, a timeout, a refusal at the greeting, EHLO, STARTTLS, AUTH,
  // MAIL FROM or DATA). Every other delivery through this channel would fail the same way
  // now, so the Sender backs off the channel instead of trying them one after another.
  bool channel_down = false;
};

class Channel {
 public:
  virtual ~Channel() = default;
  virtual SendResult send(const Outgoing& message) = 0;
};

// The MIME message for an email delivery (the same bytes for SMTP and .eml).
std::string build_email(const AlertsConfig& config, const Outgoing& message);

// Each throws ConfigError when its settings cannot work (no [smtp] url, no webhook url).
std::unique_ptr<Channel> make_smtp_channel(const AlertsConfig& config);
std::unique_ptr<Channel> make_eml_channel(const AlertsConfig& config);
std::unique_ptr<Channel> make_webhook_channel(const AlertsConfig& config);
// The "email" channel the config asks for: SMTP when [smtp] has a url, else .eml files.
std::unique_ptr<Channel> make_email_channel(const AlertsConfig& config);

}  // namespace repwatch::alerts
