// The "email" channel over SMTP, with libcurl: smtp:// (+ STARTTLS per [smtp] starttls) or
// smtps:// (implicit TLS), AUTH when a username is set. One SMTP transaction per delivery; the
// easy handle is kept so consecutive messages reuse the connection.
//
// What a failure means depends on the step of the SMTP dialogue it happened at (RFC 5321):
//   - a recipient's own 5xx at RCPT TO (an enhanced status 5.1.x or 5.2.x, or a bare 550, 551,
//     552 or 553: no such mailbox, mailbox disabled or full) fails that delivery for good;
//   - any other reply at RCPT TO (a 4xx, a policy refusal such as "554 5.7.1 Relay access
//     denied"), and any reply after the message content, is retried with backoff: the next
//     message, or the same one later, may pass;
//   - no connection, a timeout anywhere, and any 4xx/5xx at the greeting, EHLO/HELO, STARTTLS,
//     AUTH, MAIL FROM or DATA is about the relay or the sender, not this message: an outage to
//     wait out. The result is kTemporary with channel_down set, and the Sender backs the relay
//     off instead of trying the rest of the backlog against it.
#include <curl/curl.h>

#include <cctype>
#include <cstring>
#include <memory>
#include <string_view>

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

// The step of the SMTP dialogue a reply answers: the last command sent.
enum class Step {
  kGreeting,
  kHello,
  kStartTls,
  kAuth,
  kMailFrom,
  kRcptTo,
  kData,
  kContent,
  kOther
};

const char* step_name(Step s) {
  switch (s) {
    case Step::kGreeting:
      return "the greeting";
    case Step::kHello:
      return "EHLO/HELO";
    case Step::kStartTls:
      return "STARTTLS";
    case Step::kAuth:
      return "AUTH";
    case Step::kMailFrom:
      return "MAIL FROM";
    case Step::kRcptTo:
      return "RCPT TO";
    case Step::kData:
      return "DATA";
    case Step::kContent:
      return "the end of the message";
    case Step::kOther:
      break;
  }
  return "the dialogue";
}

// The server's replies and where in the dialogue they came (never what we send: that
// includes AUTH; only the command's verb is looked at).
struct Transcript {
  Step step = Step::kGreeting;  // what the next reply answers
  std::string last_reply;       // the last complete reply line
  std::string error_reply;      // the last reply line with a 4xx/5xx code
  Step error_step = Step::kOther;
};

int reply_code(std::string_view line) {
  if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
      !std::isdigit(static_cast<unsigned char>(line[1])) ||
      !std::isdigit(static_cast<unsigned char>(line[2])))
    return 0;
  return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

void on_command(Transcript& t, std::string_view line) {
  std::string verb;
  for (char c : line) {
    if (c == ' ' || c == '\r' || c == '\n' || verb.size() > 8) break;
    verb += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (verb == "EHLO" || verb == "HELO")
    t.step = Step::kHello;
  else if (verb == "STARTTLS")
    t.step = Step::kStartTls;
  else if (verb == "AUTH")
    t.step = Step::kAuth;
  else if (verb == "MAIL")
    t.step = Step::kMailFrom;
  else if (verb == "RCPT")
    t.step = Step::kRcptTo;
  else if (verb == "DATA")
    t.step = Step::kData;
  else if (verb == "QUIT" || verb == "RSET" || verb == "NOOP")
    t.step = Step::kOther;
  // Anything else (an AUTH continuation) belongs to the step in progress.
}

void on_reply(Transcript& t, std::string_view raw) {
  std::string clean;
  for (char c : raw) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\r' || c == '\n') continue;
    clean += (u < 0x20 || u == 0x7F) ? ' ' : c;
  }
  if (clean.size() > 300) clean.resize(300);
  t.last_reply = clean;
  int code = reply_code(clean);
  if (code >= 400 && code < 600) {
    t.error_reply = clean;
    t.error_step = t.step;
  } else if (code >= 200 && t.step != Step::kOther) {
    t.error_reply.clear();  // recovered (EHLO refused, HELO accepted): not what failed
  }
  if (t.step == Step::kData && code == 354) t.step = Step::kContent;
}

int debug_cb(CURL*, curl_infotype type, char* data, size_t size, void* userp) {
  auto* t = static_cast<Transcript*>(userp);
  if (type == CURLINFO_HEADER_OUT) on_command(*t, std::string_view(data, size));
  if (type == CURLINFO_HEADER_IN) on_reply(*t, std::string_view(data, size));
  return 0;
}

int progress_cb(void* userp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::stop_token*>(userp)->stop_requested() ? 1 : 0;
}

// "550 5.1.1 <x>: ..." -> "5.1.1"; "" when the reply has no enhanced status code (RFC 3463).
std::string enhanced_status(std::string_view reply) {
  if (reply.size() < 5) return "";
  size_t i = 4;
  size_t end = reply.find(' ', i);
  std::string_view code = reply.substr(i, end == std::string_view::npos ? end : end - i);
  if (code.size() < 5 || code[1] != '.' || (code[0] != '2' && code[0] != '4' && code[0] != '5'))
    return "";
  for (char c : code)
    if (c != '.' && !std::isdigit(static_cast<unsigned char>(c))) return "";
  return std::string(code);
}

// A 5xx at RCPT TO that is about the mailbox itself, not the relay's policy.
bool recipients_own(const std::string& reply) {
  int code = reply_code(reply);
  if (code < 500 || code >= 600) return false;
  std::string enhanced = enhanced_status(reply);
  if (!enhanced.empty()) return enhanced.rfind("5.1.", 0) == 0 || enhanced.rfind("5.2.", 0) == 0;
  return code == 550 || code == 551 || code == 552 || code == 553;
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
    // Checked about once a second even while the server says nothing.
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &m.stop);
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
    if (rc == CURLE_ABORTED_BY_CALLBACK && m.stop.stop_requested())
      return {SendResult::Status::kInterrupted,
              "SMTP " + via_ + ": stopped (repwatchd is stopping)", via_};

    const std::string what = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    // The server's own words first (that is what an admin needs), then where and how. A reply
    // counts only when the failure came with one: after a timeout the last reply is a 250.
    const bool replied = !transcript.error_reply.empty() && rc != CURLE_OPERATION_TIMEDOUT;
    std::string msg = "SMTP " + via_ + ": " + what;
    if (replied)
      msg = transcript.error_reply + " (at " + step_name(transcript.error_step) + "; " + what +
            ", " + via_ + ")";
    // Never let a secret through, whatever the server echoed.
    if (smtp_.password && !smtp_.password->empty()) {
      for (size_t p; (p = msg.find(*smtp_.password)) != std::string::npos;)
        msg.replace(p, smtp_.password->size(), "***");
    }
    if (replied && transcript.error_step == Step::kRcptTo) {
      if (recipients_own(transcript.error_reply))
        return {SendResult::Status::kPermanent, msg, via_};
      return {SendResult::Status::kTemporary, msg, via_};
    }
    if (replied && transcript.error_step == Step::kContent)
      return {SendResult::Status::kTemporary, msg, via_};
    // No connection, a timeout, or the relay refusing us before any recipient was named.
    SendResult down{SendResult::Status::kTemporary, msg, via_};
    down.channel_down = true;
    return down;
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
