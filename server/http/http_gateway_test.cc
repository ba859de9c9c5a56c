// The gateway over real sockets on 127.0.0.1, against a hand-built table of
// methods (echoes, errors, a broadcast hub for streams) run by the real
// Dispatcher with real tokens: what a browser, curl or a Connect client sees
// on the wire.
#include "server/http/http_gateway.h"

#include <dirent.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/domain/auth/access_registry.h"
#include "server/domain/store/in_memory_auth_store.h"
#include "server/http/connect_protocol.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"

namespace sopsidebar {
namespace {

using ::testing::HasSubstr;
using ::testing::Lt;
using ::testing::Not;

constexpr char kLookup[] = "/sopsidebar.v1.ContextService/LookupSops";
constexpr char kGetSop[] = "/sopsidebar.v1.SopService/GetSop";
constexpr char kWatch[] = "/sopsidebar.v1.ContextService/WatchSops";

// --- The fake API -----------------------------------------------------------

// Every open stream's sink, for broadcasting from the test.
class Hub {
 public:
  class Subscription final : public MessageSubscription {
   public:
    Subscription(Hub* hub, std::shared_ptr<MessageSink> sink) : hub_(hub), sink_(sink) {
      absl::MutexLock lock(&hub_->mu_);
      hub_->sinks_.insert(sink_.get());
    }
    ~Subscription() override {
      absl::MutexLock lock(&hub_->mu_);
      hub_->sinks_.erase(sink_.get());
    }

   private:
    Hub* const hub_;
    const std::shared_ptr<MessageSink> sink_;
  };

