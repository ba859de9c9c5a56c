"""The Debian code generators the build runs (protobuf-compiler,
protobuf-compiler-grpc); they must match the libraries in BUILD.bazel."""

PROTOC = "/usr/bin/protoc"

GRPC_CPP_PLUGIN = "/usr/bin/grpc_cpp_plugin"

GRPC_PYTHON_PLUGIN = "/usr/bin/grpc_python_plugin"

# gRPC's health and reflection protos (Debian grpc-proto).
GRPC_PROTO_DIR = "/usr/share/grpc-proto/grpc"

# google.rpc.Status and its error details, plain proto3 (Debian
# golang-github-gogo-googleapis-dev).
GOOGLEAPIS_PROTO_DIR = "/usr/share/gocode/src/github.com/gogo/googleapis"

# etcd's v3 API protos (Debian golang-etcd-server-dev) and the gogoproto ones
# they import (golang-github-gogo-protobuf-dev), for the etcd store's client.
ETCD_PROTO_ROOT = "/usr/share/gocode/src/go.etcd.io"

GOGO_PROTO_ROOT = "/usr/share/gocode/src/github.com/gogo/protobuf"
