#include "alerts/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "alerts/health.h"
#include "alerts/message.h"
#include "core/error.h"
#include "core/text.h"
#include "db/alert_queries.h"
#include "normalize/limits.h"
#include "replies/checker.h"

namespace repwatch::alerts {

namespace {

// Recipients of one alert, deduplicated (addresses case-insensitively), in a stable order.
class Recipients {
 public:
  void add(db::DeliveryChannel channel, const std::string& recipient) {
    if (recipient.empty()) return;
    if (seen_.insert({channel, lower(recipient)}).second) list_.push_back({channel, recipient});
  }
  const std::vector<std::pair<db::DeliveryChannel, std::string>>& list() const { return list_; }

 private:
  std::set<std::pair<db::DeliveryChannel, std::string>> seen_;
  std::vector<std::pair<db::DeliveryChannel, std::string>> list_;
};

constexpr size_t kMaxSnapshotText = 20000;  // bytes of review text kept in an alert

// The touchpoints whose owners hear of a review: those it does not praise.
std::vector<std::string> owners_for(const Analysis& analysis) {
  std::vector<std::string> out;
  for (const auto& t : analysis.touchpoints)
    if (t.score <= 0) out.push_back(t.touchpoint);
  return out;
}

}  // namespace

std::string headline_for(const Rule& rule) {
  switch (rule.type) {
    case RuleType::kNewNegative:
      return "New negative review";
    case RuleType::kEditNegative:
      return "Review edited to negative";
    case RuleType::kNoReply: {
      int64_t h = rule.after_seconds / 3600;
      if (rule.after_seconds % 86400 == 0 && rule.after_seconds >= 86400)
        return "Negative review without a reply after " +
               std::to_string(rule.after_seconds / 86400) +
               (rule.after_seconds == 86400 ? " day" : " days");
      if (h >= 1)
        return "Negative review without a reply after " + std::to_string(h) +
               (h == 1 ? " hour" : " hours");
      return "Negative review without a reply after " + std::to_string(rule.after_seconds / 60) +
             " minutes";
    }
    case RuleType::kTouchpointAverage:
      return "Touchpoint below its standard";
    case RuleType::kReplyPhi:
      return "Posted reply discloses patient information";
    case RuleType::kRemovedNegative:
      return "Negative review removed";
    case RuleType::kSourceHealth:
      return "Source health";
  }
  return "Alert";
}

AlertEngine::AlertEngine(AlertsConfig config, const db::Database& db)
    : AlertEngine(std::make_shared<const AlertsConfig>(std::move(config)), db) {}

AlertEngine::AlertEngine(std::shared_ptr<const AlertsConfig> config, const db::Database& db)
    : config_(std::move(config)), db_(db), outbox_(db) {}

db::ReviewHook AlertEngine::hook() {
  return [this](const db::StoredEvent& e) {
    if (e.db && e.db != &db_)
      throw Error("alerts: the hook of one database connection was called for another");
    return on_event(e);
  };
}

int AlertEngine::on_event(const db::StoredEvent& e) {
  if (e.change == db::StoredEvent::Change::kRemoved)
    return on_removed(e.source, e.review, e.analysis, e.upsert.review_id, e.upsert.revision,
                      e.poll_started_at);
  return on_review(e.source, e.review, e.analysis, e.upsert, e.state, e.poll_started_at);
}

db::PollHook AlertEngine::poll_hook() {
  return [this](const db::PollEvent& e) {
    if (e.db && e.db != &db_)
      throw Error("alerts: the poll hook of one database connection was called for another");
    return on_poll(e);
  };
}

ReviewSnapshot AlertEngine::snapshot(const Review& review, const Analysis& analysis,
                                     int64_t review_id, int revision,
                                     const std::string& source_type) const {
  ReviewSnapshot s;
  s.review_id = review_id;
  s.revision = revision;
  s.source_id = review.source_id;
  s.source_type = source_type;
  s.location_id = review.location_id;
  s.location_name = config_->location_name(review.location_id);
  s.author = review.author;
  s.rating = review.rating;
  s.raw_rating = review.raw_rating;
  s.scale = review.scale.to_string();
  // Cut on a character boundary and marked, so the alert says it is not the whole review; the
  // evidence kept is what lies in the part shown (of the text analysed: the translation when
  // the review was analysed on it).
  s.text = truncate_utf8(review.text, kMaxSnapshotText);
  s.translated_text = truncate_utf8(review.translated_text, kMaxSnapshotText);
  s.on_translation = analysis.on_translation && !review.translated_text.empty();
  const std::string& analyzed = s.on_translation ? s.translated_text : s.text;
  const size_t full = s.on_translation ? review.translated_text.size() : review.text.size();
  const size_t shown =
      analyzed.size() == full ? analyzed.size() : analyzed.size() - kTruncationMarker.size();
  s.created_at = review.created_at;
  s.updated_at = review.updated_at;
  s.reply_text = review.reply_text;
  s.url = review.url;
  s.sentiment = analysis.score;
  s.label = to_string(analysis.label);
  for (const TouchpointResult& t : analysis.touchpoints) {
    TouchpointSnapshot ts;
    ts.id = t.touchpoint;
    ts.name = config_->touchpoint_name(t.touchpoint);
    ts.score = t.score;
    for (const Evidence& e : t.evidence)
      if (static_cast<size_t>(e.offset) + e.length <= shown) ts.evidence.push_back(e);
    s.touchpoints.push_back(std::move(ts));
  }
  return s;
}

AlertContent AlertEngine::review_content(const Rule& rule, Review review,
                                         const std::string& location, const Analysis& analysis,
                                         int64_t review_id, int revision,
                                         const std::string& source_type) const {
  review.location_id = location;
  AlertContent c;
  c.kind = to_string(rule.type);
  c.rule = rule.name;
  c.headline = headline_for(rule);
  c.review = snapshot(review, analysis, review_id, revision, source_type);
  return c;
}

int AlertEngine::queue(const Rule& rule, const std::string& dedupe_key, const AlertContent& content,
                       const Subject& about, int64_t now, Urgency urgency) {
  const bool urgent = urgency == Urgency::kAsRule && rule.urgent;
  const std::string& location_id = about.location_id;
  db::NewAlert a;
  a.dedupe_key = dedupe_key;
  a.rule = rule.name;
  a.kind = alert_kind(rule.type);
  a.review_id = about.review_id;
  a.revision = about.revision;
  a.location_id = about.location_id;
  a.source_id = about.source_id;
  a.urgent = urgent;
  a.payload = to_json(content);
  std::optional<int64_t> id = outbox_.insert_alert(a, now);
  if (!id) return 0;  // queued before: a re-poll, a restart, an overlapping run

  Recipients r;
  for (const std::string& g : rule.notify) {
    if (g == "marketing" || g == "managers") {
      for (const auto& addr : config_->group(g, location_id))
        r.add(db::DeliveryChannel::kEmail, addr);
    } else if (g == "owners") {
      for (const auto& tp : about.owner_touchpoints)
        for (const auto& addr : config_->owners_of(tp, location_id))
          r.add(db::DeliveryChannel::kEmail, addr);
    } else if (g == "webhook" && config_->webhook) {
      r.add(db::DeliveryChannel::kWebhook, config_->webhook->name);
    }
  }
  for (const auto& addr : rule.to) r.add(db::DeliveryChannel::kEmail, addr);
  // reply_phi, source_health: the marketing list when the rule reaches no one else by email.
  const auto& listed = r.list();
  if (std::none_of(listed.begin(), listed.end(),
                   [](const auto& e) { return e.first == db::DeliveryChannel::kEmail; }))
    for (const std::string& g : rule.fallback)
      for (const auto& addr : config_->group(g, location_id))
        r.add(db::DeliveryChannel::kEmail, addr);

  const bool batch = !urgent && config_->digest.mode != DigestMode::kOff;
  const int64_t digest_at = batch ? next_digest_time(config_->digest, config_->utc, now) : now;
  for (const auto& [channel, recipient] : r.list()) {
    db::NewDelivery d;
    d.channel = channel;
    d.recipient = recipient;
    d.batch = batch && channel == db::DeliveryChannel::kEmail;
    d.urgent = urgent;
    d.next_attempt_at = d.batch ? digest_at : now;
    d.message_id = make_message_id(config_->message_id_domain, now);
    outbox_.add_delivery(*id, d, now);
  }
  if (r.list().empty())
    spdlog::warn("alert {} ({}) has no recipients: set [alerts] marketing or touchpoint owners",
                 *id, dedupe_key);
  else
    spdlog::info("alert {} queued: {} for {} recipient(s)", *id, dedupe_key, r.list().size());
  return 1;
}

int AlertEngine::on_review(const SourceConfig& source, const Review& review,
                           const Analysis& analysis, const db::UpsertResult& upsert,
                           const db::PollState& state, int64_t poll_started_at) {
  if (!config_->enabled || upsert.outcome == db::UpsertOutcome::kUnchanged) return 0;
  const std::string location = review.location_id.empty() ? source.location : review.location_id;

  // Is an inserted review new, or history the source had before we watched it?
  auto new_at = [&](int64_t t) {
    if (config_->alert_on_first_sync) return true;
    if (!state.first_sync_at) return t >= poll_started_at;
    return t >= *state.first_sync_at - config_->backdate_grace_seconds;
  };
  const bool is_new = new_at(review.created_at);

  int queued = 0;
  for (const Rule& rule : config_->rules) {
    if (rule.type != RuleType::kNewNegative && rule.type != RuleType::kEditNegative) continue;
    if (!rule.applies_to(location, review.source_id)) continue;
    if (upsert.outcome == db::UpsertOutcome::kInserted) {
      if (rule.type != RuleType::kNewNegative || !is_new) continue;
      if (!rule.is_negative(review, analysis)) continue;
    } else {  // kEdited
      if (rule.type != RuleType::kEditNegative) continue;
      // During the first sync an "edit" is the history loading (an export listing a review
      // twice, a respondent's answers on several rows): as quiet as the inserts.
      if (!state.first_sync_at && !is_new) continue;
      if (!rule.is_negative(review, analysis)) continue;
      if (upsert.previous) {
        const Analysis& before = upsert.previous_analysis ? *upsert.previous_analysis : analysis;
        if (rule.is_negative(*upsert.previous, before)) continue;  // was negative already
      }
      // One alert per review per rule, ever: a review that turns negative again after an
      // edit back (negative, positive, negative) was alerted on the first time.
      if (outbox_.has_alert_of(rule.name, upsert.review_id)) continue;
    }
    AlertContent c = review_content(rule, review, location, analysis, upsert.review_id,
                                    upsert.revision, source.type);
    if (upsert.outcome == db::UpsertOutcome::kInserted) c.review->first_seen_at = poll_started_at;
    std::string key =
        rule.name + ":" + std::to_string(upsert.review_id) + ":" + std::to_string(upsert.revision);
    queued +=
        queue(rule, key, c,
              {upsert.review_id, upsert.revision, location, review.source_id, owners_for(analysis)},
              poll_started_at);
  }
  for (const Rule& rule : config_->rules)
    if (rule.type == RuleType::kReplyPhi)
      queued += on_reply(rule, source, review, analysis, upsert, location,
                         is_new || (review.reply_at && new_at(*review.reply_at)), poll_started_at);
  return queued;
}

int AlertEngine::on_removed(const SourceConfig& source, const Review& review,
                            const Analysis& analysis, int64_t review_id, int revision,
                            int64_t removed_at) {
  if (!config_->enabled) return 0;
  const std::string location = review.location_id.empty() ? source.location : review.location_id;
  int queued = 0;
  for (const Rule& rule : config_->rules) {
    if (rule.type != RuleType::kRemovedNegative) continue;
    if (!rule.applies_to(location, review.source_id)) continue;
    if (!rule.is_negative(review, analysis)) continue;
    AlertContent c =
        review_content(rule, review, location, analysis, review_id, revision, source.type);
    c.review->removed_at = removed_at;
    std::string key =
        rule.name + ":" + std::to_string(review_id) + ":removed:" + std::to_string(removed_at);
    queued +=
        queue(rule, key, c, {review_id, revision, location, review.source_id, owners_for(analysis)},
              removed_at);
  }
  return queued;
}

int AlertEngine::on_poll(const db::PollEvent& e) {
  if (!config_->enabled) return 0;
  const std::string& location = e.source.location;
  // A source's health is judged by the first source_health rule that applies to it, so that a
  // rule for some sources listed before a general one gives those their own options.
  for (const Rule& rule : config_->rules) {
    if (rule.type != RuleType::kSourceHealth || !rule.applies_to(location, e.source.id)) continue;
    return e.ok ? health_success(rule, e, location) : health_failure(rule, e, location);
  }
  return 0;
}

HealthSnapshot AlertEngine::health_snapshot(const db::PollEvent& e, const std::string& location,
                                            const std::string& state) const {
  HealthSnapshot h;
  h.state = state;
  h.source_id = e.source.id;
  h.source_type = e.source.type;
  h.location_id = location;
  h.location_name = config_->location_name(location);
  h.at = e.now;
  h.next_poll_at = e.after.next_poll_at;
  return h;
}

namespace {

std::string health_key(const Rule& rule, const std::string& source, const std::string& state,
                       int64_t start) {
  return rule.name + ":" + source + ":" + state + ":" + std::to_string(start);
}

AlertContent health_content(const Rule& rule, HealthSnapshot h) {
  AlertContent c;
  c.kind = to_string(rule.type);
  c.rule = rule.name;
  c.headline = health_headline(h.state);
  c.health = std::move(h);
  return c;
}

}  // namespace

AlertEngine::Subject AlertEngine::about_source(const std::string& location,
                                               const std::string& source_id) {
  Subject s;
  s.location_id = location;
  s.source_id = source_id;
  return s;
}

int AlertEngine::health_failure(const Rule& rule, const db::PollEvent& e,
                                const std::string& location) {
  const db::PollState& st = e.after;
  const std::optional<SourceError::Kind> kind = st.last_error_kind;
  const SourceState state = state_of_failure(kind);
  std::string name;
  Urgency urgency = Urgency::kNotUrgent;
  switch (state) {
    case SourceState::kNeedsAttention:
      name = "needs_attention";
      urgency = Urgency::kAsRule;
      break;
    case SourceState::kUnavailable:
      name = "unavailable";
      break;
    default:
      if (st.consecutive_failures < rule.health.after_failures) return 0;  // may pass by itself
      name = "failing";
      break;
  }
  const int64_t start = st.failing_since.value_or(e.now);
  // A run only gets worse in its emails: after "needs attention" or "unavailable", a transient
  // error in the same run is not news.
  if (name == "failing")
    for (const char* worse : {"needs_attention", "unavailable"})
      if (outbox_.has_alert(health_key(rule, e.source.id, worse, start))) return 0;
  HealthSnapshot h = health_snapshot(e, location, name);
  h.error_kind = kind ? to_string(*kind) : "";
  h.error = st.last_error;
  h.advice = st.advice.empty() ? default_advice(kind, e.source.type) : st.advice;
  h.since = start;
  h.failed_polls = st.consecutive_failures;
  h.last_success_at = st.last_success_at;
  return queue(rule, health_key(rule, e.source.id, name, start), health_content(rule, h),
               about_source(location, e.source.id), e.now, urgency);
}

int AlertEngine::health_success(const Rule& rule, const db::PollEvent& e,
                                const std::string& location) {
  int queued = 0;
  // A run of failed polls ended: one "recovered" if any of its alerts was queued (naming the
  // worst of them).
  if (e.before.consecutive_failures > 0 && e.before.failing_since) {
    const int64_t start = *e.before.failing_since;
    std::string ended;
    for (const char* state : {"failing", "unavailable", "needs_attention"})
      if (outbox_.has_alert(health_key(rule, e.source.id, state, start))) ended = state;
    if (!ended.empty()) {
      HealthSnapshot h = health_snapshot(e, location, "recovered");
      h.episode = ended;
      h.since = start;
      h.failed_polls = e.before.consecutive_failures;
      h.last_success_at = e.before.last_success_at;
      h.new_reviews = e.inserted;
      queued +=
          queue(rule, health_key(rule, e.source.id, "recovered", start), health_content(rule, h),
                about_source(location, e.source.id), e.now, Urgency::kNotUrgent);
    }
  }

  // A silence alerted before ended with this poll's new reviews.
  if (e.inserted > 0) {
    if (std::optional<int64_t> start = last_quiet_start(rule, e.source.id);
        start && e.after.last_new_at && *e.after.last_new_at > *start) {
      HealthSnapshot h = health_snapshot(e, location, "recovered");
      h.episode = "quiet";
      h.since = *start;
      h.new_reviews = e.inserted;
      queued += queue(rule, health_key(rule, e.source.id, "recovered-quiet", *start),
                      health_content(rule, h), about_source(location, e.source.id), e.now,
                      Urgency::kNotUrgent);
    }
    return queued;  // not quiet now
  }
  // The poll that ends a run of failures judges no silence: the failures explain it, and one
  // email (recovered) is enough for that poll. The next one judges.
  if (e.before.consecutive_failures > 0) return queued;

  const QuietJudgement q =
      judge_quiet(e.after, newest_review_dates(db_, e.source.id), rule.health, e.now);
  if (!q.quiet) return queued;
  HealthSnapshot h = health_snapshot(e, location, "quiet");
  h.advice = quiet_advice(e.source.type, q.empty);
  h.since = q.since;
  h.last_success_at = e.after.last_success_at;
  h.usual_gap_seconds = q.usual_gap;
  h.threshold_seconds = q.threshold;
  queued += queue(rule, health_key(rule, e.source.id, "quiet", q.since), health_content(rule, h),
                  about_source(location, e.source.id), e.now, Urgency::kNotUrgent);
  return queued;
}

std::optional<int64_t> AlertEngine::last_quiet_start(const Rule& rule,
                                                     const std::string& source_id) const {
  // Keys "<rule>:<source>:quiet:<start>": the range [prefix, prefix with ':' -> ';').
  const std::string prefix = rule.name + ":" + source_id + ":quiet:";
  const std::optional<std::string> key = outbox_.newest_key_with_prefix(prefix);
  if (!key) return std::nullopt;
  try {
    return std::stoll(key->substr(prefix.size()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

int AlertEngine::on_reply(const Rule& rule, const SourceConfig& source, const Review& review,
                          const Analysis& analysis, const db::UpsertResult& upsert,
                          const std::string& location, bool reply_is_new, int64_t poll_started_at) {
  if (!config_->reply_checker || review.reply_text.empty()) return 0;
  if (!rule.applies_to(location, review.source_id)) return 0;
  const std::string text_id = replies::fingerprint(review.reply_text);
  if (upsert.outcome == db::UpsertOutcome::kInserted) {
    if (!reply_is_new) return 0;  // history the first sync did not return
  } else if (upsert.previous && replies::fingerprint(upsert.previous->reply_text) == text_id) {
    return 0;  // an edit of the review, not of the reply
  }
  replies::ReviewContext context{review.author, review.text};
  replies::Check check = config_->reply_checker->check(review.reply_text, &context);
  if (check.clean()) return 0;

  AlertContent c = review_content(rule, review, location, analysis, upsert.review_id,
                                  upsert.revision, source.type);
  c.review->reply_text = truncate_utf8(review.reply_text, kMaxSnapshotText);  // findings past it go
  ReplyCheckSnapshot rc;
  rc.safe_reply = config_->reply_checker->safe_reply();
  for (const replies::Finding& f : check.findings) {
    if (static_cast<size_t>(f.offset) + f.length > c.review->reply_text.size()) continue;
    ReplyFindingSnapshot s;
    for (replies::Kind k : f.kinds) s.kinds.push_back(replies::to_string(k));
    const replies::KindInfo& info = config_->reply_checker->kind(f.kind());
    s.kind_name = info.name;
    s.why = info.why;
    s.hint = info.hint;
    s.offset = f.offset;
    s.length = f.length;
    s.phrase = f.phrase;
    s.in_review = f.in_review;
    rc.findings.push_back(std::move(s));
  }
  c.reply_check = std::move(rc);
  // Once per reply text: a re-poll, a restart or an edit of the review alone finds this key.
  std::string key = rule.name + ":" + std::to_string(upsert.review_id) + ":" + text_id;
  return queue(rule, key, c,
               {upsert.review_id, upsert.revision, location, review.source_id, rule.touchpoints},
               poll_started_at);
}

int AlertEngine::evaluate_periodic(int64_t now) {
  if (!config_->enabled) return 0;
  db::Transaction tx(db_);
  int queued = 0;
  for (const Rule& rule : config_->rules) {
    if (rule.type == RuleType::kNoReply) queued += evaluate_no_reply(rule, now);
    if (rule.type == RuleType::kTouchpointAverage) queued += evaluate_average(rule, now);
  }
  tx.commit();
  return queued;
}

int AlertEngine::evaluate_no_reply(const Rule& rule, int64_t now) {
  // Reviews that alerted (new or edited to negative) long enough ago, not yet escalated by this
  // rule. The clock starts when the practice was told: the latest such alert.
  const int64_t told_by = now - rule.after_seconds;
  const std::vector<int64_t> ids = outbox_.reviews_alerted_without(
      rule.name + ":", told_by - 90 * 86400 /* bounded look-back */, told_by);
  if (ids.empty()) return 0;

  db::ReviewStore store(db_);
  int queued = 0;
  for (int64_t id : ids) {
    std::optional<db::StoredReview> sr = store.get(id);
    if (!sr) continue;
    const Review& rv = sr->review;
    if (!rv.reply_text.empty() || sr->removed_at) continue;  // answered, or gone at the source
    if (!rule.applies_to(rv.location_id, rv.source_id)) continue;
    if (!rule.is_negative(rv, sr->analysis)) continue;
    auto type = config_->source_types.find(rv.source_id);
    AlertContent c = review_content(rule, rv, rv.location_id, sr->analysis, sr->id, sr->revision,
                                    type == config_->source_types.end() ? "" : type->second);
    queued +=
        queue(rule, rule.name + ":" + std::to_string(id), c,
              {id, sr->revision, rv.location_id, rv.source_id, owners_for(sr->analysis)}, now);
  }
  return queued;
}

int AlertEngine::evaluate_average(const Rule& rule, int64_t now) {
  db::TouchpointAverageQuery q;
  q.measure =
      rule.measure == "rating" ? db::AverageMeasure::kRating : db::AverageMeasure::kSentiment;
  q.since = now - rule.window_seconds;
  q.sources = rule.sources;

  struct Breach {
    std::string location, touchpoint;
    double average, standard;
    int reviews;
  };
  std::vector<Breach> breaches;
  for (db::TouchpointAverage& t : db::touchpoint_averages(db_, q)) {
    if (!rule.locations.empty() && std::find(rule.locations.begin(), rule.locations.end(),
                                             t.location_id) == rule.locations.end())
      continue;
    if (!rule.touchpoints.empty() && std::find(rule.touchpoints.begin(), rule.touchpoints.end(),
                                               t.touchpoint) == rule.touchpoints.end())
      continue;
    auto standard = config_->standards.find(t.touchpoint);
    if (standard == config_->standards.end()) continue;
    if (t.reviews < rule.min_reviews || t.average >= standard->second) continue;
    breaches.push_back({std::move(t.location_id), std::move(t.touchpoint), t.average,
                        standard->second, t.reviews});
  }

  int queued = 0;
  for (const Breach& b : breaches) {
    AlertContent c;
    c.kind = to_string(rule.type);
    c.rule = rule.name;
    c.headline = headline_for(rule);
    AverageSnapshot a;
    a.location_id = b.location;
    a.location_name = config_->location_name(b.location);
    a.touchpoint = b.touchpoint;
    a.touchpoint_name = config_->touchpoint_name(b.touchpoint);
    a.measure = rule.measure;
    a.average = b.average;
    a.standard = b.standard;
    a.reviews = b.reviews;
    a.window_seconds = rule.window_seconds;
    c.average = a;
    std::string key = rule.name + ":" + b.location + ":" + b.touchpoint + ":" +
                      std::to_string(now / rule.repeat_seconds);
    queued +=
        queue(rule, key, c, {std::nullopt, std::nullopt, b.location, "", {b.touchpoint}}, now);
  }
  return queued;
}

int64_t AlertEngine::queue_test(const std::string& to, int64_t now) {
  if (!is_valid_address(to))
    throw Error("\"" + sanitize_header(to) + "\" is not an email address like name@clinic.example");
  db::Transaction tx(db_);
  AlertContent c;
  c.kind = "test";
  c.rule = "test";
  c.headline = "Test message";
  c.note = "Sent by `repwatch alerts test` to " + to + ".";
  db::NewAlert a;
  a.dedupe_key = "test:" + make_message_id(config_->message_id_domain, now);
  a.rule = "test";
  a.kind = db::AlertKind::kTest;
  a.urgent = true;
  a.payload = to_json(c);
  std::optional<int64_t> id = outbox_.insert_alert(a, now);
  if (!id) throw Error("could not queue the test alert");
  db::NewDelivery d;
  d.channel = db::DeliveryChannel::kEmail;
  d.recipient = to;
  d.urgent = true;
  d.next_attempt_at = now;
  d.message_id = make_message_id(config_->message_id_domain, now);
  outbox_.add_delivery(*id, d, now);
  int64_t delivery_id = db_.last_insert_rowid();
  tx.commit();
  return delivery_id;
}

}  // namespace repwatch::alerts
