#include "server/domain/registry/targeting_preview.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/auth/permissions.h"
#include "common/errors.h"
#include "common/model/names.h"
#include "common/model/validation.h"
#include "common/status_macros.h"
#include "server/domain/matching/explained_match.h"

namespace sopsidebar {
namespace {

// Lookups return at most 100 matches (SopRegistry::Options): a draft ranked
// below that is as good as unmatched to a rep.
constexpr int kMaxRank = 100;

// The subject of a preview: the SOP the draft stands in for and the draft as
// it would be published.
struct Subject {
  SopName name;
  PublishedSopPtr draft;
};

absl::StatusOr<Subject> ResolveSubject(const SopRegistry& registry, const Caller& caller,
                                       const v1::PreviewTargetingRequest& request, absl::Time now) {
  Subject subject;
  v1::Sop body;
  int64_t revision = 0;
  switch (request.subject_case()) {
    case v1::PreviewTargetingRequest::kSop: {
      SOP_ASSIGN_OR_RETURN(subject.name, ParseSopName("sop", request.sop()));
      v1::GetSopRequest get;
      get.set_name(request.sop());
      // NOT_FOUND for another org's, a missing or a hidden SOP alike.
      SOP_ASSIGN_OR_RETURN(body, registry.GetSop(caller, get));
      SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadDrafts, &body));
      if (body.state() == v1::Sop::DELETED) return error::SopDeleted(body.name());
      int64_t current = 0;
      if (absl::SimpleAtoi(body.revision_id(), &current)) revision = current + 1;
      break;
    }
    case v1::PreviewTargetingRequest::kDraft: {
      body = request.draft();
      SOP_RETURN_IF_ERROR(ValidateSopBody(body, "draft"));
      if (body.name().empty()) {
        subject.name = SopName{caller.org, kUnsavedDraftId};
      } else {
        SOP_ASSIGN_OR_RETURN(subject.name, ParseSopName("draft.name", body.name()));
        if (subject.name.org != caller.org) {
          return error::InvalidField("draft.name", "names an SOP of another org than parent");
        }
      }
      // Whether it names an existing SOP needs no read: putting it in the
      // "after" matcher under that name replaces the SOP's published
      // revision, if any. A hidden SOP of that name is replaced too, and the
      // caller saw it in neither matcher.
      body.set_name(subject.name.Full());
      break;
    }
    case v1::PreviewTargetingRequest::SUBJECT_NOT_SET:
      return error::InvalidField(
          "sop", "or draft is required: the SOP whose draft to preview, or an unsaved SOP");
  }
  // As PublishSop would publish it: now, with its review cycle started afresh.
  subject.draft = MakePublishedSop(subject.name, revision, now, std::move(body));
  return subject;
}

// The records in our field names, validated as LookupSops validates a
// context.
absl::StatusOr<std::vector<v1::CrmContext>> ResolveRecords(
    const CrmMaps& maps, const Caller& caller, const v1::PreviewTargetingRequest& request) {
  if (request.records().empty()) {
    return error::InvalidField("records", "is required: 1 to 10,000 CRM records");
  }
  if (request.records_size() > kMaxPreviewRecords) {
    return error::TooManyItems("records", kMaxPreviewRecords);
  }
  std::vector<v1::CrmContext> records;
  records.reserve(request.records_size());
  for (int i = 0; i < request.records_size(); ++i) {
    const std::string path = absl::StrCat("records[", i, "]");
    const v1::CrmContext& record = request.records(i);
    SOP_RETURN_IF_ERROR(ValidateCrmContext(record, path));
    const std::string& org_name = record.org();
    if (!org_name.empty() && absl::StripPrefix(org_name, "orgs/") != caller.org) {
      return error::OrgNotFound(org_name);
    }
    if (record.crm().empty()) {
      records.push_back(record);
      continue;
    }
    SOP_ASSIGN_OR_RETURN(CrmMaps::Translated mapped, maps.Translate(caller, record, path));
    SOP_RETURN_IF_ERROR(ValidateCrmContext(mapped.context, path));
    records.push_back(std::move(mapped.context));
  }
  return records;
}

