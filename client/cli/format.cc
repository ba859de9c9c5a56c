#include "client/cli/format.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "client/cli/markdown.h"
#include "common/errors.h"
#include "common/model/describe.h"
#include "common/model/values.h"
#include "common/utf8.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace sopsidebar::cli {
namespace {

using google::protobuf::util::TimeUtil;

absl::Time ToTime(const google::protobuf::Timestamp& time) {
  return absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos());
}

std::string TitleOrName(const v1::Sop& sop, const std::string& name) {
  return sop.title().empty() ? name : sop.title();
}

std::string RoleSuffix(v1::Role role) {
  return role == v1::ROLE_UNSPECIFIED ? "" : absl::StrCat(" [", v1::Role_Name(role), "]");
}

std::string FormatRule(const v1::TargetingRule& rule) {
  std::vector<std::string> terms;
  if (rule.record_types_size() == 1) {
    terms.push_back(absl::StrCat("record_type = ", rule.record_types(0)));
  } else if (rule.record_types_size() > 1) {
    terms.push_back(
        absl::StrCat("record_type in [", absl::StrJoin(rule.record_types(), ", "), "]"));
  }
  for (const v1::Condition& c : rule.conditions()) terms.push_back(FormatCondition(c));
  return absl::StrJoin(terms, "; ");
}

std::string FormatDuration(const google::protobuf::Duration& d) {
  return HumanDuration(absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos()));
}

std::string FormatFieldUpdate(const v1::FieldUpdate& update) {
  std::string text = update.has_value()
                         ? absl::StrCat(update.field(), " = ", DescribeValue(update.value()))
                         : absl::StrCat(update.field(), " (any value)");
  if (!update.note().empty()) absl::StrAppend(&text, ": ", update.note());
  return text;
}

std::string FormatTouch(const v1::CadenceTouch& touch) {
  std::string text = absl::StrCat(v1::Channel_Name(touch.channel()), " ", touch.action());
  if (!touch.template_name().empty())
    absl::StrAppend(&text, " (template ", touch.template_name(), ")");
  if (touch.has_within()) absl::StrAppend(&text, " within ", FormatDuration(touch.within()));
  return text;
}

// Text is wrapped to this many columns.
constexpr size_t kTextWidth = 80;

std::string FormatAsset(const v1::Asset& asset) {
  std::string text = asset.title().empty() ? asset.id() : asset.title();
  if (!asset.kind().empty()) absl::StrAppend(&text, " [", asset.kind(), "]");
  if (!asset.uri().empty()) absl::StrAppend(&text, " ", asset.uri());
  return text;
}

// What a rep does in step `s`, each line starting with `indent`: the
// instructions, the CRM fields to set and the step's assets.
std::string FormatStepWork(const v1::Sop& sop, const v1::Step& s, absl::string_view indent) {
  std::string text;
  for (const std::string& line : RenderMarkdown(s.instructions(), indent, kTextWidth)) {
    absl::StrAppend(&text, TextLine(line));
  }
  for (const v1::FieldUpdate& u : s.required_updates()) {
    absl::StrAppend(&text, TextLine(absl::StrCat(indent, "set ", FormatFieldUpdate(u))));
  }
  for (const std::string& id : s.asset_ids()) {
    const auto asset = std::find_if(sop.assets().begin(), sop.assets().end(),
                                    [&id](const v1::Asset& a) { return a.id() == id; });
    absl::StrAppend(
        &text, TextLine(absl::StrCat(
                   indent, "asset: ", asset == sop.assets().end() ? id : FormatAsset(*asset))));
  }
  return text;
}

// Our field name -> the CRM field it came from, of a lookup's field_sources.
using FieldSources = std::map<std::string, std::string, std::less<>>;

std::string FormatMatch(int rank, const v1::SopMatch& match, const FieldSources& sources,
                        absl::Time now) {
  const v1::Sop& sop = match.sop_body();
  std::string text = TextLine(absl::StrCat(rank, ". ", TitleOrName(sop, match.sop()), "  (",
                                           match.sop(), " @ rev ", match.revision_id(), ")"));

  const v1::MatchExplanation& why = match.explanation();
  std::vector<std::string> terms;
  if (!why.matched_record_type().empty()) {
    terms.push_back(absl::StrCat("record_type = ", why.matched_record_type()));
  }
  for (const v1::MatchedCondition& mc : why.matched_conditions()) {
    const auto source = sources.find(mc.condition().field());
    terms.push_back(absl::StrCat(
        FormatCondition(mc.condition()), " (actual ",
        mc.has_actual() ? DescribeValue(mc.actual()) : "missing",
        source == sources.end() ? "" : absl::StrCat(", from ", source->second), ")"));
  }
  std::string rule = absl::StrCat("   matched rule ", why.rule_index() + 1);
  if (!why.rule_description().empty()) absl::StrAppend(&rule, " \"", why.rule_description(), "\"");
  absl::StrAppend(&rule, " (priority ", why.priority(), ", specificity ", why.specificity(), ")");
  if (!terms.empty()) absl::StrAppend(&rule, ": ", absl::StrJoin(terms, "; "));
  absl::StrAppend(&text, TextLine(rule));
  if (match.review_overdue()) {
    absl::StrAppend(&text,
                    TextLine(absl::StrCat(
                        "   review overdue",
                        match.has_next_review_time()
                            ? absl::StrCat(" since ", FormatTimestamp(match.next_review_time()))
                            : "",
                        ": this SOP may be out of date")));
  }

  const int step = match.current_step_index();
  if (step >= 0 && step < sop.steps_size()) {
    const v1::Step& s = sop.steps(step);
    std::string line = absl::StrCat("   current step ", step + 1, "/", sop.steps_size(), ": ",
                                    s.title(), RoleSuffix(s.responsible_role()));
    if (match.has_current_step_due_time()) {
      const absl::Time due = ToTime(match.current_step_due_time());
      absl::StrAppend(&line, due >= now ? absl::StrCat(" due in ", HumanDuration(due - now))
                                        : absl::StrCat(" overdue by ", HumanDuration(now - due)));
    }
    absl::StrAppend(&text, TextLine(line), FormatStepWork(sop, s, "     "));
  } else if (sop.steps_size() > 0) {
    absl::StrAppend(&text, "   no step applies to this record yet\n");
  }

  // The day only means something to SOPs that have a cadence.
  if (match.cadence_day() > 0 && sop.cadence_size() > 0) {
    std::vector<std::string> touches;
    for (const v1::CadenceTouch& touch : sop.cadence()) {
      if (touch.day() == match.cadence_day()) touches.push_back(FormatTouch(touch));
    }
    absl::StrAppend(&text, TextLine(absl::StrCat(
                               "   cadence day ", match.cadence_day(), ": ",
                               touches.empty() ? "no touch today" : absl::StrJoin(touches, "; "))));
  }
  return text;
}

