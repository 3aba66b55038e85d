// db/outbox_store: the outbox's rows are typed, and what they store is the text it always was.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "db/outbox_store.h"
#include "db/store.h"

using namespace repwatch;
using namespace repwatch::db;
namespace fs = std::filesystem;

namespace {

class OutboxStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "rw-outbox-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    db_.emplace(open_store(dir_ / "repwatch.db"));
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  std::string text(const std::string& sql) const {
    Statement st = db_->prepare(sql);
    return st.step() ? st.column_text(0) : "(no row)";
  }

  fs::path dir_;
  std::optional<Database> db_;
};

NewAlert alert(const std::string& key, AlertKind kind) {
  NewAlert a;
  a.dedupe_key = key;
  a.rule = key.substr(0, key.find(':'));
  a.kind = kind;
  a.payload = "{}";
  return a;
}

NewDelivery delivery(DeliveryChannel channel, const std::string& to, const std::string& id) {
  NewDelivery d;
  d.channel = channel;
  d.recipient = to;
  d.message_id = id;
  return d;
}

}  // namespace

TEST(OutboxText, EveryStateHasOneSpellingBothWays) {
  const std::pair<AlertKind, const char*> kinds[] = {
      {AlertKind::kNewNegative, "new_negative"},
      {AlertKind::kEditNegative, "edit_negative"},
      {AlertKind::kNoReply, "no_reply"},
      {AlertKind::kTouchpointAverage, "touchpoint_average"},
      {AlertKind::kReplyPhi, "reply_phi"},
      {AlertKind::kRemovedNegative, "removed_negative"},
      {AlertKind::kSourceHealth, "source_health"},
      {AlertKind::kDigest, "digest"},
      {AlertKind::kTest, "test"}};
  for (const auto& [kind, text] : kinds) {
    EXPECT_STREQ(to_string(kind), text);
    EXPECT_EQ(parse_alert_kind(text), kind) << text;
  }
  EXPECT_STREQ(to_string(DeliveryChannel::kEmail), "email");
  EXPECT_STREQ(to_string(DeliveryChannel::kWebhook), "webhook");
  EXPECT_EQ(parse_delivery_channel("webhook"), DeliveryChannel::kWebhook);
  const std::pair<DeliveryStatus, const char*> statuses[] = {{DeliveryStatus::kPending, "pending"},
                                                             {DeliveryStatus::kSent, "sent"},
                                                             {DeliveryStatus::kFailed, "failed"},
                                                             {DeliveryStatus::kBatched, "batched"}};
  for (const auto& [status, text] : statuses) {
    EXPECT_STREQ(to_string(status), text);
    EXPECT_EQ(parse_delivery_status(text), status) << text;
  }
  // Stored text is matched exactly: no case folding, no spaces, nothing else.
  for (const char* bad : {"", "Digest", "email ", "sms", "negative", "PENDING"}) {
    EXPECT_FALSE(parse_alert_kind(bad)) << bad;
    EXPECT_FALSE(parse_delivery_channel(bad)) << bad;
    EXPECT_FALSE(parse_delivery_status(bad)) << bad;
  }
}

TEST_F(OutboxStoreTest, StoresTheSameTextsAndReadsThemBackTyped) {
  OutboxStore outbox(*db_);
  auto id =
      outbox.insert_alert(alert("digest:email:a@clinic.example:1:100", AlertKind::kDigest), 100);
  ASSERT_TRUE(id);
  EXPECT_FALSE(
      outbox.insert_alert(alert("digest:email:a@clinic.example:1:100", AlertKind::kDigest), 101))
      << "the dedupe key is unique";
  NewDelivery hook = delivery(DeliveryChannel::kWebhook, "webhook", "<1@clinic.example>");
  hook.urgent = false;
  ASSERT_TRUE(outbox.add_delivery(*id, hook, 100));
  EXPECT_FALSE(outbox.add_delivery(*id, hook, 100))
      << "one delivery per (alert, channel, recipient)";

  EXPECT_EQ(text("SELECT kind FROM alerts"), "digest");
  EXPECT_EQ(text("SELECT channel || ' ' || status || ' ' || urgent FROM alert_deliveries"),
            "webhook pending 0");

  std::vector<DeliveryRow> rows = outbox.list();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].kind, AlertKind::kDigest);
  EXPECT_EQ(rows[0].channel, DeliveryChannel::kWebhook);
  EXPECT_EQ(rows[0].status, DeliveryStatus::kPending);
  EXPECT_FALSE(rows[0].urgent);

  outbox.mark_failed(rows[0].id, "refused\r\nfor good");
  EXPECT_EQ(text("SELECT status || ' ' || last_error FROM alert_deliveries"),
            "failed refused  for good")
      << "error texts are stored on one line";
  OutboxFilter failed;
  failed.status = DeliveryStatus::kFailed;
  EXPECT_EQ(outbox.list(failed).size(), 1u);
  EXPECT_EQ(outbox.counts().failed, 1);
}

TEST_F(OutboxStoreTest, ARowWithATextThisVersionDoesNotKnowIsAnErrorNamingIt) {
  OutboxStore outbox(*db_);
  auto id = outbox.insert_alert(alert("new_negative:1:1", AlertKind::kNewNegative), 100);
  ASSERT_TRUE(id);
  ASSERT_TRUE(outbox.add_delivery(
      *id, delivery(DeliveryChannel::kEmail, "a@clinic.example", "<2@clinic.example>"), 100));
  db_->exec("UPDATE alerts SET kind = 'carrier_pigeon'");
  try {
    outbox.alert(*id);
    FAIL() << "an unknown kind was read";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("alerts.kind of row " + std::to_string(*id) +
                                         " is \"carrier_pigeon\""),
              std::string::npos)
        << e.what();
  }
  db_->exec("UPDATE alerts SET kind = 'new_negative'");
  db_->exec("UPDATE alert_deliveries SET channel = 'fax'");
  EXPECT_THROW(outbox.list(), DbError);
}

TEST_F(OutboxStoreTest, NewestKeyWithPrefixStaysInsideThePrefix) {
  OutboxStore outbox(*db_);
  for (const char* key : {"source_health:yelp:quiet:100", "source_health:yelp:quiet:200",
                          "source_health:yelp:quiet;x", "source_health:yelp:quietly:300",
                          "source_health:yelp-2:quiet:400"})
    ASSERT_TRUE(outbox.insert_alert(alert(key, AlertKind::kSourceHealth), 100)) << key;
  EXPECT_EQ(outbox.newest_key_with_prefix("source_health:yelp:quiet:"),
            "source_health:yelp:quiet:200");
  EXPECT_FALSE(outbox.newest_key_with_prefix("source_health:google:quiet:"));
}
