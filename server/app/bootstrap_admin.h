// `sopd --bootstrap-admin`: the operator's way back to a server admin when
// none is left (every server-admin token revoked, expired or lost). Works on
// the data dir of a stopped sopd only: RocksDB's lock refuses one a running
// sopd holds, so the token is never issued behind a live server's back.
#ifndef SOPSIDEBAR_SERVER_APP_BOOTSTRAP_ADMIN_H_
#define SOPSIDEBAR_SERVER_APP_BOOTSTRAP_ADMIN_H_

#include <string>

#include "absl/status/statusor.h"

namespace sopsidebar {

// Issues a new server-admin ADMIN token in orgs/default of the database in
// `data_dir` (creating the org if missing), writes it to
// <data_dir>/admin.token (replacing that file; mode 0600), and returns that
// path. The data dir is checked and tightened as a start does
// (PrepareDataDir).
//
// Errors: FAILED_PRECONDITION when `data_dir` holds no database (nothing is
// created), when a running sopd holds it (the store's lock), or when group
// or others may write it; other storage errors as the store reports them.
// Not thread-safe against another open of the same data dir (the lock
// refuses it).
absl::StatusOr<std::string> BootstrapAdmin(const std::string& data_dir);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_APP_BOOTSTRAP_ADMIN_H_
