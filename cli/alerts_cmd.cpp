#include "cli/alerts_cmd.h"

#include <filesystem>

#include "alerts/engine.h"
#include "alerts/rules.h"
#include "alerts/sender.h"
#include "cli/args.h"
#include "core/error.h"
#include "core/time.h"
#include "db/outbox_store.h"
#include "db/store.h"

namespace repwatch::cli {

namespace {

std::optional<db::DeliveryStatus> parse_status(const std::string& s) {
  if (s.empty()) return std::nullopt;
  if (auto status = db::parse_delivery_status(s)) return status;
  throw UsageError(unknown_name_message("--status", s, {"pending", "sent", "failed", "batched"}));
}

Value time_value(std::optional<int64_t> t) {
  return t ? Value::text(format_timestamp(*t)) : Value::null();
}

Tone status_tone(db::DeliveryStatus s) {
  switch (s) {
    case db::DeliveryStatus::kSent:
      return Tone::kGood;
    case db::DeliveryStatus::kFailed:
      return Tone::kBad;
    case db::DeliveryStatus::kPending:
      return Tone::kWarn;
    case db::DeliveryStatus::kBatched:
      return Tone::kDim;
  }
  return Tone::kPlain;
}

// The alerts settings for retry/test: [smtp] etc. from the config (the taxonomy only matters
// for routing, which these commands do not do).
alerts::AlertsConfig alerts_config(const AlertsRun& r, const char* what) {
  if (!r.config)
    throw UsageError(std::string("`repwatch alerts ") + what +
                     "` needs the config for the [smtp] settings: pass --config FILE");
  return alerts::load_alerts_config(*r.config, {});
}

int report_send(const AlertsRun& r, int64_t id, const alerts::SendResult& res) {
  switch (res.status) {
    case alerts::SendResult::Status::kSent:
      r.out << "delivery " << id << " sent via " << res.via << "\n";
      return 0;
    case alerts::SendResult::Status::kTemporary:
    case alerts::SendResult::Status::kInterrupted:
      r.err << "repwatch: delivery " << id
            << " not sent (temporary; repwatchd retries it): " << res.error << "\n";
      return 1;
    case alerts::SendResult::Status::kPermanent:
      r.err << "repwatch: delivery " << id << " failed: " << res.error << "\n";
      return 1;
  }
  return 1;
}

// `alerts retry --all-failed`: every failed delivery is queued again and sent now, the way
// repwatchd sends (quiet hours, hourly limits and digests apply; a relay that is still down
// is tried once and the rest wait for repwatchd's next attempt).
int retry_all_failed(const AlertsRun& r, alerts::Sender& sender, const db::Database& db) {
  db::OutboxStore outbox(db);
  const std::vector<int64_t> ids = outbox.reset_all_failed(r.now);
  if (ids.empty()) {
    r.out << "no failed deliveries\n";
    return 0;
  }
  r.out << ids.size() << " failed deliver" << (ids.size() == 1 ? "y" : "ies") << " queued again\n";
  alerts::Round round;
  round.limit = static_cast<int>(std::min<size_t>(100000, ids.size() + 500));
  alerts::SendStats s = sender.deliver_due(r.now, round);
  int sent = 0, digest = 0, failed = 0, waiting = 0;
  for (int64_t id : ids) {
    auto d = outbox.delivery(id);
    if (!d) continue;
    switch (d->status) {
      case db::DeliveryStatus::kSent:
        ++sent;
        break;
      case db::DeliveryStatus::kBatched:
        ++digest;
        break;
      case db::DeliveryStatus::kFailed:
        ++failed;
        break;
      case db::DeliveryStatus::kPending:
        ++(d->batch ? digest : waiting);
        break;
    }
  }
  r.out << sent << " sent, " << failed << " failed";
  if (digest > 0) r.out << ", " << digest << " for the next digest (hourly limit)";
  if (waiting > 0)
    r.out << ", " << waiting
          << " waiting (repwatchd sends them later; `repwatch alerts --status pending` says why)";
  r.out << "\n";
  return s.retried + s.failed > 0 ? 1 : 0;
}

}  // namespace

AlertsCommand::AlertsCommand(CLI::App& app) {
  cmd_ = app.add_subcommand(
      "alerts",
      "The alert outbox: deliveries (pending, sent, failed) with their last error; retry; test");
  cmd_->add_option("--status", status_, "Only deliveries in this state")
      ->option_text("pending|sent|failed|batched");
  cmd_->add_option("--since", since_, "Only deliveries queued since (7d, 2026-01-01)")
      ->option_text("WHEN");
  cmd_->add_option("--limit", limit_, "At most this many, newest first (default 50; 0: all)")
      ->option_text("N");
  cmd_->footer(
      "\nExamples:\n  repwatch alerts --status failed\n  repwatch alerts retry 42\n"
      "  repwatch alerts retry --all-failed\n"
      "  repwatch --config /etc/repwatch/repwatch.toml alerts test --to you@clinic.example\n");
  retry_ = cmd_->add_subcommand("retry", "Send a failed (or waiting) delivery again, now");
  auto* id =
      retry_->add_option("ID", retry_id_, "The delivery id (first column of `repwatch alerts`)");
  auto* all = retry_->add_flag("--all-failed", all_failed_,
                               "Every failed delivery (after an outage of the mail relay, say)");
  id->excludes(all);
  retry_->require_option(1);
  test_ = cmd_->add_subcommand("test", "Send a test message now, through the configured channel");
  test_->add_option("--to", to_, "The address to send it to")->required()->option_text("ADDR");
}

bool AlertsCommand::selected() const { return cmd_ && cmd_->parsed(); }

bool AlertsCommand::writes() const { return retry_->parsed() || test_->parsed(); }

std::string AlertsCommand::name() const {
  return retry_->parsed() ? "alerts retry" : test_->parsed() ? "alerts test" : "alerts";
}

int AlertsCommand::run(const AlertsRun& r) const {
  try {
    if (retry_->parsed() || test_->parsed()) {
      const char* what = retry_->parsed() ? "retry" : "test";
      alerts::AlertsConfig ac = alerts_config(r, what);
      if (test_->parsed() && !alerts::is_valid_address(to_))
        throw UsageError("--to: \"" + to_ + "\" is not an email address like you@clinic.example");
      if (r.writer) require_writable_database(r.db_file, *r.writer);
      db::Database db = db::open_store(r.db_file);  // read-write, schema up to date
      alerts::Sender sender(ac, db);
      if (retry_->parsed() && all_failed_) return retry_all_failed(r, sender, db);
      int64_t id = retry_id_;
      if (retry_->parsed()) {
        db::OutboxStore outbox(db);
        auto d = outbox.delivery(id);
        if (!d) throw Error("no alert delivery with id " + std::to_string(id));
        if (d->status == db::DeliveryStatus::kSent)
          throw Error("delivery " + std::to_string(id) + " was sent already, at " +
                      format_timestamp(d->sent_at.value_or(0)));
        if (d->status == db::DeliveryStatus::kBatched)
          throw Error("delivery " + std::to_string(id) + " went into digest delivery " +
                      std::to_string(d->digest_delivery_id.value_or(0)) + "; retry that one");
        if (!outbox.reset_for_retry(id, r.now))
          throw Error("delivery " + std::to_string(id) + " cannot be retried");
      } else {
        alerts::AlertEngine engine(ac, db);
        id = engine.queue_test(to_, r.now);
        r.out << "test message queued as delivery " << id << "\n";
      }
      return report_send(r, id, sender.deliver_one(id, r.now));
    }

    require_readable(r.db_file, "the database");
    std::error_code ec;
    if (!std::filesystem::exists(r.db_file, ec))
      throw Error("the database " + r.db_file + " does not exist yet");
    db::Database db = db::Database::open(r.db_file, db::Database::Mode::kReadOnly);
    db::OutboxFilter f;
    f.status = parse_status(status_);
    if (!since_.empty()) f.since = parse_when(since_, r.now, false, "--since");
    if (limit_ < 0) throw UsageError("--limit: expected 0 (all) or more");
    f.limit = limit_;
    std::vector<db::DeliveryRow> rows;
    try {
      rows = db::OutboxStore(db).list(f);
    } catch (const DbError& e) {
      throw Error(std::string("cannot read the alert outbox (is the database migrated? restart "
                              "repwatchd): ") +
                  e.what());
    }
    const bool table = r.format == Format::kTable;
    Table t({{"id", "Id", Align::kRight},
             {"status", "Status"},
             {"created_at", "Queued"},
             {"rule", "Rule"},
             {"channel", "Channel"},
             {"recipient", "To"},
             {"attempts", "Tries", Align::kRight},
             {table ? "when" : "next_attempt_at", table ? "Sent / next" : "Next attempt"},
             {"last_error", "Last error", Align::kLeft, 70}});
    if (!table) {
      // Scripts get every field.
      t = Table({{"id", "Id"},
                 {"alert_id", "Alert"},
                 {"status", "Status"},
                 {"created_at", "Queued"},
                 {"rule", "Rule"},
                 {"kind", "Kind"},
                 {"review_id", "Review"},
                 {"location_id", "Location"},
                 {"source_id", "Source"},
                 {"channel", "Channel"},
                 {"recipient", "To"},
                 {"attempts", "Tries"},
                 {"next_attempt_at", "Next attempt"},
                 {"sent_at", "Sent"},
                 {"sent_via", "Via"},
                 {"message_id", "Message-ID"},
                 {"digest_delivery_id", "Digest"},
                 {"last_error", "Last error"}});
    }
    for (const auto& d : rows) {
      Value status = Value::text(db::to_string(d.status)).with_tone(status_tone(d.status));
      if (d.status == db::DeliveryStatus::kPending && d.batch)
        status = Value::text("pending").with_tone(Tone::kWarn).with_shown("digest");
      if (table) {
        Value when = Value::null();
        if (d.status == db::DeliveryStatus::kSent)
          when = time_value(d.sent_at);
        else if (d.status == db::DeliveryStatus::kPending)
          when = Value::text(format_timestamp(d.next_attempt_at));
        t.add({Value::integer(d.id), std::move(status), time_value(d.created_at),
               Value::text(d.rule), Value::text(db::to_string(d.channel)), Value::text(d.recipient),
               Value::integer(d.attempts), std::move(when),
               Value::text(one_line(d.last_error)).with_tone(Tone::kBad)});
      } else {
        t.add(
            {Value::integer(d.id), Value::integer(d.alert_id), Value::text(db::to_string(d.status)),
             time_value(d.created_at), Value::text(d.rule), Value::text(db::to_string(d.kind)),
             d.review_id ? Value::integer(*d.review_id) : Value::null(), Value::text(d.location_id),
             Value::text(d.source_id), Value::text(db::to_string(d.channel)),
             Value::text(d.recipient), Value::integer(d.attempts),
             d.status == db::DeliveryStatus::kPending ? time_value(d.next_attempt_at)
                                                      : Value::null(),
             time_value(d.sent_at), Value::text(d.sent_via), Value::text(d.message_id),
             d.digest_delivery_id ? Value::integer(*d.digest_delivery_id) : Value::null(),
             Value::text(d.last_error)});
      }
    }
    if (table && t.empty()) {
      r.out << "no alert deliveries" << (f.status || f.since ? " match" : " yet") << "\n";
      return 0;
    }
    t.write(r.out, r.format, r.style);
    if (table) {
      auto c = db::OutboxStore(db).counts();
      r.out << "\n"
            << c.pending << " pending, " << c.sent << " sent, " << c.failed << " failed, "
            << c.batched << " in digests\n";
    }
    return 0;
  } catch (const UsageError& e) {
    r.err << "repwatch: " << e.what() << "\n";
    return 2;
  } catch (const DbError& e) {
    r.err << "repwatch: " << explain_db_error(e, r.db_file, r.writer).value_or(e.what()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    r.err << "repwatch: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace repwatch::cli
