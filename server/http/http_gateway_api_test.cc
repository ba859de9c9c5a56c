// The gateway in front of the real API: server/api's ApiMethods and
// Dispatcher (as sopd wires them, ServedApi) over an in-memory store, called with a
// real token over a socket. Checks the wiring, not every method: those are
// server/api's tests.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/api/served_api.h"
#include "server/common/clock.h"
#include "server/common/crypto.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "server/domain/store/in_memory_sop_store.h"
#include "server/http/http_gateway.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// One request on a fresh connection; the raw response up to `stop` (or
// the end of the response, for a Content-Length body).
std::string Exchange(int port, const std::string& request, absl::string_view stop = "") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buffer[8192];
    while (true) {
      size_t head_end = response.find("\r\n\r\n");
      if (!stop.empty() && absl::StrContains(response, stop)) break;
      if (stop.empty() && head_end != std::string::npos) {
        size_t length_at = response.find("Content-Length: ");
        size_t length = 0;
        if (length_at != std::string::npos &&
            absl::SimpleAtoi(
                response.substr(length_at + 16, response.find("\r\n", length_at) - length_at - 16),
                &length) &&
            response.size() >= head_end + 4 + length) {
          break;
        }
      }
      ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      response.append(buffer, n);
    }
  }
  close(fd);
  return response;
}

std::string Post(absl::string_view path, absl::string_view type, absl::string_view body,
                 absl::string_view token) {
  return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: localhost\r\nContent-Type: ", type,
                      "\r\nContent-Length: ", body.size(), "\r\n",
                      token.empty() ? "" : absl::StrCat("Authorization: Bearer ", token, "\r\n"),
                      "\r\n", body);
}

std::string Envelope(absl::string_view json) {
  std::string out(5, '\0');
  out[4] = static_cast<char>(json.size());
  return absl::StrCat(out, json);
}

class HttpGatewayApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto access = AccessRegistry::Create(&auth_store_, &clock_);
    ASSERT_TRUE(access.ok()) << access.status();
    access_ = std::move(access).value();
    auto secret = access_->BootstrapAdminToken();
    ASSERT_TRUE(secret.ok() && secret->has_value());
    token_ = **secret;
    auto registry = SopRegistry::Create(&sop_store_, &clock_, IndexedSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(registry).value();
    auto api = ServedApi::Create(registry_.get(), access_.get(), crm_.get(), ServedApi::Options());
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = std::move(api).value();
    HttpGatewayOptions options;
    options.listen_address = "127.0.0.1:0";
    auto gateway = HttpGateway::Start(options, api_->methods(), api_->dispatcher());
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = std::move(gateway).value();
  }

  void TearDown() override { gateway_.reset(); }

  FakeClock clock_;
  InMemoryAuthStore auth_store_;
  InMemorySopStore sop_store_;
  std::unique_ptr<AccessRegistry> access_;
  std::unique_ptr<CrmMaps> crm_ = CrmMaps::Create(&auth_store_, &clock_).value();
  std::string token_;
  std::unique_ptr<SopRegistry> registry_;
  std::unique_ptr<ServedApi> api_;
  std::unique_ptr<HttpGateway> gateway_;
};

TEST_F(HttpGatewayApiTest, WhoAmIAnswersTheTokensCallerAsJson) {
  std::string response = Exchange(gateway_->port(), Post("/sopsidebar.v1.AdminService/WhoAmI",
                                                         "application/json", "{}", token_));
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(response, HasSubstr(R"("serverAdmin":true)"));
}

TEST_F(HttpGatewayApiTest, QueuedReadAnswersThroughTheDispatcher) {
  std::string response =
      Exchange(gateway_->port(), Post("/sopsidebar.v1.SopService/ListSops", "application/json",
                                      R"({"parent":"orgs/nobody-here"})", token_));
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 404 Not Found"));
  EXPECT_THAT(response, HasSubstr(R"("code":"not_found")")) << response;
}

TEST_F(HttpGatewayApiTest, LookupWithoutTokenIsUnauthenticated) {
  std::string response = Exchange(
      gateway_->port(), Post("/sopsidebar.v1.ContextService/LookupSops", "application/json",
                             R"({"context":{"recordType":"Lead"}})", ""));
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 401 Unauthorized"));
  EXPECT_THAT(response, HasSubstr(R"("code":"unauthenticated")"));
}

TEST_F(HttpGatewayApiTest, WatchSopsStreamsTheFirstResult) {
  std::string response =
      Exchange(gateway_->port(),
               Post("/sopsidebar.v1.ContextService/WatchSops", "application/connect+json",
                    Envelope(R"({"context":{"recordType":"Lead"}})"), token_),
               "\"result\"");
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(response, HasSubstr("application/connect+json"));
  EXPECT_THAT(response, HasSubstr(R"({"result":)"));
}


// hubspot.fetch from a HubSpot card: no token; HubSpot signs the request
// (v3) with the app's client secret and names the user and portal in the
// query. The signature is made here with sopd's HMAC; the verifier itself is
// held to vectors computed with Python's hmac (hubspot_signature_test).
class HubSpotGatewayTest : public HttpGatewayApiTest {
 protected:
  static constexpr char kSecret[] = "hubspot-app-client-secret";
  static constexpr char kLookup[] = "/sopsidebar.v1.ContextService/LookupSops";

