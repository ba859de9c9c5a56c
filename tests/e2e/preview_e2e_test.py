"""sopctl preview against a real sopd: 1,000 Salesforce leads generated from
the seed's lead statuses by an index pattern, three published SOPs and a
draft that changes targeting, with exact counts of each change.

Environment (set by ctest): SOPD, SOPCTL.

The generator (lead i, 0 <= i < 1000):
  Status         STATUSES[i % 5]
  LeadSource     SOURCES[i % 4]
  MQL_Score__c   SCORES[(i // 20) % 5]        (20, 40, 60, 80, 95)
Within each run of 20 consecutive leads the score is fixed and every
(status, source) pair occurs exactly once (i % 20 fixes i % 5 and i % 4), so
each pair occurs 10 times per score: 30 times with a score of 60 or more,
20 times below.

Published: mql-handoff (priority 100, Status = MQL – New Handoff),
web-nurture (50, LeadSource = Web), working-followup (40, Status Working -
Contacted or Nurturing). The draft of web-nurture: priority 110, LeadSource
Web or Partner Referral AND MQL_Score__c >= 60. With s the status index and
o the source index (MQL is s == 3, Web o == 0, Partner Referral o == 2):
  GAINED       draft matches (o in {0,2}, high) and was not first
               (o == 2, or s == 3): 6 pairs x 30               = 180
  UNCHANGED    o == 0, s != 3, high: first both times: 4 x 30  = 120
  LOST         o == 0, s != 3, low: first, then unmatched: 4 x 20 = 80
  RERANKED     o == 0, s == 3, low: second, then unmatched: 1 x 20 = 20
  NOT_MATCHED  o in {1,3}: 10 x 50 = 500; o == 2, low: 5 x 20 = 100 = 600
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from sopd_process import Sopd, TIMEOUT  # noqa: E402

STATUSES = ["Open - Not Contacted", "Working - Contacted", "Nurturing", "MQL – New Handoff",
            "Unqualified"]
SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List"]
SCORES = [20, 40, 60, 80, 95]
TITLES = ["VP, Sales", "Director of \"Growth\"", "Account Manager"]
N = 1000

EXPECTED = {"gained": 180, "unchanged": 120, "lost": 80, "reranked": 20, "not_matched": 600}

PUBLISHED = {
    "mql-handoff.yaml": """title: MQL handoff
owner: Sales Ops
targeting_rules:
  - record_types: [Lead]
    priority: 100
    conditions:
      - field: lead_status
        equals: "MQL – New Handoff"
steps:
  - ordinal: 1
    title: Qualify
    conditions:
      - field: lead_score
        range: {max: 74}
  - ordinal: 2
    title: Hand off
""",
    "web-nurture.yaml": """title: Web nurture
owner: Marketing
targeting_rules:
  - record_types: [Lead]
    priority: 50
    conditions:
      - field: lead_source
        equals: Web
steps:
  - ordinal: 1
    title: Send the nurture email
""",
    "working-followup.yaml": """title: Working follow-up
owner: Sales Ops
targeting_rules:
  - record_types: [Lead]
    priority: 40
    conditions:
      - field: lead_status
        any_of: ["Working - Contacted", "Nurturing"]
steps:
  - ordinal: 1
    title: Follow up
""",
}

DRAFT = """title: Web and partner nurture
owner: Marketing
targeting_rules:
  - record_types: [Lead]
    priority: 110
    conditions:
      - field: lead_source
        any_of: [Web, Partner Referral]
      - field: lead_score
        range: {min: 60}
steps:
  - ordinal: 1
    title: Call within the hour
