"""Runs a real etcd cluster (Debian's etcd 3.4) on loopback for the cluster
tests and benchmarks: each member a process of its own, with its data and log
under a directory the caller owns; members can be killed and started again."""

import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.request

ETCD = "/usr/bin/etcd"
TIMEOUT = 5
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """In the child before exec: a test that dies leaves no member behind."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EtcdCluster:
    """etcd members on loopback, each a process of its own."""

    def __init__(self, root, members=3):
        self.root = root
        self.members = [{"name": "m%d" % i, "client": free_port(), "peer": free_port(),
                         "proc": None} for i in range(members)]
        self.initial = ",".join("%s=http://127.0.0.1:%d" % (m["name"], m["peer"])
                                for m in self.members)
        for i in range(members):
            self.spawn(i, "new")
        for i in range(members):
            self.await_healthy(i)

    def endpoints(self):
        return ["http://127.0.0.1:%d" % m["client"] for m in self.members]

    def spawn(self, i, state):
        m = self.members[i]
        log = open(os.path.join(self.root, m["name"] + ".log"), "a")
        m["proc"] = subprocess.Popen([
            ETCD, "--name", m["name"], "--data-dir", os.path.join(self.root, m["name"]),
            "--listen-client-urls", "http://127.0.0.1:%d" % m["client"],
            "--advertise-client-urls", "http://127.0.0.1:%d" % m["client"],
            "--listen-peer-urls", "http://127.0.0.1:%d" % m["peer"],
            "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % m["peer"],
            "--initial-cluster", self.initial, "--initial-cluster-state", state,
            "--initial-cluster-token", "sopd-cluster-e2e",
            "--heartbeat-interval", "50", "--election-timeout", "500",
            "--logger", "zap", "--log-outputs", "stderr"], stdout=log, stderr=log,
            preexec_fn=die_with_parent)
        log.close()

    def await_healthy(self, i, timeout=30):
        url = "http://127.0.0.1:%d/health" % self.members[i]["client"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if b'"health":"true"' in r.read():
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("etcd member %d did not become healthy" % i)

    def kill(self, i):
        proc = self.members[i]["proc"]
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=TIMEOUT)

    def restart(self, i):
        self.kill(i)
        self.spawn(i, "existing")
        self.await_healthy(i)

    def stop(self):
        for i in range(len(self.members)):
            self.kill(i)
