// The authorization matrix: every RPC of every sopd service, called as every
// role (and with no token), on a public SOP and on an AE-only SOP, from the
// SOP's own org and from another org; and as an SDR and an AE whose user id
// is the SOP's owner_user_id, or who are named like its free-text owner.
// Each SOP has a draft ahead of its published revision. Each cell's expected
// outcome is written here from docs/SECURITY.md, independently of the
// server's permission table, and every cell must match. The test also fails
// when a service gains an RPC that has no row here.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/analytics_service.pb.h"
#include "sopsidebar/v1/authoring_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/events_service.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

enum class Outcome {
  kOk,                // the call succeeds (and a list or lookup includes the SOP)
  kOkDraft,           // a get or list succeeds and shows the draft, not the published revision
  kOkWithoutIt,       // a list or lookup succeeds but leaves the SOP out
  kNotFound,
  kPermissionDenied,
  kUnauthenticated,
  kFailedPrecondition,
};

std::string Name(Outcome o) {
  switch (o) {
    case Outcome::kOk: return "OK";
    case Outcome::kOkDraft: return "OK_DRAFT";
    case Outcome::kOkWithoutIt: return "OK_WITHOUT_IT";
    case Outcome::kNotFound: return "NOT_FOUND";
    case Outcome::kPermissionDenied: return "PERMISSION_DENIED";
    case Outcome::kUnauthenticated: return "UNAUTHENTICATED";
    case Outcome::kFailedPrecondition: return "FAILED_PRECONDITION";
  }
  return "?";
}

Outcome FromStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk: return Outcome::kOk;
    case absl::StatusCode::kNotFound: return Outcome::kNotFound;
    case absl::StatusCode::kPermissionDenied: return Outcome::kPermissionDenied;
    case absl::StatusCode::kUnauthenticated: return Outcome::kUnauthenticated;
    case absl::StatusCode::kFailedPrecondition: return Outcome::kFailedPrecondition;
    default:
      ADD_FAILURE() << "unexpected status " << s;
      return Outcome::kOk;
  }
}

// The target SOP's owner: a free-text label and the owner's user id.
constexpr char kOwnerLabel[] = "Sales Operations Manager";
constexpr char kOwnerUserId[] = "matrix-owner";
constexpr char kPublishedTitle[] = "Matrix SOP";
constexpr char kDraftTitle[] = "Matrix SOP (draft)";

// Whose token calls, besides its role.
enum class Principal {
  kPlain,  // a user with no tie to the SOP
  kOwner,  // user id == the SOP's owner_user_id
  kLabel,  // user id and display name spell the SOP's free-text owner
  kViewer,  // a CRM user an INTEGRATION token acts for, whose CRM role maps to the role
};

// The roles that also call as kOwner and kLabel.
constexpr v1::Role kOwnerRoles[] = {v1::SDR, v1::AE};

// Who calls. role == ROLE_UNSPECIFIED stands for "no token".
struct Cell {
  v1::Role role;
  bool ae_only;     // the target SOP is visible to AE only
  bool other_org;   // the caller's token belongs to another org
  Principal principal = Principal::kPlain;
};

std::string Describe(const Cell& c) {
  const char* principal = c.principal == Principal::kOwner    ? " (owner_user_id)"
                          : c.principal == Principal::kLabel  ? " (named like the owner label)"
                          : c.principal == Principal::kViewer ? " (viewer of an INTEGRATION token)"
                                                              : "";
  return absl::StrCat(c.role == v1::ROLE_UNSPECIFIED ? "no-token" : v1::Role_Name(c.role),
                      principal, c.ae_only ? " / AE-only SOP" : " / public SOP",
                      c.other_org ? " / other org" : " / own org");
}

