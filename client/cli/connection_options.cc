#include "client/cli/connection_options.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace sopsidebar::cli {
namespace {

// `what` says which flag the file came from: "token file", "--tls-ca file".
absl::StatusOr<std::string> Read(const FileReader& read_file, absl::string_view what,
                                 const std::string& path) {
  absl::StatusOr<std::string> contents = read_file(path);
  if (!contents.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the ", what, " \"", path, "\": ", contents.status().message()));
  }
  return contents;
}

}  // namespace

absl::StatusOr<std::string> ReadFileContents(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(std::strerror(errno));
  std::string contents;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) contents.append(buffer, n);
  // A directory opens but fails to read (EISDIR).
  const int error = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (error != 0) return absl::DataLossError(std::strerror(error));
  return contents;
}

absl::StatusOr<std::string> ReadTrimmedFile(const FileReader& read_file, absl::string_view what,
                                            const std::string& path) {
  SOP_ASSIGN_OR_RETURN(const std::string contents, Read(read_file, what, path));
  std::string trimmed(absl::StripAsciiWhitespace(contents));
  if (trimmed.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " \"", path, "\" is empty"));
  }
  return trimmed;
}

absl::StatusOr<client::ConnectionOptions> MakeConnectionOptions(const GlobalOptions& global,
                                                                const FileReader& read_file) {
  client::ConnectionOptions options;
  options.target = global.server;
  options.timeout = global.timeout;
  options.token = global.token;
  if (!global.token_file.empty()) {
    SOP_ASSIGN_OR_RETURN(options.token, ReadTrimmedFile(read_file, "token file", global.token_file));
  }
  options.tls.enabled = global.tls;
  if (!global.tls_ca_file.empty()) {
    SOP_ASSIGN_OR_RETURN(options.tls.root_ca_pem,
                         Read(read_file, "--tls-ca file", global.tls_ca_file));
  }
  if (!global.tls_cert_file.empty()) {
    SOP_ASSIGN_OR_RETURN(options.tls.client_cert_pem,
                         Read(read_file, "--tls-cert file", global.tls_cert_file));
  }
  if (!global.tls_key_file.empty()) {
    SOP_ASSIGN_OR_RETURN(options.tls.client_key_pem,
                         Read(read_file, "--tls-key file", global.tls_key_file));
  }
  options.tls.server_name_override = global.tls_server_name;
  options.viewer.id = global.viewer_id;
  options.viewer.name = global.viewer_name;
  options.viewer.crm_roles = global.viewer_crm_roles;
  return options;
}

}  // namespace sopsidebar::cli
