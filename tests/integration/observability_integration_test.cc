// sopd watched from outside: a real SopdServer with its Connect/HTTP gateway
// on loopback ports, called over gRPC and Connect, then scraped over HTTP:
// /metrics (names, and counters that moved by exactly the calls made),
// /healthz, /readyz, and the access log on stderr (a line per call, never a
// token).
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/common/log.h"
#include "tests/integration/loopback_http.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

using test::Http;
using test::HttpReply;
using test::Samples;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kLookupPath[] = "/sopsidebar.v1.ContextService/LookupSops";

double Delta(const std::map<std::string, double>& before,
             const std::map<std::string, double>& after, const std::string& series) {
  auto a = after.find(series);
  auto b = before.find(series);
  return (a == after.end() ? 0 : a->second) - (b == before.end() ? 0 : b->second);
}

std::string Requests(absl::string_view method, absl::string_view code,
                     absl::string_view transport) {
  return absl::StrCat("sopd_rpc_requests_total{method=\"", method, "\",code=\"", code,
                      "\",transport=\"", transport, "\"}");
}

v1::LookupSopsRequest Lookup(const std::string& record_type, const std::string& fields) {
  v1::LookupSopsRequest request;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      absl::StrCat("context { org: \"orgs/default\" record_type: \"", record_type, "\" ", fields,
                   "}"),
      &request));
  return request;
}

constexpr char kMqlLeadFields[] = R"pb(
  fields {
    key: "lead_status"
    value { string_value: "MQL – New Handoff" }
  }
  fields {
    key: "lead_score"
    value { number_value: 82 }
  }
  fields {
    key: "company_size"
    value { number_value: 120 }
  }
  fields {
    key: "title"
    value { string_value: "VP Sales" }
  }
)pb";

class ObservabilityIntegrationTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    options_.import_dir = SOP_EXAMPLES_DIR;
    options_.http.listen_address = "127.0.0.1:0";
    options_.dispatcher.access_log = true;
  }

  void Start() {
    StartServer();
    rep_token_ = IssueToken(admin_token_, "obs-rep", {v1::SDR});
  }

  // A Connect lookup (binary protobuf): its HTTP status and response.
  int ConnectLookup(const v1::LookupSopsRequest& request, const std::string& token,
                    v1::LookupSopsResponse* response) {
    HttpReply reply = Http(
        server_->http_port(), "POST", kLookupPath,
        absl::StrCat("Content-Type: application/proto\r\nAuthorization: Bearer ", token, "\r\n"),
        request.SerializeAsString());
    if (reply.status == 200) {
      EXPECT_TRUE(response->ParseFromString(reply.body));
    }
    return reply.status;
  }

  std::string rep_token_;
};

