#include "server/domain/registry/sop_registry.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/model/field_behavior.h"
#include "common/model/names.h"
#include "common/model/sop_body.h"
#include "common/model/sop_diff.h"
#include "common/model/sop_template.h"
#include "common/model/validation.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/util/field_mask_util.h"
#include "server/domain/matching/explained_match.h"
#include "server/domain/matching/targeting_conflicts.h"
#include "server/domain/registry/sop_filter.h"
#include "server/domain/registry/sop_review.h"

namespace sopsidebar {
namespace {

constexpr size_t kMaxRequestId = 64;
// A list item is one SOP of at most Limits::kMaxSopBytes plus a few KiB
// (output-only fields; a revision's name, author and change summary), so a
// page's first item, which is always added, fits in the budget as well.
static_assert(Limits::kMaxSopBytes + 64 * 1024 <= kMaxListPageBytes,
              "an SOP at the size limit must fit on a list page");
constexpr int kMaxNearMisses = 20;
constexpr size_t kMaxReason = 1000;
constexpr size_t kMaxComment = 4000;

// A stored next review time as lookups keep it: InfiniteFuture when unset.
absl::Time NextReviewOf(const google::protobuf::Timestamp& time) {
  return time.seconds() == 0 && time.nanos() == 0 ? absl::InfiniteFuture()
                                                  : FromProtoTimestamp(time);
}

absl::Status CheckPageSize(int page_size) {
  if (page_size < 0) return error::InvalidField("page_size", "must not be negative");
  return absl::OkStatus();
}

absl::Status CheckView(v1::SopView view) {
  if (!v1::SopView_IsValid(view)) {
    return error::InvalidField("view", absl::StrCat("unknown value ", static_cast<int>(view)));
  }
  return absl::OkStatus();
}

// A list page being filled: it ends at `max_items` items or before the item
// that would take its serialised items past `max_bytes`, whichever comes
// first; its first item always fits.
class PageBudget {
 public:
  PageBudget(int max_items, size_t max_bytes) : max_items_(max_items), max_bytes_(max_bytes) {}

  // True, and `item` counted, when it fits on the page.
  bool Add(const google::protobuf::MessageLite& item) {
    // As one element of the response's repeated field 1: tag, length, bytes.
    const size_t size = item.ByteSizeLong();
    const size_t bytes = 1 + google::protobuf::io::CodedOutputStream::VarintSize64(size) + size;
    if (items_ == max_items_ || (items_ > 0 && bytes_ + bytes > max_bytes_)) return false;
    ++items_;
    bytes_ += bytes;
    return true;
  }

  int items() const { return items_; }

 private:
  const int max_items_;
  const size_t max_bytes_;
  int items_ = 0;
  size_t bytes_ = 0;
};

// The parsed name of a record read back from the store. A name that does
// not parse is the store's fault, not the request's: DATA_LOSS naming the
// record (`what`), never the INVALID_ARGUMENT a request's bad name gets, and
// never an abort of the whole process.
absl::StatusOr<SopName> StoredSopName(absl::string_view what, const std::string& name) {
  absl::StatusOr<SopName> parsed = ParseSopName("name", name);
  if (!parsed.ok()) return error::CorruptRecord(what, name, parsed.status().message());
  return parsed;
}

absl::StatusOr<RevisionName> StoredRevisionName(const std::string& name) {
  absl::StatusOr<RevisionName> parsed = ParseRevisionName("name", name);
  if (!parsed.ok()) return error::CorruptRecord("SOP revision", name, parsed.status().message());
  return parsed;
}

absl::Status CheckEtag(const v1::Sop& head, const std::string& etag) {
  if (!etag.empty() && etag != head.etag()) return error::EtagMismatch(head.name());
  return absl::OkStatus();
}

int64_t RevisionNumber(const v1::Sop& head) {
  int64_t n = 0;
  return absl::SimpleAtoi(head.revision_id(), &n) ? n : 0;
}

// Whether `sop` holds a value in `field` (proto3: a scalar other than its
// default, a message that is set, a non-empty list).
bool IsPopulated(const v1::Sop& sop, const google::protobuf::FieldDescriptor* field) {
  const google::protobuf::Reflection* reflection = sop.GetReflection();
  return field->is_repeated() ? reflection->FieldSize(sop, field) > 0
                              : reflection->HasField(sop, field);
}

// The field mask an update applies (AIP-134): `*` alone replaces every
// mutable field; no mask means the mutable fields the request populates;
// otherwise the listed paths, nested ones included, each an existing field
// that a writer controls.
absl::StatusOr<google::protobuf::FieldMask> UpdateMask(const v1::UpdateSopRequest& request) {
  const auto& paths = request.update_mask().paths();
  const google::protobuf::Descriptor* descriptor = v1::Sop::descriptor();
  google::protobuf::FieldMask mask;
  if (paths.empty() || (paths.size() == 1 && paths[0] == "*")) {
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* f = descriptor->field(i);
      if (IsMutableSopField(f) && (!paths.empty() || IsPopulated(request.sop(), f))) {
        mask.add_paths(f->name());
      }
    }
    return mask;
  }
  for (int i = 0; i < paths.size(); ++i) {
    const std::string path = absl::StrCat("update_mask.paths[", i, "]");
    std::vector<const google::protobuf::FieldDescriptor*> fields;
    if (paths[i] == "*") return error::InvalidField(path, "\"*\" must be the only path");
    if (!google::protobuf::util::FieldMaskUtil::GetFieldDescriptors(descriptor, paths[i],
                                                                   &fields)) {
      return error::InvalidField(
          path, absl::StrCat(error::QuoteInput(paths[i]), " is not a field of Sop"));
    }
    for (const google::protobuf::FieldDescriptor* f : fields) {
      if (HasFieldBehavior(f, v1::FIELD_BEHAVIOR_OUTPUT_ONLY)) {
        return error::InvalidField(
            path, absl::StrCat(error::QuoteInput(paths[i]), " is output only"));
      }
      if (HasFieldBehavior(f, v1::FIELD_BEHAVIOR_IDENTIFIER)) {
        return error::InvalidField(
            path, absl::StrCat(error::QuoteInput(paths[i]),
                               " identifies the SOP and is never updated"));
      }
    }
    mask.add_paths(paths[i]);
  }
  return mask;
}

// The head with `request`'s fields applied per its update mask: each path
// replaced by the request's value (cleared when the request has none), lists
// and messages as a whole.
absl::StatusOr<v1::Sop> ApplyUpdate(const v1::Sop& head, const v1::UpdateSopRequest& request) {
  SOP_ASSIGN_OR_RETURN(const google::protobuf::FieldMask mask, UpdateMask(request));
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  v1::Sop updated = head;
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(request.sop(), mask, options, &updated);
  return updated;
}

// `head` as the SOP's next revision, and that revision, written by `caller`
// at `now`.
SopWrite StampWrite(const Caller& caller, const SopName& name, v1::Sop head,
                    std::string change_summary, absl::Time now) {
  const int64_t revision = RevisionNumber(head) + 1;
  const google::protobuf::Timestamp stamp = ToProtoTimestamp(now);
  head.set_name(name.Full());
  head.set_revision_id(absl::StrCat(revision));
  head.set_etag(RandomId("", 16));
  *head.mutable_update_time() = stamp;
  if (!head.has_create_time()) *head.mutable_create_time() = stamp;

  SopWrite write;
  write.revision.set_name(RevisionName{name, revision}.Full());
  *write.revision.mutable_snapshot() = head;
  write.revision.set_author(caller.user_id);
  write.revision.set_author_via(caller.via);
  *write.revision.mutable_create_time() = stamp;
  write.revision.set_change_summary(std::move(change_summary));
  write.head = std::move(head);
  return write;
}

}  // namespace