// Columns padded to the widest cell, counting UTF-8 code points; the last
// column is not padded. Cells are escaped as TextLine escapes lines.
std::string Table(std::vector<std::vector<std::string>> rows) {
  for (auto& row : rows) {
    for (std::string& cell : row) cell = EscapeUnprintable(cell);
  }
  const std::vector<size_t> widths = ColumnWidths(rows);
  std::string text;
  for (const auto& row : rows) absl::StrAppend(&text, AlignedRow(row, widths), "\n");
  return text;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string JoinRoles(const google::protobuf::RepeatedField<int>& roles, absl::string_view sep) {
  return absl::StrJoin(roles, sep, [](std::string* out, int role) {
    absl::StrAppend(out, v1::Role_Name(static_cast<v1::Role>(role)));
  });
}

std::string TokenStatus(const v1::Token& token, absl::Time now) {
  if (token.has_revoke_time()) return "revoked";
  if (token.has_expire_time() && ToTime(token.expire_time()) <= now) return "expired";
  return "active";
}

bool IsIntegrationToken(const v1::Token& token) {
  return !token.crm().empty() || !token.delegable_roles().empty() ||
         !token.hubspot_portal_id().empty();
}

// The token's CRM, and its HubSpot portal when it has one.
std::string TokenCrm(const v1::Token& token) {
  if (token.hubspot_portal_id().empty()) return token.crm();
  return absl::StrCat(token.crm(), " portal ", token.hubspot_portal_id());
}

std::string Expiry(const v1::Token& token) {
  return token.has_expire_time() ? FormatTimestamp(token.expire_time()) : "never";
}

}  // namespace

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Zeros matter in responses (rule_index 0 is the first rule), so print them.
  options.always_print_primitive_fields = true;
  options.add_whitespace = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot print JSON: ", status.message().ToString()));
  }
  if (json.empty() || json.back() != '\n') json.push_back('\n');
  return json;
}

std::string TextLine(absl::string_view line) { return absl::StrCat(EscapeUnprintable(line), "\n"); }

std::string FormatFailure(const absl::Status& status) {
  const std::string code = absl::StatusCodeToString(status.code());
  const std::vector<error::FieldViolation> violations = error::FieldViolationsOf(status);
  if (violations.empty()) return TextLine(absl::StrCat(code, ": ", status.message()));
  std::string text;
  for (const error::FieldViolation& v : violations) {
    absl::StrAppend(
        &text, TextLine(v.field.empty() ? absl::StrCat(code, ": ", v.description)
                                        : absl::StrCat(code, ": ", v.field, ": ", v.description)));
  }
  return text;
}

std::string FormatCondition(const v1::Condition& c) {
  return EscapeUnprintable(DescribeCondition(c));
}

std::string FormatLookup(const v1::LookupSopsResponse& response, absl::Time now) {
  FieldSources sources;
  std::vector<std::string> mapped;
  for (const v1::FieldSource& source : response.field_sources()) {
    sources.emplace(source.field(), source.crm_field());
    mapped.push_back(absl::StrCat(source.field(), " (from ", source.crm_field(), ")"));
  }
  std::string text;
  if (response.matches().empty()) text = "No published SOP matches this record.\n";
  for (int i = 0; i < response.matches_size(); ++i) {
    absl::StrAppend(&text, FormatMatch(i + 1, response.matches(i), sources, now));
  }
  if (!mapped.empty()) {
    absl::StrAppend(&text, TextLine(absl::StrCat("fields from the CRM: ",
                                                 absl::StrJoin(mapped, ", "))));
  }
  return text;
}

std::string FormatNearMisses(const google::protobuf::RepeatedPtrField<v1::NearMiss>& misses) {
  if (misses.empty()) return "near misses: none\n";
  std::string text = "near misses:\n";
  for (const v1::NearMiss& miss : misses) {
    // A negative index: the rule failed on its record type.
    const std::string failed = miss.failed_condition_index() < 0
                                   ? std::string("record type")
                                   : FormatCondition(miss.failed_condition());
    std::string actual =
        miss.has_actual() ? absl::StrCat("actual ", DescribeValue(miss.actual())) : "missing";
    if (!miss.hint().empty()) absl::StrAppend(&actual, ": ", miss.hint());
    absl::StrAppend(&text, TextLine(absl::StrCat("  ", miss.sop(), " rule ", miss.rule_index() + 1,
                                                 " (priority ", miss.priority(), "): failed ",
                                                 failed, " (", actual, ")")));
  }
  return text;
}

