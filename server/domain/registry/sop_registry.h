// The SOP use cases behind SopService and ContextService: validate, apply
// the change to the store as one write with its revision, keep the published
// catalog in step, and answer lookups from it.
//
// Requests and results are the API's protobuf messages (the data model);
// errors come from common/errors.h:
//   INVALID_ARGUMENT  the request is malformed; the message names the field
//   NOT_FOUND         no such SOP or revision
//   ALREADY_EXISTS    CreateSop with a taken sop_id
//   ABORTED           a supplied etag is stale
//   FAILED_PRECONDITION  the SOP's state forbids the operation (deleted, ...)
//   PERMISSION_DENIED the caller's roles do not allow the operation
//   DEADLINE_EXCEEDED the caller's deadline passed before a write started
//   storage errors    as the store reports them; nothing was written
//
// Access (common/auth/permissions.h): every method acts for a Caller
// and only in the caller's org. An SOP the caller may not see (another org,
// visibility roles, a draft without draft access) gets exactly the NOT_FOUND
// of a missing one, and lists and lookups leave it out. Callers without
// draft access read the published revision of a published SOP. Visibility
// comes from roles alone: owning or approving an SOP adds draft and history
// reads of one the caller's roles see, so no read path shows an SOP that
// another hides. Whether the caller may see an SOP is decided in memory
// before its body is read, so a hidden SOP's NOT_FOUND takes as long as a
// missing one's (sop_visibility.h).
//
// Lists page with signed tokens (server/common/page_token.h): a token that
// this registry did not issue for the same request (forged, altered, other
// parameters, or from before a restart) is INVALID_ARGUMENT naming
// page_token. A page ends at page_size items or at the byte budget
// (Options::max_page_bytes), whichever comes first, and always holds at
// least one item when any is left; the token resumes after its last item.
// What each item carries is the request's view (SopView): ListSops defaults
// to SOP_VIEW_FULL, ListSopRevisions to SOP_VIEW_BASIC; an unknown view is
// INVALID_ARGUMENT.
//
// Thread-safe. Writes are serialised by one mutex (they are rare and each
// waits for an fsync anyway); reads and lookups never take it.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_REGISTRY_H_
#define SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_REGISTRY_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/caller.h"
#include "common/auth/permissions.h"
#include "server/common/clock.h"
#include "server/common/page_token.h"
#include "server/domain/audit/audit_log.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/matching/sop_matcher.h"
#include "server/domain/registry/published_catalog.h"
#include "server/domain/registry/sop_change_sink.h"
#include "server/domain/registry/sop_visibility.h"
#include "server/domain/registry/template_source.h"
#include "server/domain/store/sop_store.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar {

// The list page byte budget: items are added to a page while their
// serialised size stays within it. gRPC clients refuse responses over 4 MiB
// by default; the budget keeps 0.5 MiB under that. A page's first item is
// always added, and it is at most an SOP of Limits::kMaxSopBytes (3 MiB)
// plus its output-only fields and, for a revision, author and change
// summary (a few KiB), so no page exceeds the budget plus the page token
// (under 200 bytes) either.
inline constexpr size_t kMaxListPageBytes = 3 * 1024 * 1024 + 512 * 1024;

class SopRegistry {
 public:
  struct Options {
    // Page size when a request gives none.
    int default_page_size = 50;
    // Larger requested page sizes are reduced to this.
    int max_page_size = 1000;
    // A page ends before the item that would take its items' serialised
    // size over this (but holds at least one item).
    size_t max_page_bytes = kMaxListPageBytes;
    // Lookup results when a request gives none; larger requests are reduced
    // to max_lookup_results.
    int default_lookup_results = 10;
    int max_lookup_results = 100;
  };

  // Loads every published SOP from `store` into the catalog. `store` and
  // `clock` must outlive the registry.
  static absl::StatusOr<std::unique_ptr<SopRegistry>> Create(SopStore* store,
                                                             const Clock* clock,
                                                             SopMatcherFactory factory,
                                                             Options options);
  static absl::StatusOr<std::unique_ptr<SopRegistry>> Create(SopStore* store,
                                                             const Clock* clock,
                                                             SopMatcherFactory factory) {
    return Create(store, clock, std::move(factory), Options());
  }

