#include "plugins/drafting/openai/sop_schema.h"

#include <deque>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/drafting/drafter.h"
#include "common/errors.h"
#include "common/model/field_behavior.h"
#include "common/model/sop_body.h"
#include "common/sopfile/sop_file.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace sopsidebar {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

// The well-known types as a model writes them in proto JSON.
std::optional<std::string> WellKnownType(const Descriptor* type) {
  const std::string& name = type->full_name();
  if (name == "google.protobuf.Duration") return "duration string in seconds, e.g. \"300s\"";
  if (name == "google.protobuf.Timestamp") return "RFC 3339 time string";
  if (name == "google.protobuf.Value") return "JSON value (string, number or bool)";
  if (name == "google.protobuf.ListValue") return "JSON array of values";
  return std::nullopt;
}

std::string TypeOf(const FieldDescriptor* field) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return "string";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "bool";
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return "integer";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return "number";
    case FieldDescriptor::CPPTYPE_ENUM:
      return absl::StrCat("enum ", field->enum_type()->name());
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return WellKnownType(field->message_type()).value_or(field->message_type()->name());
  }
  return "value";
}

// The messages (of ours) and enums a writer of an SOP meets, in the order
// first met from Sop.
struct Reachable {
  std::vector<const Descriptor*> messages;
  std::vector<const EnumDescriptor*> enums;
};

Reachable ReachableTypes() {
  Reachable reachable;
  std::set<const void*> seen;
  std::deque<const Descriptor*> pending = {v1::Sop::descriptor()};
  seen.insert(v1::Sop::descriptor());
  while (!pending.empty()) {
    const Descriptor* message = pending.front();
    pending.pop_front();
    reachable.messages.push_back(message);
    for (int i = 0; i < message->field_count(); ++i) {
      const FieldDescriptor* field = message->field(i);
      if (!IsWritableField(field)) continue;
      if (field->enum_type() != nullptr && seen.insert(field->enum_type()).second) {
        reachable.enums.push_back(field->enum_type());
      }
      const Descriptor* type = field->message_type();
      if (type != nullptr && !WellKnownType(type).has_value() && seen.insert(type).second) {
        pending.push_back(type);
      }
    }
  }
  return reachable;
}

// Strips "answer:<line>: " (or "answer:<line>:<column>: ") from a line of
// ParseSopFile's error: the line numbers are those of the re-written
// answer, not the model's own text.
std::string WithoutLocation(absl::string_view line, absl::string_view file) {
  absl::string_view rest = line;
  if (!absl::ConsumePrefix(&rest, file) || !absl::ConsumePrefix(&rest, ":")) {
    return std::string(line);
  }
  while (!rest.empty() && (absl::ascii_isdigit(rest[0]) || rest[0] == ':')) rest.remove_prefix(1);
  absl::ConsumePrefix(&rest, " ");
  return std::string(rest);
}

// The answer's JSON text: a ```json (or bare ```) fenced block when there
// is one, else the whole answer.
absl::string_view JsonTextOf(absl::string_view content) {
  const size_t open = content.find("```");
  if (open == absl::string_view::npos) return absl::StripAsciiWhitespace(content);
  absl::string_view rest = content.substr(open + 3);
  const size_t line_end = rest.find('\n');
  if (line_end == absl::string_view::npos) return absl::StripAsciiWhitespace(content);
  rest.remove_prefix(line_end + 1);  // the fence's info string ("json")
  const size_t close = rest.find("```");
  return absl::StripAsciiWhitespace(rest.substr(0, close));
}

}  // namespace

const absl::string_view kSopSchemaNotes =
    R"(- `title`: short, e.g. "Inbound MQL: 5-Touch Cadence over 5 Days"; `owner`: a job title such as "Sales Operations Manager".
- `anchor_field`: the CRM field holding the time the clocks start from; use "status_changed_at".
- `targeting_rules`: `record_types` such as ["Lead"]; `conditions` on CRM fields such as lead_status (e.g. "MQL – New Handoff", "Open - Not Contacted", "SQL – Accepted"), lead_score (0-100), lead_source ("Web", "Phone Inquiry", "Partner Referral"), company_size, title; each condition has exactly one operator; `priority` 0..1000.
- `steps`: `ordinal` 1, 2, 3, ... unique; `instructions` in Markdown; `responsible_role` a Role; `time_limit` with a `duration` and the `anchor_event` in words. A step's `conditions` say when it is the current step (the first step whose conditions hold).
- `cadence`: `day` counts from 1; `within` is a duration; `channel` a Channel; `action` says what to do.
- `sla_terms`: `name` in lower_snake_case, unique, e.g. first_contact_window (set `duration`) or min_lead_score (set `number`).
- `disqualification_codes`: `code` such as "D-TooSmall", unique, with a short `label`.
- `asset_ids` must be `id`s of the SOP's own `assets`.)";

