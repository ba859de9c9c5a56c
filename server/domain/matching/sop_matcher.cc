#include "server/domain/matching/sop_matcher.h"

#include <tuple>

#include "server/domain/matching/explained_match.h"

namespace sopsidebar {

PublishedSop::~PublishedSop() { delete wire_parts.load(std::memory_order_acquire); }

PublishedSopPtr MakePublishedSop(SopName name, int64_t revision, absl::Time publish_time,
                                 v1::Sop body, absl::Time next_review_time) {
  auto sop = std::make_shared<PublishedSop>();
  sop->next_review_time = next_review_time;
  sop->name = std::move(name);
  sop->revision = revision;
  sop->publish_time = publish_time;
  sop->visible_to = VisibleToRoles(body);
  sop->body = std::move(body);
  return sop;
}

int CompareRank(int pa, int sa, const PublishedSop& a, int pb, int sb, const PublishedSop& b) {
  if (pa != pb) return pa > pb ? -1 : 1;
  if (sa != sb) return sa > sb ? -1 : 1;
  if (a.publish_time != b.publish_time) return a.publish_time > b.publish_time ? -1 : 1;
  if (std::tie(a.name.org, a.name.sop) < std::tie(b.name.org, b.name.sop)) return -1;
  if (std::tie(b.name.org, b.name.sop) < std::tie(a.name.org, a.name.sop)) return 1;
  return 0;
}

bool RanksBefore(const SopMatchResult& a, const SopMatchResult& b) {
  return CompareRank(a.priority, a.specificity, *a.sop, b.priority, b.specificity, *b.sop) < 0;
}

bool NearMissRanksBefore(const NearMiss& a, const NearMiss& b) {
  const int c = CompareRank(a.priority, a.specificity, *a.sop, b.priority, b.specificity, *b.sop);
  if (c != 0) return c < 0;
  return a.rule_index < b.rule_index;
}

}  // namespace sopsidebar