  void Broadcast(const std::string& message) {
    absl::MutexLock lock(&mu_);
    for (MessageSink* sink : sinks_) sink->Send(message);
  }
  void CloseAll(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    for (MessageSink* sink : sinks_) sink->Close(status);
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return sinks_.size();
  }
  // Waits up to 10 s for `n` open subscriptions.
  bool WaitFor(size_t n) {
    for (int i = 0; i < 1000; ++i) {
      if (size() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  absl::Mutex mu_;
  std::set<MessageSink*> sinks_ ABSL_GUARDED_BY(mu_);
};

std::string Result(absl::string_view sop, int cadence_day) {
  v1::WatchSopsResponse response;
  v1::SopMatch* match = response.mutable_result()->add_matches();
  match->set_sop(std::string(sop));
  match->set_cadence_day(cadence_day);
  return response.SerializeAsString();
}

class FakeMethods final : public MethodLookup {
 public:
  FakeMethods() {
    const auto* context =
        v1::LookupSopsRequest::descriptor()->file()->FindServiceByName("ContextService");
    lookup_.descriptor = context->FindMethodByName("LookupSops");
    lookup_.work = Work::kInline;
    lookup_.request_prototype = &v1::LookupSopsRequest::default_instance();
    lookup_.response_prototype = &v1::LookupSopsResponse::default_instance();
    lookup_.run = [](const Caller& caller,
                     const google::protobuf::Message& message) -> absl::StatusOr<std::string> {
      const auto& request = static_cast<const v1::LookupSopsRequest&>(message);
      if (request.max_results() > 100) {
        return error::InvalidField("max_results", "must be at most 100");
      }
      v1::LookupSopsResponse response;
      v1::SopMatch* match = response.add_matches();
      match->set_sop(absl::StrCat("orgs/", caller.org, "/sops/", request.context().record_type()));
      match->set_cadence_day(request.max_results());
      return response.SerializeAsString();
    };

    get_sop_.descriptor = v1::GetSopRequest::descriptor()
                              ->file()
                              ->FindServiceByName("SopService")
                              ->FindMethodByName("GetSop");
    get_sop_.work = Work::kReads;
    get_sop_.request_prototype = &v1::GetSopRequest::default_instance();
    get_sop_.response_prototype = &v1::Sop::default_instance();
    get_sop_.run = [this](const Caller&,
                          const google::protobuf::Message& message) -> absl::StatusOr<std::string> {
      const auto& request = static_cast<const v1::GetSopRequest&>(message);
      ++runs;
      if (absl::EndsWith(request.name(), "/slow")) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
      if (absl::EndsWith(request.name(), "/missing")) return error::SopNotFound(request.name());
      v1::Sop sop;
      sop.set_name(request.name());
      sop.set_title("Echo");
      return sop.SerializeAsString();
    };

    watch_.descriptor = context->FindMethodByName("WatchSops");
    watch_.request_prototype = &v1::WatchSopsRequest::default_instance();
    watch_.response_prototype = &v1::WatchSopsResponse::default_instance();
    watch_.open = [this](const Caller& caller, const google::protobuf::Message& message,
                         std::shared_ptr<MessageSink> sink)
        -> absl::StatusOr<std::unique_ptr<MessageSubscription>> {
      const auto& request = static_cast<const v1::WatchSopsRequest&>(message);
      if (request.max_results() == 7) {
        return absl::ResourceExhaustedError("too many open streams for this token");
      }
      sink->Send(Result(absl::StrCat("orgs/", caller.org, "/sops/first"), 1));
      if (request.max_results() == 8) sink->Close(error::SopNotFound("orgs/acme/sops/gone"));
      return std::make_unique<Hub::Subscription>(&hub, std::move(sink));
    };
    watch_.heartbeat = [] {
      v1::WatchSopsResponse response;
      response.mutable_heartbeat();
      return response.SerializeAsString();
    };
  }

  const UnaryMethod* FindUnary(absl::string_view path) const override {
    if (path == kLookup) return &lookup_;
    if (path == kGetSop) return &get_sop_;
    return nullptr;
  }
  const StreamMethod* FindStream(absl::string_view path) const override {
    return path == kWatch ? &watch_ : nullptr;
  }

  Hub hub;
  // GetSop calls that ran.
  std::atomic<int> runs{0};

 private:
  UnaryMethod lookup_;
  UnaryMethod get_sop_;
  StreamMethod watch_;
};

// A real AccessRegistry (in memory) with an SDR token of org acme, shared by
// the tests.
class Tokens {
 public:
  static Tokens& Get() {
    static Tokens* const tokens = new Tokens();
    return *tokens;
  }
  const AccessRegistry* access() const { return access_.get(); }
  // "Authorization: Bearer <the SDR's secret>\r\n"
  const std::string& header() const { return header_; }

 private:
  Tokens() {
    access_ = *AccessRegistry::Create(&store_, &Clock::Real());
    Caller admin = *access_->Authenticate(**access_->BootstrapAdminToken());
    v1::CreateOrgRequest org;
    org.set_org_id("acme");
    (void)access_->CreateOrg(admin, org);
    v1::CreateTokenRequest token;
    token.set_parent("orgs/acme");
    token.mutable_token()->set_user_id("rep");
    token.mutable_token()->add_roles(v1::SDR);
    header_ = absl::StrCat("Authorization: Bearer ", access_->CreateToken(admin, token)->secret(),
                           "\r\n");
  }
  InMemoryAuthStore store_;
  std::unique_ptr<AccessRegistry> access_;
  std::string header_;
};

const std::string& GoodAuth() { return Tokens::Get().header(); }

// --- A small HTTP/1.1 client on a raw socket ---------------------------------

struct Head {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  bool has(const std::string& name) const { return headers.count(name) > 0; }
  std::string get(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct Reply {
  Head head;
  std::string body;
};

class Client {
 public:
  // Connected to `host` (default 127.0.0.1) at `port`, over TLS when `tls`
  // is set; reads time out after `timeout_ms`.
  explicit Client(int port, SSL_CTX* tls = nullptr, int timeout_ms = 10000,
                  in_addr host = {htonl(INADDR_LOOPBACK)}) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr = host;
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (connected_ && tls != nullptr) {
      ssl_ = SSL_new(tls);
      SSL_set_fd(ssl_, fd_);
      SSL_set_tlsext_host_name(ssl_, "localhost");
      connected_ = SSL_connect(ssl_) == 1;
    }
  }
  ~Client() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool Send(absl::string_view bytes) {
    while (!bytes.empty()) {
      int n = ssl_ != nullptr
                  ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                  : static_cast<int>(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL));
      if (n <= 0) return false;
      bytes.remove_prefix(n);
    }
    return true;
  }

  std::optional<Head> ReadHead() {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    Head result;
    std::vector<std::string> lines = absl::StrSplit(head, "\r\n");
    std::vector<std::string> status = absl::StrSplit(lines[0], ' ');
    if (status.size() < 2 || !absl::SimpleAtoi(status[1], &result.status)) return std::nullopt;
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      result.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    return result;
  }

  // A Content-Length body.
  std::optional<std::string> ReadBody(const Head& head) {
    size_t length = 0;
    if (!absl::SimpleAtoi(head.get("content-length"), &length)) return std::nullopt;
    while (buffer_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    std::string body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return body;
  }

  // The next chunk of a chunked body; "" for the last one.
  std::optional<std::string> ReadChunk() {
    size_t line_end;
    while ((line_end = buffer_.find("\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    std::string size_line = buffer_.substr(0, line_end);
    char* end = nullptr;
    size_t size = std::strtoul(size_line.c_str(), &end, 16);
    if (size_line.empty() || *end != '\0') return std::nullopt;
    while (buffer_.size() < line_end + 2 + size + 2) {
      if (!Fill()) return std::nullopt;
    }
    std::string chunk = buffer_.substr(line_end + 2, size);
    buffer_.erase(0, line_end + 2 + size + 2);
    return chunk;
  }

  // True when the server closed the connection (within the read timeout).
  bool SeesClose() {
    char byte;
    int n = ssl_ != nullptr ? SSL_read(ssl_, &byte, 1) : static_cast<int>(recv(fd_, &byte, 1, 0));
    if (n > 0) return false;
    if (ssl_ == nullptr && n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    return true;
  }

  Reply Call(absl::string_view request) {
    Reply reply;
    if (!Send(request)) return reply;
    std::optional<Head> head = ReadHead();
    if (!head) return reply;
    reply.head = *head;
    if (head->has("content-length")) reply.body = ReadBody(*head).value_or("<short body>");
    return reply;
  }

 private:
  bool Fill() {
    char data[16384];
    int n = ssl_ != nullptr ? SSL_read(ssl_, data, sizeof data)
                            : static_cast<int>(recv(fd_, data, sizeof data, 0));
    if (n <= 0) return false;
    buffer_.append(data, n);
    return true;
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
  std::string buffer_;
};

std::string Post(absl::string_view path, absl::string_view content_type, absl::string_view body,
                 absl::string_view extra_headers = GoodAuth()) {
  return absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: localhost\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\n", extra_headers, "\r\n", body);
}

std::string Get(absl::string_view path, absl::string_view extra_headers = "") {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: localhost\r\n", extra_headers, "\r\n");
}

// An envelope's flags and payload.
struct Frame {
  int flags = -1;
  std::string payload;
};

Frame ParseFrame(absl::string_view chunk) {
  Frame frame;
  if (chunk.size() < 5) return frame;
  frame.flags = static_cast<uint8_t>(chunk[0]);
  frame.payload = std::string(chunk.substr(5));
  return frame;
}

v1::WatchSopsResponse ParseWatchJson(const std::string& json) {
  v1::WatchSopsResponse response;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &response).ok()) << json;
  return response;
}

// --- Fixture ------------------------------------------------------------------

class HttpGatewayTest : public ::testing::Test {
 protected:
  void StartGateway() {
    absl::StatusOr<std::unique_ptr<HttpGateway>> gateway =
        HttpGateway::Start(options_, &methods_, Dispatch());
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = *std::move(gateway);
  }

  void SetUp() override {
    options_.listen_address = "127.0.0.1:0";
    options_.cors_origins = {"https://crm.example.com"};
  }

  int port() const { return gateway_->port(); }

  Reply Call(absl::string_view request) {
    Client client(port());
    return client.Call(request);
  }

  // Opens a WatchSops stream with `json` as its request; checks the
  // response head.
  std::unique_ptr<Client> OpenStream(absl::string_view json, absl::string_view auth = GoodAuth()) {
    auto client = std::make_unique<Client>(port());
    EXPECT_TRUE(
        client->Send(Post(kWatch, "application/connect+json", connect::Envelope(0, json), auth)));
    std::optional<Head> head = client->ReadHead();
    EXPECT_TRUE(head.has_value());
    if (head) {
      EXPECT_EQ(head->status, 200);
      EXPECT_EQ(head->get("content-type"), "application/connect+json");
      EXPECT_EQ(head->get("transfer-encoding"), "chunked");
    }
    return client;
  }

  // The real dispatcher (created by the first StartGateway), its rejected
  // calls' log lines kept.
  Dispatcher* Dispatch() {
    if (dispatcher_ == nullptr) {
      dispatcher_options_.rejection_sink = [this](absl::string_view line) {
        absl::MutexLock lock(&mu_);
        rejected_.emplace_back(line);
      };
      dispatcher_ =
          std::make_unique<Dispatcher>(Tokens::Get().access(), nullptr, dispatcher_options_);
    }
    return dispatcher_.get();
  }
  std::vector<std::string> Rejected() {
    absl::MutexLock lock(&mu_);
    return rejected_;
  }

  FakeMethods methods_;
  Dispatcher::Options dispatcher_options_;
  absl::Mutex mu_;
  std::vector<std::string> rejected_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Dispatcher> dispatcher_;
  HttpGatewayOptions options_;
  std::unique_ptr<HttpGateway> gateway_;
};

// --- Unary --------------------------------------------------------------------

TEST_F(HttpGatewayTest, UnaryJsonCallAnswersTheMethodsResponseAsJson) {
  StartGateway();
  Reply reply = Call(Post(kLookup, "application/json",
                          R"({"context":{"recordType":"Opportunity"},"maxResults":3})"));
  EXPECT_EQ(reply.head.status, 200);
  EXPECT_EQ(reply.head.get("content-type"), "application/json");
  v1::LookupSopsResponse response;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(reply.body, &response).ok())
      << reply.body;
  ASSERT_EQ(response.matches_size(), 1);
  EXPECT_EQ(response.matches(0).sop(), "orgs/acme/sops/Opportunity");
  EXPECT_EQ(response.matches(0).cadence_day(), 3);
}

TEST_F(HttpGatewayTest, UnaryProtoCallAnswersBinaryProtobuf) {
  StartGateway();
  v1::LookupSopsRequest request;
  request.mutable_context()->set_record_type("Lead");
  request.set_max_results(5);
  Reply reply = Call(Post(kLookup, "application/proto", request.SerializeAsString()));
  EXPECT_EQ(reply.head.status, 200);
  EXPECT_EQ(reply.head.get("content-type"), "application/proto");
  v1::LookupSopsResponse response;
  ASSERT_TRUE(response.ParseFromString(reply.body));
  ASSERT_EQ(response.matches_size(), 1);
  EXPECT_EQ(response.matches(0).sop(), "orgs/acme/sops/Lead");
}

TEST_F(HttpGatewayTest, QueuedMethodRunsThroughTheRunnersScheduleAndAnswers) {
  StartGateway();
  Reply reply = Call(
      Post(kGetSop, "application/json; charset=utf-8", R"({"name":"orgs/acme/sops/onboarding"})"));
  EXPECT_EQ(reply.head.status, 200);
  EXPECT_THAT(reply.body, HasSubstr(R"("name":"orgs/acme/sops/onboarding")"));
  EXPECT_EQ(methods_.runs.load(), 1);
}

TEST_F(HttpGatewayTest, KeepAliveConnectionServesSeveralCalls) {
  StartGateway();
  Client client(port());
  for (int i = 0; i < 3; ++i) {
    Reply reply = client.Call(Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/a"})"));
    EXPECT_EQ(reply.head.status, 200) << i;
  }
}

TEST_F(HttpGatewayTest, PipelinedRequestsAfterAQueuedCallAreAnsweredInOrder) {
  StartGateway();
  Client client(port());
  ASSERT_TRUE(client.Send(
      absl::StrCat(Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/slow"})"),
                   Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/next"})"))));
  std::optional<Head> first = client.ReadHead();
  ASSERT_TRUE(first.has_value());
  EXPECT_THAT(client.ReadBody(*first).value_or(""), HasSubstr("orgs/acme/sops/slow"));
  std::optional<Head> second = client.ReadHead();
  ASSERT_TRUE(second.has_value());
  EXPECT_THAT(client.ReadBody(*second).value_or(""), HasSubstr("orgs/acme/sops/next"));
}

TEST_F(HttpGatewayTest, QueuedCallOfAClientThatLeftIsCancelled) {
  // One read thread: the slow call holds it while the second waits.
  dispatcher_options_.read_threads = 1;
  StartGateway();
  Client busy(port());
  ASSERT_TRUE(busy.Send(Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/slow"})")));
  for (int i = 0; i < 200 && methods_.runs.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    Client gone(port());
    ASSERT_TRUE(gone.Send(Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/a"})")));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::optional<Head> head = busy.ReadHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  // The waiting call's turn has come (the queue runs in order) by the time a
  // third one answers: it was not run.
  Reply third = Call(Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/b"})"));
  EXPECT_EQ(third.head.status, 200);
  EXPECT_EQ(methods_.runs.load(), 2);
}

TEST_F(HttpGatewayTest, ExpectContinueGets100ThenTheAnswer) {
  StartGateway();
  Client client(port());
  std::string body = R"({"maxResults":6})";
  ASSERT_TRUE(client.Send(absl::StrCat(
      "POST ", kLookup, " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n", GoodAuth(),
      "Expect: 100-continue\r\nContent-Length: ", body.size(), "\r\n\r\n")));
  std::optional<Head> go_on = client.ReadHead();
  ASSERT_TRUE(go_on.has_value());
  EXPECT_EQ(go_on->status, 100);
  ASSERT_TRUE(client.Send(body));
  std::optional<Head> head = client.ReadHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_THAT(client.ReadBody(*head).value_or(""), HasSubstr(R"("cadenceDay":6)"));
}

TEST_F(HttpGatewayTest, ErrorIsConnectErrorJsonWithTheSpecsHttpStatusAndDetails) {
  StartGateway();
  Reply missing = Call(Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/missing"})"));
  EXPECT_EQ(missing.head.status, 404);
  EXPECT_EQ(missing.head.get("content-type"), "application/json");
  EXPECT_THAT(missing.body, HasSubstr(R"("code":"not_found")"));
  EXPECT_THAT(missing.body, HasSubstr(R"("message":"SOP orgs/acme/sops/missing not found")"));
  EXPECT_THAT(missing.body, HasSubstr(R"({"type":"google.rpc.ErrorInfo","value":")"));
  EXPECT_THAT(missing.body, Not(HasSubstr("=\"")));  // base64 without padding

  Reply invalid = Call(Post(kLookup, "application/json", R"({"maxResults":500})"));
  EXPECT_EQ(invalid.head.status, 400);
  EXPECT_THAT(invalid.body, HasSubstr(R"("code":"invalid_argument")"));
  EXPECT_THAT(invalid.body, HasSubstr(R"("type":"google.rpc.BadRequest")"));
}

TEST_F(HttpGatewayTest, UnknownJsonFieldIsRejectedNamingIt) {
  StartGateway();
  Reply reply = Call(Post(kLookup, "application/json", R"({"maxResult":3})"));
  EXPECT_EQ(reply.head.status, 400);
  EXPECT_THAT(reply.body, HasSubstr(R"("code":"invalid_argument")"));
  EXPECT_THAT(reply.body, HasSubstr("sopsidebar.v1.LookupSopsRequest"));
  EXPECT_THAT(reply.body, HasSubstr("maxResult"));
}

TEST_F(HttpGatewayTest, GarbageProtoIsInvalidArgumentNamingTheMessage) {
  StartGateway();
  Reply reply = Call(Post(kLookup, "application/proto", "\xff\xff\xff"));
  EXPECT_EQ(reply.head.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("sopsidebar.v1.LookupSopsRequest"));
}

TEST_F(HttpGatewayTest, UnsupportedContentTypeIs415) {
  StartGateway();
  Reply reply = Call(Post(kLookup, "text/plain", "{}"));
  EXPECT_EQ(reply.head.status, 415);
  EXPECT_THAT(reply.body, HasSubstr(R"("code":"invalid_argument")"));
  EXPECT_EQ(reply.head.get("accept-post"), "application/json, application/proto");
}

TEST_F(HttpGatewayTest, OversizeBodyIsResourceExhaustedAndTheConnectionCloses) {
  options_.max_body_bytes = 1024;
  StartGateway();
  Client client(port());
  Reply reply = client.Call(Post(kLookup, "application/json", std::string(4096, ' ')));
  EXPECT_EQ(reply.head.status, 413);
  EXPECT_THAT(reply.body, HasSubstr(R"("code":"resource_exhausted")"));
  EXPECT_TRUE(client.SeesClose());
}

TEST_F(HttpGatewayTest, OversizeHeadersAre431AndTheConnectionCloses) {
  options_.max_header_bytes = 1024;
  StartGateway();
  Client client(port());
  Reply reply = client.Call(Post(kLookup, "application/json", "{}",
                                 absl::StrCat("X-Padding: ", std::string(2048, 'p'), "\r\n")));
  EXPECT_EQ(reply.head.status, 431);
  EXPECT_TRUE(client.SeesClose());
}

TEST_F(HttpGatewayTest, MissingTokenIs401UnauthenticatedAndLogged) {
  StartGateway();
  Reply reply = Call(Post(kLookup, "application/json", "{}", ""));
  EXPECT_EQ(reply.head.status, 401);
  EXPECT_THAT(reply.body, HasSubstr(R"("code":"unauthenticated")"));
  EXPECT_THAT(Rejected(), ::testing::Contains(::testing::AllOf(
                              HasSubstr(absl::StrCat("rejected ", kLookup, " from 127.0.0.1:")),
                              HasSubstr("UNAUTHENTICATED"))));
}

TEST_F(HttpGatewayTest, UnknownMethodIsUnimplementedWith404) {
  StartGateway();
  Reply reply = Call(Post("/sopsidebar.v1.SopService/Nope", "application/json", "{}"));
  EXPECT_EQ(reply.head.status, 404);
  EXPECT_THAT(reply.body, HasSubstr(R"("code":"unimplemented")"));
}

TEST_F(HttpGatewayTest, BadTimeoutOrProtocolVersionIsInvalidArgument) {
  StartGateway();
  Reply timeout = Call(Post(kLookup, "application/json", "{}",
                            absl::StrCat(GoodAuth(), "Connect-Timeout-Ms: soon\r\n")));
  EXPECT_EQ(timeout.head.status, 400);
  EXPECT_THAT(timeout.body, HasSubstr("connect-timeout-ms"));
  Reply version = Call(Post(kLookup, "application/json", "{}",
                            absl::StrCat(GoodAuth(), "Connect-Protocol-Version: 2\r\n")));
  EXPECT_EQ(version.head.status, 400);
  EXPECT_THAT(version.body, HasSubstr("connect-protocol-version"));
}

// --- CORS ---------------------------------------------------------------------

TEST_F(HttpGatewayTest, AllowedOriginGetsCorsHeaders) {
  StartGateway();
  Reply reply = Call(Post(kLookup, "application/json", "{}",
                          absl::StrCat(GoodAuth(), "Origin: https://crm.example.com\r\n")));
  EXPECT_EQ(reply.head.status, 200);
  EXPECT_EQ(reply.head.get("access-control-allow-origin"), "https://crm.example.com");
  EXPECT_EQ(reply.head.get("vary"), "Origin");
}

TEST_F(HttpGatewayTest, DisallowedOriginGetsNoCorsHeadersAndItsPreflight403) {
  StartGateway();
  Reply reply = Call(Post(kLookup, "application/json", "{}",
                          absl::StrCat(GoodAuth(), "Origin: https://evil.example\r\n")));
  EXPECT_EQ(reply.head.status, 200);
  for (const auto& [name, value] : reply.head.headers) {
    EXPECT_FALSE(absl::StartsWith(name, "access-control-")) << name;
  }
  Reply preflight = Call(
      "OPTIONS /sopsidebar.v1.ContextService/LookupSops HTTP/1.1\r\nHost: x\r\n"
      "Origin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n\r\n");
  EXPECT_EQ(preflight.head.status, 403);
  EXPECT_FALSE(preflight.head.has("access-control-allow-origin"));
}

TEST_F(HttpGatewayTest, PreflightFromAllowedOriginListsMethodsAndHeaders) {
  StartGateway();
  Reply preflight = Call(
      "OPTIONS /sopsidebar.v1.ContextService/LookupSops HTTP/1.1\r\nHost: x\r\n"
      "Origin: https://crm.example.com\r\nAccess-Control-Request-Method: POST\r\n"
      "Access-Control-Request-Headers: authorization, content-type\r\n\r\n");
  EXPECT_EQ(preflight.head.status, 204);
  EXPECT_EQ(preflight.head.get("access-control-allow-origin"), "https://crm.example.com");
  EXPECT_THAT(preflight.head.get("access-control-allow-methods"), HasSubstr("POST"));
  EXPECT_EQ(
      preflight.head.get("access-control-allow-headers"),
      "authorization, content-type, connect-protocol-version, connect-timeout-ms, sop-viewer-id, "
      "sop-viewer-name, sop-viewer-crm-roles");
  EXPECT_EQ(preflight.head.get("access-control-max-age"), "7200");
  EXPECT_EQ(preflight.head.get("vary"), "Origin");
}

// --- Timeouts -----------------------------------------------------------------

TEST_F(HttpGatewayTest, SlowClientIsCutOffAtTheRequestReadTimeout) {
  options_.request_read_timeout = absl::Milliseconds(600);
  StartGateway();
  Client client(port());
  std::string request = Post(kLookup, "application/json", "{}");
  auto start = std::chrono::steady_clock::now();
  size_t sent = 0;
  for (; sent < request.size(); ++sent) {
    if (!client.Send(request.substr(sent, 1))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(3)) break;
  }
  EXPECT_LT(sent, request.size());
  EXPECT_TRUE(client.SeesClose());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(HttpGatewayTest, IdleKeepAliveConnectionIsClosed) {
  options_.idle_timeout = absl::Milliseconds(300);
  StartGateway();
  Client client(port());
  EXPECT_EQ(client.Call(Post(kLookup, "application/json", "{}")).head.status, 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.SeesClose());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

// --- Streams ------------------------------------------------------------------

TEST_F(HttpGatewayTest, StreamSendsTheFirstMessageThenLaterOnes) {
  StartGateway();
  std::unique_ptr<Client> client = OpenStream(R"({"context":{"recordType":"Lead"}})");
  Frame first = ParseFrame(client->ReadChunk().value_or(""));
  EXPECT_EQ(first.flags, 0);
  EXPECT_EQ(ParseWatchJson(first.payload).result().matches(0).sop(), "orgs/acme/sops/first");
  ASSERT_TRUE(methods_.hub.WaitFor(1));
  methods_.hub.Broadcast(Result("orgs/acme/sops/second", 2));
  Frame second = ParseFrame(client->ReadChunk().value_or(""));
  EXPECT_EQ(ParseWatchJson(second.payload).result().matches(0).cadence_day(), 2);
  methods_.hub.CloseAll(absl::OkStatus());
  Frame end = ParseFrame(client->ReadChunk().value_or(""));
  EXPECT_EQ(end.flags, connect::kEndStreamFlag);
  EXPECT_EQ(end.payload, "{}");
  EXPECT_EQ(client->ReadChunk(), "");
  EXPECT_TRUE(methods_.hub.WaitFor(0));
}

TEST_F(HttpGatewayTest, ProtoStreamSendsBinaryMessages) {
  StartGateway();
  Client client(port());
  v1::WatchSopsRequest request;
  ASSERT_TRUE(client.Send(Post(kWatch, "application/connect+proto",
                               connect::Envelope(0, request.SerializeAsString()))));
  std::optional<Head> head = client.ReadHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->get("content-type"), "application/connect+proto");
  Frame first = ParseFrame(client.ReadChunk().value_or(""));
  v1::WatchSopsResponse response;
  ASSERT_TRUE(response.ParseFromString(first.payload));
  EXPECT_EQ(response.result().matches(0).sop(), "orgs/acme/sops/first");
}

TEST_F(HttpGatewayTest, IdleStreamGetsHeartbeats) {
  options_.heartbeat_interval = absl::Milliseconds(100);
  StartGateway();
  std::unique_ptr<Client> client = OpenStream("{}");
  ParseFrame(client->ReadChunk().value_or(""));  // the first result
  for (int i = 0; i < 2; ++i) {
    Frame beat = ParseFrame(client->ReadChunk().value_or(""));
    EXPECT_EQ(beat.flags, 0);
    EXPECT_TRUE(ParseWatchJson(beat.payload).has_heartbeat()) << beat.payload;
  }
}

TEST_F(HttpGatewayTest, StreamClosedWithAnErrorEndsWithItInTheEndOfStreamMessage) {
  StartGateway();
  std::unique_ptr<Client> client = OpenStream(R"({"maxResults":8})");
  EXPECT_EQ(ParseFrame(client->ReadChunk().value_or("")).flags, 0);
  Frame end = ParseFrame(client->ReadChunk().value_or(""));
  EXPECT_EQ(end.flags, connect::kEndStreamFlag);
  EXPECT_THAT(end.payload, HasSubstr(R"({"error":{"code":"not_found")"));
  EXPECT_EQ(client->ReadChunk(), "");
  EXPECT_TRUE(methods_.hub.WaitFor(0));
}

TEST_F(HttpGatewayTest, OpenErrorIsA200WithTheErrorInTheEndOfStreamMessage) {
  StartGateway();
  std::unique_ptr<Client> client = OpenStream(R"({"maxResults":7})");
  Frame end = ParseFrame(client->ReadChunk().value_or(""));
  EXPECT_EQ(end.flags, connect::kEndStreamFlag);
  EXPECT_THAT(end.payload, HasSubstr(R"("code":"resource_exhausted")"));
  EXPECT_THAT(Rejected(), ::testing::Contains(::testing::AllOf(
                              HasSubstr(absl::StrCat("rejected ", kWatch, " from 127.0.0.1:")),
                              HasSubstr("RESOURCE_EXHAUSTED"))));
}

TEST_F(HttpGatewayTest, StreamWithoutTokenEndsUnauthenticated) {
  StartGateway();
  std::unique_ptr<Client> client = OpenStream("{}", "");
  Frame end = ParseFrame(client->ReadChunk().value_or(""));
  EXPECT_EQ(end.flags, connect::kEndStreamFlag);
  EXPECT_THAT(end.payload, HasSubstr(R"("code":"unauthenticated")"));
}

TEST_F(HttpGatewayTest, GarbageEnvelopesEndTheStreamWithInvalidArgument) {
  StartGateway();
  const std::string compressed = connect::Envelope(connect::kCompressedFlag, "{}");
  std::string too_long = connect::Envelope(0, "{}");
  too_long[4] = 9;
  for (const std::string& body : {compressed, too_long, std::string("\0\0", 2)}) {
    Client client(port());
    ASSERT_TRUE(client.Send(Post(kWatch, "application/connect+json", body)));
    std::optional<Head> head = client.ReadHead();
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    Frame end = ParseFrame(client.ReadChunk().value_or(""));
    EXPECT_EQ(end.flags, connect::kEndStreamFlag);
    EXPECT_THAT(end.payload, HasSubstr(R"("code":"invalid_argument")"));
  }
  EXPECT_EQ(methods_.hub.size(), 0u);
}

TEST_F(HttpGatewayTest, StreamPastItsTimeoutEndsWithDeadlineExceeded) {
  StartGateway();
  Client client(port());
  ASSERT_TRUE(client.Send(Post(kWatch, "application/connect+json", connect::Envelope(0, "{}"),
                               absl::StrCat(GoodAuth(), "Connect-Timeout-Ms: 200\r\n"))));
  ASSERT_TRUE(client.ReadHead().has_value());
  EXPECT_EQ(ParseFrame(client.ReadChunk().value_or("")).flags, 0);
  Frame end = ParseFrame(client.ReadChunk().value_or(""));
  EXPECT_EQ(end.flags, connect::kEndStreamFlag);
  EXPECT_THAT(end.payload, HasSubstr(R"("code":"deadline_exceeded")"));
  EXPECT_TRUE(methods_.hub.WaitFor(0));
}

TEST_F(HttpGatewayTest, ConnectionsBeyondTheLimitAreClosed) {
  options_.max_connections = 1;
  StartGateway();
  std::unique_ptr<Client> stream = OpenStream("{}");
  ASSERT_TRUE(methods_.hub.WaitFor(1));
  Client refused(port());
  EXPECT_TRUE(refused.SeesClose());
}

TEST_F(HttpGatewayTest, UnaryContentTypeOnAStreamMethodIs415) {
  StartGateway();
  Reply reply = Call(Post(kWatch, "application/json", "{}"));
  EXPECT_EQ(reply.head.status, 415);
}

TEST_F(HttpGatewayTest, SlowReaderGetsTheNewestMessageNotEveryOne) {
  options_.max_queued_stream_messages = 2;
  StartGateway();
  std::unique_ptr<Client> client = OpenStream("{}");
  ParseFrame(client->ReadChunk().value_or(""));  // the first result
  ASSERT_TRUE(methods_.hub.WaitFor(1));
  // Far more than the socket buffers hold, sent while the client reads
  // nothing.
  constexpr int kMessages = 40;
  const std::string padding(1 << 20, 'x');
  for (int i = 1; i <= kMessages; ++i) {
    methods_.hub.Broadcast(Result(absl::StrCat("orgs/acme/sops/", padding), i));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int received = 0;
  int last = 0;
  while (last != kMessages) {
    std::optional<std::string> chunk = client->ReadChunk();
    ASSERT_TRUE(chunk.has_value()) << "after " << received << " messages, the last " << last;
    v1::WatchSopsResponse response = ParseWatchJson(ParseFrame(*chunk).payload);
    ASSERT_EQ(response.result().matches_size(), 1);
    int day = response.result().matches(0).cadence_day();
    EXPECT_GT(day, last);  // in order, never an older one after a newer one
    last = day;
    ++received;
  }
  EXPECT_LT(received, kMessages);
}

TEST_F(HttpGatewayTest, ClientDisconnectDestroysTheSubscription) {
  StartGateway();
  {
    std::unique_ptr<Client> client = OpenStream("{}");
    ParseFrame(client->ReadChunk().value_or(""));
    ASSERT_TRUE(methods_.hub.WaitFor(1));
  }
  EXPECT_TRUE(methods_.hub.WaitFor(0));
}

TEST_F(HttpGatewayTest, DrainAnswersTheCallInFlightRefusesNewCallsAndClosesIdleConnections) {
  StartGateway();
  Client idle(port());
  ASSERT_EQ(
      idle.Call(Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/a"})")).head.status,
      200);
  Client busy(port());
  ASSERT_TRUE(busy.Send(Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/slow"})")));
  for (int i = 0; i < 200 && methods_.runs.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(methods_.runs.load(), 2);  // the slow call is running

  gateway_->StartDrain();
  // The idle keep-alive connection is closed; the call in flight answers,
  // closing its connection.
  EXPECT_TRUE(idle.SeesClose());
  std::optional<Head> answer = busy.ReadHead();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->get("connection"), "close");
  EXPECT_THAT(busy.ReadBody(*answer).value_or(""), HasSubstr("orgs/acme/sops/slow"));
  // No new connection is accepted.
  Client late(port());
  EXPECT_FALSE(late.Send(Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/b"})")) &&
               late.ReadHead().has_value());
  const absl::Time start = absl::Now();
  gateway_->Shutdown(absl::Now() + absl::Seconds(5));
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));  // nothing left to wait for
  EXPECT_EQ(methods_.runs.load(), 2);
}