  absl::StatusOr<v1::Sop> CreateSop(const Caller& caller, const v1::CreateSopRequest& request);
  // The SOP that `caller`'s earlier CreateSop in `parent` with `request_id`
  // created, as a retry of that CreateSop returns it (its current head), or
  // nullopt when there was none: for callers that must answer a retry
  // without redoing costly work first (DraftSop). Errors as CreateSop's for
  // the parent, the request_id and the caller's permission.
  absl::StatusOr<std::optional<v1::Sop>> FindCreatedSop(const Caller& caller,
                                                        absl::string_view parent,
                                                        absl::string_view request_id) const;
  absl::StatusOr<v1::Sop> GetSop(const Caller& caller, const v1::GetSopRequest& request) const;
  absl::StatusOr<v1::ListSopsResponse> ListSops(const Caller& caller,
                                                const v1::ListSopsRequest& request) const;
  // A no-op update (nothing changes) returns the SOP as is and writes nothing.
  absl::StatusOr<v1::Sop> UpdateSop(const Caller& caller, const v1::UpdateSopRequest& request);
  absl::StatusOr<v1::Sop> DeleteSop(const Caller& caller, const v1::DeleteSopRequest& request);
  absl::StatusOr<v1::Sop> UndeleteSop(const Caller& caller,
                                      const v1::UndeleteSopRequest& request);
  absl::StatusOr<v1::ListSopRevisionsResponse> ListSopRevisions(
      const Caller& caller, const v1::ListSopRevisionsRequest& request) const;
  absl::StatusOr<v1::SopRevision> GetSopRevision(const Caller& caller,
                                                 const v1::GetSopRevisionRequest& request) const;
  // Publishing the revision that is already published returns the SOP as is.
  // The response lists the ties the published revision has (warnings).
  absl::StatusOr<v1::PublishSopResponse> PublishSop(const Caller& caller,
                                                    const v1::PublishSopRequest& request);
  // The published SOPs the current draft would tie with. Needs draft access.
  absl::StatusOr<v1::CheckTargetingResponse> CheckTargeting(
      const Caller& caller, const v1::CheckTargetingRequest& request) const;

  // Review (sop_review.h has the rules; docs/GOVERNANCE.md the picture).
  // Each writes the head with a revision and an audit event.
  absl::StatusOr<v1::Sop> SubmitSop(const Caller& caller, const v1::SubmitSopRequest& request);
  absl::StatusOr<v1::Sop> ApproveSop(const Caller& caller, const v1::ApproveSopRequest& request);
  absl::StatusOr<v1::Sop> RejectSop(const Caller& caller, const v1::RejectSopRequest& request);
  // A no-op when the revision's content is the draft's already.
  absl::StatusOr<v1::Sop> RestoreSopRevision(const Caller& caller,
                                             const v1::RestoreSopRevisionRequest& request);
  // Field-level diff of two revisions of one SOP (history access).
  // revision_b may end in "revisions/live" or "revisions/draft".
  absl::StatusOr<v1::SopDiff> DiffSopRevisions(const Caller& caller,
                                               const v1::DiffSopRevisionsRequest& request) const;
  // Only for a published SOP: FAILED_PRECONDITION otherwise.
  absl::StatusOr<v1::Sop> MarkSopReviewed(const Caller& caller,
                                          const v1::MarkSopReviewedRequest& request);
  absl::StatusOr<v1::ListDueReviewsResponse> ListDueReviews(
      const Caller& caller, const v1::ListDueReviewsRequest& request) const;
  // INVALID_ARGUMENT for a step the draft does not have.
  absl::StatusOr<v1::Comment> AddComment(const Caller& caller,
                                         const v1::AddCommentRequest& request);
  absl::StatusOr<v1::ListCommentsResponse> ListComments(
      const Caller& caller, const v1::ListCommentsRequest& request) const;
  absl::StatusOr<v1::Comment> ResolveComment(const Caller& caller,
                                             const v1::ResolveCommentRequest& request);

  // The org's audit trail, which every write above appends to.
  AuditLog& audit() { return audit_; }
  const AuditLog& audit() const { return audit_; }

  // What the registry needs to know of an org: when it was created
  // (point-in-time lookups may not ask about earlier moments) and its
  // stale_review_cutoff (unset: overdue SOPs keep matching).
  struct OrgPolicy {
    absl::Time create_time = absl::InfinitePast();
    std::optional<absl::Duration> stale_review_cutoff;
  };
  // Sets where OrgPolicy comes from; without it every org has the default
  // policy. Called before serving; `policy` must be thread-safe and fast
  // (lookups call it).
  void SetOrgPolicySource(std::function<OrgPolicy(absl::string_view org)> policy);

  // The lookup as a message: the reference form of LookupSopsWire (which
  // ContextService serves), for callers in process and for the tests that
  // hold the two to the same bytes.
  absl::StatusOr<v1::LookupSopsResponse> LookupSops(const Caller& caller,
                                                    const v1::LookupSopsRequest& request) const;
  // LookupSops' response in its wire form, appended to `out`, without
  // building the message (the lookup hot path): the bytes of serialising
  // LookupSops(caller, request), given that the context's values serialise
  // the same way twice. On an error (the same as LookupSops') `out` is
  // unchanged. `matches`, when not null, is set to the number of matches
  // appended.
  absl::Status LookupSopsWire(const Caller& caller, const v1::LookupSopsRequest& request,
                              std::string* out, int* matches = nullptr) const;

