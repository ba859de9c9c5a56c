// The feedback loop end to end in process: the shipped example SOPs live in
// a registry on in-memory stores with a fake clock, reps' panels record
// events through Analytics, and the reports must give exactly what the
// events say.
#include "server/domain/analytics/analytics.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/sopfile/sop_file.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/crm/crm_maps.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/registry/crm_lookup.h"
#include "server/domain/registry/sop_registry.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "server/domain/store/in_memory_event_store.h"
#include "server/domain/store/in_memory_sop_store.h"

namespace sopsidebar {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kMql[] = "orgs/default/sops/mql-acceptance-handoff";
constexpr char kPricing[] = "orgs/default/sops/pricing-discount-playbook";
constexpr char kRejected[] = "Rejected: Return to Marketing";
constexpr char kAccepted[] = "SQL – Accepted";
const std::vector<std::string> kCodes = {"D-TooSmall",   "D-WrongRole",  "D-Budget",
                                         "D-NoResponse", "D-Competitor", "D-Duplicate"};

Caller Person(const std::string& user, v1::Role role) {
  Caller caller;
  caller.org = "default";
  caller.user_id = user;
  caller.roles = RoleBit(role);
  return caller;
}

std::string FieldOf(const absl::Status& status) {
  std::vector<error::FieldViolation> violations = error::FieldViolationsOf(status);
  return violations.empty() ? "" : violations[0].field;
}

class AnalyticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(absl::FromUnixSeconds(1796040000));  // 2026-12-01T12:00:00Z
    auto crm = CrmMaps::Create(&auth_store_, &clock_);
    ASSERT_TRUE(crm.ok()) << crm.status();
    crm_ = *std::move(crm);
    auto registry = SopRegistry::Create(&sop_store_, &clock_, IndexedSopMatcher::Build);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    SopRegistry::OrgPolicy policy;
    policy.create_time = clock_.Now() - absl::Hours(24 * 365);
    registry_->SetOrgPolicySource([policy](absl::string_view) { return policy; });
    auto files = LoadSopFiles(SOP_EXAMPLES_DIR);
    ASSERT_TRUE(files.ok()) << files.status();
    const Caller admin = Person("admin@example.com", v1::ADMIN);
    for (const SopFile& file : *files) {
      v1::CreateSopRequest create;
      create.set_parent("orgs/default");
      create.set_sop_id(file.sop_id);
      *create.mutable_sop() = file.sop;
      ASSERT_TRUE(registry_->CreateSop(admin, create).ok()) << file.path;
      v1::PublishSopRequest publish;
      publish.set_name(absl::StrCat("orgs/default/sops/", file.sop_id));
      publish.set_emergency(true);
      publish.set_reason("the test's catalog");
      auto published = registry_->PublishSop(admin, publish);
      ASSERT_TRUE(published.ok()) << published.status();
      live_[publish.name()] = published->sop().published_revision_id();
    }
    Analytics::Options options;
    options.coverage_flush_interval = absl::ZeroDuration();
    analytics_ = std::make_unique<Analytics>(&events_, &sop_store_, registry_.get(), crm_.get(),
                                             &clock_, options);
  }

  // A lead handed over `age` ago from `source`.
  v1::CrmContext Lead(int id, const std::string& source, absl::Time anchor,
                      const std::string& status = "MQL – New Handoff") {
    v1::CrmContext context;
    context.set_record_type("Lead");
    context.set_record_id(absl::StrCat("00Q", id));
    auto& fields = *context.mutable_fields();
    fields["lead_status"].set_string_value(status);
    fields["lead_source"].set_string_value(source);
    fields["campaign"].set_string_value(absl::StrCat("campaign-", id % 3));
    fields["lead_score"].set_number_value(80);
    fields["status_changed_at"].set_string_value(
        absl::FormatTime(absl::RFC3339_full, anchor, absl::UTCTimeZone()));
    return context;
  }

  v1::Event Event(const std::string& id, v1::Event::Type type, absl::Time time,
                  const v1::CrmContext& context, const std::string& sop = kMql) {
    v1::Event event;
    event.set_event_id(id);
    event.set_type(type);
    *event.mutable_event_time() = ToProtoTimestamp(time);
    event.set_sop(sop);
    event.set_revision_id(live_[sop]);
    *event.mutable_context() = context;
    return event;
  }

  absl::StatusOr<v1::RecordEventsResponse> Record(const Caller& caller,
                                                  std::vector<v1::Event> events) {
    v1::RecordEventsRequest request;
    request.set_parent("orgs/default");
    for (v1::Event& event : events) *request.add_events() = std::move(event);
    return analytics_->RecordEvents(caller, request);
  }

  v1::ReportQuery Query(std::vector<v1::AnalyticsDimension> group_by) {
    v1::ReportQuery query;
    query.set_parent("orgs/default");
    query.set_start_day("2026-11-01");
    query.set_end_day("2026-12-01");
    for (v1::AnalyticsDimension d : group_by) query.add_group_by(d);
    return query;
  }
  v1::SlaReport Sla(const Caller& caller, std::vector<v1::AnalyticsDimension> group_by) {
    v1::GetSlaReportRequest request;
    *request.mutable_query() = Query(std::move(group_by));
    auto report = analytics_->GetSlaReport(caller, request);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.value_or(v1::SlaReport());
  }
  v1::CodeReport Codes(const Caller& caller, std::vector<v1::AnalyticsDimension> group_by) {
    v1::GetCodeReportRequest request;
    *request.mutable_query() = Query(std::move(group_by));
    auto report = analytics_->GetCodeReport(caller, request);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.value_or(v1::CodeReport());
  }

  FakeClock clock_;
  InMemorySopStore sop_store_;
  InMemoryAuthStore auth_store_;
  InMemoryEventStore events_{
      InMemoryEventStore::Options{absl::Hours(24 * 90), [this] { return clock_.Now(); }}};
  std::unique_ptr<CrmMaps> crm_;
  std::unique_ptr<SopRegistry> registry_;
  std::unique_ptr<Analytics> analytics_;
  std::map<std::string, std::string> live_;  // SOP name -> live revision
  const Caller marketing_ = Person("marketing@example.com", v1::MARKETING);
};

