"""sopd's own safety nets, with the real binaries: its data dir and every
file in it are the owner's only, and an operator who lost every server-admin
token gets a new one with `sopd --bootstrap-admin`.

Environment (set by ctest): SOPD, SOPCTL.
"""

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from sopd_process import Sopd, TIMEOUT, run_sopd  # noqa: E402


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class SopdTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sopd-e2e-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.db_dir = os.path.join(self.data_dir, "db")
        self.sopd = None

    def tearDown(self):
        if self.sopd and self.sopd.proc.poll() is None:
            self.sopd.stop()
        shutil.rmtree(self.tmp)

    def start(self):
        self.sopd = Sopd(self.data_dir).start()
        return self.sopd

    def sopctl(self, *args, token_file, ok=True):
        env = dict(os.environ, SOPCTL_SERVER=self.sopd.address, SOPCTL_TOKEN_FILE=token_file)
        result = subprocess.run([os.environ["SOPCTL"], *args], capture_output=True, text=True,
                                env=env, timeout=TIMEOUT)
        if ok:
            self.assertEqual(result.returncode, 0, "sopctl %s: %s" % (args, result.stderr))
        return result

    def write_token(self, name, secret):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(secret)
        return path

    def token_name(self, user, admin_file):
        listed = self.sopctl("token", "list", token_file=admin_file).stdout.splitlines()
        return [line.split()[0] for line in listed if user in line][0]

    def files_and_modes(self):
        found = {}
        for path, dirs, files in os.walk(self.data_dir):
            for name in dirs + files:
                found[os.path.relpath(os.path.join(path, name), self.data_dir)] = \
                    mode(os.path.join(path, name))
        return found


class DataDirTest(SopdTest):

    def test_data_dir_db_dir_every_file_and_admin_token_are_owner_only(self):
        self.start()
        admin = self.sopd.admin_token_file
        self.sopctl("org", "create", "acme", token_file=admin)
        self.sopctl("token", "create", "--org", "acme", "--user", "a", "--role", "ADMIN",
                    token_file=admin)
        self.assertEqual(self.sopd.stop(), 0)
        self.assertEqual(oct(mode(self.data_dir)), oct(0o700))
        self.assertEqual(oct(mode(self.db_dir)), oct(0o700))
        self.assertEqual(oct(mode(admin)), oct(0o600))
        found = self.files_and_modes()
        self.assertGreater(len(found), 5, found)
        loose = {path: oct(m) for path, m in found.items() if m & 0o077}
        self.assertEqual(loose, {})

    def assert_start_refused(self, what, path, mode):
        result = run_sopd("--data-dir", self.data_dir, "--grpc-listen", "127.0.0.1:0",
                          "--http-listen", "127.0.0.1:0")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("FAILED_PRECONDITION: %s %s has mode %04o" % (what, path, mode),
                      result.stderr)
        self.assertIn("chmod 0700 %s" % path, result.stderr)

    def test_start_is_refused_on_a_data_dir_others_may_write(self):
        os.makedirs(self.data_dir)
        os.chmod(self.data_dir, 0o777)
        self.assert_start_refused("data dir", self.data_dir, 0o777)
        self.assertFalse(os.path.exists(self.db_dir))

    def test_start_is_refused_on_a_db_dir_the_group_may_write(self):
        self.start()
        self.sopd.stop()
        os.chmod(self.db_dir, 0o770)
        self.assert_start_refused("database dir", self.db_dir, 0o770)

    def test_data_dir_of_an_older_sopd_is_tightened_and_logged(self):
        self.start()
        self.sopd.stop()
        # What sopd 0.1 left: directories 0755, files 0644.
        for path, dirs, files in os.walk(self.data_dir):
            os.chmod(path, 0o755)
            for name in files:
                os.chmod(os.path.join(path, name), 0o644)
        self.start()
        log = "".join(self.sopd.log)
        self.assertIn("tightened %s from 0755 to 0700" % self.data_dir, log)
        self.assertIn("tightened %s from 0755 to 0700" % self.db_dir, log)
        self.assertEqual(oct(mode(self.data_dir)), oct(0o700))
        self.assertEqual(oct(mode(self.db_dir)), oct(0o700))
        loose = {path: oct(m) for path, m in self.files_and_modes().items() if m & 0o077}
        self.assertEqual(loose, {})


