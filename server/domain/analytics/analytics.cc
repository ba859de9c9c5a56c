#include "server/domain/analytics/analytics.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/permissions.h"
#include "common/errors.h"
#include "common/model/names.h"
#include "common/status_macros.h"
#include "server/domain/analytics/event_facts.h"
#include "server/domain/registry/sop_visibility.h"

namespace sopsidebar {
namespace {

constexpr size_t kMaxCachedRevisions = 4096;
constexpr size_t kMaxStatus = 256;

// Whether `step` sets lead_status to `status` and asks for a
// disqualification code.
bool AsksCodeFor(const v1::Step& step, absl::string_view status) {
  bool sets_status = false;
  bool asks_code = false;
  for (const v1::FieldUpdate& update : step.required_updates()) {
    if (update.field() == kLeadStatusField && update.value().has_string_value() &&
        update.value().string_value() == status) {
      sets_status = true;
    }
    if (update.field() == kDisqualificationCodeField) asks_code = true;
  }
  return sets_status && asks_code;
}

}  // namespace

Analytics::Analytics(EventStore* events, const SopStore* sops, const SopRegistry* registry,
                     const CrmMaps* crm, const Clock* clock, Options options)
    : events_(events),
      sops_(sops),
      registry_(registry),
      crm_(crm),
      clock_(clock),
      options_(options) {
  if (options_.coverage_flush_interval > absl::ZeroDuration()) {
    flusher_ = std::thread([this] { FlushLoop(); });
  }
}

Analytics::~Analytics() {
  stop_.Notify();
  if (flusher_.joinable()) flusher_.join();
  FlushCoverage().IgnoreError();
}

void Analytics::FlushLoop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.coverage_flush_interval)) {
    // A failed flush loses those counts only; the next one tries again.
    FlushCoverage().IgnoreError();
  }
}

absl::Status Analytics::FlushCoverage() { return coverage_.Flush(*events_, DayOf(clock_->Now())); }

absl::StatusOr<std::shared_ptr<const v1::Sop>> Analytics::ShownRevision(
    const Caller& caller, absl::string_view field, const v1::Event& event) const {
  const std::string sop_field = absl::StrCat(field, ".sop");
  SOP_ASSIGN_OR_RETURN(SopName sop, ParseSopName(sop_field, event.sop()));
  int64_t number = 0;
  if (!absl::SimpleAtoi(event.revision_id(), &number) || number <= 0) {
    return error::InvalidField(absl::StrCat(field, ".revision_id"), "is not a revision number");
  }
  const absl::Status not_found =
      error::EventRevisionNotFound(field, event.sop(), event.revision_id());
  if (sop.org != caller.org) return not_found;
  const RevisionName name{sop, number};
  const std::string key = name.Full();
  std::shared_ptr<const v1::Sop> revision;
  {
    absl::MutexLock lock(&revisions_mu_);
    auto it = revisions_.find(key);
    if (it != revisions_.end()) revision = it->second;
  }
  if (revision == nullptr) {
    absl::StatusOr<v1::SopRevision> stored = sops_->GetRevision(name);
    if (absl::IsNotFound(stored.status())) return not_found;
    if (!stored.ok()) return stored.status();
    revision = std::make_shared<const v1::Sop>(std::move(*stored->mutable_snapshot()));
    absl::MutexLock lock(&revisions_mu_);
    if (revisions_.size() >= kMaxCachedRevisions) revisions_.clear();
    revisions_.emplace(key, revision);
  }
  // Reps are only ever shown published revisions, and only those their
  // roles see: anything else is as missing.
  if (revision->published_revision_id() != event.revision_id() ||
      !ReadsPublished(caller, AccessOf(*revision).visible_to)) {
    return not_found;
  }
  return revision;
}