// Nearest-rank percentile, written out independently of reports.cc.
int64_t Percentile(std::vector<int64_t> values, int p) {
  std::sort(values.begin(), values.end());
  size_t rank = 1;
  while (rank * 100 < values.size() * p) ++rank;
  return values[rank - 1];
}

TEST_F(AnalyticsTest, TwoHundredLeadsGiveExactlyTheExpectedComplianceCodesAndRates) {
  const std::vector<std::string> sources = {"Web", "Partner Referral", "Purchased List",
                                            "Phone Inquiry"};
  const std::vector<Caller> sdrs = {Person("sdr1@example.com", v1::SDR),
                                    Person("sdr2@example.com", v1::SDR),
                                    Person("sdr3@example.com", v1::SDR)};
  std::mt19937 random(15);
  struct Expected {
    std::vector<int64_t> delays_ms;
    int64_t within = 0;
    int64_t records = 0;
    std::map<std::string, int64_t> codes;
  };
  std::map<std::string, Expected> by_source;
  std::map<std::string, Expected> by_rep;
  std::map<std::string, std::vector<v1::Event>> batches;  // by rep
  for (int lead = 0; lead < 200; ++lead) {
    const std::string& source = sources[random() % sources.size()];
    const Caller& sdr = sdrs[random() % sdrs.size()];
    // Handed over within the last three weeks; contacted 10 s to 20 min later.
    const absl::Time anchor = clock_.Now() - absl::Minutes(30 + random() % (21 * 24 * 60));
    const absl::Duration delay = absl::Seconds(10 + random() % 1190);
    const v1::CrmContext context = Lead(lead, source, anchor);
    const std::string id = absl::StrCat("lead-", lead);
    std::vector<v1::Event>& batch = batches[sdr.user_id];
    batch.push_back(Event(id + "-shown", v1::Event::PANEL_SHOWN, anchor + delay / 2, context));
    batch.push_back(Event(id + "-contact", v1::Event::FIRST_CONTACT, anchor + delay, context));
    for (Expected* e : {&by_source[source], &by_rep[sdr.user_id]}) {
      e->delays_ms.push_back(absl::ToInt64Milliseconds(delay));
      e->within += delay <= absl::Minutes(5);
      e->records += 1;
    }
    if (random() % 100 < 35) {
      v1::Event rejected =
          Event(id + "-dq", v1::Event::DISQUALIFIED, anchor + delay + absl::Minutes(1), context);
      rejected.set_code(kCodes[random() % kCodes.size()]);
      by_source[source].codes[rejected.code()] += 1;
      batch.push_back(std::move(rejected));
    } else {
      v1::Event accepted =
          Event(id + "-sql", v1::Event::STATUS_CHANGED, anchor + delay + absl::Minutes(1), context);
      accepted.set_new_status(kAccepted);
      batch.push_back(std::move(accepted));
    }
  }
  // Each rep's panel sends its events in batches of at most 50.
  auto send_all = [&](int expected_recorded, int expected_duplicates) {
    int recorded = 0;
    int duplicates = 0;
    for (const Caller& sdr : sdrs) {
      const std::vector<v1::Event>& events = batches[sdr.user_id];
      for (size_t i = 0; i < events.size(); i += 50) {
        auto response =
            Record(sdr, std::vector<v1::Event>(events.begin() + i,
                                               events.begin() + std::min(events.size(), i + 50)));
        ASSERT_TRUE(response.ok()) << response.status();
        recorded += response->recorded();
        duplicates += response->duplicates();
      }
    }
    EXPECT_EQ(recorded, expected_recorded);
    EXPECT_EQ(duplicates, expected_duplicates);
  };
  int total_events = 0;
  for (const auto& [rep, events] : batches) total_events += events.size();
  send_all(total_events, 0);

  const v1::SlaReport sla = Sla(marketing_, {v1::LEAD_SOURCE});
  ASSERT_THAT(sla.rows(), SizeIs(by_source.size()));
  for (const v1::SlaReport::Row& row : sla.rows()) {
    const std::string& source = row.key().values(0);
    const Expected& e = by_source[source];
    SCOPED_TRACE(source);
    EXPECT_EQ(row.first_contacts(), static_cast<int64_t>(e.delays_ms.size()));
    EXPECT_EQ(row.within_window(), e.within);
    EXPECT_DOUBLE_EQ(row.compliance(), static_cast<double>(e.within) / e.delays_ms.size());
    EXPECT_EQ(row.p50_ms(), Percentile(e.delays_ms, 50));
    EXPECT_EQ(row.p90_ms(), Percentile(e.delays_ms, 90));
  }
  const v1::CodeReport codes = Codes(marketing_, {v1::LEAD_SOURCE});
  ASSERT_THAT(codes.rows(), SizeIs(by_source.size()));
  for (const v1::CodeReport::Row& row : codes.rows()) {
    const std::string& source = row.key().values(0);
    const Expected& e = by_source[source];
    SCOPED_TRACE(source);
    int64_t disqualified = 0;
    for (const auto& [code, count] : e.codes) disqualified += count;
    EXPECT_EQ(row.records(), e.records);
    EXPECT_EQ(row.disqualified(), disqualified);
    const std::map<std::string, int64_t> by_code(row.by_code().begin(), row.by_code().end());
    EXPECT_EQ(by_code, e.codes);
    EXPECT_DOUBLE_EQ(row.rejection_rate(), static_cast<double>(disqualified) / e.records);
  }
  // Per rep, and each SDR sees only their own row.
  const v1::SlaReport per_rep = Sla(marketing_, {v1::REP});
  ASSERT_THAT(per_rep.rows(), SizeIs(sdrs.size()));
  for (const v1::SlaReport::Row& row : per_rep.rows()) {
    EXPECT_EQ(row.within_window(), by_rep[row.key().values(0)].within);
  }
  const v1::SlaReport own = Sla(sdrs[1], {v1::REP});
  ASSERT_THAT(own.rows(), SizeIs(1));
  EXPECT_EQ(own.rows(0).key().values(0), "sdr2@example.com");
  EXPECT_EQ(own.rows(0).p90_ms(), Percentile(by_rep["sdr2@example.com"].delays_ms, 90));
  // By week, the rows add up to all 200 first contacts.
  int64_t weekly = 0;
  const v1::SlaReport by_week = Sla(marketing_, {v1::WEEK});
  for (const v1::SlaReport::Row& row : by_week.rows()) {
    weekly += row.first_contacts();
  }
  EXPECT_EQ(weekly, 200);

  // A panel that replays every batch (lost acknowledgements) changes nothing.
  send_all(0, total_events);
  EXPECT_TRUE(MessageDifferencer::Equals(Sla(marketing_, {v1::LEAD_SOURCE}), sla));
  EXPECT_TRUE(MessageDifferencer::Equals(Codes(marketing_, {v1::LEAD_SOURCE}), codes));
}

