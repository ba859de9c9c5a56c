"""disk_full: the real sopd with its data dir on a small filesystem that fills
up while it serves.

The test mounts a tmpfs of a few MiB (it needs root; without it, or where
mount is refused, it prints a SKIP line and exits 77, which ctest counts as
skipped; under Bazel, which has no such status, 0), starts sopd on it with the example SOPs, fills the filesystem with
a file of its own, then checks: every write is refused with
RESOURCE_EXHAUSTED saying the disk is full; every read and lookup still
answers; sopd logs that its write path is degraded; once the file is
removed, writes succeed again without a restart (sopd logs the recovery);
every acknowledged write is there after a restart and no refused one is.
Prints the figures.

Environment (set by ctest): SOPD, SOPCTL, SOP_EXAMPLES.
"""

import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from sopd_process import Sopd, TIMEOUT  # noqa: E402

SKIPPED = 77


def readyz(sopd):
    """GET /readyz on sopd's gateway: (status, body)."""
    try:
        with urllib.request.urlopen(sopd.http_url + "/readyz", timeout=TIMEOUT) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode()


FS_SIZE = "24m"
REFUSED_WRITES = 20
READS = 40
LOOKUPS = 40
RECOVERY_LIMIT_S = 30
MQL_LEAD = ["--record-type", "Lead", "--field", "lead_status=MQL – New Handoff",
            "--field", "lead_score=82", "--field", "company_size=120", "--field", "title=VP Sales"]


def mount_small_fs(mount_point):
    """Mounts a FS_SIZE tmpfs on `mount_point`; returns why not, or None."""
    if os.geteuid() != 0:
        return "mounting a small filesystem needs root"
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % FS_SIZE,
                             "tmpfs", mount_point], capture_output=True, text=True)
    if result.returncode != 0:
        return "mount -t tmpfs failed: %s" % result.stderr.strip()
    return None


def fill(path):
    """Writes `path` until the filesystem is full; returns the bytes written."""
    written = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        for size in (65536, 4096, 1):
            try:
                while True:
                    written += f.write(chunk[:size])
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
        os.fsync(f.fileno())
    return written


class DiskFullTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sopd-disk-full-")
        self.mount_point = os.path.join(self.tmp, "fs")
        os.mkdir(self.mount_point)
        why_not = mount_small_fs(self.mount_point)
        if why_not:
            shutil.rmtree(self.tmp)
            print("SKIP disk_full: %s" % why_not)
            # Bazel has no skipped status: there the skip passes.
            sys.exit(0 if "TEST_SRCDIR" in os.environ else SKIPPED)
        self.data_dir = os.path.join(self.mount_point, "data")
        self.sopd = None

    def tearDown(self):
        if self.sopd and self.sopd.proc.poll() is None:
            self.sopd.stop()
        subprocess.run(["umount", self.mount_point], check=True)
        shutil.rmtree(self.tmp)

    def sopctl(self, *args):
        env = dict(os.environ, SOPCTL_SERVER=self.sopd.address,
                   SOPCTL_TOKEN_FILE=self.sopd.admin_token_file)
        return subprocess.run([os.environ["SOPCTL"], *args], capture_output=True, text=True,
                              env=env, timeout=TIMEOUT)

    def create_org(self, org):
        return self.sopctl("org", "create", org)

    def log_has(self, text):
        return any(text in line for line in self.sopd.log)

    def test_full_disk_refuses_writes_serves_reads_and_recovers_without_restart(self):
        self.sopd = Sopd(self.data_dir, import_dir=os.environ["SOP_EXAMPLES"]).start()
        self.sopd.follow_log()
        acknowledged = []
        for i in range(3):
            self.assertEqual(self.create_org("before%d" % i).returncode, 0)
            acknowledged.append("before%d" % i)

        filler = os.path.join(self.mount_point, "filler")
        filled = fill(filler)
        # The first writes may still fit in a page the log file already has;
        # from the first refusal on, every write must be refused.
        refused, refused_orgs, messages = 0, [], set()
        for i in range(REFUSED_WRITES + 50):
            org = "full%02d" % i
            result = self.create_org(org)
            if result.returncode == 0:
                self.assertEqual(refused, 0, "a write succeeded after one was refused")
                acknowledged.append(org)
                continue
            self.assertIn("RESOURCE_EXHAUSTED", result.stderr)
            self.assertIn("the disk holding the database is full", result.stderr)
            messages.add(result.stderr.strip().splitlines()[-1])
            refused += 1
            refused_orgs.append(org)
            if refused == REFUSED_WRITES:
                break
        self.assertEqual(refused, REFUSED_WRITES, "writes were not refused on a full disk")
        self.assertTrue(self.log_has("write path degraded"), "".join(self.sopd.log))

        reads_ok = sum(self.sopctl("get", "mql-acceptance-handoff").returncode == 0
                       for _ in range(READS // 2))
        reads_ok += sum(self.sopctl("org", "list").returncode == 0 for _ in range(READS // 2))
        lookups_ok = 0
        for _ in range(LOOKUPS):
            result = self.sopctl("lookup", *MQL_LEAD)
            lookups_ok += result.returncode == 0 and "mql-acceptance-handoff" in result.stdout
        self.assertEqual(reads_ok, READS)
        self.assertEqual(lookups_ok, LOOKUPS)
        # Health: still ready (lookups are served), saying writes are refused.
        self.assertEqual(readyz(self.sopd),
                         (200, "ready; degraded: writes refused: the disk holding the data dir "
                               "is full\n"))
        self.assertIn("sopd_write_path_degraded 1\n", self.sopd.metrics())

        freed_at = time.monotonic()
        os.remove(filler)
        attempts = 0
        while True:
            attempts += 1
            result = self.create_org("after")
            if result.returncode == 0:
                break
            self.assertLess(time.monotonic() - freed_at, RECOVERY_LIMIT_S,
                            "writes did not resume: %s; sopd's log:\n%s"
                            % (result.stderr, "".join(self.sopd.log[-10:])))
            time.sleep(0.05)
        recovered_s = time.monotonic() - freed_at
        acknowledged.append("after")
        deadline = time.monotonic() + 5
        while not self.log_has("write path recovered") and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(self.log_has("write path recovered"), "".join(self.sopd.log))
        self.assertEqual(readyz(self.sopd), (200, "ready\n"))
        self.assertIn("sopd_write_path_degraded 0\n", self.sopd.metrics())

        self.assertEqual(self.sopd.stop(), 0)
        self.sopd = Sopd(self.data_dir).start()
        listed = set(re.findall(r"\borgs/([a-z0-9-]+)", self.sopctl("org", "list").stdout))
        missing = [o for o in acknowledged if o not in listed]
        present = [o for o in refused_orgs if o in listed]
        self.assertEqual(missing, [])
        self.assertEqual(present, [])

        print("\ndisk_full: fs=%s filled_with=%d bytes writes_acknowledged=%d "
              "writes_refused=%d/%d reads_ok=%d/%d (%.0f%%) lookups_ok=%d/%d (%.0f%%) "
              "time_to_recover_ms=%d (write attempts %d) acknowledged_lost=%d "
              "refused_but_present=%d" % (
                  FS_SIZE, filled, len(acknowledged), refused, refused, reads_ok, READS,
                  100.0 * reads_ok / READS, lookups_ok, LOOKUPS, 100.0 * lookups_ok / LOOKUPS,
                  recovered_s * 1000, attempts, len(missing), len(present)))
        print("disk_full: refusal: %s" % sorted(messages)[0])


if __name__ == "__main__":
    unittest.main()
