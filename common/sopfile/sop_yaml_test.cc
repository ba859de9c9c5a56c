#include "common/sopfile/sop_yaml.h"

#include <filesystem>
#include <string>

#include "common/sopfile/sop_file.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;

void ExpectReadsBack(const v1::Sop& sop) {
  const std::string yaml = SopToYaml(sop);
  absl::StatusOr<v1::Sop> read = ParseSopFile("draft.yaml", yaml);
  ASSERT_TRUE(read.ok()) << read.status() << "\n" << yaml;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*read, sop))
      << yaml << "\nread back as\n"
      << read->DebugString();
}

TEST(SopToYamlTest, EveryExampleSopReadsBackUnchanged) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SOP_EXAMPLES_DIR)) {
    if (entry.path().extension() != ".yaml") continue;
    absl::StatusOr<std::vector<SopFile>> loaded = LoadSopFiles(entry.path().string());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ExpectReadsBack((*loaded)[0].sop);
    ++files;
  }
  EXPECT_GT(files, 3);
}

TEST(SopToYamlTest, TextThatLooksLikeANumberStaysText) {
  v1::Sop sop;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "orgs/default/sops/x"
        etag: "abc"
        state: DRAFT
        title: "2024: \"quoted\" # not a comment"
        purpose: "first line\nsecond: line\t- tabbed"
        owner: "true"
        targeting_rules {
          priority: 5
          conditions {
            field: "lead_score"
            equals { string_value: "75" }
          }
          conditions {
            field: "score"
            equals { number_value: 0.1 }
          }
          conditions {
            field: "flag"
            equals { bool_value: true }
          }
        }
        steps { ordinal: 1 title: "Call – ☎" }
      )pb",
      &sop));
  ExpectReadsBack(sop);
  EXPECT_THAT(SopToYaml(sop), HasSubstr("title: \"Call – ☎\""));
}

}  // namespace
}  // namespace sopsidebar