std::string SopSchemaDescription() {
  const Reachable reachable = ReachableTypes();
  std::string out;
  for (const Descriptor* message : reachable.messages) {
    absl::StrAppend(&out, message->name(), ":\n");
    for (int i = 0; i < message->field_count(); ++i) {
      const FieldDescriptor* field = message->field(i);
      if (!IsWritableField(field)) continue;
      absl::StrAppend(&out, "  ", field->name(), ": ", field->is_repeated() ? "list of " : "",
                      TypeOf(field));
      if (field->real_containing_oneof() != nullptr) {
        absl::StrAppend(&out, " (one of ", field->real_containing_oneof()->name(), ")");
      } else if (HasFieldBehavior(field, v1::FIELD_BEHAVIOR_REQUIRED)) {
        absl::StrAppend(&out, ", required");
      }
      out.push_back('\n');
    }
  }
  for (const google::protobuf::EnumDescriptor* type : reachable.enums) {
    std::vector<std::string> values;
    for (int i = 0; i < type->value_count(); ++i) {
      if (type->value(i)->number() != 0) values.push_back(type->value(i)->name());
    }
    absl::StrAppend(&out, "enum ", type->name(), ": ", absl::StrJoin(values, ", "), "\n");
  }
  return out;
}

std::string DraftingSystemPrompt() {
  return absl::StrCat(
      "You draft Standard Operating Procedures (SOPs) for sales and marketing teams: how reps "
      "work leads in the CRM, step by step, with time limits, an outreach cadence, SLA terms and "
      "disqualification codes. Turn the user's brief into one complete SOP.\n\n"
      "Answer with exactly one JSON object and nothing else: no prose, no comments. It is one "
      "SOP in the protobuf JSON mapping with the snake_case field names below; enums are written "
      "as their names (\"SDR\"), durations as strings of seconds (\"300s\"). Write only the "
      "fields listed; the server sets all others (name, state, etag, revisions, times).\n\n"
      "Schema:\n",
      SopSchemaDescription(), "\nNotes:\n", kSopSchemaNotes, "\n");
}

ModelAnswer ReadModelAnswer(absl::string_view content) {
  constexpr absl::string_view kFile = "answer";
  ModelAnswer answer;
  const absl::string_view json = JsonTextOf(content);
  if (json.empty()) {
    answer.problems.push_back("is empty: expected one JSON object");
    return answer;
  }
  if (json[0] != '{') {
    answer.problems.push_back(absl::StrCat("is not a JSON object: ", error::QuoteInput(json)));
    return answer;
  }
  google::protobuf::Struct object;
  const auto parsed = google::protobuf::util::JsonStringToMessage(std::string(json), &object);
  if (!parsed.ok()) {
    answer.problems.push_back(absl::StrCat("is not valid JSON: ", std::string(parsed.message())));
    return answer;
  }
  // Never trusted, so never read: a draft's name, state and history are
  // the server's to set.
  const Descriptor* sop = v1::Sop::descriptor();
  for (auto it = object.mutable_fields()->begin(); it != object.mutable_fields()->end();) {
    const FieldDescriptor* field = sop->FindFieldByName(it->first);
    if (field == nullptr) field = sop->FindFieldByCamelcaseName(it->first);
    if (field != nullptr && !IsMutableSopField(field)) {
      it = object.mutable_fields()->erase(it);
    } else {
      ++it;
    }
  }
  std::string rewritten;
  if (!google::protobuf::util::MessageToJsonString(object, &rewritten).ok()) {
    answer.problems.push_back("is not valid JSON");
    return answer;
  }
  absl::StatusOr<v1::Sop> read = ParseSopFile(kFile, rewritten);
  if (read.ok()) read = FinishDraft(*std::move(read));
  if (!read.ok()) {
    for (absl::string_view line : absl::StrSplit(read.status().message(), '\n')) {
      answer.problems.push_back(WithoutLocation(line, kFile));
    }
    return answer;
  }
  answer.sop = *std::move(read);
  return answer;
}

}  // namespace sopsidebar
