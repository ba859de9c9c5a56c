#include "server/domain/audit/audit_log.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/auth/permissions.h"
#include "common/errors.h"
#include "common/model/names.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/common/crypto.h"

namespace sopsidebar {
namespace {

constexpr int kScanChunk = 1000;
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

// Deterministic: the same event serialises to the same bytes (map order).
std::string Canonical(const v1::AuditEvent& event) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.SetSerializationDeterministic(true);
  event.SerializeToCodedStream(&out);
  out.Trim();
  return bytes;
}

// Whether `resource` is `filter` or lies under it (an SOP's comments).
bool UnderResource(absl::string_view resource, absl::string_view filter) {
  return resource == filter || (absl::StartsWith(resource, filter) &&
                                resource.size() > filter.size() && resource[filter.size()] == '/');
}

// Appends tried while other nodes keep taking the next sequence.
constexpr int kMaxAppendAttempts = 16;

}  // namespace

AuditLog::AuditLog(SopStore* store, const Clock* clock) : store_(store), clock_(clock) {}

const std::string& AuditLog::GenesisHash() {
  static const std::string* const kGenesis = new std::string(64, '0');
  return *kGenesis;
}

std::string AuditLog::HashOf(const v1::AuditEvent& event) {
  v1::AuditEvent unhashed = event;
  unhashed.clear_hash();
  return absl::BytesToHexString(Sha256(Canonical(unhashed)));
}

absl::StatusOr<v1::AuditHead> AuditLog::HeadLocked(absl::string_view org) {
  auto it = heads_.find(org);
  if (it != heads_.end()) return it->second;
  SOP_ASSIGN_OR_RETURN(std::optional<v1::AuditEvent> last, store_->LastAuditEvent(org));
  v1::AuditHead head;
  head.set_org(OrgName(org));
  if (last) {
    head.set_sequence(last->sequence());
    head.set_hash(last->hash());
  } else {
    head.set_hash(GenesisHash());
  }
  heads_.emplace(std::string(org), head);
  return head;
}

absl::Status AuditLog::Append(absl::string_view org, const Caller& caller, AuditEntry entry,
                              const std::function<absl::Status(const v1::AuditEvent&)>& write) {
  absl::MutexLock lock(&mu_);
  v1::AuditEvent event;
  event.set_actor(caller.user_id);
  event.set_actor_via(caller.via);
  event.set_client(caller.client);
  event.set_action(std::move(entry.action));
  event.set_resource(std::move(entry.resource));
  event.set_revision_id(std::move(entry.revision_id));
  event.set_detail(std::move(entry.detail));
  // With a store that other nodes write too, the chain may have moved on
  // since this log read it: the store refuses the taken sequence
  // (error::AuditSequenceTaken), and the log reads the chain's end again.
  // Each refusal means another node appended, so the loop ends.
  for (int attempt = 1;; ++attempt) {
    SOP_ASSIGN_OR_RETURN(v1::AuditHead head, HeadLocked(org));
    event.set_sequence(head.sequence() + 1);
    event.set_name(AuditEventName(org, event.sequence()));
    *event.mutable_time() = ToProtoTimestamp(clock_->Now());
    event.set_previous_hash(head.hash());
    event.set_hash(HashOf(event));
    absl::Status written = write(event);
    if (error::ReasonOf(written) == error::kAuditSequenceTaken && attempt < kMaxAppendAttempts) {
      heads_.erase(org);
      continue;
    }
    SOP_RETURN_IF_ERROR(written);
    head.set_sequence(event.sequence());
    head.set_hash(event.hash());
    heads_[std::string(org)] = std::move(head);
    return absl::OkStatus();
  }
}

absl::StatusOr<std::string> AuditLog::ReadableOrg(const Caller& caller, absl::string_view field,
                                                  absl::string_view parent) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName(field, parent));
  if (org != caller.org) return error::OrgNotFound(parent);
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadAudit));
  return org;
}

