#include "plugins/drafting/builtin/builtin_drafter.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace sopsidebar {
namespace {

constexpr absl::string_view kTouchesField = "cadence_touches_completed";

// What a funnel stage means for a lead-stage SOP: where the lead stands
// (lead_status values as Salesforce orgs customise them; see
// examples/sops), who works it and who signs the SOP off.
struct StageProfile {
  absl::string_view label;          // "MQL"
  absl::string_view status;         // the lead_status that selects the SOP
  absl::string_view anchor_event;   // what starts the clock
  absl::string_view done_status;    // no conversation after the last touch
  absl::string_view reject_status;  // not a fit
  v1::Role role;
  std::vector<v1::Role> approvers;
};

StageProfile ProfileOf(v1::FunnelStage stage) {
  switch (stage) {
    case v1::MQL:
      return {"MQL",
              "MQL – New Handoff",
              "MQL assigned",
              "Outreach Complete",
              "Rejected: Return to Marketing",
              v1::SDR,
              {v1::VP_SALES, v1::MARKETING_DIRECTOR}};
    case v1::SQL:
      return {"SQL",
              "SQL – Accepted",
              "Lead accepted (SQL – Accepted)",
              "Outreach Complete",
              "Closed - Not Converted",
              v1::SDR,
              {v1::SALES_MANAGER, v1::VP_SALES}};
    case v1::NURTURE:
      return {"Nurture",
              "Outreach Complete",
              "Lead moved to nurture",
              "Closed - Not Converted",
              "Closed - Not Converted",
              v1::MARKETING,
              {v1::SALES_MANAGER, v1::MARKETING_DIRECTOR}};
    default:
      return {"Lead",
              "Open - Not Contacted",
              "Lead created",
              "Outreach Complete",
              "Closed - Not Converted",
              v1::SDR,
              {v1::SALES_MANAGER}};
  }
}

// Salesforce LeadSource values (docs CRM-FIELDS) for each kind of source.
std::vector<std::string> LeadSourcesOf(LeadSource source) {
  switch (source) {
    case LeadSource::kInbound:
      return {"Web", "Phone Inquiry"};
    case LeadSource::kOutbound:
      return {"Purchased List", "Other"};
    case LeadSource::kPartner:
      return {"Partner Referral"};
    case LeadSource::kAny:
      break;
  }
  return {};
}

absl::string_view SourceLabel(LeadSource source) {
  switch (source) {
    case LeadSource::kInbound:
      return "Inbound";
    case LeadSource::kOutbound:
      return "Outbound";
    case LeadSource::kPartner:
      return "Partner";
    case LeadSource::kAny:
      break;
  }
  return "";
}

absl::string_view ChannelLabel(v1::Channel channel) {
  switch (channel) {
    case v1::CALL:
      return "call";
    case v1::EMAIL:
      return "email";
    case v1::LINKEDIN:
      return "LinkedIn";
    case v1::SMS:
      return "SMS";
    case v1::VIDEO:
      return "video";
    default:
      return "touch";
  }
}

// "5 minutes", "2 hours", "1 day", "90 seconds".
std::string InWords(absl::Duration d) {
  const int64_t seconds = absl::ToInt64Seconds(d);
  auto plural = [](int64_t n, absl::string_view unit) {
    return absl::StrCat(n, " ", unit, n == 1 ? "" : "s");
  };
  if (seconds % 86400 == 0) return plural(seconds / 86400, "day");
  if (seconds % 3600 == 0) return plural(seconds / 3600, "hour");
  if (seconds % 60 == 0) return plural(seconds / 60, "minute");
  return plural(seconds, "second");
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  out->set_seconds(absl::ToInt64Seconds(d));
}

// "call, email and LinkedIn".
std::string ListInWords(const std::vector<std::string>& items) {
  if (items.size() <= 1) return absl::StrJoin(items, "");
  return absl::StrCat(absl::StrJoin(items.begin(), items.end() - 1, ", "), " and ", items.back());
}

// The 1-based day of touch `i` (0-based) of `touches` over `days`: evenly
// spread, the first on day 1 and the last on the last day. With at least
// as many touches as days, each day gets touches/days rounded down or up
// (so at most kMaxTouchesPerDay); with fewer, the gaps differ by at most a
// day.
int DayOfTouch(int i, int touches, int days) {
  if (touches >= days) return 1 + i * days / touches;
  if (touches == 1) return 1;
  return 1 + (2 * i * (days - 1) + (touches - 1)) / (2 * (touches - 1));
}

// "D-NoBudget" for "no budget".
std::string CodeFor(absl::string_view reason) {
  std::string code = "D-";
  for (absl::string_view word :
       absl::StrSplit(reason, absl::ByAnyChar(" -_'\"().&"), absl::SkipEmpty())) {
    std::string w = absl::AsciiStrToLower(word);
    w[0] = absl::ascii_toupper(w[0]);
    absl::StrAppend(&code, w);
  }
  return code;
}

std::string Capitalised(absl::string_view text) {
  std::string out(text);
  if (!out.empty()) out[0] = absl::ascii_toupper(out[0]);
  return out;
}

struct Touch {
  int day = 0;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  int nth_of_channel = 0;  // 1 for the channel's first touch
};

std::vector<Touch> PlanTouches(const Brief& brief) {
  std::vector<Touch> touches;
  std::vector<int> used(v1::Channel_ARRAYSIZE, 0);
  for (int i = 0; i < brief.touches; ++i) {
    Touch touch;
    touch.day = DayOfTouch(i, brief.touches, brief.days);
    touch.channel = brief.channels[i % brief.channels.size()];
    touch.nth_of_channel = ++used[touch.channel];
    touches.push_back(touch);
  }
  return touches;
}

// What the rep does, the template, and the step's short title.
struct TouchText {
  std::string action;
  std::string template_name;
  std::string title;
};

TouchText TextOf(const Touch& touch) {
  const bool first = touch.nth_of_channel == 1;
  const int n = touch.nth_of_channel;
  switch (touch.channel) {
    case v1::CALL:
      return {first ? "Call the lead with the call script. If there is no answer, leave the "
                      "voicemail from the script and log the outcome."
                    : "Call again. If there is no answer, leave a short voicemail that refers to "
                      "your last message, and log the outcome.",
              "call-script", first ? "call" : "follow-up call"};
    case v1::EMAIL:
      return {first ? "Send Email Template 1 (introduction); personalise the subject line with the "
                      "company name."
                    : absl::StrCat("Send Email Template ", n,
                                   " (follow-up) as a reply to your earlier email."),
              absl::StrCat("email-template-", n), first ? "email" : "follow-up email"};
    case v1::LINKEDIN:
      return {first ? "Send a LinkedIn connection request with a short personal note (no pitch, "
                      "no links)."
                    : "Send a LinkedIn message that refers to your earlier outreach.",
              "", first ? "LinkedIn connection request" : "LinkedIn message"};
    case v1::SMS:
      return {first
                  ? "Send a short text: who you are, why you are reaching out, and a time to talk."
                  : "Send a short follow-up text offering two times to talk.",
              absl::StrCat("sms-template-", n), "text message"};
    case v1::VIDEO:
      return {
          "Record and send a personal video message (under 60 seconds) that names the "
          "company and the lead's interest.",
          "", "video message"};
    default:
      return {"Reach out to the lead.", "", "touch"};
  }
}

v1::FieldUpdate TouchesUpdate(int completed) {
  v1::FieldUpdate update;
  update.set_field(std::string(kTouchesField));
  update.mutable_value()->set_number_value(completed);
  return update;
}

void AddTargeting(const Brief& brief, const StageProfile& profile, v1::Sop* sop) {
  v1::TargetingRule* rule = sop->add_targeting_rules();
  rule->add_record_types("Lead");
  rule->set_priority(100);
  v1::Condition* status = rule->add_conditions();
  status->set_field("lead_status");
  status->mutable_equals()->set_string_value(std::string(profile.status));
  const std::vector<std::string> sources = LeadSourcesOf(brief.source);
  if (!sources.empty()) {
    v1::Condition* source = rule->add_conditions();
    source->set_field("lead_source");
    for (const std::string& value : sources) {
      source->mutable_any_of()->add_values()->set_string_value(value);
    }
  }
  rule->set_description(absl::StrCat(SourceLabel(brief.source),
                                     brief.source == LeadSource::kAny ? "" : " ", profile.label,
                                     " (", profile.status, ")"));
}

void AddCadenceAndSteps(const Brief& brief, const StageProfile& profile, v1::Role role,
                        const std::vector<std::string>& codes, v1::Sop* sop) {
  const std::vector<Touch> touches = PlanTouches(brief);
  const int n = static_cast<int>(touches.size());
  for (int i = 0; i < n; ++i) {
    const Touch& touch = touches[i];
    const TouchText text = TextOf(touch);
    const bool first = i == 0;
    const bool last = i == n - 1;
    const bool first_contact = first && brief.first_contact.has_value();

    v1::CadenceTouch* cadence = sop->add_cadence();
    cadence->set_day(touch.day);
    if (first_contact) SetDuration(*brief.first_contact, cadence->mutable_within());
    cadence->set_channel(touch.channel);
    cadence->set_action(
        last ? absl::StrCat(text.action, " Last touch: with no conversation yet, close out.")
             : text.action);
    cadence->set_template_name(text.template_name);
    *cadence->add_crm_updates() = TouchesUpdate(i + 1);

    v1::Step* step = sop->add_steps();
    step->set_ordinal(i + 1);
    step->set_title(
        absl::StrCat("Touch ", i + 1, " (Day ", touch.day, "): ", text.title,
                     first_contact ? absl::StrCat(" within ", InWords(*brief.first_contact)) : ""));
    step->set_responsible_role(role);
    v1::Condition* when = step->add_conditions();
    when->set_field(std::string(kTouchesField));
    if (first) {
      // Not started: no touch logged yet (a missing field counts too).
      for (int k = 1; k <= n; ++k) when->mutable_none_of()->add_values()->set_number_value(k);
    } else {
      when->mutable_equals()->set_number_value(i);
    }
    v1::TimeLimit* limit = step->mutable_time_limit();
    if (first_contact) {
      SetDuration(*brief.first_contact, limit->mutable_duration());
      limit->set_anchor_event(std::string(profile.anchor_event));
    } else {
      SetDuration(absl::Hours(24) * touch.day, limit->mutable_duration());
      limit->set_anchor_event(absl::StrCat(profile.anchor_event, " (end of Day ", touch.day, ")"));
    }
    std::string instructions = text.action;
    if (first_contact) {
      absl::StrAppend(&instructions, "\n\nThe clock starts when the lead's status becomes **",
                      profile.status, "**: speed to lead matters more than anything else here.");
    }
    absl::StrAppend(&instructions, "\n\nLog the touch: set `", kTouchesField, "` to ", i + 1,
                    ". If the lead replies and wants to talk, stop the cadence and book the "
                    "meeting.");
    step->set_instructions(std::move(instructions));
    *step->add_required_updates() = TouchesUpdate(i + 1);
    if (touch.channel == v1::CALL) {
      v1::FieldUpdate* outcome = step->add_required_updates();
      outcome->set_field("last_call_outcome");
      outcome->set_note("Connected, Voicemail or No Answer.");
    }
  }

  v1::Step* close = sop->add_steps();
  close->set_ordinal(n + 1);
  close->set_title("Close out after the last touch");
  close->set_responsible_role(role);
  v1::Condition* done = close->add_conditions();
  done->set_field(std::string(kTouchesField));
  done->mutable_range()->set_min(n);
  SetDuration(absl::Hours(24) * brief.days, close->mutable_time_limit()->mutable_duration());
  close->mutable_time_limit()->set_anchor_event(
      absl::StrCat(profile.anchor_event, " (end of Day ", brief.days, ")"));
  close->set_instructions(absl::StrCat(
      "All ", n, " touches are done.\n\n", "- **No conversation:** set the status to **",
      profile.done_status, "**. A lead that did not answer is not disqualified.\n",
      "- **Not a fit:** set the status to **", profile.reject_status,
      "** and pick exactly one disqualification code (", absl::StrJoin(codes, ", "),
      "), with one sentence of evidence in `disqualification_notes`."));
  v1::FieldUpdate* status = close->add_required_updates();
  status->set_field("lead_status");
  status->set_note(absl::StrCat(profile.done_status, ", or ", profile.reject_status,
                                " with a disqualification code."));
  v1::FieldUpdate* code = close->add_required_updates();
  code->set_field("disqualification_code");
  code->set_note("Only when the lead is not a fit: one code from the list.");
}

void AddSlaTerms(const Brief& brief, v1::Sop* sop) {
  if (brief.first_contact.has_value()) {
    v1::SlaTerm* term = sop->add_sla_terms();
    term->set_name("first_contact_window");
    term->set_description(absl::StrCat("First contact within ", InWords(*brief.first_contact),
                                       " of the status change."));
    SetDuration(*brief.first_contact, term->mutable_duration());
  }
  std::optional<int> min_score = brief.min_score;
  if (!min_score.has_value() && brief.stage == v1::MQL) min_score = kDefaultMqlMinScore;
  if (min_score.has_value()) {
    v1::SlaTerm* term = sop->add_sla_terms();
    term->set_name("min_lead_score");
    term->set_description("Lead score at or above which the lead is worked under this SOP.");
    term->set_number(*min_score);
  }
  v1::SlaTerm* length = sop->add_sla_terms();
  length->set_name("cadence_length_days");
  length->set_description(absl::StrCat("The cadence ends on day ", brief.days, "."));
  length->set_number(brief.days);
  v1::SlaTerm* required = sop->add_sla_terms();
  required->set_name("touches_required");
  required->set_description(
      "Touches to complete before a lead may leave the cadence without a conversation.");
  required->set_number(brief.touches);
}

// The brief's reasons, or a standard set.
std::vector<v1::DisqualificationCode> CodesOf(const Brief& brief) {
  std::vector<v1::DisqualificationCode> codes;
  auto add = [&codes](std::string code, std::string label, std::string description) {
    v1::DisqualificationCode c;
    c.set_code(std::move(code));
    c.set_label(std::move(label));
    c.set_description(std::move(description));
    codes.push_back(std::move(c));
  };
  if (brief.disqualify_reasons.empty()) {
    add("D-TooSmall", "Company too small", "Below the company size the team sells to.");
    add("D-WrongRole", "Wrong role / seniority", "Not a buyer or an influencer of one.");
    add("D-Budget", "No budget", "Clear statement that there is no budget this fiscal year.");
    add("D-Duplicate", "Duplicate",
        "The person already exists as a lead or contact; name the record in the notes.");
    return codes;
  }
  for (const std::string& reason : brief.disqualify_reasons) {
    add(CodeFor(reason), Capitalised(reason), absl::StrCat("Disqualified: ", reason, "."));
  }
  return codes;
}

}  // namespace

