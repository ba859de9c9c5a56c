// Oversized and hostile input against a real sopd (SopdServer on a loopback
// port) through the client library: every rejection arrives as its own code
// with a short message, whatever the request held.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

using ::testing::StartsWith;

constexpr size_t kMegabyte = 1 << 20;
// Far below the 8 KiB of metadata a gRPC client accepts.
constexpr size_t kShortMessage = 300;

class InputLimitsIntegrationTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    StartServer();
    reader_token_ = IssueToken(admin_token_, "reader@example.com", {v1::SALES_OPS});
  }

  std::string reader_token_;
};

TEST_F(InputLimitsIntegrationTest, MegabyteFilterIsInvalidArgumentWithAShortMessage) {
  v1::ListSopsRequest request;
  request.set_parent("orgs/default");
  request.set_filter(std::string(kMegabyte, 'x'));
  auto response = ClientFor(reader_token_).ListSops(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << response.status();
  EXPECT_THAT(std::string(response.status().message()), StartsWith("filter: "));
  EXPECT_LE(response.status().message().size(), kShortMessage);
}

TEST_F(InputLimitsIntegrationTest, MegabyteContextFieldNameIsInvalidArgumentWithAShortMessage) {
  v1::LookupSopsRequest request;
  request.mutable_context()->set_org("orgs/default");
  request.mutable_context()->set_record_type("Lead");
  (*request.mutable_context()->mutable_fields())[std::string(kMegabyte, 'f')].set_number_value(1);
  auto response = ClientFor(reader_token_).LookupSops(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << response.status();
  EXPECT_THAT(std::string(response.status().message()),
              StartsWith(absl::StrCat("context.fields[\"", std::string(64, 'f'), "\"… (",
                                      kMegabyte, " bytes)]: ")));
  EXPECT_LE(response.status().message().size(), kShortMessage);
}

}  // namespace
}  // namespace sopsidebar