TEST_F(AnalyticsTest, AFirstContactAfterTheWindowIsABreachAndOnlyTheFirstCounts) {
  const Caller sdr = Person("sdr@example.com", v1::SDR);
  const absl::Time anchor = clock_.Now() - absl::Hours(1);
  const v1::CrmContext lead = Lead(1, "Web", anchor);
  ASSERT_TRUE(
      Record(sdr, {Event("late", v1::Event::FIRST_CONTACT, anchor + absl::Minutes(7), lead),
                   Event("again", v1::Event::FIRST_CONTACT, anchor + absl::Minutes(8), lead)})
          .ok());
  const v1::SlaReport report = Sla(marketing_, {});
  ASSERT_THAT(report.rows(), SizeIs(1));
  EXPECT_EQ(report.rows(0).first_contacts(), 1);
  EXPECT_EQ(report.rows(0).within_window(), 0);
  EXPECT_EQ(report.rows(0).p50_ms(), 7 * 60 * 1000);
}

TEST_F(AnalyticsTest, ACodeNotInTheRevisionIsRejectedWithTheAllowedCodesAndNothingIsRecorded) {
  const Caller sdr = Person("sdr@example.com", v1::SDR);
  const v1::CrmContext lead = Lead(1, "Web", clock_.Now() - absl::Hours(1));
  v1::Event bad = Event("dq", v1::Event::DISQUALIFIED, clock_.Now(), lead);
  bad.set_code("D-Nope");
  auto response = Record(sdr, {Event("shown", v1::Event::PANEL_SHOWN, clock_.Now(), lead), bad});
  ASSERT_TRUE(absl::IsInvalidArgument(response.status())) << response.status();
  EXPECT_EQ(FieldOf(response.status()), "events[1].code");
  EXPECT_THAT(response.status().message(),
              HasSubstr("allowed: D-TooSmall, D-WrongRole, D-Budget, D-NoResponse, "
                        "D-Competitor, D-Duplicate"));
  v1::GetUsageReportRequest usage;
  *usage.mutable_query() = Query({});
  EXPECT_THAT(analytics_->GetUsageReport(marketing_, usage)->rows(), SizeIs(0));
}