absl::StatusOr<v1::Sop> DraftFromBrief(const Brief& brief) {
  const StageProfile profile = ProfileOf(brief.stage);
  const v1::Role role = brief.role.value_or(profile.role);
  std::vector<std::string> channel_words;
  for (v1::Channel channel : brief.channels) {
    channel_words.push_back(std::string(ChannelLabel(channel)));
  }
  const std::string who = absl::StrCat(SourceLabel(brief.source),
                                       brief.source == LeadSource::kAny ? "" : " ", profile.label);
  const std::string days = absl::StrCat(brief.days, brief.days == 1 ? " Day" : " Days");

  v1::Sop sop;
  sop.set_title(brief.title.empty()
                    ? absl::StrCat(who, ": ", brief.touches, "-Touch Cadence over ", days)
                    : brief.title);
  sop.set_purpose(absl::StrCat(
      "Work every ", absl::AsciiStrToLower(SourceLabel(brief.source)),
      brief.source == LeadSource::kAny ? "" : " ", profile.label, " (", profile.status, ") with a ",
      brief.touches, "-touch cadence over ", absl::AsciiStrToLower(days), " by ",
      ListInWords(channel_words),
      brief.first_contact.has_value()
          ? absl::StrCat(", making first contact within ", InWords(*brief.first_contact))
          : "",
      ". Every touch is logged in ", kTouchesField,
      " so the panel shows the rep today's touch; leads that never engage leave the cadence "
      "cleanly (",
      profile.done_status, "), and leads that are not a fit leave with a disqualification code."));
  sop.set_owner(brief.owner.empty() ? std::string(kDefaultOwner) : brief.owner);
  sop.set_review_cycle(v1::QUARTERLY);
  sop.add_tags("cadence");
  if (brief.source != LeadSource::kAny) {
    sop.add_tags(absl::AsciiStrToLower(SourceLabel(brief.source)));
  }
  sop.add_tags(absl::AsciiStrToLower(profile.label));
  for (const std::string& word : channel_words) sop.add_tags(absl::AsciiStrToLower(word));
  sop.set_funnel_stage(brief.stage);
  sop.set_anchor_field("status_changed_at");

  AddTargeting(brief, profile, &sop);
  std::vector<v1::DisqualificationCode> codes = CodesOf(brief);
  std::vector<std::string> code_names;
  for (const v1::DisqualificationCode& code : codes) code_names.push_back(code.code());
  AddCadenceAndSteps(brief, profile, role, code_names, &sop);
  AddSlaTerms(brief, &sop);
  for (v1::DisqualificationCode& code : codes) *sop.add_disqualification_codes() = std::move(code);
  for (v1::Role approver : profile.approvers) sop.add_required_approver_roles(approver);
  return FinishDraft(std::move(sop));
}

absl::StatusOr<v1::Sop> BuiltinDrafter::Draft(absl::string_view brief) const {
  SOP_RETURN_IF_ERROR(ValidateBrief(brief));
  SOP_ASSIGN_OR_RETURN(const Brief parsed, ParseBrief(brief));
  return DraftFromBrief(parsed);
}

}  // namespace sopsidebar
