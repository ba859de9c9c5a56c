#!/usr/bin/env python3
"""sopd on etcd with N = 1, 2, 3 nodes (docs/SCALING.md): a three-member etcd
cluster and N sopd nodes on this machine, a generated workload loaded into
etcd, then per N one line:

  cluster nodes=N lookup_qps=... write_p50_ms=... write_p99_ms=... visible_p99_ms=...

lookup_qps: LookupSops over gRPC, one sopbench per node (16 calls in flight
each), summed. write_*: UpdateSop through the nodes' Connect gateways in turn,
one at a time, from acknowledgement to acknowledgement. visible_*: from a
PublishSop's acknowledgement on one node to the first lookup on another node
(the same node when N = 1) that matches the new revision.

usage: cluster_bench.py --build DIR [--rules N] [--duration S] [--writes N] [--visible N]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from etcd_process import EtcdCluster  # noqa: E402
from sopd_process import Sopd  # noqa: E402
from cluster_e2e_test import call, lookup_body, sop_body  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(args, nodes_count, tmp):
    root = os.path.join(tmp, "n%d" % nodes_count)
    os.makedirs(root)
    etcd = EtcdCluster(root)
    nodes = []
    try:
        subprocess.run([os.path.join(args.build, "bench/sopbench_load"),
                        "--etcd-endpoints=" + ",".join(etcd.endpoints()),
                        "--rules", str(args.rules)], check=True, capture_output=True)
        flags = ["--store=etcd", "--etcd-endpoints=" + ",".join(etcd.endpoints())]
        for i in range(nodes_count):
            nodes.append(Sopd(os.path.join(root, "node%d" % i), extra_args=flags).start()
                         .follow_log())
        token_file = nodes[0].admin_token_file
        token = nodes[0].admin_token()
        urls = [n.http_url for n in nodes]

        # Lookups: one sopbench per node at once.
        benches = [subprocess.Popen(
            [os.path.join(args.build, "client/bench/sopbench"), "--server", n.address,
             "--token-file", token_file, "--rules", str(args.rules), "--only", "lookup",
             "--duration", "%ds" % args.duration, "--rounds", "1", "--raw"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in nodes]
        qps = 0.0
        for bench in benches:
            out, err = bench.communicate(timeout=args.duration * 10 + 60)
            found = re.search(r"^lookup calls=\d+ qps=([0-9.]+)", out, re.M)
            if bench.returncode != 0 or not found:
                raise RuntimeError("sopbench failed: %s %s" % (out, err))
            qps += float(found.group(1))

        # Writes, one at a time, through each node in turn.
        call(urls[0], "SopService/CreateSop",
             {"parent": "orgs/default", "sopId": "bench-write", "sop": sop_body("bw", "w")}, token)
        write_ms = []
        for k in range(args.writes):
            start = time.monotonic()
            call(urls[k % nodes_count], "SopService/UpdateSop",
                 {"sop": {"name": "orgs/default/sops/bench-write", "title": "w%d" % k},
                  "updateMask": "title"}, token)
            write_ms.append((time.monotonic() - start) * 1000)

        # Visibility: publish on one node, look up on the next.
        call(urls[0], "SopService/CreateSop",
             {"parent": "orgs/default", "sopId": "bench-visible",
              "sop": sop_body("bench-visible", "v")}, token)
        visible_ms = []
        for k in range(args.visible):
            writer = urls[k % nodes_count]
            reader = urls[(k + 1) % nodes_count]
            call(writer, "SopService/UpdateSop",
                 {"sop": {"name": "orgs/default/sops/bench-visible", "title": "v%d" % k},
                  "updateMask": "title"}, token)
            published = call(writer, "SopService/PublishSop",
                             {"name": "orgs/default/sops/bench-visible"}, token)["sop"]
            acknowledged = time.monotonic()
            want = published["publishedRevisionId"]
            while True:
                answer = call(reader, "ContextService/LookupSops", lookup_body("bench-visible"),
                              token)
                if any(m.get("revisionId") == want for m in answer.get("matches", [])):
                    break
                if time.monotonic() - acknowledged > 10:
                    raise RuntimeError("revision %s never became visible" % want)
            visible_ms.append((time.monotonic() - acknowledged) * 1000)

        print("cluster nodes=%d lookup_qps=%.0f write_p50_ms=%.1f write_p99_ms=%.1f "
              "visible_p99_ms=%.1f" % (nodes_count, qps, percentile(write_ms, 50),
                                       percentile(write_ms, 99), percentile(visible_ms, 99)),
              flush=True)
    finally:
        for node in nodes:
            if node.proc.poll() is None:
                node.stop()
        etcd.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--visible", type=int, default=100)
    parser.add_argument("--nodes", default="1,2,3")
    args = parser.parse_args()
    os.environ["SOPD"] = os.path.join(args.build, "server/main/sopd")
    tmp = tempfile.mkdtemp(prefix="cluster-bench-")
    try:
        for n in [int(x) for x in args.nodes.split(",")]:
            run(args, n, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
