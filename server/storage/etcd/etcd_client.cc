#include "server/storage/etcd/etcd_client.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "grpcpp/grpcpp.h"

namespace sopsidebar {

std::string EtcdPrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}
namespace {

absl::StatusOr<std::string> ReadFile(absl::string_view flag, const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  if (!in || contents.str().empty()) {
    return error::InvalidField(flag, absl::StrCat("cannot read ", path));
  }
  return contents.str();
}

// "host:port" of an http(s)://host:port endpoint, or INVALID_ARGUMENT.
absl::StatusOr<std::string> TargetOf(absl::string_view endpoint, bool* tls) {
  absl::string_view rest = endpoint;
  if (absl::ConsumePrefix(&rest, "https://")) {
    *tls = true;
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    *tls = false;
  } else {
    return error::InvalidField(
        "--etcd-endpoints",
        absl::StrCat(error::QuoteInput(endpoint), " is not http://host:port or https://host:port"));
  }
  absl::ConsumeSuffix(&rest, "/");
  const size_t colon = rest.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(rest.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return error::InvalidField("--etcd-endpoints",
                               absl::StrCat(error::QuoteInput(endpoint), " has no host:port"));
  }
  return std::string(rest);
}

// How long one attempt on one member may take: an election takes about a
// second, after which another attempt succeeds within the call timeout.
constexpr absl::Duration kAttemptTimeout = absl::Milliseconds(1500);

// How long one call waits for its member's connection before it tries the
// next member.
constexpr absl::Duration kConnectWait = absl::Milliseconds(500);

// etcd's "no leader" and "leader changed" answers: another member may do.
bool MemberCannotServe(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) return true;
  const std::string& m = status.error_message();
  return absl::StrContains(m, "no leader") || absl::StrContains(m, "leader changed") ||
         absl::StrContains(m, "not capable");
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(const EtcdOptions& options) {
  if (options.endpoints.empty()) return error::RequiredField("--etcd-endpoints");
  std::unique_ptr<EtcdClient> client(new EtcdClient());
  std::vector<std::string> targets;
  int tls_count = 0;
  for (const std::string& endpoint : options.endpoints) {
    bool tls = false;
    SOP_ASSIGN_OR_RETURN(std::string target, TargetOf(endpoint, &tls));
    tls_count += tls ? 1 : 0;
    targets.push_back(std::move(target));
  }
  if (tls_count != 0 && tls_count != static_cast<int>(targets.size())) {
    return error::InvalidField("--etcd-endpoints", "mixes http:// and https:// endpoints");
  }
  const bool tls = tls_count != 0;
  if (!tls && (!options.ca_file.empty() || !options.cert_file.empty())) {
    return error::InvalidField("--etcd-cacert", "TLS options need https:// endpoints");
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return error::InvalidField("--etcd-cert", "--etcd-cert and --etcd-key go together");
  }
  if (!options.user.empty() && options.password.empty()) {
    return error::InvalidField("--etcd-password-file", "--etcd-user needs a password");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.ca_file.empty()) {
      SOP_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadFile("--etcd-cacert", options.ca_file));
    }
    if (!options.cert_file.empty()) {
      SOP_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadFile("--etcd-cert", options.cert_file));
      SOP_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadFile("--etcd-key", options.key_file));
    }
    credentials = grpc::SslCredentials(ssl);
  }
  for (const std::string& target : targets) {
    grpc::ChannelArguments args;
    // Values up to etcd's request limit come back in one response.
    args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    // A member that went away is retried soon, not after gRPC's default
    // backoff of up to two minutes.
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    // gRPC otherwise waits at least 20 s between two connection attempts.
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(target, credentials, args);
    Member member;
    member.target = target;
    member.channel = channel;
    member.kv = etcdserverpb::KV::NewStub(channel);
    member.watch = etcdserverpb::Watch::NewStub(channel);
    member.lease = etcdserverpb::Lease::NewStub(channel);
    member.auth = etcdserverpb::Auth::NewStub(channel);
    client->members_.push_back(std::move(member));
  }
  client->endpoints_text_ = absl::StrJoin(options.endpoints, ",");
  client->call_timeout_ = options.call_timeout;
  client->attempt_timeout_ = std::min(options.call_timeout, kAttemptTimeout);
  client->user_ = options.user;
  client->password_ = options.password;
  return client;
}

