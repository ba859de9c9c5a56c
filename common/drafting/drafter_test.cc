#include "common/drafting/drafter.h"

#include <string>

#include "common/errors.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

v1::Sop MinimalSop() {
  v1::Sop sop;
  sop.set_title("MQL handoff");
  sop.set_owner("Sales Operations Manager");
  return sop;
}

TEST(ValidateBriefTest, AcceptsMultilineText) {
  EXPECT_TRUE(ValidateBrief("inbound MQL\n5-touch cadence over 5 days").ok());
}

TEST(ValidateBriefTest, BlankBriefIsRequired) {
  const absl::Status status = ValidateBrief(" \n\t");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "brief: is required");
}

TEST(ValidateBriefTest, OverlongBriefNamesTheLimit) {
  const absl::Status status = ValidateBrief(std::string(kMaxBriefChars + 1, 'a'));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "brief: longer than the limit of 4000 characters");
}

TEST(ValidateBriefTest, ControlCharactersAreRejected) {
  EXPECT_EQ(ValidateBrief("inbound\x1b MQL").code(), absl::StatusCode::kInvalidArgument);
}

TEST(FinishDraftTest, DropsOutputOnlyFieldsAndSortsSteps) {
  v1::Sop sop = MinimalSop();
  sop.set_name("orgs/evil/sops/x");
  sop.set_state(v1::Sop::PUBLISHED);
  sop.set_etag("e1");
  sop.set_published_revision_id("r9");
  v1::Step* second = sop.add_steps();
  second->set_ordinal(2);
  second->set_title("Second");
  v1::Step* first = sop.add_steps();
  first->set_ordinal(1);
  first->set_title("First");

  const absl::StatusOr<v1::Sop> draft = FinishDraft(sop);
  ASSERT_TRUE(draft.ok()) << draft.status();
  EXPECT_EQ(draft->name(), "");
  EXPECT_EQ(draft->state(), v1::Sop::STATE_UNSPECIFIED);
  EXPECT_EQ(draft->etag(), "");
  EXPECT_EQ(draft->published_revision_id(), "");
  EXPECT_EQ(draft->title(), "MQL handoff");
  ASSERT_EQ(draft->steps_size(), 2);
  EXPECT_EQ(draft->steps(0).title(), "First");
}

TEST(FinishDraftTest, InvalidBodyListsEveryViolation) {
  v1::Sop sop;
  sop.add_steps()->set_ordinal(1);
  const absl::StatusOr<v1::Sop> draft = FinishDraft(sop);
  EXPECT_EQ(draft.status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<error::FieldViolation> violations = error::FieldViolationsOf(draft.status());
  ASSERT_GE(violations.size(), 3u);
  EXPECT_EQ(violations[0].field, "title");
  EXPECT_EQ(violations[1].field, "owner");
  EXPECT_EQ(violations[2].field, "steps[0].title");
}

}  // namespace
}  // namespace sopsidebar
