#include "server/domain/search/sop_search.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/permissions.h"
#include "common/errors.h"
#include "common/model/names.h"
#include "common/status_macros.h"
#include "common/utf8.h"

namespace sopsidebar {
namespace {

// Word weights: a title word counts as much as four in the body.
constexpr int kTitleWeight = 4;
constexpr int kHeadingWeight = 2;  // step titles, tags, disqualification labels

std::string OrgTerm(absl::string_view org) { return absl::StrCat("org:", org); }
std::string RoleTerm(int role) { return absl::StrCat("role:", role); }

void AddSnippetLine(std::string* text, absl::string_view line) {
  if (line.empty()) return;
  if (!text->empty()) text->append("\n");
  text->append(line.data(), line.size());
}

}  // namespace

TextDocument SearchDocumentOf(const PublishedSop& sop) {
  const v1::Sop& body = sop.body;
  TextDocument doc;
  doc.id = sop.name.Full();
  doc.filter_terms.push_back(OrgTerm(sop.name.org));
  for (int role = 0; role <= v1::Role_MAX; ++role) {
    if (sop.visible_to & RoleBit(static_cast<v1::Role>(role))) {
      doc.filter_terms.push_back(RoleTerm(role));
    }
  }
  auto add = [&doc](absl::string_view text, int weight) {
    if (text.empty()) return;
    doc.fields.push_back({std::string(text), weight});
    AddSnippetLine(&doc.snippet_text, text);
  };
  add(body.title(), kTitleWeight);
  // The id ("pricing-discount-playbook"): people search by what they see in
  // links. Not in snippets (the result names the SOP).
  doc.fields.push_back({sop.name.sop, 1});
  add(body.purpose(), 1);
  for (const std::string& tag : body.tags()) add(tag, kHeadingWeight);
  for (const v1::Step& step : body.steps()) {
    add(step.title(), kHeadingWeight);
    add(step.instructions(), 1);
  }
  for (const v1::DisqualificationCode& code : body.disqualification_codes()) {
    add(code.code(), kHeadingWeight);
    add(code.label(), kHeadingWeight);
  }
  return doc;
}

absl::StatusOr<std::unique_ptr<SopSearch>> SopSearch::Create(const SopRegistry* registry,
                                                             std::unique_ptr<TextIndex> index,
                                                             Options options) {
  std::unique_ptr<SopSearch> search(new SopSearch(registry, std::move(index), options));
  SopSearch* const s = search.get();
  s->initial_sync_ = std::thread([s] {
    absl::MutexLock lock(&s->mu_);
    // A failure leaves the index unsynced: the next search tries again.
    s->SyncLocked().IgnoreError();
  });
  return search;
}

SopSearch::~SopSearch() {
  if (initial_sync_.joinable()) initial_sync_.join();
}

absl::Status SopSearch::SyncLocked() {
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (synced_ == generation) return absl::OkStatus();
  // Read after the generation: a change announced from now on makes the
  // next search sync again.
  std::vector<PublishedSopPtr> live = registry_->PublishedSops();
  absl::flat_hash_map<std::string, PublishedSopPtr> next;
  next.reserve(live.size());
  std::vector<TextDocument> puts;
  for (PublishedSopPtr& sop : live) {
    std::string name = sop->name.Full();
    auto indexed = indexed_.find(name);
    // Unknown contents after a failed write: put everything again.
    if (!synced_.has_value() || indexed == indexed_.end() || indexed->second != sop) {
      puts.push_back(SearchDocumentOf(*sop));
    }
    next.emplace(std::move(name), std::move(sop));
  }
  std::vector<std::string> removes;
  for (const auto& [name, sop] : indexed_) {
    if (!next.contains(name)) removes.push_back(name);
  }
  synced_.reset();
  SOP_RETURN_IF_ERROR(index_->Write(puts, removes));
  indexed_ = std::move(next);
  synced_ = generation;
  return absl::OkStatus();
}

absl::StatusOr<v1::SearchSopsResponse> SopSearch::SearchSops(const Caller& caller,
                                                             const v1::SearchSopsRequest& request) {
  SOP_ASSIGN_OR_RETURN(std::string org, ParseOrgName("parent", request.parent()));
  if (org != caller.org) return error::OrgNotFound(request.parent());
  SOP_RETURN_IF_ERROR(Authorize(caller, Operation::kReadPublished));
  if (request.query().empty()) return error::RequiredField("query");
  if (CountUtf8Chars(request.query()) > options_.max_query_chars) {
    return error::FieldTooLong("query", options_.max_query_chars);
  }
  if (request.page_size() < 0 || request.page_size() > options_.max_page_size) {
    return error::InvalidField("page_size",
                               absl::StrCat("must be between 0 and ", options_.max_page_size));
  }

  TextQuery query;
  query.text = request.query();
  query.all_of.push_back(OrgTerm(org));
  // The roles that read published SOPs see those visible to one of them
  // (ReadsPublished): Authorize above let the caller read published SOPs.
  for (int role = 0; role <= v1::Role_MAX; ++role) {
    if (caller.roles & RoleBit(static_cast<v1::Role>(role))) query.any_of.push_back(RoleTerm(role));
  }
  query.max_hits = request.page_size() == 0 ? options_.default_page_size : request.page_size();
  query.snippet_bytes = options_.snippet_bytes;

  absl::MutexLock lock(&mu_);
  SOP_RETURN_IF_ERROR(SyncLocked());
  absl::StatusOr<TextResults> found = index_->Search(query);
  if (absl::IsInvalidArgument(found.status())) {
    return error::InvalidField("query", found.status().message());
  }
  SOP_RETURN_IF_ERROR(found.status());

  v1::SearchSopsResponse response;
  response.set_corrected_query(found->corrected_text);
  for (TextHit& hit : found->hits) {
    auto sop = indexed_.find(hit.id);
    if (sop == indexed_.end()) continue;  // not after a successful sync
    v1::SearchResult* result = response.add_results();
    result->set_sop(hit.id);
    result->set_revision_id(absl::StrCat(sop->second->revision));
    result->set_title(sop->second->body.title());
    result->set_score(hit.score);
    for (TextSpan& span : hit.snippet) {
      v1::SnippetPart* part = result->add_snippet();
      part->set_text(std::move(span.text));
      part->set_highlighted(span.highlighted);
    }
  }
  return response;
}

}  // namespace sopsidebar
