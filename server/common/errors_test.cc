#include "server/common/errors.h"

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(ErrorsTest, InvalidFieldNamesTheFieldFirst) {
  absl::Status s = error::InvalidField("sop.steps[2].ordinal", "duplicate ordinal 2");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "sop.steps[2].ordinal: duplicate ordinal 2");
}

TEST(ErrorsTest, LimitsAreNamedInTheMessage) {
  EXPECT_EQ(error::FieldTooLong("sop.title", 200).message(),
            "sop.title: longer than the limit of 200 characters");
  EXPECT_EQ(error::TooManyItems("sop.tags", 50).message(),
            "sop.tags: more than the limit of 50 items");
}

TEST(ErrorsTest, StaleEtagIsAbortedSoCallersRetryTheReadModifyWrite) {
  EXPECT_EQ(error::EtagMismatch("orgs/default/sops/a").code(), absl::StatusCode::kAborted);
}

TEST(ErrorsTest, MissingSopIsNotFoundNamingIt) {
  absl::Status s = error::SopNotFound("orgs/default/sops/a");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "SOP orgs/default/sops/a not found");
}

}  // namespace
}  // namespace sopsidebar