TEST_F(ObservabilityIntegrationTest, MetricsCountEveryCallByMethodCodeAndTransport) {
  Start();
  const int http = server_->http_port();
  HttpReply first = Http(http, "GET", "/metrics");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_THAT(first.headers, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  const std::map<std::string, double> before = Samples(first.body);

  client::Client rep = ClientFor(rep_token_);
  uint64_t matches = 0;
  int unmatched = 0;
  for (int i = 0; i < 4; ++i) {
    auto response = rep.LookupSops(Lookup("Lead", kMqlLeadFields));
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_GE(response->matches_size(), 1);
    matches += response->matches_size();
  }
  auto nothing = rep.LookupSops(Lookup("Invoice", ""));
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  ASSERT_EQ(nothing->matches_size(), 0);
  ++unmatched;
  for (int i = 0; i < 2; ++i) {
    v1::LookupSopsResponse response;
    ASSERT_EQ(ConnectLookup(Lookup("Lead", kMqlLeadFields), rep_token_, &response), 200);
    matches += response.matches_size();
  }
  v1::LookupSopsResponse refused;
  EXPECT_EQ(ConnectLookup(Lookup("Lead", kMqlLeadFields), "not-a-token", &refused), 401);
  v1::GetSopRequest missing;
  missing.set_name("orgs/default/sops/no-such-sop");
  EXPECT_EQ(rep.GetSop(missing).status().code(), absl::StatusCode::kNotFound);
  // An open watch shows in the gauge while it is open.
  double open_watches = -1;
  v1::WatchSopsRequest watch;
  *watch.mutable_context() = Lookup("Lead", kMqlLeadFields).context();
  absl::Status watched = rep.WatchSops(watch, [&](const v1::WatchSopsResponse&) {
    open_watches = Samples(Http(http, "GET", "/metrics").body)["sopd_watch_streams_open"];
    return false;
  });
  ASSERT_TRUE(watched.ok()) << watched;
  EXPECT_EQ(open_watches, 1);
  // The server closes the stream after the client has gone: wait for it.
  for (int i = 0; i < 500; ++i) {
    if (Samples(Http(http, "GET", "/metrics").body)["sopd_watch_streams_open"] == 0) break;
    absl::SleepFor(absl::Milliseconds(10));
  }

  HttpReply second = Http(http, "GET", "/metrics");
  ASSERT_EQ(second.status, 200);
  std::cout << "sopd /metrics after the calls (" << second.body.size() << " bytes):\n"
            << second.body;
  const std::map<std::string, double> after = Samples(second.body);
  EXPECT_EQ(Delta(before, after, Requests(kLookupPath, "OK", "grpc")), 5);
  EXPECT_EQ(Delta(before, after, Requests(kLookupPath, "OK", "connect")), 2);
  EXPECT_EQ(Delta(before, after, Requests(kLookupPath, "UNAUTHENTICATED", "connect")), 1);
  EXPECT_EQ(Delta(before, after, Requests("/sopsidebar.v1.SopService/GetSop", "NOT_FOUND", "grpc")),
            1);
  EXPECT_EQ(Delta(before, after, Requests("/sopsidebar.v1.ContextService/WatchSops", "OK", "grpc")),
            1);
  EXPECT_EQ(Delta(before, after,
                  absl::StrCat("sopd_rpc_duration_seconds_count{method=\"", kLookupPath,
                               "\",transport=\"grpc\"}")),
            5);
  EXPECT_EQ(Delta(before, after, "sopd_lookups_total"), 7);
  EXPECT_EQ(Delta(before, after, "sopd_lookup_matches_total"), matches);
  EXPECT_EQ(Delta(before, after, "sopd_lookups_unmatched_total"), unmatched);
  EXPECT_EQ(after.at("sopd_watch_streams_open"), 0);
  EXPECT_EQ(after.at("sopd_build_info{version=\"0.1.0\"}"), 1);
  EXPECT_GT(after.at("sopd_uptime_seconds"), 0);
  EXPECT_GT(after.at("sopd_startup_phase_seconds{phase=\"total\"}"), 0);
  EXPECT_EQ(after.at("sopd_index_published_sops"), server_->published_count());
  EXPECT_GT(after.at("sopd_index_targeting_rules"), 0);
  EXPECT_GT(after.at("sopd_rocksdb_estimate_num_keys"), 0);
  EXPECT_EQ(after.at("sopd_rocksdb_background_errors"), 0);
  // Nothing of a tenant's: no org, SOP or user names, no token.
  EXPECT_THAT(second.body, Not(HasSubstr("orgs/")));
  EXPECT_THAT(second.body, Not(HasSubstr("obs-rep")));
  EXPECT_THAT(second.body, Not(HasSubstr(rep_token_)));
}

TEST_F(ObservabilityIntegrationTest, HealthzAndReadyzAnswerWhileServingAndReadinessEndsAtShutdown) {
  Start();
  const int http = server_->http_port();
  HttpReply health = Http(http, "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  HttpReply ready = Http(http, "GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  EXPECT_TRUE(server_->Readiness().ok());
  server_->Shutdown();
  EXPECT_EQ(server_->Readiness(), absl::UnavailableError("shutting down"));
  EXPECT_EQ(Http(http, "GET", "/healthz").status, 0) << "the gateway has stopped";
}

TEST_F(ObservabilityIntegrationTest, EveryCallWritesAnAccessLineWithTheCallerAndNeverAToken) {
  Start();
  client::Client rep = ClientFor(rep_token_);
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(rep.LookupSops(Lookup("Lead", kMqlLeadFields)).ok());
  v1::LookupSopsResponse response;
  EXPECT_EQ(ConnectLookup(Lookup("Lead", kMqlLeadFields), "wrong-secret-0123456789", &response),
            401);
  const std::string log = ::testing::internal::GetCapturedStderr();
  std::cout << "stderr during the calls:\n" << log;
  EXPECT_THAT(log, HasSubstr(absl::StrCat(" sopd: access transport=grpc method=", kLookupPath,
                                          " code=OK latency_ms=")));
  EXPECT_THAT(log, HasSubstr(" caller=orgs/default/tokens/"));
  EXPECT_THAT(log, HasSubstr(" user=obs-rep peer=ipv4:127.0.0.1:"));
  EXPECT_THAT(log, HasSubstr(absl::StrCat(" sopd: access transport=connect method=", kLookupPath,
                                          " code=UNAUTHENTICATED latency_ms=")));
  EXPECT_THAT(log, HasSubstr("caller=\"\" user=\"\" peer=127.0.0.1:"));
  EXPECT_THAT(log, Not(HasSubstr(rep_token_)));
  EXPECT_THAT(log, Not(HasSubstr("wrong-secret-0123456789")));
  EXPECT_THAT(log, Not(HasSubstr(admin_token_)));
}

TEST_F(ObservabilityIntegrationTest, JsonLogsCarryTheAccessFieldsAndTheAccessLogTurnsOff) {
  SetLogOptions(LogFormat::kJson, LogLevel::kInfo);
  Start();
  client::Client rep = ClientFor(rep_token_);
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(rep.LookupSops(Lookup("Lead", kMqlLeadFields)).ok());
  const std::string log = ::testing::internal::GetCapturedStderr();
  SetLogOptions(LogFormat::kText, LogLevel::kInfo);
  std::cout << "stderr during the call:\n" << log;
  EXPECT_THAT(log, HasSubstr(absl::StrCat("\"level\":\"info\",\"msg\":\"access\","
                                          "\"transport\":\"grpc\",\"method\":\"",
                                          kLookupPath, "\",\"code\":\"OK\",\"latency_ms\":\"")));
  EXPECT_THAT(log, HasSubstr("\"user\":\"obs-rep\""));
  EXPECT_THAT(log, Not(HasSubstr(rep_token_)));

  StopServer();
  options_.dispatcher.access_log = false;
  StartServer();
  client::Client quiet = ClientFor(rep_token_);
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(quiet.LookupSops(Lookup("Lead", kMqlLeadFields)).ok());
  EXPECT_THAT(::testing::internal::GetCapturedStderr(), Not(HasSubstr("access")));
}

}  // namespace
}  // namespace sopsidebar
