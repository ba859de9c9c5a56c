// A stream of serialised messages from a producer (the domain's watches) to
// a transport (a gRPC write reactor, a Connect HTTP response), without
// either seeing the other's types.
#ifndef SOPSIDEBAR_SERVER_COMMON_MESSAGE_STREAM_H_
#define SOPSIDEBAR_SERVER_COMMON_MESSAGE_STREAM_H_

#include <cstddef>
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
  // For streams whose every message counts (Delivery::kEveryMessage), where
  // the transport queues every message instead of keeping the newest: blocks
  // until fewer than `max_waiting` messages wait to be written, then returns
  // true; returns false once the stream has ended (the client went away),
  // and the producer stops. Only a producer on a thread of its own may call
  // it, never a transport's thread. Sinks that hold nothing back return
  // true at once.
  virtual bool AwaitRoom(size_t /*max_waiting*/) { return true; }
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
