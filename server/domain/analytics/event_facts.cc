#include "server/domain/analytics/event_facts.h"

#include <cmath>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "server/domain/analytics/analytics_counters.h"

namespace sopsidebar {
namespace {

constexpr size_t kMaxEventId = 128;
constexpr size_t kMaxRecordField = 256;

bool IsEventIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
         c == '-';
}

std::string At(absl::string_view field, absl::string_view sub) { return absl::StrCat(field, sub); }

// The revision's first_contact_window, if it has one.
std::optional<absl::Duration> FirstContactWindow(const v1::Sop& revision) {
  for (const v1::SlaTerm& term : revision.sla_terms()) {
    if (term.name() == kFirstContactWindowTerm && term.has_duration()) {
      return FromProtoDuration(term.duration());
    }
  }
  return std::nullopt;
}

// The SLA evaluation of a first contact at `contact`: delay and window.
absl::Status EvaluateFirstContact(const v1::Event& event, absl::string_view field,
                                  const v1::Sop& revision, internal::v1::StoredEvent* stored) {
  const std::optional<absl::Duration> window = FirstContactWindow(revision);
  if (!window) return absl::OkStatus();
  const std::string& anchor_field = revision.anchor_field();
  const std::string path = absl::StrCat(field, ".context.fields[\"", anchor_field, "\"]");
  auto it = event.context().fields().find(anchor_field);
  if (anchor_field.empty() || it == event.context().fields().end()) {
    return error::InvalidField(path, absl::StrCat("is required: the first_contact_window of ",
                                                  revision.name(), " counts from it"));
  }
  absl::Time anchor;
  std::string parse_error;
  if (!it->second.has_string_value() ||
      !absl::ParseTime(absl::RFC3339_full, it->second.string_value(), &anchor, &parse_error)) {
    return error::InvalidField(path, "is not an RFC 3339 time");
  }
  const absl::Time contact = FromProtoTimestamp(event.event_time());
  if (contact < anchor) {
    return error::InvalidField(At(field, ".event_time"),
                               absl::StrCat("is before the anchor time ", anchor_field, " (",
                                            it->second.string_value(), ")"));
  }
  const absl::Duration delay = contact - anchor;
  stored->set_sla_evaluated(true);
  stored->set_first_contact_delay_ms(absl::ToInt64Milliseconds(delay));
  stored->set_within_window(delay <= *window);
  return absl::OkStatus();
}

absl::Status CheckAgainstRevision(const v1::Event& event, absl::string_view field,
                                  const v1::Sop& revision) {
  switch (event.type()) {
    case v1::Event::STEP_COMPLETED: {
      for (const v1::Step& step : revision.steps()) {
        if (step.ordinal() == event.step_ordinal()) return absl::OkStatus();
      }
      return error::InvalidField(
          At(field, ".step_ordinal"),
          absl::StrCat("revision ", revision.revision_id(), " of ", revision.name(),
                       " has no step ", event.step_ordinal()));
    }
    case v1::Event::ASSET_OPENED: {
      if (event.asset_id().empty()) return error::RequiredField(At(field, ".asset_id"));
      for (const v1::Asset& asset : revision.assets()) {
        if (asset.id() == event.asset_id()) return absl::OkStatus();
      }
      return error::InvalidField(
          At(field, ".asset_id"),
          absl::StrCat(error::QuoteInput(event.asset_id()), " is not an asset of revision ",
                       revision.revision_id(), " of ", revision.name()));
    }
    case v1::Event::DISQUALIFIED: {
      std::vector<absl::string_view> allowed;
      for (const v1::DisqualificationCode& code : revision.disqualification_codes()) {
        if (code.code() == event.code()) return absl::OkStatus();
        allowed.push_back(code.code());
      }
      if (allowed.empty()) {
        return error::InvalidField(At(field, ".code"),
                                   absl::StrCat("revision ", revision.revision_id(), " of ",
                                                revision.name(), " has no disqualification codes"));
      }
      return error::InvalidField(
          At(field, ".code"),
          absl::StrCat(
              event.code().empty()
                  ? "is required"
                  : absl::StrCat(error::QuoteInput(event.code()), " is not a code of revision ",
                                 revision.revision_id(), " of ", revision.name()),
              "; allowed: ", absl::StrJoin(allowed, ", ")));
    }
    case v1::Event::STATUS_CHANGED:
      if (event.new_status().empty()) return error::RequiredField(At(field, ".new_status"));
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

}  // namespace

DayNumber DayOf(absl::Time t) {
  return static_cast<DayNumber>(
      std::floor(absl::FDivDuration(t - absl::UnixEpoch(), absl::Hours(24))));
}

absl::Time StartOfDay(DayNumber day) { return absl::UnixEpoch() + absl::Hours(24) * day; }

std::string FormatDay(DayNumber day) {
  return absl::FormatTime("%Y-%m-%d", StartOfDay(day), absl::UTCTimeZone());
}

absl::StatusOr<DayNumber> ParseDay(absl::string_view field, absl::string_view text) {
  absl::Time t;
  std::string parse_error;
  if (text.size() != 10 ||
      !absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &parse_error)) {
    return error::InvalidField(field, "is not a day as YYYY-MM-DD");
  }
  return DayOf(t);
}

absl::Status CheckEventShape(const v1::Event& event, absl::string_view field,
                             const EventWindow& window) {
  if (event.event_id().empty()) return error::RequiredField(At(field, ".event_id"));
  if (event.event_id().size() > kMaxEventId) {
    return error::FieldTooLong(At(field, ".event_id"), kMaxEventId);
  }
  for (char c : event.event_id()) {
    if (!IsEventIdChar(c)) {
      return error::InvalidField(At(field, ".event_id"),
                                 "may hold only letters, digits and . _ : -");
    }
  }
  if (event.type() == v1::Event::TYPE_UNSPECIFIED || !v1::Event::Type_IsValid(event.type())) {
    return error::InvalidField(At(field, ".type"),
                               absl::StrCat("is not a known event type (", event.type(), ")"));
  }
  if (!event.has_event_time()) return error::RequiredField(At(field, ".event_time"));
  const absl::Time time = FromProtoTimestamp(event.event_time());
  if (time > window.now + EventWindow::kMaxAhead) {
    return error::InvalidField(At(field, ".event_time"),
                               "is more than 5 minutes ahead of the server's clock");
  }
  if (time < window.now - window.retention) {
    return error::InvalidField(At(field, ".event_time"),
                               absl::StrCat("is older than the event retention (",
                                            absl::FormatDuration(window.retention), ")"));
  }
  if (event.sop().empty()) return error::RequiredField(At(field, ".sop"));
  if (event.revision_id().empty()) return error::RequiredField(At(field, ".revision_id"));
  if (!event.has_context()) return error::RequiredField(At(field, ".context"));
  if (event.context().record_type().empty()) {
    return error::RequiredField(At(field, ".context.record_type"));
  }
  if (event.context().record_id().empty()) {
    return error::RequiredField(At(field, ".context.record_id"));
  }
  if (event.context().record_type().size() > kMaxRecordField) {
    return error::FieldTooLong(At(field, ".context.record_type"), kMaxRecordField);
  }
  if (event.context().record_id().size() > kMaxRecordField) {
    return error::FieldTooLong(At(field, ".context.record_id"), kMaxRecordField);
  }
  return absl::OkStatus();
}

absl::StatusOr<EventFacts> DeriveEventFacts(const v1::Event& event, absl::string_view field,
                                            const v1::Sop& revision, absl::string_view rep,
                                            const EventWindow& window) {
  SOP_RETURN_IF_ERROR(CheckAgainstRevision(event, field, revision));
  EventFacts facts;
  *facts.stored.mutable_event() = event;
  facts.stored.set_rep(std::string(rep));
  if (event.type() == v1::Event::FIRST_CONTACT) {
    SOP_RETURN_IF_ERROR(EvaluateFirstContact(event, field, revision, &facts.stored));
  }
  facts.day = DayOf(FromProtoTimestamp(event.event_time()));
  internal::v1::AggregateDimensions& d = facts.dimensions;
  const v1::CrmContext& context = event.context();
  d.set_sop(event.sop());
  d.set_revision_id(event.revision_id());
  d.set_rep(std::string(rep));
  d.set_team(GroupValue(context, kTeamField));
  d.set_lead_source(GroupValue(context, kLeadSourceField));
  d.set_campaign(GroupValue(context, kCampaignField));
  d.set_record_type(context.record_type());
  d.set_status(GroupValue(context, kLeadStatusField));
  const std::string record =
      absl::StrCat(event.sop(), "|", context.record_type(), "|", context.record_id());
  facts.record_mark = absl::StrCat("record|", record);
  if (facts.stored.sla_evaluated()) facts.first_contact_mark = absl::StrCat("contact|", record);
  return facts;
}

internal::v1::EventAggregate DeltaOf(const EventFacts& facts, const v1::Sop& revision,
                                     bool new_record, bool first_contact) {
  internal::v1::EventAggregate delta;
  auto& counts = *delta.mutable_counts();
  const v1::Event& event = facts.stored.event();
  if (new_record) {
    counts[std::string(counters::kRecords)] = 1;
    if (revision.disqualification_codes_size() > 0) {
      counts[std::string(counters::kCodedRecords)] = 1;
    }
  }
  switch (event.type()) {
    case v1::Event::PANEL_SHOWN:
      counts[std::string(counters::kShown)] += 1;
      break;
    case v1::Event::STEP_COMPLETED:
      counts[std::string(counters::kSteps)] += 1;
      counts[counters::Step(event.step_ordinal())] += 1;
      break;
    case v1::Event::ASSET_OPENED:
      counts[std::string(counters::kAssets)] += 1;
      break;
    case v1::Event::DISQUALIFIED:
      counts[std::string(counters::kDisqualified)] += 1;
      counts[counters::Code(event.code())] += 1;
      break;
    case v1::Event::FIRST_CONTACT:
      if (first_contact && facts.stored.sla_evaluated()) {
        counts[std::string(counters::kFirstContacts)] += 1;
        if (facts.stored.within_window()) counts[std::string(counters::kWithinWindow)] += 1;
        delta.add_first_contact_delays_ms(facts.stored.first_contact_delay_ms());
      }
      break;
    case v1::Event::STATUS_CHANGED:
      counts[std::string(counters::kStatusChanges)] += 1;
      break;
    default:
      break;
  }
  return delta;
}

absl::string_view GroupValueView(const v1::CrmContext& context, absl::string_view field,
                                 std::string& scratch) {
  // The field names grouped by are short: the key fits std::string's
  // inline buffer, so the lookup allocates nothing.
  auto it = context.fields().find(std::string(field));
  if (it == context.fields().end()) return "";
  const google::protobuf::Value& value = it->second;
  if (value.has_string_value()) return value.string_value();
  if (value.has_number_value()) {
    scratch.clear();
    absl::StrAppend(&scratch, value.number_value());
    return scratch;
  }
  if (value.has_bool_value()) return value.bool_value() ? "true" : "false";
  return "";
}

std::string GroupValue(const v1::CrmContext& context, absl::string_view field) {
  std::string scratch;
  return std::string(GroupValueView(context, field, scratch).substr(0, kMaxRecordField));
}

}  // namespace sopsidebar
