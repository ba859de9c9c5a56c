#include "server/domain/store/webhook_store.h"

#include <vector>

#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/model/names.h"

namespace sopsidebar {

absl::Status SplitWebhookName(absl::string_view field, absl::string_view name,
                              WebhookKeyParts* parts) {
  if (name.empty()) return error::RequiredField(field);
  const std::vector<absl::string_view> p = absl::StrSplit(name, '/');
  const bool webhook = p.size() == 4 && p[0] == "orgs" && p[2] == "webhooks";
  const bool delivery = p.size() == 6 && p[0] == "orgs" && p[2] == "webhooks" &&
                        p[4] == "deliveries" && IsValidResourceId(p[5]);
  if ((!webhook && !delivery) || !IsValidResourceId(p[1]) || !IsValidResourceId(p[3])) {
    return error::InvalidResourceName(field, name,
                                      "orgs/{org}/webhooks/{webhook}[/deliveries/{delivery}]");
  }
  parts->org = std::string(p[1]);
  parts->webhook = std::string(p[3]);
  parts->delivery = delivery ? std::string(p[5]) : std::string();
  return absl::OkStatus();
}

}  // namespace sopsidebar
