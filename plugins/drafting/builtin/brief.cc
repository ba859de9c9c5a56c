#include "plugins/drafting/builtin/brief.h"

#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"

namespace sopsidebar {
namespace {

// One clause of the brief: its number (1-based, in reading order), its text
// with white space collapsed, and that text in lower case (same length, so
// positions agree).
struct Clause {
  int number = 0;
  std::string text;
  std::string lower;
};

std::string CollapseWhitespace(absl::string_view text) {
  return absl::StrJoin(absl::StrSplit(text, absl::ByAnyChar(" \t\r"), absl::SkipEmpty()), " ");
}

bool StartsWithDisqualify(absl::string_view clause) {
  return absl::StartsWithIgnoreCase(absl::StripAsciiWhitespace(clause), "disqualify");
}

// Lines and semicolons end clauses; commas do too, except inside a
// `disqualify:` clause, which takes the rest of its line or segment.
std::vector<Clause> SplitClauses(absl::string_view text) {
  std::vector<Clause> clauses;
  auto add = [&clauses](absl::string_view raw) {
    std::string collapsed = CollapseWhitespace(raw);
    if (collapsed.empty()) return;
    Clause clause;
    clause.number = static_cast<int>(clauses.size()) + 1;
    clause.lower = absl::AsciiStrToLower(collapsed);
    clause.text = std::move(collapsed);
    clauses.push_back(std::move(clause));
  };
  for (absl::string_view segment : absl::StrSplit(text, absl::ByAnyChar("\n;"))) {
    std::vector<absl::string_view> parts = absl::StrSplit(segment, ',');
    for (size_t i = 0; i < parts.size(); ++i) {
      if (StartsWithDisqualify(parts[i])) {
        // The rest of the segment, commas included.
        add(segment.substr(parts[i].data() - segment.data()));
        break;
      }
      add(parts[i]);
    }
  }
  return clauses;
}

// Collects the problems; each names its clause.
class Problems {
 public:
  void Add(const Clause& clause, absl::string_view reason) {
    violations_.push_back({"brief", absl::StrCat("clause ", clause.number, " ",
                                                 error::QuoteInput(clause.text), ": ", reason)});
  }
  void AddMissing(absl::string_view reason) {
    violations_.push_back({"brief", std::string(reason)});
  }
  bool empty() const { return violations_.empty(); }
  absl::Status ToStatus() && { return error::BriefNotUnderstood(std::move(violations_)); }

 private:
  std::vector<error::FieldViolation> violations_;
};

// Remembers which clause set each kind of value, so that a later clause
// setting it differently is reported as a contradiction.
class Setter {
 public:
  explicit Setter(Problems* problems) : problems_(problems) {}

  // Sets `*target` to `value` unless an earlier clause of `kind` set it to
  // another value; then reports the contradiction and returns false.
  template <typename T>
  bool Set(absl::string_view kind, const Clause& clause, T* target, const T& value) {
    auto [it, inserted] = first_.emplace(std::string(kind), clause);
    if (!inserted && !(*target == value)) {
      problems_->Add(clause, absl::StrCat("contradicts clause ", it->second.number, " ",
                                          error::QuoteInput(it->second.text)));
      return false;
    }
    *target = value;
    return true;
  }