absl::Status BulkLoadPublishedSops(SopStore& store, const Clock& clock, const Caller& caller,
                                   const std::vector<std::pair<SopName, v1::Sop>>& sops) {
  for (const auto& [name, body] : sops) {
    SOP_RETURN_IF_ERROR(ValidateSopBody(body, "sop"));
    if (store.GetHead(name).ok()) return error::SopAlreadyExists(name.Full());
    v1::Sop head = body;
    ClearOutputOnlyFields(&head);
    NormalizeSopBody(&head);
    head.set_state(v1::Sop::PUBLISHED);
    head.set_published_revision_id("1");
    *head.mutable_publish_time() = ToProtoTimestamp(clock.Now());
    SOP_RETURN_IF_ERROR(
        store.Write(StampWrite(caller, name, std::move(head), "created and published by a bulk load",
                               clock.Now())));
  }
  return absl::OkStatus();
}

SopRegistry::SopRegistry(SopStore* store, const Clock* clock, SopMatcherFactory factory,
                         Options options)
    : store_(store),
      clock_(clock),
      options_(options),
      catalog_(factory),
      factory_(std::move(factory)),
      audit_(store, clock) {}

absl::StatusOr<std::unique_ptr<SopRegistry>> SopRegistry::Create(SopStore* store,
                                                                  const Clock* clock,
                                                                  SopMatcherFactory factory,
                                                                  Options options) {
  std::unique_ptr<SopRegistry> registry(
      new SopRegistry(store, clock, std::move(factory), options));
  std::vector<PublishedSopPtr> published;
  SOP_RETURN_IF_ERROR(store->ForEachHead([&](v1::Sop&& head) -> absl::Status {
    registry->visibility_.Record(head);
    {
      absl::MutexLock lock(&registry->write_mu_);
      registry->RecordHeadLocked(head);
    }
    if (head.state() != v1::Sop::PUBLISHED) return absl::OkStatus();
    SOP_ASSIGN_OR_RETURN(PublishedSopPtr sop, registry->LoadPublished(std::move(head)));
    registry->visibility_.RecordPublished(*sop);
    published.push_back(std::move(sop));
    return absl::OkStatus();
  }));
  registry->catalog_.Reset(std::move(published));
  return registry;
}

absl::StatusOr<v1::Sop> SopRegistry::PublishedSnapshot(const v1::Sop& head) const {
  // A head whose draft is the published revision is that revision's
  // snapshot: no read needed (the common case, and what keeps start-up and
  // readers' gets and lists fast).
  if (head.revision_id() == head.published_revision_id()) return head;
  SOP_ASSIGN_OR_RETURN(SopName name, StoredSopName("SOP head", head.name()));
  int64_t revision = 0;
  if (!absl::SimpleAtoi(head.published_revision_id(), &revision)) {
    return error::Storage(absl::StatusCode::kDataLoss, "published revision of", head.name());
  }
  SOP_ASSIGN_OR_RETURN(v1::SopRevision snapshot, store_->GetRevision({name, revision}));
  return std::move(*snapshot.mutable_snapshot());
}

absl::StatusOr<PublishedSopPtr> SopRegistry::LoadPublished(v1::Sop head) const {
  SOP_ASSIGN_OR_RETURN(SopName name, StoredSopName("SOP head", head.name()));
  // The head's review times: MarkSopReviewed moves them without publishing.
  const google::protobuf::Timestamp head_review = head.next_review_time();
  v1::Sop snapshot;
  if (head.revision_id() == head.published_revision_id()) {
    snapshot = std::move(head);  // the head is the published revision: no copy
  } else {
    SOP_ASSIGN_OR_RETURN(snapshot, PublishedSnapshot(head));
  }
  const int64_t revision = RevisionNumber(snapshot);
  const absl::Time publish_time = FromProtoTimestamp(snapshot.publish_time());
  return MakePublishedSop(std::move(name), revision, publish_time, std::move(snapshot),
                          NextReviewOf(head_review));
}

void SopRegistry::SetCatalogListener(std::function<void()> listener) {
  absl::MutexLock lock(&write_mu_);
  catalog_listener_ = std::move(listener);
}

void SopRegistry::CatalogChangedLocked() {
  if (catalog_listener_) catalog_listener_();
}

int SopRegistry::PageSize(int requested) const {
  if (requested == 0) return options_.default_page_size;
  return std::min(requested, options_.max_page_size);
}

absl::StatusOr<v1::Sop> SopRegistry::ViewFor(const Caller& caller, const v1::Sop& head) const {
  // Draft access needs roles that see the head; owning or approving it adds
  // the draft, never visibility (permissions.h), so every read path agrees.
  if (IsAllowed(caller, Operation::kReadDrafts, &head)) return head;
  if (head.state() != v1::Sop::PUBLISHED) return error::SopNotFound(head.name());
  SOP_ASSIGN_OR_RETURN(v1::Sop published, PublishedSnapshot(head));
  if (!ReadsPublished(caller, VisibleToRoles(published))) return error::SopNotFound(head.name());
  return published;
}

