// A drafter that asks a model behind an OpenAI-compatible chat-completions
// endpoint (llama.cpp's server, Ollama, vLLM, ...): POST
// {base_url}/v1/chat/completions with a system message describing the SOP
// schema (sop_schema.h), the brief as the user message and
// response_format {"type": "json_object"}. The answer is read with the
// project's SOP parser and validator; an invalid one is sent back once,
// with its problems, for a corrected answer. Only a valid SOP is returned;
// output-only fields the model wrote are dropped.
#ifndef SOPSIDEBAR_PLUGINS_DRAFTING_OPENAI_OPENAI_DRAFTER_H_
#define SOPSIDEBAR_PLUGINS_DRAFTING_OPENAI_OPENAI_DRAFTER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/drafting/drafter.h"
#include "sopsidebar/v1/sop.pb.h"

namespace sopsidebar {

struct OpenAiDrafterOptions {
  // Required. "http://host[:port][/path]"; "/v1/chat/completions" is added
  // (a base URL that already ends in "/v1" is not given a second one).
  // Plain http only (http_client.h).
  std::string base_url;
  // Required. The model as the server names it ("llama3.1:8b").
  std::string model;
  // Sent as "Authorization: Bearer <api_key>" when not empty. Default: empty.
  std::string api_key;
  // Each request's deadline, from connecting to the last byte of the
  // answer; a draft makes at most two requests. Default 120 s.
  absl::Duration timeout = absl::Seconds(120);
  // The largest response accepted. Default 1 MiB.
  size_t max_response_bytes = 1 << 20;
  // Sampling temperature. Default 0.2: a draft should follow the brief.
  double temperature = 0.2;
};

// Thread-safe: Draft calls share nothing but the options.
class OpenAiDrafter final : public Drafter {
 public:
  // INVALID_ARGUMENT naming the option (error::InvalidField: "base_url",
  // "model", "timeout", "max_response_bytes", "temperature") when one is
  // missing or malformed, or base_url is not http://.
  static absl::StatusOr<std::unique_ptr<OpenAiDrafter>> Create(OpenAiDrafterOptions options);

  // Besides Drafter::Draft's INVALID_ARGUMENT for the brief, errors name the
  // endpoint (base_url) and the cause; none is retried:
  //   UNAVAILABLE         unreachable (error::ModelUnreachable), HTTP 429 or
  //                       5xx (error::ModelHttpError), a response that is no
  //                       chat completion (error::ModelBadResponse), or two
  //                       answers that are no valid SOP
  //                       (error::ModelAnswerInvalid, listing the second
  //                       answer's problems);
  //   DEADLINE_EXCEEDED   no answer within options.timeout
  //                       (error::ModelTimeout);
  //   FAILED_PRECONDITION any other HTTP error status (error::ModelHttpError:
  //                       a wrong model, key or path).
  absl::StatusOr<v1::Sop> Draft(absl::string_view brief) const override;

 private:
  OpenAiDrafter(OpenAiDrafterOptions options, std::string host, std::string port,
                std::string target);

  OpenAiDrafterOptions options_;
  std::string host_;
  std::string port_;
  std::string target_;  // the path of .../v1/chat/completions
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_PLUGINS_DRAFTING_OPENAI_OPENAI_DRAFTER_H_