std::string FormatCrmContext(const v1::CrmContext& context) {
  // A proto map iterates in no particular order.
  std::vector<std::pair<std::string, const google::protobuf::Value*>> fields;
  for (const auto& [name, value] : context.fields()) fields.emplace_back(name, &value);
  std::sort(fields.begin(), fields.end());
  std::string text = absl::StrCat("record_type=", context.record_type());
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&text, " ", name, "=", DescribeValue(*value));
  }
  return EscapeUnprintable(text);
}

std::string FormatTieWarning(const v1::TargetingTie& tie) {
  return TextLine(absl::StrCat("warning: ties with ", tie.sop(), " (rule ", tie.rule_index() + 1,
                               " vs its rule ", tie.other_rule_index() + 1, ", priority ",
                               tie.priority(), ", specificity ", tie.specificity(), "), e.g. ",
                               FormatCrmContext(tie.example_context())));
}

std::string FormatTies(const google::protobuf::RepeatedPtrField<v1::TargetingTie>& ties) {
  if (ties.empty()) return "no ties\n";
  std::string text;
  for (const v1::TargetingTie& tie : ties) {
    absl::StrAppend(
        &text,
        TextLine(absl::StrCat("ties with ", tie.sop(), " (rev ", OrDash(tie.revision_id()), ")")),
        Table({{"  rules:", absl::StrCat("this SOP's rule ", tie.rule_index() + 1, " vs its rule ",
                                         tie.other_rule_index() + 1)},
               {"  priority:", absl::StrCat(tie.priority())},
               {"  specificity:", absl::StrCat(tie.specificity())},
               {"  example:", FormatCrmContext(tie.example_context())}}));
  }
  return text;
}

std::string FormatSop(const v1::Sop& sop) {
  std::vector<std::vector<std::string>> head;
  auto add = [&head](const char* label, const std::string& value) {
    if (!value.empty()) head.push_back({absl::StrCat("  ", label), value});
  };
  add("Title:", sop.title());
  add("Owner:", sop.owner());
  add("Owner user:", sop.owner_user_id());
  std::string state = v1::Sop::State_Name(sop.state());
  if (!sop.revision_id().empty()) absl::StrAppend(&state, ", draft rev ", sop.revision_id());
  if (!sop.published_revision_id().empty()) {
    absl::StrAppend(&state, ", published rev ", sop.published_revision_id());
  }
  add("State:", state);
  add("Purpose:", sop.purpose());
  if (sop.review_cycle() != v1::REVIEW_CYCLE_UNSPECIFIED) {
    add("Review:", v1::ReviewCycle_Name(sop.review_cycle()));
  }
  if (sop.has_last_review_time()) add("Last review:", FormatTimestamp(sop.last_review_time()));
  if (sop.has_next_review_time()) add("Next review:", FormatTimestamp(sop.next_review_time()));
  add("Draft review:", FormatReviewState(sop));
  if (sop.has_review()) {
    const v1::DraftReview& review = sop.review();
    add("Submitted:",
        review.submitted_by().empty()
            ? ""
            : absl::StrCat("by ", review.submitted_by(), " (rev ", review.revision_id(), ")"));
    add("Approvals:",
        absl::StrJoin(review.approvals(), ", ", [](std::string* out, const v1::SignOff& s) {
          absl::StrAppend(out, v1::Role_Name(s.role()), " by ", s.user_id());
        }));
    if (review.has_rejection()) {
      const v1::SignOff& r = review.rejection();
      add("Rejected:", absl::StrCat("by ", r.user_id(), RoleSuffix(r.role()),
                                    r.comment().empty() ? "" : ": ", r.comment()));
    }
  }
  if (sop.funnel_stage() != v1::FUNNEL_STAGE_UNSPECIFIED) {
    add("Funnel:", v1::FunnelStage_Name(sop.funnel_stage()));
  }
  add("Tags:", absl::StrJoin(sop.tags(), ", "));
  add("Anchor:", sop.anchor_field());
  add("Visible to:", JoinRoles(sop.visibility_roles(), ", "));
  add("Approvers:", JoinRoles(sop.required_approver_roles(), ", "));
  if (sop.has_update_time()) add("Updated:", TimeUtil::ToString(sop.update_time()));

  std::string text =
      absl::StrCat(TextLine(sop.name().empty() ? "(unnamed SOP)" : sop.name()), Table(head));
  if (sop.targeting_rules_size() > 0) {
    absl::StrAppend(&text, "Targeting rules:\n");
    for (int i = 0; i < sop.targeting_rules_size(); ++i) {
      const v1::TargetingRule& rule = sop.targeting_rules(i);
      std::string line = absl::StrCat("  ", i + 1, ". priority ", rule.priority());
      if (!rule.description().empty()) absl::StrAppend(&line, " \"", rule.description(), "\"");
      absl::StrAppend(&text, TextLine(absl::StrCat(line, ": ", FormatRule(rule))));
    }
  }
  if (sop.steps_size() > 0) {
    absl::StrAppend(&text, "Steps:\n");
    for (const v1::Step& s : sop.steps()) {
      // Instructions run over several lines: an empty line ends each step.
      if (&s != &sop.steps(0)) text.push_back('\n');
      std::string line =
          absl::StrCat("  ", s.ordinal(), ". ", s.title(), RoleSuffix(s.responsible_role()));
      if (s.has_time_limit()) {
        absl::StrAppend(&line, " within ", FormatDuration(s.time_limit().duration()));
        if (!s.time_limit().anchor_event().empty()) {
          absl::StrAppend(&line, " of ", s.time_limit().anchor_event());
        }
      }
      absl::StrAppend(&text, TextLine(line));
      if (s.conditions_size() > 0) {
        absl::StrAppend(
            &text, TextLine(absl::StrCat(
                       "     when ", absl::StrJoin(s.conditions(), "; ",
                                                   [](std::string* out, const v1::Condition& c) {
                                                     absl::StrAppend(out, FormatCondition(c));
                                                   }))));
      }
      absl::StrAppend(&text, FormatStepWork(sop, s, "     "));
    }
  }
  if (sop.cadence_size() > 0) {
    absl::StrAppend(&text, "Cadence:\n");
    for (const v1::CadenceTouch& touch : sop.cadence()) {
      absl::StrAppend(&text,
                      TextLine(absl::StrCat("  day ", touch.day(), ": ", FormatTouch(touch))));
    }
  }
  if (sop.sla_terms_size() > 0) {
    absl::StrAppend(&text, "SLA terms:\n");
    for (const v1::SlaTerm& term : sop.sla_terms()) {
      std::string line = absl::StrCat(
          "  ", term.name(), " = ",
          term.has_duration() ? FormatDuration(term.duration()) : absl::StrCat(term.number()));
      if (!term.description().empty()) absl::StrAppend(&line, ": ", term.description());
      absl::StrAppend(&text, TextLine(line));
    }
  }
  if (sop.disqualification_codes_size() > 0) {
    absl::StrAppend(&text, "Disqualification codes:\n");
    for (const v1::DisqualificationCode& code : sop.disqualification_codes()) {
      absl::StrAppend(&text, TextLine(absl::StrCat("  ", code.code(), "  ", code.label())));
    }
  }
  if (sop.assets_size() > 0) {
    absl::StrAppend(&text, "Assets:\n");
    for (const v1::Asset& asset : sop.assets()) {
      absl::StrAppend(&text, TextLine(absl::StrCat("  ", asset.id(), ": ", FormatAsset(asset))));
    }
  }
  return text;
}