TEST_F(HttpGatewayTest, CallWhoseRequestCompletesAfterTheDrainStartedIsUnavailable) {
  StartGateway();
  Client client(port());
  const std::string request =
      Post(kGetSop, "application/json", R"({"name":"orgs/acme/sops/late"})");
  // Half of it before the drain, the rest after.
  ASSERT_TRUE(client.Send(request.substr(0, 20)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  gateway_->StartDrain();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Reply reply = client.Call(request.substr(20));
  EXPECT_EQ(reply.head.status, 503);
  EXPECT_EQ(reply.head.get("connection"), "close");
  EXPECT_THAT(reply.body, HasSubstr(R"("code":"unavailable")"));
  EXPECT_THAT(reply.body, HasSubstr("shutting down"));
  EXPECT_EQ(methods_.runs.load(), 0);
}

TEST_F(HttpGatewayTest, ShutdownEndsOpenStreams) {
  StartGateway();
  std::unique_ptr<Client> client = OpenStream("{}");
  ASSERT_TRUE(methods_.hub.WaitFor(1));
  gateway_->Shutdown(absl::Now());
  EXPECT_EQ(methods_.hub.size(), 0u);
  EXPECT_EQ(gateway_->open_connections(), 0);
}

// The requirement: a thousand open streams on the gateway's two threads.
int ThreadCount() {
  int count = 0;
  DIR* dir = opendir("/proc/self/task");
  while (dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
  closedir(dir);
  return count;
}

long RssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      long kib = 0;
      absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(6, line.size() - 6 - 3)), &kib);
      return kib;
    }
  }
  return 0;
}

