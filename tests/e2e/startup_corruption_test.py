"""startup_corruption: the real sopd on a damaged data dir.

Each case copies one data dir written by sopd (SOP files imported and
published, orgs created, every write acknowledged), damages the copy as a
failing disk, an operator or a crash would, and starts sopd on it. sopd must
either refuse to start, exit 1 with a message that names the damaged file or
dir and says what to do, or, for the one damage a crash leaves behind (an
incomplete last record of the write-ahead log), start with every acknowledged
write intact. Never a silent start on damaged data, never a crash (a signal
or an abort). Prints a table of the cases and their outcomes.

Environment (set by ctest): SOPD, SOPCTL, SOP_EXAMPLES.
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from sopd_process import Sopd, TIMEOUT  # noqa: E402

RESTORE = "restore from a backup (docs/OPERATIONS.md)"
PERMISSIONS = "give the user sopd runs as read and write access"
# The orgs the WAL cases create after the last clean start; each create is
# one synced, acknowledged write.
WAL_ORGS = ["wal%02d" % i for i in range(12)]


def run_sopd_on(data_dir, as_unprivileged=False):
    """Starts sopd on `data_dir`; returns (outcome, exit status, output).
    outcome: "started" (it listened; it is stopped again), "refused" (exit
    1), "crashed" (a signal, an abort, any other status)."""
    args = [os.environ["SOPD"], "--data-dir", data_dir, "--grpc-listen", "127.0.0.1:0",
            "--http-listen", ""]
    if as_unprivileged and os.geteuid() == 0:
        # Root reads any file whatever its mode: drop the capabilities that
        # let it, as a service account would not have them.
        args = ["setpriv", "--inh-caps=-all",
                "--bounding-set=-dac_override,-dac_read_search", "--"] + args
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "listening on" in line:
            proc.send_signal(signal.SIGTERM)
            lines.extend(proc.stderr.readlines())
            proc.wait(timeout=TIMEOUT)
            return "started", proc.returncode, "".join(lines)
    proc.wait(timeout=TIMEOUT)
    outcome = "refused" if proc.returncode == 1 else "crashed"
    return outcome, proc.returncode, "".join(lines)


def db_of(data_dir):
    return os.path.join(data_dir, "db")


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def newest(pattern):
    files = glob.glob(pattern)
    if not files:
        raise AssertionError("no file matches %s" % pattern)
    return max(files, key=lambda p: int(re.search(r"(\d+)", os.path.basename(p)).group(1)))


class StartupCorruptionTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sopd-corruption-")
        cls.pristine = os.path.join(cls.tmp, "pristine")
        # First start: imports and publishes the example SOPs; the second
        # start replays that write-ahead log into sorted table files (SSTs).
        for _ in range(2):
            sopd = Sopd(cls.pristine, import_dir=os.environ["SOP_EXAMPLES"]).start()
            assert sopd.stop() == 0, "".join(sopd.log)
        if not glob.glob(os.path.join(cls.pristine, "db", "*.sst")):
            raise AssertionError("the pristine data dir has no SST to damage")
        cls.results = []

    @classmethod
    def tearDownClass(cls):
        print("\nstartup_corruption: %d cases" % len(cls.results))
        print("%-44s %-9s %-6s %s" % ("case", "outcome", "exit", "as expected"))
        for case, outcome, code, ok in cls.results:
            print("%-44s %-9s %-6s %s" % (case, outcome, code, "yes" if ok else "NO"))
        counts = {o: sum(1 for r in cls.results if r[1] == o)
                  for o in ("started", "refused", "crashed")}
        print("startup_corruption: refused=%d started=%d crashed=%d silent_starts=%d" % (
            counts["refused"], counts["started"], counts["crashed"],
            sum(1 for r in cls.results if r[1] == "started" and not r[3])))
        for path, dirs, files in os.walk(cls.tmp):
            for name in dirs + files:
                os.chmod(os.path.join(path, name), 0o700, follow_symlinks=False)
        shutil.rmtree(cls.tmp)

    def copy(self, name):
        data_dir = os.path.join(self.tmp, name)
        shutil.copytree(self.pristine, data_dir)
        return data_dir

    def record(self, case, outcome, code, ok, output=""):
        self.results.append((case, outcome, code, ok))
        if outcome != "started":
            print("\n  %s: %s" % (case, output.strip().splitlines()[-1] if output else ""))

    def assert_refused(self, case, data_dir, names, remedy=RESTORE, unprivileged=False):
        outcome, code, output = run_sopd_on(data_dir, as_unprivileged=unprivileged)
        ok = outcome == "refused" and names in output and remedy in output
        self.record(case, outcome, code, ok, output)
        self.assertEqual(outcome, "refused", output)
        self.assertIn(names, output)
        self.assertIn(remedy, output)
        return output

    def sopctl(self, sopd, *args):
        env = dict(os.environ, SOPCTL_SERVER=sopd.address,
                   SOPCTL_TOKEN_FILE=sopd.admin_token_file)
        result = subprocess.run([os.environ["SOPCTL"], *args], capture_output=True, text=True,
                                env=env, timeout=TIMEOUT)
        self.assertEqual(result.returncode, 0, "sopctl %s: %s" % (args, result.stderr))
        return result.stdout

    def crashed_with_wal(self, name):
        """A copy on which sopd acknowledged WAL_ORGS' creates, then was
        killed (-9): they are in the newest WAL only. Returns the data dir,
        the WAL and its size after each acknowledged create."""
        data_dir = self.copy(name)
        sopd = Sopd(data_dir).start()
        try:
            wal = newest(os.path.join(db_of(data_dir), "*.log"))
            sizes = [os.path.getsize(wal)]
            for org in WAL_ORGS:
                self.sopctl(sopd, "org", "create", org)
                sizes.append(os.path.getsize(wal))
        finally:
            sopd.stop(signal.SIGKILL)
        return data_dir, wal, sizes

    def orgs_after_restart(self, data_dir):
        sopd = Sopd(data_dir).start()
        try:
            listed = self.sopctl(sopd, "org", "list")
        finally:
            self.assertEqual(sopd.stop(), 0)
        return [org for org in WAL_ORGS if re.search(r"\borgs/%s\b" % org, listed)]

    def test_1_incomplete_last_wal_record_starts_with_every_acknowledged_write(self):
        data_dir, wal, sizes = self.crashed_with_wal("wal-tail")
        # The last create, torn halfway as if the machine died while writing
        # it (before it was acknowledged).
        torn = (sizes[-2] + sizes[-1]) // 2
        os.truncate(wal, torn)
        outcome, code, output = run_sopd_on(data_dir)
        found = self.orgs_after_restart(data_dir) if outcome == "started" else []
        ok = outcome == "started" and found == WAL_ORGS[:-1]
        self.record("WAL: incomplete last record (torn write)", outcome, code, ok, output)
        self.assertEqual(outcome, "started", output)
        self.assertEqual(found, WAL_ORGS[:-1])

    def test_2_damage_inside_the_wal_is_refused_not_skipped(self):
        data_dir, wal, sizes = self.crashed_with_wal("wal-middle")
        # A byte of the second create's record, with ten acknowledged
        # creates after it: replaying up to it would lose them silently.
        flip_byte(wal, (sizes[1] + sizes[2]) // 2)
        self.assert_refused("WAL: flipped byte before the tail", data_dir,
                            os.path.basename(wal))

    def test_3_flipped_bytes_in_an_sst_are_refused_naming_it(self):
        for where in ("first block", "middle", "footer"):
            data_dir = self.copy("sst-" + where.replace(" ", "-"))
            sst = max(glob.glob(os.path.join(db_of(data_dir), "*.sst")), key=os.path.getsize)
            size = os.path.getsize(sst)
            offset = {"first block": 16, "middle": size // 2, "footer": size - 4}[where]
            flip_byte(sst, offset)
            self.assert_refused("SST: flipped byte, %s (%d of %d)" % (where, offset, size),
                                data_dir, os.path.basename(sst))

    def test_4_truncated_sst_is_refused_naming_it(self):
        data_dir = self.copy("sst-truncated")
        sst = max(glob.glob(os.path.join(db_of(data_dir), "*.sst")), key=os.path.getsize)
        os.truncate(sst, os.path.getsize(sst) // 2)
        self.assert_refused("SST: cut to half its size", data_dir, os.path.basename(sst))

    def test_5_flipped_byte_in_the_manifest_is_refused_naming_it(self):
        data_dir = self.copy("manifest")
        manifest = newest(os.path.join(db_of(data_dir), "MANIFEST-*"))
        flip_byte(manifest, os.path.getsize(manifest) // 2)
        self.assert_refused("MANIFEST: flipped byte", data_dir, os.path.basename(manifest))

    def test_6_missing_current_is_refused_not_a_new_empty_database(self):
        data_dir = self.copy("current")
        os.remove(os.path.join(db_of(data_dir), "CURRENT"))
        self.assert_refused("CURRENT: missing", data_dir, "CURRENT")
        self.assertFalse(os.path.exists(os.path.join(db_of(data_dir), "CURRENT")),
                         "sopd made a new database over the old one")

    def test_7_unreadable_file_and_dir_are_refused_naming_them(self):
        data_dir = self.copy("unreadable-file")
        sst = max(glob.glob(os.path.join(db_of(data_dir), "*.sst")), key=os.path.getsize)
        os.chmod(sst, 0)
        self.assert_refused("permissions: SST mode 0000", data_dir, os.path.basename(sst),
                            remedy=PERMISSIONS, unprivileged=True)
        data_dir = self.copy("unreadable-dir")
        os.chmod(db_of(data_dir), 0)
        self.assert_refused("permissions: db dir mode 0000", data_dir, db_of(data_dir),
                            remedy=PERMISSIONS, unprivileged=True)

    def test_8_data_dir_of_a_newer_format_is_refused_untouched(self):
        data_dir = self.copy("newer-format")
        with open(os.path.join(data_dir, "FORMAT"), "w") as f:
            f.write("sopd data dir format 3\n")
        before = sorted(os.listdir(db_of(data_dir)))
        self.assert_refused("FORMAT: written by format version 3", data_dir,
                            "data dir %s was written by format version 3" % data_dir,
                            remedy="upgrade sopd or restore a backup")
        self.assertEqual(sorted(os.listdir(db_of(data_dir))), before)

    def test_9_format_file_without_a_version_is_refused_naming_it(self):
        data_dir = self.copy("bad-format")
        with open(os.path.join(data_dir, "FORMAT"), "w") as f:
            f.write("\x00\x01garbage\n")
        self.assert_refused("FORMAT: garbage", data_dir,
                            os.path.join(data_dir, "FORMAT"), remedy="restore it from a backup")


if __name__ == "__main__":
    unittest.main()
