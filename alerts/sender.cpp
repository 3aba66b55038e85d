#include "alerts/sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "alerts/content.h"
#include "alerts/message.h"
#include "core/error.h"
#include "db/sqlite.h"

namespace repwatch::alerts {

namespace {

constexpr int64_t kHour = 3600;
constexpr size_t kDigestTextLimit = 600;  // review text kept per digest entry

// Never held by the hourly limit: digests, tests, and a reply that discloses patient
// information (it must be fixed today; such alerts are rare).
bool is_digest_exempt(const db::DeliveryRow& d) {
  return d.kind == db::AlertKind::kDigest || d.kind == db::AlertKind::kTest ||
         d.kind == db::AlertKind::kReplyPhi;
}

}  // namespace

Sender::Sender(const AlertsConfig& config, const db::Database& db)
    : config_(config), outbox_(db), rng_(std::random_device{}()) {
  channels_["email"] = make_email_channel(config_);
  if (config_.webhook) channels_["webhook"] = make_webhook_channel(config_);
}

Sender::Sender(const AlertsConfig& config, const db::Database& db,
               std::map<std::string, std::unique_ptr<Channel>> channels)
    : config_(config), outbox_(db), channels_(std::move(channels)), rng_(std::random_device{}()) {}

Sender::~Sender() = default;

int64_t Sender::backoff(int failures) {
  int64_t b = config_.retry_initial_seconds;
  for (int i = 1; i < failures && b < config_.retry_max_seconds; ++i) b *= 2;
  b = std::min(b, config_.retry_max_seconds);
  return b + std::uniform_int_distribution<int64_t>(0, b / 4)(rng_);
}

SendStats Sender::deliver_due(int64_t now, int limit) {
  Round round;
  round.limit = limit;
  return deliver_due(now, round);
}

SendStats Sender::deliver_due(int64_t now, const Round& round) {
  SendStats stats;
  stats.digests = queue_digests(now);
  std::vector<db::DeliveryRow> due = outbox_.due(now, round.limit);
  std::set<db::DeliveryChannel> held_channels;
  stats.more = static_cast<int>(due.size()) >= round.limit;
  for (const db::DeliveryRow& d : due) {
    if (round.stop.stop_requested() || std::chrono::steady_clock::now() >= round.deadline) {
      stats.more = true;
      break;
    }
    if (auto down = down_.find(d.channel); down != down_.end() && down->second.until > now) {
      // Queued since the relay went down: it waits with the others (once per channel and
      // round: one statement holds them all).
      if (held_channels.insert(d.channel).second) {
        const auto [waiting, failed] =
            outbox_.hold_channel({d.channel, down->second.until, now - config_.retry_for_seconds,
                                  "waiting for the relay (" + down->second.error + ")"});
        stats.waiting += waiting;
        stats.failed += failed;
      }
      continue;
    }
    int64_t ends = 0;
    if (!d.urgent && in_quiet_hours(config_.quiet, config_.utc, now, &ends)) {
      outbox_.hold(d.id, ends);
      ++stats.held;
      continue;
    }
    if (d.channel == db::DeliveryChannel::kEmail && config_.max_emails_per_hour > 0 &&
        !is_digest_exempt(d) &&
        outbox_.sent_since(d.recipient, now - kHour) >= config_.max_emails_per_hour) {
      int64_t next;
      if (config_.digest.mode == DigestMode::kOff) {
        next = outbox_.oldest_sent_since(d.recipient, now - kHour).value_or(now) + kHour;
      } else {
        next = next_digest_time(config_.digest, config_.utc, now);
      }
      outbox_.defer_to_digest(d.id, next,
                              "hourly limit of " + std::to_string(config_.max_emails_per_hour) +
                                  " emails reached: goes out in the next digest");
      ++stats.deferred;
      continue;
    }
    attempt(d, now, stats, round.stop);
  }
  return stats;
}

SendResult Sender::deliver_one(int64_t delivery_id, int64_t now) {
  std::optional<db::DeliveryRow> d = outbox_.delivery(delivery_id);
  if (!d) throw Error("no alert delivery with id " + std::to_string(delivery_id));
  if (d->status != db::DeliveryStatus::kPending)
    throw Error("delivery " + std::to_string(delivery_id) + " is " + to_string(d->status) +
                ", not pending");
  SendStats stats;
  return attempt(*d, now, stats, {});
}

std::optional<int64_t> Sender::next_due() const { return outbox_.next_due(); }

void Sender::commit_sent(const db::DeliveryRow& d, int64_t now, const std::string& via) {
  // The server has the message: this mark must land, or the delivery goes out again when its
  // lease runs out. A long store on another connection can hold the write lock for longer
  // than the busy timeout; keep trying for as long as the lease lasts.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(4);
  for (;;) {
    try {
      outbox_.mark_sent(d.id, now, via);
      return;
    } catch (const DbError& e) {
      if (db::is_record_error(e) || std::chrono::steady_clock::now() >= give_up) throw;
      spdlog::warn(
          "alert delivery {}: sent, but the database is busy; trying again to record it: {}", d.id,
          e.what());
    }
  }
}

int64_t Sender::hold_channel(const db::DeliveryRow& d, const SendResult& result, int64_t now,
                             SendStats& stats) {
  const char* channel_name = db::to_string(d.channel);
  Backoff& b = down_[d.channel];
  ++b.failures;
  b.until = now + backoff(b.failures);
  b.error = result.error;
  const std::string why = "waiting for the relay (" + result.error + ")";
  const auto [waiting, failed] =
      outbox_.hold_channel({d.channel, b.until, now - config_.retry_for_seconds, why});
  stats.failed += failed;
  // One line for the outage (not one for the delivery that met it and one for the relay).
  spdlog::warn(
      "alert delivery {} to {}: {} is not available ({} failure{} in a row); it and {} other "
      "deliver{} wait until it is tried again in {}s: {}",
      d.id, d.recipient,
      d.channel == db::DeliveryChannel::kEmail ? "the SMTP relay"
                                               : std::string("the ") + channel_name + " endpoint",
      b.failures, b.failures == 1 ? "" : "s", waiting, waiting == 1 ? "y" : "ies", b.until - now,
      result.error);
  if (failed > 0)
    spdlog::error("alerts: {} deliver{} through {} failed for good: still not sent after {}s",
                  failed, failed == 1 ? "y" : "ies", channel_name, config_.retry_for_seconds);
  return b.until;
}

SendResult Sender::attempt(const db::DeliveryRow& d, int64_t now, SendStats& stats,
                           const std::stop_token& stop) {
  // The lease outlasts any transfer: a second sender skips this delivery meanwhile, and a
  // sender killed mid-transfer leaves it to be retried once the lease runs out.
  const int64_t lease =
      now + std::max<int64_t>(300, config_.smtp ? config_.smtp->timeout_seconds * 2 : 0);
  if (!outbox_.claim(d.id, now, lease))
    return {SendResult::Status::kTemporary, "being sent by another process", ""};

  SendResult result;
  const std::string channel_name = db::to_string(d.channel);
  auto channel = channels_.find(channel_name);
  std::optional<db::AlertRow> alert = outbox_.alert(d.alert_id);
  AlertContent content;
  if (!alert) {
    result = {SendResult::Status::kPermanent, "the alert of this delivery is gone", ""};
  } else if (channel == channels_.end()) {
    result = {SendResult::Status::kTemporary,
              "channel \"" + channel_name + "\" is not configured (see [smtp] / [webhook])", ""};
  } else {
    try {
      content = content_from_json(alert->payload);
      Outgoing out;
      out.delivery_id = d.id;
      out.alert_id = d.alert_id;
      out.recipient = d.recipient;
      out.message_id = d.message_id;
      out.date = now;
      out.content = &content;
      out.stop = stop;
      result = channel->second->send(out);
    } catch (const std::exception& e) {
      result = {SendResult::Status::kTemporary, e.what(), ""};
    }
  }

  switch (result.status) {
    case SendResult::Status::kSent:
      // Committed at once (no surrounding transaction; synchronous=FULL): a crash after this
      // line cannot resend.
      commit_sent(d, now, result.via);
      down_.erase(d.channel);
      ++stats.sent;
      spdlog::info("alert delivery {} sent to {} via {} ({})", d.id, d.recipient, result.via,
                   d.message_id);
      break;
    case SendResult::Status::kInterrupted:
      outbox_.release(d.id);
      ++stats.interrupted;
      spdlog::info("alert delivery {} to {} interrupted; it goes out at the next start", d.id,
                   d.recipient);
      break;
    case SendResult::Status::kTemporary:
      if (now - d.created_at >= config_.retry_for_seconds) {
        outbox_.mark_failed(
            d.id, "gave up after " + std::to_string(d.attempts + 1) + " attempts: " + result.error);
        ++stats.failed;
        spdlog::error("alert delivery {} to {} failed for good: {}", d.id, d.recipient,
                      result.error);
      } else {
        // A relay that is down is tried again as a whole (the oldest delivery first); a
        // message-level failure backs off this delivery alone.
        int64_t next = result.channel_down ? hold_channel(d, result, now, stats)
                                           : now + backoff(d.attempts + 1);
        outbox_.mark_retry(d.id, next, result.error);
        ++stats.retried;
        if (!result.channel_down)
          spdlog::warn("alert delivery {} to {} will be retried in {}s: {}", d.id, d.recipient,
                       next - now, result.error);
        break;
      }
      if (result.channel_down) hold_channel(d, result, now, stats);
      break;
    case SendResult::Status::kPermanent:
      outbox_.mark_failed(d.id, result.error);
      ++stats.failed;
      spdlog::error("alert delivery {} to {} failed: {}", d.id, d.recipient, result.error);
      break;
  }
  return result;
}

int Sender::queue_digests(int64_t now) {
  int queued = 0;
  for (const std::string& recipient : outbox_.recipients_with_batched(now)) {
    int64_t ends = 0;
    if (in_quiet_hours(config_.quiet, config_.utc, now, &ends)) continue;  // digests are not urgent
    db::Transaction tx(outbox_.database());
    std::vector<db::DeliveryRow> items = outbox_.batched_pending(recipient);
    if (items.empty()) continue;
    AlertContent c;
    c.kind = "digest";
    c.rule = "digest";
    c.headline = "Digest";
    c.period_start = now;
    c.period_end = now;
    for (const db::DeliveryRow& item : items) {
      std::optional<db::AlertRow> a = outbox_.alert(item.alert_id);
      if (!a) continue;
      c.period_start = std::min(c.period_start, a->created_at);
      DigestEntry e;
      e.alert_id = a->id;
      e.created_at = a->created_at;
      try {
        AlertContent ac = content_from_json(a->payload);
        e.headline = ac.headline;
        e.review = ac.review;
        e.average = ac.average;
        e.health = ac.health;
        e.reply_check = ac.reply_check;
      } catch (const Error& err) {
        e.headline = std::string(db::to_string(a->kind)) + " (unreadable: " + err.what() + ")";
      }
      if (e.review) {
        if (e.review->text.size() > kDigestTextLimit) e.review->text.resize(kDigestTextLimit);
        if (e.review->translated_text.size() > kDigestTextLimit)
          e.review->translated_text.resize(kDigestTextLimit);
        for (auto& tp : e.review->touchpoints) {
          tp.evidence.clear();  // offsets may point past the cut text; the digest lists names
          ++c.touchpoint_counts[tp.name.empty() ? tp.id : tp.name];
        }
      }
      if (e.average) ++c.touchpoint_counts[e.average->touchpoint_name];
      c.entries.push_back(std::move(e));
    }
    db::NewAlert digest;
    digest.dedupe_key = "digest:email:" + recipient + ":" + std::to_string(items.front().id) + ":" +
                        std::to_string(now);
    digest.rule = "digest";
    digest.kind = db::AlertKind::kDigest;
    digest.urgent = false;
    digest.payload = to_json(c);
    std::optional<int64_t> id = outbox_.insert_alert(digest, now);
    if (!id) continue;
    db::NewDelivery d;
    d.channel = db::DeliveryChannel::kEmail;
    d.recipient = recipient;
    // Urgent as a delivery: quiet hours were checked above; it must not be held again.
    d.urgent = true;
    d.next_attempt_at = now;
    d.message_id = make_message_id(config_.message_id_domain, now);
    outbox_.add_delivery(*id, d, now);
    const int64_t digest_delivery = outbox_.database().last_insert_rowid();
    for (const db::DeliveryRow& item : items) outbox_.mark_batched(item.id, digest_delivery);
    tx.commit();
    ++queued;
    spdlog::info("digest of {} alert(s) queued for {}", items.size(), recipient);
  }
  return queued;
}

}  // namespace repwatch::alerts
