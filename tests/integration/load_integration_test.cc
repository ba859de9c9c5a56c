// Many clients at once against a real sopd (SopdServer, as main runs it) on
// a loopback port: calls that may block wait their turn on sopd's queues
// instead of being refused, and every caller gets its answer.
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

class LoadIntegrationTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    options_.import_dir = SOP_EXAMPLES_DIR;
    StartServer();
  }
};

TEST_F(LoadIntegrationTest, SixtyFourClientsReadingAtOnceAreAllServed) {
  const std::string sdr = IssueToken(admin_token_, "sam@example.com", {v1::SDR});
  constexpr int kClients = 64;
  constexpr int kCallsEach = 40;
  std::atomic<int> answered{0};
  absl::Mutex mu;
  std::map<std::string, int> failures;  // "CODE: message" -> count
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      client::ConnectionOptions connection = ConnectionTo(sdr);
      connection.retry.max_attempts = 1;  // a refusal must show, not be retried away
      client::Client client(client::MakeGrpcConnection(connection));
      for (int call = 0; call < kCallsEach; ++call) {
        absl::Status status;
        if ((i + call) % 2 == 0) {
          v1::GetSopRequest get;
          get.set_name("orgs/default/sops/mql-acceptance-handoff");
          status = client.GetSop(get).status();
        } else {
          v1::ListSopsRequest list;
          list.set_parent("orgs/default");
          status = client.ListSops(list).status();
        }
        if (status.ok()) {
          answered.fetch_add(1);
        } else {
          absl::MutexLock lock(&mu);
          ++failures[absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                                  status.message())];
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (const auto& [failure, count] : failures) ADD_FAILURE() << count << " x " << failure;
  EXPECT_EQ(answered.load(), kClients * kCallsEach);
}

}  // namespace
}  // namespace sopsidebar
