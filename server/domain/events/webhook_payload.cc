#include "server/domain/events/webhook_payload.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/json_string.h"
#include "google/protobuf/util/json_util.h"
#include "server/common/crypto.h"

namespace sopsidebar {
namespace {

// "DIRECTOR_OF_SALES" -> "Director of Sales".
std::string RoleLabel(int role) {
  std::vector<std::string> words = absl::StrSplit(v1::Role_Name(static_cast<v1::Role>(role)), '_');
  for (std::string& word : words) {
    word = absl::AsciiStrToLower(word);
    if (word == "of" || word == "and") continue;
    if (word == "sdr" || word == "ae" || word == "vp" || word == "ops") {
      word = absl::AsciiStrToUpper(word);
      if (word == "OPS") word = "Ops";
      continue;
    }
    if (!word.empty()) word[0] = absl::ascii_toupper(word[0]);
  }
  return absl::StrJoin(words, " ");
}

}  // namespace

std::string WebhookSignature(absl::string_view secret, int64_t unix_seconds,
                             absl::string_view body) {
  const std::string signed_text = absl::StrCat(unix_seconds, ".", body);
  return absl::StrCat("t=", unix_seconds,
                      ",v1=", absl::BytesToHexString(HmacSha256(secret, signed_text)));
}

std::string SlackText(const v1::ChangeEvent& event) {
  const std::string title = event.title().empty() ? event.sop() : event.title();
  std::string line;
  switch (event.type()) {
    case v1::ChangeEvent::SOP_CHANGED:
      line = absl::StrCat("SOP changed: ", title);
      break;
    case v1::ChangeEvent::SOP_PUBLISHED:
      line = absl::StrCat("SOP published: ", title);
      break;
    case v1::ChangeEvent::SOP_DELETED:
      line = absl::StrCat("SOP deleted: ", title);
      break;
    case v1::ChangeEvent::REVIEW_DUE:
      line = absl::StrCat("Review due: ", title);
      break;
    case v1::ChangeEvent::SIGN_OFF_REQUESTED: {
      std::vector<std::string> roles;
      for (int role : event.awaiting_roles()) roles.push_back(RoleLabel(role));
      line = absl::StrCat("Sign-off awaits: ", absl::StrJoin(roles, ", "), " \xe2\x80\x94 ", title);
      break;
    }
    default:
      line = absl::StrCat("SOP event: ", title);
  }
  absl::StrAppend(&line, " (", event.sop());
  if (!event.revision_id().empty()) absl::StrAppend(&line, ", revision ", event.revision_id());
  if (!event.actor().empty()) absl::StrAppend(&line, ", by ", event.actor());
  absl::StrAppend(&line, ")");
  return line;
}

std::string WebhookBody(v1::Webhook::PayloadFormat format, const v1::ChangeEvent& event) {
  if (format == v1::Webhook::SLACK) {
    std::string body = "{\"text\":";
    AppendJsonString(SlackText(event), &body);
    body += "}";
    return body;
  }
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(event, &json).ok()) return "{}";
  return json;
}

absl::Duration BackoffCeiling(int failures, absl::Duration base, absl::Duration cap) {
  absl::Duration ceiling = base;
  for (int i = 1; i < failures && ceiling < cap; ++i) ceiling *= 2;
  return std::min(ceiling, cap);
}

absl::Duration FullJitterBackoff(int failures, absl::Duration base, absl::Duration cap,
                                 double unit) {
  unit = std::clamp(unit, 0.0, 1.0);
  return BackoffCeiling(failures, base, cap) * unit;
}

}  // namespace sopsidebar
