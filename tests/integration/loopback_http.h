// Plain HTTP to a sopd gateway on loopback, for tests that scrape /metrics
// or call the gateway without a client library: one exchange per
// connection, and the Prometheus text parsed into samples.
#ifndef SOPSIDEBAR_TESTS_INTEGRATION_LOOPBACK_HTTP_H_
#define SOPSIDEBAR_TESTS_INTEGRATION_LOOPBACK_HTTP_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace sopsidebar::test {

struct HttpReply {
  int status = 0;
  std::string headers;
  std::string body;
};

// One HTTP/1.1 exchange on a fresh connection ("Connection: close", read to
// the end). Status 0 when the connection fails.
inline HttpReply Http(int port, const std::string& method, const std::string& path,
                      const std::string& headers = "", const std::string& body = "") {
  HttpReply reply;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return reply;
  }
  const std::string request =
      absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
                   headers, "Content-Length: ", body.size(), "\r\n\r\n", body);
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::write(fd, request.data() + sent, request.size() - sent);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buffer[16384];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) raw.append(buffer, n);
  ::close(fd);
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || !absl::StartsWith(raw, "HTTP/1.1 ")) return reply;
  reply.headers = raw.substr(0, end);
  reply.body = raw.substr(end + 4);
  if (!absl::SimpleAtoi(raw.substr(9, 3), &reply.status)) reply.status = -1;
  return reply;
}

// The samples of a scrape: "name{labels}" → value.
inline std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(space + 1), &value)) << line;
    samples[std::string(line.substr(0, space))] = value;
  }
  return samples;
}

}  // namespace sopsidebar::test

#endif  // SOPSIDEBAR_TESTS_INTEGRATION_LOOPBACK_HTTP_H_
