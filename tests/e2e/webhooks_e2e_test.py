"""Webhooks end to end (docs/EVENTS.md): a real sopd POSTs to receivers on
loopback ports that check every signature with Python's hmac and hashlib
alone (nothing of sopd's code), and sopctl manages the webhooks, reads the
delivery log and replays from the dead-letter list.

Environment (set by ctest): SOPD, SOPCTL.
"""

import hashlib
import hmac
import http.server
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopd_process import Sopd, TIMEOUT  # noqa: E402

SECRET = "e2e-webhook-secret-0123456789"
MAX_SKEW = 300  # seconds: older signatures are replays


def verify(secret, header, body, now=None):
    """The receiver's check, as docs/EVENTS.md gives it: t=<unix>,v1=<hex>
    where hex is HMAC-SHA256(secret, "<t>.<body>"), t at most 5 minutes
    old. Returns None when good, else why not."""
    if not header:
        return "missing signature"
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in parts or "v1" not in parts:
        return "malformed signature"
    try:
        t = int(parts["t"])
    except ValueError:
        return "malformed timestamp"
    if abs((now or time.time()) - t) > MAX_SKEW:
        return "stale signature"
    expected = hmac.new(secret.encode(), ("%d." % t).encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["v1"]):
        return "bad signature"
    return None


class Receiver:
    """An HTTP receiver on a free loopback port. `script` is a list of
    statuses answered in turn (the last one repeats); `hang` seconds are
    waited before the first answer. Verified bodies go to `received`."""

    def __init__(self, script=(200,), hang=0):
        self.script = list(script)
        self.hang = hang
        self.received = queue.Queue()
        self.rejected = []
        self.requests = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests += 1
                if receiver.hang and receiver.requests == 1:
                    time.sleep(receiver.hang)
                why = verify(SECRET, self.headers.get("X-SopSidebar-Signature"), body)
                if why is not None:
                    receiver.rejected.append(why)
                    self.send_response(401)
                    self.end_headers()
                    return
                status = receiver.script[0]
                if len(receiver.script) > 1:
                    receiver.script.pop(0)
                if status == 200:
                    receiver.received.put((dict(self.headers), json.loads(body)))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def take(self, n, timeout=20):
        got = []
        for _ in range(n):
            got.append(self.received.get(timeout=timeout))
        return got


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


SOP = """title: {title}
purpose: An SOP the webhook tests write.
owner: Sales Ops
review_cycle: QUARTERLY
targeting_rules:
  - record_types: [Lead]
    priority: {priority}
    conditions:
      - field: lead_status
        equals: "{status}"
steps:
  - ordinal: 1
    title: Call the lead
"""


class VerifierTest(unittest.TestCase):
    """The receiver's own check refuses what it must (so that the tests
    below, which count on it, can fail)."""

    def test_rejects_missing_bad_and_stale_signatures(self):
        body = b'{"a":1}'
        now = int(time.time())
        good = "t=%d,v1=%s" % (now, hmac.new(SECRET.encode(), b"%d.%s" % (now, body),
                                             hashlib.sha256).hexdigest())
        self.assertIsNone(verify(SECRET, good, body))
        self.assertEqual(verify(SECRET, None, body), "missing signature")
        self.assertEqual(verify(SECRET, good, b'{"a":2}'), "bad signature")
        self.assertEqual(verify("another-secret-value", good, body), "bad signature")
        self.assertEqual(verify(SECRET, good, body, now=now + 301), "stale signature")


class WebhooksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="webhooks-e2e-")
        cls.sopd = Sopd(os.path.join(cls.tmp, "data"), extra_args=[
            "--webhook-backoff-base", "100ms", "--webhook-backoff-cap", "400ms",
            "--webhook-attempt-timeout", "8s"]).start()
        with open(os.path.join(cls.tmp, "secret"), "w") as f:
            f.write(SECRET + "\n")
        cls.receivers = []
        cls.count = 0

    @classmethod
    def tearDownClass(cls):
        cls.sopd.stop()
        for r in cls.receivers:
            r.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def sopctl(self, *args, ok=True, token_file=None):
        env = dict(os.environ, SOPCTL_SERVER=self.sopd.address,
                   SOPCTL_TOKEN_FILE=token_file or self.sopd.admin_token_file)
        result = subprocess.run([os.environ["SOPCTL"], *args], capture_output=True, text=True,
                                env=env, timeout=TIMEOUT)
        if ok:
            self.assertEqual(result.returncode, 0, "sopctl %s: %s" % (args, result.stderr))
        return result

    def receiver(self, **kwargs):
        r = Receiver(**kwargs)
        self.receivers.append(r)
        return r

    def webhook(self, url, *flags):
        WebhooksTest.count += 1
        hook_id = "hook-%d" % WebhooksTest.count
        self.sopctl("webhooks", "create", "--url", url, "--secret-file",
                    os.path.join(self.tmp, "secret"), "--id", hook_id, *flags)
        return hook_id

    def delete(self, hook_id):
        self.sopctl("webhooks", "delete", hook_id)

    def write_sop(self, sop_id, title, publish=False):
        WebhooksTest.count += 1
        path = os.path.join(self.tmp, sop_id + ".yaml")
        with open(path, "w") as f:
            f.write(SOP.format(title=title, priority=100 + WebhooksTest.count,
                               status="status-%d" % WebhooksTest.count))
        args = ["apply", "-f", path]
        if publish:
            args += ["--publish"]
        return self.sopctl(*args)

    def deliveries(self, hook_id, *flags):
        out = self.sopctl("-o", "json", "webhooks", "deliveries", hook_id, *flags).stdout
        return json.loads(out).get("deliveries", [])

    def wait_for(self, predicate, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        self.fail("timed out")

    def test_a_500_is_retried_and_delivered_with_two_attempts(self):
        r = self.receiver(script=[500, 200])
        hook = self.webhook(r.url, "--events", "changed", "--max-attempts", "3")
        try:
            self.write_sop("retried", "Retried SOP")
            [(headers, body)] = r.take(1)
            self.assertEqual(body["type"], "SOP_CHANGED")
            self.assertEqual(body["title"], "Retried SOP")
            self.assertEqual(headers["X-SopSidebar-Event-Id"], body["eventId"])
            self.assertEqual(headers["Content-Type"], "application/json")
            d = self.wait_for(lambda: [x for x in self.deliveries(hook)
                                       if x["state"] == "DELIVERED"])
            self.assertEqual(d[0]["attempts"], 2)
            self.assertEqual(headers["X-SopSidebar-Delivery"], d[0]["name"])
            self.assertEqual(r.rejected, [])
        finally:
            self.delete(hook)

    def test_dead_after_the_retry_budget_then_replayed(self):
        r = self.receiver(script=[500])
        hook = self.webhook(r.url, "--events", "changed", "--max-attempts", "3")
        try:
            self.write_sop("dead", "Dead-lettered SOP")
            dead = self.wait_for(lambda: self.deliveries(hook, "--dead"))
            self.assertEqual(len(dead), 1)
            self.assertEqual(dead[0]["state"], "DEAD")
            self.assertEqual(dead[0]["attempts"], 3)
            self.assertEqual(dead[0]["last_http_status"], 500)
            self.assertEqual(r.requests, 3)
            text = self.sopctl("webhooks", "deliveries", hook, "--dead").stdout
            self.assertIn("DEAD", text)
            self.assertIn(dead[0]["name"], text)

            r.script = [200]  # the receiver is fixed
            replayed = self.sopctl("webhooks", "replay", dead[0]["name"]).stdout
            self.assertIn("replay 1", replayed)
            [(_, body)] = r.take(1)
            self.assertEqual(body["title"], "Dead-lettered SOP")
            d = self.wait_for(lambda: [x for x in self.deliveries(hook)
                                       if x["state"] == "DELIVERED"])
            self.assertEqual(d[0]["replay_count"], 1)
            self.assertEqual(d[0]["attempts"], 1)
            self.assertEqual(self.deliveries(hook, "--dead"), [])
            # Replaying what is not dead is refused, naming why.
            again = self.sopctl("webhooks", "replay", dead[0]["name"], ok=False)
            self.assertNotEqual(again.returncode, 0)
            self.assertIn("not DEAD", again.stderr)
        finally:
            self.delete(hook)

    def test_a_slack_webhook_gets_the_title_in_text(self):
        r = self.receiver()
        hook = self.webhook(r.url, "--format", "slack", "--events", "published")
        try:
            self.write_sop("slack", "MQL handoff for Slack", publish=True)
            [(_, body)] = r.take(1)
            self.assertEqual(list(body), ["text"])
            self.assertIn("SOP published: MQL handoff for Slack", body["text"])
        finally:
            self.delete(hook)

    def test_https_and_a_short_secret_are_refused_and_nothing_saved(self):
        https = self.sopctl("webhooks", "create", "--url", "https://127.0.0.1:1/x",
                            "--secret-file", os.path.join(self.tmp, "secret"), "--id", "tls",
                            ok=False)
        self.assertNotEqual(https.returncode, 0)
        self.assertIn("webhook.url", https.stderr)
        self.assertIn("TLS", https.stderr)
        env_secret = dict(os.environ, SHORT="short")
        short = subprocess.run([os.environ["SOPCTL"], "webhooks", "create", "--url",
                                "http://127.0.0.1:1/x", "--secret-env", "SHORT", "--id", "short"],
                               capture_output=True, text=True, timeout=TIMEOUT,
                               env=dict(env_secret, SOPCTL_SERVER=self.sopd.address,
                                        SOPCTL_TOKEN_FILE=self.sopd.admin_token_file))
        self.assertNotEqual(short.returncode, 0)
        self.assertIn("webhook.secret", short.stderr)
        listed = self.sopctl("webhooks", "list").stdout
        self.assertNotIn("/tls", listed)
        self.assertNotIn("/short", listed)

    def test_failing_webhooks_never_slow_writes_and_events_arrive_in_order(self):
        unreachable = self.webhook("http://127.0.0.1:%d/hook" % closed_port(), "--events",
                                   "changed")
        r = self.receiver(hang=5)
        hanging = self.webhook(r.url, "--events", "changed")
        try:
            titles = ["Ordered %d" % i for i in range(5)]
            for i, title in enumerate(titles):
                start = time.time()
                self.write_sop("ordered-%d" % i, title)
                self.assertLess(time.time() - start, 3.0, "write %d took too long" % i)
            got = [body["title"] for _, body in r.take(5, timeout=30)]
            self.assertEqual(got, titles)
            failed = self.wait_for(lambda: [x for x in self.deliveries(unreachable)
                                            if x["attempts"] >= 1])
            self.assertIn("unreachable", failed[0]["last_error"])
            self.assertEqual(failed[0].get("last_http_status", 0), 0)
        finally:
            self.delete(unreachable)
            self.delete(hanging)

    def test_changes_streams_what_the_caller_may_read(self):
        sdr_token = os.path.join(self.tmp, "sdr.token")
        created = self.sopctl("token", "create", "--user", "sdr@example.com", "--role", "SDR")
        with open(sdr_token, "w") as f:
            f.write(created.stdout.strip())
        env = dict(os.environ, SOPCTL_SERVER=self.sopd.address,
                   SOPCTL_TOKEN_FILE=self.sopd.admin_token_file)
        ops = subprocess.Popen([os.environ["SOPCTL"], "changes"], stdout=subprocess.PIPE,
                               text=True, env=env)
        sdr = subprocess.Popen([os.environ["SOPCTL"], "changes"], stdout=subprocess.PIPE,
                               text=True, env=dict(env, SOPCTL_TOKEN_FILE=sdr_token))
        lines = queue.Queue()
        sdr_lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in ops.stdout], daemon=True).start()
        threading.Thread(target=lambda: [sdr_lines.put(x) for x in sdr.stdout],
                         daemon=True).start()
        try:
            time.sleep(1)  # both streams open
            self.write_sop("watched", "Watched SOP", publish=True)
            got = [lines.get(timeout=20), lines.get(timeout=20)]
            self.assertIn("SOP_CHANGED", got[0])
            self.assertIn("SOP_PUBLISHED", got[1])
            self.assertIn("orgs/default/sops/watched", got[1])
            self.assertIn("Watched SOP", got[1])
            # An SDR may not read drafts: nothing of it streams to them.
            time.sleep(1)
            self.assertTrue(sdr_lines.empty())
        finally:
            ops.terminate()
            sdr.terminate()
            ops.wait(timeout=TIMEOUT)
            sdr.wait(timeout=TIMEOUT)


if __name__ == "__main__":
    unittest.main()