absl::Status SopRegistry::CheckMaySee(const Caller& caller, const SopName& name) const {
  if (name.org != caller.org || !visibility_.MaySee(caller, name)) {
    return error::SopNotFound(name.Full());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Sop> SopRegistry::VisibleHead(const Caller& caller,
                                                 const SopName& name) const {
  SOP_RETURN_IF_ERROR(CheckMaySee(caller, name));
  SOP_ASSIGN_OR_RETURN(v1::Sop head, store_->GetHead(name));
  // The body decides: a write may have landed since the check.
  SOP_RETURN_IF_ERROR(ViewFor(caller, head).status());
  return head;
}

absl::StatusOr<v1::Sop> SopRegistry::HeadForWrite(const Caller& caller, Operation operation,
                                                  const SopName& name,
                                                  const std::string& etag) const {
  if (clock_->Now() > caller.deadline) return error::DeadlineExceeded("the write could start");
  SOP_ASSIGN_OR_RETURN(v1::Sop head, VisibleHead(caller, name));
  SOP_RETURN_IF_ERROR(Authorize(caller, operation, &head));
  SOP_RETURN_IF_ERROR(CheckEtag(head, etag));
  return head;
}

absl::StatusOr<v1::Sop> SopRegistry::CommitLocked(const Caller& caller, const SopName& name,
                                                  v1::Sop head, absl::string_view action,
                                                  std::string change_summary,
                                                  std::optional<CreateRequest> request) {
  SopWrite write = StampWrite(caller, name, std::move(head), std::move(change_summary),
                              clock_->Now());
  write.request = std::move(request);
  AuditEntry entry{std::string(action), name.Full(), write.head.revision_id(),
                   write.revision.change_summary()};
  SOP_RETURN_IF_ERROR(
      audit_.Append(name.org, caller, std::move(entry), [&](const v1::AuditEvent& event) {
        write.audit = event;
        return store_->Write(write);
      }));
  visibility_.Record(write.head);
  RecordHeadLocked(write.head);
  if (change_sink_ != nullptr) change_sink_->SopWritten(action, caller, write.head);
  return std::move(write.head);
}

SopRegistry::KnownHead SopRegistry::KnownHeadOf(const v1::Sop& head) {
  KnownHead known;
  known.revision = RevisionNumber(head);
  known.state = head.state();
  known.published_revision_id = head.published_revision_id();
  known.next_review_micros = absl::ToUnixMicros(FromProtoTimestamp(head.next_review_time()));
  return known;
}

void SopRegistry::RecordHeadLocked(const v1::Sop& head) {
  known_heads_[head.name()] = KnownHeadOf(head);
}

void SopRegistry::ApplyStoredHead(v1::Sop head) {
  absl::StatusOr<SopName> name = StoredSopName("SOP head", head.name());
  if (!name.ok()) return;  // the store's readers report it
  const KnownHead next = KnownHeadOf(head);
  absl::MutexLock lock(&write_mu_);
  KnownHead& known = known_heads_[head.name()];
  if (known.revision >= next.revision) return;
  const bool catalog_unchanged = known.state == next.state &&
                                 known.published_revision_id == next.published_revision_id &&
                                 known.next_review_micros == next.next_review_micros;
  const bool was_published = known.state == v1::Sop::PUBLISHED;
  visibility_.Record(head);
  if (catalog_unchanged) {
    known = next;
    return;
  }
  if (next.state == v1::Sop::PUBLISHED) {
    absl::StatusOr<PublishedSopPtr> published = LoadPublished(std::move(head));
    if (!published.ok()) return;  // `known` stays: the next head applies in full
    visibility_.RecordPublished(**published);
    catalog_.Put(*std::move(published));
    CatalogChangedLocked();
  } else if (was_published) {
    catalog_.Remove(*name);
    CatalogChangedLocked();
  }
  known = next;
}

void SopRegistry::SetChangeSink(SopChangeSink* sink) {
  absl::MutexLock lock(&write_mu_);
  change_sink_ = sink;
}

absl::StatusOr<v1::Sop> SopRegistry::CreateSop(const Caller& caller,
                                               const v1::CreateSopRequest& request) {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
  if (request.request_id().size() > kMaxRequestId) {
    return error::FieldTooLong("request_id", kMaxRequestId);
  }
  if (!request.sop_id().empty() && !IsValidResourceId(request.sop_id())) {
    return error::InvalidField(
        "sop_id", absl::StrCat(error::QuoteInput(request.sop_id()),
                               " is not a valid id: 1-63 of [a-z0-9-], starting with a "
                               "letter, not ending with '-'"));
  }
  if (org != caller.org) return error::OrgNotFound(request.parent());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kWriteSops));
  // From a template: its filled SOP under the request's set fields, holding
  // its requirements (checked on SubmitSop).
  v1::Sop body = request.sop();
  std::optional<v1::TemplateUse> template_use;
  if (!request.template_().empty()) {
    if (templates_ == nullptr) return error::NotServed("CreateSop from a template");
    SOP_ASSIGN_OR_RETURN(v1::SopTemplate tmpl,
                         templates_->TemplateForSop(caller, "template", request.template_()));
    SOP_ASSIGN_OR_RETURN(v1::Sop filled, FillTemplate(tmpl, request.template_values()));
    ClearOutputOnlyFields(&filled);
    body = MergeSetFields(std::move(filled), request.sop());
    template_use = TemplateUseOf(tmpl);
  } else if (!request.template_values().empty()) {
    return error::InvalidField("template_values", "needs a template");
  }
  SOP_RETURN_IF_ERROR(ValidateSopBody(body, "sop"));

  absl::MutexLock lock(&write_mu_);
  if (clock_->Now() > caller.deadline) return error::DeadlineExceeded("the write could start");
  // Request ids are the caller's own (AIP-155): another user's equal id is
  // another request.
  std::optional<CreateRequest> create_request;
  if (!request.request_id().empty()) {
    create_request = CreateRequest{caller.user_id, request.request_id()};
    SOP_ASSIGN_OR_RETURN(std::optional<std::string> done,
                         store_->FindRequest(org, *create_request));
    if (done) {
      SOP_ASSIGN_OR_RETURN(SopName name, StoredSopName("create request's SOP", *done));
      return store_->GetHead(name);
    }
  }
  SopName name{org, request.sop_id().empty() ? RandomId("sop-", 12) : request.sop_id()};
  absl::StatusOr<v1::Sop> existing = store_->GetHead(name);
  if (existing.ok()) return error::SopAlreadyExists(name.Full());
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();

  v1::Sop head = std::move(body);
  ClearOutputOnlyFields(&head);
  NormalizeSopBody(&head);
  head.set_state(v1::Sop::DRAFT);
  if (template_use) *head.mutable_template_use() = *std::move(template_use);
  RecordEdit(caller, &head);
  return CommitLocked(caller, name, std::move(head), "sop.create", "created",
                      std::move(create_request));
}

absl::StatusOr<std::optional<v1::Sop>> SopRegistry::FindCreatedSop(
    const Caller& caller, absl::string_view parent, absl::string_view request_id) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", parent));
  if (request_id.size() > kMaxRequestId) return error::FieldTooLong("request_id", kMaxRequestId);
  if (org != caller.org) return error::OrgNotFound(parent);
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kWriteSops));
  if (request_id.empty()) return std::nullopt;
  SOP_ASSIGN_OR_RETURN(
      std::optional<std::string> done,
      store_->FindRequest(org, CreateRequest{caller.user_id, std::string(request_id)}));
  if (!done) return std::nullopt;
  SOP_ASSIGN_OR_RETURN(SopName name, StoredSopName("create request's SOP", *done));
  SOP_ASSIGN_OR_RETURN(v1::Sop head, store_->GetHead(name));
  return head;
}

absl::StatusOr<v1::Sop> SopRegistry::GetSop(const Caller& caller,
                                            const v1::GetSopRequest& request) const {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  SOP_RETURN_IF_ERROR(CheckMaySee(caller, name));
  SOP_ASSIGN_OR_RETURN(v1::Sop head, store_->GetHead(name));
  // The body decides: a write may have landed since the check.
  return ViewFor(caller, head);
}