 private:
  Problems* problems_;
  std::map<std::string, Clause> first_;
};

std::optional<absl::Duration> UnitDuration(absl::string_view unit) {
  if (absl::StartsWith(unit, "min")) return absl::Minutes(1);
  if (absl::StartsWith(unit, "h")) return absl::Hours(1);
  if (absl::StartsWith(unit, "day")) return absl::Hours(24);
  return std::nullopt;
}

std::optional<v1::Channel> ChannelNamed(absl::string_view word) {
  if (word == "call" || word == "calls" || word == "phone") return v1::CALL;
  if (word == "email" || word == "emails" || word == "e-mail") return v1::EMAIL;
  if (word == "linkedin") return v1::LINKEDIN;
  if (word == "sms" || word == "text") return v1::SMS;
  if (word == "video") return v1::VIDEO;
  return std::nullopt;
}

std::optional<v1::FunnelStage> StageNamed(absl::string_view word) {
  if (word == "lead" || word == "leads") return v1::LEAD;
  if (word == "mql" || word == "mqls") return v1::MQL;
  if (word == "sql" || word == "sqls") return v1::SQL;
  if (word == "nurture") return v1::NURTURE;
  if (word == "opportunity" || word == "opportunities") return v1::OPPORTUNITY;
  if (word == "customer" || word == "customers") return v1::CUSTOMER;
  return std::nullopt;
}

std::optional<LeadSource> SourceNamed(absl::string_view word) {
  if (word == "inbound") return LeadSource::kInbound;
  if (word == "outbound") return LeadSource::kOutbound;
  if (word == "partner") return LeadSource::kPartner;
  return std::nullopt;
}

std::optional<v1::Role> RoleNamed(absl::string_view words) {
  if (words == "sdr") return v1::SDR;
  if (words == "ae" || words == "account executive") return v1::AE;
  if (words == "sales manager") return v1::SALES_MANAGER;
  if (words == "sales ops") return v1::SALES_OPS;
  if (words == "marketing") return v1::MARKETING;
  return std::nullopt;
}

// A disqualification reason becomes a code's label.
constexpr size_t kMaxReasonChars = 80;

constexpr absl::string_view kChannelWords = "call, email, LinkedIn, SMS or video";

// Each recogniser returns false when `clause` is not of its kind; when it
// is, it reports any problem and returns true.
class BriefReader {
 public:
  explicit BriefReader(Problems* problems) : problems_(problems), setter_(problems) {}

  void Read(const Clause& clause) {
    if (Cadence(clause) || Stage(clause) || FirstContact(clause) || Channels(clause) ||
        Owner(clause) || Title(clause) || Role(clause) || MinScore(clause) || Disqualify(clause)) {
      return;
    }
    problems_->Add(clause,
                   "not a clause the built-in drafter knows (stage, cadence, channels, first "
                   "contact, owner, title, role, min score, disqualify: see docs/AUTHORING.md)");
  }

  Brief Finish() {
    if (brief_.stage == v1::FUNNEL_STAGE_UNSPECIFIED) {
      problems_->AddMissing(
          "names no funnel stage: add one of lead, MQL, SQL or nurture "
          "(e.g. \"inbound MQL\")");
    }
    if (brief_.touches == 0) {
      problems_->AddMissing("names no cadence: add e.g. \"5-touch cadence over 5 days\"");
    }
    if (brief_.channels.empty()) {
      problems_->AddMissing("names no channels: add e.g. \"channels call/email/LinkedIn\"");
    }
    return std::move(brief_);
  }

 private:
  bool Cadence(const Clause& clause) {
    static const std::regex kCadence(
        R"(^(\d{1,6})[- ]?touch(?:es)?(?: outreach)?(?: cadence)?(?: (?:over|in|across) (\d{1,6}) (?:business |working )?days?)?$)");
    std::smatch m;
    if (!std::regex_match(clause.lower, m, kCadence)) return false;
    int touches = 0, days = 0;
    absl::SimpleAtoi(m.str(1), &touches);
    if (!m[2].matched) {
      problems_->Add(clause, "say over how many days, e.g. \"5-touch cadence over 5 days\"");
      return true;
    }
    absl::SimpleAtoi(m.str(2), &days);
    if (touches < 1 || touches > kMaxBriefTouches) {
      problems_->Add(clause, absl::StrCat("a cadence has 1 to ", kMaxBriefTouches, " touches"));
    } else if (days < 1 || days > kMaxBriefDays) {
      problems_->Add(clause, absl::StrCat("a cadence runs over 1 to ", kMaxBriefDays, " days"));
    } else if (touches > kMaxTouchesPerDay * days) {
      problems_->Add(clause, absl::StrCat("more than ", kMaxTouchesPerDay,
                                          " touches a day; spread them over more days"));
    } else {
      std::pair<int, int> cadence(brief_.touches, brief_.days);
      if (setter_.Set("cadence", clause, &cadence, std::make_pair(touches, days))) {
        std::tie(brief_.touches, brief_.days) = cadence;
      }
    }
    return true;
  }

