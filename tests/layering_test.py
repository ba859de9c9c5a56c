"""sopd's layering (docs/ARCHITECTURE.md), checked on the #include lines of
every C++ file, tests included:

- gRPC only in server/service, client/ and the tests that run a server, and
  in server/storage/etcd, whose client reaches etcd over gRPC (no gRPC type
  leaves it); RocksDB only in server/storage;
- common/ (what sopd and sopctl share) on neither server/ nor client/;
- server/common on common/ only; the domain (server/domain) on common/ and
  server/common: not on storage, which implements the domain's store
  ports (server/domain/store), nor on the service, the wiring or the client;
- server/storage on the domain, common/ and server/common only;
- server/api (the methods bound once for every transport) on the domain,
  common/ and server/common: no transport and no storage;
- plugins/drafting (the drafters) on common/ only: a port of common/drafting
  that sopd and sopctl both use, so it sees neither of them;
- Boost (Beast/Asio) only in server/http, the Connect/HTTP gateway, and the
  shared HTTP client (common/http: the model drafter and webhooks);
- Xapian only in server/search, which implements the domain's search index
  port (server/domain/search) and sees nothing above it.

Bazel checks the same on the target graph (//server:layering_test); this one
runs under ctest, so scripts/test without Bazel still enforces it.

Usage: layering_test.py ROOT     (exit 1 and one line per violation)
       layering_test.py --self-test
"""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
SOURCE_DIRS = ("common", "server", "client", "bench", "tests", "plugins/drafting")
EXTENSIONS = (".h", ".cc")

GRPC = re.compile(r"^(grpcpp/|grpc/|grpc\+\+/)|\.grpc\.pb\.h$")
ROCKSDB = re.compile(r"^rocksdb/")
BOOST = re.compile(r"^boost/")
XAPIAN = re.compile(r"^xapian(\.h$|/)")

# (folder, what no file under it may include, why)
RULES = [
    ("common/", re.compile(r"^(server|client)/"),
     "common/ is what sopd and sopctl share and depends on neither"),
    ("server/common/", re.compile(r"^(server/(domain|storage|service|app|main)|client)/"),
     "server/common is the bottom layer"),
    ("server/domain/", re.compile(r"^(server/(storage|service|app|main)|client)/"),
     "the domain sees its own ports (server/domain/store), never their implementations, "
     "the service, the wiring or the client"),
    ("server/storage/", re.compile(r"^(server/(api|service|http|app|main)|client)/"),
     "storage implements the domain's ports and sees nothing above them"),
    ("server/api/", re.compile(r"^(server/(storage|service|http|app|main)|client)/"),
     "the API's methods are bound once, for every transport, and see none of them"),
    ("server/service/", re.compile(r"^server/(http|app|main)/"),
     "the gRPC transport sees the API, not the other transport or the wiring"),
    ("server/search/", re.compile(r"^(server/(api|service|http|app|main)|client)/"),
     "search implements the domain's index port and sees nothing above it"),
    ("server/http/", re.compile(r"^(server/(service|app|main|storage)|client)/"),
     "the HTTP transport sees the API, not the other transport or the wiring"),
    ("plugins/drafting/", re.compile(r"^(server|client)/"),
     "the drafters implement common/drafting's port for sopd and sopctl alike"),
]
GRPC_ALLOWED = ("server/service/", "client/", "tests/", "server/storage/etcd/")
ROCKSDB_ALLOWED = ("server/storage/",)
BOOST_ALLOWED = ("server/http/", "common/http/")
XAPIAN_ALLOWED = ("server/search/",)


