#include "server/domain/matching/workload.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/model/values.h"
#include "common/proto_time.h"

namespace sopsidebar {
namespace {

using google::protobuf::Value;
using Rng = std::mt19937_64;

constexpr const char* kRecordTypes[] = {"Lead", "Contact", "Opportunity", "Account"};
constexpr int kHistoryDays = 180;
const absl::Time kNow = absl::FromUnixSeconds(1735689600);  // 2025-01-01T00:00:00Z

double Uniform(Rng& rng) { return std::uniform_real_distribution<double>(0, 1)(rng); }
int UniformInt(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
bool Chance(Rng& rng, double p) { return Uniform(rng) < p; }

// An index drawn with probability proportional to `weights`.
template <typename Weights>
int Pick(const Weights& weights, Rng& rng) {
  double total = 0;
  for (double w : weights) total += w;
  double u = Uniform(rng) * total;
  int i = 0;
  for (double w : weights) {
    if (u < w) return i;
    u -= w;
    ++i;
  }
  return i - 1;
}

std::string TimeString(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

enum class Kind { kPicklist, kId, kScore, kLogNormal, kTitle, kBool, kTime, kTags };

struct FieldSpec {
  std::string name;
  Kind kind = Kind::kPicklist;
  // Record type the field belongs to; empty for every type.
  std::string record_type;
  double presence = 0.9;
  // Picklists, titles (seniority prefixes), tags: values and their weights.
  std::vector<std::string> values;
  std::vector<double> weights;
  // Ids: how many distinct values.
  int cardinality = 0;
  // Log-normal parameters.
  double mu = 0, sigma = 1;
};

std::vector<double> ZipfWeights(size_t n, double s) {
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = 1.0 / std::pow(static_cast<double>(i + 1), s);
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  for (double& x : w) x /= total;
  return w;
}

FieldSpec Picklist(std::string name, std::vector<std::string> values, std::string type = "",
                   double presence = 0.9, double skew = 0.8) {
  FieldSpec f;
  f.name = std::move(name);
  f.kind = Kind::kPicklist;
  f.record_type = std::move(type);
  f.presence = presence;
  f.weights = ZipfWeights(values.size(), skew);
  f.values = std::move(values);
  return f;
}

FieldSpec Simple(std::string name, Kind kind, double presence) {
  FieldSpec f;
  f.name = std::move(name);
  f.kind = kind;
  f.presence = presence;
  return f;
}

std::vector<std::string> Numbered(const std::string& prefix, int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(absl::StrCat(prefix, i));
  return v;
}

std::vector<FieldSpec> CrmFields() {
  std::vector<FieldSpec> f;
  f.push_back(Picklist("lead_status",
                       {"Open - Not Contacted", "Working - Contacted", "MQL – New Handoff",
                        "SQL – Accepted", "Nurture", "Closed - Converted",
                        "Closed - Not Converted", "Recycled"},
                       "Lead", 1.0));
  f.push_back(Picklist("contact_status", {"Active", "Inactive", "Bounced", "Unsubscribed", "New"},
                       "Contact", 1.0));
  f.push_back(Picklist("opportunity_stage",
                       {"Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
                        "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
                        "Negotiation/Review", "Closed Won", "Closed Lost", "On Hold",
                        "Verbal Commit"},
                       "Opportunity", 1.0));
  f.push_back(Picklist("account_status", {"Prospect", "Customer", "Churned", "Partner"},
                       "Account", 1.0));
  f.push_back(Picklist("lead_source",
                       {"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other",
                        "Webinar", "Trade Show", "Employee Referral"}));
  std::vector<std::string> industries = {
      "Agriculture", "Apparel",     "Banking",        "Biotechnology", "Chemicals",
      "Communications", "Construction", "Consulting",  "Education",     "Electronics",
      "Energy",      "Engineering", "Entertainment",  "Environmental", "Finance",
      "Food & Beverage", "Government", "Healthcare",  "Hospitality",   "Insurance",
      "Machinery",   "Manufacturing", "Media",        "Not For Profit", "Recreation",
      "Retail",      "Shipping",    "Technology",     "Telecommunications", "Transportation"};
  f.push_back(Picklist("industry", industries, "", 0.85, 0.6));
  f.push_back(Picklist("region", {"NA-East", "NA-West", "EMEA", "APAC", "LATAM", "ANZ"}));
  f.push_back(Picklist("country", Numbered("C", 40), "", 0.9, 1.0));
  f.push_back(Picklist("rating", {"Hot", "Warm", "Cold"}, "", 0.7, 0.5));
  f.push_back(Picklist("lifecycle_stage",
                       {"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
                        "opportunity", "customer", "evangelist", "other"}));
  f.push_back(Picklist("hs_analytics_source",
                       {"ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA",
                        "REFERRALS", "OTHER_CAMPAIGNS", "DIRECT_TRAFFIC", "OFFLINE",
                        "PAID_SOCIAL"},
                       "", 0.6));
  f.push_back(Picklist("segment", {"SMB", "MidMarket", "Enterprise", "Strategic"}));
  f.push_back(Picklist("product_interest", Numbered("Product ", 12), "", 0.7));
  f.push_back(Picklist("language", {"en", "de", "fr", "es", "pt", "ja", "it", "nl", "sv", "pl"},
                       "", 0.8, 1.2));
  f.push_back(Picklist("persona", Numbered("Persona ", 15), "", 0.6));
  f.push_back(Picklist("territory", Numbered("T-", 100), "", 0.9, 0.3));
  f.push_back(Picklist("email_domain_type", {"corporate", "freemail", "education", "government"},
                       "", 0.9, 1.5));
  FieldSpec owner = Simple("owner_id", Kind::kId, 0.98);
  owner.cardinality = 2000;
  f.push_back(owner);
  FieldSpec account = Simple("account_id", Kind::kId, 0.95);
  account.cardinality = 50000;
  f.push_back(account);
  FieldSpec campaign = Simple("campaign_id", Kind::kId, 0.6);
  campaign.cardinality = 500;
  f.push_back(campaign);
  f.push_back(Simple("lead_score", Kind::kScore, 0.9));
  f.push_back(Simple("mql_score", Kind::kScore, 0.6));
  FieldSpec size = Simple("company_size", Kind::kLogNormal, 0.85);
  size.mu = std::log(60.0);
  size.sigma = 1.8;
  f.push_back(size);
  FieldSpec revenue = Simple("annual_revenue", Kind::kLogNormal, 0.7);
  revenue.mu = std::log(5e6);
  revenue.sigma = 1.6;
  f.push_back(revenue);
  FieldSpec title = Simple("title", Kind::kTitle, 0.9);
  title.values = {"Chief", "VP", "Director", "Head of", "Manager", "Senior", "Analyst"};
  title.weights = {0.04, 0.08, 0.14, 0.06, 0.22, 0.16, 0.30};
  f.push_back(title);
  f.push_back(Simple("is_converted", Kind::kBool, 0.95));
  f.push_back(Simple("do_not_call", Kind::kBool, 0.9));
  f.push_back(Simple("is_target_account", Kind::kBool, 0.8));
  f.push_back(Simple("status_changed_at", Kind::kTime, 0.95));
  f.push_back(Simple("created_at", Kind::kTime, 1.0));
  f.push_back(Simple("last_activity_at", Kind::kTime, 0.8));
  FieldSpec tags = Simple("tags", Kind::kTags, 0.7);
  tags.values = Numbered("tag-", 20);
  f.push_back(tags);
  return f;
}

const std::vector<std::string> kFunctions = {"Sales", "Marketing", "Operations", "Engineering",
                                             "Finance", "IT", "Procurement", "People"};

// A value of `f` as a record would hold it (never missing).
Value DrawValue(const FieldSpec& f, Rng& rng) {
  auto pick = [&](const std::vector<double>& w) { return Pick(w, rng); };
  switch (f.kind) {
    case Kind::kPicklist:
      return StringValue(f.values[pick(f.weights)]);
    case Kind::kId:
      return StringValue(absl::StrCat(f.name.substr(0, 3), "-", UniformInt(rng, 0, f.cardinality - 1)));
    case Kind::kScore:
      return NumberValue(UniformInt(rng, 0, 100));
    case Kind::kLogNormal:
      return NumberValue(std::round(std::lognormal_distribution<double>(f.mu, f.sigma)(rng)));
    case Kind::kTitle:
      return StringValue(absl::StrCat(f.values[pick(f.weights)], " ",
                              kFunctions[UniformInt(rng, 0, kFunctions.size() - 1)]));
    case Kind::kBool:
      return BoolValue(Chance(rng, 0.3));
    case Kind::kTime:
      return StringValue(TimeString(kNow - absl::Seconds(UniformInt(rng, 0, kHistoryDays * 86400))));
    case Kind::kTags: {
      Value v;
      v.mutable_list_value();
      const int n = UniformInt(rng, 0, 3);
      for (int i = 0; i < n; ++i) {
        *v.mutable_list_value()->add_values() = StringValue(f.values[UniformInt(rng, 0, 19)]);
      }
      return v;
    }
  }
  return Value();
}

RoleSet RandomViewer(Rng& rng) {
  static constexpr v1::Role kViewers[] = {v1::SDR, v1::SDR, v1::AE, v1::AE, v1::SALES_MANAGER,
                                          v1::MARKETING, v1::VP_SALES, v1::SALES_OPS};
  return RoleBit(kViewers[UniformInt(rng, 0, 7)]);
}

void RestrictVisibility(Rng& rng, v1::Sop* body) {
  static constexpr v1::Role kRoles[] = {v1::SDR, v1::AE, v1::SALES_MANAGER, v1::MARKETING,
                                        v1::VP_SALES, v1::MARKETING_DIRECTOR};
  const int n = UniformInt(rng, 1, 2);
  for (int i = 0; i < n; ++i) {
    const v1::Role r = kRoles[UniformInt(rng, 0, 5)];
    if (std::find(body->visibility_roles().begin(), body->visibility_roles().end(), r) ==
        body->visibility_roles().end()) {
      body->add_visibility_roles(r);
    }
  }
}

int DrawPriority(Rng& rng) {
  const double u = Uniform(rng);
  if (u < 0.5) return 10 * UniformInt(rng, 0, 5);
  if (u < 0.9) return 10 * UniformInt(rng, 0, 20);
  return 100 * UniformInt(rng, 1, 10);
}

std::string RandomCase(Rng& rng, const std::string& s) {
  return Chance(rng, 0.5) ? absl::AsciiStrToLower(s) : absl::AsciiStrToUpper(s);
}

}  // namespace

struct CrmWorkload::Impl {
  CrmWorkloadOptions options;
  std::vector<FieldSpec> fields;
  std::vector<std::string> orgs;
  std::vector<double> org_weights;
  std::vector<int> org_rules;

  // Fields a rule for `type` (empty: any type) may test.
  std::vector<int> FieldsFor(const std::string& type) const {
    std::vector<int> ids;
    for (int i = 0; i < static_cast<int>(fields.size()); ++i) {
      if (fields[i].record_type.empty() || fields[i].record_type == type) ids.push_back(i);
    }
    return ids;
  }

  // Adds a condition on `f` to `rule` and returns the chance a record of its
  // scope satisfies it. `closing` asks for a selective one of about `want`.
  double AddCondition(const FieldSpec& f, Rng& rng, double want, bool closing,
                      v1::TargetingRule* rule) const {
    v1::Condition* c = rule->add_conditions();
    c->set_field(f.name);
    const double present = f.presence;
    const double u = Uniform(rng);
    if (!closing && u < 0.04) {
      const bool exists = Chance(rng, 0.7);
      c->set_exists(exists);
      return exists ? present : 1 - present;
    }
    switch (f.kind) {
      case Kind::kPicklist:
      case Kind::kTags: {
        const size_t n = f.values.size();
        std::vector<double> weights =
            f.kind == Kind::kTags ? std::vector<double>(n, 0.08) : f.weights;
        std::vector<int> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        const bool none_of = !closing && u < 0.2;
        const double target = closing ? want : (none_of ? 0.7 : Uniform(rng) * 0.5 + 0.05);
        double mass = 0;
        std::vector<int> chosen;
        for (int i : order) {
          if (!chosen.empty() && mass + weights[i] > target * 1.5 && mass > 0) continue;
          chosen.push_back(i);
          mass += weights[i];
          if (none_of ? (1 - mass) <= target : mass >= target) break;
          if (chosen.size() >= 8) break;
        }
        const bool fold = f.kind == Kind::kPicklist && Chance(rng, 0.15);
        c->set_case_insensitive(fold);
        auto text = [&](int i) { return fold ? RandomCase(rng, f.values[i]) : f.values[i]; };
        if (none_of) {
          for (int i : chosen) *c->mutable_none_of()->add_values() = StringValue(text(i));
          return (1 - present) + present * (1 - mass);
        }
        if (chosen.size() == 1) {
          *c->mutable_equals() = StringValue(text(chosen[0]));
        } else {
          for (int i : chosen) *c->mutable_any_of()->add_values() = StringValue(text(i));
        }
        return present * std::min(1.0, mass);
      }
      case Kind::kId: {
        const int k = std::clamp(static_cast<int>(std::lround(want * f.cardinality / present)), 1,
                                 closing ? 12 : 3);
        for (int i = 0; i < k; ++i) {
          *c->mutable_any_of()->add_values() = StringValue(
              absl::StrCat(f.name.substr(0, 3), "-", UniformInt(rng, 0, f.cardinality - 1)));
        }
        if (k == 1) {
          Value v = c->any_of().values(0);
          *c->mutable_equals() = v;
        }
        return present * k / f.cardinality;
      }
      case Kind::kScore: {
        const double frac = closing ? std::max(want, 0.01) : Uniform(rng) * 0.6 + 0.2;
        const int lo = std::clamp(static_cast<int>(std::lround(101 * (1 - frac))), 0, 100);
        if (Chance(rng, 0.3)) {
          c->mutable_range()->set_max(100 - lo);  // the low end instead
          c->mutable_range()->set_exclusive_max(Chance(rng, 0.5));
          return present * (101 - lo - (c->range().exclusive_max() ? 1 : 0)) / 101.0;
        }
        c->mutable_range()->set_min(lo);
        c->mutable_range()->set_exclusive_min(Chance(rng, 0.2));
        return present * (101 - lo - (c->range().exclusive_min() ? 1 : 0)) / 101.0;
      }
      case Kind::kLogNormal: {
        const double frac = closing ? std::max(want, 0.005) : Uniform(rng) * 0.6 + 0.1;
        // P(X >= m) = frac.
        double z = 0;  // inverse normal by bisection
        double lo = -6, hi = 6;
        for (int i = 0; i < 60; ++i) {
          z = (lo + hi) / 2;
          (0.5 * std::erfc(z / std::sqrt(2.0)) > frac ? lo : hi) = z;
        }
        const double m = std::round(std::exp(f.mu + f.sigma * z));
        c->mutable_range()->set_min(m);
        return present * frac;
      }
      case Kind::kTitle: {
        int i = Pick(f.weights, rng);
        const bool fold = Chance(rng, 0.3);
        c->set_case_insensitive(fold);
        c->set_prefix(fold ? absl::AsciiStrToLower(f.values[i]) : f.values[i]);
        return present * f.weights[i];
      }
      case Kind::kBool: {
        const bool b = Chance(rng, 0.5);
        *c->mutable_equals() = BoolValue(b);
        return present * (b ? 0.3 : 0.7);
      }
      case Kind::kTime: {
        const double frac = closing ? std::max(want, 0.01) : Uniform(rng) * 0.7 + 0.1;
        const int64_t seconds = static_cast<int64_t>(frac * kHistoryDays * 86400);
        *c->mutable_range()->mutable_min_time() = ToProtoTimestamp(kNow - absl::Seconds(seconds));
        c->mutable_range()->set_exclusive_min(Chance(rng, 0.3));
        return present * frac;
      }
    }
    return 1;
  }

  v1::TargetingRule DrawRule(Rng& rng, int org) const {
    v1::TargetingRule rule;
    const double u = Uniform(rng);
    std::string type;
    if (u < 0.8) {
      type = kRecordTypes[UniformInt(rng, 0, 3)];
      rule.add_record_types(type);
    } else if (u < 0.85) {
      const int a = UniformInt(rng, 0, 3);
      rule.add_record_types(kRecordTypes[a]);
      rule.add_record_types(kRecordTypes[(a + 1 + UniformInt(rng, 0, 2)) % 4]);
    }
    rule.set_priority(DrawPriority(rng));
    // Rules in a context's scope: its type's share of the org plus the
    // any-type rules.
    const double scope = std::max(1.0, org_rules[org] * (0.8 / 4 + 0.05 * 2 / 4 + 0.15));
    const double target = options.match_rate == MatchRate::kAboutOne ? 1.0 / scope : 0.01;
    static constexpr double kConditionCounts[] = {0.08, 0.2, 0.27, 0.2, 0.15, 0.1};
    const int wanted =
        1 + Pick(kConditionCounts, rng);
    std::vector<int> candidates = FieldsFor(type);
    std::shuffle(candidates.begin(), candidates.end(), rng);
    double p = 1;
    size_t next = 0;
    for (int i = 0; i + 1 < wanted && next < candidates.size(); ++i) {
      const FieldSpec& f = fields[candidates[next++]];
      if (f.kind == Kind::kId) {
        --i;
        continue;
      }
      p *= AddCondition(f, rng, 1, /*closing=*/false, &rule);
    }
    // The closing condition brings the rule's chance to about `target`:
    // the most selective kind of field that can.
    const double want = target / p;
    if (want < 1) {
      std::vector<int> closers;
      for (size_t i = next; i < candidates.size(); ++i) {
        const FieldSpec& f = fields[candidates[i]];
        const bool fits = want >= 0.02 ? f.kind != Kind::kId && f.kind != Kind::kTags
                                        : f.kind == Kind::kId;
        if (fits) closers.push_back(candidates[i]);
      }
      if (!closers.empty()) {
        const FieldSpec& f = fields[closers[UniformInt(rng, 0, closers.size() - 1)]];
        double q = AddCondition(f, rng, want, /*closing=*/true, &rule);
        p *= q;
        // Very selective targets need a second id.
        if (f.kind == Kind::kId && p > target * 3) {
          for (int id : closers) {
            if (fields[id].name == f.name) continue;
            p *= AddCondition(fields[id], rng, target / p, /*closing=*/true, &rule);
            break;
          }
        }
      }
    }
    if (rule.conditions().empty() && rule.record_types().empty()) rule.add_record_types("Lead");
    return rule;
  }

  PublishedSopPtr DrawSop(Rng& rng, int org, const std::string& id, int rules,
                          int64_t publish_second) const {
    v1::Sop body;
    body.set_title(absl::StrCat("SOP ", id));
    body.set_owner("Sales Operations Manager");
    for (int r = 0; r < rules; ++r) *body.add_targeting_rules() = DrawRule(rng, org);
    if (Chance(rng, options.restricted_fraction)) RestrictVisibility(rng, &body);
    return MakePublishedSop(SopName{orgs[org], id}, 1, absl::FromUnixSeconds(publish_second),
                            std::move(body));
  }

  int DrawOrg(Rng& rng) const {
    return Pick(org_weights, rng);
  }

  int DrawRuleCount(Rng& rng) const {
    const double u = Uniform(rng);
    return u < 0.8 ? 1 : (u < 0.95 ? 2 : 3);
  }
};

CrmWorkload::CrmWorkload(CrmWorkloadOptions options) {
  auto impl = std::make_shared<Impl>();
  impl->options = options;
  impl->fields = CrmFields();
  for (int o = 0; o < options.orgs; ++o) {
    static constexpr const char* kNames[] = {"acme", "globex", "initech", "umbrella"};
    impl->orgs.push_back(o < 4 ? kNames[o] : absl::StrCat("org", o));
    impl->org_weights.push_back(options.orgs == 4 ? (4 - o) / 10.0 : 1.0 / (o + 1));
  }
  const double total = std::accumulate(impl->org_weights.begin(), impl->org_weights.end(), 0.0);
  for (double& w : impl->org_weights) w /= total;
  for (double w : impl->org_weights) impl->org_rules.push_back(static_cast<int>(w * options.rules));

  Rng rng(options.seed);
  std::vector<int> left = impl->org_rules;
  int index = 0;
  for (int o = 0; o < options.orgs; ++o) {
    while (left[o] > 0) {
      const int rules = std::min(left[o], impl->DrawRuleCount(rng));
      left[o] -= rules;
      sops_.push_back(impl->DrawSop(rng, o, absl::StrCat("sop-", index), rules,
                                    1700000000 + UniformInt(rng, 0, 30000000)));
      ++index;
    }
  }
  impl_ = std::move(impl);
}

std::vector<WorkloadQuery> CrmWorkload::Queries(int n, uint64_t seed) const {
  Rng rng(seed);
  std::vector<WorkloadQuery> queries(n);
  for (WorkloadQuery& q : queries) {
    const int org = impl_->DrawOrg(rng);
    q.org = impl_->orgs[org];
    q.viewer_roles = RandomViewer(rng);
    q.context.set_org(absl::StrCat("orgs/", q.org));
    const std::string type = kRecordTypes[UniformInt(rng, 0, 3)];
    q.context.set_record_type(type);
    q.context.set_record_id(absl::StrCat("00Q", UniformInt(rng, 100000, 999999)));
    for (const FieldSpec& f : impl_->fields) {
      if (!f.record_type.empty() && f.record_type != type) continue;
      if (!Chance(rng, f.presence)) {
        if (Chance(rng, 0.2)) (*q.context.mutable_fields())[f.name].set_null_value({});
        continue;
      }
      (*q.context.mutable_fields())[f.name] = DrawValue(f, rng);
    }
  }
  return queries;
}

PublishedSopPtr CrmWorkload::NewSop(int i, uint64_t seed) const {
  Rng rng(seed ^ (0x9e3779b97f4a7c15ULL * (i + 1)));
  const int org = impl_->DrawOrg(rng);
  return impl_->DrawSop(rng, org, absl::StrCat("new-", i), impl_->DrawRuleCount(rng),
                        1730000000 + i);
}

// Adversarial: fields f0..f4 with values drawn from a handful.
namespace {

constexpr const char* kAdvFields[] = {"f0", "f1", "f2", "f3", "when"};
constexpr const char* kAdvStrings[] = {"a", "A", "b", "B", "ab", "Ab", ""};
const absl::Time kAdvEpoch = absl::FromUnixSeconds(1700000000);

Value AdvScalar(Rng& rng) {
  switch (UniformInt(rng, 0, 3)) {
    case 0:
    case 1:
      return StringValue(kAdvStrings[UniformInt(rng, 0, 6)]);
    case 2: {
      const double x = UniformInt(rng, -1, 3) * (Chance(rng, 0.1) ? 0.5 : 1.0);
      return NumberValue(x == 0 && Chance(rng, 0.3) ? -0.0 : x);
    }
    default:
      return BoolValue(Chance(rng, 0.5));
  }
}

Value AdvTime(Rng& rng) {
  return StringValue(TimeString(kAdvEpoch + absl::Seconds(UniformInt(rng, 0, 4))));
}

Value AdvFieldValue(Rng& rng, const std::string& field) {
  const double u = Uniform(rng);
  if (u < 0.08) {
    Value v;
    v.set_null_value({});
    return v;
  }
  if (u < 0.25) {
    Value v;
    v.mutable_list_value();
    const int n = UniformInt(rng, 0, 3);
    for (int i = 0; i < n; ++i) {
      *v.mutable_list_value()->add_values() =
          field == "when" ? AdvTime(rng) : (Chance(rng, 0.1) ? Value() : AdvScalar(rng));
      if (v.list_value().values(i).kind_case() == Value::KIND_NOT_SET) {
        v.mutable_list_value()->mutable_values(i)->set_null_value({});
      }
    }
    return v;
  }
  if (field == "when" && u < 0.9) return AdvTime(rng);
  return AdvScalar(rng);
}

v1::Condition AdvCondition(Rng& rng) {
  v1::Condition c;
  const std::string field = kAdvFields[UniformInt(rng, 0, 4)];
  c.set_field(field);
  c.set_case_insensitive(Chance(rng, 0.3));
  auto list = [&](google::protobuf::ListValue* l) {
    const int n = UniformInt(rng, 1, 3);
    for (int i = 0; i < n; ++i) *l->add_values() = AdvScalar(rng);
  };
  switch (UniformInt(rng, 0, 6)) {
    case 0:
      *c.mutable_equals() = AdvScalar(rng);
      break;
    case 1:
      list(c.mutable_any_of());
      break;
    case 2:
      list(c.mutable_none_of());
      break;
    case 3: {
      v1::Range* r = c.mutable_range();
      if (field == "when" || Chance(rng, 0.2)) {
        const int lo = UniformInt(rng, 0, 3);
        if (Chance(rng, 0.7)) *r->mutable_min_time() = ToProtoTimestamp(kAdvEpoch + absl::Seconds(lo));
        if (Chance(rng, 0.6) || !r->has_min_time()) {
          *r->mutable_max_time() =
              ToProtoTimestamp(kAdvEpoch + absl::Seconds(lo + UniformInt(rng, 1, 3)));
        }
      } else {
        const int lo = UniformInt(rng, -1, 2);
        if (Chance(rng, 0.7)) r->set_min(lo);
        if (Chance(rng, 0.6) || r->lower_case() == v1::Range::LOWER_NOT_SET) {
          r->set_max(lo + UniformInt(rng, 1, 2));
        }
      }
      r->set_exclusive_min(Chance(rng, 0.3));
      r->set_exclusive_max(Chance(rng, 0.3));
      break;
    }
    case 4:
      c.set_prefix(Chance(rng, 0.5) ? "a" : (Chance(rng, 0.5) ? "A" : "ab"));
      break;
    default:
      c.set_exists(Chance(rng, 0.5));
      break;
  }
  return c;
}

}  // namespace

AdversarialWorkload::AdversarialWorkload(AdversarialOptions options) : options_(options) {
  Rng rng(options.seed);
  for (int i = 0; i < options.sops; ++i) sops_.push_back(DrawSop(rng, i));
}

PublishedSopPtr AdversarialWorkload::NewSop(Rng& rng) {
  return DrawSop(rng, UniformInt(rng, 0, 2 * options_.sops));
}

PublishedSopPtr AdversarialWorkload::DrawSop(Rng& rng, int id) {
  v1::Sop body;
  body.set_title("adversarial");
  body.set_owner("owner");
  const int rules = UniformInt(rng, 1, 3);
  for (int r = 0; r < rules; ++r) {
    v1::TargetingRule* rule = body.add_targeting_rules();
    const double u = Uniform(rng);
    if (u < 0.35) {
      rule->add_record_types("Lead");
    } else if (u < 0.4) {
      // Case variants, for near misses on a record type in the wrong case.
      rule->add_record_types("LEAD");
      if (Chance(rng, 0.5)) rule->add_record_types("lead");
    } else if (u < 0.6) {
      rule->add_record_types("Contact");
      if (Chance(rng, 0.5)) rule->add_record_types("Lead");
    }
    rule->set_priority(UniformInt(rng, 0, 2));
    const int n = UniformInt(rng, rule->record_types().empty() ? 1 : 0, 4);
    for (int i = 0; i < n; ++i) *rule->add_conditions() = AdvCondition(rng);
  }
  if (Chance(rng, 0.25)) body.add_visibility_roles(Chance(rng, 0.5) ? v1::SDR : v1::AE);
  const std::string org = id % 5 == 4 ? "other" : "default";
  // Few distinct publish times, so ranking ties reach the name.
  const int64_t second = 1000 + (next_publish_second_++ % 3);
  return MakePublishedSop(SopName{org, absl::StrCat("s", id)}, 1, absl::FromUnixSeconds(second),
                          std::move(body));
}

std::vector<WorkloadQuery> AdversarialWorkload::Queries(int n, uint64_t seed) const {
  Rng rng(seed);
  std::vector<WorkloadQuery> queries(n);
  for (WorkloadQuery& q : queries) {
    q.org = Chance(rng, 0.85) ? "default" : "other";
    static constexpr RoleSet kViewers[] = {RoleBit(v1::SDR), RoleBit(v1::AE),
                                           RoleBit(v1::MARKETING), kAllRoles};
    q.viewer_roles = kViewers[UniformInt(rng, 0, 3)];
    q.context.set_org(absl::StrCat("orgs/", q.org));
    static constexpr const char* kTypes[] = {"Lead", "Contact", "Deal", "lead"};
    static constexpr double kTypeWeights[] = {0.55, 0.2, 0.15, 0.1};
    q.context.set_record_type(kTypes[Pick(kTypeWeights, rng)]);
    for (const char* field : kAdvFields) {
      if (Chance(rng, 0.3)) continue;
      (*q.context.mutable_fields())[field] = AdvFieldValue(rng, field);
    }
  }
  return queries;
}

}  // namespace sopsidebar
