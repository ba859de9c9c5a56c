"""sopctl against a real sopd, as a user runs them: both binaries, a real
RocksDB data dir, a loopback port.

Environment (set by ctest): SOPD, SOPCTL, SOP_EXAMPLES.
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from sopd_process import Sopd, TIMEOUT, run_sopd  # noqa: E402

MQL_LEAD = ["--record-type", "Lead", "--field", "lead_status=MQL – New Handoff",
            "--field", "lead_score=82", "--field", "company_size=120", "--field", "title=VP Sales"]


class SopctlTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sopctl-e2e-")
        self.sopd = Sopd(os.path.join(self.tmp, "data")).start()

    def tearDown(self):
        if self.sopd.proc.poll() is None:
            self.sopd.stop()
        shutil.rmtree(self.tmp)

    def sopctl(self, *args, ok=True, token_file=None, server=None):
        env = dict(os.environ, SOPCTL_SERVER=server or self.sopd.address,
                   SOPCTL_TOKEN_FILE=token_file or self.sopd.admin_token_file)
        result = subprocess.run([os.environ["SOPCTL"], *args], capture_output=True, text=True,
                                env=env, timeout=TIMEOUT)
        if ok:
            self.assertEqual(result.returncode, 0, "sopctl %s: %s" % (args, result.stderr))
        return result

    # The examples require sign-offs; the admin loads them as sopd --import
    # does, in an emergency (the review itself is tested below).
    EMERGENCY = ("--emergency", "--reason", "loading the shipped examples")

    def apply_examples(self):
        return self.sopctl("apply", "-f", os.environ["SOP_EXAMPLES"], "--publish", *self.EMERGENCY)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_apply_is_idempotent(self):
        first = self.apply_examples().stdout
        self.assertEqual(first.count("created "), 6, first)
        self.assertEqual(first.count("published "), 6, first)
        second = self.apply_examples().stdout
        self.assertEqual(second.count("unchanged "), 6, second)
        self.assertNotIn("published", second)

    def test_templates_apply_list_get_and_new_from_a_template(self):
        templates = os.path.join(os.path.dirname(os.environ["SOP_EXAMPLES"]), "templates")
        first = self.sopctl("templates", "apply", "-f", templates).stdout
        self.assertEqual(first.count("created orgs/default/templates/"), 3, first)
        second = self.sopctl("templates", "apply", "-f", templates).stdout
        self.assertEqual(second.count("unchanged "), 3, second)
        listed = self.sopctl("templates", "list").stdout
        for name in ("disqualification", "outbound-5-touch-cadence", "sla-handoff"):
            self.assertIn("orgs/default/templates/" + name, listed)
        shown = self.sopctl("templates", "get", "sla-handoff").stdout
        self.assertIn("min_lead_score >= 75", shown)
        self.assertIn("first_contact_window between 1m and 5m", shown)
        got = json.loads(self.sopctl("templates", "get", "sla-handoff", "-o", "json").stdout)
        self.assertEqual(got["required_fields"], ["purpose", "owner_user_id"])

        # A placeholder without a default needs a value: named, nothing saved.
        missing = self.sopctl("new", "--template", "sla-handoff", "--id", "emea", ok=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn('template_values["team"]', missing.stderr)
        self.assertNotEqual(self.sopctl("get", "emea", ok=False).returncode, 0)

        made = self.sopctl("new", "--template", "sla-handoff", "--set", "team=EMEA SDRs",
                           "--id", "emea").stdout
        self.assertIn("created orgs/default/sops/emea", made)
        self.assertIn("MQL handoff: EMEA SDRs", made)
        # The template requires purpose and owner_user_id before a submit.
        refused = self.sopctl("submit", "emea", ok=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("FAILED_PRECONDITION", refused.stderr)
        self.assertIn("purpose is empty; the sla-handoff template requires it", refused.stderr)
        sop = json.loads(self.sopctl("get", "emea", "-o", "json").stdout)
        sop["purpose"] = "Work EMEA MQLs within five minutes."
        sop["owner_user_id"] = "ops@example.com"
        self.sopctl("apply", "-f", self.write("emea.json", json.dumps(sop)))
        self.assertIn("submitted orgs/default/sops/emea", self.sopctl("submit", "emea").stdout)

    def test_apply_of_a_file_without_a_field_clears_that_field(self):
        # The file is the whole SOP (sopctl sends update_mask "*"): a key
        # deleted from the file is cleared on the server, not kept.
        body = ("title: Rebook no-shows\nowner: Sales Ops\npurpose: Rebook within a day.\n"
                "tags: [no-show]\ntargeting_rules:\n  - record_types: [Lead]\n")
        path = self.write("rebook.yaml", body)
        self.sopctl("apply", "-f", path)
        self.write("rebook.yaml", body.replace("purpose: Rebook within a day.\n", "")
                   .replace("tags: [no-show]\n", ""))
        self.assertIn("updated orgs/default/sops/rebook", self.sopctl("apply", "-f", path).stdout)
        sop = json.loads(self.sopctl("get", "rebook", "-o", "json").stdout)
        self.assertEqual(sop.get("purpose", ""), "")
        self.assertEqual(sop.get("tags", []), [])
        self.assertEqual(sop["title"], "Rebook no-shows")

    def test_lookup_json_ranks_mql_acceptance_first_with_matched_conditions(self):
        self.apply_examples()
        out = json.loads(self.sopctl("lookup", *MQL_LEAD, "-o", "json").stdout)
        first = out["matches"][0]
        self.assertEqual(first["sop"], "orgs/default/sops/mql-acceptance-handoff")
        self.assertEqual(first["sop_body"]["title"], "MQL Acceptance & Handoff")
        matched = first["explanation"]["matched_conditions"]
        self.assertIn({"field": "lead_status", "equals": "MQL – New Handoff"},
                      [{k: c["condition"][k] for k in ("field", "equals") if k in c["condition"]}
                       for c in matched])
        self.assertEqual(matched[0]["actual"], "MQL – New Handoff")

    def test_lookup_for_accepted_lead_ranks_the_cadence_first(self):
        self.apply_examples()
        out = json.loads(self.sopctl("lookup", "--record-type", "Lead", "--field",
                                     "lead_status=SQL – Accepted", "-o", "json").stdout)
        self.assertEqual(out["matches"][0]["sop"],
                         "orgs/default/sops/first-touch-outreach-cadence")

    def test_no_shipped_example_ties_with_another(self):
        self.apply_examples()
        for name in sorted(os.listdir(os.environ["SOP_EXAMPLES"])):
            sop = os.path.splitext(name)[0]
            result = self.sopctl("check", sop, "--fail-on-ties", ok=False)
            self.assertEqual(result.returncode, 0, "check %s: %s%s" % (sop, result.stdout,
                                                                        result.stderr))
            self.assertEqual(result.stdout, "no ties\n")

    def test_near_misses_say_why_a_value_looks_like_a_slip(self):
        self.apply_examples()
        wrong_case = self.sopctl("lookup", "--record-type", "lead", "--field",
                                 "lead_status=SQL – Accepted", "--near-misses").stdout
        self.assertIn("orgs/default/sops/first-touch-outreach-cadence rule 1 (priority 100): "
                      "failed record type (actual \"lead\": differs only by case from record "
                      "type \"Lead\")", wrong_case)
        hyphen = self.sopctl("lookup", "--record-type", "Lead", "--field",
                             "lead_status=SQL - Accepted", "--near-misses").stdout
        self.assertIn("(actual \"SQL - Accepted\": differs only by dash)", hyphen)

    def test_text_lookup_explains_itself(self):
        self.apply_examples()
        out = self.sopctl("lookup", *MQL_LEAD).stdout
        self.assertTrue(out.startswith("1. MQL Acceptance & Handoff"), out)
        self.assertIn('lead_status = "MQL – New Handoff"', out)
        self.assertIn("current step", out)

    def test_lookup_watch_prints_an_update_after_a_publish_until_interrupted(self):
        env = dict(os.environ, SOPCTL_SERVER=self.sopd.address,
                   SOPCTL_TOKEN_FILE=self.sopd.admin_token_file)
        watch = subprocess.Popen([os.environ["SOPCTL"], "lookup", *MQL_LEAD, "--watch"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env)
        lines = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(line) for line in watch.stdout],
                                  daemon=True)
        reader.start()

        def next_line():
            try:
                return lines.get(timeout=TIMEOUT)
            except queue.Empty:
                watch.kill()
                self.fail("sopctl lookup --watch printed nothing for %ss" % TIMEOUT)

        try:
            self.assertEqual(next_line(), "No published SOP matches this record.\n")
            self.sopctl("apply", "-f", os.path.join(os.environ["SOP_EXAMPLES"],
                                                    "mql-acceptance-handoff.yaml"), "--publish",
                        *self.EMERGENCY)
            self.assertRegex(next_line(), r"^--- updated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$")
            self.assertTrue(next_line().startswith("1. MQL Acceptance & Handoff"))
            # Still watching: Ctrl-C ends it.
            self.assertIsNone(watch.poll())
            watch.send_signal(signal.SIGINT)
            self.assertEqual(watch.wait(timeout=TIMEOUT), -signal.SIGINT)
        finally:
            if watch.poll() is None:
                watch.kill()
            watch.wait(timeout=TIMEOUT)
            watch.stdout.close()
            watch.stderr.close()

    def test_malformed_file_names_file_line_and_field_and_writes_nothing(self):
        bad = self.write("broken-sop.yaml", "\n".join([
            "title: Broken",
            "owner: Ops",
            "steps:",
            "  - ordinal: 1",
            "    title: One",
            "  - ordinal: 1",
            "    title: Again",
            ""]))
        result = self.sopctl("apply", "-f", bad, ok=False)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, bad + ":6: steps[1].ordinal: duplicate ordinal 1\n")
        missing = self.sopctl("get", "broken-sop", ok=False)
        self.assertEqual(missing.returncode, 1)
        self.assertTrue(missing.stderr.startswith("NOT_FOUND: "), missing.stderr)

    RULED = "\n".join(["title: %s", "owner: Ops", "targeting_rules:",
                         "  - record_types: [%s]", ""])

    def sop_dir(self, files):
        folder = os.path.join(self.tmp, "sops")
        os.makedirs(folder, exist_ok=True)
        for name, text in files.items():
            with open(os.path.join(folder, name), "w") as f:
                f.write(text)
        return folder

    def server_state(self):
        """Every SOP's name, etag and history as the admin sees them."""
        listed = json.loads(self.sopctl("list", "-o", "json").stdout).get("sops", [])
        return {s["name"]: (s["etag"], self.sopctl("history", s["name"]).stdout)
                for s in listed}

    def test_apply_with_publish_writes_nothing_when_one_file_cannot_be_published(self):
        folder = self.sop_dir({"a.yaml": self.RULED % ("A", "Contact"),
                               "b.yaml": "title: B\nowner: Ops\n",
                               "c.yaml": self.RULED % ("C", "Account")})
        result = self.sopctl("apply", "-f", folder, "--publish", ok=False)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr, "\n".join([
            "FAILED_PRECONDITION: %s: SOP orgs/default/sops/b cannot be published: it has no "
            "targeting_rules, so no record would match it" % os.path.join(folder, "b.yaml"),
            "nothing applied: 1 of 3 SOPs cannot be applied", ""]))
        self.assertEqual(self.server_state(), {})

    def test_apply_dry_run_prints_the_plan_and_writes_nothing(self):
        self.apply_examples()
        examples = os.environ["SOP_EXAMPLES"]
        files = {}
        for name in sorted(os.listdir(examples)):
            with open(os.path.join(examples, name)) as f:
                files[name] = f.read()
        files["mql-acceptance-handoff.yaml"] = files["mql-acceptance-handoff.yaml"].replace(
            "title: MQL Acceptance & Handoff", "title: MQL Acceptance & Handoff v2", 1)
        files["new-sop.yaml"] = self.RULED % ("New", "Contact")
        folder = self.sop_dir(files)
        before = self.server_state()
        result = self.sopctl("apply", "-f", folder, "--publish", "--dry-run")
        self.assertEqual(self.server_state(), before)
        lines = result.stdout.splitlines()
        self.assertIn("would update orgs/default/sops/mql-acceptance-handoff", lines)
        # It needs sign-offs: the change goes to review, not live.
        self.assertIn("would submit orgs/default/sops/mql-acceptance-handoff", lines)
        self.assertIn("awaiting sign-off orgs/default/sops/mql-acceptance-handoff: "
                      "VP_SALES, MARKETING_DIRECTOR", lines)
        self.assertNotIn("would publish orgs/default/sops/mql-acceptance-handoff", lines)
        self.assertIn("would create orgs/default/sops/new-sop", lines)
        self.assertIn("would publish orgs/default/sops/new-sop", lines)
        self.assertIn("unchanged orgs/default/sops/demo-appointment-booking", lines)
        self.assertEqual(lines[-1], "dry run: nothing written")

        files["bad.yaml"] = "title: Bad\nowner: Ops\n"
        folder = self.sop_dir(files)
        dry = self.sopctl("apply", "-f", folder, "--publish", "--dry-run", ok=False)
        real = self.sopctl("apply", "-f", folder, "--publish", ok=False)
        self.assertEqual(dry.returncode, 1)
        self.assertEqual(dry.stderr, real.stderr)
        self.assertIn("SOP orgs/default/sops/bad cannot be published", dry.stderr)
        self.assertEqual(self.server_state(), before)

    def sdr_token_file(self):
        secret = self.sopctl("token", "create", "--user", "sam@example.com",
                             "--role", "SDR").stdout.strip()
        return self.write("sdr.token", secret)

    def test_sdr_apply_says_it_compared_with_the_published_revision(self):
        self.apply_examples()
        examples = os.environ["SOP_EXAMPLES"]
        with open(os.path.join(examples, "mql-acceptance-handoff.yaml")) as f:
            original = f.read()
        self.sopctl("apply", "-f", self.write("mql-acceptance-handoff.yaml", original.replace(
            "title: MQL Acceptance & Handoff", "title: Draft ahead", 1)))
        sdr = self.sdr_token_file()
        original_file = os.path.join(examples, "mql-acceptance-handoff.yaml")
        same = self.sopctl("apply", "-f", original_file, token_file=sdr)
        self.assertEqual(same.stdout, "unchanged orgs/default/sops/mql-acceptance-handoff "
                         "(compared with published revision 2: your roles cannot read drafts)\n")

    def test_sdr_apply_of_a_changed_file_is_permission_denied_and_writes_nothing(self):
        self.apply_examples()
        before = self.server_state()
        sdr = self.sdr_token_file()
        changed = self.write("mql-acceptance-handoff.yaml", "title: Mine\nowner: Ops\n")
        result = self.sopctl("apply", "-f", changed, token_file=sdr, ok=False)
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith(
            "PERMISSION_DENIED: %s: your roles do not allow you to create, change or delete "
            "SOPs" % changed), result.stderr)
        self.assertEqual(self.server_state(), before)

    def test_validate_needs_no_server(self):
        self.sopd.stop()
        env = dict(os.environ, SOPCTL_SERVER=self.sopd.address,
                   SOPCTL_TOKEN_FILE=os.path.join(self.tmp, "no-such.token"))
        result = subprocess.run([os.environ["SOPCTL"], "validate", "-f", os.environ["SOP_EXAMPLES"]],
                                capture_output=True, text=True, env=env, timeout=TIMEOUT)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.count("valid "), 6, result.stdout)
        self.assertEqual(result.stderr, "")

    def test_exported_json_edits_apply_and_stale_etag_is_aborted(self):
        self.apply_examples()
        exported = self.sopctl("get", "mql-acceptance-handoff", "-o", "json").stdout
        same = self.write("mql-acceptance-handoff.json", exported)
        self.assertIn("unchanged orgs/default/sops/mql-acceptance-handoff",
                      self.sopctl("apply", "-f", same).stdout)
        sop = json.loads(exported)
        sop["title"] = "MQL Acceptance & Handoff (v2)"
        edited = self.write("edited.json", json.dumps(sop, ensure_ascii=False))
        self.assertIn("updated orgs/default/sops/mql-acceptance-handoff",
                      self.sopctl("apply", "-f", edited).stdout)
        sop["title"] = "Lost update"
        stale = self.write("stale.json", json.dumps(sop, ensure_ascii=False))
        result = self.sopctl("apply", "-f", stale, ok=False)
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith("ABORTED: "), result.stderr)
        title = json.loads(self.sopctl("get", "mql-acceptance-handoff", "-o", "json").stdout)
        self.assertEqual(title["title"], "MQL Acceptance & Handoff (v2)")

    def test_publish_delete_undelete_and_history(self):
        # Without its required approvers, so that it publishes at once.
        with open(os.path.join(os.environ["SOP_EXAMPLES"], "demo-appointment-booking.yaml")) as f:
            body = "".join(line for line in f if not line.startswith("required_approver_roles"))
        self.sopctl("apply", "-f", self.write("demo-appointment-booking.yaml", body))
        self.sopctl("publish", "demo-appointment-booking")
        self.sopctl("delete", "demo-appointment-booking")
        listed = self.sopctl("list").stdout
        self.assertNotIn("demo-appointment-booking", listed)
        self.sopctl("undelete", "orgs/default/sops/demo-appointment-booking")
        history = self.sopctl("history", "demo-appointment-booking").stdout.splitlines()
        self.assertEqual([line.split()[-1] for line in history[1:]],
                         ["undeleted", "deleted", "published", "created"])
        self.assertTrue(all(" admin " in line for line in history[1:]), history)

    HANDOFF = ("title: Handoff\nowner: Sales Ops\nrequired_approver_roles: [SALES_MANAGER]\n"
               "targeting_rules:\n  - record_types: [Lead]\n")

    def test_submit_approve_publish_then_diff_and_audit(self):
        path = self.write("handoff.yaml", self.HANDOFF)
        self.sopctl("apply", "-f", path)
        submitted = self.sopctl("submit", "handoff", "--comment", "ready").stdout
        self.assertEqual(submitted,
                         "submitted orgs/default/sops/handoff: IN_REVIEW (awaiting SALES_MANAGER)\n")
        secret = self.sopctl("token", "create", "--user", "manager@example.com",
                             "--role", "SALES_MANAGER").stdout.strip()
        manager = self.write("manager.token", secret)
        approved = self.sopctl("approve", "handoff", token_file=manager).stdout
        self.assertEqual(approved, "approved orgs/default/sops/handoff: APPROVED\n")
        self.sopctl("publish", "handoff")

        self.write("handoff.yaml", self.HANDOFF.replace("Handoff", "Handoff v2"))
        self.sopctl("apply", "-f", path)
        diff = self.sopctl("diff", "handoff", "live", "draft").stdout
        self.assertIn("[title]\nchanged title\n  - \"Handoff\"\n  + \"Handoff v2\"\n", diff)
        self.assertNotIn("\x1b", diff, "stdout is a pipe: no colour")

        head = self.write("head.json", self.sopctl("audit", "head", "-o", "json").stdout)
        self.sopctl("comment", "add", "handoff", "why v2?")
        verified = self.sopctl("audit", "verify", "--head-file", head).stdout
        self.assertTrue(verified.startswith("intact: "), verified)
        actions = self.sopctl("audit", "list", "--sop", "handoff").stdout
        for action in ("sop.create", "sop.submit", "sop.approve", "sop.publish", "comment.add"):
            self.assertIn(action, actions)

    def test_diagram_by_name_is_the_files_own_and_renders_to_svg(self):
        self.apply_examples()
        path = os.path.join(os.environ["SOP_EXAMPLES"], "mql-acceptance-handoff.yaml")
        by_name = self.sopctl("diagram", "mql-acceptance-handoff", "--kind", "swimlane").stdout
        # The file needs neither server nor token.
        offline = subprocess.run([os.environ["SOPCTL"], "diagram", path, "--kind", "swimlane"],
                                 capture_output=True, text=True, timeout=TIMEOUT,
                                 env={"PATH": os.environ.get("PATH", "")})
        self.assertEqual(offline.returncode, 0, offline.stderr)
        self.assertEqual(by_name, offline.stdout)
        self.assertIn('  subgraph lane_sdr ["SDR"]\n', by_name)
        svg = os.path.join(self.tmp, "mql.svg")
        result = self.sopctl("diagram", "mql-acceptance-handoff", "--kind", "swimlane",
                             "--format", "svg", "-o", svg, ok=False)
        if "install graphviz" in result.stderr:
            self.skipTest("Graphviz's dot is not installed (scripts/setup installs graphviz)")
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(svg) as f:
            image = f.read()
        self.assertIn("<svg", image)
        self.assertIn(">SALES_OPS</text>", image)
        self.assertIn(">SDR</text>", image)
        bad = self.sopctl("diagram", "mql-acceptance-handoff", "--format", "gif", ok=False)
        self.assertEqual(bad.returncode, 2)
        self.assertIn('--format: expected mermaid, dot, svg or png, got "gif"', bad.stderr)

    def test_diagram_by_name_is_drawn_by_sopd_as_the_golden(self):
        self.apply_examples()
        root = os.path.dirname(os.path.dirname(os.environ["SOP_EXAMPLES"]))
        dot = self.sopctl("diagram", "mql-acceptance-handoff", "--format", "dot").stdout
        with open(os.path.join(root, "common", "diagram", "testdata",
                               "mql-handoff-flowchart.dot")) as f:
            self.assertEqual(dot, f.read())
        missing = self.sopctl("diagram", "no-such-sop", ok=False)
        self.assertEqual(missing.returncode, 1, missing.stderr)
        self.assertIn("orgs/default/sops/no-such-sop not found", missing.stderr)

    BRIEF = "inbound MQL, 5-touch cadence over 5 days, call/email, 5-minute first contact"

    def test_draft_saves_a_draft_whose_yaml_apply_reads_back_unchanged(self):
        result = self.sopctl("draft", self.BRIEF, "--id", "mql-cadence")
        self.assertIn("drafted by the builtin drafter; saved as DRAFT "
                      "orgs/default/sops/mql-cadence", result.stderr)
        self.assertTrue(result.stdout.startswith("name: \"orgs/default/sops/mql-cadence\"\n"),
                        result.stdout)
        path = self.write("mql-cadence.yaml", result.stdout)
        again = self.sopctl("apply", "-f", path)
        self.assertIn("unchanged orgs/default/sops/mql-cadence", again.stdout.splitlines())
        sop = json.loads(self.sopctl("get", "mql-cadence", "-o", "json").stdout)
        self.assertEqual(sop["state"], "DRAFT")
        self.assertEqual(sop.get("published_revision_id", ""), "")
        # A dry run saves nothing; the model drafter needs sopd's --drafter-model-url.
        dry = self.sopctl("draft", self.BRIEF, "--dry-run")
        self.assertIn("not saved", dry.stderr)
        model = self.sopctl("draft", self.BRIEF, "--model", ok=False)
        self.assertEqual(model.returncode, 1, model.stderr)
        self.assertIn('drafter: "model" is not configured', model.stderr)
        listed = json.loads(self.sopctl("list", "-o", "json").stdout)
        self.assertEqual([s["name"] for s in listed.get("sops", [])],
                         ["orgs/default/sops/mql-cadence"])

    def test_unknown_sop_and_bad_usage_exit_non_zero(self):
        result = self.sopctl("publish", "no-such-sop", ok=False)
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith("NOT_FOUND: "), result.stderr)
        usage = self.sopctl("lookup", "--field", "x=1", ok=False)
        self.assertEqual(usage.returncode, 2)
        self.assertIn("--record-type", usage.stderr)

    def test_usage_error_says_what_is_wrong_and_which_help_to_read(self):
        for args, hint in [(["get", "x", "--bogus"], "sopctl get --help"),
                           (["fetch", "x"], "sopctl --help"),
                           (["token", "create", "--user", "u", "--role", "CEO"],
                            "sopctl token create --help")]:
            result = self.sopctl(*args, ok=False)
            self.assertEqual(result.returncode, 2, args)
            self.assertTrue(result.stderr.startswith("sopctl: "), result.stderr)
            self.assertTrue(result.stderr.endswith("\nrun '%s' for usage\n" % hint), result.stderr)
            self.assertNotIn("INVALID_ARGUMENT", result.stderr)
        unknown = self.sopctl("get", "x", "--bogus", ok=False)
        self.assertEqual(unknown.stderr,
                         "sopctl: unknown flag --bogus for get\nrun 'sopctl get --help' for usage\n")

    def test_without_a_token_sopctl_says_how_to_pass_one(self):
        env = dict(os.environ, SOPCTL_SERVER=self.sopd.address)
        for name in ("SOPCTL_TOKEN", "SOPCTL_TOKEN_FILE"):
            env.pop(name, None)
        result = subprocess.run([os.environ["SOPCTL"], "whoami"], capture_output=True, text=True,
                                env=env, timeout=TIMEOUT)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr, "sopctl: no access token: pass a token with --token-file "
                                        "FILE (or set SOPCTL_TOKEN_FILE)\n")
        wrong = self.sopctl("whoami", ok=False, token_file=self.write("wrong.token", "sops_nope"))
        self.assertEqual(wrong.returncode, 1)
        self.assertEqual(wrong.stderr, "UNAUTHENTICATED: missing or invalid credentials: pass a "
                                       "token with --token-file FILE (or set SOPCTL_TOKEN_FILE)\n")

    def test_upper_case_id_suggests_the_lower_case_one(self):
        result = self.sopctl("get", "Demo-No-Show", ok=False)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "INVALID_ARGUMENT: name: SOP ids are lower case: "
                                        "\"Demo-No-Show\" should be \"demo-no-show\"\n")

    def test_text_lookup_counts_rules_and_steps_from_one(self):
        self.apply_examples()
        out = self.sopctl("lookup", *MQL_LEAD).stdout
        self.assertIn('   matched rule 1 "Lead handed over by Marketing', out)
        self.assertIn("   current step 2/4: ", out)
        self.assertIn("     Criterion     Accept when\n     ------------  ---", out)

    def test_version_is_sopds_and_help_is_a_command(self):
        sopd = subprocess.run([os.environ["SOPD"], "--version"], capture_output=True, text=True,
                              timeout=TIMEOUT, check=True).stdout
        self.assertEqual(self.sopctl("--version").stdout, sopd.replace("sopd ", "sopctl ", 1))
        self.assertEqual(self.sopctl("help").stdout, self.sopctl("--help").stdout)
        self.assertEqual(self.sopctl("help", "lookup").stdout,
                         self.sopctl("lookup", "--help").stdout)

    def test_unreachable_server_is_unavailable(self):
        self.sopd.stop()
        result = self.sopctl("--timeout", "2s", "list", ok=False)
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith(("UNAVAILABLE: ", "DEADLINE_EXCEEDED: ")),
                        result.stderr)

    def test_list_through_two_nodes_goes_on_when_one_is_killed(self):
        # Two sopd nodes, each with its own data dir: the stores are not
        # shared, so B's starts as a copy of A's taken while A was stopped,
        # and both hold the examples and the admin token.
        self.apply_examples()
        self.sopd.stop()
        data_b = os.path.join(self.tmp, "data-b")
        shutil.copytree(self.sopd.data_dir, data_b)
        self.sopd = Sopd(self.sopd.data_dir).start()
        node_b = Sopd(data_b).start()
        try:
            served = 'sopd_rpc_requests_total{method="/sopsidebar.v1.SopService/ListSops",' \
                     'code="OK",transport="grpc"}'
            both = "%s,%s" % (self.sopd.address, node_b.address)
            for _ in range(3):
                out = self.sopctl("--server", both, "list").stdout
                self.assertEqual(out.count("orgs/default/sops/"), 6, out)
            out = self.sopctl("list", server=both).stdout  # $SOPCTL_SERVER takes a list too
            self.assertEqual(out.count("orgs/default/sops/"), 6, out)
            self.assertEqual(self.sopd.metric(served) + node_b.metric(served), 4)

            # A list that is not one is refused before anything is sent.
            bad = self.sopctl("--server", both + ",", "list", ok=False)
            self.assertEqual(bad.returncode, 2)
            self.assertTrue(bad.stderr.startswith('sopctl: --server: "%s," has an empty address'
                                                  % both), bad.stderr)
            names = self.sopctl("list", ok=False, server="sopd-a:50051,sopd-b:50051")
            self.assertEqual(names.returncode, 2)
            self.assertIn('$SOPCTL_SERVER: "sopd-a:50051" is not an IP address', names.stderr)
            self.assertIn("dns:///NAME:PORT", names.stderr)
            self.assertEqual(self.sopd.metric(served) + node_b.metric(served), 4)

            self.sopd.stop(signal.SIGKILL)
            before = node_b.metric(served)
            out = self.sopctl("--server", both, "list").stdout
            self.assertEqual(out.count("orgs/default/sops/"), 6, out)
            self.assertEqual(node_b.metric(served), before + 1)
            alone = self.sopctl("--server", self.sopd.address, "--timeout", "2s", "list",
                                ok=False)
            self.assertEqual(alone.returncode, 1)
            self.assertTrue(alone.stderr.startswith(("UNAVAILABLE: ", "DEADLINE_EXCEEDED: ")),
                            alone.stderr)
        finally:
            node_b.stop()

    def test_token_created_by_sopctl_scopes_what_a_rep_sees(self):
        self.apply_examples()
        created = self.sopctl("token", "create", "--user", "sam@example.com", "--role", "SDR",
                              "--expires", "1d")
        secret = created.stdout.strip()
        self.assertEqual(created.stdout, secret + "\n")  # the secret alone on stdout
        self.assertNotIn(secret, created.stderr)
        sdr_file = self.write("sdr.token", secret)
        me = self.sopctl("whoami", token_file=sdr_file).stdout
        self.assertIn("sam@example.com", me)
        hidden = self.sopctl("get", "pricing-discount-playbook", ok=False, token_file=sdr_file)
        missing = self.sopctl("get", "no-such-playbook", ok=False, token_file=sdr_file)
        self.assertEqual(hidden.returncode, 1)
        self.assertEqual(hidden.stderr.replace("pricing-discount-playbook", "X"),
                         missing.stderr.replace("no-such-playbook", "X"))
        denied = self.sopctl("publish", "mql-acceptance-handoff", ok=False, token_file=sdr_file)
        self.assertTrue(denied.stderr.startswith("PERMISSION_DENIED: "), denied.stderr)
        token_name = [line.split()[0] for line in self.sopctl("token", "list").stdout.splitlines()
                      if "sam@example.com" in line][0]
        self.sopctl("token", "revoke", token_name)
        revoked = self.sopctl("whoami", ok=False, token_file=sdr_file)
        self.assertTrue(revoked.stderr.startswith("UNAUTHENTICATED: "), revoked.stderr)

    def test_token_get_and_org_get_show_one_and_hide_other_orgs(self):
        self.sopctl("org", "create", "acme", "--display-name", "Acme Inc")
        self.assertRegex(self.sopctl("org", "list").stdout,
                         r"\norgs/acme +Acme Inc .*\norgs/default +Default org ")
        got = self.sopctl("org", "get", "acme").stdout.splitlines()
        self.assertEqual(len(got), 2, got)
        self.assertRegex(got[1], r"^orgs/acme +Acme Inc +\d{4}-")
        acme_admin = self.write("acme.token", self.sopctl(
            "--org", "acme", "token", "create", "--user", "ada@acme.com",
            "--role", "ADMIN").stdout.strip())
        rep = self.sopctl("token", "create", "--user", "rep@example.com", "--role", "AE")
        token_name = rep.stderr.split()[1]  # "Created orgs/default/tokens/... for ..."
        shown = self.sopctl("token", "get", token_name).stdout
        self.assertIn(token_name, shown)
        self.assertIn("rep@example.com", shown)
        self.assertNotIn(rep.stdout.strip(), shown)
        hidden = self.sopctl("token", "get", token_name, ok=False, token_file=acme_admin)
        missing = self.sopctl("token", "get", "orgs/default/tokens/tknope", ok=False,
                              token_file=acme_admin)
        self.assertTrue(hidden.stderr.startswith("NOT_FOUND: "), hidden.stderr)
        self.assertEqual(hidden.stderr.replace(token_name, "X"),
                         missing.stderr.replace("orgs/default/tokens/tknope", "X"))
        other_org = self.sopctl("org", "get", "default", ok=False, token_file=acme_admin)
        self.assertTrue(other_org.stderr.startswith("NOT_FOUND: "), other_org.stderr)

    def test_restart_with_import_keeps_an_edit_made_with_sopctl(self):
        examples = os.environ["SOP_EXAMPLES"]
        self.sopd.stop()
        self.sopd = Sopd(self.sopd.data_dir, import_dir=examples).start()
        sop = json.loads(self.sopctl("get", "mql-acceptance-handoff", "-o", "json").stdout)
        sop["title"] = "Edited with sopctl"
        self.sopctl("apply", "-f", self.write("edited.json", json.dumps(sop)), "--publish",
                    *self.EMERGENCY)

        self.sopd.stop()
        self.sopd = Sopd(self.sopd.data_dir, import_dir=examples).start()
        self.assertIn("0 created, 0 updated, 0 unchanged, 6 kept, 0 published",
                      "".join(self.sopd.log))
        kept = json.loads(self.sopctl("get", "mql-acceptance-handoff", "-o", "json").stdout)
        self.assertEqual(kept["title"], "Edited with sopctl")
        self.assertEqual(kept["published_revision_id"], kept["revision_id"])

        self.sopd.stop()
        self.sopd = Sopd(self.sopd.data_dir, import_dir=examples, import_overwrite=True).start()
        self.assertIn("0 created, 1 updated, 5 unchanged, 0 kept, 1 published",
                      "".join(self.sopd.log))
        reverted = json.loads(self.sopctl("get", "mql-acceptance-handoff", "-o", "json").stdout)
        self.assertEqual(reverted["title"], "MQL Acceptance & Handoff")

    def test_kill_9_right_after_apply_loses_nothing(self):
        applied = self.apply_examples().stdout
        self.assertEqual(applied.count("published "), 6)
        before = {}
        for line in applied.splitlines():
            name = line.split()[-1]
            before[name] = self.sopctl("history", name).stdout
        self.sopctl("apply", "-f", self.write("late-change.yaml", "\n".join([
            "title: Written just before the crash",
            "owner: Ops",
            "targeting_rules:",
            "  - record_types: [Contact]",
            ""])), "--publish")
        self.assertEqual(self.sopd.stop(signal.SIGKILL), -signal.SIGKILL)

        self.sopd = Sopd(self.sopd.data_dir).start()
        for name, history in before.items():
            self.assertEqual(self.sopctl("history", name).stdout, history, name)
        late = json.loads(self.sopctl("get", "late-change", "-o", "json").stdout)
        self.assertEqual(late["state"], "PUBLISHED")
        self.assertEqual(late["title"], "Written just before the crash")
        out = json.loads(self.sopctl("lookup", "--record-type", "Contact", "-o", "json").stdout)
        self.assertIn("orgs/default/sops/late-change", [m["sop"] for m in out["matches"]])


    def test_admin_backup_then_restore_from_serves_the_same_sops_and_audit_head(self):
        self.apply_examples()
        head = json.loads(self.sopctl("audit", "head", "-o", "json").stdout)
        dest = os.path.join(self.tmp, "backups", "first")
        out = self.sopctl("admin", "backup", dest).stdout
        print(out, end="")
        self.assertIn("backup written to %s:" % dest, out)
        self.assertIn("audit head orgs/default: sequence %s" % head["sequence"], out)
        with open(os.path.join(dest, "backup-manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual(manifest["format_version"], 1)
        self.assertEqual(os.stat(dest).st_mode & 0o777, 0o700)
        # An existing, non-empty DEST is refused; nothing is sent.
        again = self.sopctl("admin", "backup", dest, ok=False)
        self.assertEqual(again.returncode, 1)
        self.assertIn("FAILED_PRECONDITION: the backup destination %s exists" % dest,
                      again.stderr)
        # A token without server admin is refused.
        secret = self.sopctl("token", "create", "--user", "ops", "--role", "ADMIN").stdout.strip()
        token_file = self.write("ops.token", secret + "\n")
        denied = self.sopctl("admin", "backup", dest + "-x", ok=False, token_file=token_file)
        self.assertIn("PERMISSION_DENIED", denied.stderr)
        self.assertFalse(os.path.exists(dest + "-x"))

        restored_dir = os.path.join(self.tmp, "restored")
        restored = run_sopd("--data-dir", restored_dir, "--restore-from", dest)
        self.assertEqual(restored.returncode, 0, restored.stderr)
        print(restored.stdout, end="")
        self.assertIn("start sopd with --data-dir %s" % restored_dir, restored.stdout)
        refused = run_sopd("--data-dir", restored_dir, "--restore-from", dest)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("FAILED_PRECONDITION: the database dir %s/db exists and is not empty"
                      % restored_dir, refused.stderr)
        shutil.copy(self.sopd.admin_token_file, os.path.join(restored_dir, "admin.token"))
        self.sopd.stop()
        self.sopd = Sopd(restored_dir).start()
        self.assertEqual(json.loads(self.sopctl("audit", "head", "-o", "json").stdout), head)
        self.assertIn("intact", self.sopctl("audit", "verify").stdout)
        self.assertEqual(self.sopctl("list").stdout.count("orgs/default/sops/"), 6)

        sst = [f["path"] for f in manifest["files"] if f["path"].endswith(".sst")][0]
        with open(os.path.join(dest, sst), "r+b") as f:
            f.seek(10)
            byte = f.read(1)
            f.seek(10)
            f.write(bytes([byte[0] ^ 1]))
        corrupt = run_sopd("--data-dir", os.path.join(self.tmp, "again"), "--restore-from", dest)
        self.assertEqual(corrupt.returncode, 1)
        self.assertIn("DATA_LOSS: backup file %s does not match its SHA-256"
                      % os.path.join(dest, sst), corrupt.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "again", "db")))


if __name__ == "__main__":
    unittest.main()