// The expected outcome, from the rules in docs/SECURITY.md.
struct Rules {
  static bool Editor(v1::Role r) { return r == v1::SALES_OPS || r == v1::ADMIN; }
  // An INTEGRATION token without a viewer is nobody: it sees no SOP.
  static bool Nobody(const Cell& c) { return c.role == v1::INTEGRATION; }
  // Visibility comes from roles alone: owning an SOP never shows it.
  static bool Sees(const Cell& c) {
    return !Nobody(c) && (!c.ae_only || c.role == v1::AE || Editor(c.role));
  }
  // Drafts and history: editors, and the owner of an SOP it sees. The
  // free-text owner label grants nothing.
  static bool ReadsDrafts(const Cell& c) {
    return Sees(c) && (Editor(c.role) || c.principal == Principal::kOwner);
  }
  // Reads of one SOP: hidden -> NOT_FOUND; the draft with draft access.
  static Outcome Read(const Cell& c) {
    if (!Sees(c)) return Outcome::kNotFound;
    return ReadsDrafts(c) ? Outcome::kOkDraft : Outcome::kOk;
  }
  // Lists: hidden SOPs are left out (nobody's list is empty).
  static Outcome Listing(const Cell& c) {
    if (!Sees(c)) return Outcome::kOkWithoutIt;
    return ReadsDrafts(c) ? Outcome::kOkDraft : Outcome::kOk;
  }
  // Lookups match published revisions only.
  static Outcome Lookup(const Cell& c) {
    if (Nobody(c)) return Outcome::kPermissionDenied;
    return Sees(c) ? Outcome::kOk : Outcome::kOkWithoutIt;
  }
  // Revisions and targeting checks: hidden -> NOT_FOUND, then draft access.
  static Outcome History(const Cell& c) {
    if (!Sees(c)) return Outcome::kNotFound;
    return ReadsDrafts(c) ? Outcome::kOk : Outcome::kPermissionDenied;
  }
  // Editing one SOP: hidden -> NOT_FOUND, then the editor roles.
  static Outcome Edit(const Cell& c) {
    if (!Sees(c)) return Outcome::kNotFound;
    return Editor(c.role) ? Outcome::kOk : Outcome::kPermissionDenied;
  }
  static Outcome Create(const Cell& c) {
    return Editor(c.role) ? Outcome::kOk : Outcome::kPermissionDenied;
  }
  static Outcome TokenAdmin(const Cell& c) {
    return c.role == v1::ADMIN ? Outcome::kOk : Outcome::kPermissionDenied;
  }
  static Outcome Anyone(const Cell&) { return Outcome::kOk; }
  static Outcome RoleMapAdmin(const Cell& c) { return TokenAdmin(c); }
  static Outcome FieldMapAdmin(const Cell& c) {
    return Editor(c.role) ? Outcome::kOk : Outcome::kPermissionDenied;
  }
  static Outcome ServerAdminOnly(const Cell&) { return Outcome::kPermissionDenied; }
  // Review steps of the SOP's owner and the editors (submit, mark
  // reviewed, resolve a comment); comments and their list also for the
  // owner. Hidden -> NOT_FOUND.
  static Outcome OwnerOrEditor(const Cell& c) {
    if (!Sees(c)) return Outcome::kNotFound;
    return Editor(c.role) || c.principal == Principal::kOwner ? Outcome::kOk
                                                              : Outcome::kPermissionDenied;
  }
  // Sign-off: only holders of the SOP's required approver roles, and the
  // matrix SOP requires none.
  static Outcome SignOff(const Cell& c) {
    return Sees(c) ? Outcome::kPermissionDenied : Outcome::kNotFound;
  }
  // The audit trail: ADMIN, SALES_OPS, VP_SALES, MARKETING_DIRECTOR.
  static Outcome AuditReader(const Cell& c) {
    return Editor(c.role) || c.role == v1::VP_SALES || c.role == v1::MARKETING_DIRECTOR
               ? Outcome::kOk
               : Outcome::kPermissionDenied;
  }
  // Events about the SOP: any person who sees it (nobody: denied).
  static Outcome RecordEvent(const Cell& c) {
    if (Nobody(c)) return Outcome::kPermissionDenied;
    return Sees(c) ? Outcome::kOk : Outcome::kNotFound;
  }
  // Their own figures, and ValidateTransition (a lookup): every person.
  static Outcome Person(const Cell& c) {
    return Nobody(c) ? Outcome::kPermissionDenied : Outcome::kOk;
  }
  // Everyone's figures and coverage gaps: not the reps measured by them.
  static Outcome Analyst(const Cell& c) {
    return Person(c) == Outcome::kOk && c.role != v1::SDR && c.role != v1::AE
               ? Outcome::kOk
               : Outcome::kPermissionDenied;
  }
  // Targeting previews: editors and managers (SALES_MANAGER, MARKETING);
  // the SOP's saved draft is a draft read (hidden -> NOT_FOUND first).
  static Outcome Previewer(const Cell& c) {
    if (!Editor(c.role) && c.role != v1::SALES_MANAGER && c.role != v1::MARKETING) {
      return Outcome::kPermissionDenied;
    }
    return History(c);
  }
  // Undelete of a live SOP: editors reach the state check.
  static Outcome Undelete(const Cell& c) {
    Outcome edit = Edit(c);
    return edit == Outcome::kOk ? Outcome::kFailedPrecondition : edit;
  }
};

// What a call gets to work on: a published SOP in orgs/default with a draft
// ahead of it, created for this cell (so a write in one cell cannot change
// another), and a token of orgs/default to revoke.
struct Target {
  std::string sop;           // orgs/default/sops/...
  std::string comment;       // a comment on it by the admin
  std::string revoke_token;  // orgs/default/tokens/...
  std::string tmpl;          // orgs/default/templates/...
};

// What a successful call showed of the target SOP.
struct Seen {
  bool listed = false;  // a list or lookup included it (ListTokens: the target token)
  bool draft = false;   // a get or list showed its draft
};

struct Rpc {
  // Expected outcome in the caller's own org. Another org's caller gets
  // NOT_FOUND for everything naming orgs/default, as `names_org` says.
  std::function<Outcome(const Cell&)> expected;
  bool names_org;
  // Performs the call and reports what it showed of the target SOP.
  std::function<absl::Status(client::Client&, const Target&, Seen* seen)> call;
};

v1::Sop SopBody(bool ae_only) {
  v1::Sop sop;
  sop.set_title(kPublishedTitle);
  sop.set_owner(kOwnerLabel);
  sop.set_owner_user_id(kOwnerUserId);
  // Due for review a month after each publish (ListDueReviews).
  sop.set_review_cycle(v1::MONTHLY);
  auto* rule = sop.add_targeting_rules();
  rule->add_record_types("Lead");
  auto* cond = rule->add_conditions();
  cond->set_field("matrix_key");
  cond->mutable_equals()->set_string_value("yes");
  if (ae_only) sop.add_visibility_roles(v1::AE);
  // A step, so that the SOP has a diagram (GetSopDiagram).
  v1::Step* step = sop.add_steps();
  step->set_ordinal(1);
  step->set_title("Matrix step");
  return sop;
}