absl::StatusOr<v1::RecordEventsResponse> Analytics::RecordEvents(
    const Caller& caller, const v1::RecordEventsRequest& request) {
  // Another org is NOT_FOUND whoever asks, as everywhere.
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
  if (org != caller.org) return error::OrgNotFound(request.parent());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kRecordEvents));
  if (request.events_size() == 0) return error::RequiredField("events");
  if (request.events_size() > kMaxEventsPerBatch) {
    return error::TooManyItems("events", kMaxEventsPerBatch);
  }
  const EventWindow window{clock_->Now(), options_.retention};
  struct Checked {
    EventFacts facts;
    std::shared_ptr<const v1::Sop> revision;
  };
  std::vector<Checked> checked;
  checked.reserve(request.events_size());
  absl::flat_hash_map<absl::string_view, int> ids;
  for (int i = 0; i < request.events_size(); ++i) {
    const std::string field = absl::StrCat("events[", i, "]");
    const v1::Event& event = request.events(i);
    SOP_RETURN_IF_ERROR(CheckEventShape(event, field, window));
    auto [seen, inserted] = ids.emplace(event.event_id(), i);
    if (!inserted) {
      return error::InvalidField(absl::StrCat(field, ".event_id"),
                                 absl::StrCat("repeats events[", seen->second, "].event_id"));
    }
    SOP_ASSIGN_OR_RETURN(std::shared_ptr<const v1::Sop> revision,
                         ShownRevision(caller, field, event));
    absl::StatusOr<EventFacts> facts;
    if (event.context().crm().empty()) {
      facts = DeriveEventFacts(event, field, *revision, caller.user_id, window);
    } else {
      SOP_ASSIGN_OR_RETURN(
          CrmMaps::Translated mapped,
          crm_->Translate(caller, event.context(), absl::StrCat(field, ".context")));
      v1::Event ours = event;
      *ours.mutable_context() = std::move(mapped.context);
      facts = DeriveEventFacts(ours, field, *revision, caller.user_id, window);
    }
    if (!facts.ok()) return facts.status();
    checked.push_back({*std::move(facts), std::move(revision)});
  }

  absl::MutexLock lock(&record_mu_);
  // Per event: its id, record mark and first-contact mark (may be empty:
  // asked as seen, so never counted).
  std::vector<std::string> keys;
  for (const Checked& c : checked) {
    keys.push_back(c.facts.stored.event().event_id());
    keys.push_back(c.facts.record_mark);
    keys.push_back(c.facts.first_contact_mark);
  }
  std::vector<std::string> asked;
  for (const std::string& key : keys) {
    if (!key.empty()) asked.push_back(key);
  }
  SOP_ASSIGN_OR_RETURN(std::vector<bool> answers, events_->Seen(org, asked));
  std::vector<bool> seen(keys.size(), true);
  for (size_t k = 0, a = 0; k < keys.size(); ++k) {
    if (!keys[k].empty()) seen[k] = answers[a++];
  }
  // Marks set by earlier events of this batch.
  absl::flat_hash_set<std::string> marked;
  auto first_time = [&](size_t key) { return !seen[key] && marked.insert(keys[key]).second; };
  v1::RecordEventsResponse response;
  EventWrite write;
  write.org = org;
  write.marks_time = window.now;
  for (size_t i = 0; i < checked.size(); ++i) {
    Checked& c = checked[i];
    if (seen[3 * i]) {
      response.set_duplicates(response.duplicates() + 1);
      continue;
    }
    const bool new_record = first_time(3 * i + 1);
    const bool first_contact = first_time(3 * i + 2);
    if (new_record) write.marks.push_back(keys[3 * i + 1]);
    if (first_contact) write.marks.push_back(keys[3 * i + 2]);
    internal::v1::EventAggregate counted = DeltaOf(c.facts, *c.revision, new_record, first_contact);
    if (!counted.counts().empty()) {  // a later first contact adds nothing
      write.deltas.push_back({c.facts.day, c.facts.dimensions, std::move(counted)});
    }
    write.events.push_back(std::move(c.facts.stored));
    response.set_recorded(response.recorded() + 1);
  }
  if (!write.events.empty()) SOP_RETURN_IF_ERROR(events_->Write(write));
  return response;
}