  // Sets the function called after every change of the published catalog
  // after start: a publish, a delete or undelete of a published SOP, a
  // publish that changes a published SOP's visibility or targeting. It is
  // called once per change, after the new snapshot is visible to lookups,
  // on the writer's thread while the registry's write lock is held: it must
  // not block and must not call the registry's writes (the lookup watch hub
  // only sets a flag). Set it before serving; setting it again replaces it
  // (safe: it is read and set under the write lock). Loading at Create
  // calls nothing.
  void SetCatalogListener(std::function<void()> listener);

  // Sets the sink told of every durable SOP write after start
  // (sop_change_sink.h); null: none. Set it before serving; `sink` must
  // outlive the registry or be replaced first (safe: read and set under the
  // write lock).
  void SetChangeSink(SopChangeSink* sink);
  // Sets where CreateSop reads templates from (CreateSopRequest.template);
  // without it such a create is UNIMPLEMENTED. Set before serving;
  // `templates` must outlive the registry. CreateSop from a template starts
  // from its filled SOP (FillTemplate, sop_template.h), lays the request's
  // set fields over it, and copies its requirements into Sop.template_use
  // (output only: UpdateSop keeps it); SubmitSop is FAILED_PRECONDITION
  // (error::TemplateRequirementsUnmet, one "TEMPLATE" violation per unmet
  // requirement) until the draft meets them.
  void SetTemplateSource(const TemplateSource* templates) { templates_ = templates; }

  // Brings this registry's in-memory state (visibility, the lookup catalog)
  // in step with `head` as stored, when another node wrote it (a shared
  // store's follower calls it for every head it sees, this node's own
  // writes included). A head no newer than the one this registry knows
  // changes nothing. Calls the catalog listener when the catalog changed.
  // A published revision that cannot be read (the store is unreachable)
  // leaves the SOP as it was, and a later head of it is applied in full.
  void ApplyStoredHead(v1::Sop head);

  // Sets where lookups read the store revision they reflect
  // (LookupSopsResponse.store_revision): read before the catalog snapshot
  // is taken, so the snapshot holds every change up to it. Unset (the
  // single-node store): lookups leave the field out. Set before serving;
  // `source` must be thread-safe and fast.
  void SetStoreRevisionSource(std::function<int64_t()> source) {
    store_revision_ = std::move(source);
  }

  // How many SOPs lookups currently match against.
  size_t published_count() const { return catalog_.size(); }

  // The live revision of every published SOP of every org, in no particular
  // order, as lookups currently see them: for indexes of their own (search),
  // which the catalog listener tells when to read this again.
  std::vector<PublishedSopPtr> PublishedSops() const { return catalog_.Sops(); }

  // What a lookup in `org` matches against right now: the catalog's current
  // snapshot, the moment cadence days count to, and the time before which an
  // SOP's next review makes it stale (lookups leave such SOPs out;
  // InfinitePast when the org has no stale_review_cutoff). For read-only
  // diagnostics that match as lookups do (targeting_preview.h).
  struct LookupView {
    std::shared_ptr<const SopMatcher> matcher;
    absl::Time now;
    absl::Time stale_before = absl::InfinitePast();
  };
  LookupView CurrentLookupView(absl::string_view org) const;

 private:
  SopRegistry(SopStore* store, const Clock* clock, SopMatcherFactory factory, Options options);

  // What a lookup found, before it is explained.
  struct ResolvedLookup {
    std::vector<SopMatchResult> matches;
    std::vector<NearMiss> near_misses;  // when asked for
    absl::Time now;                     // cadence days count to it
  };
  // Validates and authorizes `request` and matches it against the current
  // snapshot: LookupSops without the response.
  absl::StatusOr<ResolvedLookup> ResolveLookup(const Caller& caller,
                                               const v1::LookupSopsRequest& request) const;

