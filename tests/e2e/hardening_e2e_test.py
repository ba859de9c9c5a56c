"""What an outside probe tried against sopd, tried again: the real sopd binary
on a loopback port, hit with curl and with Python grpcio sending raw bytes the
way an attacker would, its memory and its log watched from outside
(docs/SECURITY.md, "Limits").

Environment (set by ctest): SOPD (the sopd binary), SOP_EXAMPLES (the example
SOP directory).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import zlib
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))

import grpc  # noqa: E402
from sopd_process import Sopd, TIMEOUT  # noqa: E402

MIB = 1024 * 1024
GIB = 1024 * MIB

# Every RPC of the three services, with the field 1 of its request: a string
# for most, a message for UpdateSop (Sop) and LookupSops (CrmContext), whose
# own field 1 is a string; no string for the others (empty requests, ListOrgs'
# page_size, Ping's bytes).
SOP = "/sopsidebar.v1.SopService/"
ADMIN = "/sopsidebar.v1.AdminService/"
STRING_FIRST = [SOP + m for m in (
    "CreateSop", "GetSop", "ListSops", "DeleteSop", "UndeleteSop", "ListSopRevisions",
    "GetSopRevision", "PublishSop", "CheckTargeting")] + [ADMIN + m for m in (
        "CreateToken", "ListTokens", "GetToken", "RevokeToken", "CreateOrg", "GetOrg")]
MESSAGE_FIRST = [SOP + "UpdateSop", "/sopsidebar.v1.ContextService/LookupSops"]
NO_STRINGS = [ADMIN + "WhoAmI", ADMIN + "ListOrgs", ADMIN + "Ping"]


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A length-delimited field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


INVALID_UTF8 = b"\xff\xfe orgs/default"


def deeply_nested_lookup(depth):
    """A LookupSopsRequest whose one context field is a google.protobuf.Value
    holding lists `depth` deep."""
    value = b""
    for _ in range(depth):
        value = field(6, field(1, value))  # Value.list_value -> ListValue.values
    entry = field(1, b"lead_score") + field(2, value)
    context = field(1, b"orgs/default") + field(2, b"Lead") + field(4, entry)
    return field(1, context)


def gzip_bomb(path, inflated_bytes):
    """A gRPC message frame (compressed flag 1) whose gzip body inflates to
    `inflated_bytes` zeros."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(MIB)
    parts = [deflate.compress(chunk) for _ in range(inflated_bytes // MIB)]
    parts.append(deflate.flush())
    body = b"".join(parts)
    with open(path, "wb") as f:
        f.write(b"\x01" + len(body).to_bytes(4, "big") + body)
    return len(body)


class HardeningTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.sopd = Sopd(os.path.join(cls.tmp.name, "data"),
                        import_dir=os.environ["SOP_EXAMPLES"]).start().follow_log()
        cls.channel = grpc.insecure_channel(cls.sopd.address)
        cls.auth = [("authorization", "Bearer " + cls.sopd.admin_token())]

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.sopd.stop()
        cls.tmp.cleanup()

    def call(self, method, request, metadata=(), timeout=TIMEOUT):
        """Sends raw request bytes; returns (code, details)."""
        rpc = self.channel.unary_unary(method)
        try:
            rpc(request, metadata=metadata, timeout=timeout)
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as error:
            return error.code(), error.details()

    def log_lines(self, pattern):
        return [line for line in list(self.sopd.log) if re.search(pattern, line)]

    def settle_log(self):
        """Lets sopd's last lines reach the log reader."""
        self.assertEqual(self.call(ADMIN + "Ping", b"", self.auth)[0], grpc.StatusCode.OK)
        time.sleep(0.3)

    def test_gzip_bomb_is_refused_before_it_is_inflated(self):
        self.assertIsNotNone(shutil.which("curl"), "scripts/setup installs curl")
        bomb = os.path.join(self.tmp.name, "bomb.bin")
        compressed = gzip_bomb(bomb, GIB)
        self.assertLess(compressed, 4 * MIB)  # under the message limit, as the probe's was
        before = self.sopd.peak_memory_kib()

        def send(_):
            return subprocess.run(
                ["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-D", "-",
                 "-H", "content-type: application/grpc", "-H", "te: trailers",
                 "-H", "grpc-encoding: gzip", "--data-binary", "@" + bomb,
                 "http://%s/sopsidebar.v1.SopService/GetSop" % self.sopd.address],
                capture_output=True, text=True, timeout=120)

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(send, range(4)))
        after = self.sopd.peak_memory_kib()
        print("gzip bomb x4: sopd VmHWM %d KiB before, %d KiB after (+%d KiB)"
              % (before, after, after - before), file=sys.stderr)
        for answer in answers:
            # Refused as gRPC specifies (UNIMPLEMENTED), or, when the refusal
            # overtakes the upload, the stream reset after its first window:
            # either way the body is never inflated.
            refused = "grpc-status: 12" in answer.stdout or answer.returncode == 92
            self.assertTrue(refused, answer.stdout + answer.stderr)
        self.assertLess(after - before, 64 * 1024, "a refused bomb must not be inflated")
        # And sopd keeps answering.
        self.assertEqual(self.call(ADMIN + "Ping", b"", self.auth)[0], grpc.StatusCode.OK)

    def test_compressed_requests_are_refused_with_unimplemented(self):
        rpc = self.channel.unary_unary(SOP + "GetSop")
        with self.assertRaises(grpc.RpcError) as raised:
            rpc(field(1, b"orgs/default/sops/mql-acceptance-handoff"), metadata=self.auth,
                timeout=TIMEOUT, compression=grpc.Compression.Gzip)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
        self.assertIn("'gzip' is disabled", raised.exception.details())

    def test_malformed_requests_get_invalid_argument_naming_the_problem(self):
        cases = [(m, field(1, INVALID_UTF8), "is not valid UTF-8") for m in STRING_FIRST]
        cases += [(m, field(1, field(1, INVALID_UTF8)), "is not valid UTF-8")
                  for m in MESSAGE_FIRST]
        cases += [(m, b"\x0a\x7f", "malformed") for m in NO_STRINGS]  # length past the end
        cases.append(("/sopsidebar.v1.ContextService/LookupSops", deeply_nested_lookup(60),
                      "nested more than 100 levels"))
        for method, request, reason in cases:
            for metadata in ((), self.auth):
                code, details = self.call(method, request, metadata)
                with self.subTest(method=method, token=bool(metadata)):
                    self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT, details)
                    self.assertRegex(details, r"^request: not a valid sopsidebar\.v1\.\w+: ")
                    self.assertIn(reason, details)

    def test_invalid_utf8_floods_write_no_log_lines(self):
        for _ in range(200):
            code, _ = self.call(SOP + "GetSop", field(1, INVALID_UTF8))
            self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.settle_log()
        self.assertEqual(self.log_lines("UTF-8"), [])

    def test_unauthenticated_floods_are_logged_rate_limited(self):
        name = field(1, b"orgs/default/sops/mql-acceptance-handoff")
        before = len(self.log_lines(r"rejected GetSop .*UNAUTHENTICATED"))
        for _ in range(300):
            code, _ = self.call(SOP + "GetSop", name, [("authorization", "Bearer sop_x_y")])
            self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)
        self.settle_log()
        logged = len(self.log_lines(r"rejected GetSop .*UNAUTHENTICATED")) - before
        self.assertGreater(logged, 0, "rejections are still logged")
        self.assertLessEqual(logged, 20, "at most one burst per window")


if __name__ == "__main__":
    unittest.main()