std::unique_ptr<grpc::ClientContext> EtcdClient::NewContext(absl::Duration timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (timeout != absl::InfiniteDuration()) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
  if (!user_.empty()) {
    absl::MutexLock lock(&token_mu_);
    if (!token_.empty()) context->AddMetadata("token", token_);
  }
  return context;
}

absl::Status EtcdClient::Authenticate(const Member& member) const {
  etcdserverpb::AuthenticateRequest request;
  request.set_name(user_);
  request.set_password(password_);
  etcdserverpb::AuthenticateResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + call_timeout_));
  grpc::Status status = member.auth->Authenticate(&context, request, &response);
  if (!status.ok()) return Convert("authenticate", status);
  absl::MutexLock lock(&token_mu_);
  token_ = response.token();
  return absl::OkStatus();
}

absl::Status EtcdClient::Convert(absl::string_view what, const grpc::Status& status) const {
  const std::string detail = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::UNAVAILABLE:
      return error::StoreUnavailable(endpoints_text_, absl::StrCat(what, ": ", detail));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return error::StoreTimedOut(endpoints_text_, absl::StrCat(what, ": ", detail));
    case grpc::StatusCode::OUT_OF_RANGE:
      return absl::OutOfRangeError(absl::StrCat("etcd: ", what, ": ", detail));
    default:
      if (MemberCannotServe(status)) {
        return error::StoreUnavailable(endpoints_text_, absl::StrCat(what, ": ", detail));
      }
      return error::Storage(static_cast<absl::StatusCode>(status.error_code()),
                            absl::StrCat("etcd ", what), detail);
  }
}

bool EtcdClient::Connected(const Member& member, absl::Time deadline) const {
  if (member.channel->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) return true;
  // A sync client's fail-fast call does not wait for a connection, and
  // nothing else polls one in progress: wait here, on this thread, for a
  // little while.
  return member.channel->WaitForConnected(
      absl::ToChronoTime(std::min(deadline, absl::Now() + kConnectWait)));
}

template <typename Call>
absl::Status EtcdClient::OnSomeMember(absl::string_view what, const Call& call) const {
  // While no member can serve (all down, or electing a leader), rounds over
  // the members go on until the call timeout: an election takes about a
  // second, and a write should wait it out rather than fail.
  const absl::Time deadline = absl::Now() + call_timeout_;
  absl::Duration pause = absl::Milliseconds(50);
  grpc::Status status(grpc::StatusCode::UNAVAILABLE, "no member connected");
  while (true) {
    const size_t first = current_.load(std::memory_order_relaxed);
    for (size_t attempt = 0; attempt < members_.size(); ++attempt) {
      const size_t index = (first + attempt) % members_.size();
      const Member& member = members_[index];
      if (!Connected(member, deadline)) {
        status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              absl::StrCat("cannot connect to ", member.target));
        continue;
      }
      status = call(member);
      if (!user_.empty() && status.error_code() != grpc::StatusCode::OK &&
          (absl::StrContains(status.error_message(), "invalid auth token") ||
           absl::StrContains(status.error_message(), "user name is empty"))) {
        SOP_RETURN_IF_ERROR(Authenticate(member));
        status = call(member);
      }
      // A member whose leader just went away holds a proposal until its
      // attempt times out: that is a member that cannot serve, too.
      if (!MemberCannotServe(status) &&
          status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
        current_.store(index, std::memory_order_relaxed);
        return Convert(what, status);
      }
    }
    if (absl::Now() + pause >= deadline) return Convert(what, status);
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(400));
  }
}

absl::StatusOr<etcdserverpb::RangeResponse> EtcdClient::Range(
    const etcdserverpb::RangeRequest& request) const {
  etcdserverpb::RangeResponse response;
  SOP_RETURN_IF_ERROR(OnSomeMember("range", [&](const Member& member) {
    response.Clear();
    return member.kv->Range(NewContext(attempt_timeout_).get(), request, &response);
  }));
  return response;
}

absl::StatusOr<etcdserverpb::TxnResponse> EtcdClient::Txn(
    const etcdserverpb::TxnRequest& request) const {
  etcdserverpb::TxnResponse response;
  SOP_RETURN_IF_ERROR(OnSomeMember("txn", [&](const Member& member) {
    response.Clear();
    return member.kv->Txn(NewContext(attempt_timeout_).get(), request, &response);
  }));
  return response;
}