absl::StatusOr<std::pair<std::string, ReportScope>> Analytics::Scope(
    const Caller& caller, const v1::ReportQuery& query,
    std::vector<v1::AnalyticsDimension> default_group_by) const {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("query.parent", query.parent()));
  if (org != caller.org) return error::OrgNotFound(query.parent());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadOwnAnalytics));
  SOP_ASSIGN_OR_RETURN(ReportScope scope,
                       ScopeOf(query, "query", DayOf(clock_->Now()), std::move(default_group_by)));
  if (!IsAllowed(caller, Operation::kReadAllAnalytics)) scope.rep = caller.user_id;
  return std::make_pair(std::move(org), std::move(scope));
}

absl::Status Analytics::ForEachNodeAggregate(
    absl::string_view org, DayNumber first, DayNumber last,
    const std::function<absl::Status(internal::v1::DayAggregate&&)>& fn) const {
  if (!IsValidResourceId(org)) return error::InvalidField("org", "is not a valid org id");
  if (first < 0 || first > kLastDayNumber)
    return error::InvalidField("first_day", "is out of range");
  if (last < 0 || last > kLastDayNumber) return error::InvalidField("last_day", "is out of range");
  if (first > last) return error::InvalidField("first_day", "is after last_day");
  if (last - first >= kMaxReportDays) {
    return error::InvalidField(
        "last_day", absl::StrCat("is more than ", kMaxReportDays, " days after first_day"));
  }
  return events_->ForEachAggregate(org, first, last,
                                   [&](DayNumber day, const internal::v1::AggregateDimensions& d,
                                       const internal::v1::EventAggregate& aggregate) {
                                     internal::v1::DayAggregate row;
                                     row.set_day(day);
                                     *row.mutable_dimensions() = d;
                                     *row.mutable_aggregate() = aggregate;
                                     return fn(std::move(row));
                                   });
}

