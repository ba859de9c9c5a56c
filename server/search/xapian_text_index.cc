#include "server/search/xapian_text_index.h"

#include <stdlib.h>
#include <xapian.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/errors.h"

namespace sopsidebar {
namespace {

// Term prefixes (Xapian's convention: upper case, so never a word's term,
// which the term generator lower-cases): the document's id and its filter
// terms.
constexpr absl::string_view kIdPrefix = "Q";
constexpr absl::string_view kFilterPrefix = "XF";

// Marks of the matches in MSet::snippet's output: control characters, which
// the indexed text is cleared of first.
constexpr char kHighlightStart = '\x01';
constexpr char kHighlightEnd = '\x02';
constexpr absl::string_view kOmitted = "\xE2\x80\xA6";  // …

// Words, "quoted phrases" and a trailing prefix; no boolean operators, so no
// input is a syntax error.
constexpr unsigned kParseFlags = Xapian::QueryParser::FLAG_PHRASE |
                                 Xapian::QueryParser::FLAG_PARTIAL |
                                 Xapian::QueryParser::FLAG_SPELLING_CORRECTION;

std::string IdTerm(absl::string_view id) { return absl::StrCat(kIdPrefix, id); }
std::string FilterTerm(absl::string_view term) { return absl::StrCat(kFilterPrefix, term); }

absl::Status Failed(absl::string_view what, const Xapian::Error& e) {
  return error::SearchIndex(what, e.get_description());
}

// Decodes the entities MSet::snippet writes (&amp; &lt; &gt; &quot; and
// numeric ones for the apostrophe), in one pass.
std::string UnescapeHtml(absl::string_view text) {
  static constexpr std::pair<absl::string_view, absl::string_view> kEntities[] = {
      {"&amp;", "&"},   {"&lt;", "<"},  {"&gt;", ">"},
      {"&quot;", "\""}, {"&#39;", "'"}, {"&apos;", "'"},
  };
  return absl::StrReplaceAll(
      text, {kEntities[0], kEntities[1], kEntities[2], kEntities[3], kEntities[4], kEntities[5]});
}

// The snippet's parts, split at the highlight marks.
std::vector<TextSpan> SplitSnippet(absl::string_view marked) {
  std::vector<TextSpan> spans;
  bool highlighted = false;
  size_t start = 0;
  auto flush = [&](size_t end) {
    if (end > start) {
      spans.push_back({UnescapeHtml(marked.substr(start, end - start)), highlighted});
    }
  };
  for (size_t i = 0; i < marked.size(); ++i) {
    if (marked[i] != kHighlightStart && marked[i] != kHighlightEnd) continue;
    flush(i);
    highlighted = marked[i] == kHighlightStart;
    start = i + 1;
  }
  flush(marked.size());
  // Adjacent highlighted words ("first contact") read as one part.
  std::vector<TextSpan> merged;
  for (TextSpan& span : spans) {
    if (!merged.empty() && merged.back().highlighted == span.highlighted) {
      merged.back().text += span.text;
    } else {
      merged.push_back(std::move(span));
    }
  }
  return merged;
}

std::string WithoutMarks(absl::string_view text) {
  std::string clean(text);
  std::replace(clean.begin(), clean.end(), kHighlightStart, ' ');
  std::replace(clean.begin(), clean.end(), kHighlightEnd, ' ');
  return clean;
}

// The plain word terms the term generator makes of `text` (unstemmed, lower
// case).
std::set<std::string> WordsOf(const std::string& text) {
  Xapian::TermGenerator words;
  Xapian::Document scratch;
  words.set_document(scratch);
  words.index_text(text);
  std::set<std::string> terms;
  for (auto term = scratch.termlist_begin(); term != scratch.termlist_end(); ++term) {
    terms.insert(*term);
  }
  return terms;
}

}  // namespace

struct XapianTextIndex::Impl {
  Impl(std::string directory, Xapian::WritableDatabase db)
      : directory(std::move(directory)), db(std::move(db)), stemmer("english") {}
  ~Impl() {
    try {
      db.close();
    } catch (const Xapian::Error&) {
      // Removed below either way.
    }
    std::error_code ignored;
    std::filesystem::remove_all(directory, ignored);
  }

