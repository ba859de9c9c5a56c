// libFuzzer target: the Connect gateway's request parsing
// (server/http/connect_protocol.h, proto_json.h), bytes -> a request of one
// of the API's methods, as the gateway reads a body.
//
// Differential and round-trip checks on top of the sanitizers:
// - ParseMessageJson, the gateway's fast JSON reader, accepts exactly what
//   protobuf's JsonStringToMessage accepts, into the same message (its
//   header's promise);
// - a parsed request written with AppendMessageJson reads back to itself;
// - the header and envelope parsers answer OK or INVALID_ARGUMENT, and an
//   accepted envelope is the one Envelope writes.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/http/connect_protocol.h"
#include "server/http/proto_json.h"
#include "sopsidebar/v1/admin_service.pb.h"
#include "sopsidebar/v1/analytics_service.pb.h"
#include "sopsidebar/v1/authoring_service.pb.h"
#include "sopsidebar/v1/context_service.pb.h"
#include "sopsidebar/v1/sop_service.pb.h"
#include "sopsidebar/v1/template_service.pb.h"

namespace sopsidebar {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::Message;

[[noreturn]] void Fail(absl::string_view what, absl::string_view detail) {
  std::cerr << "connect_request_fuzzer: " << what << "\n" << detail << "\n";
  std::abort();
}

// Every request and response type of the API's services, in a fixed order,
// so that an input names the same type in every run.
std::vector<const Message*> ApiMessages() {
  // One message of each service's file, so that a static link keeps the
  // files' descriptors.
  for (const Descriptor* linked :
       {v1::CreateSopRequest::descriptor(), v1::LookupSopsRequest::descriptor(),
        v1::PingRequest::descriptor(), v1::RecordEventsRequest::descriptor(),
        v1::DraftSopRequest::descriptor(), v1::CreateTemplateRequest::descriptor()}) {
    if (linked == nullptr) Fail("no descriptor", "");
  }
  std::vector<const Descriptor*> types;
  for (const char* name :
       {"sopsidebar.v1.SopService", "sopsidebar.v1.ContextService", "sopsidebar.v1.AdminService",
        "sopsidebar.v1.AnalyticsService", "sopsidebar.v1.AuthoringService",
        "sopsidebar.v1.EventService", "sopsidebar.v1.TemplateService"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    if (service == nullptr) Fail("the API does not have service", name);
    for (int i = 0; i < service->method_count(); ++i) {
      types.push_back(service->method(i)->input_type());
      types.push_back(service->method(i)->output_type());
    }
  }
  std::sort(types.begin(), types.end(), [](const Descriptor* a, const Descriptor* b) {
    return a->full_name() < b->full_name();
  });
  types.erase(std::unique(types.begin(), types.end()), types.end());
  std::vector<const Message*> prototypes;
  for (const Descriptor* type : types) {
    prototypes.push_back(google::protobuf::MessageFactory::generated_factory()->GetPrototype(type));
  }
  return prototypes;
}

bool SameMessage(const Message& a, const Message& b) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  return differencer.Compare(a, b);
}

void ExpectOkOrInvalid(const absl::Status& status, absl::string_view what) {
  if (!status.ok() && status.code() != absl::StatusCode::kInvalidArgument) {
    Fail(absl::StrCat(what, " answered neither OK nor INVALID_ARGUMENT"), status.ToString());
  }
}

void CheckHeadersAndEnvelope(absl::string_view bytes) {
  connect::ParseContentType(bytes);
  ExpectOkOrInvalid(connect::ParseTimeout(bytes).status(), "ParseTimeout");
  ExpectOkOrInvalid(connect::CheckProtocolVersion(bytes), "CheckProtocolVersion");
  absl::StatusOr<absl::string_view> payload = connect::SingleEnvelopePayload(bytes);
  ExpectOkOrInvalid(payload.status(), "SingleEnvelopePayload");
  if (payload.ok() && connect::Envelope(0, *payload) != bytes) {
    Fail("an accepted envelope is not the one Envelope writes", std::string(bytes));
  }
}

void CheckJson(const Message& prototype, absl::string_view json) {
  std::unique_ptr<Message> ours(prototype.New());
  std::unique_ptr<Message> theirs(prototype.New());
  const absl::Status parsed = ParseMessageJson(json, ours.get());
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const bool protobuf_ok =
      google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), theirs.get(), options)
          .ok();
  const std::string label = absl::StrCat(prototype.GetDescriptor()->full_name(), " from ", json);
  if (parsed.ok() != protobuf_ok) {
    Fail(parsed.ok() ? "ParseMessageJson accepts what protobuf refuses"
                     : "ParseMessageJson refuses what protobuf accepts",
         label + "\nours: " + parsed.ToString());
  }
  ExpectOkOrInvalid(parsed, "ParseMessageJson");
  if (!parsed.ok()) return;
  if (!SameMessage(*ours, *theirs)) {
    Fail("ParseMessageJson reads another message than protobuf",
         label + "\nours:     " + ours->ShortDebugString() +
             "\nprotobuf: " + theirs->ShortDebugString());
  }
  // The gateway's status and error are the same through ParseMessage.
  std::unique_ptr<Message> via_gateway(prototype.New());
  ExpectOkOrInvalid(connect::ParseMessage(connect::Codec::kJson, json, via_gateway.get()),
                    "ParseMessage");
}

void CheckRoundTrip(const Message& message) {
  std::string json;
  if (!AppendMessageJson(message, &json).ok()) return;  // JSON cannot hold it
  std::unique_ptr<Message> again(message.New());
  const absl::Status parsed = ParseMessageJson(json, again.get());
  // JSON has no unknown fields: a binary request's are not written.
  std::unique_ptr<Message> known(message.New());
  known->CopyFrom(message);
  known->DiscardUnknownFields();
  if (!parsed.ok() || !SameMessage(*known, *again)) {
    Fail("AppendMessageJson writes what does not read back",
         absl::StrCat(message.GetDescriptor()->full_name(), " ", message.ShortDebugString(),
                      "\njson: ", json, "\nread: ", parsed.ToString(), " ",
                      again->ShortDebugString()));
  }
}

}  // namespace
}  // namespace sopsidebar

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<const google::protobuf::Message*>* const kTypes =
      new std::vector<const google::protobuf::Message*>(sopsidebar::ApiMessages());
  FuzzedDataProvider input(data, size);
  const google::protobuf::Message& prototype =
      *(*kTypes)[input.ConsumeIntegralInRange<size_t>(0, kTypes->size() - 1)];
  const bool binary = input.ConsumeBool();
  const std::string body = input.ConsumeRemainingBytesAsString();

  sopsidebar::CheckHeadersAndEnvelope(body);
  std::unique_ptr<google::protobuf::Message> message(prototype.New());
  if (binary) {
    const absl::Status parsed =
        sopsidebar::connect::ParseMessage(sopsidebar::connect::Codec::kProto, body, message.get());
    sopsidebar::ExpectOkOrInvalid(parsed, "ParseMessage (binary)");
    if (parsed.ok()) sopsidebar::CheckRoundTrip(*message);
    return 0;
  }
  sopsidebar::CheckJson(prototype, body);
  if (sopsidebar::ParseMessageJson(body, message.get()).ok()) sopsidebar::CheckRoundTrip(*message);
  return 0;
}
