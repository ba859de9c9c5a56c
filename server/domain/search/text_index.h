// The domain's port to a full-text index (server/search implements it with
// Xapian): documents of weighted text fields plus boolean filter terms, and
// ranked queries restricted by those terms. It knows nothing of SOPs, orgs
// or roles; SopSearch maps them onto documents and filter terms.
#ifndef SOPSIDEBAR_SERVER_DOMAIN_SEARCH_TEXT_INDEX_H_
#define SOPSIDEBAR_SERVER_DOMAIN_SEARCH_TEXT_INDEX_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sopsidebar {

// One indexed document.
struct TextDocument {
  // Unique in the index: a put of the same id replaces the document.
  std::string id;
  // Text to index, each with its weight (how many times each word counts:
  // 1 for body text, more for a title).
  struct Field {
    std::string text;
    int weight = 1;
  };
  std::vector<Field> fields;
  // Exact terms a query can require (TextQuery::all_of / any_of); never
  // matched by the query's words.
  std::vector<std::string> filter_terms;
  // What snippets are cut from: the fields' text, as a reader reads it.
  std::string snippet_text;
};

struct TextQuery {
  // Words as a user types them: "quoted phrases", the last word also as a
  // prefix; no boolean operators.
  std::string text;
  // Only documents with every one of these filter terms...
  std::vector<std::string> all_of;
  // ...and at least one of these (none: no document matches).
  std::vector<std::string> any_of;
  // Positive: at most this many hits.
  int max_hits = 10;
  // The length of a snippet, in bytes of text around the matches.
  int snippet_bytes = 200;
};

// A piece of a snippet: matched words are highlighted.
struct TextSpan {
  std::string text;
  bool highlighted = false;
};

struct TextHit {
  std::string id;
  // Higher is better; comparable within one result only.
  double score = 0;
  // Plain text in turn: no markup.
  std::vector<TextSpan> snippet;
};

struct TextResults {
  // Best first.
  std::vector<TextHit> hits;
  // The query as answered when it was corrected for spelling, else empty.
  // A correction is answered only with words of documents the query's
  // filter terms admit, so it reveals nothing of the others.
  std::string corrected_text;
};

// Not thread-safe: the owner serialises every call (SopSearch does).
class TextIndex {
 public:
  virtual ~TextIndex() = default;

  // Removes the documents `removes` names (unknown ids are ignored), then
  // adds or replaces `puts`, as one change. INTERNAL when the index fails
  // (it may then hold part of the change: the owner rebuilds it).
  virtual absl::Status Write(const std::vector<TextDocument>& puts,
                             const std::vector<std::string>& removes) = 0;

  // The documents that match `query` and its filters, best first (BM25). A
  // query whose words are unknown to the documents the filters admit, or
  // that finds nothing, is answered as corrected for spelling when a
  // correction finds something. INVALID_ARGUMENT (the parser's reason) when
  // the text cannot be parsed; INTERNAL when the index fails.
  virtual absl::StatusOr<TextResults> Search(const TextQuery& query) const = 0;

  // How many documents the index holds.
  virtual size_t size() const = 0;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_DOMAIN_SEARCH_TEXT_INDEX_H_
