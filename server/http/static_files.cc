#include "server/http/static_files.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/percent_encoding.h"
#include "common/status_macros.h"

namespace sopsidebar {
namespace {

// The real path of `path`, or empty when it does not exist.
std::string RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return "";
  return resolved;
}

absl::string_view BaseName(absl::string_view path) {
  size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

absl::string_view ContentTypeForPath(absl::string_view path) {
  absl::string_view name = BaseName(path);
  size_t dot = name.rfind('.');
  if (dot == absl::string_view::npos) return "application/octet-stream";
  std::string ext = absl::AsciiStrToLower(name.substr(dot + 1));
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  return "application/octet-stream";
}

absl::string_view CacheControlForPath(absl::string_view path) {
  absl::string_view name = BaseName(path);
  if (absl::EndsWithIgnoreCase(name, ".html") || absl::EndsWithIgnoreCase(name, ".htm")) {
    return "no-cache";
  }
  std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  // A hash is a middle part: never the first (the name) nor the last (the
  // extension).
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    if (parts[i].size() >= 8 && absl::c_all_of(parts[i], absl::ascii_isxdigit)) {
      return "public, max-age=31536000, immutable";
    }
  }
  return "public, max-age=300";
}

absl::StatusOr<std::string> DecodeUrlPath(absl::string_view url_path) {
  if (url_path.empty() || url_path[0] != '/') {
    return error::InvalidField("path", "must start with /");
  }
  SOP_ASSIGN_OR_RETURN(const std::string decoded,
                       PercentDecode("path", url_path, /*plus_is_space=*/false));
  if (absl::StrContains(decoded, '\0') || absl::StrContains(decoded, '\\')) {
    return error::InvalidField("path", "has a NUL or a backslash");
  }
  for (absl::string_view segment : absl::StrSplit(decoded, '/')) {
    if (segment == "." || segment == "..") {
      return error::InvalidField("path", "has a . or .. segment");
    }
  }
  return decoded;
}

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {}

absl::StatusOr<StaticFile> StaticFiles::Get(absl::string_view url_path) const {
  absl::StatusOr<std::string> path = DecodeUrlPath(url_path);
  if (!path.ok()) return path.status();
  absl::Status not_found = absl::NotFoundError(absl::StrCat("no file ", error::QuoteInput(*path)));
  std::string root = RealPath(root_);
  if (root.empty()) return not_found;
  std::string wanted = absl::StrCat(root, *path);
  if (absl::EndsWith(wanted, "/")) wanted += "index.html";
  std::string real = RealPath(wanted);
  if (real.empty() || (real != root && !absl::StartsWith(real, root + "/"))) return not_found;
  struct stat info;
  if (stat(real.c_str(), &info) != 0) return not_found;
  StaticFile file;
  if (S_ISDIR(info.st_mode)) {
    if (absl::EndsWith(*path, "/")) return not_found;
    file.redirect = absl::StrCat(*path, "/");
    return file;
  }
  if (!S_ISREG(info.st_mode) || static_cast<size_t>(info.st_size) > kMaxFileBytes) {
    return not_found;
  }
  std::ifstream in(real, std::ios::binary);
  if (!in) return not_found;
  file.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  file.content_type = std::string(ContentTypeForPath(real));
  file.cache_control = std::string(CacheControlForPath(real));
  return file;
}

}  // namespace sopsidebar