std::string FormatSopTable(const std::vector<v1::Sop>& sops) {
  if (sops.empty()) return "No SOPs.\n";
  std::vector<std::vector<std::string>> rows = {{"NAME", "STATE", "REV", "PUBLISHED", "TITLE"}};
  for (const v1::Sop& sop : sops) {
    std::string state = v1::Sop::State_Name(sop.state());
    // Lookups still serve the published revision: say that edits are not live.
    if (sop.state() == v1::Sop::PUBLISHED && sop.revision_id() != sop.published_revision_id()) {
      absl::StrAppend(&state, " (draft ahead)");
    }
    rows.push_back({sop.name(), state, OrDash(sop.revision_id()),
                    OrDash(sop.published_revision_id()), sop.title()});
  }
  // Catalogues without review keep their narrow table.
  const bool reviews =
      std::any_of(sops.begin(), sops.end(), [](const v1::Sop& sop) { return sop.has_review(); });
  if (reviews) {
    rows[0].insert(rows[0].begin() + 4, "REVIEW");
    for (size_t i = 0; i < sops.size(); ++i) {
      rows[i + 1].insert(rows[i + 1].begin() + 4, OrDash(FormatReviewState(sops[i])));
    }
  }
  return Table(std::move(rows));
}

std::string FormatReviewState(const v1::Sop& sop) {
  if (!sop.has_review() || sop.review().state() == v1::DraftReview::STATE_UNSPECIFIED) return "";
  const v1::DraftReview& review = sop.review();
  std::string text = v1::DraftReview::State_Name(review.state());
  if (review.state() == v1::DraftReview::IN_REVIEW && review.awaiting_roles_size() > 0) {
    absl::StrAppend(&text, " (awaiting ", JoinRoles(review.awaiting_roles(), ", "), ")");
  }
  return text;
}

bool ShouldColor(bool stdout_is_terminal, const char* no_color) {
  return stdout_is_terminal && (no_color == nullptr || no_color[0] == '\0');
}

std::string FormatSopDiff(const v1::SopDiff& diff, bool color) {
  static constexpr absl::string_view kRed = "\x1b[31m", kGreen = "\x1b[32m", kBold = "\x1b[1m",
                              kReset = "\x1b[0m";
  // A line of `prefix` and `body` (escaped), in `colour` when colouring.
  const auto line = [color](absl::string_view colour, absl::string_view prefix,
                            absl::string_view body) {
    const std::string text = EscapeUnprintable(absl::StrCat(prefix, body));
    if (!color || colour.empty()) return absl::StrCat(text, "\n");
    return absl::StrCat(colour, text, kReset, "\n");
  };
  std::string text = TextLine(absl::StrCat("diff ", diff.revision_a(), " -> ", diff.revision_b()));
  if (diff.changes_size() == 0) return absl::StrCat(text, "no changes\n");
  const std::string* section = nullptr;
  for (const v1::FieldChange& change : diff.changes()) {
    if (section == nullptr || *section != change.section()) {
      section = &change.section();
      absl::StrAppend(&text, line(kBold, "", absl::StrCat("[", change.section(), "]")));
    }
    absl::string_view kind = "changed";
    if (change.kind() == v1::FieldChange::ADDED) kind = "added";
    if (change.kind() == v1::FieldChange::REMOVED) kind = "removed";
    absl::StrAppend(&text, line("", "", absl::StrCat(kind, " ", change.path())));
    if (change.lines_size() > 0) {
      for (const v1::LineChange& l : change.lines()) {
        if (l.op() == v1::LineChange::ADDED) {
          absl::StrAppend(&text, line(kGreen, "  + ", l.text()));
        } else if (l.op() == v1::LineChange::REMOVED) {
          absl::StrAppend(&text, line(kRed, "  - ", l.text()));
        } else {
          absl::StrAppend(&text, line("", "    ", l.text()));
        }
      }
      continue;
    }
    if (!change.before().empty()) absl::StrAppend(&text, line(kRed, "  - ", change.before()));
    if (!change.after().empty()) absl::StrAppend(&text, line(kGreen, "  + ", change.after()));
  }
  return text;
}