TEST_F(HttpGatewayTest, AThousandOpenStreamsOnTwoThreadsAllGetEveryBroadcast) {
  constexpr int kStreams = 1000;
  rlimit files;
  getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < 2 * kStreams + 100) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 2 * kStreams + 100);
    setrlimit(RLIMIT_NOFILE, &files);
  }
  if (files.rlim_cur < 2 * kStreams + 100) GTEST_SKIP() << "RLIMIT_NOFILE too low";
  options_.threads = 2;
  // The process's threads before the gateway and its dispatcher exist.
  const int threads_without = ThreadCount();
  StartGateway();
  int threads_before = ThreadCount();
  long rss_before = RssKiB();
  auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kStreams; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(
        clients.back()->Send(Post(kWatch, "application/connect+json", connect::Envelope(0, "{}"))))
        << i;
  }
  int first = 0;
  for (auto& client : clients) {
    std::optional<Head> head = client->ReadHead();
    if (!head || head->status != 200) continue;
    Frame frame = ParseFrame(client->ReadChunk().value_or(""));
    first += frame.flags == 0 && absl::StrContains(frame.payload, "orgs/acme/sops/first");
  }
  EXPECT_EQ(first, kStreams);
  ASSERT_TRUE(methods_.hub.WaitFor(kStreams));
  auto opened = std::chrono::steady_clock::now();
  int threads_open = ThreadCount();
  long rss_open = RssKiB();
  // The streams add no thread: the gateway runs on its 2, beside the
  // dispatcher's read, write and slow queues (which streams do not use).
  EXPECT_EQ(threads_open, threads_before);
  EXPECT_EQ(threads_before - threads_without, 2 + dispatcher_options_.read_threads +
                                                  dispatcher_options_.write_threads +
                                                  dispatcher_options_.slow_threads);

  methods_.hub.Broadcast(Result("orgs/acme/sops/broadcast", 9));
  int got = 0;
  for (auto& client : clients) {
    Frame frame = ParseFrame(client->ReadChunk().value_or(""));
    got += absl::StrContains(frame.payload, "orgs/acme/sops/broadcast");
  }
  EXPECT_EQ(got, kStreams);
  auto done = std::chrono::steady_clock::now();
  std::printf(
      "[ figures  ] %d streams: opened with first message in %lld ms, broadcast to all "
      "in %lld ms; threads %d before, %d with the streams open; RSS +%ld KiB (client "
      "sockets included)\n",
      kStreams,
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(opened - start).count()),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(done - opened).count()),
      threads_before, threads_open, rss_open - rss_before);
  clients.clear();
  EXPECT_TRUE(methods_.hub.WaitFor(0));
}

