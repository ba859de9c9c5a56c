// Test helpers: published SOPs and contexts from text protos.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_TEST_SOPS_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_TEST_SOPS_H_

#include <memory>
#include <string>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar::test {

template <typename T>
T ParseText(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

// A published SOP `id` in `org`, published at Unix second `published`.
inline PublishedSopPtr Published(const std::string& id, const std::string& body_text,
                                 int64_t published = 1000, const std::string& org = "default") {
  return MakePublishedSop(SopName{org, id}, 1, absl::FromUnixSeconds(published),
                          ParseText<v1::Sop>(body_text));
}

inline v1::CrmContext Context(const std::string& text) {
  return ParseText<v1::CrmContext>(text);
}

}  // namespace sopsidebar::test

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_TEST_SOPS_H_
