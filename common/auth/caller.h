// Who is calling, as the domain sees it: the principal behind the bearer
// token, plus the deadline the work must start by.
#ifndef SOPSIDEBAR_COMMON_AUTH_CALLER_H_
#define SOPSIDEBAR_COMMON_AUTH_CALLER_H_

#include <string>

#include "absl/time/time.h"
#include "common/model/roles.h"

namespace sopsidebar {

struct Caller {
  // The org id (not the resource name) the token belongs to.
  std::string org;
  std::string user_id;
  std::string display_name;
  RoleSet roles = 0;
  // May administer every org.
  bool server_admin = false;
  // orgs/{org}/tokens/{token}: the token used.
  std::string token_name;
  // An INTEGRATION token's CRM ("salesforce", "hubspot") and the most its
  // viewers may get; empty and 0 for every other token.
  std::string crm;
  RoleSet delegable_roles = 0;
  // Set when an integration acts for this caller (the viewer it stated):
  // the integration token's user id. user_id, display_name and roles are
  // then the viewer's, token_name the integration's.
  std::string via;
  // Where the call came from, for the audit trail: the transport, the
  // peer's address and the client's user agent, e.g. "grpc
  // ipv4:127.0.0.1:53012 grpc-c++/1.51.1". Empty in process.
  std::string client;
  // Work not started by then is not done (DEADLINE_EXCEEDED).
  absl::Time deadline = absl::InfiniteFuture();
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_COMMON_AUTH_CALLER_H_
