// A SopStore and TemplateStore in memory (one audit trail for both), for
// tests of the layers above storage. Thread-safe.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_SOP_STORE_H_
#define SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_SOP_STORE_H_

#include <map>
#include <string>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/store/sop_store.h"
#include "server/domain/store/template_store.h"

namespace sopsidebar {

class InMemorySopStore : public SopStore, public TemplateStore {
 public:
  absl::StatusOr<v1::Sop> GetHead(const SopName& name) const override;
  absl::StatusOr<v1::SopRevision> GetRevision(const RevisionName& name) const override;
  absl::StatusOr<std::vector<v1::Sop>> ListHeads(absl::string_view org,
                                                 absl::string_view start_after,
                                                 int limit) const override;
  absl::StatusOr<std::vector<v1::SopRevision>> ListRevisions(const SopName& sop,
                                                             int64_t before,
                                                             int limit) const override;
  absl::StatusOr<std::optional<std::string>> FindRequest(
      absl::string_view org, const CreateRequest& request) const override;
  absl::Status ForEachHead(const std::function<absl::Status(v1::Sop&&)>& fn) const override;
  absl::Status Write(const SopWrite& write) override;
  absl::StatusOr<v1::Comment> GetComment(const CommentName& name) const override;
  absl::StatusOr<std::vector<v1::Comment>> ListComments(const SopName& sop) const override;
  absl::Status WriteComment(const CommentWrite& write) override;
  absl::StatusOr<std::vector<v1::AuditEvent>> ListAuditEvents(absl::string_view org, int64_t after,
                                                              int limit) const override;
  absl::StatusOr<std::optional<v1::AuditEvent>> LastAuditEvent(
      absl::string_view org) const override;

  absl::StatusOr<v1::SopTemplate> GetTemplate(const TemplateName& name) const override;
  absl::StatusOr<std::vector<v1::SopTemplate>> ListTemplates(absl::string_view org,
                                                             absl::string_view start_after,
                                                             int limit) const override;
  absl::Status WriteTemplate(const TemplateWrite& write) override;

  // How many writes succeeded.
  int write_count() const;

  // Stores `head` as the head under the key (org, sop) without checking it
  // or writing a revision, as a damaged or hand-edited database would hold
  // it: for tests of how readers treat corrupt records.
  void PutHeadUnchecked(absl::string_view org, absl::string_view sop, v1::Sop head);

 private:
  using Key = std::pair<std::string, std::string>;  // (org, sop)
  mutable absl::Mutex mu_;
  std::map<Key, v1::Sop> heads_ ABSL_GUARDED_BY(mu_);
  std::map<std::tuple<std::string, std::string, int64_t>, v1::SopRevision> revisions_
      ABSL_GUARDED_BY(mu_);
  // (org, user, request id) -> name
  std::map<std::tuple<std::string, std::string, std::string>, std::string> requests_
      ABSL_GUARDED_BY(mu_);
  // (org, sop, comment id) -> comment
  std::map<std::tuple<std::string, std::string, std::string>, v1::Comment> comments_
      ABSL_GUARDED_BY(mu_);
  // (org, sequence) -> event
  std::map<std::pair<std::string, int64_t>, v1::AuditEvent> audit_ ABSL_GUARDED_BY(mu_);
  // (org, template id) -> template
  std::map<Key, v1::SopTemplate> templates_ ABSL_GUARDED_BY(mu_);
  int write_count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_STORE_IN_MEMORY_SOP_STORE_H_
