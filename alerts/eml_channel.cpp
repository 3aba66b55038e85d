// The "email" channel without SMTP: one RFC 5322 .eml file per delivery, and build_email(),
// the MIME message both email channels send.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "alerts/channel.h"
#include "alerts/message.h"
#include "core/error.h"

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
    const fs::path tmp = file.string() + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
      return {SendResult::Status::kTemporary,
              "cannot write " + tmp.string() + ": " + std::strerror(errno), ""};
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return {SendResult::Status::kTemporary,
                "cannot write " + tmp.string() + ": " + std::strerror(err), ""};
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      ::unlink(tmp.c_str());
      return {SendResult::Status::kTemporary, "cannot write " + tmp.string(), ""};
    }
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return {SendResult::Status::kTemporary,
              "cannot rename to " + file.string() + ": " + std::strerror(err), ""};
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