absl::StatusOr<etcdserverpb::LeaseGrantResponse> EtcdClient::LeaseGrant(int64_t ttl_seconds) const {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  SOP_RETURN_IF_ERROR(OnSomeMember("lease grant", [&](const Member& member) {
    response.Clear();
    return member.lease->LeaseGrant(NewContext(attempt_timeout_).get(), request, &response);
  }));
  return response;
}

absl::Status EtcdClient::LeaseKeepAlive(int64_t id) const {
  etcdserverpb::LeaseKeepAliveResponse response;
  SOP_RETURN_IF_ERROR(OnSomeMember("lease keep-alive", [&](const Member& member) {
    std::unique_ptr<grpc::ClientContext> context = NewContext(attempt_timeout_);
    auto stream = member.lease->LeaseKeepAlive(context.get());
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(id);
    response.Clear();
    if (stream->Write(request)) {
      stream->WritesDone();
      stream->Read(&response);
    }
    return stream->Finish();
  }));
  if (response.ttl() <= 0) {
    return absl::NotFoundError(absl::StrCat("etcd lease ", id, " has expired"));
  }
  return absl::OkStatus();
}

absl::Status EtcdClient::LeaseRevoke(int64_t id) const {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  etcdserverpb::LeaseRevokeResponse response;
  return OnSomeMember("lease revoke", [&](const Member& member) {
    return member.lease->LeaseRevoke(NewContext(attempt_timeout_).get(), request, &response);
  });
}

absl::StatusOr<std::unique_ptr<EtcdClient::WatchStream>> EtcdClient::Watch(
    const etcdserverpb::WatchCreateRequest& create) const {
  std::unique_ptr<WatchStream> watch;
  etcdserverpb::WatchResponse created;
  SOP_RETURN_IF_ERROR(OnSomeMember("watch", [&](const Member& member) {
    watch.reset(new WatchStream());
    watch->context_ = NewContext(absl::InfiniteDuration());
    // etcd refuses to open a watch on a member cut off from its leader.
    watch->context_->AddMetadata("hasleader", "true");
    watch->stream_ = member.watch->Watch(watch->context_.get());
    etcdserverpb::WatchRequest request;
    *request.mutable_create_request() = create;
    if (!watch->stream_->Write(request) || !watch->stream_->Read(&created)) {
      grpc::Status status = watch->stream_->Finish();
      watch->stream_.reset();  // finished: nothing left to drain
      return status;
    }
    return grpc::Status::OK;
  }));
  if (created.compact_revision() != 0) {
    watch->Cancel();
    return absl::OutOfRangeError(absl::StrCat("etcd: watch from revision ", create.start_revision(),
                                              ": compacted up to ", created.compact_revision()));
  }
  if (created.canceled()) {
    watch->Cancel();
    return error::Storage(absl::StatusCode::kInternal, "etcd watch", created.cancel_reason());
  }
  return watch;
}

EtcdClient::WatchStream::~WatchStream() {
  if (stream_ != nullptr) {
    Cancel();
    etcdserverpb::WatchResponse ignored;
    while (stream_->Read(&ignored)) {
    }
    stream_->Finish().ok();
  }
}

bool EtcdClient::WatchStream::Next(etcdserverpb::WatchResponse* response) {
  if (stream_ == nullptr) return false;
  if (stream_->Read(response)) return true;
  absl::MutexLock lock(&write_mu_);
  grpc::Status status = stream_->Finish();
  finished_ = true;
  status_ = status.ok() ? absl::UnavailableError("etcd closed the watch")
                        : absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                                       absl::StrCat("etcd watch: ", status.error_message()));
  stream_.reset();
  return false;
}

void EtcdClient::WatchStream::RequestProgress() {
  absl::MutexLock lock(&write_mu_);
  if (finished_ || stream_ == nullptr) return;
  etcdserverpb::WatchRequest request;
  request.mutable_progress_request();
  stream_->Write(request);
}

void EtcdClient::WatchStream::Cancel() {
  if (context_ != nullptr) context_->TryCancel();
}

}  // namespace sopsidebar
