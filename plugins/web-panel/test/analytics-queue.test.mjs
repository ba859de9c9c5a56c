// src/analytics.ts (the panel's event queue) and console/analytics-api.ts (the dashboard's
// tables and CSV) in Node, with a fake RecordEvents: the queue's limits and failure policies,
// which the Chromium tests (test/panel.test.mjs) do not reach — the bound, a batch dropped after
// its last attempt, the refused event sopd names, keepalive on pagehide — and the CSV's quoting.
import assert from "node:assert/strict";
import { dirname, resolve } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
let mod;

before(async () => {
  const out = await build({
    stdin: {
      contents: 'export * from "./src/analytics.ts"; export { ConnectError } from "./src/connect.ts"; export * from "./console/analytics-api.ts";',
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    write: false,
    logLevel: "warning",
  });
  mod = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`);
});

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
const event = (id) => ({ eventId: id, type: "PANEL_SHOWN", sop: "orgs/o/sops/s", revisionId: "1", context: { recordType: "Lead", recordId: "r" } });

/** A fake RecordEvents: records each call; `answer(call)` returns or throws. */
function fakeSend(answer = () => ({})) {
  const calls = [];
  const send = async (request, opts) => {
    const call = { ids: request.events.map((e) => e.eventId), parent: request.parent, opts };
    calls.push(call);
    return answer(call, calls.length);
  };
  return { calls, send };
}

describe("EventQueue", () => {
  test("bounded: beyond maxQueue the oldest events are dropped", async () => {
    const { calls, send } = fakeSend();
    const q = new mod.EventQueue(send, { flushMs: 20, maxQueue: 5, maxBatch: 50 });
    for (let i = 0; i < 8; i++) q.add(event(`e${i}`), "orgs/o", "Bearer t");
    assert.equal(q.size, 5);
    await tick(60);
    assert.deepEqual(calls.map((c) => c.ids), [["e3", "e4", "e5", "e6", "e7"]]);
    assert.equal(calls[0].parent, "orgs/o");
    assert.deepEqual(calls[0].opts.headers, { Authorization: "Bearer t" });
  });

  test("unavailable: retried with the same ids after a backoff, dropped after maxAttempts", async () => {
    const { calls, send } = fakeSend(() => {
      throw new mod.ConnectError("down", "unavailable");
    });
    const q = new mod.EventQueue(send, { flushMs: 5, backoffMinMs: 10, backoffMaxMs: 20, maxAttempts: 3 });
    q.add(event("a"), "orgs/o", "");
    q.add(event("b"), "orgs/o", "");
    await tick(200);
    assert.deepEqual(calls.map((c) => c.ids), [["a", "b"], ["a", "b"], ["a", "b"]]);
    assert.equal(q.size, 0, "dropped after the third failed send");
  });

  test("a refused batch: the event sopd names is dropped, the others sent again; an unnamed refusal drops the batch", async () => {
    const { calls, send } = fakeSend((_, n) => {
      if (n === 1) throw new mod.ConnectError("events[1].code: not a code of revision 3", "invalid_argument");
      if (n === 3) throw new mod.ConnectError("the caller may not record events", "permission_denied");
      return {};
    });
    const q = new mod.EventQueue(send, { flushMs: 5 });
    for (const id of ["a", "b", "c"]) q.add(event(id), "orgs/o", "");
    await tick(60);
    assert.deepEqual(calls.map((c) => c.ids), [["a", "b", "c"], ["a", "c"]]);
    q.add(event("d"), "orgs/o", "");
    await tick(60);
    assert.deepEqual(calls.at(-1).ids, ["d"]);
    assert.equal(q.size, 0);
  });

  test("pagehide: everything waiting goes now with keepalive, in batches of maxBatch, one org and token per call", async () => {
    const { calls, send } = fakeSend();
    const q = new mod.EventQueue(send, { flushMs: 60_000, maxBatch: 2 });
    q.add(event("a"), "orgs/o", "Bearer t");
    q.add(event("x"), "orgs/other", "Bearer t");
    q.add(event("b"), "orgs/o", "Bearer t");
    q.add(event("c"), "orgs/o", "Bearer u");
    q.flushNow(true);
    await tick();
    assert.deepEqual(calls.map((c) => [c.parent, c.ids, c.opts.keepalive]), [
      ["orgs/o", ["a", "b"], true],
      ["orgs/other", ["x"], true],
      ["orgs/o", ["c"], true],
    ]);
  });

  test("event ids are v4 UUIDs; org of a name", () => {
    assert.match(mod.newEventId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(mod.newEventId(), mod.newEventId());
    assert.equal(mod.orgOf("orgs/acme/sops/mql"), "orgs/acme");
    assert.equal(mod.orgOf("sops/mql"), "");
  });
});

describe("dashboard tables", () => {
  test("CSV: RFC 4180 quoting, CRLF, and a formula-looking cell defused", () => {
    const csv = mod.toCsv({ headers: ["Lead source", "Records"], rows: [["Web, paid", "3"], ['Say "hi"', "-4"], ["=HYPERLINK(1)", "+5"], ["@x", "0"]] });
    assert.equal(csv, 'Lead source,Records\r\n"Web, paid",3\r\n"Say ""hi""",-4\r\n\'=HYPERLINK(1),\'+5\r\n\'@x,0\r\n');
  });

  test("int64 as strings, left-out zeros, percentages and durations", () => {
    assert.equal(mod.num("40"), 40);
    assert.equal(mod.num(undefined), 0);
    assert.equal(mod.percent(11 / 12), "91.7 %");
    assert.deepEqual([mod.duration(0), mod.duration(45_000), mod.duration(180_000), mod.duration(290_000), mod.duration(3_900_000)], ["—", "45 s", "3 min", "4 min 50 s", "1 h 5 min"]);
    const t = mod.codeTable({ rows: [{ key: { values: ["Web"] }, records: "10", disqualified: "4", byCode: { "D-B": "1", "D-A": "3" }, rejectionRate: 0.4 }, { key: { values: [""] }, records: "5" }] });
    assert.deepEqual(t.headers, ["Lead source", "Records", "Disqualified", "Rejection rate", "Above 30 %", "D-A", "D-B"]);
    assert.deepEqual(t.rows, [["Web", "10", "4", "40.0 %", "yes", "3", "1"], ["(none)", "5", "0", "0.0 %", "no", "0", "0"]]);
  });
});