std::string FormatComments(const std::vector<v1::Comment>& comments) {
  if (comments.empty()) return "No comments.\n";
  std::vector<std::vector<std::string>> rows = {
      {"ID", "STEP", "AUTHOR", "CREATED", "STATUS", "TEXT"}};
  for (const v1::Comment& c : comments) {
    const size_t slash = c.name().rfind('/');
    const std::string id = slash == std::string::npos ? c.name() : c.name().substr(slash + 1);
    std::string author = OrDash(c.author());
    if (!c.author_via().empty()) absl::StrAppend(&author, " via ", c.author_via());
    std::string body = c.text();
    if (const size_t newline = body.find('\n'); newline != std::string::npos) {
      body = absl::StrCat(body.substr(0, newline), " ...");
    }
    rows.push_back({id, c.step_ordinal() == 0 ? "-" : absl::StrCat(c.step_ordinal()), author,
                    c.has_create_time() ? FormatTimestamp(c.create_time()) : "-",
                    c.resolved() ? absl::StrCat("resolved by ", OrDash(c.resolved_by())) : "open",
                    body});
  }
  return Table(std::move(rows));
}

std::string FormatDueReviews(const std::vector<v1::Sop>& sops, absl::Time now) {
  if (sops.empty()) return "No reviews due.\n";
  std::vector<std::vector<std::string>> rows = {{"NAME", "NEXT REVIEW", "DUE", "OWNER", "TITLE"}};
  for (const v1::Sop& sop : sops) {
    std::string due = "-";
    if (sop.has_next_review_time()) {
      const absl::Time next = ToTime(sop.next_review_time());
      due = next <= now ? absl::StrCat("overdue ", HumanDuration(now - next))
                        : absl::StrCat("in ", HumanDuration(next - now));
    }
    rows.push_back({sop.name(),
                    sop.has_next_review_time() ? FormatTimestamp(sop.next_review_time()) : "-", due,
                    OrDash(sop.owner()), sop.title()});
  }
  return Table(std::move(rows));
}

std::string FormatSearchResults(const v1::SearchSopsResponse& response, bool color) {
  std::string text;
  if (!response.corrected_query().empty()) {
    absl::StrAppend(&text, "Showing results for: ", EscapeUnprintable(response.corrected_query()),
                    "\n");
  }
  if (response.results().empty()) return absl::StrCat(text, "No SOPs found.\n");
  for (const v1::SearchResult& result : response.results()) {
    absl::StrAppend(&text, absl::StrFormat("%6.2f", result.score()), "  ",
                    EscapeUnprintable(result.sop()), "  ", EscapeUnprintable(result.title()), "\n");
    std::string excerpt;
    for (const v1::SnippetPart& part : result.snippet()) {
      // Line breaks between the SOP's fields read as spaces in one line.
      std::string words = EscapeUnprintable(absl::StrReplaceAll(part.text(), {{"\n", " "}}));
      if (!part.highlighted()) {
        absl::StrAppend(&excerpt, words);
      } else if (color) {
        absl::StrAppend(&excerpt, "\x1b[1m", words, "\x1b[0m");
      } else {
        absl::StrAppend(&excerpt, "[", words, "]");
      }
    }
    if (!excerpt.empty()) absl::StrAppend(&text, "        ", excerpt, "\n");
  }
  return text;
}

std::string FormatAuditEvents(const std::vector<v1::AuditEvent>& events) {
  if (events.empty()) return "No audit events.\n";
  std::vector<std::vector<std::string>> rows = {
      {"SEQ", "TIME", "ACTOR", "ACTION", "RESOURCE", "DETAIL"}};
  for (const v1::AuditEvent& e : events) {
    std::string actor = OrDash(e.actor());
    if (!e.actor_via().empty()) absl::StrAppend(&actor, " via ", e.actor_via());
    std::string resource = e.resource();
    if (!e.revision_id().empty()) absl::StrAppend(&resource, " @ rev ", e.revision_id());
    rows.push_back({absl::StrCat(e.sequence()), FormatTimestamp(e.time()), actor, e.action(),
                    OrDash(resource), e.detail()});
  }
  return Table(std::move(rows));
}

std::string FormatAuditHead(const v1::AuditHead& head) {
  if (head.sequence() == 0) return TextLine(absl::StrCat(head.org(), ": no audit events yet"));
  return TextLine(absl::StrCat(head.org(), ": sequence ", head.sequence(), ", hash ", head.hash()));
}

