// The demo's static files, served from one directory: path resolution that
// refuses traversal (".." segments, also percent-encoded, and symlinks that
// lead outside the directory), Content-Type by extension, and the
// Cache-Control policy:
//   - .html: "no-cache" (always revalidated, so a new deploy shows at once);
//   - names with a content hash ("app.3f9a2c1d.js": a dot-separated part of
//     8 or more hex digits): "public, max-age=31536000, immutable";
//   - everything else: "public, max-age=300".
// No HTTP library types. Thread-safe (reads the file system on each call).
#ifndef SOPSIDEBAR_SERVER_HTTP_STATIC_FILES_H_
#define SOPSIDEBAR_SERVER_HTTP_STATIC_FILES_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sopsidebar {

struct StaticFile {
  std::string body;
  std::string content_type;
  std::string cache_control;
  // Set instead of a body when the path names a directory without its
  // trailing slash: where to redirect ("/demo" -> "/demo/").
  std::string redirect;
};

// The Content-Type for a file name by its extension
// ("application/octet-stream" when unknown).
absl::string_view ContentTypeForPath(absl::string_view path);

// The Cache-Control of a file name, as the policy above says.
absl::string_view CacheControlForPath(absl::string_view path);

// The URL path `url_path` percent-decoded and checked: INVALID_ARGUMENT for
// a path that is not absolute, has a bad escape, NUL, backslash, or a "." or
// ".." segment. Thread-safe.
absl::StatusOr<std::string> DecodeUrlPath(absl::string_view url_path);

class StaticFiles {
 public:
  // Files larger than this are not served (NOT_FOUND).
  static constexpr size_t kMaxFileBytes = 16 << 20;

  // Serves the files under `root`.
  explicit StaticFiles(std::string root);

  // The file at `url_path` (query string already removed): "dir/" serves
  // "dir/index.html". INVALID_ARGUMENT for the paths DecodeUrlPath refuses;
  // NOT_FOUND for missing files, special files, files larger than
  // kMaxFileBytes and anything whose real path is outside the root.
  absl::StatusOr<StaticFile> Get(absl::string_view url_path) const;

 private:
  std::string root_;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_HTTP_STATIC_FILES_H_