  Xapian::QueryParser Parser() const {
    Xapian::QueryParser parser;
    parser.set_database(db);
    parser.set_stemmer(stemmer);
    parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    return parser;
  }

  Xapian::MSet Run(const Xapian::Query& words, const Xapian::Query& filter, int max_hits) const {
    Xapian::Enquire enquire(db);
    enquire.set_weighting_scheme(Xapian::BM25Weight());
    enquire.set_query(Xapian::Query(Xapian::Query::OP_FILTER, words, filter));
    return enquire.get_mset(0, max_hits);
  }

  // Whether some word of `text` occurs in no document `filter` admits,
  // neither as written nor by its stem ("minute" is known when "minutes"
  // is indexed). Xapian proposes corrections for words no document holds
  // as written, whatever their stems.
  bool HasUnknownWord(const std::string& text, const Xapian::Query& filter) const {
    for (const std::string& word : WordsOf(text)) {
      const Xapian::Query known(Xapian::Query::OP_OR, Xapian::Query(word),
                                Xapian::Query(absl::StrCat("Z", stemmer(word))));
      if (Run(known, filter, 1).empty()) return true;
    }
    return false;
  }

  // Whether every word of `corrected` that `original` lacks occurs in a
  // document `filter` admits: a correction never shows a word of another
  // org's SOP, or of one the caller's roles do not see.
  bool CorrectionIsVisible(const std::string& original, const std::string& corrected,
                           const Xapian::Query& filter) const {
    const std::set<std::string> before = WordsOf(original);
    for (const std::string& word : WordsOf(corrected)) {
      if (before.count(word) > 0) continue;
      if (Run(Xapian::Query(word), filter, 1).empty()) return false;
    }
    return true;
  }

  const std::string directory;
  mutable Xapian::WritableDatabase db;
  const Xapian::Stem stemmer;
};

absl::StatusOr<std::unique_ptr<XapianTextIndex>> XapianTextIndex::Create(
    const std::string& parent_dir) {
  std::string parent = parent_dir;
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = absl::StrCat(parent, "/sopd-search-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return error::SearchIndex(absl::StrCat("creating a directory in ", parent),
                              std::strerror(errno));
  }
  try {
    // Rebuilt at every start: no fsync.
    Xapian::WritableDatabase db(
        pattern, Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_NO_SYNC | Xapian::DB_BACKEND_GLASS);
    return std::unique_ptr<XapianTextIndex>(
        new XapianTextIndex(std::make_unique<Impl>(pattern, std::move(db))));
  } catch (const Xapian::Error& e) {
    std::error_code ignored;
    std::filesystem::remove_all(pattern, ignored);
    return Failed(absl::StrCat("creating the database in ", pattern), e);
  }
}

XapianTextIndex::XapianTextIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

XapianTextIndex::~XapianTextIndex() = default;

const std::string& XapianTextIndex::directory() const { return impl_->directory; }

absl::Status XapianTextIndex::Write(const std::vector<TextDocument>& puts,
                                    const std::vector<std::string>& removes) {
  try {
    Xapian::WritableDatabase& db = impl_->db;
    for (const std::string& id : removes) db.delete_document(IdTerm(id));
    Xapian::TermGenerator generator;
    generator.set_stemmer(impl_->stemmer);
    generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    generator.set_database(db);
    generator.set_flags(Xapian::TermGenerator::FLAG_SPELLING);
    for (const TextDocument& put : puts) {
      Xapian::Document doc;
      generator.set_document(doc);
      for (const TextDocument::Field& field : put.fields) {
        generator.index_text(WithoutMarks(field.text), std::max(field.weight, 1));
        // No phrase spans two fields.
        generator.increase_termpos();
      }
      for (const std::string& term : put.filter_terms) doc.add_boolean_term(FilterTerm(term));
      doc.add_boolean_term(IdTerm(put.id));
      doc.set_data(WithoutMarks(put.snippet_text));
      db.replace_document(IdTerm(put.id), doc);
    }
    db.commit();
    return absl::OkStatus();
  } catch (const Xapian::Error& e) {
    return Failed("writing", e);
  }
}

