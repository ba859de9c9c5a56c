#include "common/model/sop_body.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(SopBodyTest, ClearOutputOnlyFieldsKeepsTheBody) {
  v1::Sop sop;
  sop.set_name("orgs/default/sops/a");
  sop.set_title("T");
  sop.set_etag("e");
  sop.set_state(v1::Sop::PUBLISHED);
  sop.set_revision_id("3");
  sop.mutable_create_time()->set_seconds(5);
  ClearOutputOnlyFields(&sop);
  v1::Sop expected;
  expected.set_title("T");
  EXPECT_EQ(sop.SerializeAsString(), expected.SerializeAsString());
}

TEST(SopBodyTest, ClearSopProcedureKeepsWhatNamesLabelsAndDatesTheSop) {
  v1::Sop sop;
  sop.set_name("orgs/default/sops/a");
  sop.set_title("T");
  sop.set_owner("Sales Ops");
  sop.add_tags("mql");
  sop.set_revision_id("3");
  sop.mutable_update_time()->set_seconds(5);
  const v1::Sop basic = sop;
  sop.set_purpose("P");
  sop.add_targeting_rules()->set_priority(1);
  sop.add_steps()->set_title("S");
  sop.add_cadence()->set_action("A");
  sop.add_sla_terms()->set_name("n");
  sop.add_disqualification_codes()->set_code("D");
  sop.add_assets()->set_id("x");
  ClearSopProcedure(&sop);
  EXPECT_EQ(sop.SerializeAsString(), basic.SerializeAsString());
}

TEST(SopBodyTest, SameBodyIgnoresOutputOnlyFields) {
  v1::Sop a;
  a.set_title("T");
  v1::Sop b = a;
  b.set_etag("x");
  b.set_revision_id("7");
  b.set_name("orgs/default/sops/b");
  EXPECT_TRUE(SameBody(a, b));
  b.add_tags("new");
  EXPECT_FALSE(SameBody(a, b));
}

TEST(SopBodyTest, ChangedFieldsListsTopLevelFieldsInOrder) {
  v1::Sop a;
  a.set_title("T");
  v1::Sop b = a;
  b.set_owner("O");
  b.set_title("U");
  b.add_steps()->set_ordinal(1);
  b.set_etag("ignored");
  EXPECT_EQ(ChangedFields(a, b), (std::vector<std::string>{"title", "owner", "steps"}));
}

TEST(SopBodyTest, NormalizeSopBodyPutsStepsInOrdinalOrder) {
  v1::Sop sop;
  sop.set_title("T");
  for (int ordinal : {30, 10, 20}) {
    v1::Step* step = sop.add_steps();
    step->set_ordinal(ordinal);
    step->set_title(absl::StrCat("step ", ordinal));
  }
  NormalizeSopBody(&sop);
  ASSERT_EQ(sop.steps_size(), 3);
  EXPECT_EQ(sop.steps(0).ordinal(), 10);
  EXPECT_EQ(sop.steps(0).title(), "step 10");
  EXPECT_EQ(sop.steps(1).ordinal(), 20);
  EXPECT_EQ(sop.steps(1).title(), "step 20");
  EXPECT_EQ(sop.steps(2).ordinal(), 30);
  EXPECT_EQ(sop.steps(2).title(), "step 30");
  EXPECT_EQ(sop.title(), "T");
}

TEST(SopBodyTest, CheckPublishableRefusesADeletedSopAndOneWithoutRules) {
  v1::Sop sop;
  EXPECT_EQ(CheckPublishable("orgs/o/sops/s", sop).message(),
            "SOP orgs/o/sops/s cannot be published: it has no targeting_rules, so no record "
            "would match it");
  EXPECT_EQ(CheckPublishable("orgs/o/sops/s", sop).code(), absl::StatusCode::kFailedPrecondition);
  sop.add_targeting_rules()->add_record_types("Lead");
  EXPECT_TRUE(CheckPublishable("orgs/o/sops/s", sop).ok());
  sop.set_state(v1::Sop::DELETED);
  EXPECT_EQ(CheckPublishable("orgs/o/sops/s", sop).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(CheckPublishable("orgs/o/sops/s", sop).message().find("deleted"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace sopsidebar
