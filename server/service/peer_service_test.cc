// PeerService and PeerClient over a real gRPC server on loopback: a node
// with the cluster's secret gets every aggregate (more than one message's
// worth), anyone else UNAUTHENTICATED, and a node that is not there
// UNAVAILABLE, named by its address; with TLS, each side verified.
#include "server/service/peer_service.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/analytics/analytics.h"
#include "server/domain/store/in_memory_event_store.h"
#include "server/service/peer_service_impl.h"

namespace sopsidebar {
namespace {

constexpr char kSecret[] = "the-cluster-secret";
constexpr int kDays = 300;
constexpr int kReps = 3;

class PeerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // kDays days of kReps aggregates each: several of the stream's messages.
    EventWrite write;
    write.org = "acme";
    for (DayNumber day = 20000; day < 20000 + kDays; ++day) {
      for (int rep = 0; rep < kReps; ++rep) {
        AggregateDelta delta;
        delta.day = day;
        delta.dimensions.set_rep(absl::StrCat("sdr", rep, "@example.com"));
        (*delta.delta.mutable_counts())["shown"] = day - 20000 + rep;
        delta.delta.add_first_contact_delays_ms(1000 * rep);
        write.deltas.push_back(std::move(delta));
      }
    }
    ASSERT_TRUE(events_.Write(write).ok());
    Analytics::Options options;
    options.coverage_flush_interval = absl::ZeroDuration();
    // Only the event store is read for a peer.
    analytics_ = std::make_unique<Analytics>(&events_, nullptr, nullptr, nullptr, &clock_, options);
    service_ = MakePeerService(PeerServiceOptions{analytics_.get(), kSecret});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    if (tls_server_ != nullptr) tls_server_->Shutdown();
  }

  // A second server of the same service with TLS that requires client
  // certificates, its certificate (for 127.0.0.1, self-signed, made with
  // openssl) also the CA; false when openssl could not make one.
  bool StartTlsServer() {
    const std::filesystem::path dir =
        std::filesystem::path(::testing::TempDir()) / absl::StrCat("peer_tls_test-", ::getpid());
    std::filesystem::create_directories(dir);
    const std::string command = absl::StrCat(
        "/usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sopd-node "
        "-addext subjectAltName=IP:127.0.0.1 -keyout ",
        (dir / "key.pem").string(), " -out ", (dir / "cert.pem").string(), " 2>/dev/null");
    if (std::system(command.c_str()) != 0) return false;
    auto read = [](const std::filesystem::path& path) {
      std::ifstream in(path);
      std::stringstream contents;
      contents << in.rdbuf();
      return contents.str();
    };
    cert_ = read(dir / "cert.pem");
    key_ = read(dir / "key.pem");
    std::filesystem::remove_all(dir);
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = cert_;
    ssl.pem_key_cert_pairs.push_back({key_, cert_});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &tls_port_);
    builder.RegisterService(service_.get());
    tls_server_ = builder.BuildAndStart();
    return tls_server_ != nullptr;
  }

  absl::StatusOr<std::vector<internal::v1::DayAggregate>> Ask(const std::string& secret,
                                                              DayNumber first, DayNumber last) {
    PeerClient::Options options;
    options.secret = secret;
    PeerClient client(options);
    return client.List({"node-b", absl::StrCat("127.0.0.1:", port_), true}, "acme", first, last);
  }

  FakeClock clock_;
  InMemoryEventStore events_;
  std::unique_ptr<Analytics> analytics_;
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string cert_;
  std::string key_;
  std::unique_ptr<grpc::Server> tls_server_;
  int tls_port_ = 0;
};

TEST_F(PeerServiceTest, ANodeWithTheSecretGetsEveryAggregateOfTheDays) {
  auto rows = Ask(kSecret, 20000, 20000 + kDays - 1);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), static_cast<size_t>(kDays * kReps));
  int64_t shown = 0;
  for (const internal::v1::DayAggregate& row : *rows) {
    EXPECT_GE(row.day(), 20000);
    EXPECT_EQ(row.aggregate().first_contact_delays_ms_size(), 1);
    shown += row.aggregate().counts().at("shown");
  }
  // Sum over days d and reps r of (d + r).
  EXPECT_EQ(shown, kReps * (kDays * (kDays - 1) / 2) + kDays * (kReps * (kReps - 1) / 2));
  // A range: only its days.
  auto two_days = Ask(kSecret, 20010, 20011);
  ASSERT_TRUE(two_days.ok()) << two_days.status();
  EXPECT_EQ(two_days->size(), static_cast<size_t>(2 * kReps));
}

TEST_F(PeerServiceTest, AnyoneWithoutTheSecretIsUnauthenticated) {
  for (const std::string secret : {"", "the-cluster-secreT", "the-cluster-secret-and-more"}) {
    auto rows = Ask(secret, 20000, 20001);
    EXPECT_EQ(rows.status().code(), absl::StatusCode::kUnauthenticated) << secret;
  }
}

TEST_F(PeerServiceTest, WithTlsANodeIsVerifiedAndShowsItsCertificate) {
  if (!StartTlsServer()) GTEST_SKIP() << "openssl could not make a certificate";
  const ClusterNode node{"node-b", absl::StrCat("127.0.0.1:", tls_port_), true};
  PeerClient::Options options;
  options.secret = kSecret;
  options.tls.emplace();
  options.tls->root_certs_pem = cert_;
  options.tls->cert_chain_pem = cert_;
  options.tls->private_key_pem = key_;
  auto rows = PeerClient(options).List(node, "acme", 20000, 20001);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), static_cast<size_t>(2 * kReps));
  // Without a client certificate the node refuses the connection; trusting
  // only the system's roots, this node refuses the other's certificate.
  options.tls->cert_chain_pem.clear();
  options.tls->private_key_pem.clear();
  EXPECT_EQ(PeerClient(options).List(node, "acme", 20000, 20001).status().code(),
            absl::StatusCode::kUnavailable);
  options.tls.emplace();
  EXPECT_EQ(PeerClient(options).List(node, "acme", 20000, 20001).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(PeerServiceTest, BadRangesAreInvalidArgumentAndAnAbsentNodeUnavailable) {
  EXPECT_EQ(Ask(kSecret, 20005, 20001).status().code(), absl::StatusCode::kInvalidArgument);
  server_->Shutdown();
  server_.reset();
  absl::Status gone = Ask(kSecret, 20000, 20001).status();
  EXPECT_EQ(gone.code(), absl::StatusCode::kUnavailable) << gone;
  EXPECT_NE(gone.message().find(absl::StrCat("127.0.0.1:", port_)), absl::string_view::npos)
      << gone;
}

}  // namespace
}  // namespace sopsidebar
