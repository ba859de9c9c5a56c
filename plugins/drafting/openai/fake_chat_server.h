// A fake OpenAI-compatible chat-completions server for tests: a real HTTP/1.1
// listener on a loopback port, answering each request with the next
// scripted reply and recording what it received. One connection at a time,
// each closed after its reply. Thread-safe.
#ifndef SOPSIDEBAR_PLUGINS_DRAFTING_OPENAI_FAKE_CHAT_SERVER_H_
#define SOPSIDEBAR_PLUGINS_DRAFTING_OPENAI_FAKE_CHAT_SERVER_H_

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sopsidebar {

class FakeChatServer {
 public:
  struct Reply {
    int status = 200;
    std::string body;
    // Read the request, then send nothing until the server stops.
    bool hang = false;
  };
  struct Received {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
  };

  // Listens on 127.0.0.1 on a port of its own.
  static absl::StatusOr<std::unique_ptr<FakeChatServer>> Start();
  ~FakeChatServer();

  // "http://127.0.0.1:<port>".
  std::string base_url() const;

  // Queues the reply to the next request without one; requests beyond the
  // script get HTTP 500 "no reply scripted".
  void Enqueue(Reply reply);
  // 200 with a chat completion whose choices[0].message.content is
  // `content`.
  void EnqueueAnswer(absl::string_view content);

  std::vector<Received> received() const;

 private:
  explicit FakeChatServer(int listener, int port);
  void Serve();
  void Handle(int connection);

  const int listener_;
  const int port_;
  mutable std::mutex mu_;
  std::condition_variable stopped_cv_;
  bool stopping_ = false;
  std::deque<Reply> script_;
  std::vector<Received> received_;
  std::thread thread_;
};

// A chat-completions response body answering `content`.
std::string ChatCompletionBody(absl::string_view content);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_PLUGINS_DRAFTING_OPENAI_FAKE_CHAT_SERVER_H_