// A record's ranked matches as a lookup shows them: SOPs overdue before
// `stale_before` left out (never the draft: a publish starts its review
// cycle afresh).
std::vector<SopMatchResult> Matches(const SopMatcher& matcher, const MatchQuery& query,
                                    absl::Time stale_before) {
  std::vector<SopMatchResult> matches = matcher.Match(query);
  if (stale_before != absl::InfinitePast()) {
    matches.erase(std::remove_if(matches.begin(), matches.end(),
                                 [&](const SopMatchResult& m) {
                                   return m.sop->next_review_time < stale_before;
                                 }),
                  matches.end());
  }
  return matches;
}

int RankOf(const std::vector<SopMatchResult>& matches, const SopName& name) {
  for (size_t i = 0; i < matches.size(); ++i) {
    if (matches[i].sop->name == name) return static_cast<int>(i) + 1;
  }
  return 0;
}

// The top match's name and current step title (as LookupSops picks it).
void Describe(const std::vector<SopMatchResult>& matches, const v1::CrmContext& record,
              std::string* sop, std::string* step) {
  if (matches.empty()) return;
  const v1::Sop& body = matches.front().sop->body;
  *sop = matches.front().sop->name.Full();
  const int index = CurrentStepIndex(body, record.fields());
  if (index >= 0) *step = body.steps(index).title();
}

v1::RecordPreview::Change Classify(int before, int after) {
  if (after == 1 && before != 1) return v1::RecordPreview::GAINED;
  if (before == 1 && after != 1) return v1::RecordPreview::LOST;
  if (before == 0 && after == 0) return v1::RecordPreview::NOT_MATCHED;
  if (before == after) return v1::RecordPreview::UNCHANGED;
  return v1::RecordPreview::RERANKED;
}

}  // namespace

absl::StatusOr<v1::PreviewTargetingResponse> TargetingPreview::Preview(
    const Caller& caller, const v1::PreviewTargetingRequest& request) const {
  SOP_ASSIGN_OR_RETURN(const std::string org, ParseOrgName("parent", request.parent()));
  if (org != caller.org) return error::OrgNotFound(request.parent());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kPreviewTargeting));
  // The records first: a bad one is the request's fault, found before any read.
  SOP_ASSIGN_OR_RETURN(const std::vector<v1::CrmContext> records,
                       ResolveRecords(*maps_, caller, request));
  const SopRegistry::LookupView view = registry_->CurrentLookupView(org);
  SOP_ASSIGN_OR_RETURN(const Subject subject,
                       ResolveSubject(*registry_, caller, request, view.now));
  const std::shared_ptr<const SopMatcher> before = view.matcher;
  const std::unique_ptr<const SopMatcher> after = before->WithChanges({subject.draft}, {});

  v1::PreviewTargetingResponse response;
  response.mutable_records()->Reserve(static_cast<int>(records.size()));
  for (size_t i = 0; i < records.size(); ++i) {
    const v1::CrmContext& record = records[i];
    const MatchQuery query{org, &record, kMaxRank, caller.roles};
    const std::vector<SopMatchResult> was = Matches(*before, query, view.stale_before);
    const std::vector<SopMatchResult> will = Matches(*after, query, view.stale_before);
    v1::RecordPreview& out = *response.add_records();
    out.set_record_id(record.record_id().empty() ? absl::StrCat(i) : record.record_id());
    out.set_rank_before(RankOf(was, subject.name));
    out.set_rank_after(RankOf(will, subject.name));
    out.set_change(Classify(out.rank_before(), out.rank_after()));
    Describe(was, record, out.mutable_current_sop(), out.mutable_current_step());
    Describe(will, record, out.mutable_preview_sop(), out.mutable_preview_step());
    switch (out.change()) {
      case v1::RecordPreview::GAINED:
        response.set_gained(response.gained() + 1);
        break;
      case v1::RecordPreview::LOST:
        response.set_lost(response.lost() + 1);
        break;
      case v1::RecordPreview::RERANKED:
        response.set_reranked(response.reranked() + 1);
        break;
      case v1::RecordPreview::UNCHANGED:
        response.set_unchanged(response.unchanged() + 1);
        break;
      default:
        response.set_not_matched(response.not_matched() + 1);
        break;
    }
  }
  return response;
}

}  // namespace sopsidebar