std::map<std::string, Rpc> RpcTable() {
  std::map<std::string, Rpc> t;
  const std::string sop = "sopsidebar.v1.SopService/";
  t[sop + "CreateSop"] = {Rules::Create, true, [](client::Client& c, const Target&, Seen*) {
    v1::CreateSopRequest r;
    r.set_parent("orgs/default");
    *r.mutable_sop() = SopBody(false);
    return c.CreateSop(r).status();
  }};
  t[sop + "GetSop"] = {Rules::Read, true, [](client::Client& c, const Target& t, Seen* seen) {
    auto got = c.GetSop(t.sop);
    seen->draft = got.ok() && got->title() == kDraftTitle;
    return got.status();
  }};
  t[sop + "ListSops"] = {Rules::Listing, true, [](client::Client& c, const Target& t,
                                                 Seen* seen) {
    v1::ListSopsRequest r;
    r.set_parent("orgs/default");
    auto all = c.ListAllSops(r);
    if (all.ok()) {
      for (const v1::Sop& s : *all) {
        if (s.name() != t.sop) continue;
        seen->listed = true;
        seen->draft = s.title() == kDraftTitle;
      }
    }
    return all.status();
  }};
  t[sop + "UpdateSop"] = {Rules::Edit, true, [](client::Client& c, const Target& t, Seen*) {
    v1::UpdateSopRequest r;
    r.mutable_sop()->set_name(t.sop);
    r.mutable_sop()->set_title("Renamed by the matrix");
    r.mutable_update_mask()->add_paths("title");
    return c.UpdateSop(r).status();
  }};
  t[sop + "DeleteSop"] = {Rules::Edit, true, [](client::Client& c, const Target& t, Seen*) {
    v1::DeleteSopRequest r;
    r.set_name(t.sop);
    return c.DeleteSop(r).status();
  }};
  t[sop + "UndeleteSop"] = {Rules::Undelete, true, [](client::Client& c, const Target& t, Seen*) {
    v1::UndeleteSopRequest r;
    r.set_name(t.sop);
    return c.UndeleteSop(r).status();
  }};
  t[sop + "ListSopRevisions"] = {Rules::History, true, [](client::Client& c, const Target& t,
                                                      Seen*) {
    v1::ListSopRevisionsRequest r;
    r.set_name(t.sop);
    return c.ListSopRevisions(r).status();
  }};
  t[sop + "GetSopRevision"] = {Rules::History, true, [](client::Client& c, const Target& t, Seen*) {
    v1::GetSopRevisionRequest r;
    r.set_name(t.sop + "/revisions/1");
    return c.GetSopRevision(r).status();
  }};
  t[sop + "PublishSop"] = {Rules::Edit, true, [](client::Client& c, const Target& t, Seen*) {
    return c.PublishSop(t.sop).status();
  }};
  t[sop + "CheckTargeting"] = {Rules::History, true, [](client::Client& c, const Target& t,
                                                    Seen*) {
    return c.CheckTargeting(t.sop).status();
  }};
  t[sop + "PreviewTargeting"] = {Rules::Previewer, true,
                                 [](client::Client& c, const Target& t, Seen*) {
                                   v1::PreviewTargetingRequest r;
                                   r.set_parent("orgs/default");
                                   r.set_sop(t.sop);
                                   v1::CrmContext* lead = r.add_records();
                                   lead->set_record_type("Lead");
                                   (*lead->mutable_fields())["matrix_key"].set_string_value("yes");
                                   return c.PreviewTargeting(r).status();
                                 }};
  t[sop + "SubmitSop"] = {Rules::OwnerOrEditor, true, [](client::Client& c, const Target& t,
                                                         Seen*) {
    v1::SubmitSopRequest r;
    r.set_name(t.sop);
    return c.SubmitSop(r).status();
  }};
  t[sop + "ApproveSop"] = {Rules::SignOff, true, [](client::Client& c, const Target& t, Seen*) {
    v1::ApproveSopRequest r;
    r.set_name(t.sop);
    return c.ApproveSop(r).status();
  }};
  t[sop + "RejectSop"] = {Rules::SignOff, true, [](client::Client& c, const Target& t, Seen*) {
    v1::RejectSopRequest r;
    r.set_name(t.sop);
    r.set_comment("not yet");
    return c.RejectSop(r).status();
  }};
  t[sop + "DiffSopRevisions"] = {Rules::History, true, [](client::Client& c, const Target& t,
                                                      Seen*) {
    v1::DiffSopRevisionsRequest r;
    r.set_revision_a(t.sop + "/revisions/live");
    r.set_revision_b(t.sop + "/revisions/draft");
    return c.DiffSopRevisions(r).status();
  }};
  t[sop + "RestoreSopRevision"] = {Rules::Edit, true, [](client::Client& c, const Target& t,
                                                      Seen*) {
    v1::RestoreSopRevisionRequest r;
    r.set_name(t.sop + "/revisions/1");
    return c.RestoreSopRevision(r).status();
  }};
  t[sop + "MarkSopReviewed"] = {Rules::OwnerOrEditor, true, [](client::Client& c,
                                                               const Target& t, Seen*) {
    v1::MarkSopReviewedRequest r;
    r.set_name(t.sop);
    return c.MarkSopReviewed(r).status();
  }};
  // Every SOP is due within 400 days: the list shows what the caller sees.
  t[sop + "ListDueReviews"] = {Rules::Listing, true, [](client::Client& c, const Target& t,
                                                      Seen* seen) {
    v1::ListDueReviewsRequest r;
    r.set_parent("orgs/default");
    r.mutable_within()->set_seconds(400 * 86400);
    auto all = c.ListAllDueReviews(r);
    if (all.ok()) {
      for (const v1::Sop& s : *all) {
        if (s.name() != t.sop) continue;
        seen->listed = true;
        seen->draft = s.title() == kDraftTitle;
      }
    }
    return all.status();
  }};
  t[sop + "AddComment"] = {Rules::OwnerOrEditor, true, [](client::Client& c, const Target& t,
                                                          Seen*) {
    v1::AddCommentRequest r;
    r.set_parent(t.sop);
    r.mutable_comment()->set_text("Is step 1 still right?");
    return c.AddComment(r).status();
  }};
  t[sop + "ListComments"] = {Rules::OwnerOrEditor, true, [](client::Client& c, const Target& t,
                                                            Seen*) {
    v1::ListCommentsRequest r;
    r.set_parent(t.sop);
    return c.ListComments(r).status();
  }};
  t[sop + "ResolveComment"] = {Rules::OwnerOrEditor, true, [](client::Client& c,
                                                              const Target& t, Seen*) {
    v1::ResolveCommentRequest r;
    r.set_name(t.comment);
    return c.ResolveComment(r).status();
  }};
  // Searched by the target's id, which the index holds and no other SOP
  // shares (the phrase "matrix N").
  t[sop + "SearchSops"] = {Rules::Lookup, true, [](client::Client& c, const Target& t,
                                                   Seen* seen) {
    v1::SearchSopsRequest r;
    r.set_parent("orgs/default");
    r.set_query(std::string(absl::StripPrefix(t.sop, "orgs/default/sops/")));
    auto found = c.SearchSops(r);
    if (found.ok()) {
      for (const v1::SearchResult& s : found->results()) seen->listed |= s.sop() == t.sop;
    }
    return found.status();
  }};
  t["sopsidebar.v1.ContextService/LookupSops"] = {
      Rules::Lookup, true, [](client::Client& c, const Target& t, Seen* seen) {
        v1::LookupSopsRequest r;
        r.mutable_context()->set_org("orgs/default");
        r.mutable_context()->set_record_type("Lead");
        (*r.mutable_context()->mutable_fields())["matrix_key"].set_string_value("yes");
        r.set_max_results(100);
        auto found = c.LookupSops(r);
        if (found.ok()) {
          for (const v1::SopMatch& m : found->matches()) seen->listed |= m.sop() == t.sop;
        }
        return found.status();
      }};
  // The same lookup, watched: its first message is the lookup's result; the
  // watch stops there.
  t["sopsidebar.v1.ContextService/WatchSops"] = {
      Rules::Lookup, true, [](client::Client& c, const Target& t, Seen* seen) {
        v1::WatchSopsRequest r;
        r.mutable_context()->set_org("orgs/default");
        r.mutable_context()->set_record_type("Lead");
        (*r.mutable_context()->mutable_fields())["matrix_key"].set_string_value("yes");
        r.set_max_results(100);
        return c.WatchSops(r, [&](const v1::WatchSopsResponse& message) {
          for (const v1::SopMatch& m : message.result().matches()) {
            seen->listed |= m.sop() == t.sop;
          }
          return false;
        });
      }};
  t["sopsidebar.v1.ContextService/ValidateTransition"] = {
      Rules::Person, true, [](client::Client& c, const Target&, Seen*) {
        v1::ValidateTransitionRequest r;
        r.mutable_context()->set_org("orgs/default");
        r.mutable_context()->set_record_type("Lead");
        (*r.mutable_context()->mutable_fields())["matrix_key"].set_string_value("yes");
        r.set_new_status("Rejected: Return to Marketing");
        return c.ValidateTransition(r).status();
      }};
  const std::string authoring = "sopsidebar.v1.AuthoringService/";
  // The diagram of what GetSop shows: its start node carries the title.
  t[authoring + "GetSopDiagram"] = {
      Rules::Read, true, [](client::Client& c, const Target& t, Seen* seen) {
        v1::GetSopDiagramRequest r;
        r.set_name(t.sop);
        auto diagram = c.GetSopDiagram(r);
        seen->draft = diagram.ok() && absl::StrContains(diagram->source(), kDraftTitle);
        return diagram.status();
      }};
  t[authoring + "DraftSop"] = {
      Rules::Create, true, [](client::Client& c, const Target&, Seen*) {
        v1::DraftSopRequest r;
        r.set_parent("orgs/default");
        r.set_brief("inbound MQL, 3-touch cadence over 3 days, call/email");
        return c.DraftSop(r).status();
      }};
  t[authoring + "ValidateSop"] = {Rules::Create, true, [](client::Client& c, const Target&, Seen*) {
                                    v1::ValidateSopRequest r;
                                    r.set_parent("orgs/default");
                                    *r.mutable_sop() = SopBody(false);
                                    return c.ValidateSop(r).status();
                                  }};
  const std::string analytics = "sopsidebar.v1.AnalyticsService/";
  // The panel showed the target's published revision (2: created, published).
  t[analytics + "RecordEvents"] = {Rules::RecordEvent, true, [](client::Client& c,
                                                                const Target& t, Seen*) {
    static int events = 0;
    v1::RecordEventsRequest r;
    r.set_parent("orgs/default");
    v1::Event* e = r.add_events();
    e->set_event_id(absl::StrCat("matrix-event-", ++events));
    e->set_type(v1::Event::PANEL_SHOWN);
    e->mutable_event_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
    e->set_sop(t.sop);
    e->set_revision_id("2");
    e->mutable_context()->set_record_type("Lead");
    e->mutable_context()->set_record_id("00Q-matrix");
    return c.RecordEvents(r).status();
  }};
  t[analytics + "GetSlaReport"] = {Rules::Person, true, [](client::Client& c, const Target&,
                                                           Seen*) {
    v1::GetSlaReportRequest r;
    r.mutable_query()->set_parent("orgs/default");
    return c.GetSlaReport(r).status();
  }};
  t[analytics + "GetCodeReport"] = {Rules::Person, true, [](client::Client& c, const Target&,
                                                            Seen*) {
    v1::GetCodeReportRequest r;
    r.mutable_query()->set_parent("orgs/default");
    return c.GetCodeReport(r).status();
  }};
  t[analytics + "GetUsageReport"] = {Rules::Person, true, [](client::Client& c, const Target&,
                                                             Seen*) {
    v1::GetUsageReportRequest r;
    r.mutable_query()->set_parent("orgs/default");
    return c.GetUsageReport(r).status();
  }};
  t[analytics + "GetCoverageReport"] = {Rules::Analyst, true, [](client::Client& c,
                                                                 const Target&, Seen*) {
    v1::GetCoverageReportRequest r;
    r.mutable_query()->set_parent("orgs/default");
    return c.GetCoverageReport(r).status();
  }};
  const std::string admin = "sopsidebar.v1.AdminService/";
  t[admin + "WhoAmI"] = {Rules::Anyone, false, [](client::Client& c, const Target&, Seen*) {
    return c.WhoAmI(v1::WhoAmIRequest()).status();
  }};
  t[admin + "Ping"] = {Rules::Anyone, false, [](client::Client& c, const Target&, Seen*) {
    return c.Ping(v1::PingRequest()).status();
  }};
  t[admin + "CreateToken"] = {Rules::TokenAdmin, true, [](client::Client& c, const Target&,
                                                          Seen*) {
    v1::CreateTokenRequest r;
    r.set_parent("orgs/default");
    r.mutable_token()->set_user_id("new-rep");
    r.mutable_token()->add_roles(v1::SDR);
    return c.CreateToken(r).status();
  }};
  // Pages of one token: every page is authorized, and the target token
  // must be on one of them.
  t[admin + "ListTokens"] = {Rules::TokenAdmin, true, [](client::Client& c, const Target& t,
                                                         Seen* seen) {
    v1::ListTokensRequest r;
    r.set_parent("orgs/default");
    r.set_page_size(1);
    auto all = c.ListAllTokens(r);
    if (all.ok()) {
      for (const v1::Token& token : *all) seen->listed |= token.name() == t.revoke_token;
    }
    return all.status();
  }};
  t[admin + "GetToken"] = {Rules::TokenAdmin, true, [](client::Client& c, const Target& t,
                                                       Seen*) {
    return c.GetToken(t.revoke_token).status();
  }};
  t[admin + "RevokeToken"] = {Rules::TokenAdmin, true, [](client::Client& c, const Target& t,
                                                          Seen*) {
    return c.RevokeToken(t.revoke_token).status();
  }};
  t[admin + "CreateOrg"] = {Rules::ServerAdminOnly, false, [](client::Client& c, const Target&,
                                                              Seen*) {
    v1::CreateOrgRequest r;
    r.set_org_id("matrix-new-org");
    return c.CreateOrg(r).status();
  }};
  // A backup holds every org's data: no org role suffices. Should one be
  // allowed, the whole stream is read and the call is OK.
  t[admin + "CreateBackup"] = {
      Rules::ServerAdminOnly, false, [](client::Client& c, const Target&, Seen*) {
        return c.CreateBackup(v1::CreateBackupRequest(),
                              [](const v1::CreateBackupResponse&) { return true; });
      }};
  t[admin + "ListOrgs"] = {Rules::ServerAdminOnly, false, [](client::Client& c, const Target&,
                                                             Seen*) {
    v1::ListOrgsRequest r;
    r.set_page_size(1);
    return c.ListAllOrgs(r).status();
  }};
  t[admin + "GetOrg"] = {Rules::ServerAdminOnly, true, [](client::Client& c, const Target&,
                                                          Seen*) {
    return c.GetOrg("orgs/default").status();
  }};
  t[admin + "UpdateOrg"] = {Rules::TokenAdmin, true, [](client::Client& c, const Target&,
                                                        Seen*) {
    v1::UpdateOrgRequest r;
    r.mutable_org()->set_name("orgs/default");
    r.mutable_org()->set_display_name("Default org");
    return c.UpdateOrg(r).status();
  }};
  t[admin + "ListAuditEvents"] = {Rules::AuditReader, true, [](client::Client& c,
                                                                const Target&, Seen*) {
    v1::ListAuditEventsRequest r;
    r.set_parent("orgs/default");
    r.set_page_size(1);
    return c.ListAuditEvents(r).status();
  }};
  t[admin + "VerifyAuditLog"] = {Rules::AuditReader, true, [](client::Client& c, const Target&,
                                                               Seen*) {
    v1::VerifyAuditLogRequest r;
    r.set_parent("orgs/default");
    return c.VerifyAuditLog(r).status();
  }};
  t[admin + "GetAuditHead"] = {Rules::AuditReader, true, [](client::Client& c, const Target&,
                                                             Seen*) {
    v1::GetAuditHeadRequest r;
    r.set_parent("orgs/default");
    return c.GetAuditHead(r).status();
  }};
  t[admin + "GetRoleMap"] = {Rules::RoleMapAdmin, true, [](client::Client& c, const Target&,
                                                            Seen*) {
    v1::GetRoleMapRequest r;
    r.set_name("orgs/default/roleMaps/hubspot");
    return c.GetRoleMap(r).status();
  }};
  t[admin + "UpdateRoleMap"] = {Rules::RoleMapAdmin, true, [](client::Client& c, const Target&,
                                                               Seen*) {
    v1::UpdateRoleMapRequest r;
    r.mutable_role_map()->set_name("orgs/default/roleMaps/hubspot");
    return c.UpdateRoleMap(r).status();
  }};
  t[admin + "GetFieldMap"] = {Rules::FieldMapAdmin, true, [](client::Client& c, const Target&,
                                                              Seen*) {
    v1::GetFieldMapRequest r;
    r.set_name("orgs/default/fieldMaps/salesforce");
    return c.GetFieldMap(r).status();
  }};
  t[admin + "UpdateFieldMap"] = {Rules::FieldMapAdmin, true, [](client::Client& c,
                                                                 const Target&, Seen*) {
    v1::UpdateFieldMapRequest r;
    r.mutable_field_map()->set_name("orgs/default/fieldMaps/hubspot");
    return c.UpdateFieldMap(r).status();
  }};
  // Events: webhooks for the editors; the change stream for every person.
  // matrix-hook exists (SetUp); matrix-missing does not, so a permitted
  // delete or replay reaches NOT_FOUND.
  const std::string events = "sopsidebar.v1.EventService/";
  t[events + "CreateWebhook"] = {
      Rules::FieldMapAdmin, true, [](client::Client& c, const Target&, Seen*) {
        static int created = 0;
        v1::CreateWebhookRequest r;
        r.set_parent("orgs/default");
        r.set_webhook_id(absl::StrCat("matrix-", ++created));
        r.mutable_webhook()->set_url("http://127.0.0.1:9/matrix");
        r.mutable_webhook()->set_secret("matrix-secret-0123456789");
        r.mutable_webhook()->add_event_types(v1::ChangeEvent::REVIEW_DUE);
        return c.CreateWebhook(r).status();
      }};
  t[events + "GetWebhook"] = {Rules::FieldMapAdmin, true,
                              [](client::Client& c, const Target&, Seen*) {
                                v1::GetWebhookRequest r;
                                r.set_name("orgs/default/webhooks/matrix-hook");
                                return c.GetWebhook(r).status();
                              }};
  t[events + "ListWebhooks"] = {Rules::FieldMapAdmin, true,
                                [](client::Client& c, const Target&, Seen*) {
                                  v1::ListWebhooksRequest r;
                                  r.set_parent("orgs/default");
                                  return c.ListWebhooks(r).status();
                                }};
  t[events + "ListWebhookDeliveries"] = {Rules::FieldMapAdmin, true,
                                         [](client::Client& c, const Target&, Seen*) {
                                           v1::ListWebhookDeliveriesRequest r;
                                           r.set_parent("orgs/default/webhooks/matrix-hook");
                                           return c.ListWebhookDeliveries(r).status();
                                         }};
  t[events + "DeleteWebhook"] = {[](const Cell& c) {
                                   return Rules::Editor(c.role) ? Outcome::kNotFound
                                                                : Outcome::kPermissionDenied;
                                 },
                                 true,
                                 [](client::Client& c, const Target&, Seen*) {
                                   v1::DeleteWebhookRequest r;
                                   r.set_name("orgs/default/webhooks/matrix-missing");
                                   return c.DeleteWebhook(r).status();
                                 }};
  t[events + "ReplayWebhookDelivery"] = {
      [](const Cell& c) {
        return Rules::Editor(c.role) ? Outcome::kNotFound : Outcome::kPermissionDenied;
      },
      true,
      [](client::Client& c, const Target&, Seen*) {
        v1::ReplayWebhookDeliveryRequest r;
        r.set_name("orgs/default/webhooks/matrix-missing/deliveries/d000000000001");
        return c.ReplayWebhookDelivery(r).status();
      }};
  // The stream opens for every person and stays open with nothing to say:
  // the matrix clients' 1 s stream deadline ends it (DEADLINE_EXCEEDED after
  // opening counts as OK; refusals come at once).
  t[events + "WatchChanges"] = {
      Rules::Person, true, [](client::Client& c, const Target&, Seen*) {
        v1::WatchChangesRequest r;
        r.set_parent("orgs/default");
        absl::Status s = c.WatchChanges(r, [](const v1::ChangeEvent&) { return false; });
        return s.code() == absl::StatusCode::kDeadlineExceeded ? absl::OkStatus() : s;
      }};
  // Templates: every person reads them; editors write them.
  const std::string tpl = "sopsidebar.v1.TemplateService/";
  t[tpl + "CreateTemplate"] = {Rules::Create, true, [](client::Client& c, const Target&, Seen*) {
                                 static int created = 0;
                                 v1::CreateTemplateRequest r;
                                 r.set_parent("orgs/default");
                                 r.set_template_id(absl::StrCat("matrix-new-", ++created));
                                 r.mutable_template_()->set_title("Matrix template");
                                 return c.CreateTemplate(r).status();
                               }};
  t[tpl + "GetTemplate"] = {Rules::Person, true, [](client::Client& c, const Target& t, Seen*) {
                              v1::GetTemplateRequest r;
                              r.set_name(t.tmpl);
                              return c.GetTemplate(r).status();
                            }};
  t[tpl + "ListTemplates"] = {Rules::Person, true, [](client::Client& c, const Target&, Seen*) {
                                v1::ListTemplatesRequest r;
                                r.set_parent("orgs/default");
                                return c.ListTemplates(r).status();
                              }};
  t[tpl + "UpdateTemplate"] = {Rules::Create, true, [](client::Client& c, const Target& t, Seen*) {
                                 v1::UpdateTemplateRequest r;
                                 r.mutable_template_()->set_name(t.tmpl);
                                 r.mutable_template_()->set_title("Matrix template, renamed");
                                 r.mutable_update_mask()->add_paths("title");
                                 return c.UpdateTemplate(r).status();
                               }};
  t[tpl + "DeleteTemplate"] = {Rules::Create, true, [](client::Client& c, const Target& t, Seen*) {
                                 v1::DeleteTemplateRequest r;
                                 r.set_name(t.tmpl);
                                 return c.DeleteTemplate(r).status();
                               }};
  return t;
}

