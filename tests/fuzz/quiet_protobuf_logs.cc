// Linked into every fuzzer of tests/fuzz (CMakeLists.txt): libFuzzer calls
// this once before the first input.
#include "google/protobuf/stubs/logging.h"

// Protobuf logs every string field with invalid UTF-8 it parses; the
// fuzzers send many, and the lines would drown their own output.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}