TEST_F(AnalyticsTest, ValidateTransitionRefusesARejectionWithoutACodeAndListsTheAllowedOnes) {
  const Caller sdr = Person("sdr@example.com", v1::SDR);
  v1::ValidateTransitionRequest request;
  *request.mutable_context() = Lead(1, "Web", clock_.Now() - absl::Minutes(2));
  request.set_new_status(kRejected);
  auto answer = analytics_->ValidateTransition(sdr, request);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_FALSE(answer->allowed());
  EXPECT_TRUE(answer->code_required());
  EXPECT_THAT(answer->reason(), HasSubstr("a disqualification code is required"));
  EXPECT_EQ(answer->sop(), kMql);
  EXPECT_EQ(answer->revision_id(), live_[kMql]);
  std::vector<std::string> allowed;
  for (const v1::DisqualificationCode& code : answer->allowed_codes())
    allowed.push_back(code.code());
  EXPECT_EQ(allowed, kCodes);

  request.set_code("D-Maybe");
  answer = analytics_->ValidateTransition(sdr, request);
  ASSERT_TRUE(answer.ok());
  EXPECT_FALSE(answer->allowed());
  EXPECT_THAT(answer->reason(), HasSubstr("\"D-Maybe\" is not a disqualification code"));

  request.set_code("D-Budget");
  EXPECT_TRUE(analytics_->ValidateTransition(sdr, request)->allowed());

  request.set_code("");
  request.set_new_status(kAccepted);
  answer = analytics_->ValidateTransition(sdr, request);
  EXPECT_TRUE(answer->allowed());
  EXPECT_FALSE(answer->code_required());
  EXPECT_THAT(answer->allowed_codes(), SizeIs(0));

  request.set_new_status("");
  EXPECT_EQ(FieldOf(analytics_->ValidateTransition(sdr, request).status()), "new_status");
}