class AuthorizationMatrixTest : public test::SopdFixture {
 protected:
  // ClientFor (ClientActingFor with a viewer) with a 1 s deadline on
  // streams (WatchChanges stays open).
  client::Client StreamBoundClient(const std::string& token,
                                   std::optional<client::ConnectionOptions::Viewer> viewer) const {
    client::ConnectionOptions options = ConnectionTo(token);
    if (viewer) options.viewer = *std::move(viewer);
    options.stream_timeout = absl::Seconds(1);
    return client::Client(client::MakeGrpcConnection(options));
  }

  void SetUp() override {
    StartServer();
    admin_ = std::make_unique<client::Client>(ClientFor(admin_token_));
    v1::CreateOrgRequest org;
    org.set_org_id("acme");
    ASSERT_TRUE(admin_->CreateOrg(org).ok());
    v1::CreateWebhookRequest hook;
    hook.set_parent("orgs/default");
    hook.set_webhook_id("matrix-hook");
    hook.mutable_webhook()->set_url("http://127.0.0.1:9/matrix");
    hook.mutable_webhook()->set_secret("matrix-secret-0123456789");
    hook.mutable_webhook()->add_event_types(v1::ChangeEvent::REVIEW_DUE);
    ASSERT_TRUE(admin_->CreateWebhook(hook).ok());
    const std::string acme_admin = IssueToken(admin_token_, "acme-admin", {v1::ADMIN}, "acme");
    for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
      const auto role = static_cast<v1::Role>(r);
      if (role == v1::INTEGRATION) {
        own_[{role, Principal::kPlain}] =
            IssueIntegrationToken(admin_token_, "own-crm", "salesforce", {v1::SDR, v1::AE});
        other_[{role, Principal::kPlain}] =
            IssueIntegrationToken(acme_admin, "acme-crm", "salesforce", {v1::SDR, v1::AE}, "acme");
        continue;
      }
      own_[{role, Principal::kPlain}] =
          IssueToken(admin_token_, "own-" + v1::Role_Name(role), {role});
      other_[{role, Principal::kPlain}] =
          IssueToken(acme_admin, "acme-" + v1::Role_Name(role), {role}, "acme");
    }
    // Viewers of each org's integration: "Inside Sales" maps to SDR,
    // "Account Executive" to AE.
    MapRoles(admin_token_, "salesforce", {{"Inside Sales", v1::SDR}, {"Account Executive", v1::AE}});
    MapRoles(acme_admin, "salesforce", {{"Inside Sales", v1::SDR}, {"Account Executive", v1::AE}},
             "acme");
    for (v1::Role role : kOwnerRoles) {
      own_[{role, Principal::kViewer}] = own_[{v1::INTEGRATION, Principal::kPlain}];
      other_[{role, Principal::kViewer}] = other_[{v1::INTEGRATION, Principal::kPlain}];
    }
    for (v1::Role role : kOwnerRoles) {
      own_[{role, Principal::kOwner}] = IssueToken(admin_token_, kOwnerUserId, {role});
      other_[{role, Principal::kOwner}] = IssueToken(acme_admin, kOwnerUserId, {role}, "acme");
      own_[{role, Principal::kLabel}] = IssueLabelToken(admin_token_, role, "default");
      other_[{role, Principal::kLabel}] = IssueLabelToken(acme_admin, role, "acme");
    }
  }

  // A token whose user id and display name spell the owner label.
  std::string IssueLabelToken(const std::string& issuer, v1::Role role, const std::string& org) {
    v1::CreateTokenRequest request;
    request.set_parent("orgs/" + org);
    request.mutable_token()->set_user_id(absl::AsciiStrToLower(kOwnerLabel));
    request.mutable_token()->set_display_name(kOwnerLabel);
    request.mutable_token()->add_roles(role);
    auto issued = ClientFor(issuer).CreateToken(request);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? issued->secret() : "";
  }

  Target MakeTarget(bool ae_only) {
    Target t;
    v1::CreateSopRequest create;
    create.set_parent("orgs/default");
    create.set_sop_id(absl::StrCat("matrix-", ++counter_));
    *create.mutable_sop() = SopBody(ae_only);
    auto sop = admin_->CreateSop(create);
    EXPECT_TRUE(sop.ok()) << sop.status();
    EXPECT_TRUE(admin_->PublishSop(sop->name()).ok());
    v1::AddCommentRequest comment;
    comment.set_parent(sop->name());
    comment.mutable_comment()->set_text("Matrix comment");
    auto added = admin_->AddComment(comment);
    EXPECT_TRUE(added.ok()) << added.status();
    t.comment = added.ok() ? added->name() : "";
    v1::UpdateSopRequest draft;
    draft.mutable_sop()->set_name(sop->name());
    draft.mutable_sop()->set_title(kDraftTitle);
    draft.mutable_update_mask()->add_paths("title");
    EXPECT_TRUE(admin_->UpdateSop(draft).ok());
    t.sop = sop->name();
    v1::CreateTokenRequest token;
    token.set_parent("orgs/default");
    token.mutable_token()->set_user_id("to-revoke");
    token.mutable_token()->add_roles(v1::SDR);
    t.revoke_token = admin_->CreateToken(token)->token().name();
    v1::CreateTemplateRequest tmpl;
    tmpl.set_parent("orgs/default");
    tmpl.set_template_id(absl::StrCat("matrix-", counter_));
    tmpl.mutable_template_()->set_title("Matrix template");
    auto created = admin_->CreateTemplate(tmpl);
    EXPECT_TRUE(created.ok()) << created.status();
    t.tmpl = created.ok() ? created->name() : "";
    return t;
  }

  std::unique_ptr<client::Client> admin_;
  // Tokens of orgs/default and of acme.
  std::map<std::pair<v1::Role, Principal>, std::string> own_, other_;
  int counter_ = 0;
};

