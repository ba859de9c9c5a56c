// WebhookStore on RocksDB (and in memory, which the domain's tests use):
// webhooks with their secrets, deliveries written and erased in one write,
// a webhook's deletion taking its deliveries, review-due marks, and all of
// it still there after the database is reopened.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/domain/store/in_memory_webhook_store.h"
#include "server/storage/rocksdb_store.h"

namespace sopsidebar {
namespace {

std::string TempDir(const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::remove_all(dir);
  return dir.string();
}

v1::Webhook Hook(const std::string& name) {
  v1::Webhook w;
  w.set_name(name);
  w.set_url("http://127.0.0.1:9/x");
  w.set_secret("0123456789abcdef");
  return w;
}

v1::WebhookDelivery Delivery(const std::string& name) {
  v1::WebhookDelivery d;
  d.set_name(name);
  d.set_state(v1::WebhookDelivery::PENDING);
  d.mutable_event()->set_event_id(name);
  return d;
}

std::vector<std::string> Names(const WebhookStore& store) {
  std::vector<std::string> names;
  EXPECT_TRUE(store
                  .ForEachWebhook([&](const v1::Webhook& w) {
                    names.push_back(absl::StrCat(w.name(), "=", w.secret()));
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(store
                  .ForEachDelivery([&](const v1::WebhookDelivery& d) {
                    names.push_back(absl::StrCat(d.name(), "=", d.state()));
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(store
                  .ForEachReviewDueMark([&](absl::string_view sop, absl::Time due) {
                    names.push_back(absl::StrCat(sop, "@", absl::ToUnixSeconds(due)));
                    return absl::OkStatus();
                  })
                  .ok());
  return names;
}

void Exercise(WebhookStore& store) {
  const std::string a = "orgs/acme/webhooks/a";
  const std::string b = "orgs/acme/webhooks/b";
  ASSERT_TRUE(store.PutWebhook(Hook(a)).ok());
  ASSERT_TRUE(store.PutWebhook(Hook(b)).ok());
  ASSERT_TRUE(store
                  .WriteDeliveries({Delivery(a + "/deliveries/d1"), Delivery(a + "/deliveries/d2"),
                                    Delivery(b + "/deliveries/d3")},
                                   {})
                  .ok());
  v1::WebhookDelivery done = Delivery(a + "/deliveries/d2");
  done.set_state(v1::WebhookDelivery::DEAD);
  ASSERT_TRUE(store.WriteDeliveries({done}, {a + "/deliveries/d1"}).ok());
  ASSERT_TRUE(store.DeleteWebhook(b).ok());
  ASSERT_TRUE(store.PutReviewDueMark("orgs/acme/sops/mql", absl::FromUnixSeconds(1000)).ok());
  ASSERT_TRUE(store.PutReviewDueMark("orgs/acme/sops/mql", absl::FromUnixSeconds(2000)).ok());
  // Malformed names are refused, nothing written.
  EXPECT_EQ(store.PutWebhook(Hook("orgs/acme/hooks/x")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.WriteDeliveries({Delivery(a + "/deliveries/Bad_Id")}, {}).code(),
            absl::StatusCode::kInvalidArgument);
}

const std::vector<std::string> kExpected = {
    "orgs/acme/webhooks/a=0123456789abcdef",
    "orgs/acme/webhooks/a/deliveries/d2=3",
    "orgs/acme/sops/mql@2000",
};

TEST(WebhookStoreTest, InMemoryKeepsWebhooksDeliveriesAndMarks) {
  InMemoryWebhookStore store;
  Exercise(store);
  EXPECT_EQ(Names(store), kExpected);
}

TEST(WebhookStoreTest, RocksDbKeepsThemAcrossAReopen) {
  const std::string dir = TempDir("webhook_store_test");
  {
    auto store = RocksDbStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    Exercise(**store);
    EXPECT_EQ(Names(**store), kExpected);
  }
  auto reopened = RocksDbStore::Open(dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(Names(**reopened), kExpected);
}

}  // namespace
}  // namespace sopsidebar
