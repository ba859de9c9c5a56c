// libFuzzer target: the indexed matcher against the linear one
// (server/domain/matching). The input draws a small, dense set of SOPs
// (targeting rules over a few fields and values, each operator, case
// folding, lists, nulls, times written several ways, visibility) and
// contexts; SOPs and contexts that validation refuses are left out, as the
// registry never hands them to a matcher. Both engines must return the same
// matches (SOPs, order, rule, priority, specificity) and near misses, also
// after an incremental write (WithChanges) compared with a fresh linear
// build. Any difference aborts with both answers.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/model/roles.h"
#include "common/model/validation.h"
#include "common/proto_time.h"
#include "server/domain/matching/indexed_sop_matcher.h"
#include "server/domain/matching/linear_sop_matcher.h"
#include "server/domain/matching/sop_matcher.h"

namespace sopsidebar {
namespace {

using google::protobuf::Value;

// What the inputs exercised, printed when the fuzzer exits: agreement means
// little if the engines agree on finding nothing.
struct Coverage {
  long inputs = 0;
  long valid_contexts = 0;  // inputs compared at all
  long sops = 0;            // valid SOPs drawn
  long matched = 0;         // comparisons where the linear engine matched an SOP
  long several = 0;         // ... two or more
  long near_misses = 0;     // comparisons with a near miss

