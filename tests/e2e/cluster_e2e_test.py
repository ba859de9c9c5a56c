"""Three sopd nodes on a three-member etcd cluster, all on loopback and all
started here (docs/SCALING.md): a publish on one node is matched on every node
within a second; of two concurrent updates of one SOP through two nodes one
wins and the other is ABORTED; an etcd member and a sopd node killed under a
bounded write + lookup load lose no acknowledged write (checked against an
expected-state file) while lookups go on through the other nodes; the killed
node, started again, catches up and serves; a report on any node adds up the
panel events every node received, and names the nodes that are down.

Every request goes through the nodes' Connect/HTTP gateways as JSON, the way
a panel or a load balancer would send it."""

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd_process import EtcdCluster  # noqa: E402
from sopd_process import Sopd  # noqa: E402

TIMEOUT = 5
# The load phase, in seconds: before the kills, and after them.
LOAD_BEFORE_KILL = 1.5
LOAD_AFTER_KILL = 3.0


class ConnectError(Exception):
    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code


def call(node_url, method, body, token, timeout=TIMEOUT):
    """One Connect unary call with a JSON body; the JSON answer, or
    ConnectError with the Connect code ("aborted", "unavailable", ...; a node
    that does not answer at all is "unreachable")."""
    request = urllib.request.Request(
        node_url + "/sopsidebar.v1." + method, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        answer = json.loads(e.read() or b"{}")
        raise ConnectError(answer.get("code", str(e.code)), answer.get("message", "")) from None
    except OSError as e:
        raise ConnectError("unreachable", str(e)) from None


def sop_body(sop_id, title):
    return {"title": title, "purpose": "cluster test", "owner": "Sales Ops",
            "steps": [{"ordinal": 1, "title": "Call the lead"}],
            "targetingRules": [{"recordTypes": ["Lead"], "priority": 10,
                                "conditions": [{"field": "lead_source",
                                                "equals": "src-" + sop_id}]}]}


def lookup_body(sop_id):
    return {"context": {"recordType": "Lead", "fields": {"lead_source": "src-" + sop_id}}}


class ClusterTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cluster-e2e-")
        cls.etcd = EtcdCluster(cls.tmp)
        cls.nodes = []
        for i in range(3):
            # The first node creates the admin token in etcd; the others find it.
            cls.nodes.append(cls.start_node(i))
        cls.token = cls.nodes[0].admin_token()

    @classmethod
    def start_node(cls, i):
        flags = ["--store=etcd", "--etcd-endpoints=" + ",".join(cls.etcd.endpoints())]
        return Sopd(os.path.join(cls.tmp, "node%d" % i), extra_args=flags).start().follow_log()

    @classmethod
    def tearDownClass(cls):
        for node in cls.nodes:
            if node.proc.poll() is None:
                node.stop()
        cls.etcd.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def url(self, i):
        return self.nodes[i].http_url

    def create_published(self, sop_id, title, node=0):
        call(self.url(node), "SopService/CreateSop",
             {"parent": "orgs/default", "sopId": sop_id, "sop": sop_body(sop_id, title)},
             self.token)
        return call(self.url(node), "SopService/PublishSop",
                    {"name": "orgs/default/sops/" + sop_id}, self.token)["sop"]

    def await_match(self, node, sop_id, timeout):
        """Seconds until a lookup on `node` matches `sop_id`, or None."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            answer = call(self.url(node), "ContextService/LookupSops", lookup_body(sop_id),
                          self.token)
            if any(m["sop"].endswith("/" + sop_id) for m in answer.get("matches", [])):
                self.assertGreater(int(answer["storeRevision"]), 0)
                return time.monotonic() - start
            time.sleep(0.01)
        return None

    def test_1_a_publish_on_one_node_is_matched_on_every_node_within_a_second(self):
        for writer in range(3):
            sop_id = "visible-from-%d" % writer
            self.create_published(sop_id, "Visible", node=writer)
            for reader in range(3):
                took = self.await_match(reader, sop_id, 1.0)
                self.assertIsNotNone(took, "node %d did not match %s within 1 s (written on %d)"
                                     % (reader, sop_id, writer))
                print("publish on node %d matched on node %d after %.0f ms"
                      % (writer, reader, took * 1000))

    def test_2_of_two_concurrent_updates_through_two_nodes_exactly_one_wins(self):
        sop = self.create_published("contended", "v1")
        for attempt in range(5):
            current = call(self.url(0), "SopService/GetSop",
                           {"name": "orgs/default/sops/contended"}, self.token)
            results = [None, None]

            def update(i):
                try:
                    # A title of its own: an update that changes nothing
                    # writes nothing and always succeeds.
                    title = "from node %d, attempt %d" % (i, attempt)
                    results[i] = call(self.url(i), "SopService/UpdateSop",
                                      {"sop": {"name": sop["name"], "title": title,
                                               "etag": current["etag"]},
                                       "updateMask": "title"}, self.token)
                except ConnectError as e:
                    results[i] = e

            threads = [threading.Thread(target=update, args=(i,)) for i in (0, 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            won = [r for r in results if isinstance(r, dict)]
            lost = [r for r in results if isinstance(r, ConnectError)]
            self.assertEqual(len(won), 1, results)
            self.assertEqual(len(lost), 1, results)
            self.assertEqual(lost[0].code, "aborted", lost[0])
            final = call(self.url(2), "SopService/GetSop",
                         {"name": "orgs/default/sops/contended"}, self.token)
            self.assertEqual(final["title"], won[0]["title"])

    def test_3_killing_an_etcd_member_and_a_node_under_load_loses_no_acknowledged_write(self):
        sop_ids = ["load-%d" % i for i in range(6)]
        for sop_id in sop_ids:
            self.create_published(sop_id, "start")
        expected_path = os.path.join(self.tmp, "expected-state.jsonl")
        expected = open(expected_path, "w")
        lock = threading.Lock()
        stop = threading.Event()
        killed = threading.Event()
        dead_node = 2
        stats = {"writes_ok": 0, "writes_failed": 0, "lookups_ok": 0,
                 "lookups_failed_live": 0, "lookups_failed_dead": 0,
                 "lookups_ok_after_kill": 0}
        live_errors = []

        def writer(w):
            k = 0
            node = w % 3
            while not stop.is_set():
                sop_id = sop_ids[(w + 3 * k) % len(sop_ids)]
                title = "w%d-%d" % (w, k)
                try:
                    answer = call(self.url(node), "SopService/UpdateSop",
                                  {"sop": {"name": "orgs/default/sops/" + sop_id, "title": title},
                                   "updateMask": "title"}, self.token)
                    with lock:
                        stats["writes_ok"] += 1
                        expected.write(json.dumps({"sop": sop_id, "revision": answer["revisionId"],
                                                   "title": title}) + "\n")
                        expected.flush()
                except ConnectError:
                    with lock:
                        stats["writes_failed"] += 1
                    node = (node + 1) % 3  # try another node
                    time.sleep(0.05)
                k += 1

        def looker():
            i = 0
            while not stop.is_set():
                node = i % 3
                try:
                    call(self.url(node), "ContextService/LookupSops", lookup_body(sop_ids[i % 6]),
                         self.token, timeout=2)
                    with lock:
                        stats["lookups_ok"] += 1
                        if killed.is_set():
                            stats["lookups_ok_after_kill"] += 1
                except ConnectError as e:
                    with lock:
                        if killed.is_set() and node == dead_node:
                            stats["lookups_failed_dead"] += 1
                        else:
                            stats["lookups_failed_live"] += 1
                            live_errors.append("node %d: %s" % (node, e))
                i += 1

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        threads.append(threading.Thread(target=looker))
        for t in threads:
            t.start()
        time.sleep(LOAD_BEFORE_KILL)
        # Set first: a lookup the dying node fails from now on is expected.
        killed.set()
        self.etcd.kill(0)
        self.nodes[dead_node].proc.send_signal(signal.SIGKILL)
        self.nodes[dead_node].proc.wait(timeout=TIMEOUT)
        time.sleep(LOAD_AFTER_KILL)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        expected.close()
        print("load: %s" % stats)
        self.assertGreater(stats["writes_ok"], 20, stats)
        self.assertGreater(stats["lookups_ok_after_kill"], 20, stats)
        self.assertEqual(stats["lookups_failed_live"], 0, (stats, live_errors[:5]))

        # Every acknowledged write is in the store, read through a surviving node.
        with open(expected_path) as f:
            acknowledged = [json.loads(line) for line in f]
        lost = []
        for write in acknowledged:
            revision = call(self.url(0), "SopService/GetSopRevision",
                            {"name": "orgs/default/sops/%s/revisions/%s"
                             % (write["sop"], write["revision"])}, self.token)
            if revision["snapshot"]["title"] != write["title"]:
                lost.append(write)
        print("acknowledged writes: %d, lost: %d" % (len(acknowledged), len(lost)))
        self.assertEqual(lost, [])

        # The killed node and member come back; the node catches up and serves.
        self.etcd.restart(0)
        self.nodes[dead_node] = self.start_node(dead_node)
        last = {}
        for write in acknowledged:
            last[write["sop"]] = write
        for sop_id, write in last.items():
            head = call(self.url(dead_node), "SopService/GetSop",
                        {"name": "orgs/default/sops/" + sop_id}, self.token)
            self.assertGreaterEqual(int(head["revisionId"]), int(write["revision"]))
        self.create_published("after-restart", "Back", node=0)
        took = self.await_match(dead_node, "after-restart", 1.0)
        self.assertIsNotNone(took, "the restarted node did not match a new publish within 1 s")


    def record_shown(self, node, sop, count, prefix):
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        events = [{"eventId": "%s-%d" % (prefix, k), "type": "PANEL_SHOWN", "eventTime": now,
                   "sop": sop["name"], "revisionId": sop["publishedRevisionId"],
                   "context": {"recordType": "Lead", "recordId": "00Q%s%d" % (prefix, k),
                               "fields": {"lead_source": "Web"}}}
                  for k in range(count)]
        answer = call(self.url(node), "AnalyticsService/RecordEvents",
                      {"parent": "orgs/default", "events": events}, self.token)
        self.assertEqual(answer.get("recorded"), count, answer)

    def usage(self, node):
        """The usage report on `node`: impressions of the report SOP, and its nodes."""
        report = call(self.url(node), "AnalyticsService/GetUsageReport",
                      {"query": {"parent": "orgs/default", "sop": "orgs/default/sops/reported"}},
                      self.token)
        impressions = sum(int(row.get("impressions", 0)) for row in report.get("rows", []))
        return impressions, report.get("nodes", {})

    def test_4_a_report_on_any_node_adds_up_every_nodes_events_and_names_missing_nodes(self):
        sop = self.create_published("reported", "Reported")
        # Each node keeps the events it received: 1, 2 and 3 impressions.
        for node in range(3):
            self.record_shown(node, sop, node + 1, "n%d" % node)
        for node in range(3):
            impressions, nodes = self.usage(node)
            self.assertEqual(impressions, 6, (node, nodes))
            self.assertEqual(len(nodes.get("counted", [])), 3, nodes)
            self.assertNotIn("missing", nodes)
        # A node stopped cleanly is not running: named, its figures left out.
        self.nodes[2].stop()
        impressions, nodes = self.usage(0)
        self.assertEqual(impressions, 3, nodes)
        self.assertEqual(len(nodes["counted"]), 2, nodes)
        self.assertEqual(len(nodes["missing"]), 1, nodes)
        self.assertIn("not running", nodes["missing"][0]["reason"])
        # A node killed still holds its lease for a while: asking it fails.
        self.nodes[1].proc.send_signal(signal.SIGKILL)
        self.nodes[1].proc.wait(timeout=TIMEOUT)
        impressions, nodes = self.usage(0)
        self.assertEqual(impressions, 1, nodes)
        self.assertEqual(len(nodes["missing"]), 2, nodes)
        print("report with two nodes down: %s" % nodes)
        # Back with the same data dirs, hence the same node ids and events.
        for node in (1, 2):
            self.nodes[node] = self.start_node(node)
        impressions, nodes = self.usage(0)
        self.assertEqual(impressions, 6, nodes)
        self.assertEqual(len(nodes.get("counted", [])), 3, nodes)


if __name__ == "__main__":
    unittest.main()
