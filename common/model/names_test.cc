#include "common/model/names.h"

#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

TEST(NamesTest, ParsesAndFormatsSopNames) {
  absl::StatusOr<SopName> name = ParseSopName("name", "orgs/acme/sops/mql-handoff");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->org, "acme");
  EXPECT_EQ(name->sop, "mql-handoff");
  EXPECT_EQ(name->Full(), "orgs/acme/sops/mql-handoff");
}

TEST(NamesTest, ParsesRevisionNames) {
  absl::StatusOr<RevisionName> name =
      ParseRevisionName("name", "orgs/default/sops/a1/revisions/12");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->sop.sop, "a1");
  EXPECT_EQ(name->revision, 12);
  EXPECT_EQ(name->Full(), "orgs/default/sops/a1/revisions/12");
}

TEST(NamesTest, ParsesCommentNamesAndRejectsOthers) {
  absl::StatusOr<CommentName> name =
      ParseCommentName("name", "orgs/acme/sops/mql-handoff/comments/c-1a2b");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->sop.Full(), "orgs/acme/sops/mql-handoff");
  EXPECT_EQ(name->comment, "c-1a2b");
  EXPECT_EQ(name->Full(), "orgs/acme/sops/mql-handoff/comments/c-1a2b");
  for (const char* bad : {"", "orgs/acme/sops/a/revisions/1", "orgs/acme/sops/a/comments/",
                          "orgs/acme/sops/a/comments/C1"}) {
    absl::StatusOr<CommentName> parsed = ParseCommentName("comment.name", bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(parsed.status().message().find("comment.name"), std::string::npos) << bad;
  }
  EXPECT_EQ(AuditEventName("acme", 42), "orgs/acme/auditEvents/42");
}

TEST(NamesTest, MalformedNamesAreInvalidArgumentNamingTheField) {
  for (const char* bad : {"orgs/default", "orgs//sops/a", "orgs/Default/sops/a",
                          "orgs/default/sops/a/", "orgs/default/sop/a",
                          "orgs/default/sops/a-", "orgs/default/sops/1a",
                          "orgs/default/sops/a/b"}) {
    absl::StatusOr<SopName> name = ParseSopName("sop.name", bad);
    ASSERT_FALSE(name.ok()) << bad;
    EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(name.status().message().substr(0, 10), "sop.name: ") << bad;
  }
}

TEST(NamesTest, UpperCaseIdSaysIdsAreLowerCaseAndSuggestsTheLowerCaseId) {
  absl::StatusOr<SopName> sop = ParseSopName("name", "orgs/default/sops/Demo-No-Show");
  ASSERT_FALSE(sop.ok());
  EXPECT_EQ(sop.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sop.status().message(),
            "name: SOP ids are lower case: \"Demo-No-Show\" should be \"demo-no-show\"");
  absl::StatusOr<std::string> org = ParseOrgName("parent", "orgs/Acme");
  ASSERT_FALSE(org.ok());
  EXPECT_EQ(org.status().message(), "parent: org ids are lower case: \"Acme\" should be \"acme\"");
  absl::StatusOr<TokenName> token = ParseTokenName("name", "orgs/acme/tokens/T1");
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().message(), "name: token ids are lower case: \"T1\" should be \"t1\"");
}

TEST(NamesTest, UpperCaseIdWithAnotherFlawKeepsTheShapeError) {
  absl::StatusOr<SopName> sop = ParseSopName("name", "orgs/default/sops/Demo_No_Show");
  ASSERT_FALSE(sop.ok());
  EXPECT_EQ(sop.status().message(),
            "name: \"orgs/default/sops/Demo_No_Show\" is not a valid name; expected "
            "orgs/{org}/sops/{sop}");
}

TEST(NamesTest, EmptyNameIsRequired) {
  absl::StatusOr<std::string> org = ParseOrgName("parent", "");
  ASSERT_FALSE(org.ok());
  EXPECT_EQ(org.status().message(), "parent: is required");
}

TEST(NamesTest, RevisionIdsArePositiveCanonicalIntegers) {
  for (const char* bad : {"orgs/d/sops/a/revisions/0", "orgs/d/sops/a/revisions/-1",
                          "orgs/d/sops/a/revisions/01", "orgs/d/sops/a/revisions/x"}) {
    EXPECT_FALSE(ParseRevisionName("name", bad).ok()) << bad;
  }
}

TEST(NamesTest, ParsesTokenNames) {
  absl::StatusOr<TokenName> name = ParseTokenName("name", "orgs/acme/tokens/tk1");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->org, "acme");
  EXPECT_EQ(name->token, "tk1");
  EXPECT_EQ(name->Full(), "orgs/acme/tokens/tk1");
  EXPECT_FALSE(ParseTokenName("name", "orgs/acme/sops/tk1").ok());
}

TEST(NamesTest, ResourceIdRules) {
  EXPECT_TRUE(IsValidResourceId("a"));
  EXPECT_TRUE(IsValidResourceId("mql-acceptance-handoff"));
  EXPECT_FALSE(IsValidResourceId(std::string(64, 'a')));
  EXPECT_TRUE(IsValidResourceId(std::string(63, 'a')));
  EXPECT_FALSE(IsValidResourceId("a_b"));
}

}  // namespace
}  // namespace sopsidebar
