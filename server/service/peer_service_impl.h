// The server side of PeerService, for GrpcServer (peer_service.h).
#ifndef SOPSIDEBAR_SERVER_SERVICE_PEER_SERVICE_IMPL_H_
#define SOPSIDEBAR_SERVER_SERVICE_PEER_SERVICE_IMPL_H_

#include <memory>

#include "grpcpp/impl/service_type.h"
#include "server/service/peer_service.h"

namespace sopsidebar {

// The service to register; synchronous (a report asks each node once).
std::unique_ptr<grpc::Service> MakePeerService(PeerServiceOptions options);

}  // namespace sopsidebar

#endif  // SOPSIDEBAR_SERVER_SERVICE_PEER_SERVICE_IMPL_H_