TEST_F(AnalyticsTest, BadEventsAreRefusedNamingTheEventAndTheField) {
  const Caller sdr = Person("sdr@example.com", v1::SDR);
  const v1::CrmContext lead = Lead(1, "Web", clock_.Now() - absl::Hours(1));
  const v1::Event good = Event("good", v1::Event::PANEL_SHOWN, clock_.Now(), lead);
  auto refused = [&](v1::Event bad) { return Record(sdr, {good, std::move(bad)}).status(); };

  v1::Event unknown = Event("e", v1::Event::PANEL_SHOWN, clock_.Now(), lead);
  unknown.set_type(static_cast<v1::Event::Type>(42));
  EXPECT_EQ(FieldOf(refused(unknown)), "events[1].type");
  EXPECT_EQ(
      FieldOf(refused(Event("e", v1::Event::PANEL_SHOWN, clock_.Now() + absl::Minutes(10), lead))),
      "events[1].event_time");
  EXPECT_EQ(FieldOf(refused(
                Event("e", v1::Event::PANEL_SHOWN, clock_.Now() - absl::Hours(24 * 91), lead))),
            "events[1].event_time");
  EXPECT_EQ(FieldOf(refused(Event("good", v1::Event::PANEL_SHOWN, clock_.Now(), lead))),
            "events[1].event_id");
  EXPECT_EQ(FieldOf(refused(Event("bad id!", v1::Event::PANEL_SHOWN, clock_.Now(), lead))),
            "events[1].event_id");
  v1::Event step = Event("e", v1::Event::STEP_COMPLETED, clock_.Now(), lead);
  step.set_step_ordinal(99);
  EXPECT_EQ(FieldOf(refused(step)), "events[1].step_ordinal");
  v1::Event no_anchor = Event("e", v1::Event::FIRST_CONTACT, clock_.Now(), lead);
  no_anchor.mutable_context()->mutable_fields()->erase("status_changed_at");
  EXPECT_EQ(FieldOf(refused(no_anchor)), "events[1].context.fields[\"status_changed_at\"]");

  // The AE-only pricing playbook, a draft revision and another org are all
  // NOT_FOUND for an SDR's panel, alike.
  const absl::Status hidden =
      refused(Event("e", v1::Event::PANEL_SHOWN, clock_.Now(), lead, kPricing));
  EXPECT_TRUE(absl::IsNotFound(hidden)) << hidden;
  EXPECT_THAT(hidden.message(), HasSubstr("events[1]"));
  v1::Event draft = Event("e", v1::Event::PANEL_SHOWN, clock_.Now(), lead);
  draft.set_revision_id("1");
  EXPECT_TRUE(absl::IsNotFound(refused(draft)));
  v1::Event other_org = Event("e", v1::Event::PANEL_SHOWN, clock_.Now(), lead);
  other_org.set_sop("orgs/other/sops/mql-acceptance-handoff");
  EXPECT_TRUE(absl::IsNotFound(refused(other_org)));
  // The same event is fine for an AE.
  EXPECT_TRUE(Record(Person("ae@example.com", v1::AE),
                     {Event("ae-1", v1::Event::PANEL_SHOWN, clock_.Now(), lead, kPricing)})
                  .ok());

  std::vector<v1::Event> oversize;
  for (int i = 0; i <= Analytics::kMaxEventsPerBatch; ++i) {
    oversize.push_back(Event(absl::StrCat("e", i), v1::Event::PANEL_SHOWN, clock_.Now(), lead));
  }
  EXPECT_EQ(FieldOf(Record(sdr, oversize).status()), "events");
  // None of the refused batches recorded their good event.
  auto replay = Record(sdr, {good});
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->recorded(), 1);
}

