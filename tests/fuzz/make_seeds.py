#!/usr/bin/python3
"""Writes the seed inputs of the fuzzers whose input is not a plain file.

The matcher, context and Connect fuzzers read their input through
FuzzedDataProvider, which takes its integers and booleans from the END of
the input: a seed is the bytes meant as the body, then the choices in
reverse order of consumption. Run from anywhere; rewrites the seed-*
files of tests/fuzz/corpus/*_fuzzer (the crash-* reproducers there stay).
The SOP file fuzzer's seeds are also the example SOPs themselves
(tests/fuzz/CMakeLists.txt).
"""

import glob
import json
import os
import random
import re

import yaml  # Debian's python3-yaml

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.join(HERE, "..", "..")

CONTEXTS = {
    "lead": {"recordType": "Lead", "recordId": "00Q1",
             "fields": {"lead_status": "MQL - New Handoff", "lead_score": 82,
                        "status_changed_at": "2026-01-01T09:00:00Z",
                        "tags": ["webinar", None, True]}},
    "salesforce": {"org": "orgs/acme", "crm": "salesforce", "recordType": "Lead",
                   "fields": {"Status": "Working", "Rating": "Hot", "AnnualRevenue": "1200000",
                              "LastModifiedDate": "2026-01-01T09:00:00.000+0000"}},
    "hubspot": {"crm": "hubspot", "recordType": "0-1",
                "fields": {"hs_lead_status": "OPEN", "hubspotscore": "71",
                           "hs_lastmodifieddate": "1767258000000",
                           "hs_persona": "persona_1;persona_2"}},
    "empty": {},
    # Text a number field cannot hold: overflow, NaN.
    "salesforce-huge": {"crm": "salesforce", "recordType": "Lead",
                        "fields": {"AnnualRevenue": "1e999", "NumberOfEmployees": "nan"}},
}

# (message, JSON body) for the Connect fuzzer; the message is looked up in
# the API's sorted list of request and response types.
REQUESTS = [
    ("LookupSopsRequest", '{"context":{"recordType":"Lead","fields":{"lead_status":"MQL",'
                          '"lead_score":82,"x":null,"l":[1,"a",false]}},"maxResults":3,'
                          '"includeNearMisses":true,"asOfTime":"2026-01-01T00:00:00.5Z"}'),
    ("WatchSopsRequest", '{"context":{"crm":"salesforce","recordType":"Lead",'
                         '"fields":{"Status":"Working"}}}'),
    ("CreateSopRequest", '{"parent":"orgs/default","sopId":"mql","requestId":"r-1",'
                         '"sop":{"title":"MQL \\u00e9\\ud83d\\ude00","owner":"Ops",'
                         '"targetingRules":[{"recordTypes":["Lead"],"priority":5,'
                         '"conditions":[{"field":"lead_score","range":{"min":75}},'
                         '{"field":"s","anyOf":["a",1.5e3,true]}]}],'
                         '"steps":[{"ordinal":1,"title":"Call",'
                         '"timeLimit":{"duration":"300s"}}]}}'),
    ("UpdateSopRequest", '{"sop":{"name":"orgs/default/sops/mql","title":"T","etag":"W/\\"3\\""},'
                         '"updateMask":"title,targetingRules"}'),
    ("ListSopsRequest", '{"parent":"orgs/default","pageSize":50,"filter":"tag:\\"a b\\"",'
                        '"view":"SOP_VIEW_FULL","showDeleted":true}'),
    ("ListAuditEventsRequest", '{"parent":"orgs/default","startTime":"1970-01-01T00:00:00Z",'
                               '"endTime":"9999-12-31T23:59:59.999999999Z","pageSize":"10"}'),
    ("RecordEventsRequest", '{"parent":"orgs/default","events":[{}]}'),
    ("UpdateFieldMapRequest", '{"fieldMap":{"name":"orgs/acme/fieldMaps/salesforce",'
                              '"fields":[{"crmField":"Status","field":"lead_status",'
                              '"type":"FIELD_TYPE_STRING"}]}}'),
    ("PingRequest", ""),
    # The escapes the gateway's own reader takes, then every JSON escape (it
    # leaves the others to protobuf).
    ("ListSopsRequest", '{"parent":"orgs/default","filter":"a\\tb\\nc\\rd\\/e\\\\f\\"g"}'),
    ("GetSopRequest", '{"name":"orgs/default/sops/a\\t\\n\\r\\b\\f\\/\\\\\\"\\u00e9"}'),
]


def api_types():
    names = set()
    for path in glob.glob(os.path.join(ROOT, "proto", "sopsidebar", "v1", "*.proto")):
        with open(path, encoding="utf-8") as f:
            for request, response in re.findall(
                    r"rpc\s+\w+\s*\(\s*(?:stream\s+)?([\w.]+)\s*\)\s*returns\s*"
                    r"\(\s*(?:stream\s+)?([\w.]+)\s*\)", f.read()):
                names.update(("sopsidebar.v1." + request, "sopsidebar.v1." + response))
    return sorted(names)


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)


def main():
    sop_files = os.path.join(HERE, "corpus", "sop_file_fuzzer")
    with open(os.path.join(ROOT, "examples", "sops", "mql-acceptance-handoff.yaml"),
              encoding="utf-8") as f:
        example = yaml.safe_load(f)
    # The same SOP as JSON, as `sopctl get -o json` writes it.
    write(sop_files, "mql.json", json.dumps(example, indent=1).encode())
    # YAML forms the examples do not use: anchors and aliases, flow style,
    # block scalars, quoted numbers, a second document.
    write(sop_files, "anchors.yaml", b"""title: &t "2024"
owner: *t
tags: [a, "b", 3]
purpose: |
  line one
  line two
targeting_rules:
  - record_types: [Lead]
    priority: "7"
    conditions:
      - {field: lead_score, range: {min: 75, exclusive_max: true, max: 1e3}}
      - {field: status, equals: "75"}
      - {field: when, range: {min_time: "2026-01-01T00:00:00Z"}}
steps:
  - {ordinal: 1, title: Call, time_limit: {duration: 1h30m}}
""")
    write(sop_files, "two-documents.yaml", b"title: a\nowner: b\n---\ntitle: c\n")
    # The matcher fuzzer draws everything from its bytes: any bytes are an
    # input; a few of several sizes start it off.
    rng = random.Random(16)
    for size in (64, 256, 1024, 4096):
        write(os.path.join(HERE, "corpus", "matcher_fuzzer"), "random-%d" % size,
              bytes(rng.getrandbits(8) for _ in range(size)))

    contexts = os.path.join(HERE, "corpus", "crm_context_fuzzer")
    for name, context in CONTEXTS.items():
        body = json.dumps(context).encode()
        # Choices, last byte first: own field map? no; JSON? yes.
        write(contexts, name + ".json", body + b"\x01\x00")
    types = api_types()
    assert len(types) < 256, "the fuzzer reads the type index from one byte"
    requests = os.path.join(HERE, "corpus", "connect_request_fuzzer")
    written = set()
    for message, body in REQUESTS:
        index = types.index("sopsidebar.v1." + message)
        name = message + ("-escapes" if message in written else "")
        written.add(message)
        # Choices, last byte first: the type's index; binary? no.
        write(requests, name + ".json", body.encode() + bytes([0, index]))
    print("wrote the seeds: 3 SOP files, 4 matcher inputs, %d contexts, %d requests"
          " (%d API types)" % (len(CONTEXTS), len(REQUESTS), len(types)))


if __name__ == "__main__":
    main()
