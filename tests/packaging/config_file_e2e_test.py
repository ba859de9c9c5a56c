"""sopd --config with the real binary: the file sets flags, the command line
overrides them, a bad file stops sopd with FILE:LINE: KEY: reason and exit
1, the shipped default configuration starts sopd, and every flag sopd has is
documented in that file and in docs/OPERATIONS.md.

Environment (set by ctest): SOPD, SOP_SOURCE_DIR.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from sopd_process import TIMEOUT, run_sopd  # noqa: E402

SOURCE = os.environ["SOP_SOURCE_DIR"]
DEFAULT_CONFIG = os.path.join(SOURCE, "server/main/packaging/sopd.yaml.in")
OPERATIONS = os.path.join(SOURCE, "docs/OPERATIONS.md")
# Flags a configuration file may not set (sopd_main.cc's kNotInConfigFile),
# and those every program has.
ONE_SHOT = {"config", "bootstrap_admin", "restore_from", "help", "helpfull", "version"}


def sopd_flags():
    """The flags `sopd --help` lists, snake_case."""
    out = subprocess.run([os.environ["SOPD"], "--help"], capture_output=True, text=True,
                         timeout=TIMEOUT, check=True).stdout
    flags = {m.replace("-", "_") for m in re.findall(r"^  --([a-z][a-z0-9-]*)", out, re.M)}
    if len(flags) < 10:
        raise AssertionError("too few flags in sopd --help: %s\n%s" % (sorted(flags), out))
    return flags


def yaml_keys(text):
    """Top-level keys of a YAML text, set or shown commented out (# key:)."""
    return set(re.findall(r"^#? ?([a-z][a-z0-9_]*):", text, re.M))


def operations_section(title):
    with open(OPERATIONS) as f:
        text = f.read()
    match = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(title), text, re.M | re.S)
    if not match:
        raise AssertionError("docs/OPERATIONS.md has no '## %s' section" % title)
    return match.group(1)


class ConfigFileTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sopd-config-")
        self.procs = []

    def tearDown(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=TIMEOUT)
            proc.stderr.close()
        shutil.rmtree(self.tmp)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, *args):
        """Starts sopd with `args`; returns its stderr up to the listening line."""
        proc = subprocess.Popen([os.environ["SOPD"], *args], stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        log = []
        for line in proc.stderr:
            log.append(line)
            if "listening on" in line:
                return "".join(log)
        proc.wait(timeout=TIMEOUT)
        self.fail("sopd exited with %s before listening:\n%s" % (proc.returncode, "".join(log)))

    def test_the_file_sets_flags_and_the_command_line_overrides_them(self):
        from_file = os.path.join(self.tmp, "from-file")
        config = self.write("sopd.yaml", "data_dir: %s\ngrpc-listen: 127.0.0.1:0\n"
                            "http_listen: \"\"\nmax_watches_per_token: 3\n"
                            "cors_origin:\n  - https://a.example.com\n" % from_file)
        log = self.start("--config", config)
        print(log, end="")
        self.assertIn("data_dir=%s " % from_file, log)
        self.assertNotIn("Connect/HTTP on", log)  # http_listen: "" turned it off
        self.assertTrue(os.path.isdir(os.path.join(from_file, "db")))

        from_flag = os.path.join(self.tmp, "from-flag")
        log = self.start("--data-dir", from_flag, "--config=%s" % config,
                         "--http-listen", "127.0.0.1:0")
        print(log, end="")
        self.assertIn("data_dir=%s " % from_flag, log)
        self.assertIn("Connect/HTTP on http://127.0.0.1:", log)

    def test_a_bad_file_stops_sopd_naming_file_line_and_key(self):
        cases = [
            ("grpc_listen: 127.0.0.1:0\ngrpc_lisen: 127.0.0.1:1\n", ":2: grpc_lisen: unknown key"),
            ("http_threads: lots\n", ":1: http_threads: bad value \"lots\""),
            ("\n\ninsecure_listen_any: maybe\n", ":3: insecure_listen_any: bad value"),
            ("bootstrap_admin: true\n", ":1: bootstrap_admin: is a one-shot flag"),
            ("config: other.yaml\n", ":1: config: is a one-shot flag"),
            ("grpc_listen: [a, b]\n", ":1: grpc_listen: takes one value, not a list"),
            ("data_dir: [unclosed\n", ":2: not YAML"),
            ("data_dir: %s\nhttp_threads: 0\n" % os.path.join(self.tmp, "d"),
             "--http-threads must be at least 1 (set at {path}:2)"),
        ]
        for i, (text, expected) in enumerate(cases):
            path = self.write("bad%d.yaml" % i, text)
            result = run_sopd("--config", path)
            print("%r -> exit %d: %s" % (text, result.returncode, result.stderr.strip()))
            self.assertEqual(result.returncode, 1, result.stderr)
            want = expected.format(path=path) if "{path}" in expected else path + expected
            self.assertIn(want, result.stderr)

        missing = os.path.join(self.tmp, "absent.yaml")
        result = run_sopd("--config", missing)
        self.assertEqual(result.returncode, 1)
        self.assertIn(missing + ": cannot read the configuration file", result.stderr)
        result = run_sopd("--config", missing, "--config", missing)
        self.assertEqual(result.returncode, 1)
        self.assertIn("--config is given more than once", result.stderr)

    def test_the_shipped_default_config_starts_sopd(self):
        prefix = os.path.join(self.tmp, "usr")
        os.makedirs(os.path.join(prefix, "share/sopsidebar/web"))
        data_dir = os.path.join(self.tmp, "data")
        with open(DEFAULT_CONFIG) as f:
            text = f.read()
        # Its data dir and ports are the system's: this copy uses its own.
        for system, ours in (("@SOP_PREFIX@", prefix),
                             ("data_dir: /var/lib/sopd", "data_dir: " + data_dir),
                             ("127.0.0.1:50051", "127.0.0.1:0"),
                             ("127.0.0.1:8080", "127.0.0.1:0")):
            self.assertIn(system, text)
            text = text.replace(system, ours)
        log = self.start("--config", self.write("default.yaml", text))
        print(log, end="")
        self.assertIn("data_dir=%s " % data_dir, log)
        self.assertIn("(plaintext, loopback only)", log)
        self.assertIn("the demo CRM page at http://127.0.0.1:", log)  # its http_static_dir

    def test_every_flag_is_documented_in_the_default_config_and_operations_md(self):
        flags = sopd_flags() - ONE_SHOT
        with open(DEFAULT_CONFIG) as f:
            shipped = yaml_keys(f.read())
        example = operations_section("Configuration file")
        blocks = re.findall(r"```yaml\n(.*?)```", example, re.S)
        self.assertTrue(blocks, "no ```yaml example in OPERATIONS.md's Configuration file")
        documented = yaml_keys("".join(blocks))
        table = set(re.findall(r"`--([a-z][a-z0-9-]*)", operations_section("Flags")))
        table = {name.replace("-", "_") for name in table}
        print("sopd has %d configurable flags: %s" % (len(flags), " ".join(sorted(flags))))
        for where, keys in (("server/main/packaging/sopd.yaml.in", shipped),
                            ("docs/OPERATIONS.md's configuration example", documented)):
            self.assertEqual(sorted(flags - keys), [], "flags missing from " + where)
            self.assertEqual(sorted(keys - flags), [], "keys in %s that are not flags" % where)
        self.assertEqual(sorted(flags - table), [], "flags missing from OPERATIONS.md's table")
        # The example's values are ones sopd takes: with --help, sopd reads
        # the file, then prints its help and exits 0.
        result = run_sopd("--config", self.write("example.yaml", "".join(blocks)), "--help")
        self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == "__main__":
    unittest.main()