TEST_F(AnalyticsTest, LookupsThatMatchNothingShowUpAsCoverageGapsForManagersOnly) {
  const Caller sdr = Person("sdr@example.com", v1::SDR);
  auto lookup = [&](const std::string& record_type, const std::string& status) {
    v1::LookupSopsRequest request;
    request.mutable_context()->set_record_type(record_type);
    (*request.mutable_context()->mutable_fields())["lead_status"].set_string_value(status);
    std::string wire;
    EXPECT_TRUE(
        LookupSopsWire(*registry_, *crm_, sdr, request, &wire, analytics_->unmatched_lookups())
            .ok());
  };
  // Every Lead matches the content guide; opportunities and cases have no SOP.
  for (int i = 0; i < 3; ++i) lookup("Opportunity", "Negotiation");
  lookup("Case", "Escalated");
  lookup("Lead", "MQL – New Handoff");
  ASSERT_TRUE(analytics_->FlushCoverage().ok());
  v1::GetCoverageReportRequest request;
  *request.mutable_query() = Query({});
  auto report = analytics_->GetCoverageReport(Person("ops@example.com", v1::SALES_OPS), request);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_THAT(report->rows(), SizeIs(2));
  EXPECT_THAT(report->rows(0).key().values(), ElementsAre("Opportunity", "Negotiation"));
  EXPECT_EQ(report->rows(0).unmatched_lookups(), 3);
  EXPECT_THAT(report->rows(1).key().values(), ElementsAre("Case", "Escalated"));
  EXPECT_EQ(report->rows(1).unmatched_lookups(), 1);
  EXPECT_TRUE(absl::IsPermissionDenied(analytics_->GetCoverageReport(sdr, request).status()));
}

// Nodes of a cluster, each an Analytics on its own event store (as each
// sopd node keeps the events it received), sharing the catalog; the peers
// answer with what ForEachNodeAggregate gives, as PeerService does.
class ClusterAnalyticsTest : public AnalyticsTest, public ClusterNodes, public PeerAggregates {
 protected:
  struct Node {
    explicit Node(InMemoryEventStore::Options options) : events(std::move(options)) {}
    InMemoryEventStore events;
    std::unique_ptr<Analytics> analytics;
    bool live = true;
    absl::Status fails;  // what asking it gives, when not OK
  };