  bool Stage(const Clause& clause) {
    static const std::regex kStage(R"(^(?:(inbound|outbound|partner) )?(\w+)$)");
    std::smatch m;
    if (!std::regex_match(clause.lower, m, kStage)) return false;
    std::optional<LeadSource> source = SourceNamed(m.str(1));
    std::optional<v1::FunnelStage> stage = StageNamed(m.str(2));
    if (!m[1].matched && !stage.has_value()) {
      source = SourceNamed(m.str(2));  // "inbound" alone
      if (!source.has_value()) return false;
    } else if (!stage.has_value()) {
      return false;
    }
    if (stage == v1::OPPORTUNITY || stage == v1::CUSTOMER) {
      problems_->Add(clause,
                     "the built-in drafter drafts lead SOPs (lead, MQL, SQL, nurture); draft "
                     "opportunity and customer SOPs with a model drafter or write the file");
      return true;
    }
    if (stage.has_value()) {
      setter_.Set("stage", clause, &brief_.stage, *stage);
    }
    if (source.has_value()) {
      setter_.Set("source", clause, &brief_.source, *source);
    }
    return true;
  }

  bool FirstContact(const Clause& clause) {
    static const std::regex kBefore(
        R"(^(\d{1,6})[- ]?(minutes?|mins?|hours?|hrs?|h|days?) first (?:contact|touch|call|response)$)");
    static const std::regex kAfter(
        R"(^first (?:contact|touch|call|response) (?:within|in|under) (\d{1,6}) ?(minutes?|mins?|hours?|hrs?|h|days?)$)");
    std::smatch m;
    if (!std::regex_match(clause.lower, m, kBefore) && !std::regex_match(clause.lower, m, kAfter)) {
      if (absl::StrContains(clause.lower, "first contact")) {
        problems_->Add(clause,
                       "write it as \"5-minute first contact\" or \"first contact within "
                       "2 hours\" (minutes, hours or days)");
        return true;
      }
      return false;
    }
    int amount = 0;
    absl::SimpleAtoi(m.str(1), &amount);
    const absl::Duration window = amount * *UnitDuration(m.str(2));
    if (window <= absl::ZeroDuration()) {
      problems_->Add(clause, "the first-contact window must be longer than zero");
    } else if (window > absl::Hours(24)) {
      problems_->Add(clause, "the first contact is the cadence's day-1 touch: at most 24 hours");
    } else {
      setter_.Set("first contact", clause, &brief_.first_contact,
                  std::optional<absl::Duration>(window));
    }
    return true;
  }

  bool Channels(const Clause& clause) {
    absl::string_view rest = clause.lower;
    const bool named =
        absl::ConsumePrefix(&rest, "channels") || absl::ConsumePrefix(&rest, "channel");
    if (named) {
      absl::ConsumePrefix(&rest, ":");
      rest = absl::StripAsciiWhitespace(rest);
    }
    std::vector<v1::Channel> channels;
    std::vector<std::string> unknown;
    for (absl::string_view word : absl::StrSplit(rest, absl::ByAnyChar("/+&"))) {
      for (absl::string_view part : absl::StrSplit(word, " and ")) {
        part = absl::StripAsciiWhitespace(part);
        const std::optional<v1::Channel> channel = ChannelNamed(part);
        if (channel.has_value()) {
          channels.push_back(*channel);
        } else {
          unknown.push_back(error::QuoteInput(part));
        }
      }
    }
    // Without the word "channels", only a clause made of channel names is one.
    if (!named && (!unknown.empty() || channels.empty())) return false;
    if (!unknown.empty()) {
      problems_->Add(clause, absl::StrCat("unknown channel ", absl::StrJoin(unknown, ", "),
                                          "; use ", kChannelWords));
      return true;
    }
    std::set<v1::Channel> seen;
    for (v1::Channel channel : channels) {
      if (!seen.insert(channel).second) {
        problems_->Add(clause, absl::StrCat("names channel ", v1::Channel_Name(channel), " twice"));
        return true;
      }
    }
    setter_.Set("channels", clause, &brief_.channels, channels);
    return true;
  }

  // "<keyword>[:] <free text>": the text, as written.
  static std::optional<std::string> Labelled(const Clause& clause, absl::string_view keyword) {
    absl::string_view lower = clause.lower;
    if (!absl::ConsumePrefix(&lower, keyword)) return std::nullopt;
    if (!lower.empty() && lower[0] != ' ' && lower[0] != ':') return std::nullopt;
    absl::string_view text = absl::string_view(clause.text).substr(keyword.size());
    absl::ConsumePrefix(&text, ":");
    return std::string(absl::StripAsciiWhitespace(text));
  }

