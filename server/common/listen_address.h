// What sopd's listeners (gRPC, the Connect/HTTP gateway) share about where
// and how they listen.
#ifndef SOPSIDEBAR_SERVER_COMMON_LISTEN_ADDRESS_H_
#define SOPSIDEBAR_SERVER_COMMON_LISTEN_ADDRESS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace sopsidebar {

// PEM contents (not paths) of a listener's TLS.
struct TlsServerOptions {
  std::string cert_chain_pem;
  std::string private_key_pem;
  // When set, clients must present a certificate signed by this CA (mTLS).
  std::string client_ca_pem;
};

// True when `listen_address` ("host:port", "[v6]:port") names this machine
// only: "localhost", an IPv4 address in 127.0.0.0/8, or ::1. A name that
// merely starts like one ("127.example.com") is not. Thread-safe.
bool IsLoopbackAddress(absl::string_view listen_address);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_COMMON_LISTEN_ADDRESS_H_