"""


def lead(i):
    return {"Id": "00Q%05d" % i, "Status": STATUSES[i % 5], "LeadSource": SOURCES[i % 4],
            "MQL_Score__c": SCORES[(i // 20) % 5], "NumberOfEmployees": 10 + (i * 37) % 5000,
            "Title": TITLES[i % 3]}


# An independent model of the rules: each SOP as (name, priority, predicate,
# step function), ranked by priority (no ties in this set).
def mql_step(r):
    return "Qualify" if r["MQL_Score__c"] <= 74 else "Hand off"


PUBLISHED_MODEL = [
    ("mql-handoff", 100, lambda r: r["Status"] == "MQL – New Handoff", mql_step),
    ("web-nurture", 50, lambda r: r["LeadSource"] == "Web", lambda r: "Send the nurture email"),
    ("working-followup", 40, lambda r: r["Status"] in ("Working - Contacted", "Nurturing"),
     lambda r: "Follow up"),
]
DRAFT_MODEL = ("web-nurture", 110,
               lambda r: r["LeadSource"] in ("Web", "Partner Referral") and r["MQL_Score__c"] >= 60,
               lambda r: "Call within the hour")


def model(r):
    def ranked(sops):
        return sorted([s for s in sops if s[2](r)], key=lambda s: -s[1])

    before = ranked(PUBLISHED_MODEL)
    after = ranked([s for s in PUBLISHED_MODEL if s[0] != DRAFT_MODEL[0]] + [DRAFT_MODEL])

    def rank(matches):
        names = [s[0] for s in matches]
        return names.index("web-nurture") + 1 if "web-nurture" in names else 0

    rb, ra = rank(before), rank(after)
    if ra == 1 and rb != 1:
        change = "GAINED"
    elif rb == 1 and ra != 1:
        change = "LOST"
    elif rb == 0 and ra == 0:
        change = "NOT_MATCHED"
    elif rb == ra:
        change = "UNCHANGED"
    else:
        change = "RERANKED"

    def top(matches):
        if not matches:
            return "", ""
        return "orgs/default/sops/" + matches[0][0], matches[0][3](r)

    return change, rb, ra, top(before), top(after)


class PreviewTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="preview-e2e-")
        cls.sopd = Sopd(os.path.join(cls.tmp, "data")).start()
        sops = os.path.join(cls.tmp, "sops")
        os.mkdir(sops)
        for name, text in PUBLISHED.items():
            with open(os.path.join(sops, name), "w") as f:
                f.write(text)
        cls.sopctl_ok("apply", "-f", sops, "--publish")
        # The saved draft: web-nurture's next revision, not published.
        cls.draft_file = os.path.join(cls.tmp, "web-nurture.yaml")
        with open(cls.draft_file, "w") as f:
            f.write(DRAFT)
        cls.leads = os.path.join(cls.tmp, "leads.csv")
        with open(cls.leads, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(lead(0).keys()))
            writer.writeheader()
            for i in range(N):
                writer.writerow(lead(i))

    @classmethod
    def tearDownClass(cls):
        cls.sopd.stop()
        shutil.rmtree(cls.tmp)

    @classmethod
    def sopctl_run(cls, *args, server=None):
        env = dict(os.environ, SOPCTL_SERVER=server or cls.sopd.address,
                   SOPCTL_TOKEN_FILE=cls.sopd.admin_token_file)
        return subprocess.run([os.environ["SOPCTL"], *args], capture_output=True, text=True,
                              env=env, timeout=TIMEOUT)

    @classmethod
    def sopctl_ok(cls, *args):
        result = cls.sopctl_run(*args)
        if result.returncode != 0:
            raise AssertionError("sopctl %s: %s" % (args, result.stderr))
        return result

    def check_response(self, response):
        counts = {k: response.get(k, 0) for k in EXPECTED}
        self.assertEqual(counts, EXPECTED)
        records = response["records"]
        self.assertEqual(len(records), N)
        for i, rec in enumerate(records):
            change, rb, ra, (cur_sop, cur_step), (new_sop, new_step) = model(lead(i))
            got = (rec["record_id"], rec["change"], rec.get("rank_before", 0),
                   rec.get("rank_after", 0), rec.get("current_sop", ""),
                   rec.get("current_step", ""), rec.get("preview_sop", ""),
                   rec.get("preview_step", ""))
            self.assertEqual(got, ("00Q%05d" % i, change, rb, ra, cur_sop, cur_step, new_sop,
                                   new_step), "lead %d: %s" % (i, lead(i)))

    def test_the_model_gives_the_closed_form_counts(self):
        counts = {k: 0 for k in EXPECTED}
        for i in range(N):
            counts[model(lead(i))[0].lower()] += 1
        self.assertEqual(counts, EXPECTED)

    def test_saved_draft_by_name(self):
        self.sopctl_ok("apply", "-f", self.draft_file)  # the draft, not published
        try:
            out = self.sopctl_ok("preview", "web-nurture", "--records", self.leads,
                                 "--field-map", "salesforce", "-o", "json").stdout
            self.check_response(json.loads(out))
            text = self.sopctl_ok("preview", "web-nurture", "--records", self.leads,
                                  "--field-map", "salesforce").stdout
            self.assertIn("gained 180, lost 80, reranked 20, unchanged 120, not matched 600 "
                          "(1000 records)", text)
            self.assertRegex(text, r"00Q00048 +GAINED +mql-handoff: Qualify +-> +"
                                   r"web-nurture: Call within the hour")
        finally:
            # Back to the published content, so other tests start alike.
            path = os.path.join(self.tmp, "restore", "web-nurture.yaml")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(PUBLISHED["web-nurture.yaml"])
            self.sopctl_ok("apply", "-f", path)

    def test_unsaved_draft_file_replaces_the_published_revision(self):
        out = self.sopctl_ok("preview", self.draft_file, "--records", self.leads,
                             "--field-map", "salesforce", "-o", "json").stdout
        self.check_response(json.loads(out))
        # Nothing stored: lookups still see the published web-nurture first.
        lookup = json.loads(self.sopctl_ok("lookup", "--record-type", "Lead", "--field",
                                           "lead_source=Web", "--field", "lead_score=10",
                                           "-o", "json").stdout)
        self.assertEqual(lookup["matches"][0]["sop"], "orgs/default/sops/web-nurture")
        self.assertEqual(lookup["matches"][0]["sop_body"]["title"], "Web nurture")

    def test_unknown_column_names_file_line_and_column_and_sends_no_preview(self):
        bad = os.path.join(self.tmp, "bad.csv")
        with open(bad, "w") as f:
            f.write("Id,Status,Foo\n00Q1,Nurturing,1\n")
        result = self.sopctl_run("preview", "web-nurture", "--records", bad,
                                 "--field-map", "salesforce")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stdout, "")
        self.assertIn('bad.csv:1:3: unknown column "Foo" (not in the salesforce field map)',
                      result.stderr)

    def test_a_bad_file_is_refused_before_anything_is_sent(self):
        # Our field names need no field map: with no server listening, the
        # file's error is all there is, so nothing was sent.
        bad = os.path.join(self.tmp, "bad-value.csv")
        with open(bad, "w") as f:
            f.write("record_id,lead status\nr1,x\n")
        result = self.sopctl_run("preview", "web-nurture", "--records", bad,
                                 server="127.0.0.1:1")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('bad-value.csv:1:2: column "lead status" is not a field name',
                      result.stderr)
        self.assertNotIn("UNAVAILABLE", result.stderr)
        bad_number = os.path.join(self.tmp, "bad-number.csv")
        with open(bad_number, "w") as f:
            f.write("Id,NumberOfEmployees\n00Q1,12\n00Q2,abc\n")
        result = self.sopctl_run("preview", "web-nurture", "--records", bad_number,
                                 "--field-map", "salesforce")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('bad-number.csv:3:2: NumberOfEmployees: "abc" is not a number',
                      result.stderr)


if __name__ == "__main__":
    unittest.main()
