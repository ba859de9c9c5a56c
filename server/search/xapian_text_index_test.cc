#include "server/search/xapian_text_index.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sopsidebar {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TextDocument Doc(const std::string& id, const std::string& text,
                 std::vector<std::string> filters = {"all"}) {
  TextDocument doc;
  doc.id = id;
  doc.fields.push_back({text, 1});
  doc.filter_terms = std::move(filters);
  doc.snippet_text = text;
  return doc;
}

TextQuery Words(const std::string& text, std::vector<std::string> any_of = {"all"}) {
  TextQuery query;
  query.text = text;
  query.any_of = std::move(any_of);
  return query;
}

std::vector<std::string> Ids(const TextResults& results) {
  std::vector<std::string> ids;
  for (const TextHit& hit : results.hits) ids.push_back(hit.id);
  return ids;
}

class XapianTextIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto index = XapianTextIndex::Create();
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = std::move(index).value();
  }
  std::unique_ptr<XapianTextIndex> index_;
};

TEST_F(XapianTextIndexTest, SnippetIsPlainTextWithTheMatchesHighlighted) {
  ASSERT_TRUE(index_->Write({Doc("a", "Terms & conditions <apply> to \"every\" quote")}, {}).ok());
  auto found = index_->Search(Words("quote"));
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_THAT(Ids(*found), ElementsAre("a"));
  std::string text;
  std::vector<std::string> highlighted;
  for (const TextSpan& span : found->hits[0].snippet) {
    text += span.text;
    if (span.highlighted) highlighted.push_back(span.text);
  }
  EXPECT_EQ(text, "Terms & conditions <apply> to \"every\" quote");
  EXPECT_THAT(highlighted, ElementsAre("quote"));
}

TEST_F(XapianTextIndexTest, FilterTermsRestrictTheDocumentsSearched) {
  ASSERT_TRUE(index_
                  ->Write({Doc("a", "renewal call", {"org:a", "role:1"}),
                           Doc("b", "renewal call", {"org:b", "role:1"}),
                           Doc("c", "renewal call", {"org:a", "role:2"})},
                          {})
                  .ok());
  TextQuery query = Words("renewal", {"role:1", "role:3"});
  query.all_of = {"org:a"};
  auto found = index_->Search(query);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(Ids(*found), ElementsAre("a"));
  // Filter terms are not words.
  EXPECT_THAT(Ids(*index_->Search(Words("org"))), IsEmpty());
}

TEST_F(XapianTextIndexTest, CorrectionUsesOnlyWordsOfAdmittedDocuments) {
  ASSERT_TRUE(index_
                  ->Write({Doc("open", "quarterly forecast", {"open"}),
                           Doc("hidden", "confidential layoffs", {"hidden"})},
                          {})
                  .ok());
  auto open = index_->Search(Words("forcast", {"open"}));
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->corrected_text, "forecast");
  EXPECT_THAT(Ids(*open), ElementsAre("open"));

  auto hidden = index_->Search(Words("layofs", {"open"}));
  ASSERT_TRUE(hidden.ok()) << hidden.status();
  EXPECT_EQ(hidden->corrected_text, "");
  EXPECT_THAT(Ids(*hidden), IsEmpty());
}

TEST_F(XapianTextIndexTest, QueryOfKnownWordsIsAnsweredAsWritten) {
  ASSERT_TRUE(index_->Write({Doc("ten", "matrix-10"), Doc("hundred", "matrix-100")}, {}).ok());
  auto found = index_->Search(Words("matrix-10"));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->corrected_text, "");
  EXPECT_THAT(Ids(*found), ElementsAre("ten"));
}

TEST_F(XapianTextIndexTest, WriteReplacesAndRemovesById) {
  ASSERT_TRUE(index_->Write({Doc("a", "alpha"), Doc("b", "beta")}, {}).ok());
  ASSERT_TRUE(index_->Write({Doc("a", "gamma")}, {"b", "unknown"}).ok());
  EXPECT_EQ(index_->size(), 1u);
  EXPECT_THAT(Ids(*index_->Search(Words("alpha"))), IsEmpty());
  EXPECT_THAT(Ids(*index_->Search(Words("gamma"))), ElementsAre("a"));
}

TEST_F(XapianTextIndexTest, DestructionRemovesTheDirectory) {
  const std::string directory = index_->directory();
  EXPECT_TRUE(std::filesystem::is_directory(directory));
  index_.reset();
  EXPECT_FALSE(std::filesystem::exists(directory));
}

}  // namespace
}  // namespace sopsidebar