  ~Coverage() {
    if (inputs == 0) return;
    std::cerr << "matcher_fuzzer: " << inputs << " inputs, " << valid_contexts << " compared, "
              << sops << " SOPs; queries with a match " << matched << ", with several " << several
              << ", with near misses " << near_misses << "\n";
  }
};
Coverage coverage;

const absl::Time kEpoch = absl::FromUnixSeconds(1'767'225'600);  // 2026-01-01

std::string Field(FuzzedDataProvider& in) {
  static constexpr const char* kFields[] = {"f0", "f1", "F0", "when", "f.x"};
  if (in.ConsumeIntegralInRange(0, 19) == 0) return in.ConsumeRandomLengthString(8);
  return kFields[in.ConsumeIntegralInRange<size_t>(0, std::size(kFields) - 1)];
}

// The same instants written in several RFC 3339 forms, and a few others.
std::string TimeText(FuzzedDataProvider& in) {
  const absl::Time t = kEpoch + absl::Seconds(in.ConsumeIntegralInRange(0, 3));
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0:
      return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
    case 1:
      return absl::FormatTime("%Y-%m-%dT%H:%M:%S.000Z", t, absl::UTCTimeZone());
    case 2:
      return absl::FormatTime("%Y-%m-%dT%H:%M:%S+01:00", t, absl::FixedTimeZone(3600));
    case 3:
      return absl::FormatTime("%Y-%m-%dt%H:%M:%Sz", t, absl::UTCTimeZone());
    default:
      return in.ConsumeRandomLengthString(30);
  }
}

Value Scalar(FuzzedDataProvider& in) {
  // Mostly a few values, so that conditions and contexts meet; now and
  // then anything.
  static constexpr const char* kTexts[] = {"a", "A", "ab", "aB", "", "1", "x y"};
  static constexpr double kNumbers[] = {0.0, -0.0, 1.0, 1.5, 1e300, 5e-324};
  Value v;
  switch (in.ConsumeIntegralInRange(0, 9)) {
    case 0:
    case 1:
    case 2:
    case 3:
      v.set_string_value(kTexts[in.ConsumeIntegralInRange<size_t>(0, std::size(kTexts) - 1)]);
      break;
    case 4:
    case 5:
      v.set_number_value(kNumbers[in.ConsumeIntegralInRange<size_t>(0, std::size(kNumbers) - 1)]);
      break;
    case 6:
      v.set_bool_value(in.ConsumeBool());
      break;
    case 7:
      v.set_string_value(TimeText(in));
      break;
    case 8:
      v.set_number_value(in.ConsumeFloatingPoint<double>());
      break;
    default:
      v.set_string_value(in.ConsumeRandomLengthString(8));
      break;
  }
  return v;
}

void FillList(FuzzedDataProvider& in, google::protobuf::ListValue* list, int min) {
  for (int n = in.ConsumeIntegralInRange(min, 3); n > 0; --n) *list->add_values() = Scalar(in);
}

v1::Condition Condition(FuzzedDataProvider& in) {
  v1::Condition c;
  c.set_field(Field(in));
  c.set_case_insensitive(in.ConsumeBool());
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
      *c.mutable_equals() = Scalar(in);
      break;
    case 1:
      FillList(in, c.mutable_any_of(), 1);
      break;
    case 2:
      FillList(in, c.mutable_none_of(), 1);
      break;
    case 3: {
      v1::Range& r = *c.mutable_range();
      if (in.ConsumeBool()) {
        if (in.ConsumeBool()) {
          *r.mutable_min_time() =
              ToProtoTimestamp(kEpoch + absl::Seconds(in.ConsumeIntegralInRange(-1, 3)));
        }
        if (in.ConsumeBool()) {
          *r.mutable_max_time() =
              ToProtoTimestamp(kEpoch + absl::Seconds(in.ConsumeIntegralInRange(-1, 4)));
        }
      } else {
        if (in.ConsumeBool()) r.set_min(in.ConsumeIntegralInRange(-2, 3) * 0.5);
        if (in.ConsumeBool()) r.set_max(in.ConsumeIntegralInRange(-2, 4) * 0.5);
      }
      r.set_exclusive_min(in.ConsumeBool());
      r.set_exclusive_max(in.ConsumeBool());
      break;
    }
    case 4:
      c.set_prefix(in.ConsumeBool() ? (in.ConsumeBool() ? "a" : "A")
                                    : in.ConsumeRandomLengthString(3));
      break;
    default:
      c.set_exists(in.ConsumeBool());
      break;
  }
  return c;
}

// An SOP named s{id} in org "default" or "other", or null when validation
// refuses it (a registry never publishes such a body).
PublishedSopPtr DrawSop(FuzzedDataProvider& in, int id) {
  static constexpr const char* kTypes[] = {"Lead", "LEAD", "lead", "Contact"};
  v1::Sop body;
  body.set_title("fuzz");
  body.set_owner("owner");
  for (int r = in.ConsumeIntegralInRange(1, 2); r > 0; --r) {
    v1::TargetingRule& rule = *body.add_targeting_rules();
    for (int t = in.ConsumeIntegralInRange(0, 2); t > 0; --t) {
      rule.add_record_types(kTypes[in.ConsumeIntegralInRange<size_t>(0, std::size(kTypes) - 1)]);
    }
    rule.set_priority(in.ConsumeIntegralInRange(0, 2));
    // A rule needs a record type or a condition.
    for (int c = in.ConsumeIntegralInRange(rule.record_types().empty() ? 1 : 0, 3); c > 0; --c) {
      *rule.add_conditions() = Condition(in);
    }
  }
  if (in.ConsumeIntegralInRange(0, 3) == 0) {
    body.add_visibility_roles(in.ConsumeBool() ? v1::SDR : v1::AE);
  }
  if (!ValidateSopBody(body, "").ok()) return nullptr;
  const std::string org = in.ConsumeIntegralInRange(0, 4) == 0 ? "other" : "default";
  // Few publish times, so that ranking ties reach the name.
  const absl::Time published = absl::FromUnixSeconds(1000 + in.ConsumeIntegralInRange(0, 2));
  return MakePublishedSop(SopName{org, absl::StrCat("s", id)}, 1, published, std::move(body));
}

Value FieldValue(FuzzedDataProvider& in) {
  Value v;
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
      v.set_null_value({});
      break;
    case 1:
      v.mutable_list_value();
      FillList(in, v.mutable_list_value(), 0);
      if (in.ConsumeBool()) v.mutable_list_value()->add_values()->set_null_value({});
      break;
    default:
      v = Scalar(in);
      break;
  }
  return v;
}

std::string Describe(const std::vector<SopMatchResult>& results) {
  std::string out;
  for (const SopMatchResult& r : results) {
    absl::StrAppend(&out, r.sop->name.Full(), "#", r.rule_index, " p", r.priority, " s",
                    r.specificity, "; ");
  }
  return out;
}

std::string Describe(const std::vector<NearMiss>& misses) {
  std::string out;
  for (const NearMiss& m : misses) {
    absl::StrAppend(&out, m.sop->name.Full(), "#", m.rule_index, " c", m.failed_condition, " p",
                    m.priority, " s", m.specificity, "; ");
  }
  return out;
}

std::string DescribeSops(const std::map<std::string, PublishedSopPtr>& sops) {
  std::string out;
  for (const auto& [name, sop] : sops) {
    absl::StrAppend(&out, name, " t", absl::ToUnixSeconds(sop->publish_time), ": ",
                    sop->body.ShortDebugString(), "\n");
  }
  return out;
}

