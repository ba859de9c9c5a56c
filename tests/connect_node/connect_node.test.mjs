// sopd's Connect gateway against @connectrpc/connect-node, a client that is
// not ours: a unary lookup, errors as Connect codes, and a WatchSops stream
// that receives an update published through the same gateway.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "./gen/sopsidebar/v1/sop_pb.js";
import { clients, mqlLead } from "./clients.mjs";
import { startSopd } from "./sopd.mjs";

let sopd;
let admin;
let sdr;

before(async () => {
  sopd = await startSopd();
  admin = clients(sopd.httpUrl, sopd.adminToken);
  const created = await admin.admin.createToken({
    parent: "orgs/default",
    token: { userId: "sdr@example.com", displayName: "Test SDR", roles: [Role.SDR] },
  });
  sdr = clients(sopd.httpUrl, created.secret);
});

after(async () => {
  await sopd?.stop();
});

test("a unary lookup over Connect JSON finds the MQL handoff SOP with its 5-minute step", async () => {
  const response = await sdr.context.lookupSops({ context: mqlLead() });
  assert.ok(response.matches.length >= 1);
  const top = response.matches[0];
  assert.equal(top.sopBody.title, "MQL Acceptance & Handoff");
  assert.ok(top.currentStepIndex >= 0);
  assert.ok(top.currentStepDueTime, "the current step has a due time");
});

test("a lookup without a token is unauthenticated, and a bad request names its field", async () => {
  const anonymous = clients(sopd.httpUrl, null);
  await assert.rejects(anonymous.context.lookupSops({ context: mqlLead() }),
    (e) => e instanceof ConnectError && e.code === Code.Unauthenticated);
  await assert.rejects(sdr.context.lookupSops({ context: { recordType: "" } }),
    (e) => e instanceof ConnectError && e.code === Code.InvalidArgument &&
      /record_type/.test(e.rawMessage));
});

test("a WatchSops stream starts with the lookup and receives a published change", async () => {
  const controller = new AbortController();
  const stream = sdr.context.watchSops({ context: mqlLead() }, { signal: controller.signal });
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.value.event.case, "result");
  assert.equal(first.value.event.value.matches[0].sopBody.title, "MQL Acceptance & Handoff");

  const name = first.value.event.value.matches[0].sop;
  const sop = await admin.sops.getSop({ name });
  const newTitle = "MQL Acceptance & Handoff (rev. by test)";
  await admin.sops.updateSop({ sop: { ...sop, title: newTitle }, updateMask: { paths: ["title"] } });
  // The SOP requires sign-offs; the admin publishes in an emergency, as the
  // audit trail records (the review itself is tested in sopd's own tests).
  const publishedAt = Date.now();
  await admin.sops.publishSop({ name, emergency: true, reason: "connect-node test" });

  let next;
  do {
    next = await iterator.next();
  } while (next.value.event.case === "heartbeat");
  const elapsed = Date.now() - publishedAt;
  assert.equal(next.value.event.value.matches[0].sopBody.title, newTitle);
  assert.ok(elapsed < 1000, `the update arrived after ${elapsed} ms`);
  controller.abort();
});
