#include "client/bench/http_load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sopsidebar::bench {

struct HttpLoad::Connection {
  int fd = -1;
  std::string in;  // what was read of the current response
  Done done;
  std::string body;  // the last response's
};

absl::StatusOr<std::unique_ptr<HttpLoad>> HttpLoad::Connect(const std::string& address,
                                                            int connections) {
  std::vector<std::string> host_port = absl::StrSplit(address, ':');
  int port = 0;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  if (host_port.size() != 2 || !absl::SimpleAtoi(host_port[1], &port) ||
      inet_pton(AF_INET, host_port[0].c_str(), &to.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 HOST:PORT: ", address));
  }
  to.sin_port = htons(static_cast<uint16_t>(port));
  std::unique_ptr<HttpLoad> load(new HttpLoad());
  load->epoll_ = epoll_create1(EPOLL_CLOEXEC);
  load->wake_ = eventfd(0, EFD_CLOEXEC);
  epoll_event wake_event{};
  wake_event.events = EPOLLIN;
  wake_event.data.u64 = ~uint64_t{0};
  epoll_ctl(load->epoll_, EPOLL_CTL_ADD, load->wake_, &wake_event);
  for (int i = 0; i < connections; ++i) {
    auto c = std::make_unique<Connection>();
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(c->fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
      const int err = errno;
      close(c->fd);
      return absl::UnavailableError(absl::StrCat("connect ", address, ": ", strerror(err)));
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = static_cast<uint64_t>(i);
    epoll_ctl(load->epoll_, EPOLL_CTL_ADD, c->fd, &event);
    load->connections_.push_back(std::move(c));
  }
  load->thread_ = std::thread([l = load.get()] { l->Loop(); });
  return load;
}

HttpLoad::~HttpLoad() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!write(wake_, &one, sizeof(one));
    thread_.join();
  }
  for (auto& c : connections_) close(c->fd);
  if (wake_ >= 0) close(wake_);
  if (epoll_ >= 0) close(epoll_);
}

void HttpLoad::Send(int connection, const std::string* request, Done done) {
  Connection& c = *connections_[connection];
  c.done = std::move(done);
  size_t sent = 0;
  while (sent < request->size()) {
    const ssize_t n = write(c.fd, request->data() + sent, request->size() - sent);
    if (n <= 0) {
      Done failed = std::move(c.done);
      failed(absl::UnavailableError(absl::StrCat("write: ", strerror(errno))));
      return;
    }
    sent += static_cast<size_t>(n);
  }
}

std::string HttpLoad::last_body(int connection) { return connections_[connection]->body; }

bool HttpLoad::Complete(Connection& c, absl::Status* status) {
  const size_t head_end = c.in.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  const absl::string_view head(c.in.data(), head_end);
  size_t length = 0;
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    if (absl::StartsWithIgnoreCase(line, "content-length:")) {
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &length);
    }
  }
  if (c.in.size() < head_end + 4 + length) return false;
  const absl::string_view status_line = head.substr(0, head.find("\r\n"));
  *status =
      absl::StartsWith(status_line, "HTTP/1.1 200")
          ? absl::OkStatus()
          : absl::InternalError(absl::StrCat(status_line, ": ", c.in.substr(head_end + 4, length)));
  c.body = c.in.substr(head_end + 4, length);
  c.in.erase(0, head_end + 4 + length);
  return true;
}

void HttpLoad::Loop() {
  epoll_event events[64];
  char buffer[64 * 1024];
  for (;;) {
    const int n = epoll_wait(epoll_, events, 64, -1);
    for (int e = 0; e < n; ++e) {
      if (events[e].data.u64 == ~uint64_t{0}) return;
      Connection& c = *connections_[events[e].data.u64];
      const ssize_t got = read(c.fd, buffer, sizeof(buffer));
      absl::Status status;
      if (got <= 0) {
        status = absl::UnavailableError("the server closed the connection");
      } else {
        c.in.append(buffer, static_cast<size_t>(got));
        if (!Complete(c, &status)) continue;
      }
      if (!c.done) continue;
      Done done = std::move(c.done);
      done(status);
      if (got <= 0) epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    }
  }
}

std::string ConnectRequest(const std::string& host, const std::string& path,
                           const std::string& content_type, const std::string& authorization,
                           const std::string& body) {
  return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: ", host,
                      "\r\nContent-Type: ", content_type,
                      "\r\nConnect-Protocol-Version: 1\r\nAuthorization: ", authorization,
                      "\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
}

}  // namespace sopsidebar::bench