std::string FormatBackup(absl::string_view dest, const v1::BackupManifest& manifest,
                         absl::Duration elapsed) {
  int64_t bytes = 0;
  for (const v1::BackupFile& file : manifest.files()) bytes += file.size_bytes();
  const v1::BackupContents& c = manifest.contents();
  std::string text =
      TextLine(absl::StrCat("backup written to ", dest, ": ", manifest.files_size(), " files, ",
                            bytes, " bytes in ", absl::ToInt64Milliseconds(elapsed), " ms"));
  absl::StrAppend(
      &text, TextLine(absl::StrCat("holds ", c.orgs(), " orgs, ", c.sops(), " SOPs, ",
                                   c.revisions(), " revisions, ", c.tokens(), " tokens, ",
                                   c.comments(), " comments, ", c.audit_events(), " audit events, ",
                                   c.analytics_events(), " analytics events")));
  for (const v1::AuditHead& head : c.audit_heads()) {
    absl::StrAppend(&text, "audit head ", FormatAuditHead(head));
  }
  return text;
}

std::string FormatAuditVerification(const v1::VerifyAuditLogResponse& response) {
  if (response.intact()) {
    return TextLine(absl::StrCat("intact: ", response.events_checked(),
                                 " events checked, head at sequence ", response.head().sequence(),
                                 " (hash ", OrDash(response.head().hash()), ")"));
  }
  return absl::StrCat(TextLine(absl::StrCat("BROKEN at sequence ", response.first_broken_sequence(),
                                            ": ", response.problem())),
                      TextLine(absl::StrCat(response.events_checked(), " events checked")));
}

std::string FormatRevisions(const std::vector<v1::SopRevision>& revisions) {
  if (revisions.empty()) return "No revisions.\n";
  std::vector<std::vector<std::string>> rows = {{"REVISION", "TIME", "AUTHOR", "CHANGE"}};
  for (const v1::SopRevision& r : revisions) {
    const size_t slash = r.name().rfind('/');
    rows.push_back({slash == std::string::npos ? r.name() : r.name().substr(slash + 1),
                    FormatTimestamp(r.create_time()), OrDash(r.author()), r.change_summary()});
  }
  return Table(std::move(rows));
}

std::string FormatTimestamp(const google::protobuf::Timestamp& time) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(time.seconds()),
                          absl::UTCTimeZone());
}

std::string FormatTokenTable(const std::vector<v1::Token>& tokens, absl::Time now) {
  if (tokens.empty()) return "No tokens.\n";
  // Integration tokens add two columns; tables of people's tokens stay narrow.
  const bool integrations = std::any_of(tokens.begin(), tokens.end(), IsIntegrationToken);
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "USER", "ROLES", "CREATED", "EXPIRES", "STATUS"}};
  if (integrations) rows[0].insert(rows[0].begin() + 3, {"CRM", "DELEGABLE"});
  for (const v1::Token& token : tokens) {
    std::vector<std::string> row = {
        token.name(), token.user_id(), OrDash(JoinRoles(token.roles(), ",")),
        token.has_create_time() ? FormatTimestamp(token.create_time()) : "-", Expiry(token),
        TokenStatus(token, now)};
    if (integrations) {
      row.insert(row.begin() + 3,
                 {OrDash(TokenCrm(token)), OrDash(JoinRoles(token.delegable_roles(), ","))});
    }
    rows.push_back(std::move(row));
  }
  return Table(std::move(rows));
}

std::string FormatCreatedToken(const v1::Token& token) {
  std::string text =
      absl::StrCat(TextLine(absl::StrCat("Created ", token.name(), " for ", token.user_id())),
                   "  roles:   ", OrDash(JoinRoles(token.roles(), ", ")), "\n");
  if (IsIntegrationToken(token)) {
    absl::StrAppend(&text, TextLine(absl::StrCat("  crm:     ", OrDash(TokenCrm(token)))),
                    "  delegable roles: ", OrDash(JoinRoles(token.delegable_roles(), ", ")),
                    "\n");
  }
  absl::StrAppend(&text, "  expires: ", Expiry(token), "\n",
                  "The secret (on stdout) is shown only this once.\n");
  return text;
}

std::string FormatWhoAmI(const v1::WhoAmIResponse& who) {
  std::vector<std::vector<std::string>> rows = {{"Org:", who.org()}, {"User:", who.user_id()}};
  if (!who.via().empty()) rows.push_back({"Via:", who.via()});
  rows.insert(rows.end(), {{"Display name:", OrDash(who.display_name())},
                           {"Roles:", OrDash(JoinRoles(who.roles(), ", "))},
                           {"Token:", OrDash(who.token())},
                           {"Server admin:", who.server_admin() ? "yes" : "no"}});
  return Table(std::move(rows));
}

std::string FormatRoleMap(const v1::RoleMap& map) {
  std::string text = TextLine(map.name());
  if (map.has_update_time()) {
    absl::StrAppend(&text, "Updated: ", FormatTimestamp(map.update_time()), "\n");
  }
  if (map.entries().empty()) {
    return absl::StrCat(text, "No entries: every viewer gets no role.\n");
  }
  std::vector<std::vector<std::string>> rows = {{"CRM ROLE", "", "ROLES"}};
  for (const v1::RoleMapEntry& entry : map.entries()) {
    rows.push_back({entry.crm_role(), "->", OrDash(JoinRoles(entry.roles(), ", "))});
  }
  return absl::StrCat(text, Table(std::move(rows)));
}

