#include "client/retry.h"

#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/time/clock.h"

namespace sopsidebar::client {
namespace {

// What RetryOptions says is safe to repeat among the unary methods
// CallUnary may be given: the reads, and RecordEvents (idempotent by event
// id). Everything else writes (a repeated Submit, Approve or AddComment
// could act twice).
bool IsRead(const google::protobuf::MethodDescriptor& method) {
  const std::string& name = method.name();
  return absl::StartsWith(name, "Get") || absl::StartsWith(name, "List") || name == "LookupSops" ||
         name == "CheckTargeting" || name == "DiffSopRevisions" || name == "VerifyAuditLog" ||
         name == "WhoAmI" || name == "Ping" || name == "ValidateTransition" ||
         name == "SearchSops" || name == "RecordEvents" || name == "PreviewTargeting";
}

class RetryingConnection : public Connection {
 public:
  RetryingConnection(std::shared_ptr<Connection> inner, const RetryOptions& options)
      : inner_(std::move(inner)), options_(options) {}

  absl::StatusOr<v1::Sop> CreateSop(const v1::CreateSopRequest& request) override {
    // Without a request id a repeated create could create a second SOP (or
    // fail with ALREADY_EXISTS after the first attempt succeeded unseen).
    if (request.request_id().empty()) return inner_->CreateSop(request);
    return Retry([&] { return inner_->CreateSop(request); });
  }
  absl::StatusOr<v1::Sop> GetSop(const v1::GetSopRequest& request) override {
    return Retry([&] { return inner_->GetSop(request); });
  }
  absl::StatusOr<v1::ListSopsResponse> ListSops(const v1::ListSopsRequest& request) override {
    return Retry([&] { return inner_->ListSops(request); });
  }
  absl::StatusOr<v1::Sop> UpdateSop(const v1::UpdateSopRequest& request) override {
    return inner_->UpdateSop(request);
  }
  absl::StatusOr<v1::Sop> DeleteSop(const v1::DeleteSopRequest& request) override {
    return inner_->DeleteSop(request);
  }
  absl::StatusOr<v1::Sop> UndeleteSop(const v1::UndeleteSopRequest& request) override {
    return inner_->UndeleteSop(request);
  }
  absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const v1::ListSopRevisionsRequest& request) override {
    return Retry([&] { return inner_->ListSopRevisions(request); });
  }
  absl::StatusOr<v1::SopRevision> GetSopRevision(
      const v1::GetSopRevisionRequest& request) override {
    return Retry([&] { return inner_->GetSopRevision(request); });
  }
  absl::StatusOr<v1::PublishSopResponse> PublishSop(const v1::PublishSopRequest& request) override {
    return inner_->PublishSop(request);
  }
  // A read: it checks the draft and changes nothing.
  absl::StatusOr<v1::CheckTargetingResponse> CheckTargeting(
      const v1::CheckTargetingRequest& request) override {
    return Retry([&] { return inner_->CheckTargeting(request); });
  }
  absl::StatusOr<v1::LookupSopsResponse> LookupSops(const v1::LookupSopsRequest& request) override {
    return Retry([&] { return inner_->LookupSops(request); });
  }
  // Retried as reads are, but only while nothing was delivered: a caller
  // that has seen a message must not see it again as the stream's first.
  // A stream that ends after sopd's `reconnect` message (it is shutting
  // down) is opened again at once, with its attempts counted afresh; the
  // caller does not see the `reconnect`, and the new stream's first result
  // reaches it as a change would. With retries off (max_attempts 1) the
  // stream is the inner connection's, `reconnect` included.
  absl::Status WatchSops(
      const v1::WatchSopsRequest& request,
      const std::function<bool(const v1::WatchSopsResponse&)>& on_message) override {
    // Retries off: the caller sees the stream as it is, `reconnect` included.
    if (options_.max_attempts <= 1) return inner_->WatchSops(request, on_message);
    absl::Duration backoff = options_.initial_backoff;
    for (int attempt = 1;; ++attempt) {
      bool delivered = false;
      bool told_to_reconnect = false;
      absl::Status status = inner_->WatchSops(request, [&](const v1::WatchSopsResponse& message) {
        if (message.has_reconnect()) {
          told_to_reconnect = true;
          return true;  // the stream ends next
        }
        told_to_reconnect = false;
        delivered = true;
        return on_message(message);
      });
      if (told_to_reconnect && (status.ok() || status.code() == absl::StatusCode::kUnavailable)) {
        attempt = 0;
        backoff = options_.initial_backoff;
        continue;
      }
      if (status.ok() || delivered || status.code() != absl::StatusCode::kUnavailable ||
          attempt >= options_.max_attempts) {
        return status;
      }
      absl::SleepFor(backoff);
      backoff *= 2;
    }
  }