  bool Owner(const Clause& clause) {
    const std::optional<std::string> owner = Labelled(clause, "owner");
    if (!owner.has_value()) return false;
    if (owner->empty()) {
      problems_->Add(clause, "name the owner, e.g. \"owner Sales Operations Manager\"");
    } else {
      setter_.Set("owner", clause, &brief_.owner, *owner);
    }
    return true;
  }

  bool Title(const Clause& clause) {
    const std::optional<std::string> title = Labelled(clause, "title");
    if (!title.has_value()) return false;
    if (title->empty()) {
      problems_->Add(clause, "give the title after \"title:\"");
    } else {
      setter_.Set("title", clause, &brief_.title, *title);
    }
    return true;
  }

  bool Role(const Clause& clause) {
    std::optional<std::string> words = Labelled(clause, "role");
    if (!words.has_value()) words = Labelled(clause, "responsible");
    if (!words.has_value()) return false;
    const std::optional<v1::Role> role = RoleNamed(absl::AsciiStrToLower(*words));
    if (!role.has_value()) {
      problems_->Add(clause, "unknown role; use SDR, AE, sales manager, sales ops or marketing");
    } else {
      setter_.Set("role", clause, &brief_.role, role);
    }
    return true;
  }

  bool MinScore(const Clause& clause) {
    static const std::regex kScore(
        R"(^(?:min(?:imum)? (?:lead )?score|(?:lead )?score (?:at least|>=|≥)) ?(-?\d{1,6})$)");
    std::smatch m;
    if (!std::regex_match(clause.lower, m, kScore)) return false;
    int score = -1;
    absl::SimpleAtoi(m.str(1), &score);
    if (score < 0 || score > 100) {
      problems_->Add(clause, "lead scores run from 0 to 100");
    } else {
      setter_.Set("min score", clause, &brief_.min_score, std::optional<int>(score));
    }
    return true;
  }

  bool Disqualify(const Clause& clause) {
    absl::string_view rest = clause.text;
    if (!StartsWithDisqualify(rest)) return false;
    rest.remove_prefix(std::string_view("disqualify").size());
    if (absl::StartsWithIgnoreCase(rest, " codes")) rest.remove_prefix(6);
    if (absl::StartsWithIgnoreCase(rest, " code")) rest.remove_prefix(5);
    if (!rest.empty() && rest[0] != ':' && rest[0] != ' ') return false;
    absl::ConsumePrefix(&rest, ":");
    std::vector<std::string> reasons;
    std::set<std::string> seen;
    for (absl::string_view reason :
         absl::StrSplit(rest, absl::ByAnyChar(",/"), absl::SkipWhitespace())) {
      std::string text(absl::StripAsciiWhitespace(reason));
      if (absl::EndsWith(text, "…")) text.resize(text.size() - std::string_view("…").size());
      if (absl::EndsWith(text, "...")) text.resize(text.size() - 3);
      text = std::string(absl::StripAsciiWhitespace(text));
      if (text.empty()) continue;
      // Reasons that differ only in case or punctuation would give one code.
      std::string key;
      for (char c : text) {
        if (absl::ascii_isalnum(c) || static_cast<unsigned char>(c) >= 0x80) {
          key.push_back(absl::ascii_tolower(c));
        }
      }
      if (key.empty()) {
        problems_->Add(clause, absl::StrCat("reason ", error::QuoteInput(text), " has no words"));
        return true;
      }
      if (text.size() > kMaxReasonChars) {
        problems_->Add(clause, absl::StrCat("reason ", error::QuoteInput(text), " is longer than ",
                                            kMaxReasonChars, " characters"));
        return true;
      }
      if (!seen.insert(key).second) {
        problems_->Add(clause, absl::StrCat("names ", error::QuoteInput(text), " twice"));
        return true;
      }
      reasons.push_back(std::move(text));
    }
    if (reasons.empty()) {
      problems_->Add(clause, "list the reasons, e.g. \"disqualify: no budget, wrong persona\"");
      return true;
    }
    setter_.Set("disqualify", clause, &brief_.disqualify_reasons, reasons);
    return true;
  }

  Problems* problems_;
  Setter setter_;
  Brief brief_;
};

}  // namespace

absl::StatusOr<Brief> ParseBrief(absl::string_view text) {
  Problems problems;
  BriefReader reader(&problems);
  for (const Clause& clause : SplitClauses(text)) reader.Read(clause);
  Brief brief = reader.Finish();
  if (!problems.empty()) return std::move(problems).ToStatus();
  return brief;
}

}  // namespace sopsidebar
