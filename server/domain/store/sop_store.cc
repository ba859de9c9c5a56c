#include "server/domain/store/sop_store.h"

#include "common/errors.h"
#include "common/status_macros.h"

namespace sopsidebar {

absl::StatusOr<SopWriteKeys> CheckSopWrite(const SopWrite& write) {
  SOP_ASSIGN_OR_RETURN(SopName sop, ParseSopName("head.name", write.head.name()));
  SOP_ASSIGN_OR_RETURN(RevisionName revision,
                       ParseRevisionName("revision.name", write.revision.name()));
  if (!(revision.sop == sop)) {
    return error::InvalidField("revision.name", "is not a revision of head.name");
  }
  return SopWriteKeys{std::move(sop), std::move(revision)};
}

}  // namespace sopsidebar
