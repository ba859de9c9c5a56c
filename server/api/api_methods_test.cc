#include "server/api/api_methods.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/api/served_api.h"
#include "server/common/clock.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/search/sop_search.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "server/domain/store/in_memory_sop_store.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"

namespace sopsidebar {
namespace {

class RecordingSink : public MessageSink {
 public:
  void Send(std::string message) override {
    absl::MutexLock lock(&mu_);
    messages_.push_back(std::move(message));
  }
  void Close(absl::Status) override {}
  std::vector<std::string> messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> messages_;
};

// An index that finds every document it holds, whatever the query.
class EveryDocumentIndex : public TextIndex {
 public:
  absl::Status Write(const std::vector<TextDocument>& puts,
                     const std::vector<std::string>& removes) override {
    for (const std::string& id : removes) ids_.erase(id);
    for (const TextDocument& doc : puts) ids_.insert(doc.id);
    return absl::OkStatus();
  }
  absl::StatusOr<TextResults> Search(const TextQuery&) const override {
    TextResults results;
    for (const std::string& id : ids_) results.hits.push_back({id, 1.0, {{id, true}}});
    return results;
  }
  size_t size() const override { return ids_.size(); }

 private:
  absl::btree_set<std::string> ids_;
};

class ApiMethodsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto access = AccessRegistry::Create(&auth_store_, &clock_);
    ASSERT_TRUE(access.ok()) << access.status();
    access_ = std::move(access).value();
    auto secret = access_->BootstrapAdminToken();
    ASSERT_TRUE(secret.ok() && secret->has_value());
    auto admin = access_->Authenticate(**secret);
    ASSERT_TRUE(admin.ok());
    admin_ = *admin;
    auto registry = SopRegistry::Create(&sop_store_, &clock_, IndexedSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(registry).value();
    auto api = ServedApi::Create(registry_.get(), access_.get(), crm_.get(), ServedApi::Options());
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(api).value();
    methods_ = api_->methods();
  }

  static v1::LookupSopsRequest LeadLookup() {
    v1::LookupSopsRequest request;
    request.mutable_context()->set_record_type("Lead");
    return request;
  }

  FakeClock clock_;
  InMemoryAuthStore auth_store_;
  InMemorySopStore sop_store_;
  std::unique_ptr<AccessRegistry> access_;
  std::unique_ptr<CrmMaps> crm_ = CrmMaps::Create(&auth_store_, &clock_).value();
  Caller admin_;
  std::unique_ptr<SopRegistry> registry_;
  std::unique_ptr<ServedApi> api_;
  const ApiMethods* methods_ = nullptr;
};

TEST_F(ApiMethodsTest, EveryMethodOfTheServedServicesIsBoundOnceUnderItsPath) {
  int bound = 0;
  for (const std::string& name : ApiMethods::ServiceNames()) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      const std::string path = "/" + name + "/" + method->name();
      EXPECT_EQ(MethodPath(*method), path);
      const UnaryMethod* unary = methods_->FindUnary(path);
      const StreamMethod* stream = methods_->FindStream(path);
      ASSERT_NE(unary == nullptr, stream == nullptr) << path;
      if (unary != nullptr) {
        EXPECT_EQ(unary->descriptor, method);
        EXPECT_EQ(unary->request_prototype->GetDescriptor(), method->input_type());
        EXPECT_EQ(unary->response_prototype->GetDescriptor(), method->output_type());
      } else {
        EXPECT_TRUE(method->server_streaming());
        EXPECT_EQ(stream->response_prototype->GetDescriptor(), method->output_type());
      }
      ++bound;
    }
  }
  // 48 with SopService.PreviewTargeting, AuthoringService's 3,
  // EventService's 7 and TemplateService's 5.
  EXPECT_EQ(bound, 63);
  EXPECT_EQ(methods_->FindUnary("/sopsidebar.v1.SopService/Nope"), nullptr);
  EXPECT_EQ(methods_->FindUnary("/sopsidebar.v1.ContextService/WatchSops"), nullptr);
}

TEST_F(ApiMethodsTest, SearchIsUnimplementedWithoutASearch) {
  v1::SearchSopsRequest request;
  request.set_parent("orgs/default");
  request.set_query("lead");
  const UnaryMethod* search = methods_->FindUnary("/sopsidebar.v1.SopService/SearchSops");
  EXPECT_EQ(search->work, Work::kReads);
  EXPECT_EQ(search->run(admin_, request).status().code(), absl::StatusCode::kUnimplemented);
}

