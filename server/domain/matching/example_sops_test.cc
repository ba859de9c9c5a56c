// The shipped example SOPs (examples/sops) are what a new user publishes
// first: no two of them may tie, or `sopctl check --fail-on-ties` fails on
// the examples themselves.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/sopfile/sop_file.h"
#include "gtest/gtest.h"
#include "server/domain/matching/targeting_conflicts.h"

namespace sopsidebar {
namespace {

TEST(ExampleSopsTest, NoShippedExampleTiesWithAnother) {
  absl::StatusOr<std::vector<SopFile>> files = LoadSopFiles(SOP_EXAMPLES_DIR);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_GE(files->size(), 2u);
  std::vector<PublishedSopPtr> published;
  for (const SopFile& file : *files) {
    published.push_back(MakePublishedSop(SopName{"default", file.sop_id}, 1,
                                         absl::FromUnixSeconds(1000), file.sop));
  }
  for (const PublishedSopPtr& sop : published) {
    for (const TargetingTie& tie : FindTargetingTies(sop->body, sop->name, published)) {
      ADD_FAILURE() << sop->name.sop << " rule " << tie.candidate_rule << " ties with "
                    << tie.other->name.sop << " rule " << tie.other_rule << " on "
                    << tie.example.ShortDebugString();
    }
  }
}

}  // namespace
}  // namespace sopsidebar
