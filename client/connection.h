// The transport seam of the client library (google-cloud-cpp shape): Client
// is a cheap value over a Connection, and the Connection is the one place
// that talks gRPC. Tests substitute a fake Connection.
#ifndef SOPSIDEBAR_CLIENT_CONNECTION_H_
#define SOPSIDEBAR_CLIENT_CONNECTION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar::client {

// When a failed call is tried again. Only UNAVAILABLE is retried, and only
// for calls that are safe to repeat: reads (Get*, List*, LookupSops) and
// CreateSop with a request_id.
struct RetryOptions {
  // Attempts per call, the first included; 1 disables retries.
  int max_attempts = 3;
  // The wait before the second attempt; it doubles before each later one.
  absl::Duration initial_backoff = absl::Milliseconds(100);
};

struct ConnectionOptions {
  // The sopd gRPC address, host:port.
  std::string target = "127.0.0.1:50051";
  // The deadline of each attempt of each call.
  absl::Duration timeout = absl::Seconds(10);
  // Sent as `x-sop-author` metadata and recorded by sopd as the author of
  // changes; not sent when empty (sopd then records "anonymous"). Must be
  // printable ASCII, or every call fails with INVALID_ARGUMENT.
  std::string author;
  RetryOptions retry;
};

// One method per RPC of sopsidebar.v1.SopService and ContextService. Each
// returns the response, or the call's status with its code and message as
// the server sent them (UNAVAILABLE when sopd cannot be reached,
// DEADLINE_EXCEEDED when the timeout passed). Implementations must be
// thread-safe.
class Connection {
 public:
  virtual ~Connection() = default;

  virtual absl::StatusOr<v1::Sop> CreateSop(const v1::CreateSopRequest& request) = 0;
  virtual absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request) = 0;
  virtual absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request) = 0;
  virtual absl::StatusOr<v1::Sop> UpdateSop(const v1::UpdateSopRequest& request) = 0;
  virtual absl::StatusOr<v1::Sop> DeleteSop(const v1::DeleteSopRequest& request) = 0;
  virtual absl::StatusOr<v1::Sop> UndeleteSop(const v1::UndeleteSopRequest& request) = 0;
  virtual absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest& request) = 0;
  virtual absl::StatusOr<v1::SopRevision> GetSopRevision(
      const v1::GetSopRevisionRequest& request) = 0;
  virtual absl::StatusOr<v1::Sop> PublishSop(const v1::PublishSopRequest& request) = 0;
  virtual absl::StatusOr<v1::LookupSopsResponse> LookupSops(
      const v1::LookupSopsRequest& request) = 0;
};

// A Connection to sopd over gRPC (insecure channel credentials), with the
// retries of `options.retry`. The channel connects lazily: an unreachable
// server shows up as UNAVAILABLE on the first call.
std::shared_ptr<Connection> MakeGrpcConnection(const ConnectionOptions& options);

}  // namespace sopsidebar::client

#endif  // SOPSIDEBAR_CLIENT_CONNECTION_H_