std::string FormatFieldMap(const v1::FieldMap& map) {
  std::string text = TextLine(map.name());
  if (map.is_default()) {
    absl::StrAppend(&text, "(default map)\n");
  } else if (map.has_update_time()) {
    absl::StrAppend(&text, "Updated: ", FormatTimestamp(map.update_time()), "\n");
  }
  if (map.fields().empty()) {
    absl::StrAppend(&text, "No fields: lookups get no field from this CRM.\n");
  } else {
    std::vector<std::vector<std::string>> rows = {{"CRM FIELD", "FIELD", "TYPE"}};
    for (const v1::FieldMapEntry& entry : map.fields()) {
      rows.push_back({entry.crm_field(), entry.field(),
                      std::string(absl::StripPrefix(v1::FieldType_Name(entry.type()),
                                                    "FIELD_TYPE_"))});
    }
    absl::StrAppend(&text, Table(std::move(rows)));
  }
  if (!map.record_types().empty()) {
    std::vector<std::vector<std::string>> rows = {{"CRM OBJECT", "RECORD TYPE"}};
    for (const v1::RecordTypeMapEntry& entry : map.record_types()) {
      rows.push_back({entry.crm_object(), entry.record_type()});
    }
    absl::StrAppend(&text, "\n", Table(std::move(rows)));
  }
  return text;
}

std::string FormatSlaRequirement(const v1::SlaRequirement& r) {
  auto bound = [](bool number, double n, const google::protobuf::Duration& d) {
    return number ? absl::StrCat(n)
                  : absl::FormatDuration(absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos()));
  };
  const bool has_min = r.min_case() != v1::SlaRequirement::MIN_NOT_SET;
  const bool has_max = r.max_case() != v1::SlaRequirement::MAX_NOT_SET;
  const std::string min =
      bound(r.min_case() == v1::SlaRequirement::kMinNumber, r.min_number(), r.min_duration());
  const std::string max =
      bound(r.max_case() == v1::SlaRequirement::kMaxNumber, r.max_number(), r.max_duration());
  if (has_min && has_max) return absl::StrCat(r.term(), " between ", min, " and ", max);
  if (has_min) return absl::StrCat(r.term(), " >= ", min);
  if (has_max) return absl::StrCat(r.term(), " <= ", max);
  return absl::StrCat(r.term(), " set");
}

std::string FormatTemplateTable(const std::vector<v1::SopTemplate>& templates) {
  if (templates.empty()) return "No templates.\n";
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "PLACEHOLDERS", "REQUIRED", "SLA", "TITLE"}};
  for (const v1::SopTemplate& t : templates) {
    rows.push_back({t.name(), absl::StrCat(t.placeholders_size()),
                    absl::StrCat(t.required_fields_size()), absl::StrCat(t.sla_requirements_size()),
                    t.title()});
  }
  return Table(std::move(rows));
}

std::string FormatTemplate(const v1::SopTemplate& tmpl) {
  std::string text = TextLine(absl::StrCat(tmpl.title(), "  (", tmpl.name(), ")"));
  if (!tmpl.description().empty()) absl::StrAppend(&text, TextLine(tmpl.description()));
  if (!tmpl.placeholders().empty()) {
    absl::StrAppend(&text, "\nPlaceholders:\n");
    for (const v1::TemplatePlaceholder& p : tmpl.placeholders()) {
      std::string line = absl::StrCat("  {{", p.key(), "}}");
      if (!p.description().empty()) absl::StrAppend(&line, "  ", p.description());
      absl::StrAppend(&line, p.default_value().empty()
                                 ? std::string("  (required)")
                                 : absl::StrCat("  (default: ", p.default_value(), ")"));
      absl::StrAppend(&text, TextLine(line));
    }
  }
  if (!tmpl.required_fields().empty() || !tmpl.sla_requirements().empty()) {
    absl::StrAppend(&text, "\nRequired before submitting:\n");
    for (const std::string& field : tmpl.required_fields()) {
      absl::StrAppend(&text, TextLine(absl::StrCat("  ", field, " set")));
    }
    for (const v1::SlaRequirement& r : tmpl.sla_requirements()) {
      std::string line = absl::StrCat("  ", FormatSlaRequirement(r));
      if (!r.description().empty()) absl::StrAppend(&line, "  (", r.description(), ")");
      absl::StrAppend(&text, TextLine(line));
    }
  }
  absl::StrAppend(&text, "\nSOP:\n", FormatSop(tmpl.sop()));
  return text;
}

std::string FormatOrgTable(const std::vector<v1::Org>& orgs) {
  if (orgs.empty()) return "No orgs.\n";
  std::vector<std::vector<std::string>> rows = {{"NAME", "DISPLAY NAME", "CREATED"}};
  for (const v1::Org& org : orgs) {
    rows.push_back({org.name(), OrDash(org.display_name()),
                    org.has_create_time() ? FormatTimestamp(org.create_time()) : "-"});
  }
  return Table(std::move(rows));
}

namespace {

std::vector<std::string> KeyHeader(const std::vector<v1::AnalyticsDimension>& group_by) {
  std::vector<std::string> header;
  for (v1::AnalyticsDimension d : group_by) {
    header.push_back(absl::AsciiStrToLower(v1::AnalyticsDimension_Name(d)));
  }
  return header;
}

std::vector<std::string> KeyCells(const v1::ReportKey& key) {
  return {key.values().begin(), key.values().end()};
}

std::string Percent(double ratio) { return absl::StrFormat("%.1f%%", 100 * ratio); }

}  // namespace

ReportRows SlaReportRows(const v1::SlaReport& report,
                         const std::vector<v1::AnalyticsDimension>& group_by) {
  ReportRows rows = {KeyHeader(group_by)};
  for (const char* name : {"first_contacts", "within_window", "compliance", "p50_ms", "p90_ms"}) {
    rows[0].push_back(name);
  }
  for (const v1::SlaReport::Row& row : report.rows()) {
    std::vector<std::string> cells = KeyCells(row.key());
    cells.push_back(absl::StrCat(row.first_contacts()));
    cells.push_back(absl::StrCat(row.within_window()));
    cells.push_back(Percent(row.compliance()));
    cells.push_back(absl::StrCat(row.p50_ms()));
    cells.push_back(absl::StrCat(row.p90_ms()));
    rows.push_back(std::move(cells));
  }
  return rows;
}