class BootstrapAdminTest(SopdTest):

    def test_lost_server_admin_is_recovered_with_bootstrap_admin(self):
        self.start()
        bootstrap = self.sopd.admin_token_file
        bootstrap_name = self.token_name(" admin ", bootstrap)

        # An org ADMIN may not revoke the server admin, nor may the server
        # admin revoke the last one.
        org_admin = self.write_token("org-admin.token", self.sopctl(
            "token", "create", "--user", "org-admin", "--role", "ADMIN",
            token_file=bootstrap).stdout.strip())
        denied = self.sopctl("token", "revoke", bootstrap_name, token_file=org_admin, ok=False)
        self.assertTrue(denied.stderr.startswith("PERMISSION_DENIED: "), denied.stderr)
        last = self.sopctl("token", "revoke", bootstrap_name, token_file=bootstrap, ok=False)
        self.assertTrue(last.stderr.startswith("FAILED_PRECONDITION: "), last.stderr)
        self.assertIn("sopctl token create --server-admin", last.stderr)

        # A successor server admin revokes the bootstrap token; then its
        # secret is lost.
        refused = self.sopctl("token", "create", "--user", "ops", "--role", "ADMIN",
                              "--server-admin", token_file=org_admin, ok=False)
        self.assertTrue(refused.stderr.startswith("PERMISSION_DENIED: "), refused.stderr)
        successor = self.write_token("successor.token", self.sopctl(
            "token", "create", "--user", "ops", "--role", "ADMIN", "--server-admin",
            token_file=bootstrap).stdout.strip())
        self.assertRegex(self.sopctl("whoami", token_file=successor).stdout,
                         r"Server admin:\s+yes")
        self.sopctl("token", "revoke", bootstrap_name, token_file=successor)
        os.remove(successor)
        os.remove(bootstrap)

        # RocksDB's lock keeps a running sopd's data dir out of reach.
        busy = run_sopd("--data-dir", self.data_dir, "--bootstrap-admin")
        self.assertEqual(busy.returncode, 1, busy.stderr)
        self.assertIn("FAILED_PRECONDITION: cannot open the database in %s" % self.db_dir,
                      busy.stderr)
        self.assertIn("needs the sopd that serves it stopped first", busy.stderr)
        self.assertFalse(os.path.exists(bootstrap))

        self.assertEqual(self.sopd.stop(), 0)
        recovered = run_sopd("--data-dir", self.data_dir, "--bootstrap-admin")
        self.assertEqual(recovered.returncode, 0, recovered.stderr)
        self.assertIn(bootstrap, recovered.stdout)
        self.assertEqual(oct(mode(bootstrap)), oct(0o600))

        self.start()
        self.assertEqual(self.sopd.admin_token_file, bootstrap)
        me = self.sopctl("whoami", token_file=bootstrap).stdout
        self.assertRegex(me, r"Server admin:\s+yes")
        self.assertIn("orgs/default", me)
        self.sopctl("org", "create", "acme", token_file=bootstrap)
        self.assertIn("orgs/acme", self.sopctl("org", "list", token_file=bootstrap).stdout)
        # The org admin's token still works; the revoked one does not.
        self.sopctl("whoami", token_file=org_admin)

    def test_bootstrap_admin_needs_an_existing_database(self):
        result = run_sopd("--data-dir", self.data_dir, "--bootstrap-admin")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("FAILED_PRECONDITION: no sopd database in %s" % self.db_dir, result.stderr)
        self.assertFalse(os.path.exists(self.db_dir))


class StopTest(SopdTest):

    def test_sigterm_drains_then_stops_with_exit_0_and_says_so(self):
        sopd = self.start()
        self.assertEqual(sopd.stop(signal.SIGTERM), 0)
        log = "".join(sopd.log)
        self.assertIn("sopd: SIGTERM, draining: new calls refused, watches told to reconnect, "
                      "calls in flight have 10s", log)
        self.assertRegex(log, r"sopd: stopped after \d+ ms")


class FlagsTest(unittest.TestCase):

    def test_bad_flags_exit_non_zero_naming_the_flag_and_start_nothing(self):
        tmp = tempfile.mkdtemp(prefix="sopd-e2e-")
        self.addCleanup(shutil.rmtree, tmp)
        data_dir = os.path.join(tmp, "data")
        for args, named in [(["--data-dri", data_dir], "'data-dri'"),
                            (["--data-dir", data_dir, "--grpc-listen"], "'grpc_listen'"),
                            (["--data-dir", data_dir, "--insecure-listen-any=maybe"],
                             "'insecure_listen_any'"),
                            (["--data-dir", data_dir, "--shutdown-grace", "10"],
                             "'shutdown_grace'"),
                            (["--data-dir", data_dir, "--shutdown-grace=-1s"],
                             "--shutdown-grace must be a finite duration"),
                            (["--data-dir", data_dir, "serve"], "unexpected argument serve")]:
            result = run_sopd(*args)
            self.assertEqual(result.returncode, 1, (args, result.stderr))
            self.assertIn(named, result.stderr, args)
        self.assertFalse(os.path.exists(data_dir))

    def test_help_lists_the_flags_as_they_are_typed(self):
        result = run_sopd("--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        for flag in ["--data-dir (default ./var/sopd)", "--grpc-listen (default 127.0.0.1:50051)",
                     "--import", "--import-overwrite", "--tls-cert", "--tls-key",
                     "--tls-client-ca", "--insecure-listen-any", "--bootstrap-admin",
                     "--shutdown-grace (default 10s)", "--drafter-model-url",
                     "--drafter-model", "--drafter-timeout (default 1m)"]:
            self.assertIn("  " + flag + "\n", result.stdout)
        self.assertIn("  --version ", result.stdout)


if __name__ == "__main__":
    unittest.main()
