#include "server/domain/store/in_memory_sop_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace sopsidebar {

absl::StatusOr<v1::Sop> InMemorySopStore::GetHead(const SopName& name) const {
  absl::MutexLock lock(&mu_);
  auto it = heads_.find({name.org, name.sop});
  if (it == heads_.end()) return error::SopNotFound(name.Full());
  return it->second;
}

absl::StatusOr<v1::SopRevision> InMemorySopStore::GetRevision(const RevisionName& name) const {
  absl::MutexLock lock(&mu_);
  auto it = revisions_.find({name.sop.org, name.sop.sop, name.revision});
  if (it == revisions_.end()) return error::RevisionNotFound(name.Full());
  return it->second;
}

absl::StatusOr<std::vector<v1::Sop>> InMemorySopStore::ListHeads(absl::string_view org,
                                                                 absl::string_view start_after,
                                                                 int limit) const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Sop> out;
  for (auto it = heads_.upper_bound({std::string(org), std::string(start_after)});
       it != heads_.end() && it->first.first == org && static_cast<int>(out.size()) < limit;
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::vector<v1::SopRevision>> InMemorySopStore::ListRevisions(
    const SopName& sop, int64_t before, int limit) const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::SopRevision> out;
  auto end = revisions_.lower_bound({sop.org, sop.sop, before > 0 ? before : INT64_MAX});
  auto begin = revisions_.lower_bound({sop.org, sop.sop, 0});
  for (auto it = end; it != begin && static_cast<int>(out.size()) < limit;) {
    --it;
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::optional<std::string>> InMemorySopStore::FindRequest(
    absl::string_view org, const CreateRequest& request) const {
  absl::MutexLock lock(&mu_);
  auto it = requests_.find({std::string(org), request.user_id, request.request_id});
  if (it == requests_.end()) return std::nullopt;
  return it->second;
}

absl::Status InMemorySopStore::ForEachHead(const std::function<absl::Status(v1::Sop&&)>& fn) const {
  std::map<Key, v1::Sop> heads;
  {
    absl::MutexLock lock(&mu_);
    heads = heads_;
  }
  for (auto& [key, head] : heads) SOP_RETURN_IF_ERROR(fn(std::move(head)));
  return absl::OkStatus();
}

absl::Status InMemorySopStore::Write(const SopWrite& write) {
  SOP_ASSIGN_OR_RETURN(SopWriteKeys keys, CheckSopWrite(write));
  absl::MutexLock lock(&mu_);
  auto revision_key = std::make_tuple(keys.sop.org, keys.sop.sop, keys.revision.revision);
  if (revisions_.count(revision_key) > 0) {
    // Another writer made this revision since the head was read.
    return error::EtagMismatch(keys.sop.Full());
  }
  heads_[{keys.sop.org, keys.sop.sop}] = write.head;
  revisions_[revision_key] = write.revision;
  if (write.request) {
    requests_[{keys.sop.org, write.request->user_id, write.request->request_id}] =
        write.head.name();
  }
  if (write.audit) audit_[{keys.sop.org, write.audit->sequence()}] = *write.audit;
  ++write_count_;
  return absl::OkStatus();
}

absl::StatusOr<v1::Comment> InMemorySopStore::GetComment(const CommentName& name) const {
  absl::MutexLock lock(&mu_);
  auto it = comments_.find({name.sop.org, name.sop.sop, name.comment});
  if (it == comments_.end()) return error::CommentNotFound(name.Full());
  return it->second;
}

absl::StatusOr<std::vector<v1::Comment>> InMemorySopStore::ListComments(const SopName& sop) const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Comment> out;
  for (auto it = comments_.lower_bound({sop.org, sop.sop, ""});
       it != comments_.end() && std::get<0>(it->first) == sop.org &&
       std::get<1>(it->first) == sop.sop;
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::Status InMemorySopStore::WriteComment(const CommentWrite& write) {
  SOP_ASSIGN_OR_RETURN(CommentName name, ParseCommentName("comment.name", write.comment.name()));
  SOP_ASSIGN_OR_RETURN(std::string org, CheckAuditEvent(write.audit));
  if (org != name.sop.org) return error::InvalidField("audit.name", "is not in the comment's org");
  absl::MutexLock lock(&mu_);
  comments_[{name.sop.org, name.sop.sop, name.comment}] = write.comment;
  audit_[{org, write.audit.sequence()}] = write.audit;
  ++write_count_;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::AuditEvent>> InMemorySopStore::ListAuditEvents(absl::string_view org,
                                                                              int64_t after,
                                                                              int limit) const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::AuditEvent> out;
  for (auto it = audit_.upper_bound({std::string(org), after});
       it != audit_.end() && it->first.first == org && static_cast<int>(out.size()) < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::optional<v1::AuditEvent>> InMemorySopStore::LastAuditEvent(
    absl::string_view org) const {
  absl::MutexLock lock(&mu_);
  auto it = audit_.lower_bound({std::string(org) + '\0', 0});
  if (it == audit_.begin()) return std::nullopt;
  --it;
  if (it->first.first != org) return std::nullopt;
  return it->second;
}

void InMemorySopStore::PutHeadUnchecked(absl::string_view org, absl::string_view sop,
                                        v1::Sop head) {
  absl::MutexLock lock(&mu_);
  heads_[{std::string(org), std::string(sop)}] = std::move(head);
}

int InMemorySopStore::write_count() const {
  absl::MutexLock lock(&mu_);
  return write_count_;
}

absl::StatusOr<v1::SopTemplate> InMemorySopStore::GetTemplate(const TemplateName& name) const {
  absl::MutexLock lock(&mu_);
  auto it = templates_.find({name.org, name.template_id});
  if (it == templates_.end()) return error::TemplateNotFound(name.Full());
  return it->second;
}

absl::StatusOr<std::vector<v1::SopTemplate>> InMemorySopStore::ListTemplates(
    absl::string_view org, absl::string_view start_after, int limit) const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::SopTemplate> out;
  for (auto it = templates_.upper_bound({std::string(org), std::string(start_after)});
       it != templates_.end() && it->first.first == org && static_cast<int>(out.size()) < limit;
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::Status InMemorySopStore::WriteTemplate(const TemplateWrite& write) {
  SOP_ASSIGN_OR_RETURN(TemplateName name, CheckTemplateWrite(write));
  absl::MutexLock lock(&mu_);
  if (write.put) {
    templates_[{name.org, name.template_id}] = *write.put;
  } else {
    templates_.erase({name.org, name.template_id});
  }
  audit_[{name.org, write.audit.sequence()}] = write.audit;
  ++write_count_;
  return absl::OkStatus();
}

}  // namespace sopsidebar