  // Never retried: a caller may have written part of the stream.
  // Never retried: a stream of events from now on.
  absl::Status WatchChanges(
      const v1::WatchChangesRequest& request,
      const std::function<bool(const v1::ChangeEvent&)>& on_message) override {
    return inner_->WatchChanges(request, on_message);
  }

  absl::Status CreateBackup(
      const v1::CreateBackupRequest& request,
      const std::function<bool(const v1::CreateBackupResponse&)>& on_message) override {
    return inner_->CreateBackup(request, on_message);
  }

  absl::StatusOr<v1::WhoAmIResponse> WhoAmI(const v1::WhoAmIRequest& request) override {
    return Retry([&] { return inner_->WhoAmI(request); });
  }
  // A repeated create could make a second token (with a secret nobody sees).
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(
      const v1::CreateTokenRequest& request) override {
    return inner_->CreateToken(request);
  }
  absl::StatusOr<v1::ListTokensResponse> ListTokens(const v1::ListTokensRequest& request) override {
    return Retry([&] { return inner_->ListTokens(request); });
  }
  absl::StatusOr<v1::Token> GetToken(const v1::GetTokenRequest& request) override {
    return Retry([&] { return inner_->GetToken(request); });
  }
  absl::StatusOr<v1::Token> RevokeToken(const v1::RevokeTokenRequest& request) override {
    return inner_->RevokeToken(request);
  }
  absl::StatusOr<v1::Org> CreateOrg(const v1::CreateOrgRequest& request) override {
    return inner_->CreateOrg(request);
  }
  absl::StatusOr<v1::ListOrgsResponse> ListOrgs(const v1::ListOrgsRequest& request) override {
    return Retry([&] { return inner_->ListOrgs(request); });
  }
  absl::StatusOr<v1::Org> GetOrg(const v1::GetOrgRequest& request) override {
    return Retry([&] { return inner_->GetOrg(request); });
  }
  absl::StatusOr<v1::RoleMap> GetRoleMap(const v1::GetRoleMapRequest& request) override {
    return Retry([&] { return inner_->GetRoleMap(request); });
  }
  absl::StatusOr<v1::RoleMap> UpdateRoleMap(const v1::UpdateRoleMapRequest& request) override {
    return Retry([&] { return inner_->UpdateRoleMap(request); });
  }
  absl::StatusOr<v1::FieldMap> GetFieldMap(const v1::GetFieldMapRequest& request) override {
    return Retry([&] { return inner_->GetFieldMap(request); });
  }
  absl::StatusOr<v1::FieldMap> UpdateFieldMap(const v1::UpdateFieldMapRequest& request) override {
    return Retry([&] { return inner_->UpdateFieldMap(request); });
  }
  absl::StatusOr<v1::PingResponse> Ping(const v1::PingRequest& request) override {
    return Retry([&] { return inner_->Ping(request); });
  }
  absl::Status CallUnary(const google::protobuf::MethodDescriptor& method,
                         const google::protobuf::Message& request,
                         google::protobuf::Message* response) override {
    if (!IsRead(method)) return inner_->CallUnary(method, request, response);
    absl::Duration backoff = options_.initial_backoff;
    for (int attempt = 1;; ++attempt) {
      absl::Status status = inner_->CallUnary(method, request, response);
      if (status.ok() || status.code() != absl::StatusCode::kUnavailable ||
          attempt >= options_.max_attempts) {
        return status;
      }
      absl::SleepFor(backoff);
      backoff *= 2;
    }
  }

 private:
  template <typename Call>
  auto Retry(Call call) -> decltype(call()) {
    absl::Duration backoff = options_.initial_backoff;
    for (int attempt = 1;; ++attempt) {
      auto result = call();
      if (result.ok() || result.status().code() != absl::StatusCode::kUnavailable ||
          attempt >= options_.max_attempts) {
        return result;
      }
      absl::SleepFor(backoff);
      backoff *= 2;
    }
  }

  const std::shared_ptr<Connection> inner_;
  const RetryOptions options_;
};

}  // namespace

std::shared_ptr<Connection> MakeRetryingConnection(std::shared_ptr<Connection> inner,
                                                   const RetryOptions& options) {
  return std::make_shared<RetryingConnection>(std::move(inner), options);
}

}  // namespace sopsidebar::client
