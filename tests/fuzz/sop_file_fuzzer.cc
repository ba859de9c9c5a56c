// libFuzzer target: SOP files (common/sopfile) from arbitrary bytes.
//
// Beyond "no crash, no sanitizer report", it checks the parser's contract:
// a rejection is INVALID_ARGUMENT naming the file; an accepted file holds a
// valid SOP body; and an accepted SOP written back out as proto JSON (what
// `sopctl get -o json` gives an editor) parses again to the same SOP.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/model/validation.h"
#include "common/sopfile/sop_file.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace sopsidebar {
namespace {

constexpr absl::string_view kPath = "fuzz.yaml";

[[noreturn]] void Fail(absl::string_view what, absl::string_view detail) {
  std::cerr << "sop_file_fuzzer: " << what << "\n" << detail << "\n";
  std::abort();
}

void CheckOneFile(absl::string_view contents) {
  absl::StatusOr<v1::Sop> sop = ParseSopFile(kPath, contents);
  if (!sop.ok()) {
    if (sop.status().code() != absl::StatusCode::kInvalidArgument ||
        !absl::StartsWith(sop.status().message(), kPath)) {
      Fail("a rejection is not INVALID_ARGUMENT naming the file", sop.status().ToString());
    }
    return;
  }
  absl::Status valid = ValidateSopBody(*sop, "");
  if (!valid.ok()) Fail("an accepted file holds an invalid SOP", valid.ToString());

  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(*sop, &json, print).ok()) {
    // JSON cannot hold it (e.g. a Timestamp out of JSON's range): nothing
    // to read back.
    return;
  }
  absl::StatusOr<v1::Sop> again = ParseSopFile("fuzz.json", json);
  if (!again.ok()) {
    Fail("an accepted SOP written as JSON is rejected",
         again.status().ToString() + "\njson: " + json);
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(*sop, *again)) {
    Fail("an accepted SOP written as JSON reads back differently",
         "first:  " + sop->ShortDebugString() + "\nagain:  " + again->ShortDebugString());
  }
}

}  // namespace
}  // namespace sopsidebar

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view contents(reinterpret_cast<const char*>(data), size);
  sopsidebar::CheckOneFile(contents);
  // The untyped scalars of `sopctl --field` and plain YAML scalars.
  sopsidebar::InferScalarValue(contents);
  return 0;
}