TEST_F(AuthorizationMatrixTest, EveryServiceRpcHasRows) {
  // Every service of every API file, so a new service needs rows too.
  std::set<std::string> served;
  for (const google::protobuf::FileDescriptor* file :
       {v1::GetSopRequest::descriptor()->file(), v1::LookupSopsRequest::descriptor()->file(),
        v1::PingRequest::descriptor()->file(), v1::RecordEventsRequest::descriptor()->file(),
        v1::DraftSopRequest::descriptor()->file(), v1::WatchChangesRequest::descriptor()->file(),
        v1::CreateTemplateRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int i = 0; i < service->method_count(); ++i) {
        served.insert(absl::StrCat(service->full_name(), "/", service->method(i)->name()));
      }
    }
  }
  // 48 with SopService.PreviewTargeting, AuthoringService's 3,
  // EventService's 7 and TemplateService's 5.
  EXPECT_EQ(served.size(), 63u);
  std::set<std::string> tabled;
  for (const auto& [name, rpc] : RpcTable()) tabled.insert(name);
  std::vector<std::string> missing, stale;
  for (const auto& name : served) {
    if (!tabled.count(name)) missing.push_back(name);
  }
  for (const auto& name : tabled) {
    if (!served.count(name)) stale.push_back(name);
  }
  EXPECT_TRUE(missing.empty()) << "RPCs without matrix rows: " << absl::StrJoin(missing, ", ");
  EXPECT_TRUE(stale.empty()) << "rows for RPCs that do not exist: " << absl::StrJoin(stale, ", ");
}

