#!/usr/bin/python3
"""mixed_load_smoke: sopbench --mixed for 3 s against a real sopd on a
generated 1,000-rule workload (sopbench_load), checking that the mixed line
is printed with sane figures and that no call failed. The latency targets
(lookup p99 <= 5 ms, write p99 <= 50 ms) are judged by scripts/bench on
pinned cores, not here: this machine may be busy."""

import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopd_process import Sopd  # noqa: E402

RULES = 1000
MIXED_LINE = re.compile(
    r"^mixed rules=(\d+) lookups_qps=(\d+) lookup_p99_ms=([\d.]+) writes_per_s=([\d.]+) "
    r"write_p99_ms=([\d.]+) errors=(\d+) lookup_target=(PASS|FAIL) write_target=(PASS|FAIL)$",
    re.M)


class MixedLoadSmokeTest(unittest.TestCase):

    def test_mixed_line_is_printed_with_sane_figures_and_no_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            subprocess.run([os.environ["SOPBENCH_LOAD"], "--data-dir", data, "--rules",
                            str(RULES)], check=True, capture_output=True, timeout=120)
            sopd = Sopd(data).start().follow_log()
            try:
                bench = subprocess.run(
                    [os.environ["SOPBENCH"], "--server", sopd.address, "--token-file",
                     sopd.admin_token_file, "--write-token-file", sopd.admin_token_file,
                     "--rules", str(RULES), "--mixed", "--duration", "3s", "--warmup", "500ms",
                     "--concurrency", "4"],
                    capture_output=True, text=True, timeout=60)
            finally:
                sopd.stop()
        sys.stdout.write(bench.stdout)
        sys.stderr.write(bench.stderr)
        self.assertEqual(bench.returncode, 0, bench.stderr)
        match = MIXED_LINE.search(bench.stdout)
        self.assertIsNotNone(match, "no mixed line in:\n" + bench.stdout)
        rules, qps, lookup_p99, writes_per_s, write_p99, errors = match.groups()[:6]
        self.assertEqual(int(rules), RULES)
        self.assertEqual(int(errors), 0)
        self.assertGreater(int(qps), 0)
        self.assertGreater(float(lookup_p99), 0)
        # 20 writes/s asked for; a write slower than its period delays the
        # next, so a busy machine may do fewer, never more.
        self.assertGreater(float(writes_per_s), 2)
        self.assertLessEqual(float(writes_per_s), 21)
        self.assertGreater(float(write_p99), 0)
        self.assertRegex(bench.stdout, r"writes=\d+ \(publishes=[1-9]\d*\)")


if __name__ == "__main__":
    unittest.main()
