"""Runs the real sopd binary for end-to-end tests: on a free loopback port,
with its data in a directory the caller owns."""

import os
import re
import signal
import subprocess
import threading
import urllib.request

TIMEOUT = 15


def run_sopd(*args):
    """Runs sopd with `args` to its exit (a refused start, a one-shot
    command); returns the CompletedProcess, text output captured."""
    return subprocess.run([os.environ["SOPD"], *args], capture_output=True, text=True,
                          timeout=TIMEOUT)


class Sopd:
    """A sopd process. `address` is host:port once start() returned;
    `admin_token_file` holds the bootstrap admin token."""

    def __init__(self, data_dir, import_dir=None, import_overwrite=False, extra_args=()):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)  # more sopd flags
        self.import_dir = import_dir
        self.import_overwrite = import_overwrite
        self.proc = None
        self.address = None
        self.http_url = None  # the gateway, http://host:port, once start() returned
        self.log = []
        self._log_reader = None
        self.admin_token_file = os.path.join(data_dir, "admin.token")

    def start(self):
        args = [os.environ["SOPD"], "--data-dir", self.data_dir, "--grpc-listen", "127.0.0.1:0",
                "--http-listen", "127.0.0.1:0"]
        if self.import_dir:
            args += ["--import", self.import_dir]
        if self.import_overwrite:
            args.append("--import-overwrite")
        args += self.extra_args
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        for line in self.proc.stderr:
            self.log.append(line)
            gateway = re.search(r"Connect/HTTP on (http://[^/\s]+)/", line)
            if gateway:
                self.http_url = gateway.group(1)
            match = re.search(r"listening on (\S+)", line)
            if match:
                self.address = match.group(1)
                return self
        self.proc.wait(timeout=TIMEOUT)
        raise RuntimeError("sopd exited with %s before listening: %s"
                           % (self.proc.returncode, "".join(self.log)))

    def metrics(self):
        """The text of the gateway's /metrics (sopd serves it to loopback)."""
        with urllib.request.urlopen(self.http_url + "/metrics", timeout=TIMEOUT) as answer:
            return answer.read().decode()

    def metric(self, series):
        """The value of one series of /metrics, `name{labels}` as sopd writes
        it; 0 when sopd has not written it (a counter that never moved)."""
        for line in self.metrics().splitlines():
            if line.startswith(series + " "):
                return float(line[len(series) + 1:])
        return 0.0

    def admin_token(self):
        with open(self.admin_token_file) as f:
            return f.read().strip()

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig` and waits; returns the exit status."""
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=TIMEOUT)
        if self._log_reader is None:
            self.log.extend(self.proc.stderr.readlines())
        else:
            self._log_reader.join(timeout=TIMEOUT)
        self.proc.stderr.close()
        return code

    def follow_log(self):
        """Keeps reading sopd's stderr into `log` from now on (a thread), so
        that a test can count the lines sopd writes while it runs."""
        def drain():
            for line in self.proc.stderr:
                self.log.append(line)

        self._log_reader = threading.Thread(target=drain, daemon=True)
        self._log_reader.start()
        return self

    def peak_memory_kib(self):
        """sopd's peak resident set (VmHWM) so far, in KiB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmHWM for sopd")