ReportRows CodeReportRows(const v1::CodeReport& report,
                          const std::vector<v1::AnalyticsDimension>& group_by) {
  std::set<std::string> codes;
  for (const v1::CodeReport::Row& row : report.rows()) {
    for (const auto& [code, count] : row.by_code()) codes.insert(code);
  }
  ReportRows rows = {KeyHeader(group_by)};
  for (const char* name : {"records", "disqualified", "rejection_rate"}) rows[0].push_back(name);
  rows[0].insert(rows[0].end(), codes.begin(), codes.end());
  for (const v1::CodeReport::Row& row : report.rows()) {
    std::vector<std::string> cells = KeyCells(row.key());
    cells.push_back(absl::StrCat(row.records()));
    cells.push_back(absl::StrCat(row.disqualified()));
    cells.push_back(Percent(row.rejection_rate()));
    for (const std::string& code : codes) {
      auto it = row.by_code().find(code);
      cells.push_back(absl::StrCat(it == row.by_code().end() ? 0 : it->second));
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

ReportRows UsageReportRows(const v1::UsageReport& report,
                           const std::vector<v1::AnalyticsDimension>& group_by) {
  ReportRows rows = {KeyHeader(group_by)};
  for (const char* name :
       {"impressions", "records", "steps_completed", "steps_by_ordinal", "assets_opened"}) {
    rows[0].push_back(name);
  }
  for (const v1::UsageReport::Row& row : report.rows()) {
    std::vector<std::string> cells = KeyCells(row.key());
    cells.push_back(absl::StrCat(row.impressions()));
    cells.push_back(absl::StrCat(row.records()));
    cells.push_back(absl::StrCat(row.steps_completed()));
    const std::map<int, int64_t> by_step(row.by_step().begin(), row.by_step().end());
    cells.push_back(absl::StrJoin(by_step, " ", absl::PairFormatter(":")));
    cells.push_back(absl::StrCat(row.assets_opened()));
    rows.push_back(std::move(cells));
  }
  return rows;
}

ReportRows CoverageReportRows(const v1::CoverageReport& report,
                              const std::vector<v1::AnalyticsDimension>& group_by) {
  ReportRows rows = {KeyHeader(group_by)};
  rows[0].push_back("unmatched_lookups");
  for (const v1::CoverageReport::Row& row : report.rows()) {
    std::vector<std::string> cells = KeyCells(row.key());
    cells.push_back(absl::StrCat(row.unmatched_lookups()));
    rows.push_back(std::move(cells));
  }
  return rows;
}

std::string FormatReport(const ReportRows& rows, absl::string_view start_day,
                         absl::string_view end_day) {
  if (rows.size() <= 1) {
    return TextLine(absl::StrCat("No figures for ", start_day, " to ", end_day, "."));
  }
  ReportRows upper = rows;
  for (std::string& cell : upper[0]) cell = absl::AsciiStrToUpper(cell);
  return absl::StrCat(TextLine(absl::StrCat(start_day, " to ", end_day)), Table(std::move(upper)));
}

std::string FormatMissingNodes(const v1::ReportNodes& nodes) {
  std::string lines;
  for (const v1::ReportNodes::Missing& missing : nodes.missing()) {
    absl::StrAppend(&lines,
                    TextLine(absl::StrCat("warning: partial report: ", missing.node(), " (",
                                          missing.address(), ") is missing: ", missing.reason())));
  }
  return lines;
}

std::string FormatCsv(const ReportRows& rows) {
  std::string csv;
  for (const std::vector<std::string>& row : rows) {
    std::vector<std::string> fields;
    for (std::string cell : row) {
      if (!cell.empty() && absl::string_view("=+-@").find(cell[0]) != absl::string_view::npos) {
        cell.insert(0, "'");
      }
      if (cell.find_first_of(",\"\r\n") != std::string::npos) {
        cell = absl::StrCat("\"", absl::StrReplaceAll(cell, {{"\"", "\"\""}}), "\"");
      }
      fields.push_back(std::move(cell));
    }
    absl::StrAppend(&csv, absl::StrJoin(fields, ","), "\r\n");
  }
  return csv;
}

namespace {

// "sop-id: step", "sop-id" or "-".
std::string PreviewCell(const std::string& sop, const std::string& step) {
  if (sop.empty()) return "-";
  const size_t slash = sop.rfind('/');
  const std::string id = slash == std::string::npos ? sop : sop.substr(slash + 1);
  return step.empty() ? id : absl::StrCat(id, ": ", step);
}

}  // namespace

std::string FormatPreview(const v1::PreviewTargetingResponse& response) {
  std::vector<std::vector<std::string>> rows = {{"RECORD", "CHANGE", "NOW", "", "WITH THE DRAFT"}};
  for (const v1::RecordPreview& r : response.records()) {
    rows.push_back({r.record_id(), v1::RecordPreview::Change_Name(r.change()),
                    PreviewCell(r.current_sop(), r.current_step()), "->",
                    PreviewCell(r.preview_sop(), r.preview_step())});
  }
  return absl::StrCat(
      Table(std::move(rows)),
      TextLine(absl::StrCat("gained ", response.gained(), ", lost ", response.lost(), ", reranked ",
                            response.reranked(), ", unchanged ", response.unchanged(),
                            ", not matched ", response.not_matched(), " (", response.records_size(),
                            " records)")));
}

}  // namespace sopsidebar::cli
