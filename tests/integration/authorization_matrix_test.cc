// The authorization matrix: every RPC of every sopd service, called as every
// role (and with no token), on a public SOP and on an AE-only SOP, from the
// SOP's own org and from another org. Each cell's expected outcome is
// written here from docs/SECURITY.md, independently of the server's
// permission table, and every cell must match. The test also fails when a
// service gains an RPC that has no row here.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"
#include "tests/integration/sopd_fixture.h"

namespace sopsidebar {
namespace {

enum class Outcome {
  kOk,                // the call succeeds (and a list or lookup includes the SOP)
  kOkWithoutIt,       // a list or lookup succeeds but leaves the SOP out
  kNotFound,
  kPermissionDenied,
  kUnauthenticated,
  kFailedPrecondition,
};

std::string Name(Outcome o) {
  switch (o) {
    case Outcome::kOk: return "OK";
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

// Who calls. role == ROLE_UNSPECIFIED stands for "no token".
struct Cell {
  v1::Role role;
  bool ae_only;     // the target SOP is visible to AE only
  bool other_org;   // the caller's token belongs to another org
};

std::string Describe(const Cell& c) {
  return absl::StrCat(c.role == v1::ROLE_UNSPECIFIED ? "no-token" : v1::Role_Name(c.role),
                      c.ae_only ? " / AE-only SOP" : " / public SOP",
                      c.other_org ? " / other org" : " / own org");
}

// The expected outcome, from the rules in docs/SECURITY.md.
struct Rules {
  static bool Editor(v1::Role r) { return r == v1::SALES_OPS || r == v1::ADMIN; }
  static bool Sees(const Cell& c) {
    return !c.ae_only || c.role == v1::AE || Editor(c.role);
  }
  // Reads of one SOP: hidden -> NOT_FOUND.
  static Outcome Read(const Cell& c) { return Sees(c) ? Outcome::kOk : Outcome::kNotFound; }
  // Lists and lookups: hidden SOPs are left out.
  static Outcome Listing(const Cell& c) {
    return Sees(c) ? Outcome::kOk : Outcome::kOkWithoutIt;
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
  static Outcome ServerAdminOnly(const Cell&) { return Outcome::kPermissionDenied; }
  // Undelete of a live SOP: editors reach the state check.
  static Outcome Undelete(const Cell& c) {
    Outcome edit = Edit(c);
    return edit == Outcome::kOk ? Outcome::kFailedPrecondition : edit;
  }
};

// What a call gets to work on: a published SOP in orgs/default created for
// this cell (so a write in one cell cannot change another), and a token of
// orgs/default to revoke.
struct Target {
  std::string sop;           // orgs/default/sops/...
  std::string revoke_token;  // orgs/default/tokens/...
};

struct Rpc {
  // Expected outcome in the caller's own org. Another org's caller gets
  // NOT_FOUND for everything naming orgs/default, as `names_org` says.
  std::function<Outcome(const Cell&)> expected;
  bool names_org;
  // Performs the call; `listed` reports whether a list or lookup included
  // the target SOP.
  std::function<absl::Status(client::Client&, const Target&, bool* listed)> call;
};

v1::Sop SopBody(bool ae_only) {
  v1::Sop sop;
  sop.set_title("Matrix SOP");
  sop.set_owner("Sales Operations Manager");
  auto* rule = sop.add_targeting_rules();
  rule->add_record_types("Lead");
  auto* cond = rule->add_conditions();
  cond->set_field("matrix_key");
  cond->mutable_equals()->set_string_value("yes");
  if (ae_only) sop.add_visibility_roles(v1::AE);
  return sop;
}

std::map<std::string, Rpc> RpcTable() {
  std::map<std::string, Rpc> t;
  const std::string sop = "sopsidebar.v1.SopService/";
  t[sop + "CreateSop"] = {Rules::Create, true, [](client::Client& c, const Target&, bool*) {
    v1::CreateSopRequest r;
    r.set_parent("orgs/default");
    *r.mutable_sop() = SopBody(false);
    return c.CreateSop(r).status();
  }};
  t[sop + "GetSop"] = {Rules::Read, true, [](client::Client& c, const Target& t, bool*) {
    return c.GetSop(t.sop).status();
  }};
  t[sop + "ListSops"] = {Rules::Listing, true, [](client::Client& c, const Target& t,
                                                 bool* listed) {
    v1::ListSopsRequest r;
    r.set_parent("orgs/default");
    auto all = c.ListAllSops(r);
    if (all.ok()) {
      for (const v1::Sop& s : *all) *listed |= s.name() == t.sop;
    }
    return all.status();
  }};
  t[sop + "UpdateSop"] = {Rules::Edit, true, [](client::Client& c, const Target& t, bool*) {
    v1::UpdateSopRequest r;
    r.mutable_sop()->set_name(t.sop);
    r.mutable_sop()->set_title("Renamed by the matrix");
    r.mutable_update_mask()->add_paths("title");
    return c.UpdateSop(r).status();
  }};
  t[sop + "DeleteSop"] = {Rules::Edit, true, [](client::Client& c, const Target& t, bool*) {
    v1::DeleteSopRequest r;
    r.set_name(t.sop);
    return c.DeleteSop(r).status();
  }};
  t[sop + "UndeleteSop"] = {Rules::Undelete, true, [](client::Client& c, const Target& t, bool*) {
    v1::UndeleteSopRequest r;
    r.set_name(t.sop);
    return c.UndeleteSop(r).status();
  }};
  t[sop + "ListSopRevisions"] = {Rules::Edit, true, [](client::Client& c, const Target& t,
                                                      bool*) {
    v1::ListSopRevisionsRequest r;
    r.set_name(t.sop);
    return c.ListSopRevisions(r).status();
  }};
  t[sop + "GetSopRevision"] = {Rules::Edit, true, [](client::Client& c, const Target& t, bool*) {
    v1::GetSopRevisionRequest r;
    r.set_name(t.sop + "/revisions/1");
    return c.GetSopRevision(r).status();
  }};
  t[sop + "PublishSop"] = {Rules::Edit, true, [](client::Client& c, const Target& t, bool*) {
    return c.PublishSop(t.sop).status();
  }};
  t[sop + "CheckTargeting"] = {Rules::Edit, true, [](client::Client& c, const Target& t,
                                                    bool*) {
    return c.CheckTargeting(t.sop).status();
  }};
  t["sopsidebar.v1.ContextService/LookupSops"] = {
      Rules::Listing, true, [](client::Client& c, const Target& t, bool* listed) {
        v1::LookupSopsRequest r;
        r.mutable_context()->set_org("orgs/default");
        r.mutable_context()->set_record_type("Lead");
        (*r.mutable_context()->mutable_fields())["matrix_key"].set_string_value("yes");
        r.set_max_results(100);
        auto found = c.LookupSops(r);
        if (found.ok()) {
          for (const v1::SopMatch& m : found->matches()) *listed |= m.sop() == t.sop;
        }
        return found.status();
      }};
  const std::string admin = "sopsidebar.v1.AdminService/";
  t[admin + "WhoAmI"] = {Rules::Anyone, false, [](client::Client& c, const Target&, bool*) {
    return c.WhoAmI(v1::WhoAmIRequest()).status();
  }};
  t[admin + "Ping"] = {Rules::Anyone, false, [](client::Client& c, const Target&, bool*) {
    return c.Ping(v1::PingRequest()).status();
  }};
  t[admin + "CreateToken"] = {Rules::TokenAdmin, true, [](client::Client& c, const Target&,
                                                          bool*) {
    v1::CreateTokenRequest r;
    r.set_parent("orgs/default");
    r.mutable_token()->set_user_id("new-rep");
    r.mutable_token()->add_roles(v1::SDR);
    return c.CreateToken(r).status();
  }};
  t[admin + "ListTokens"] = {Rules::TokenAdmin, true, [](client::Client& c, const Target&,
                                                         bool*) {
    v1::ListTokensRequest r;
    r.set_parent("orgs/default");
    return c.ListTokens(r).status();
  }};
  t[admin + "RevokeToken"] = {Rules::TokenAdmin, true, [](client::Client& c, const Target& t,
                                                          bool*) {
    return c.RevokeToken(t.revoke_token).status();
  }};
  t[admin + "CreateOrg"] = {Rules::ServerAdminOnly, false, [](client::Client& c, const Target&,
                                                              bool*) {
    v1::CreateOrgRequest r;
    r.set_org_id("matrix-new-org");
    return c.CreateOrg(r).status();
  }};
  t[admin + "ListOrgs"] = {Rules::ServerAdminOnly, false, [](client::Client& c, const Target&,
                                                             bool*) {
    return c.ListOrgs(v1::ListOrgsRequest()).status();
  }};
  return t;
}

class AuthorizationMatrixTest : public test::SopdFixture {
 protected:
  void SetUp() override {
    StartServer();
    admin_ = std::make_unique<client::Client>(ClientFor(admin_token_));
    v1::CreateOrgRequest org;
    org.set_org_id("acme");
    ASSERT_TRUE(admin_->CreateOrg(org).ok());
    const std::string acme_admin = IssueToken(admin_token_, "acme-admin", {v1::ADMIN}, "acme");
    for (int r = v1::Role_MIN + 1; r <= v1::Role_MAX; ++r) {
      const auto role = static_cast<v1::Role>(r);
      own_[role] = IssueToken(admin_token_, "own-" + v1::Role_Name(role), {role});
      other_[role] = IssueToken(acme_admin, "acme-" + v1::Role_Name(role), {role}, "acme");
    }
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
    t.sop = sop->name();
    v1::CreateTokenRequest token;
    token.set_parent("orgs/default");
    token.mutable_token()->set_user_id("to-revoke");
    token.mutable_token()->add_roles(v1::SDR);
    t.revoke_token = admin_->CreateToken(token)->token().name();
    return t;
  }

  std::unique_ptr<client::Client> admin_;
  std::map<v1::Role, std::string> own_, other_;
  int counter_ = 0;
};

TEST_F(AuthorizationMatrixTest, EveryServiceRpcHasRows) {
  // Every service of every API file, so a new service needs rows too.
  std::set<std::string> served;
  for (const google::protobuf::FileDescriptor* file :
       {v1::GetSopRequest::descriptor()->file(), v1::LookupSopsRequest::descriptor()->file(),
        v1::PingRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int i = 0; i < service->method_count(); ++i) {
        served.insert(absl::StrCat(service->full_name(), "/", service->method(i)->name()));
      }
    }
  }
  EXPECT_EQ(served.size(), 18u);
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
  std::vector<std::string> mismatches;
  int cells = 0;
  for (const auto& [method, rpc] : RpcTable()) {
    for (int r = v1::Role_MIN; r <= v1::Role_MAX; ++r) {
      for (bool ae_only : {false, true}) {
        for (bool other_org : {false, true}) {
          const Cell cell{static_cast<v1::Role>(r), ae_only, other_org};
          if (cell.role == v1::ROLE_UNSPECIFIED && other_org) continue;
          Outcome expected;
          if (cell.role == v1::ROLE_UNSPECIFIED) {
            expected = Outcome::kUnauthenticated;
          } else if (other_org && rpc.names_org) {
            expected = Outcome::kNotFound;
          } else {
            expected = rpc.expected(cell);
          }
          const Target target = MakeTarget(ae_only);
          const std::string token = cell.role == v1::ROLE_UNSPECIFIED
                                        ? ""
                                        : (other_org ? other_[cell.role] : own_[cell.role]);
          client::Client caller = ClientFor(token);
          bool listed = false;
          Outcome actual = FromStatus(rpc.call(caller, target, &listed));
          if (actual == Outcome::kOk &&
              (expected == Outcome::kOkWithoutIt || expected == Outcome::kOk) &&
              (method.find("/ListSops") != std::string::npos ||
               method.find("/LookupSops") != std::string::npos) &&
              !listed) {
            actual = Outcome::kOkWithoutIt;
          }
          ++cells;
          if (actual != expected) {
            mismatches.push_back(absl::StrCat(method, " as ", Describe(cell), ": expected ",
                                              Name(expected), ", got ", Name(actual)));
          }
        }
      }
    }
  }
  EXPECT_GT(cells, 18 * 9 * 3);
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " mismatches:\n"
                                  << absl::StrJoin(mismatches, "\n");
  std::cout << "authorization matrix: " << cells << " cells, " << mismatches.size()
            << " mismatches" << std::endl;
}

}  // namespace
}  // namespace sopsidebar
