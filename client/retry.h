// The retry policy of the client library as a Connection decorator, so it is
// the same for every transport and testable with a fake Connection.
#ifndef SOPSIDEBAR_CLIENT_RETRY_H_
#define SOPSIDEBAR_CLIENT_RETRY_H_

#include <memory>

#include "client/connection.h"

namespace sopsidebar::client {

// Wraps `inner` so that calls which are safe to repeat (see RetryOptions) are
// tried up to `options.max_attempts` times while they fail with UNAVAILABLE,
// sleeping with exponential backoff in between. Returns the last attempt's
// result. Thread-safe when `inner` is.
std::shared_ptr<Connection> MakeRetryingConnection(std::shared_ptr<Connection> inner,
                                                   const RetryOptions& options);

}  // namespace sopsidebar::client

#endif  // SOPSIDEBAR_CLIENT_RETRY_H_