void Compare(const SopMatcher& linear, const SopMatcher& indexed, const v1::CrmContext& context,
             const std::map<std::string, PublishedSopPtr>& sops, absl::string_view stage) {
  static constexpr RoleSet kViewers[] = {RoleBit(v1::SDR), RoleBit(v1::AE), kAllRoles};
  for (const char* org : {"default", "other"}) {
    for (RoleSet viewer : kViewers) {
      for (int k : {1, 3, 100}) {
        const MatchQuery q{org, &context, k, viewer};
        const std::vector<SopMatchResult> found = linear.Match(q);
        if (k == 100) {
          coverage.matched += found.empty() ? 0 : 1;
          coverage.several += found.size() >= 2 ? 1 : 0;
        }
        const std::string want = Describe(found);
        const std::string got = Describe(indexed.Match(q));
        if (want != got) {
          std::cerr << "matcher_fuzzer: " << stage << ": Match differs (org " << org << ", k " << k
                    << ", roles " << viewer << ")\nlinear:  " << want << "\nindexed: " << got
                    << "\ncontext: " << context.ShortDebugString() << "\nsops:\n"
                    << DescribeSops(sops);
          std::abort();
        }
      }
      const MatchQuery q{org, &context, 10, viewer};
      const std::vector<NearMiss> misses = linear.NearMisses(q, 50);
      coverage.near_misses += misses.empty() ? 0 : 1;
      const std::string want = Describe(misses);
      const std::string got = Describe(indexed.NearMisses(q, 50));
      if (want != got) {
        std::cerr << "matcher_fuzzer: " << stage << ": NearMisses differ (org " << org << ", roles "
                  << viewer << ")\nlinear:  " << want << "\nindexed: " << got
                  << "\ncontext: " << context.ShortDebugString() << "\nsops:\n"
                  << DescribeSops(sops);
        std::abort();
      }
    }
  }
}

std::vector<PublishedSopPtr> Values(const std::map<std::string, PublishedSopPtr>& sops) {
  std::vector<PublishedSopPtr> out;
  for (const auto& [name, sop] : sops) out.push_back(sop);
  return out;
}

void CheckEngines(FuzzedDataProvider& in) {
  std::map<std::string, PublishedSopPtr> sops;
  for (int i = in.ConsumeIntegralInRange(1, 8); i > 0; --i) {
    PublishedSopPtr sop = DrawSop(in, in.ConsumeIntegralInRange(0, 9));
    if (sop == nullptr) continue;
    ++coverage.sops;
    sops[sop->name.Full()] = std::move(sop);
  }
  v1::CrmContext context;
  context.set_record_type(in.PickValueInArray({"Lead", "lead", "Contact", "Deal"}));
  // Most of the fields the rules test, and sometimes another.
  for (const char* field : {"f0", "f1", "F0", "when", "f.x"}) {
    if (in.ConsumeIntegralInRange(0, 3) != 0) (*context.mutable_fields())[field] = FieldValue(in);
  }
  if (in.ConsumeIntegralInRange(0, 4) == 0) (*context.mutable_fields())[Field(in)] = FieldValue(in);
  ++coverage.inputs;
  if (!ValidateCrmContext(context, "context").ok()) return;
  ++coverage.valid_contexts;

  std::unique_ptr<const SopMatcher> linear = LinearSopMatcher::Build(Values(sops));
  std::unique_ptr<const SopMatcher> indexed = IndexedSopMatcher::Build(Values(sops));
  Compare(*linear, *indexed, context, sops, "full build");

  // An incremental write: some SOPs replaced or added, some removed.
  std::vector<PublishedSopPtr> puts;
  std::vector<SopName> removes;
  for (int i = in.ConsumeIntegralInRange(0, 3); i > 0; --i) {
    if (in.ConsumeBool() && !sops.empty()) {
      auto it = sops.begin();
      std::advance(it, in.ConsumeIntegralInRange<size_t>(0, sops.size() - 1));
      removes.push_back(it->second->name);
      sops.erase(it);
    } else if (PublishedSopPtr sop = DrawSop(in, in.ConsumeIntegralInRange(0, 9))) {
      sops[sop->name.Full()] = sop;
      puts.push_back(std::move(sop));
    }
  }
  // A put after a remove of the same name puts it back, as WithChanges
  // applies removes first.
  for (const PublishedSopPtr& sop : puts) sops[sop->name.Full()] = sop;
  std::unique_ptr<const SopMatcher> changed = indexed->WithChanges(puts, removes);
  std::unique_ptr<const SopMatcher> rebuilt = LinearSopMatcher::Build(Values(sops));
  Compare(*rebuilt, *changed, context, sops, "after WithChanges");
}

}  // namespace
}  // namespace sopsidebar

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  sopsidebar::CheckEngines(input);
  return 0;
}
