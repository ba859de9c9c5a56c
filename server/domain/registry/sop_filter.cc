#include "server/domain/registry/sop_filter.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/utf8.h"

namespace sopsidebar {
namespace {

enum class TokenKind { kWord, kString, kEquals, kColon, kAnd, kEnd };

struct Token {
  TokenKind kind;
  absl::string_view text;  // a word, or a string without its quotes
  size_t offset;           // in bytes
};

bool EndsWord(char c) {
  return absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '=' || c == ':' || c == '"';
}

// Reads `text` a token at a time and reports errors at their position.
class FilterParser {
 public:
  explicit FilterParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<SopFilter> Parse() {
    SopFilter filter;
    SOP_ASSIGN_OR_RETURN(Token token, Next());
    if (token.kind == TokenKind::kEnd) return filter;
    for (;;) {
      SOP_RETURN_IF_ERROR(Term(token, &filter));
      SOP_ASSIGN_OR_RETURN(token, Next());
      if (token.kind == TokenKind::kEnd) return filter;
      if (token.kind != TokenKind::kAnd) {
        return Error(token, absl::StrCat("expected AND, got ", Describe(token)));
      }
      const Token and_token = token;
      SOP_ASSIGN_OR_RETURN(token, Next());
      if (token.kind == TokenKind::kEnd) return Error(and_token, "empty term after AND");
    }
  }

 private:
  absl::StatusOr<Token> Next() {
    while (pos_ < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
    const size_t start = pos_;
    if (start == text_.size()) return Token{TokenKind::kEnd, "", start};
    switch (text_[start]) {
      case '=':
        ++pos_;
        return Token{TokenKind::kEquals, "=", start};
      case ':':
        ++pos_;
        return Token{TokenKind::kColon, ":", start};
      case '"': {
        const size_t close = text_.find('"', start + 1);
        if (close == absl::string_view::npos) {
          return Error(Token{TokenKind::kString, "", start}, "unterminated quote");
        }
        pos_ = close + 1;
        return Token{TokenKind::kString, text_.substr(start + 1, close - start - 1), start};
      }
      default:
        while (pos_ < text_.size() && !EndsWord(text_[pos_])) ++pos_;
        const absl::string_view word = text_.substr(start, pos_ - start);
        return Token{word == "AND" ? TokenKind::kAnd : TokenKind::kWord, word, start};
    }
  }

  // key ("=" | ":") value, with ':' for tags only.
  absl::Status Term(const Token& key, SopFilter* filter) {
    if (key.kind == TokenKind::kAnd) return Error(key, "empty term before AND");
    if (key.kind != TokenKind::kWord) {
      return Error(key, absl::StrCat("expected a key, got ", Describe(key)));
    }
    const bool is_state = key.text == "state";
    const bool is_owner = key.text == "owner";
    const bool is_tags = key.text == "tags" || key.text == "tag";
    if (!is_state && !is_owner && !is_tags) {
      return Error(key, absl::StrCat("unknown key ", error::QuoteInput(key.text)),
                   "; use state, owner or tags");
    }
    SOP_ASSIGN_OR_RETURN(const Token op, Next());
    const bool colon_allowed = key.text == "tags";
    if (op.kind != TokenKind::kEquals && !(colon_allowed && op.kind == TokenKind::kColon)) {
      return Error(op, absl::StrCat("expected ", colon_allowed ? "= or :" : "=", " after ",
                                    key.text, ", got ", Describe(op)));
    }
    SOP_ASSIGN_OR_RETURN(const Token value, Next());
    if (value.kind != TokenKind::kWord && value.kind != TokenKind::kString) {
      return Error(value, absl::StrCat("expected a value, got ", Describe(value)));
    }
    if (value.text.empty()) return Error(value, "empty value");
    if (is_state) {
      v1::Sop::State state;
      if (!v1::Sop::State_Parse(std::string(value.text), &state) ||
          state == v1::Sop::STATE_UNSPECIFIED) {
        return Error(value, absl::StrCat("unknown state ", error::QuoteInput(value.text)),
                     "; expected DRAFT, PUBLISHED or DELETED");
      }
      filter->state = state;
    } else if (is_owner) {
      filter->owner = std::string(value.text);
    } else {
      filter->tags.emplace_back(value.text);
    }
    return absl::OkStatus();
  }

  std::string Describe(const Token& token) const {
    switch (token.kind) {
      case TokenKind::kEnd:
        return "the end";
      case TokenKind::kAnd:
        return "AND";
      default:
        return error::QuoteInput(token.text);
    }
  }

  // "filter: <what> at position <n><hint>" for `what` found at `token`.
  absl::Status Error(const Token& token, absl::string_view what,
                     absl::string_view hint = "") const {
    const size_t position = CountUtf8Chars(text_.substr(0, token.offset));
    return error::InvalidField("filter", absl::StrCat(what, " at position ", position, hint));
  }

  const absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

bool SopFilter::Matches(const v1::Sop& sop) const {
  if (state && sop.state() != *state) return false;
  if (owner && sop.owner() != *owner) return false;
  for (const std::string& tag : tags) {
    if (std::find(sop.tags().begin(), sop.tags().end(), tag) == sop.tags().end()) return false;
  }
  return true;
}

absl::StatusOr<SopFilter> ParseSopFilter(absl::string_view text) {
  return FilterParser(text).Parse();
}

}  // namespace sopsidebar