absl::StatusOr<v1::ListSopsResponse> SopRegistry::ListSops(
    const Caller& caller, const v1::ListSopsRequest& request) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
  if (org != caller.org) return error::OrgNotFound(request.parent());
  SOP_RETURN_IF_ERROR(CheckPageSize(request.page_size()));
  SOP_RETURN_IF_ERROR(CheckView(request.view()));
  SOP_ASSIGN_OR_RETURN(SopFilter filter, ParseSopFilter(request.filter()));
  // The parent holds no '|' and show_deleted is one digit: the filter between
  // them is unambiguous.
  const std::string request_key = absl::StrCat("ListSops|", request.parent(), "|",
                                               request.show_deleted(), "|", request.filter());
  SOP_ASSIGN_OR_RETURN(std::string cursor, page_tokens_.Read(request.page_token(), request_key));
  const int page_size = PageSize(request.page_size());
  const bool deleted_wanted =
      request.show_deleted() || (filter.state && *filter.state == v1::Sop::DELETED);

  v1::ListSopsResponse response;
  constexpr int kScanChunk = 256;
  std::string last_returned;
  PageBudget page(page_size, options_.max_page_bytes);
  bool more = false;
  while (!more) {
    SOP_ASSIGN_OR_RETURN(std::vector<v1::Sop> chunk, store_->ListHeads(org, cursor, kScanChunk));
    for (v1::Sop& head : chunk) {
      SOP_ASSIGN_OR_RETURN(SopName name, StoredSopName("SOP head", head.name()));
      cursor = std::move(name.sop);
      if (head.state() == v1::Sop::DELETED && !deleted_wanted) continue;
      absl::StatusOr<v1::Sop> view = ViewFor(caller, head);
      if (view.status().code() == absl::StatusCode::kNotFound) continue;
      SOP_RETURN_IF_ERROR(view.status());
      if (!filter.Matches(*view)) continue;
      // Unspecified is FULL: ListSops returned bodies before views existed.
      if (request.view() == v1::SOP_VIEW_BASIC) ClearSopProcedure(&*view);
      if (!page.Add(*view)) {
        more = true;
        break;
      }
      last_returned = cursor;
      *response.add_sops() = *std::move(view);
    }
    if (static_cast<int>(chunk.size()) < kScanChunk) break;
  }
  if (more) response.set_next_page_token(page_tokens_.Make(last_returned, request_key));
  return response;
}

absl::StatusOr<v1::Sop> SopRegistry::UpdateSop(const Caller& caller,
                                               const v1::UpdateSopRequest& request) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("sop.name", request.sop().name()));
  absl::MutexLock lock(&write_mu_);
  SOP_ASSIGN_OR_RETURN(v1::Sop head, HeadForWrite(caller, Operation::kWriteSops, name,
                                                  request.sop().etag()));
  if (head.state() == v1::Sop::DELETED) return error::SopDeleted(name.Full());
  SOP_ASSIGN_OR_RETURN(v1::Sop updated, ApplyUpdate(head, request));
  SOP_RETURN_IF_ERROR(ValidateSopBody(updated, "sop"));
  NormalizeSopBody(&updated);
  std::vector<std::string> changed = ChangedFields(head, updated);
  if (changed.empty()) return head;
  RecordEdit(caller, &updated);
  return CommitLocked(caller, name, std::move(updated), "sop.update",
                      absl::StrCat("updated ", absl::StrJoin(changed, ", ")), std::nullopt);
}

absl::StatusOr<v1::Sop> SopRegistry::DeleteSop(const Caller& caller,
                                               const v1::DeleteSopRequest& request) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  absl::MutexLock lock(&write_mu_);
  SOP_ASSIGN_OR_RETURN(v1::Sop head,
                       HeadForWrite(caller, Operation::kWriteSops, name, request.etag()));
  if (head.state() == v1::Sop::DELETED) return error::SopDeleted(name.Full());
  head.set_state(v1::Sop::DELETED);
  *head.mutable_delete_time() = ToProtoTimestamp(clock_->Now());
  SOP_ASSIGN_OR_RETURN(v1::Sop deleted, CommitLocked(caller, name, std::move(head), "sop.delete",
                                                     "deleted", std::nullopt));
  catalog_.Remove(name);
  // A draft that was never published was never in the catalog.
  if (!deleted.published_revision_id().empty()) CatalogChangedLocked();
  return deleted;
}

absl::StatusOr<v1::Sop> SopRegistry::UndeleteSop(const Caller& caller,
                                                 const v1::UndeleteSopRequest& request) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  absl::MutexLock lock(&write_mu_);
  SOP_ASSIGN_OR_RETURN(v1::Sop head,
                       HeadForWrite(caller, Operation::kWriteSops, name, request.etag()));
  if (head.state() != v1::Sop::DELETED) return error::SopNotDeleted(name.Full());
  const bool was_published = !head.published_revision_id().empty();
  head.set_state(was_published ? v1::Sop::PUBLISHED : v1::Sop::DRAFT);
  head.clear_delete_time();
  // Load before writing so a failure leaves the SOP deleted and unmatched.
  PublishedSopPtr published;
  if (was_published) {
    SOP_ASSIGN_OR_RETURN(published, LoadPublished(head));
  }
  SOP_ASSIGN_OR_RETURN(v1::Sop undeleted, CommitLocked(caller, name, std::move(head),
                                                       "sop.undelete", "undeleted", std::nullopt));
  if (published) {
    visibility_.RecordPublished(*published);
    catalog_.Put(std::move(published));
    CatalogChangedLocked();
  }
  return undeleted;
}

absl::StatusOr<v1::ListSopRevisionsResponse> SopRegistry::ListSopRevisions(
    const Caller& caller, const v1::ListSopRevisionsRequest& request) const {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  SOP_RETURN_IF_ERROR(CheckPageSize(request.page_size()));
  SOP_RETURN_IF_ERROR(CheckView(request.view()));
  const std::string request_key = absl::StrCat("ListSopRevisions|", request.name());
  SOP_ASSIGN_OR_RETURN(std::string cursor, page_tokens_.Read(request.page_token(), request_key));
  int64_t before = 0;
  if (!cursor.empty() && (!absl::SimpleAtoi(cursor, &before) || before <= 0)) {
    return error::InvalidPageToken();
  }
  SOP_ASSIGN_OR_RETURN(v1::Sop head, VisibleHead(caller, name));
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadHistory, &head));
  const int page_size = PageSize(request.page_size());
  // Unspecified is BASIC: a history is read for who changed what and when,
  // and full snapshots of a busy SOP fill a page after a few revisions.
  const bool full = request.view() == v1::SOP_VIEW_FULL;

  // Read in chunks: a page of 1000 large revisions may end after one.
  constexpr int kReadChunk = 16;
  v1::ListSopRevisionsResponse response;
  PageBudget page(page_size, options_.max_page_bytes);
  bool more = false;
  while (!more) {
    // One more than the page needs, to know whether another page follows.
    const int limit = std::min(page_size - page.items() + 1, kReadChunk);
    SOP_ASSIGN_OR_RETURN(std::vector<v1::SopRevision> chunk,
                         store_->ListRevisions(name, before, limit));
    for (v1::SopRevision& revision : chunk) {
      if (!full) ClearSopProcedure(revision.mutable_snapshot());
      if (!page.Add(revision)) {
        more = true;
        break;
      }
      SOP_ASSIGN_OR_RETURN(RevisionName read, StoredRevisionName(revision.name()));
      before = read.revision;
      *response.add_revisions() = std::move(revision);
    }
    if (static_cast<int>(chunk.size()) < limit) break;
  }
  if (more) response.set_next_page_token(page_tokens_.Make(absl::StrCat(before), request_key));
  return response;
}

absl::StatusOr<v1::SopRevision> SopRegistry::GetSopRevision(
    const Caller& caller, const v1::GetSopRevisionRequest& request) const {
  SOP_ASSIGN_OR_RETURN(RevisionName name, ParseRevisionName("name", request.name()));
  absl::StatusOr<v1::Sop> head = VisibleHead(caller, name.sop);
  // A hidden SOP's revisions look like missing revisions.
  if (head.status().code() == absl::StatusCode::kNotFound) {
    return error::RevisionNotFound(name.Full());
  }
  SOP_RETURN_IF_ERROR(head.status());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadHistory, &*head));
  return store_->GetRevision(name);
}

