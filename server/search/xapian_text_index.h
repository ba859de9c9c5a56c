// The Xapian implementation of the domain's TextIndex port
// (server/domain/search/text_index.h): the only code that sees xapian::.
//
// The database lives in a temporary directory of its own (Xapian's
// in-memory backend keeps no spelling data), removed with the index: sopd
// rebuilds it from the registry at every start, so nothing in it needs to
// survive. Words are indexed and parsed with the English stemmer (a word
// matches its stem's other forms), positions (for "quoted phrases") and
// spelling data (for corrections); ranking is Xapian's BM25Weight with its
// default parameters. Queries are parsed without boolean operators (AND,
// NOT, brackets are words), the last word also matching as a prefix.
//
// Snippets are MSet::snippet's excerpt, the matches marked, turned into
// plain TextSpans (Xapian escapes the excerpt as HTML; the spans are
// unescaped).
//
// Not thread-safe (a Xapian database is not): the owner serialises calls.
#ifndef SOPSIDEBAR_SERVER_SEARCH_XAPIAN_TEXT_INDEX_H_
#define SOPSIDEBAR_SERVER_SEARCH_XAPIAN_TEXT_INDEX_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/domain/search/text_index.h"

namespace sopsidebar {

class XapianTextIndex final : public TextIndex {
 public:
  // An empty index in a new directory under `parent_dir` ("": $TMPDIR, or
  // /tmp). INTERNAL when the directory or the database cannot be created.
  static absl::StatusOr<std::unique_ptr<XapianTextIndex>> Create(
      const std::string& parent_dir = "");
  // Closes the database and removes its directory.
  ~XapianTextIndex() override;

  absl::Status Write(const std::vector<TextDocument>& puts,
                     const std::vector<std::string>& removes) override;
  absl::StatusOr<TextResults> Search(const TextQuery& query) const override;
  size_t size() const override;

  // The directory the database lives in.
  const std::string& directory() const;

 private:
  struct Impl;
  explicit XapianTextIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SEARCH_XAPIAN_TEXT_INDEX_H_
