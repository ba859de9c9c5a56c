#include "plugins/drafting/openai/fake_chat_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json_string.h"

namespace sopsidebar {
namespace {

// Reads from `fd` until `done` says the data is complete, the peer closes,
// or 5 s pass without data.
template <typename Done>
std::string ReadUntil(int fd, std::string data, Done done) {
  char chunk[4096];
  while (!done(data)) {
    pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    data.append(chunk, static_cast<size_t>(n));
  }
  return data;
}

void SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

std::string ChatCompletionBody(absl::string_view content) {
  std::string body =
      R"({"id":"chatcmpl-1","object":"chat.completion","model":"fake","choices":[{"index":0,)"
      R"("message":{"role":"assistant","content":)";
  AppendJsonString(content, &body);
  body += R"(},"finish_reason":"stop"}]})";
  return body;
}

absl::StatusOr<std::unique_ptr<FakeChatServer>> FakeChatServer::Start() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 8) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    return absl::InternalError(absl::StrCat("bind/listen: ", why));
  }
  std::unique_ptr<FakeChatServer> server(new FakeChatServer(fd, ntohs(address.sin_port)));
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

FakeChatServer::FakeChatServer(int listener, int port) : listener_(listener), port_(port) {}

FakeChatServer::~FakeChatServer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stopped_cv_.notify_all();
  thread_.join();
  close(listener_);
}

std::string FakeChatServer::base_url() const { return absl::StrCat("http://127.0.0.1:", port_); }

void FakeChatServer::Enqueue(Reply reply) {
  std::lock_guard<std::mutex> lock(mu_);
  script_.push_back(std::move(reply));
}

void FakeChatServer::EnqueueAnswer(absl::string_view content) {
  Enqueue({200, ChatCompletionBody(content), false});
}

std::vector<FakeChatServer::Received> FakeChatServer::received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

void FakeChatServer::Serve() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    pollfd p = {listener_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    const int connection = accept(listener_, nullptr, nullptr);
    if (connection < 0) continue;
    Handle(connection);
    close(connection);
  }
}

void FakeChatServer::Handle(int connection) {
  std::string data = ReadUntil(
      connection, "", [](const std::string& d) { return d.find("\r\n\r\n") != std::string::npos; });
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) return;
  Received request;
  size_t content_length = 0;
  std::vector<std::string> lines = absl::StrSplit(data.substr(0, head_end), "\r\n");
  std::vector<std::string> start = absl::StrSplit(lines[0], ' ');
  if (start.size() >= 2) {
    request.method = start[0];
    request.target = start[1];
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    const std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    const std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    request.headers[name] = value;
    if (name == "content-length") (void)absl::SimpleAtoi(value, &content_length);
  }
  data = ReadUntil(connection, std::move(data),
                   [&](const std::string& d) { return d.size() >= head_end + 4 + content_length; });
  request.body = data.substr(head_end + 4, content_length);

  Reply reply{500, R"({"error":{"message":"no reply scripted"}})", false};
  std::unique_lock<std::mutex> lock(mu_);
  received_.push_back(std::move(request));
  if (!script_.empty()) {
    reply = std::move(script_.front());
    script_.pop_front();
  }
  if (reply.hang) {
    stopped_cv_.wait(lock, [this] { return stopping_; });
    return;
  }
  lock.unlock();
  SendAll(connection,
          absl::StrCat("HTTP/1.1 ", reply.status, " Scripted\r\n",
                       "Content-Type: application/json\r\n", "Content-Length: ", reply.body.size(),
                       "\r\n", "Connection: close\r\n\r\n", reply.body));
}

}  // namespace sopsidebar
