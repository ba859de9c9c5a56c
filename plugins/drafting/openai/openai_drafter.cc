#include "plugins/drafting/openai/openai_drafter.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/http/http_client.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "plugins/drafting/openai/sop_schema.h"

namespace sopsidebar {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

// Attempts per draft: the first answer, and one corrected answer.
constexpr int kAttempts = 2;

void AddMessage(absl::string_view role, absl::string_view content, ListValue* messages) {
  Struct* message = messages->add_values()->mutable_struct_value();
  (*message->mutable_fields())["role"].set_string_value(std::string(role));
  (*message->mutable_fields())["content"].set_string_value(std::string(content));
}

std::string CorrectionRequest(const std::vector<std::string>& problems) {
  return absl::StrCat(
      "That answer is not a valid SOP:\n- ", absl::StrJoin(problems, "\n- "),
      "\nAnswer again with the whole corrected SOP as one JSON object, and nothing else.");
}

// The value at `key` of `value` when it is an object holding one.
const Value* Field(const Value& value, absl::string_view key) {
  if (value.kind_case() != Value::kStructValue) return nullptr;
  const auto& fields = value.struct_value().fields();
  auto it = fields.find(std::string(key));
  return it == fields.end() ? nullptr : &it->second;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OpenAiDrafter>> OpenAiDrafter::Create(OpenAiDrafterOptions options) {
  absl::string_view url = absl::StripAsciiWhitespace(options.base_url);
  if (url.empty()) return error::RequiredField("base_url");
  if (options.model.empty()) return error::RequiredField("model");
  if (options.timeout <= absl::ZeroDuration()) {
    return error::InvalidField("timeout", "must be positive");
  }
  if (options.max_response_bytes == 0) {
    return error::InvalidField("max_response_bytes", "must be positive");
  }
  if (!(options.temperature >= 0 && options.temperature <= 2)) {
    return error::InvalidField("temperature", "must be between 0 and 2");
  }
  if (absl::StartsWithIgnoreCase(url, "https://")) {
    return error::InvalidField("base_url",
                               "https is not supported: use the model server's http:// address "
                               "(or a local TLS-terminating proxy)");
  }
  if (!absl::ConsumePrefix(&url, "http://")) {
    return error::InvalidField("base_url",
                               absl::StrCat(error::QuoteInput(options.base_url),
                                            " is not an http:// URL, e.g. http://127.0.0.1:8080"));
  }
  if (absl::StrContains(url, "?") || absl::StrContains(url, "#") || absl::StrContains(url, "@")) {
    return error::InvalidField("base_url",
                               "takes no query, fragment or credentials (set api_key instead)");
  }
  const size_t slash = url.find('/');
  absl::string_view authority = url.substr(0, slash);
  absl::string_view path = slash == absl::string_view::npos ? "" : url.substr(slash);
  std::string host;
  absl::string_view port = "80";
  if (absl::ConsumePrefix(&authority, "[")) {  // [::1]:8080
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return error::InvalidField("base_url", "an IPv6 address needs its closing ']'");
    }
    host = std::string(authority.substr(0, close));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && !absl::ConsumePrefix(&authority, ":")) {
      return error::InvalidField("base_url", "expected ':' and a port after ']'");
    }
    if (!authority.empty()) port = authority;
  } else {
    const size_t colon = authority.find(':');
    host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) port = authority.substr(colon + 1);
  }
  int port_number = 0;
  if (host.empty()) return error::InvalidField("base_url", "names no host");
  if (!absl::SimpleAtoi(port, &port_number) || port_number < 1 || port_number > 65535 ||
      !absl::ascii_isdigit(port[0])) {
    return error::InvalidField("base_url", absl::StrCat("port ", error::QuoteInput(port),
                                                        " is not a number from 1 to 65535"));
  }
  while (absl::ConsumeSuffix(&path, "/")) {
  }
  const std::string target = absl::EndsWith(path, "/v1")
                                 ? absl::StrCat(path, "/chat/completions")
                                 : absl::StrCat(path, "/v1/chat/completions");
  return std::unique_ptr<OpenAiDrafter>(
      new OpenAiDrafter(std::move(options), std::move(host), absl::StrCat(port_number), target));
}

OpenAiDrafter::OpenAiDrafter(OpenAiDrafterOptions options, std::string host, std::string port,
                             std::string target)
    : options_(std::move(options)),
      host_(std::move(host)),
      port_(std::move(port)),
      target_(std::move(target)) {}

absl::StatusOr<v1::Sop> OpenAiDrafter::Draft(absl::string_view brief) const {
  SOP_RETURN_IF_ERROR(ValidateBrief(brief));
  const std::string& endpoint = options_.base_url;

  Struct request;
  auto& fields = *request.mutable_fields();
  fields["model"].set_string_value(options_.model);
  fields["temperature"].set_number_value(options_.temperature);
  fields["stream"].set_bool_value(false);
  (*fields["response_format"].mutable_struct_value()->mutable_fields())["type"].set_string_value(
      "json_object");
  ListValue* messages = fields["messages"].mutable_list_value();
  AddMessage("system", DraftingSystemPrompt(), messages);
  AddMessage("user", absl::StrCat("Brief:\n", brief), messages);

  HttpPostRequest post;
  post.host = host_;
  post.port = port_;
  post.target = target_;
  post.timeout = options_.timeout;
  post.max_response_bytes = options_.max_response_bytes;
  if (!options_.api_key.empty()) {
    post.headers.emplace_back("Authorization", absl::StrCat("Bearer ", options_.api_key));
  }

  std::vector<std::string> problems;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    if (attempt > 1) AddMessage("user", CorrectionRequest(problems), messages);
    post.body.clear();
    if (!google::protobuf::util::MessageToJsonString(request, &post.body).ok()) {
      return absl::InternalError("drafting: cannot write the chat-completions request");
    }
    absl::StatusOr<HttpResponse> response = HttpPost(post);
    if (!response.ok()) {
      switch (response.status().code()) {
        case absl::StatusCode::kDeadlineExceeded:
          return error::ModelTimeout(endpoint, options_.timeout);
        case absl::StatusCode::kUnavailable:
          return error::ModelUnreachable(endpoint, response.status().message());
        default:
          return error::ModelBadResponse(endpoint, response.status().message());
      }
    }
    if (response->status < 200 || response->status > 299) {
      return error::ModelHttpError(endpoint, response->status, response->body);
    }
    Value completion;
    const auto parsed = google::protobuf::util::JsonStringToMessage(response->body, &completion);
    if (!parsed.ok()) {
      return error::ModelBadResponse(
          endpoint, absl::StrCat("the body is not JSON: ", std::string(parsed.message())));
    }
    const Value* choices = Field(completion, "choices");
    const Value* content = nullptr;
    if (choices != nullptr && choices->kind_case() == Value::kListValue &&
        choices->list_value().values_size() > 0) {
      const Value* message = Field(choices->list_value().values(0), "message");
      if (message != nullptr) content = Field(*message, "content");
    }
    if (content == nullptr || content->kind_case() != Value::kStringValue) {
      return error::ModelBadResponse(endpoint, "no string at choices[0].message.content");
    }

    ModelAnswer answer = ReadModelAnswer(content->string_value());
    if (answer.sop.has_value()) return *std::move(answer.sop);
    problems = std::move(answer.problems);
    AddMessage("assistant", content->string_value(), messages);
  }
  return error::ModelAnswerInvalid(options_.model, kAttempts, problems);
}

}  // namespace sopsidebar
