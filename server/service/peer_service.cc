#include "server/service/peer_service.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "server/common/crypto.h"
#include "server/domain/analytics/analytics.h"
#include "server/service/grpc_status.h"
#include "server/service/peer_service_impl.h"
#include "sopsidebar/internal/v1/peer_service.grpc.pb.h"

namespace sopsidebar {
namespace {

using internal::v1::ListDayAggregatesRequest;
using internal::v1::ListDayAggregatesResponse;

// Aggregates per message: a day's aggregate is a few hundred bytes, or a
// few KiB with many first-contact delays, well under the 4 MiB limit.
constexpr int kAggregatesPerMessage = 256;

class PeerServiceImpl final : public internal::v1::PeerService::Service {
 public:
  explicit PeerServiceImpl(PeerServiceOptions options) : options_(std::move(options)) {}

  grpc::Status ListDayAggregates(grpc::ServerContext* context,
                                 const ListDayAggregatesRequest* request,
                                 grpc::ServerWriter<ListDayAggregatesResponse>* writer) override {
    const auto& metadata = context->client_metadata();
    auto shown = metadata.find(kPeerSecretMetadata);
    if (shown == metadata.end() ||
        !ConstantTimeEquals(absl::string_view(shown->second.data(), shown->second.size()),
                            options_.secret)) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "PeerService is for the nodes of this cluster only");
    }
    ListDayAggregatesResponse batch;
    bool sent = true;
    const absl::Status status = options_.analytics->ForEachNodeAggregate(
        request->org(), request->first_day(), request->last_day(),
        [&](internal::v1::DayAggregate&& row) {
          *batch.add_aggregates() = std::move(row);
          if (batch.aggregates_size() < kAggregatesPerMessage) return absl::OkStatus();
          sent = writer->Write(batch);
          batch.Clear();
          return sent ? absl::OkStatus() : absl::CancelledError("the asking node went away");
        });
    if (!status.ok()) return ToGrpcStatus(status);
    if (batch.aggregates_size() > 0 && !writer->Write(batch)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "the asking node went away");
    }
    return grpc::Status::OK;
  }

 private:
  const PeerServiceOptions options_;
};

std::shared_ptr<grpc::ChannelCredentials> CredentialsFor(
    const std::optional<PeerClient::Options::Tls>& tls) {
  if (!tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls->root_certs_pem;
  ssl.pem_private_key = tls->private_key_pem;
  ssl.pem_cert_chain = tls->cert_chain_pem;
  return grpc::SslCredentials(ssl);
}

}  // namespace

std::unique_ptr<grpc::Service> MakePeerService(PeerServiceOptions options) {
  return std::make_unique<PeerServiceImpl>(std::move(options));
}

class PeerClient::Channels {
 public:
  explicit Channels(std::shared_ptr<grpc::ChannelCredentials> credentials)
      : credentials_(std::move(credentials)) {}

  internal::v1::PeerService::Stub* StubFor(const std::string& address) {
    absl::MutexLock lock(&mu_);
    std::unique_ptr<internal::v1::PeerService::Stub>& stub = stubs_[address];
    if (stub == nullptr) {
      // Calls fail fast while a node is unreachable (it is then missing from
      // the report at once); a node back up is tried again within seconds,
      // not gRPC's default of up to two minutes.
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
      stub = internal::v1::PeerService::NewStub(
          grpc::CreateCustomChannel(address, credentials_, args));
    }
    return stub.get();
  }

 private:
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  absl::Mutex mu_;
  // Stubs are thread-safe and never removed: a cluster has a few nodes.
  absl::flat_hash_map<std::string, std::unique_ptr<internal::v1::PeerService::Stub>> stubs_
      ABSL_GUARDED_BY(mu_);
};

PeerClient::PeerClient(Options options)
    : options_(std::move(options)),
      channels_(std::make_unique<Channels>(CredentialsFor(options_.tls))) {}

PeerClient::~PeerClient() = default;

absl::StatusOr<std::vector<internal::v1::DayAggregate>> PeerClient::List(const ClusterNode& node,
                                                                         absl::string_view org,
                                                                         DayNumber first,
                                                                         DayNumber last) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  context.AddMetadata(kPeerSecretMetadata, options_.secret);
  ListDayAggregatesRequest request;
  request.set_org(std::string(org));
  request.set_first_day(first);
  request.set_last_day(last);
  std::unique_ptr<grpc::ClientReader<ListDayAggregatesResponse>> reader =
      channels_->StubFor(node.address)->ListDayAggregates(&context, request);
  std::vector<internal::v1::DayAggregate> rows;
  ListDayAggregatesResponse batch;
  while (reader->Read(&batch)) {
    for (internal::v1::DayAggregate& row : *batch.mutable_aggregates()) {
      rows.push_back(std::move(row));
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("asking ", node.address, ": ", status.error_message()));
  }
  return rows;
}

}  // namespace sopsidebar