  void SetUp() override {
    AnalyticsTest::SetUp();
    for (const std::string id : {"node-a", "node-b", "node-c"}) {
      auto node = std::make_unique<Node>(
          InMemoryEventStore::Options{absl::Hours(24 * 90), [this] { return clock_.Now(); }});
      Analytics::Options options;
      options.coverage_flush_interval = absl::ZeroDuration();
      options.cluster = Analytics::Options::Cluster{id, this, this};
      node->analytics = std::make_unique<Analytics>(&node->events, &sop_store_, registry_.get(),
                                                    crm_.get(), &clock_, options);
      nodes_[id] = std::move(node);
    }
  }

  absl::StatusOr<std::vector<ClusterNode>> List() const override {
    std::vector<ClusterNode> listed;
    for (const auto& [id, node] : nodes_) {
      listed.push_back({id, absl::StrCat(id, ":50051"), node->live});
    }
    return listed;
  }

  absl::StatusOr<std::vector<internal::v1::DayAggregate>> List(const ClusterNode& peer,
                                                               absl::string_view org,
                                                               DayNumber first,
                                                               DayNumber last) const override {
    const Node& node = *nodes_.at(peer.id);
    if (!node.fails.ok()) return node.fails;
    std::vector<internal::v1::DayAggregate> rows;
    SOP_RETURN_IF_ERROR(node.analytics->ForEachNodeAggregate(org, first, last,
                                                             [&](internal::v1::DayAggregate&& row) {
                                                               rows.push_back(std::move(row));
                                                               return absl::OkStatus();
                                                             }));
    return rows;
  }

  // Leads of three SDRs, each with a first contact, a third of them
  // disqualified; each rep's panel sends to the node `node_of` names.
  void RecordLeads(const std::function<Analytics*(int rep)>& node_of) {
    std::mt19937 random(7);
    for (int lead = 0; lead < 60; ++lead) {
      const int rep = lead % 3;
      const Caller sdr = Person(absl::StrCat("sdr", rep, "@example.com"), v1::SDR);
      const absl::Time anchor = clock_.Now() - absl::Minutes(30 + random() % (14 * 24 * 60));
      const v1::CrmContext context = Lead(lead, lead % 2 == 0 ? "Web" : "Partner Referral", anchor);
      const std::string id = absl::StrCat("lead-", lead);
      std::vector<v1::Event> events = {
          Event(id + "-shown", v1::Event::PANEL_SHOWN, anchor + absl::Seconds(30), context),
          Event(id + "-contact", v1::Event::FIRST_CONTACT,
                anchor + absl::Seconds(60 + random() % 900), context)};
      if (lead % 3 == 0) {
        v1::Event rejected =
            Event(id + "-dq", v1::Event::DISQUALIFIED, anchor + absl::Hours(1), context);
        rejected.set_code(kCodes[random() % kCodes.size()]);
        events.push_back(std::move(rejected));
      }
      v1::RecordEventsRequest request;
      request.set_parent("orgs/default");
      for (v1::Event& event : events) *request.add_events() = event;
      auto recorded = node_of(rep)->RecordEvents(sdr, request);
      ASSERT_TRUE(recorded.ok()) << recorded.status();
    }
  }

  template <typename Report, typename Request>
  Report Ask(const Analytics& analytics,
             absl::StatusOr<Report> (Analytics::*get)(const Caller&, const Request&) const) {
    Request request;
    *request.mutable_query() = Query({v1::LEAD_SOURCE, v1::REP});
    absl::StatusOr<Report> report = (analytics.*get)(marketing_, request);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.value_or(Report());
  }

  Analytics& At(const std::string& id) { return *nodes_.at(id)->analytics; }

  std::map<std::string, std::unique_ptr<Node>> nodes_;
};