  void SetUp() override {
    HttpGatewayApiTest::SetUp();
    const Caller admin = access_->Authenticate(token_).value();
    v1::CreateTokenRequest token;
    token.set_parent("orgs/default");
    token.mutable_token()->set_user_id("hubspot-app");
    token.mutable_token()->add_roles(v1::INTEGRATION);
    token.mutable_token()->set_crm("hubspot");
    token.mutable_token()->add_delegable_roles(v1::SDR);
    token.mutable_token()->add_delegable_roles(v1::AE);
    token.mutable_token()->set_hubspot_portal_id("4455");
    token.set_hubspot_client_secret(kSecret);
    ASSERT_TRUE(access_->CreateToken(admin, token).ok());
    v1::UpdateRoleMapRequest map;
    map.mutable_role_map()->set_name("orgs/default/roleMaps/hubspot");
    auto* ae = map.mutable_role_map()->add_entries();
    ae->set_crm_role("user:ae@example.com");
    ae->add_roles(v1::AE);
    auto* everyone = map.mutable_role_map()->add_entries();
    everyone->set_crm_role("*");
    everyone->add_roles(v1::SDR);
    ASSERT_TRUE(crm_->UpdateRoleMap(admin, map).ok());
    // An AE-only SOP for deals at the proposal stage.
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id("pricing");
    v1::Sop& sop = *create.mutable_sop();
    sop.set_title("Pricing playbook");
    sop.set_owner("Deal Desk");
    sop.add_visibility_roles(v1::AE);
    auto* rule = sop.add_targeting_rules();
    rule->add_record_types("Opportunity");
    auto* condition = rule->add_conditions();
    condition->set_field("stage_name");
    condition->mutable_equals()->set_string_value("Proposal/Price Quote");
    auto created = registry_->CreateSop(admin, create);
    ASSERT_TRUE(created.ok()) << created.status();
    v1::PublishSopRequest publish;
    publish.set_name(created->name());
    ASSERT_TRUE(registry_->PublishSop(admin, publish).ok());
  }

  // A LookupSops request as HubSpot sends it for `user`, signed with
  // `secret` at `when`.
  static std::string Signed(const std::string& user, const std::string& body,
                            const std::string& secret = kSecret, absl::Time when = absl::Now(),
                            const std::string& portal = "4455") {
    const std::string target = absl::StrCat(kLookup, "?userId=77&userEmail=", user,
                                            "&portalId=", portal, "&appId=9");
    const std::string timestamp = absl::StrCat(absl::ToUnixMillis(when));
    const std::string signature = absl::Base64Escape(HmacSha256(
        secret, absl::StrCat("POST", "http://localhost", target, body, timestamp)));
    return absl::StrCat("POST ", target, " HTTP/1.1\r\nHost: localhost\r\n",
                        "Content-Type: application/json\r\nContent-Length: ", body.size(),
                        "\r\nX-HubSpot-Signature-v3: ", signature,
                        "\r\nX-HubSpot-Request-Timestamp: ", timestamp, "\r\n\r\n", body);
  }

  static constexpr char kDeal[] =
      R"({"context":{"crm":"hubspot","recordType":"0-3","fields":{"dealstage":"Proposal/Price Quote"}}})";
};

TEST_F(HubSpotGatewayTest, ASignedRequestActsForTheHubSpotUserWithTheirMappedRoles) {
  std::string ae = Exchange(gateway_->port(), Signed("ae@example.com", kDeal));
  EXPECT_THAT(ae, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(ae, HasSubstr("orgs/default/sops/pricing"));
  EXPECT_THAT(ae, HasSubstr(R"({"field":"stage_name","crmField":"dealstage"})"));
  // Anyone else gets SDR from "*": the AE-only playbook is not theirs.
  std::string sdr = Exchange(gateway_->port(), Signed("sdr@example.com", kDeal));
  EXPECT_THAT(sdr, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(sdr, Not(HasSubstr("orgs/default/sops/pricing")));
}

TEST_F(HubSpotGatewayTest, EveryBadSignatureIsTheSameUnauthenticated) {
  std::string tampered = Signed("ae@example.com", kDeal);
  tampered.replace(tampered.find("Proposal"), 8, "Proposxl");
  const std::string replay = Signed("ae@example.com", kDeal);
  ASSERT_THAT(Exchange(gateway_->port(), replay), HasSubstr("HTTP/1.1 200 OK"));
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"tampered body", tampered},
      {"wrong secret", Signed("ae@example.com", kDeal, "another-secret")},
      {"stale", Signed("ae@example.com", kDeal, kSecret, absl::Now() - absl::Minutes(6))},
      {"replay", replay},
      {"unknown portal", Signed("ae@example.com", kDeal, kSecret, absl::Now(), "9999")},
  };
  std::string first_body;
  for (const auto& [why, request] : refused) {
    std::string response = Exchange(gateway_->port(), request);
    EXPECT_THAT(response, HasSubstr("HTTP/1.1 401 Unauthorized")) << why;
    const std::string body = response.substr(response.find("\r\n\r\n") + 4);
    EXPECT_THAT(body, HasSubstr("the HubSpot request signature is missing, invalid or expired"))
        << why;
    EXPECT_THAT(body, Not(HasSubstr(kSecret))) << why;
    if (first_body.empty()) first_body = body;
    EXPECT_EQ(body, first_body) << why;
  }
}

}  // namespace
}  // namespace sopsidebar