TEST_F(ApiMethodsTest, BoundSearchHearsOfEveryPublishThroughTheServedApi) {
  api_.reset();
  auto search = SopSearch::Create(registry_.get(), std::make_unique<EveryDocumentIndex>());
  ASSERT_TRUE(search.ok()) << search.status();
  ServedApi::Options options;
  options.extras.search = search->get();
  auto api = ServedApi::Create(registry_.get(), access_.get(), crm_.get(), options);
  ASSERT_TRUE(api.ok()) << api.status();
  api_ = std::move(api).value();

  v1::CreateSopRequest create;
  create.set_parent("orgs/default");
  create.set_sop_id("handoff");
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(title: "Handoff"
           owner: "Ops"
           targeting_rules { record_types: "Lead" })pb",
      create.mutable_sop()));
  ASSERT_TRUE(registry_->CreateSop(admin_, create).ok());
  v1::SearchSopsRequest request;
  request.set_parent("orgs/default");
  request.set_query("handoff");
  const UnaryMethod* method = api_->methods()->FindUnary("/sopsidebar.v1.SopService/SearchSops");
  v1::SearchSopsResponse response;
  auto before = method->run(admin_, request);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(response.ParseFromString(*before));
  EXPECT_EQ(response.results_size(), 0);

  v1::PublishSopRequest publish;
  publish.set_name("orgs/default/sops/handoff");
  ASSERT_TRUE(registry_->PublishSop(admin_, publish).ok());
  auto after = method->run(admin_, request);
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_TRUE(response.ParseFromString(*after));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).sop(), "orgs/default/sops/handoff");
  api_.reset();  // detaches the listener before the search goes
}

TEST_F(ApiMethodsTest, InMemoryMethodsRunInlineAndStorageMethodsOnTheirQueues) {
  EXPECT_EQ(methods_->FindUnary("/sopsidebar.v1.ContextService/LookupSops")->work, Work::kInline);
  EXPECT_EQ(methods_->FindUnary("/sopsidebar.v1.AdminService/Ping")->work, Work::kInline);
  EXPECT_EQ(methods_->FindUnary("/sopsidebar.v1.SopService/GetSop")->work, Work::kReads);
  EXPECT_EQ(methods_->FindUnary("/sopsidebar.v1.SopService/PublishSop")->work, Work::kWrites);
  EXPECT_EQ(methods_->FindUnary("/sopsidebar.v1.AdminService/CreateToken")->work, Work::kWrites);
  // A draft may wait on a model server: never on the read or write queue.
  EXPECT_EQ(methods_->FindUnary("/sopsidebar.v1.AuthoringService/DraftSop")->work, Work::kSlow);
}

TEST_F(ApiMethodsTest, BoundLookupAnswersTheRegistrysBytes) {
  const UnaryMethod* lookup = methods_->FindUnary("/sopsidebar.v1.ContextService/LookupSops");
  auto served = lookup->run(admin_, LeadLookup());
  auto expected = registry_->LookupSops(admin_, LeadLookup());
  ASSERT_TRUE(served.ok() && expected.ok());
  EXPECT_EQ(*served, expected->SerializeAsString());

  v1::LookupSopsRequest invalid;  // no context
  EXPECT_EQ(lookup->run(admin_, invalid).status(), registry_->LookupSops(admin_, invalid).status());
}

TEST_F(ApiMethodsTest, BoundMessageMethodAnswersItsSerialisedResponse) {
  v1::PingRequest ping;
  ping.set_payload("abc");
  auto served = methods_->FindUnary("/sopsidebar.v1.AdminService/Ping")->run(admin_, ping);
  ASSERT_TRUE(served.ok()) << served.status();
  v1::PingResponse response;
  ASSERT_TRUE(response.ParseFromString(*served));
  EXPECT_EQ(response.payload(), "abc");
}

TEST_F(ApiMethodsTest, WatchOpensAStreamWhoseFirstMessageIsTheLookupAndHasAHeartbeat) {
  const StreamMethod* watch = methods_->FindStream("/sopsidebar.v1.ContextService/WatchSops");
  ASSERT_NE(watch, nullptr);
  auto sink = std::make_shared<RecordingSink>();
  v1::WatchSopsRequest request;
  *request.mutable_context() = LeadLookup().context();
  auto subscription = watch->open(admin_, request, sink);
  ASSERT_TRUE(subscription.ok()) << subscription.status();
  ASSERT_EQ(sink->messages().size(), 1u);
  v1::WatchSopsResponse first;
  ASSERT_TRUE(first.ParseFromString(sink->messages()[0]));
  EXPECT_TRUE(first.has_result());

  ASSERT_TRUE(watch->heartbeat != nullptr);
  v1::WatchSopsResponse beat;
  ASSERT_TRUE(beat.ParseFromString(watch->heartbeat()));
  EXPECT_TRUE(beat.has_heartbeat());
  EXPECT_GT(beat.heartbeat().send_time().seconds(), 0);
}

TEST_F(ApiMethodsTest, BackupStreamsEveryMessageAndIsUnimplementedWithoutABackupSource) {
  const StreamMethod* backup = methods_->FindStream("/sopsidebar.v1.AdminService/CreateBackup");
  ASSERT_NE(backup, nullptr);
  EXPECT_EQ(backup->delivery, Delivery::kEveryMessage);
  EXPECT_EQ(backup->heartbeat, nullptr);
  EXPECT_EQ(methods_->FindStream("/sopsidebar.v1.ContextService/WatchSops")->delivery,
            Delivery::kNewest);
  auto opened = backup->open(admin_, v1::CreateBackupRequest(), std::make_shared<RecordingSink>());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace sopsidebar
