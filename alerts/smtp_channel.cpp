// The "email" channel over SMTP, with libcurl: smtp:// (+ STARTTLS per [smtp] starttls) or
// smtps:// (implicit TLS), AUTH when a username is set. One SMTP transaction per delivery; the
// easy handle is kept so consecutive messages reuse the connection.
#include <curl/curl.h>

#include <cstring>
#include <memory>

#include "alerts/channel.h"
#include "alerts/message.h"
#include "core/error.h"
#include "net/http.h"

namespace repwatch::alerts {

namespace {

struct CurlDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t read_cb(char* buf, size_t size, size_t nitems, void* userp) {
  auto* u = static_cast<Upload*>(userp);
  size_t n = std::min(size * nitems, u->data->size() - u->pos);
  std::memcpy(buf, u->data->data() + u->pos, n);
  u->pos += n;
  return n;
}

// Collects the server's replies (never what we send: that includes AUTH).
struct Transcript {
  std::string last_reply;  // the last complete reply line
  std::string last_error;  // the last reply line with a 4xx/5xx code
};

int debug_cb(CURL*, curl_infotype type, char* data, size_t size, void* userp) {
  if (type != CURLINFO_HEADER_IN) return 0;
  auto* t = static_cast<Transcript*>(userp);
  std::string line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  std::string clean;
  for (char c : line) {
    unsigned char u = static_cast<unsigned char>(c);
    clean += (u < 0x20 || u == 0x7F) ? ' ' : c;
  }
  if (clean.size() > 300) clean.resize(300);
  t->last_reply = clean;
  if (clean.size() >= 3 && (clean[0] == '4' || clean[0] == '5') && std::isdigit(clean[1]) &&
      std::isdigit(clean[2]))
    t->last_error = clean;
  return 0;
}

class SmtpChannel : public Channel {
 public:
  explicit SmtpChannel(const AlertsConfig& config) : config_(config), smtp_(*config.smtp) {
    net::global_init();
    curl_.reset(curl_easy_init());
    if (!curl_) throw Error("smtp: curl_easy_init failed");
    via_ = net::redact_url(smtp_.url);
  }

  SendResult send(const Outgoing& m) override {
    std::string bytes;
    try {
      bytes = build_email(config_, m);
    } catch (const Error& e) {
      return {SendResult::Status::kPermanent, e.what(), ""};
    }
    CURL* h = curl_.get();
    curl_easy_reset(h);
    Upload upload{&bytes};
    Transcript transcript;
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::unique_ptr<curl_slist, SlistDeleter> rcpt(
        curl_slist_append(nullptr, ("<" + m.recipient + ">").c_str()));
    const std::string from = "<" + config_.from_address + ">";

    curl_easy_setopt(h, CURLOPT_URL, smtp_.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, std::min<long>(30, smtp_.timeout_seconds));
    curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(smtp_.timeout_seconds));
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(bytes.size()));
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);  // feeds debug_cb; nothing is printed
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, &transcript);
    if (smtp_.url.rfind("smtps://", 0) != 0) {
      long use_ssl = smtp_.starttls == "required" ? CURLUSESSL_ALL
                     : smtp_.starttls == "try"    ? CURLUSESSL_TRY
                                                  : CURLUSESSL_NONE;
      curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
    }
    if (!smtp_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, smtp_.ca_file.c_str());
    if (!smtp_.username.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, smtp_.username.c_str());
      if (smtp_.password) curl_easy_setopt(h, CURLOPT_PASSWORD, smtp_.password->c_str());
    }

    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) return {SendResult::Status::kSent, "", via_};

    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    std::string what = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    std::string server =
        transcript.last_error.empty() ? transcript.last_reply : transcript.last_error;
    // The server's own words first (that is what an admin needs), then where and how.
    std::string msg = "SMTP " + via_ + ": " + what;
    if (!server.empty() && (code >= 400 || rc == CURLE_LOGIN_DENIED))
      msg = server + " (" + what + ", " + via_ + ")";
    // Never let a secret through, whatever the server echoed.
    if (smtp_.password && !smtp_.password->empty()) {
      for (size_t p; (p = msg.find(*smtp_.password)) != std::string::npos;)
        msg.replace(p, smtp_.password->size(), "***");
    }
    // A 5xx reply to this message is permanent; a rejected login is a configuration problem
    // that the next attempt may not have (keep retrying, the error shows in `repwatch alerts`).
    if (code >= 500 && code < 600 && rc != CURLE_LOGIN_DENIED)
      return {SendResult::Status::kPermanent, msg, via_};
    return {SendResult::Status::kTemporary, msg, via_};
  }

 private:
  AlertsConfig config_;
  SmtpConfig smtp_;
  std::unique_ptr<CURL, CurlDeleter> curl_;
  std::string via_;
};

}  // namespace

std::unique_ptr<Channel> make_smtp_channel(const AlertsConfig& config) {
  if (!config.smtp) throw ConfigError("[smtp] url is not set");
  return std::make_unique<SmtpChannel>(config);
}

}  // namespace repwatch::alerts