std::vector<v1::TargetingTie> SopRegistry::TiesFor(const Caller& caller, const SopName& name,
                                                   const v1::Sop& body) const {
  std::vector<v1::TargetingTie> ties;
  for (const TargetingTie& tie :
       FindTargetingTies(body, name, catalog_.Snapshot()->PublishedSops(name.org))) {
    // Only SOPs the caller may see: a tie must not reveal a hidden one.
    if (!RolesMaySee(caller.roles, tie.other->visible_to)) continue;
    v1::TargetingTie& out = ties.emplace_back();
    out.set_sop(tie.other->name.Full());
    out.set_revision_id(absl::StrCat(tie.other->revision));
    out.set_rule_index(tie.candidate_rule);
    out.set_other_rule_index(tie.other_rule);
    out.set_priority(tie.priority);
    out.set_specificity(tie.specificity);
    *out.mutable_example_context() = tie.example;
  }
  return ties;
}

absl::StatusOr<v1::CheckTargetingResponse> SopRegistry::CheckTargeting(
    const Caller& caller, const v1::CheckTargetingRequest& request) const {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  SOP_ASSIGN_OR_RETURN(v1::Sop head, VisibleHead(caller, name));
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadDrafts, &head));
  v1::CheckTargetingResponse response;
  for (v1::TargetingTie& tie : TiesFor(caller, name, head)) {
    *response.add_ties() = std::move(tie);
  }
  return response;
}

absl::StatusOr<v1::PublishSopResponse> SopRegistry::PublishSop(
    const Caller& caller, const v1::PublishSopRequest& request) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  if (request.emergency() && request.reason().empty()) return error::RequiredField("reason");
  if (!request.emergency() && !request.reason().empty()) {
    return error::InvalidField("reason", "is only for an emergency publish (emergency: true)");
  }
  if (request.reason().size() > kMaxReason) return error::FieldTooLong("reason", kMaxReason);
  v1::PublishSopResponse response;
  absl::MutexLock lock(&write_mu_);
  SOP_ASSIGN_OR_RETURN(v1::Sop head,
                       HeadForWrite(caller, Operation::kPublishSops, name, request.etag()));
  if (request.emergency()) SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kEmergencyPublish));
  // Before the no-op test: what is published always had a rule, and a
  // deleted SOP is never published again without an undelete.
  SOP_RETURN_IF_ERROR(CheckPublishable(name.Full(), head));
  if (head.published_revision_id() == head.revision_id()) {
    *response.mutable_sop() = std::move(head);
    return response;
  }
  if (!request.emergency()) SOP_RETURN_IF_ERROR(CheckSignedOff(head));
  const absl::Time now = clock_->Now();
  head.set_state(v1::Sop::PUBLISHED);
  head.set_published_revision_id(absl::StrCat(RevisionNumber(head) + 1));
  *head.mutable_publish_time() = ToProtoTimestamp(now);
  RecordPublish(now, &head);
  SOP_ASSIGN_OR_RETURN(
      v1::Sop published,
      request.emergency()
          ? CommitLocked(caller, name, std::move(head), "sop.emergency_publish",
                         absl::StrCat("emergency publish, without sign-offs: ", request.reason()),
                         std::nullopt)
          : CommitLocked(caller, name, std::move(head), "sop.publish", "published", std::nullopt));
  PublishedSopPtr live = MakePublishedSop(name, RevisionNumber(published), now, published,
                                          NextReviewOf(published.next_review_time()));
  visibility_.RecordPublished(*live);
  catalog_.Put(std::move(live));
  CatalogChangedLocked();
  for (v1::TargetingTie& tie : TiesFor(caller, name, published)) {
    *response.add_ties() = std::move(tie);
  }
  *response.mutable_sop() = std::move(published);
  return response;
}

absl::StatusOr<SopRegistry::ResolvedLookup> SopRegistry::ResolveLookup(
    const Caller& caller, const v1::LookupSopsRequest& request) const {
  if (!request.has_context()) return error::RequiredField("context");
  SOP_RETURN_IF_ERROR(ValidateCrmContext(request.context(), "context"));
  if (!request.context().crm().empty()) {
    // ContextService maps a CRM's names (CrmMaps::Translate) before it asks.
    return error::InvalidField("context.crm", "is mapped to our field names before matching");
  }
  if (request.max_results() < 0) {
    return error::InvalidField("max_results", "must not be negative");
  }
  const int max_results = request.max_results() == 0
                              ? options_.default_lookup_results
                              : std::min(request.max_results(), options_.max_lookup_results);
  // The token fixes the org: an empty one is the caller's. ValidateCrmContext
  // accepted any other org name, so its id follows "orgs/".
  const std::string& org_name = request.context().org();
  const absl::string_view org =
      org_name.empty() ? absl::string_view(caller.org) : absl::StripPrefix(org_name, "orgs/");
  if (org != caller.org) return error::OrgNotFound(org_name);
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kLookup));
  if (request.include_near_misses()) {
    SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kDebugTargeting));
  }
  ResolvedLookup lookup;
  lookup.now = clock_->Now();
  const OrgPolicy policy = PolicyOf(org);
  // Stale SOPs are filtered after matching: ask for more so that the ones
  // left still fill max_results.
  const int wanted = policy.stale_review_cutoff ? options_.max_lookup_results : max_results;
  const MatchQuery query{org, &request.context(), wanted, caller.roles};
  if (request.has_as_of_time()) {
    const absl::Time as_of = FromProtoTimestamp(request.as_of_time());
    if (as_of > lookup.now) return error::InvalidField("as_of_time", "is in the future");
    if (as_of < policy.create_time) {
      return error::InvalidField("as_of_time",
                                 absl::StrCat("is before org ", org, " existed (created ",
                                              absl::FormatTime(policy.create_time), ")"));
    }
    if (request.include_near_misses()) {
      return error::InvalidField("include_near_misses", "is not available with as_of_time");
    }
    SOP_ASSIGN_OR_RETURN(lookup.matches, MatchAsOf(query, as_of));
    // Step clocks and cadence days count to that moment, as the rep saw them.
    lookup.now = as_of;
  } else {
    std::shared_ptr<const SopMatcher> matcher = catalog_.Snapshot();
    lookup.matches = matcher->Match(query);
    if (request.include_near_misses()) {
      lookup.near_misses = matcher->NearMisses(query, kMaxNearMisses);
    }
  }
  if (policy.stale_review_cutoff) {
    const absl::Time cutoff = lookup.now - *policy.stale_review_cutoff;
    lookup.matches.erase(
        std::remove_if(lookup.matches.begin(), lookup.matches.end(),
                       [&](const SopMatchResult& m) { return m.sop->next_review_time < cutoff; }),
        lookup.matches.end());
    if (static_cast<int>(lookup.matches.size()) > max_results) lookup.matches.resize(max_results);
  }
  return lookup;
}

SopRegistry::LookupView SopRegistry::CurrentLookupView(absl::string_view org) const {
  LookupView view{catalog_.Snapshot(), clock_->Now()};
  const OrgPolicy policy = PolicyOf(org);
  if (policy.stale_review_cutoff) view.stale_before = view.now - *policy.stale_review_cutoff;
  return view;
}