absl::StatusOr<v1::ListAuditEventsResponse> AuditLog::ListAuditEvents(
    const Caller& caller, const v1::ListAuditEventsRequest& request) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ReadableOrg(caller, "parent", request.parent()));
  if (request.page_size() < 0) return error::InvalidField("page_size", "must not be negative");
  const bool has_start = request.has_start_time();
  const bool has_end = request.has_end_time();
  const absl::Time start = FromProtoTimestamp(request.start_time());
  const absl::Time end = FromProtoTimestamp(request.end_time());
  if (has_start && has_end && end <= start) {
    return error::InvalidField("end_time", "must be after start_time");
  }
  const std::string request_key = absl::StrCat(
      "ListAuditEvents|", request.parent(), "|", request.resource(), "|", request.actor(), "|",
      request.start_time().ShortDebugString(), "|", request.end_time().ShortDebugString());
  SOP_ASSIGN_OR_RETURN(std::string cursor, page_tokens_.Read(request.page_token(), request_key));
  int64_t after = 0;
  if (!cursor.empty() && !absl::SimpleAtoi(cursor, &after)) return error::InvalidPageToken();
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);

  v1::ListAuditEventsResponse response;
  bool more = false;
  while (!more) {
    SOP_ASSIGN_OR_RETURN(std::vector<v1::AuditEvent> chunk,
                         store_->ListAuditEvents(org, after, kScanChunk));
    for (v1::AuditEvent& event : chunk) {
      const absl::Time time = FromProtoTimestamp(event.time());
      const bool wanted =
          (request.resource().empty() || UnderResource(event.resource(), request.resource())) &&
          (request.actor().empty() || event.actor() == request.actor()) &&
          (!has_start || time >= start) && (!has_end || time < end);
      if (wanted && response.events_size() == page_size) {
        more = true;
        break;
      }
      after = std::max(after, event.sequence());
      if (wanted) *response.add_events() = std::move(event);
    }
    if (static_cast<int>(chunk.size()) < kScanChunk) break;
  }
  if (more) response.set_next_page_token(page_tokens_.Make(absl::StrCat(after), request_key));
  return response;
}

absl::StatusOr<v1::VerifyAuditLogResponse> AuditLog::VerifyAuditLog(
    const Caller& caller, const v1::VerifyAuditLogRequest& request) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ReadableOrg(caller, "parent", request.parent()));
  const bool has_expected = request.has_expected_head();
  const v1::AuditHead& expected = request.expected_head();
  if (has_expected) {
    if (!expected.org().empty() && expected.org() != request.parent()) {
      return error::InvalidField("expected_head.org", "is another org's head");
    }
    if (expected.sequence() < 0) {
      return error::InvalidField("expected_head.sequence", "must not be negative");
    }
  }

  v1::VerifyAuditLogResponse response;
  std::string previous = GenesisHash();
  int64_t next = 1;
  std::optional<std::string> hash_at_expected;
  if (has_expected && expected.sequence() == 0) hash_at_expected = GenesisHash();
  auto broken = [&](int64_t sequence, std::string problem) {
    response.set_intact(false);
    response.set_first_broken_sequence(sequence);
    response.set_problem(std::move(problem));
  };
  response.set_intact(true);
  for (bool done = false; !done && response.intact();) {
    SOP_ASSIGN_OR_RETURN(std::vector<v1::AuditEvent> chunk,
                         store_->ListAuditEvents(org, next - 1, kScanChunk));
    done = static_cast<int>(chunk.size()) < kScanChunk;
    for (const v1::AuditEvent& event : chunk) {
      if (event.sequence() != next) {
        broken(next, event.sequence() > next
                         ? absl::StrCat("event ", next, " is missing: the next stored event is ",
                                        event.sequence())
                         : absl::StrCat("event ", next,
                                        " is out of order: the event stored "
                                        "in its place says it is event ",
                                        event.sequence()));
        break;
      }
      if (event.name() != AuditEventName(org, next)) {
        broken(next,
               absl::StrCat("event ", next, " has the name ", error::QuoteInput(event.name())));
        break;
      }
      if (event.previous_hash() != previous) {
        broken(next, absl::StrCat("event ", next, "'s previous_hash is not the hash of event ",
                                  next - 1, ": an event before it was changed or replaced"));
        break;
      }
      if (HashOf(event) != event.hash()) {
        broken(next,
               absl::StrCat("event ", next, "'s content does not match its hash: it was edited"));
        break;
      }
      previous = event.hash();
      if (has_expected && next == expected.sequence()) hash_at_expected = event.hash();
      response.set_events_checked(next);
      ++next;
    }
  }
  v1::AuditHead* head = response.mutable_head();
  head->set_org(OrgName(org));
  head->set_sequence(response.events_checked());
  head->set_hash(previous);
  if (response.intact() && has_expected) {
    if (!hash_at_expected) {
      broken(response.events_checked() + 1,
             absl::StrCat("the chain ends at event ", response.events_checked(),
                          " but the saved head is event ", expected.sequence(),
                          ": events were cut off its end or the store was rolled back"));
    } else if (*hash_at_expected != expected.hash()) {
      broken(expected.sequence(),
             absl::StrCat("event ", expected.sequence(),
                          " is not the one the saved head names: the chain was rewritten"));
    }
  }
  return response;
}

absl::StatusOr<v1::AuditHead> AuditLog::GetAuditHead(const Caller& caller,
                                                     const v1::GetAuditHeadRequest& request) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ReadableOrg(caller, "parent", request.parent()));
  SOP_ASSIGN_OR_RETURN(std::optional<v1::AuditEvent> last, store_->LastAuditEvent(org));
  v1::AuditHead head;
  head.set_org(OrgName(org));
  head.set_sequence(last ? last->sequence() : 0);
  head.set_hash(last ? last->hash() : GenesisHash());
  return head;
}

}  // namespace sopsidebar