def violations(path, text):
    """The layering violations of the file at `path` (relative to the
    project root) whose content is `text`."""
    found = []
    for header in INCLUDE.findall(text):
        for folder, forbidden, why in RULES:
            if path.startswith(folder) and forbidden.search(header):
                found.append("%s includes %s: %s" % (path, header, why))
        if GRPC.search(header) and not path.startswith(GRPC_ALLOWED):
            found.append("%s includes %s: gRPC only in server/service and client/" % (path, header))
        if ROCKSDB.search(header) and not path.startswith(ROCKSDB_ALLOWED):
            found.append("%s includes %s: RocksDB only in server/storage" % (path, header))
        if BOOST.search(header) and not path.startswith(BOOST_ALLOWED):
            found.append("%s includes %s: Boost only in server/http and common/http"
                         % (path, header))
        if XAPIAN.search(header) and not path.startswith(XAPIAN_ALLOWED):
            found.append("%s includes %s: Xapian only in server/search" % (path, header))
    return found


def sources(root):
    for top in SOURCE_DIRS:
        for directory, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "build", "bazel-")))
            for name in sorted(files):
                if name.endswith(EXTENSIONS):
                    full = os.path.join(directory, name)
                    yield os.path.relpath(full, root), full


def self_test():
    """The rules catch what they are for, and pass what is allowed."""
    cases = [
        ("server/domain/registry/x.cc", '#include "server/storage/rocksdb_store.h"', 1),
        ("server/domain/registry/x.cc", '#include "server/domain/store/sop_store.h"', 0),
        ("server/domain/auth/x.h", '#include <grpcpp/grpcpp.h>', 1),
        ("server/domain/auth/x.h", '#include "sopsidebar/v1/sop_service.grpc.pb.h"', 1),
        ("server/domain/auth/x.h", '#include "sopsidebar/v1/sop_service.pb.h"', 0),
        ("server/common/x.cc", '#include "server/domain/registry/sop_registry.h"', 1),
        ("server/storage/x.cc", '#  include "server/service/grpc_server.h"', 1),
        ("server/api/x.cc", '#include "server/service/grpc_status.h"', 1),
        ("server/api/x.cc", '#include "server/domain/registry/sop_registry.h"', 0),
        ("server/api/x.h", '#include <grpcpp/grpcpp.h>', 1),
        ("server/http/x.cc", '#include <boost/beast/http.hpp>', 0),
        ("server/http/x.cc", '#include "server/service/grpc_server.h"', 1),
        ("server/service/x.cc", '#include <boost/asio.hpp>', 1),
        ("common/http/x.cc", '#include <boost/beast/http.hpp>', 0),
        ("plugins/drafting/openai/x.cc", '#include <boost/beast/http.hpp>', 1),
        ("plugins/drafting/builtin/x.cc", '#include <boost/beast/http.hpp>', 1),
        ("plugins/drafting/openai/x.cc", '#include "server/common/clock.h"', 1),
        ("plugins/drafting/builtin/x.cc", '#include "common/drafting/drafter.h"', 0),
        ("server/search/x.cc", "#include <xapian.h>", 0),
        ("server/domain/search/x.cc", "#include <xapian.h>", 1),
        ("server/search/x.cc", "#include \"server/api/api_methods.h\"", 1),
        ("server/storage/rocksdb_store.cc", '#include "rocksdb/db.h"', 0),
        ("server/app/x.cc", '#include "rocksdb/db.h"', 1),
        ("server/service/x.cc", '#include <grpcpp/grpcpp.h>', 0),
        ("common/model/x.cc", '#include "server/common/clock.h"', 1),
        ("common/sopfile/x.cc", '#include "common/model/names.h"', 0),
    ]
    failed = 0
    for path, text, expected in cases:
        got = len(violations(path, text))
        if got != expected:
            print("SELF-TEST: %s with %s: %d violations, expected %d" % (path, text, got, expected))
            failed += 1
    return failed


def main():
    if sys.argv[1:] == ["--self-test"]:
        return 1 if self_test() else 0
    root = sys.argv[1]
    if self_test():
        return 1
    problems, checked = [], 0
    for path, full in sources(root):
        with open(full, encoding="utf-8") as f:
            problems += violations(path, f.read())
        checked += 1
    for problem in problems:
        print("LAYERING: " + problem)
    if checked == 0:
        print("LAYERING: no C++ files under %s" % root)
        return 1
    print("%d files checked, %d violations" % (checked, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