absl::StatusOr<v1::LookupSopsResponse> SopRegistry::LookupSops(
    const Caller& caller, const v1::LookupSopsRequest& request) const {
  const int64_t store_revision = store_revision_ ? store_revision_() : 0;
  SOP_ASSIGN_OR_RETURN(const ResolvedLookup lookup, ResolveLookup(caller, request));
  v1::LookupSopsResponse response;
  response.set_store_revision(store_revision);
  for (const SopMatchResult& result : lookup.matches) {
    *response.add_matches() = ExplainMatch(result, request.context(), lookup.now);
  }
  for (const NearMiss& miss : lookup.near_misses) {
    *response.add_near_misses() = ExplainNearMiss(miss, request.context());
  }
  return response;
}

absl::Status SopRegistry::LookupSopsWire(const Caller& caller, const v1::LookupSopsRequest& request,
                                         std::string* out, int* matches) const {
  const int64_t store_revision = store_revision_ ? store_revision_() : 0;
  SOP_ASSIGN_OR_RETURN(const ResolvedLookup lookup, ResolveLookup(caller, request));
  if (matches != nullptr) *matches = static_cast<int>(lookup.matches.size());
  for (const SopMatchResult& result : lookup.matches) {
    AppendExplainedMatch(v1::LookupSopsResponse::kMatchesFieldNumber, result, request.context(),
                         lookup.now, WireParts(*result.sop), out);
  }
  if (!lookup.near_misses.empty()) {
    // A diagnostic, rarely asked for: built as messages. Serialising a
    // response that has only near misses appends exactly their fields.
    v1::LookupSopsResponse near_misses;
    for (const NearMiss& miss : lookup.near_misses) {
      *near_misses.add_near_misses() = ExplainNearMiss(miss, request.context());
    }
    near_misses.AppendToString(out);
  }
  if (store_revision != 0) {
    // Serialising a response holding only the revision appends its field.
    v1::LookupSopsResponse revision;
    revision.set_store_revision(store_revision);
    revision.AppendToString(out);
  }
  return absl::OkStatus();
}

// --- Review ---------------------------------------------------------------

absl::StatusOr<v1::Sop> SopRegistry::SubmitSop(const Caller& caller,
                                               const v1::SubmitSopRequest& request) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  if (request.comment().size() > kMaxComment) return error::FieldTooLong("comment", kMaxComment);
  absl::MutexLock lock(&write_mu_);
  SOP_ASSIGN_OR_RETURN(v1::Sop head,
                       HeadForWrite(caller, Operation::kSubmitSops, name, request.etag()));
  if (head.state() == v1::Sop::DELETED) return error::SopDeleted(name.Full());
  // Approvers should only ever read what could go live.
  SOP_RETURN_IF_ERROR(CheckPublishable(name.Full(), head));
  // Nor anything short of the template it was made from.
  if (std::vector<error::TemplateViolation> unmet =
          UnmetTemplateRequirements(head, head.template_use());
      !unmet.empty()) {
    return error::TemplateRequirementsUnmet(name.Full(), head.template_use().template_(), unmet);
  }
  SOP_RETURN_IF_ERROR(Submit(caller, absl::StrCat(RevisionNumber(head) + 1), clock_->Now(), &head));
  std::string summary = "submitted for review";
  if (!request.comment().empty()) absl::StrAppend(&summary, ": ", request.comment());
  return CommitLocked(caller, name, std::move(head), "sop.submit", std::move(summary),
                      std::nullopt);
}

absl::StatusOr<v1::Sop> SopRegistry::ApproveSop(const Caller& caller,
                                                const v1::ApproveSopRequest& request) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  absl::MutexLock lock(&write_mu_);
  SOP_ASSIGN_OR_RETURN(v1::Sop head,
                       HeadForWrite(caller, Operation::kSignOffSops, name, request.etag()));
  const std::string revision = head.review().revision_id();
  SOP_ASSIGN_OR_RETURN(v1::Role role, Approve(caller, request, clock_->Now(), &head));
  std::string summary = absl::StrCat("approved revision ", revision, " for ", v1::Role_Name(role));
  if (!request.comment().empty()) absl::StrAppend(&summary, ": ", request.comment());
  return CommitLocked(caller, name, std::move(head), "sop.approve", std::move(summary),
                      std::nullopt);
}

absl::StatusOr<v1::Sop> SopRegistry::RejectSop(const Caller& caller,
                                               const v1::RejectSopRequest& request) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  absl::MutexLock lock(&write_mu_);
  SOP_ASSIGN_OR_RETURN(v1::Sop head,
                       HeadForWrite(caller, Operation::kSignOffSops, name, request.etag()));
  const std::string revision = head.review().revision_id();
  SOP_ASSIGN_OR_RETURN(v1::Role role, Reject(caller, request, clock_->Now(), &head));
  return CommitLocked(caller, name, std::move(head), "sop.reject",
                      absl::StrCat("rejected revision ", revision, " for ", v1::Role_Name(role),
                                   ": ", request.comment()),
                      std::nullopt);
}

absl::StatusOr<v1::Sop> SopRegistry::RestoreSopRevision(
    const Caller& caller, const v1::RestoreSopRevisionRequest& request) {
  SOP_ASSIGN_OR_RETURN(RevisionName revision, ParseRevisionName("name", request.name()));
  absl::MutexLock lock(&write_mu_);
  SOP_ASSIGN_OR_RETURN(v1::Sop head,
                       HeadForWrite(caller, Operation::kWriteSops, revision.sop, request.etag()));
  if (head.state() == v1::Sop::DELETED) return error::SopDeleted(revision.sop.Full());
  SOP_ASSIGN_OR_RETURN(v1::SopRevision old, store_->GetRevision(revision));
  // The old content over the head's output-only fields: an update of every
  // mutable field.
  v1::UpdateSopRequest update;
  *update.mutable_sop() = std::move(*old.mutable_snapshot());
  update.mutable_update_mask()->add_paths("*");
  SOP_ASSIGN_OR_RETURN(v1::Sop restored, ApplyUpdate(head, update));
  NormalizeSopBody(&restored);
  if (ChangedFields(head, restored).empty()) return head;
  RecordEdit(caller, &restored);
  return CommitLocked(caller, revision.sop, std::move(restored), "sop.restore",
                      absl::StrCat("restored revision ", revision.revision), std::nullopt);
}

absl::StatusOr<std::pair<std::string, v1::Sop>> SopRegistry::RevisionContent(
    const SopName& name, const v1::Sop& head, absl::string_view field, absl::string_view id) const {
  if (id == "draft") return std::make_pair(RevisionName{name, RevisionNumber(head)}.Full(), head);
  if (id == "live") {
    if (head.published_revision_id().empty()) {
      return error::InvalidField(field, absl::StrCat("SOP ", name.Full(), " was never published"));
    }
    // What lookups serve: no read when the head is that revision.
    SOP_ASSIGN_OR_RETURN(v1::Sop live, PublishedSnapshot(head));
    const int64_t number = RevisionNumber(live);
    return std::make_pair(RevisionName{name, number}.Full(), std::move(live));
  }
  int64_t number = 0;
  if (!absl::SimpleAtoi(id, &number) || number <= 0) {
    return error::InvalidResourceName(field, id,
                                      "orgs/{org}/sops/{sop}/revisions/{revision|live|draft}");
  }
  SOP_ASSIGN_OR_RETURN(v1::SopRevision revision, store_->GetRevision({name, number}));
  return std::make_pair(revision.name(), std::move(*revision.mutable_snapshot()));
}