  // What `caller` sees of the SOP whose head is `head`: the head itself with
  // draft access, the published revision without it, or NOT_FOUND. The
  // decision MaySee (sop_visibility.h) takes, on the body.
  absl::StatusOr<v1::Sop> ViewFor(const Caller& caller, const v1::Sop& head) const;
  // OK when `caller` may see the SOP `name` (in its org), else NOT_FOUND,
  // from visibility_ alone: no store read, whether the SOP is hidden or
  // missing.
  absl::Status CheckMaySee(const Caller& caller, const SopName& name) const;
  // The head of `name` if `caller` may see it, else NOT_FOUND.
  absl::StatusOr<v1::Sop> VisibleHead(const Caller& caller, const SopName& name) const;
  // Reads the head for a write by `caller`: NOT_FOUND when missing or hidden,
  // PERMISSION_DENIED without `operation`, ABORTED when `etag` is set and
  // stale, DEADLINE_EXCEEDED when the caller's deadline passed while waiting
  // for the write lock.
  absl::StatusOr<v1::Sop> HeadForWrite(const Caller& caller, Operation operation,
                                       const SopName& name, const std::string& etag) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Stamps `head` as the next revision, writes it with its revision and
  // the audit event of `action` (its detail the change summary), and returns
  // it.
  absl::StatusOr<v1::Sop> CommitLocked(const Caller& caller, const SopName& name, v1::Sop head,
                                       absl::string_view action, std::string change_summary,
                                       std::optional<CreateRequest> request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The matches of a lookup as of `time`: against the revisions that were
  // published then, read from the store.
  absl::StatusOr<std::vector<SopMatchResult>> MatchAsOf(const MatchQuery& query,
                                                        absl::Time time) const;
  // The content of `name` at revision `id`: a number, "live" or "draft".
  absl::StatusOr<std::pair<std::string, v1::Sop>> RevisionContent(const SopName& name,
                                                                  const v1::Sop& head,
                                                                  absl::string_view field,
                                                                  absl::string_view id) const;
  OrgPolicy PolicyOf(absl::string_view org) const;
  // The published revision of a head with one: the head itself when its
  // draft is that revision, else read from the store.
  absl::StatusOr<v1::Sop> PublishedSnapshot(const v1::Sop& head) const;
  // Takes `head` by value: it becomes the PublishedSop's body when its draft
  // is the published revision.
  absl::StatusOr<PublishedSopPtr> LoadPublished(v1::Sop head) const;
  // Ties of `body` (the SOP `name`) with published SOPs `caller` may see.
  std::vector<v1::TargetingTie> TiesFor(const Caller& caller, const SopName& name,
                                        const v1::Sop& body) const;
  int PageSize(int requested) const;
  // Calls the catalog listener, if any: after every catalog_ change.
  void CatalogChangedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  SopStore* const store_;
  const Clock* const clock_;
  const Options options_;
  PublishedCatalog catalog_;
  // Signs ListSops' and ListSopRevisions' page tokens under a key of this
  // registry's own: tokens do not survive a restart.
  const PageTokenCodec page_tokens_;
  // Every SOP's visibility: recorded at start and by each write (under
  // write_mu_), read without it.
  SopVisibilityIndex visibility_;
  // Kept for point-in-time lookups, which build a matcher of their own.
  const SopMatcherFactory factory_;
  AuditLog audit_;
  absl::Mutex write_mu_;
  // What the catalog was last given of each SOP (by full name): the
  // revision of the head it came from, and what of that head the catalog
  // entry depends on. Applying a stored head compares with it.
  struct KnownHead {
    int64_t revision = 0;
    v1::Sop::State state = v1::Sop::STATE_UNSPECIFIED;
    std::string published_revision_id;
    int64_t next_review_micros = 0;
  };
  static KnownHead KnownHeadOf(const v1::Sop& head);
  void RecordHeadLocked(const v1::Sop& head) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::flat_hash_map<std::string, KnownHead> known_heads_ ABSL_GUARDED_BY(write_mu_);
  std::function<void()> catalog_listener_ ABSL_GUARDED_BY(write_mu_);
  SopChangeSink* change_sink_ ABSL_GUARDED_BY(write_mu_) = nullptr;
  // Set before serving, read without a lock after.
  std::function<OrgPolicy(absl::string_view)> org_policy_;
  std::function<int64_t()> store_revision_;
  // Set before serving (SetTemplateSource), read without a lock after.
  const TemplateSource* templates_ = nullptr;
};

// The OrgPolicy source that reads each org's settings from `access`, which
// must outlive the registry using it. An org `access` does not know has the
// default policy.
std::function<SopRegistry::OrgPolicy(absl::string_view org)> OrgPoliciesOf(
    const AccessRegistry* access);

// Writes `sops` straight into `store` as published SOPs (revision 1, created
// and published by `caller`), without lookup snapshots: for bulk loads into
// a store no registry has open (benchmarks, migrations); a registry created
// afterwards serves them. INVALID_ARGUMENT for an invalid body (nothing of
// it written; SOPs before it stay), ALREADY_EXISTS for a taken name.
absl::Status BulkLoadPublishedSops(SopStore& store, const Clock& clock, const Caller& caller,
                                   const std::vector<std::pair<SopName, v1::Sop>>& sops);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_REGISTRY_SOP_REGISTRY_H_
