#include "server/domain/matching/sop_matcher.h"

#include <tuple>

namespace sopsidebar {

PublishedSopPtr MakePublishedSop(SopName name, int64_t revision, absl::Time publish_time,
                                 v1::Sop body) {
  auto sop = std::make_shared<PublishedSop>();
  sop->name = std::move(name);
  sop->revision = revision;
  sop->publish_time = publish_time;
  sop->visible_to = VisibleToRoles(body);
  sop->body = std::move(body);
  return sop;
}

bool RanksBefore(const SopMatchResult& a, const SopMatchResult& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  if (a.specificity != b.specificity) return a.specificity > b.specificity;
  if (a.sop->publish_time != b.sop->publish_time) {
    return a.sop->publish_time > b.sop->publish_time;
  }
  return std::tie(a.sop->name.org, a.sop->name.sop) < std::tie(b.sop->name.org, b.sop->name.sop);
}

}  // namespace sopsidebar