absl::StatusOr<v1::SopDiff> SopRegistry::DiffSopRevisions(
    const Caller& caller, const v1::DiffSopRevisionsRequest& request) const {
  // Both names must be revisions of one SOP; the last component may be an
  // alias, so they are split here rather than by ParseRevisionName.
  struct Side {
    SopName sop;
    std::string id;
  };
  auto split = [](absl::string_view field, absl::string_view full) -> absl::StatusOr<Side> {
    if (full.empty()) return error::RequiredField(field);
    const size_t cut = full.rfind("/revisions/");
    if (cut == absl::string_view::npos) {
      return error::InvalidResourceName(field, full,
                                        "orgs/{org}/sops/{sop}/revisions/{revision|live|draft}");
    }
    SOP_ASSIGN_OR_RETURN(SopName sop, ParseSopName(field, full.substr(0, cut)));
    return Side{std::move(sop), std::string(full.substr(cut + sizeof("/revisions/") - 1))};
  };
  SOP_ASSIGN_OR_RETURN(Side a, split("revision_a", request.revision_a()));
  SOP_ASSIGN_OR_RETURN(Side b, split("revision_b", request.revision_b()));
  if (!(a.sop == b.sop)) {
    return error::InvalidField(
        "revision_b", absl::StrCat("is a revision of ", b.sop.Full(), ", not of ", a.sop.Full(),
                                   ": a diff compares one SOP's "
                                   "revisions"));
  }
  SOP_ASSIGN_OR_RETURN(v1::Sop head, VisibleHead(caller, a.sop));
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadHistory, &head));
  SOP_ASSIGN_OR_RETURN(auto older, RevisionContent(a.sop, head, "revision_a", a.id));
  SOP_ASSIGN_OR_RETURN(auto newer, RevisionContent(b.sop, head, "revision_b", b.id));
  v1::SopDiff diff;
  diff.set_revision_a(older.first);
  diff.set_revision_b(newer.first);
  DiffSops(older.second, newer.second, &diff);
  return diff;
}

absl::StatusOr<v1::Sop> SopRegistry::MarkSopReviewed(const Caller& caller,
                                                     const v1::MarkSopReviewedRequest& request) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("name", request.name()));
  if (request.comment().size() > kMaxComment) return error::FieldTooLong("comment", kMaxComment);
  absl::MutexLock lock(&write_mu_);
  SOP_ASSIGN_OR_RETURN(v1::Sop head,
                       HeadForWrite(caller, Operation::kSubmitSops, name, request.etag()));
  if (head.state() != v1::Sop::PUBLISHED) {
    return error::ReviewState(name.Full(), v1::Sop::State_Name(head.state()),
                              "recording an owner review", "a published SOP");
  }
  RecordOwnerReview(clock_->Now(), &head);
  std::string summary = "reviewed by its owner";
  if (!request.comment().empty()) absl::StrAppend(&summary, ": ", request.comment());
  SOP_ASSIGN_OR_RETURN(PublishedSopPtr published, LoadPublished(head));
  SOP_ASSIGN_OR_RETURN(v1::Sop reviewed, CommitLocked(caller, name, std::move(head), "sop.review",
                                                      std::move(summary), std::nullopt));
  catalog_.Put(std::move(published));
  CatalogChangedLocked();
  return reviewed;
}

absl::StatusOr<v1::ListDueReviewsResponse> SopRegistry::ListDueReviews(
    const Caller& caller, const v1::ListDueReviewsRequest& request) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
  if (org != caller.org) return error::OrgNotFound(request.parent());
  SOP_RETURN_IF_ERROR(CheckPageSize(request.page_size()));
  absl::Duration within = absl::ZeroDuration();
  if (request.has_within()) {
    within = FromProtoDuration(request.within());
    if (within < absl::ZeroDuration()) return error::InvalidField("within", "must not be negative");
  }
  const std::string request_key =
      absl::StrCat("ListDueReviews|", request.parent(), "|", request.within().ShortDebugString());
  SOP_ASSIGN_OR_RETURN(std::string cursor, page_tokens_.Read(request.page_token(), request_key));
  int64_t offset = 0;
  if (!cursor.empty() && (!absl::SimpleAtoi(cursor, &offset) || offset < 0)) {
    return error::InvalidPageToken();
  }
  const absl::Time horizon = clock_->Now() + within;
  std::vector<v1::Sop> due;
  std::string after;
  constexpr int kScanChunk = 256;
  for (;;) {
    SOP_ASSIGN_OR_RETURN(std::vector<v1::Sop> chunk, store_->ListHeads(org, after, kScanChunk));
    for (v1::Sop& head : chunk) {
      SOP_ASSIGN_OR_RETURN(SopName name, StoredSopName("SOP head", head.name()));
      after = name.sop;
      if (head.state() != v1::Sop::PUBLISHED || !head.has_next_review_time()) continue;
      if (FromProtoTimestamp(head.next_review_time()) > horizon) continue;
      // Listed by what the caller sees of it, with the head's review times.
      absl::StatusOr<v1::Sop> view = ViewFor(caller, head);
      if (view.status().code() == absl::StatusCode::kNotFound) continue;
      SOP_RETURN_IF_ERROR(view.status());
      *view->mutable_last_review_time() = head.last_review_time();
      *view->mutable_next_review_time() = head.next_review_time();
      ClearSopProcedure(&*view);
      due.push_back(*std::move(view));
    }
    if (static_cast<int>(chunk.size()) < kScanChunk) break;
  }
  std::stable_sort(due.begin(), due.end(), [](const v1::Sop& x, const v1::Sop& y) {
    return FromProtoTimestamp(x.next_review_time()) < FromProtoTimestamp(y.next_review_time());
  });
  v1::ListDueReviewsResponse response;
  const int page_size = PageSize(request.page_size());
  for (int64_t i = offset; i < static_cast<int64_t>(due.size()); ++i) {
    if (response.sops_size() == page_size) {
      response.set_next_page_token(page_tokens_.Make(absl::StrCat(i), request_key));
      break;
    }
    *response.add_sops() = std::move(due[i]);
  }
  return response;
}

// --- Comments -------------------------------------------------------------

