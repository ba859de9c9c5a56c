// A stream of serialised messages from a producer (the domain's watches) to
// a transport (a gRPC write reactor, a Connect HTTP response), without
// either seeing the other's types.
#ifndef SOPSIDEBAR_SERVER_COMMON_MESSAGE_STREAM_H_
#define SOPSIDEBAR_SERVER_COMMON_MESSAGE_STREAM_H_

#include <string>

#include "absl/status/status.h"

namespace sopsidebar {

// Where a stream's messages go; implemented by each transport. Thread-safe:
// Send and Close may be called from any thread and must not block (a
// transport queues what it cannot write at once, and may keep only the
// newest message of a kind when the client reads slowly). After Close,
// nothing more is sent.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // One message, serialised.
  virtual void Send(std::string message) = 0;
  // Ends the stream with `status` (OK: the server ended it normally).
  virtual void Close(absl::Status status) = 0;
};

// An open stream on the producer's side. Destroying it stops the stream:
// once the destructor has returned, the producer calls neither Send nor
// Close on its sink again. Thread-compatible.
class MessageSubscription {
 public:
  virtual ~MessageSubscription() = default;
};

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_COMMON_MESSAGE_STREAM_H_