TEST_F(ClusterAnalyticsTest, AReportOnAnyNodeAddsUpEveryNodesEventsExactly) {
  // The same leads, once all through one node (the fixture's single node)
  // and once spread over the three nodes by rep.
  RecordLeads([&](int) { return analytics_.get(); });
  const std::vector<std::string> ids = {"node-a", "node-b", "node-c"};
  RecordLeads([&](int rep) { return &At(ids[rep]); });

  const auto single_sla = Ask(*analytics_, &Analytics::GetSlaReport);
  const auto single_codes = Ask(*analytics_, &Analytics::GetCodeReport);
  const auto single_usage = Ask(*analytics_, &Analytics::GetUsageReport);
  ASSERT_THAT(single_sla.rows(), SizeIs(6));  // two sources by three reps
  EXPECT_FALSE(single_sla.has_nodes());
  for (const std::string& asked : ids) {
    SCOPED_TRACE(asked);
    v1::SlaReport sla = Ask(At(asked), &Analytics::GetSlaReport);
    v1::CodeReport codes = Ask(At(asked), &Analytics::GetCodeReport);
    v1::UsageReport usage = Ask(At(asked), &Analytics::GetUsageReport);
    // The asked node first, then the others.
    EXPECT_EQ(sla.nodes().counted(0), asked);
    EXPECT_THAT(sla.nodes().counted(), SizeIs(3));
    EXPECT_THAT(sla.nodes().missing(), SizeIs(0));
    EXPECT_THAT(codes.nodes().counted(), SizeIs(3));
    EXPECT_THAT(usage.nodes().counted(), SizeIs(3));
    sla.clear_nodes();
    codes.clear_nodes();
    usage.clear_nodes();
    EXPECT_TRUE(MessageDifferencer::Equals(sla, single_sla)) << sla.DebugString();
    EXPECT_TRUE(MessageDifferencer::Equals(codes, single_codes)) << codes.DebugString();
    EXPECT_TRUE(MessageDifferencer::Equals(usage, single_usage)) << usage.DebugString();
  }
}

TEST_F(ClusterAnalyticsTest, NodesThatAreDownOrDoNotAnswerAreNamedAsMissing) {
  const std::vector<std::string> ids = {"node-a", "node-b", "node-c"};
  RecordLeads([&](int rep) { return &At(ids[rep]); });
  nodes_["node-b"]->fails = absl::UnavailableError("asking node-b:50051: connection refused");
  nodes_["node-c"]->live = false;

  const v1::SlaReport sla = Ask(At("node-a"), &Analytics::GetSlaReport);
  EXPECT_THAT(sla.nodes().counted(), ElementsAre("node-a"));
  ASSERT_THAT(sla.nodes().missing(), SizeIs(2));
  std::map<std::string, std::string> missing;
  for (const auto& m : sla.nodes().missing()) {
    EXPECT_EQ(m.address(), m.node() + ":50051");
    missing[m.node()] = m.reason();
  }
  EXPECT_THAT(missing["node-b"], HasSubstr("connection refused"));
  EXPECT_THAT(missing["node-c"], HasSubstr("not running"));
  // Only node-a's rep (sdr0) is in the figures.
  ASSERT_THAT(sla.rows(), SizeIs(2));
  for (const v1::SlaReport::Row& row : sla.rows())
    EXPECT_EQ(row.key().values(1), "sdr0@example.com");
}

TEST_F(ClusterAnalyticsTest, NodeAggregatesRefuseBadRangesNamingTheField) {
  auto ask = [&](const std::string& org, DayNumber first, DayNumber last) {
    return At("node-a").ForEachNodeAggregate(
        org, first, last, [](internal::v1::DayAggregate&&) { return absl::OkStatus(); });
  };
  EXPECT_EQ(FieldOf(ask("Not An Org", 1, 2)), "org");
  EXPECT_EQ(FieldOf(ask("default", 5, 4)), "first_day");
  EXPECT_EQ(FieldOf(ask("default", -1, 4)), "first_day");
  EXPECT_EQ(FieldOf(ask("default", 1, kLastDayNumber + 1)), "last_day");
  EXPECT_EQ(FieldOf(ask("default", 1, 1 + kMaxReportDays)), "last_day");
  EXPECT_TRUE(ask("default", 1, kMaxReportDays).ok());
}

}  // namespace
}  // namespace sopsidebar