absl::StatusOr<v1::Comment> SopRegistry::AddComment(const Caller& caller,
                                                    const v1::AddCommentRequest& request) {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("parent", request.parent()));
  const v1::Comment& input = request.comment();
  if (input.text().empty()) return error::RequiredField("comment.text");
  if (input.text().size() > kMaxComment) return error::FieldTooLong("comment.text", kMaxComment);
  if (input.step_ordinal() < 0) {
    return error::InvalidField("comment.step_ordinal", "must not be negative");
  }
  absl::MutexLock lock(&write_mu_);
  SOP_ASSIGN_OR_RETURN(v1::Sop head, HeadForWrite(caller, Operation::kComment, name, ""));
  if (input.step_ordinal() > 0 &&
      std::none_of(head.steps().begin(), head.steps().end(),
                   [&](const v1::Step& step) { return step.ordinal() == input.step_ordinal(); })) {
    return error::InvalidField(
        "comment.step_ordinal",
        absl::StrCat("SOP ", name.Full(), " has no step ", input.step_ordinal(), " in revision ",
                     head.revision_id()));
  }
  CommentWrite write;
  v1::Comment& comment = write.comment;
  comment.set_name(CommentName{name, RandomId("c-", 12)}.Full());
  comment.set_text(input.text());
  comment.set_step_ordinal(input.step_ordinal());
  comment.set_revision_id(head.revision_id());
  comment.set_author(caller.user_id);
  comment.set_author_via(caller.via);
  *comment.mutable_create_time() = ToProtoTimestamp(clock_->Now());
  const std::string where =
      input.step_ordinal() > 0 ? absl::StrCat(" on step ", input.step_ordinal()) : "";
  SOP_RETURN_IF_ERROR(
      audit_.Append(name.org, caller,
                    AuditEntry{"comment.add", comment.name(), head.revision_id(),
                               absl::StrCat("commented", where, ": ", comment.text())},
                    [&](const v1::AuditEvent& event) {
                      write.audit = event;
                      return store_->WriteComment(write);
                    }));
  return std::move(write.comment);
}

absl::StatusOr<v1::ListCommentsResponse> SopRegistry::ListComments(
    const Caller& caller, const v1::ListCommentsRequest& request) const {
  SOP_ASSIGN_OR_RETURN(SopName name, ParseSopName("parent", request.parent()));
  SOP_RETURN_IF_ERROR(CheckPageSize(request.page_size()));
  const std::string request_key =
      absl::StrCat("ListComments|", request.parent(), "|", request.unresolved_only());
  SOP_ASSIGN_OR_RETURN(std::string cursor, page_tokens_.Read(request.page_token(), request_key));
  int64_t offset = 0;
  if (!cursor.empty() && (!absl::SimpleAtoi(cursor, &offset) || offset < 0)) {
    return error::InvalidPageToken();
  }
  SOP_ASSIGN_OR_RETURN(v1::Sop head, VisibleHead(caller, name));
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kComment, &head));
  SOP_ASSIGN_OR_RETURN(std::vector<v1::Comment> comments, store_->ListComments(name));
  comments.erase(std::remove_if(comments.begin(), comments.end(),
                                [&](const v1::Comment& c) {
                                  return request.unresolved_only() && c.resolved();
                                }),
                 comments.end());
  std::sort(comments.begin(), comments.end(), [](const v1::Comment& x, const v1::Comment& y) {
    const absl::Time tx = FromProtoTimestamp(x.create_time());
    const absl::Time ty = FromProtoTimestamp(y.create_time());
    return tx != ty ? tx < ty : x.name() < y.name();
  });
  v1::ListCommentsResponse response;
  const int page_size = PageSize(request.page_size());
  for (int64_t i = offset; i < static_cast<int64_t>(comments.size()); ++i) {
    if (response.comments_size() == page_size) {
      response.set_next_page_token(page_tokens_.Make(absl::StrCat(i), request_key));
      break;
    }
    *response.add_comments() = std::move(comments[i]);
  }
  return response;
}

absl::StatusOr<v1::Comment> SopRegistry::ResolveComment(const Caller& caller,
                                                        const v1::ResolveCommentRequest& request) {
  SOP_ASSIGN_OR_RETURN(CommentName name, ParseCommentName("name", request.name()));
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<v1::Sop> head = VisibleHead(caller, name.sop);
  if (head.status().code() == absl::StatusCode::kNotFound) {
    return error::CommentNotFound(name.Full());
  }
  SOP_RETURN_IF_ERROR(head.status());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kComment, &*head));
  SOP_ASSIGN_OR_RETURN(v1::Comment comment, store_->GetComment(name));
  // Its author, or whoever may submit the SOP (its owner, the editors).
  if (comment.author() != caller.user_id) {
    SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kSubmitSops, &*head));
  }
  if (comment.resolved()) return comment;
  comment.set_resolved(true);
  comment.set_resolved_by(caller.user_id);
  *comment.mutable_resolve_time() = ToProtoTimestamp(clock_->Now());
  CommentWrite write{std::move(comment), {}};
  SOP_RETURN_IF_ERROR(
      audit_.Append(name.sop.org, caller,
                    AuditEntry{"comment.resolve", name.Full(), head->revision_id(), "resolved"},
                    [&](const v1::AuditEvent& event) {
                      write.audit = event;
                      return store_->WriteComment(write);
                    }));
  return std::move(write.comment);
}

// --- Org policy and point-in-time lookups ---------------------------------

void SopRegistry::SetOrgPolicySource(std::function<OrgPolicy(absl::string_view org)> policy) {
  org_policy_ = std::move(policy);
}

std::function<SopRegistry::OrgPolicy(absl::string_view org)> OrgPoliciesOf(
    const AccessRegistry* access) {
  return [access](absl::string_view org) {
    SopRegistry::OrgPolicy policy;
    access->OrgSettings(org, &policy.create_time, &policy.stale_review_cutoff);
    return policy;
  };
}

SopRegistry::OrgPolicy SopRegistry::PolicyOf(absl::string_view org) const {
  return org_policy_ ? org_policy_(org) : OrgPolicy();
}

absl::StatusOr<std::vector<SopMatchResult>> SopRegistry::MatchAsOf(const MatchQuery& query,
                                                                   absl::Time time) const {
  // Each SOP's state at `time` is the snapshot of its last revision made by
  // then; what was live is that snapshot's published revision, unless it was
  // deleted. Reads every SOP's recent history: a rare, compliance query.
  std::vector<PublishedSopPtr> live;
  std::string after;
  constexpr int kScanChunk = 256;
  constexpr int kHistoryChunk = 32;
  for (;;) {
    SOP_ASSIGN_OR_RETURN(std::vector<v1::Sop> heads,
                         store_->ListHeads(query.org, after, kScanChunk));
    for (const v1::Sop& head : heads) {
      SOP_ASSIGN_OR_RETURN(SopName name, StoredSopName("SOP head", head.name()));
      after = name.sop;
      std::optional<v1::Sop> then;
      for (int64_t before = 0; !then;) {
        SOP_ASSIGN_OR_RETURN(std::vector<v1::SopRevision> history,
                             store_->ListRevisions(name, before, kHistoryChunk));
        for (v1::SopRevision& revision : history) {
          if (FromProtoTimestamp(revision.create_time()) <= time) {
            then = std::move(*revision.mutable_snapshot());
            break;
          }
          SOP_ASSIGN_OR_RETURN(RevisionName read, StoredRevisionName(revision.name()));
          before = read.revision;
        }
        if (static_cast<int>(history.size()) < kHistoryChunk) break;
      }
      if (!then || then->state() != v1::Sop::PUBLISHED) continue;
      SOP_ASSIGN_OR_RETURN(v1::Sop published, PublishedSnapshot(*then));
      // Read before `published` is moved into the call.
      const int64_t revision = RevisionNumber(published);
      const absl::Time publish_time = FromProtoTimestamp(published.publish_time());
      live.push_back(MakePublishedSop(name, revision, publish_time, std::move(published),
                                      NextReviewOf(then->next_review_time())));
    }
    if (static_cast<int>(heads.size()) < kScanChunk) break;
  }
  return factory_(std::move(live))->Match(query);
}

}  // namespace sopsidebar
