// The "email" channel without SMTP: one RFC 5322 .eml file per delivery, and build_email(),
// the MIME message both email channels send.
#include <cctype>
#include <filesystem>

#include "alerts/channel.h"
#include "alerts/message.h"
#include "core/error.h"
#include "core/file.h"

namespace repwatch::alerts {

std::string build_email(const AlertsConfig& config, const Outgoing& m) {
  if (!m.content) throw Error("delivery " + std::to_string(m.delivery_id) + " has no content");
  Rendered r = render_email(*m.content, config.subject_prefix, m.date);
  Email e;
  e.from_name = config.from;
  e.from_address = config.from_address;
  e.to = {m.recipient};
  e.subject = r.subject;
  e.message_id = m.message_id;
  e.date = m.date;
  e.text = r.text;
  e.html = r.html;
  e.headers.push_back({"X-Repwatch-Alert", std::to_string(m.alert_id)});
  // The kind is a token such as "new_negative"; a stored payload could say anything, so only
  // token characters reach the header.
  std::string kind;
  for (char c : m.content->kind)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') kind += c;
  e.headers.push_back({"X-Repwatch-Kind", kind.empty() ? "alert" : kind});
  return to_mime(e);
}

namespace {

class EmlChannel : public Channel {
 public:
  explicit EmlChannel(const AlertsConfig& config) : config_(config) {}

  SendResult send(const Outgoing& m) override {
    namespace fs = std::filesystem;
    std::string bytes;
    try {
      bytes = build_email(config_, m);
    } catch (const Error& e) {
      return {SendResult::Status::kPermanent, e.what(), ""};
    }
    std::error_code ec;
    fs::create_directories(config_.eml_dir, ec);
    if (ec)
      return {SendResult::Status::kTemporary,
              "cannot create " + config_.eml_dir.string() + ": " + ec.message(), ""};
    // One name per delivery: writing it again after a crash replaces the same file, so the
    // directory holds each message exactly once.
    const fs::path file = config_.eml_dir / ("alert-" + std::to_string(m.alert_id) + "-delivery-" +
                                             std::to_string(m.delivery_id) + ".eml");
    try {
      write_file_atomically(file, bytes, ".tmp", 0640);
    } catch (const Error& e) {
      return {SendResult::Status::kTemporary, e.what(), ""};
    }
    return {SendResult::Status::kSent, "", "eml:" + file.string()};
  }

 private:
  AlertsConfig config_;
};

}  // namespace

std::unique_ptr<Channel> make_eml_channel(const AlertsConfig& config) {
  return std::make_unique<EmlChannel>(config);
}

std::unique_ptr<Channel> make_email_channel(const AlertsConfig& config) {
  if (config.smtp) return make_smtp_channel(config);
  return make_eml_channel(config);
}

}  // namespace repwatch::alerts