absl::StatusOr<Analytics::Gathered> Analytics::GatherPeers(absl::string_view org, DayNumber first,
                                                           DayNumber last) const {
  const Options::Cluster& cluster = *options_.cluster;
  SOP_ASSIGN_OR_RETURN(std::vector<ClusterNode> nodes, cluster.nodes->List());
  // Every live peer is asked at once; each answer lands in its own slot.
  struct Asked {
    const ClusterNode* node;
    absl::StatusOr<std::vector<internal::v1::DayAggregate>> answer;
  };
  std::vector<Asked> asked;
  Gathered gathered;
  gathered.nodes.add_counted(cluster.node_id);
  for (const ClusterNode& node : nodes) {
    if (node.id == cluster.node_id) continue;
    if (!node.live) {
      v1::ReportNodes::Missing* missing = gathered.nodes.add_missing();
      missing->set_node(node.id);
      missing->set_address(node.address);
      missing->set_reason("not running (no live lease in etcd)");
      continue;
    }
    asked.push_back({&node, absl::UnknownError("not asked")});
  }
  {
    std::vector<std::thread> threads;
    threads.reserve(asked.size());
    for (Asked& a : asked) {
      threads.emplace_back([&a, &cluster, org, first, last] {
        a.answer = cluster.peers->List(*a.node, org, first, last);
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  for (Asked& a : asked) {
    if (!a.answer.ok()) {
      v1::ReportNodes::Missing* missing = gathered.nodes.add_missing();
      missing->set_node(a.node->id);
      missing->set_address(a.node->address);
      missing->set_reason(std::string(a.answer.status().message()));
      continue;
    }
    gathered.nodes.add_counted(a.node->id);
    for (internal::v1::DayAggregate& row : *a.answer) {
      gathered.aggregates.push_back(std::move(row));
    }
  }
  return gathered;
}

template <typename Report>
absl::StatusOr<Report> Analytics::BuildReport(const Caller& caller, const v1::ReportQuery& query,
                                              Report (*report_of)(const std::vector<ReportGroup>&),
                                              std::vector<v1::AnalyticsDimension> default_group_by,
                                              Operation operation) const {
  SOP_ASSIGN_OR_RETURN(auto scoped, Scope(caller, query, std::move(default_group_by)));
  // After Scope: another org is NOT_FOUND whoever asks.
  SOP_RETURN_IF_ERROR(Authorize(caller, operation));
  const auto& [org, scope] = scoped;
  Gathered gathered;
  if (options_.cluster) {
    SOP_ASSIGN_OR_RETURN(gathered, GatherPeers(org, scope.first, scope.last));
  }
  SOP_ASSIGN_OR_RETURN(std::vector<ReportGroup> groups,
                       GroupAggregates(*events_, org, scope, gathered.aggregates));
  Report report = report_of(groups);
  report.set_start_day(FormatDay(scope.first));
  report.set_end_day(FormatDay(scope.last));
  if (options_.cluster) *report.mutable_nodes() = std::move(gathered.nodes);
  return report;
}

absl::StatusOr<v1::SlaReport> Analytics::GetSlaReport(
    const Caller& caller, const v1::GetSlaReportRequest& request) const {
  return BuildReport(caller, request.query(), &SlaReportOf);
}

absl::StatusOr<v1::CodeReport> Analytics::GetCodeReport(
    const Caller& caller, const v1::GetCodeReportRequest& request) const {
  return BuildReport(caller, request.query(), &CodeReportOf);
}

absl::StatusOr<v1::UsageReport> Analytics::GetUsageReport(
    const Caller& caller, const v1::GetUsageReportRequest& request) const {
  return BuildReport(caller, request.query(), &UsageReportOf);
}

absl::StatusOr<v1::CoverageReport> Analytics::GetCoverageReport(
    const Caller& caller, const v1::GetCoverageReportRequest& request) const {
  // A lookup that matched nothing names no SOP, and its lead source is not
  // kept: such a filter would silently empty the report.
  if (request.query().lead_sources_size() > 0) {
    return error::InvalidField("query.lead_sources", "coverage gaps are not kept by lead source");
  }
  if (!request.query().sop().empty()) {
    return error::InvalidField("query.sop", "coverage gaps name no SOP");
  }
  return BuildReport(caller, request.query(), &CoverageReportOf, {v1::RECORD_TYPE, v1::STATUS},
                     Operation::kReadAllAnalytics);
}

absl::StatusOr<v1::ValidateTransitionResponse> Analytics::ValidateTransition(
    const Caller& caller, const v1::ValidateTransitionRequest& request) const {
  if (!request.has_context()) return error::RequiredField("context");
  if (request.new_status().empty()) return error::RequiredField("new_status");
  if (request.new_status().size() > kMaxStatus)
    return error::FieldTooLong("new_status", kMaxStatus);
  v1::LookupSopsRequest lookup;
  lookup.set_max_results(100);
  if (request.context().crm().empty()) {
    *lookup.mutable_context() = request.context();
  } else {
    SOP_ASSIGN_OR_RETURN(CrmMaps::Translated mapped,
                         crm_->Translate(caller, request.context(), "context"));
    *lookup.mutable_context() = std::move(mapped.context);
  }
  SOP_ASSIGN_OR_RETURN(v1::LookupSopsResponse found, registry_->LookupSops(caller, lookup));
  v1::ValidateTransitionResponse response;
  response.set_allowed(true);
  for (const v1::SopMatch& match : found.matches()) {
    const v1::Sop& sop = match.sop_body();
    bool asks = false;
    for (const v1::Step& step : sop.steps()) asks = asks || AsksCodeFor(step, request.new_status());
    if (!asks) continue;
    response.set_code_required(true);
    response.set_sop(match.sop());
    response.set_revision_id(match.revision_id());
    std::vector<absl::string_view> codes;
    bool listed = false;
    for (const v1::DisqualificationCode& code : sop.disqualification_codes()) {
      *response.add_allowed_codes() = code;
      codes.push_back(code.code());
      listed = listed || code.code() == request.code();
    }
    if (!listed) {
      response.set_allowed(false);
      response.set_reason(absl::StrCat(
          request.code().empty()
              ? "a disqualification code is required"
              : absl::StrCat(error::QuoteInput(request.code()), " is not a disqualification code"),
          " for status ", error::QuoteInput(request.new_status()), " (", sop.title(), "): one of ",
          absl::StrJoin(codes, ", ")));
    }
    break;
  }
  return response;
}

}  // namespace sopsidebar
