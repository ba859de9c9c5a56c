// Seeded, deterministic SOP sets and CRM contexts for tests and benchmarks.
//
// CrmWorkload is shaped like a sales CRM (the CRM fields guide): four record
// types, each with its own status picklist (4-15 values, skewed); about 30
// fields: picklists (source, industry ~30, region, country, rating, segment,
// ...), high-cardinality ids (owner, account, campaign), scores 0-100,
// log-normal company size and revenue, titles with seniority prefixes,
// booleans, RFC 3339 timestamps and a list-valued `tags`; fields are
// sometimes missing or null. Rules have 1-6 conditions mixing every operator
// (some case-insensitive), priorities, record types (some "any type"), and
// some SOPs are visible to a few roles only; SOPs belong to several orgs of
// unequal size. Each rule is built so that the chance a context of its scope
// matches it is about `MatchRate`'s target, estimated from the field
// distributions, so a typical context matches about one SOP (kAboutOne) or
// about 1% of the rules in its scope (kOnePercent).
//
// AdversarialWorkload is small and dense instead: few fields and values, so
// that matches, ties, near misses, list values, nulls, case folding,
// none_of, exists false and exclusive time bounds all occur often.
//
// Thread-compatible: generate from one thread; the results are plain data.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_MATCHING_WORKLOAD_H_
#define SOPSIDEBAR_SERVER_DOMAIN_MATCHING_WORKLOAD_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "server/domain/matching/sop_matcher.h"
#include "sopsidebar/v1/context_service.pb.h"

namespace sopsidebar {

enum class MatchRate { kAboutOne, kOnePercent };

struct CrmWorkloadOptions {
  // Everything generated follows from the seed. Default 1.
  uint64_t seed = 1;
  // Targeting rules in total (SOPs have 1-3 rules). Default 1000.
  int rules = 1000;
  // Default kAboutOne.
  MatchRate match_rate = MatchRate::kAboutOne;
  // Orgs, of sizes 40/30/20/10% when 4. Default 4.
  int orgs = 4;
  // SOPs visible to one or two roles only. Default 0.2.
  double restricted_fraction = 0.2;
};

// A lookup a workload generates: the context and who looks.
struct WorkloadQuery {
  std::string org;  // id
  v1::CrmContext context;
  RoleSet viewer_roles = 0;

  MatchQuery AsMatchQuery(int max_results = 10) const {
    return MatchQuery{org, &context, max_results, viewer_roles};
  }
};

class CrmWorkload {
 public:
  explicit CrmWorkload(CrmWorkloadOptions options);

  // The SOPs (built once at construction), named orgs/{org}/sops/sop-{i}.
  const std::vector<PublishedSopPtr>& sops() const { return sops_; }

  // `n` lookups drawn with `seed`, orgs weighted by size.
  std::vector<WorkloadQuery> Queries(int n, uint64_t seed) const;

  // A new SOP (rules drawn like the initial ones) for write workloads; `i`
  // picks the org and name orgs/{org}/sops/new-{i}.
  PublishedSopPtr NewSop(int i, uint64_t seed) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  std::vector<PublishedSopPtr> sops_;
};

struct AdversarialOptions {
  uint64_t seed = 1;
  // SOPs. Default 40.
  int sops = 40;
};

// Small dense SOP sets and contexts (see the file comment).
class AdversarialWorkload {
 public:
  explicit AdversarialWorkload(AdversarialOptions options);

  const std::vector<PublishedSopPtr>& sops() const { return sops_; }
  std::vector<WorkloadQuery> Queries(int n, uint64_t seed) const;
  // A new SOP drawn from `rng`, named s{0..2*sops} like the initial ones
  // (s{i}), so puts replace existing SOPs about as often as they add.
  PublishedSopPtr NewSop(std::mt19937_64& rng);

 private:
  PublishedSopPtr DrawSop(std::mt19937_64& rng, int id);

  AdversarialOptions options_;
  std::vector<PublishedSopPtr> sops_;
  int64_t next_publish_second_ = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_MATCHING_WORKLOAD_H_
