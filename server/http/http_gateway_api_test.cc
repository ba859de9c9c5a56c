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

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/api/served_api.h"
#include "server/common/clock.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "server/domain/store/in_memory_sop_store.h"
#include "server/http/http_gateway.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;

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

}  // namespace
}  // namespace sopsidebar