// --- Static files ------------------------------------------------------------

class HttpGatewayStaticFilesTest : public HttpGatewayTest {
 protected:
  void SetUp() override {
    HttpGatewayTest::SetUp();
    root_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("http_static_", getpid(), "_", rand());
    std::filesystem::create_directories(root_ / "site" / "demo");
    Write(root_ / "site" / "demo" / "index.html", "<!doctype html><title>demo</title>");
    Write(root_ / "site" / "demo" / "app.js", "console.log(1)");
    Write(root_ / "site" / "demo" / "app.0123abcd.css", "body{}");
    Write(root_ / "site" / "demo" / "logo.svg", "<svg/>");
    Write(root_ / "secret.txt", "secret");
    std::filesystem::create_symlink(root_ / "secret.txt", root_ / "site" / "demo" / "leak.txt");
    Write(root_ / "tokens.json", R"({"rep":"sop_x_y"})");
    options_.static_dir = (root_ / "site").string();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static void Write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
  }

  std::filesystem::path root_;
};

TEST_F(HttpGatewayStaticFilesTest, ServesFilesWithContentTypeCspAndCacheControl) {
  StartGateway();
  Reply html = Call(Get("/demo/"));
  EXPECT_EQ(html.head.status, 200);
  EXPECT_EQ(html.body, "<!doctype html><title>demo</title>");
  EXPECT_EQ(html.head.get("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(html.head.get("cache-control"), "no-cache");
  EXPECT_THAT(html.head.get("content-security-policy"), HasSubstr("default-src 'self'"));
  EXPECT_THAT(html.head.get("content-security-policy"), HasSubstr("connect-src 'self'"));
  EXPECT_EQ(html.head.get("x-content-type-options"), "nosniff");

  Reply js = Call(Get("/demo/app.js"));
  EXPECT_EQ(js.head.get("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.head.get("cache-control"), "public, max-age=300");
  Reply css = Call(Get("/demo/app.0123abcd.css"));
  EXPECT_EQ(css.head.get("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.head.get("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Call(Get("/demo/logo.svg")).head.get("content-type"), "image/svg+xml");
  EXPECT_EQ(Call(Get("/demo/nothing.js")).head.status, 404);
}

TEST_F(HttpGatewayStaticFilesTest, RootRedirectsToTheDemo) {
  StartGateway();
  Reply root = Call(Get("/"));
  EXPECT_EQ(root.head.status, 302);
  EXPECT_EQ(root.head.get("location"), "/demo/");
  Reply demo = Call(Get("/demo"));
  EXPECT_EQ(demo.head.status, 302);
  EXPECT_EQ(demo.head.get("location"), "/demo/");
}

TEST_F(HttpGatewayStaticFilesTest, HeadAnswersTheLengthWithoutABody) {
  StartGateway();
  Client client(port());
  ASSERT_TRUE(client.Send("HEAD /demo/app.js HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::optional<Head> head = client.ReadHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get("content-length"), "14");
  // The next request on the connection is answered: no body came in between.
  Reply next = client.Call(Get("/demo/logo.svg"));
  EXPECT_EQ(next.head.status, 200);
  EXPECT_EQ(next.body, "<svg/>");
}

TEST_F(HttpGatewayStaticFilesTest, TraversalIsRefused) {
  StartGateway();
  for (const char* path :
       {"/../secret.txt", "/demo/../../secret.txt", "/demo/%2e%2e/%2E%2E/secret.txt",
        "/demo/..%2f..%2fsecret.txt", "/demo/leak.txt", "/demo/%00"}) {
    Reply reply = Call(Get(path));
    EXPECT_THAT(reply.head.status, ::testing::AnyOf(400, 404)) << path;
    EXPECT_THAT(reply.body, Not(HasSubstr("secret"))) << path;
  }
}

TEST_F(HttpGatewayStaticFilesTest, DemoTokensAreServedNoStoreOnLoopbackOnly) {
  options_.demo_tokens_file = (root_ / "tokens.json").string();
  StartGateway();
  Reply tokens = Call(Get("/demo/tokens.json"));
  EXPECT_EQ(tokens.head.status, 200);
  EXPECT_EQ(tokens.body, R"({"rep":"sop_x_y"})");
  EXPECT_EQ(tokens.head.get("cache-control"), "no-store");

  for (const char* host : {"localhost:8080", "127.0.0.1", "[::1]:8080"}) {
    Reply reply = Call(absl::StrCat("GET /demo/tokens.json HTTP/1.1\r\nHost: ", host, "\r\n\r\n"));
    EXPECT_EQ(reply.head.status, 200) << host;
  }
  // DNS rebinding: another site's name pointed at 127.0.0.1.
  Reply rebound =
      Call(absl::StrCat("GET /demo/tokens.json HTTP/1.1\r\nHost: evil.example\r\n\r\n"));
  EXPECT_EQ(rebound.head.status, 403);
  EXPECT_THAT(rebound.body, Not(HasSubstr("sop_x_y")));

  HttpGatewayOptions any = options_;
  any.listen_address = "0.0.0.0:0";
  any.insecure_listen_any = true;
  absl::StatusOr<std::unique_ptr<HttpGateway>> refused =
      HttpGateway::Start(any, &methods_, Dispatch());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
}

// --- Metrics --------------------------------------------------------------------

// An IPv4 address of this machine's other than loopback, if it has one.
std::optional<in_addr> NonLoopbackIpv4() {
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0) return std::nullopt;
  std::optional<in_addr> found;
  for (const ifaddrs* a = all; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const in_addr address = reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr;
    if ((ntohl(address.s_addr) >> 24) != 127) found = address;
  }
  freeifaddrs(all);
  return found;
}

TEST_F(HttpGatewayTest, MetricsAreServedToLoopbackPeersOnlyUnlessAnyPeerIsAllowed) {
  const std::optional<in_addr> remote = NonLoopbackIpv4();
  if (!remote) GTEST_SKIP() << "this machine has no IPv4 address but loopback";
  options_.listen_address = "0.0.0.0:0";
  options_.insecure_listen_any = true;
  options_.metrics = [] { return std::string("sopd_up 1\n"); };
  StartGateway();
  EXPECT_EQ(Call(Get("/metrics")).body, "sopd_up 1\n");
  Client from_remote(port(), nullptr, 10000, *remote);
  Reply refused = from_remote.Call(Get("/metrics"));
  EXPECT_EQ(refused.head.status, 403);
  EXPECT_EQ(refused.body, "metrics are served to loopback only\n");

  options_.metrics_from_any_peer = true;
  StartGateway();
  Client allowed(port(), nullptr, 10000, *remote);
  Reply served = allowed.Call(Get("/metrics"));
  EXPECT_EQ(served.head.status, 200);
  EXPECT_EQ(served.body, "sopd_up 1\n");
}

// --- Listening ------------------------------------------------------------------

TEST_F(HttpGatewayTest, PlaintextOnANonLoopbackAddressIsRefused) {
  options_.listen_address = "0.0.0.0:0";
  absl::StatusOr<std::unique_ptr<HttpGateway>> refused =
      HttpGateway::Start(options_, &methods_, Dispatch());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  options_.insecure_listen_any = true;
  EXPECT_TRUE(HttpGateway::Start(options_, &methods_, Dispatch()).ok());
}

TEST_F(HttpGatewayTest, BadListenAddressIsInvalidArgument) {
  options_.listen_address = "127.0.0.1";
  EXPECT_EQ(HttpGateway::Start(options_, &methods_, Dispatch()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A self-signed certificate for "localhost" made with openssl at test time.
TEST_F(HttpGatewayTest, TlsRoundTrip) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/http_tls_", getpid());
  std::filesystem::create_directories(dir);
  std::string command =
      absl::StrCat("cd '", dir, "' && /usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -days 1 ",
                   "-subj /CN=localhost -keyout key.pem -out cert.pem >openssl.log 2>&1");
  if (std::system(command.c_str()) != 0) GTEST_SKIP() << "openssl could not make a certificate";
  auto read = [&](const char* name) {
    std::ifstream in(absl::StrCat(dir, "/", name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  options_.tls = TlsServerOptions{read("cert.pem"), read("key.pem"), ""};
  StartGateway();

  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_load_verify_locations(context, (dir + "/cert.pem").c_str(), nullptr), 1);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  {
    Client client(port(), context);
    ASSERT_TRUE(client.connected());
    Reply reply = client.Call(Post(kLookup, "application/json", R"({"maxResults":4})"));
    EXPECT_EQ(reply.head.status, 200);
    EXPECT_THAT(reply.body, HasSubstr(R"("cadenceDay":4)"));
  }
  {
    Client client(port(), context);
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.Send(Post(kWatch, "application/connect+json", connect::Envelope(0, "{}"))));
    std::optional<Head> head = client.ReadHead();
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    Frame first = ParseFrame(client.ReadChunk().value_or(""));
    EXPECT_THAT(first.payload, HasSubstr("orgs/acme/sops/first"));
  }
  // Plaintext to the TLS port gets no answer.
  Client plain(port(), nullptr, 2000);
  Reply reply = plain.Call(Post(kLookup, "application/json", "{}"));
  EXPECT_EQ(reply.head.status, 0);
  SSL_CTX_free(context);
  std::filesystem::remove_all(dir);
}

// A CA, a server certificate and a client certificate made with openssl.
TEST_F(HttpGatewayTest, MutualTlsAcceptsOnlyClientsWithACertificateOfTheCa) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/http_mtls_", getpid());
  std::filesystem::create_directories(dir);
  const std::string script = absl::StrCat(
      "set -e; cd '", dir, "'; exec >openssl.log 2>&1\n",
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca "
      "-keyout ca.key -out ca.pem\n",
      "openssl req -newkey rsa:2048 -nodes -subj /CN=sopd -keyout server.key -out server.csr\n",
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > san.ext\n",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
      "-extfile san.ext -out server.pem\n",
      "openssl req -newkey rsa:2048 -nodes -subj /CN=crm -keyout client.key -out client.csr\n",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
      "-out client.pem\n");
  if (std::system(script.c_str()) != 0) GTEST_SKIP() << "openssl could not make certificates";
  auto read = [&](const char* name) {
    std::ifstream in(absl::StrCat(dir, "/", name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  options_.tls = TlsServerOptions{read("server.pem"), read("server.key"), read("ca.pem")};
  StartGateway();

  SSL_CTX* anonymous = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_load_verify_locations(anonymous, (dir + "/ca.pem").c_str(), nullptr), 1);
  SSL_CTX* identified = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SSL_CTX_load_verify_locations(identified, (dir + "/ca.pem").c_str(), nullptr), 1);
  ASSERT_EQ(
      SSL_CTX_use_certificate_file(identified, (dir + "/client.pem").c_str(), SSL_FILETYPE_PEM), 1);
  ASSERT_EQ(
      SSL_CTX_use_PrivateKey_file(identified, (dir + "/client.key").c_str(), SSL_FILETYPE_PEM), 1);
  {
    Client client(port(), identified);
    ASSERT_TRUE(client.connected());
    EXPECT_EQ(client.Call(Post(kLookup, "application/json", "{}")).head.status, 200);
  }
  {
    // TLS 1.3 reports a refused client certificate after the handshake:
    // on the first read, at the latest.
    Client client(port(), anonymous, 2000);
    Reply reply = client.Call(Post(kLookup, "application/json", "{}"));
    EXPECT_EQ(reply.head.status, 0);
  }
  SSL_CTX_free(anonymous);
  SSL_CTX_free(identified);
  std::filesystem::remove_all(dir);
}

TEST_F(HttpGatewayTest, BadTlsKeyIsInvalidArgument) {
  options_.tls = TlsServerOptions{"not a certificate", "not a key", ""};
  EXPECT_EQ(HttpGateway::Start(options_, &methods_, Dispatch()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sopsidebar