TEST_F(AuthorizationMatrixTest, EveryCellMatchesThePermissionTable) {
  std::vector<Cell> callers;
  for (int r = v1::Role_MIN; r <= v1::Role_MAX; ++r) {
    for (bool ae_only : {false, true}) {
      for (bool other_org : {false, true}) {
        const auto role = static_cast<v1::Role>(r);
        if (role == v1::ROLE_UNSPECIFIED && other_org) continue;
        callers.push_back({role, ae_only, other_org, Principal::kPlain});
        if (std::find(std::begin(kOwnerRoles), std::end(kOwnerRoles), role) ==
            std::end(kOwnerRoles)) {
          continue;
        }
        callers.push_back({role, ae_only, other_org, Principal::kOwner});
        callers.push_back({role, ae_only, other_org, Principal::kLabel});
        callers.push_back({role, ae_only, other_org, Principal::kViewer});
      }
    }
  }
  std::vector<std::string> mismatches;
  int cells = 0;
  // A target (by ae_only) is made afresh only after a call that was not
  // refused: a refused call changes nothing, any other may have (deleted,
  // published, revoked the token …). A fresh target for every cell, five
  // synced writes each, made this test take minutes. Clients, by token and
  // viewer role, are kept too.
  std::map<bool, Target> targets;
  std::map<std::pair<std::string, std::string>, client::Client> clients;
  for (const auto& [method, rpc] : RpcTable()) {
    for (const Cell& cell : callers) {
      Outcome expected;
      if (cell.role == v1::ROLE_UNSPECIFIED) {
        expected = Outcome::kUnauthenticated;
      } else if (cell.other_org && rpc.names_org) {
        expected = Outcome::kNotFound;
      } else {
        expected = rpc.expected(cell);
      }
      if (targets.count(cell.ae_only) == 0) targets[cell.ae_only] = MakeTarget(cell.ae_only);
      const Target& target = targets[cell.ae_only];
      const std::string token =
          cell.role == v1::ROLE_UNSPECIFIED
              ? ""
              : (cell.other_org ? other_ : own_)[{cell.role, cell.principal}];
      const std::string crm_role = cell.principal != Principal::kViewer ? ""
                                   : cell.role == v1::AE                ? "Account Executive"
                                                                        : "Inside Sales";
      auto client = clients.find({token, crm_role});
      if (client == clients.end()) {
        client::ConnectionOptions::Viewer viewer;
        viewer.id = "005VIEWER";
        viewer.name = "CRM Viewer";
        viewer.crm_roles = {crm_role};
        client =
            clients
                .emplace(std::make_pair(token, crm_role),
                         StreamBoundClient(
                             token, crm_role.empty() ? std::nullopt : std::make_optional(viewer)))
                .first;
      }
      Seen seen;
      const Outcome answered = FromStatus(rpc.call(client->second, target, &seen));
      if (answered != Outcome::kNotFound && answered != Outcome::kPermissionDenied &&
          answered != Outcome::kUnauthenticated) {
        targets.erase(cell.ae_only);
      }
      Outcome actual = answered;
      const bool lists = method.find("/ListSops") != std::string::npos ||
                         method.find("/LookupSops") != std::string::npos ||
                         method.find("/WatchSops") != std::string::npos ||
                         method.find("/ListTokens") != std::string::npos ||
                         method.find("/ListDueReviews") != std::string::npos ||
                         method.find("/SearchSops") != std::string::npos;
      if (actual == Outcome::kOk && lists && !seen.listed) actual = Outcome::kOkWithoutIt;
      if (actual == Outcome::kOk && seen.draft) actual = Outcome::kOkDraft;
      ++cells;
      if (actual != expected) {
        mismatches.push_back(absl::StrCat(method, " as ", Describe(cell), ": expected ",
                                          Name(expected), ", got ", Name(actual)));
      }
    }
  }
  EXPECT_GT(cells, 25 * (10 * 3 + 2 * 3 * 4));
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " mismatches:\n"
                                  << absl::StrJoin(mismatches, "\n");
  std::cout << "authorization matrix: " << cells << " cells, " << mismatches.size()
            << " mismatches" << std::endl;
}

}  // namespace
}  // namespace sopsidebar