absl::StatusOr<TextResults> XapianTextIndex::Search(const TextQuery& query) const {
  TextResults results;
  if (query.any_of.empty() || query.max_hits <= 0) return results;
  try {
    std::vector<Xapian::Query> all_of;
    for (const std::string& term : query.all_of) all_of.emplace_back(FilterTerm(term));
    std::vector<Xapian::Query> any_of;
    for (const std::string& term : query.any_of) any_of.emplace_back(FilterTerm(term));
    all_of.emplace_back(Xapian::Query::OP_OR, any_of.begin(), any_of.end());
    const Xapian::Query filter(Xapian::Query::OP_AND, all_of.begin(), all_of.end());

    Xapian::QueryParser parser = impl_->Parser();
    Xapian::Query words;
    try {
      words = parser.parse_query(query.text, kParseFlags);
    } catch (const Xapian::QueryParserError& e) {
      return absl::InvalidArgumentError(e.get_msg());
    }
    std::string corrected = parser.get_corrected_query_string();
    Xapian::MSet found = impl_->Run(words, filter, query.max_hits);
    if (corrected.empty() && found.empty()) {
      // The last word was read as a prefix, which Xapian does not correct:
      // when nothing was found, correct it as a whole word.
      Xapian::QueryParser whole = impl_->Parser();
      whole.parse_query(absl::StrCat(query.text, " "), kParseFlags);
      corrected =
          std::string(absl::StripTrailingAsciiWhitespace(whole.get_corrected_query_string()));
    }
    // A correction is answered when the query as typed finds nothing or
    // holds a word unknown to the documents the filter admits, and only
    // with words of those documents.
    if (!corrected.empty() && corrected != query.text &&
        (found.empty() || impl_->HasUnknownWord(query.text, filter)) &&
        impl_->CorrectionIsVisible(query.text, corrected, filter)) {
      Xapian::QueryParser again = impl_->Parser();
      Xapian::MSet better =
          impl_->Run(again.parse_query(
                         corrected, kParseFlags & ~Xapian::QueryParser::FLAG_SPELLING_CORRECTION),
                     filter, query.max_hits);
      if (!better.empty()) {
        found = std::move(better);
        results.corrected_text = corrected;
      }
    }
    for (Xapian::MSetIterator hit = found.begin(); hit != found.end(); ++hit) {
      const Xapian::Document doc = hit.get_document();
      TextHit& out = results.hits.emplace_back();
      // The id term is the document's only one starting with kIdPrefix.
      Xapian::TermIterator id = doc.termlist_begin();
      id.skip_to(std::string(kIdPrefix));
      if (id != doc.termlist_end()) out.id = (*id).substr(kIdPrefix.size());
      out.score = hit.get_weight();
      out.snippet = SplitSnippet(found.snippet(
          doc.get_data(), static_cast<size_t>(std::max(query.snippet_bytes, 1)), impl_->stemmer,
          Xapian::MSet::SNIPPET_BACKGROUND_MODEL, std::string(1, kHighlightStart),
          std::string(1, kHighlightEnd), std::string(kOmitted)));
    }
    return results;
  } catch (const Xapian::Error& e) {
    return Failed("searching", e);
  }
}

size_t XapianTextIndex::size() const {
  try {
    return impl_->db.get_doccount();
  } catch (const Xapian::Error&) {
    return 0;
  }
}

}  // namespace sopsidebar
