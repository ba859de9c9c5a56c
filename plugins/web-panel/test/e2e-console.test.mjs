// The review console (/console/) against a REAL sopd, in headless Chromium: a Sales Ops editor
// changes MQL Acceptance & Handoff (which needs VP_SALES and MARKETING_DIRECTOR sign-off) and
// submits it, the VP approves (Connect calls); then the Marketing Director, in the console, opens
// the pending change, sees the diff and approves; then a publisher publishes it in the console,
// and GetSop and LookupSops show the new revision live.
//
// Needs, else every test is skipped with the reason (test/with-sopd.mjs sets them; ctest's
// web_console_e2e runs `node test/with-sopd.mjs node --test test/e2e-console.test.mjs`):
//   SOPD_HTTP               sopd's HTTP base URL, serving dist/ (so /console/)
//   SOPD_ADMIN_TOKEN_FILE   a file with an admin token, for `sopctl token create`
// Optional: SOPCTL (default <repo>/build/client/cli/sopctl), SOPD_GRPC (default 127.0.0.1:50051).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { axeSerious, launchBrowser, record } from "./helpers.mjs";
import { base, call, createToken, skipUnlessSopd } from "./sopd-e2e.mjs";

const skip = skipUnlessSopd("e2e-console");

const SOP_ID = "mql-acceptance-handoff";
const MQL = "MQL – New Handoff";

describe("review console on a real sopd", { skip }, () => {
  let browser;
  let page;
  let rec;
  const t = {};
  let name;
  let reviewRevision;
  let liveBefore;
  const stamp = `E2E review ${Date.now()}`;

  before(async () => {
    const [ops, vp, director] = await Promise.all([
      createToken("e2e-ops@example.com", "SALES_OPS", "Sam Ops"),
      createToken("e2e-vp@example.com", "VP_SALES", "Victor VP"),
      createToken("e2e-director@example.com", "MARKETING_DIRECTOR", "Dora Director"),
    ]);
    Object.assign(t, { ops, vp, director });
    const me = await call(ops, "AdminService/WhoAmI", {});
    name = `${me.org}/sops/${SOP_ID}`;

    // Sales Ops edits a step's instructions (a line diff) and an SLA term's description,
    // and submits the draft for review.
    const sop = await call(ops, "SopService/GetSop", { name });
    assert.deepEqual([...(sop.requiredApproverRoles ?? [])].sort(), ["MARKETING_DIRECTOR", "VP_SALES"]);
    const steps = sop.steps.map((s) => (s.ordinal === 2 ? { ...s, instructions: `${s.instructions.trimEnd()}\n\n${stamp}: log the first call in the activity timeline.\n` } : s));
    const slaTerms = sop.slaTerms.map((s) => (s.name === "first_contact_window" ? { ...s, description: `${s.description} (${stamp})` } : s));
    const updated = await call(ops, "SopService/UpdateSop", { sop: { name, etag: sop.etag, steps, slaTerms }, updateMask: "steps,slaTerms" });
    const submitted = await call(ops, "SopService/SubmitSop", { name, etag: updated.etag, comment: "Log the first call (e2e)." });
    assert.equal(submitted.review?.state, "IN_REVIEW");
    reviewRevision = submitted.review.revisionId;
    liveBefore = submitted.publishedRevisionId;
    assert.ok(reviewRevision);
    assert.notEqual(reviewRevision, submitted.publishedRevisionId);

    // The VP signs off by API.
    const approved = await call(vp, "SopService/ApproveSop", { name, revisionId: reviewRevision, role: "VP_SALES", comment: "Sales agrees." });
    assert.deepEqual(approved.review.awaitingRoles, ["MARKETING_DIRECTOR"]);

    browser = await launchBrowser({ width: 1280, height: 1000 });
    page = await browser.context.newPage();
    rec = record(page);
  });
  after(async () => {
    await browser?.close();
  });

  test("the Director signs in, sees the change awaiting them, opens it and sees the diff", async () => {
    await page.goto(`${base}/console/`);
    await page.waitForFunction(() => document.body.dataset.state === "signed-out");
    await page.fill("#token", t.director);
    await page.press("#token", "Enter");
    await page.waitForFunction(() => document.body.dataset.state === "ready", null, { timeout: 10_000 });
    assert.match(await page.locator("#who").innerText(), /Dora Director \(Marketing Director\)/);
    const link = page.locator(`#awaiting-list a[href="#${name}"]`);
    assert.equal(await link.innerText(), "MQL Acceptance & Handoff");
    await link.click();
    await page.waitForFunction(() => document.getElementById("detail")?.dataset.reviewState === "IN_REVIEW");
    await page.waitForFunction(() => !/Loading/.test(document.getElementById("detail")?.textContent ?? "Loading"), null, { timeout: 10_000 });
    assert.equal(await page.locator("#detail-title").innerText(), "MQL Acceptance & Handoff");
    assert.match(await page.locator("#detail .facts").innerText(), /Submitted by\s+e2e-ops@example\.com/);
    assert.equal(await page.locator("#review-revision").innerText(), reviewRevision);
    assert.match(await page.locator("#approvals").innerText(), /VP Sales — e2e-vp@example\.com[\s\S]*Sales agrees\./);
    assert.deepEqual(await page.locator("#awaiting-roles li").allInnerTexts(), ["Marketing Director"]);

    // The diff against the live revision: the steps and SLA terms sections, the new line added.
    const sections = await page.locator(".diff-section").evaluateAll((els) => els.map((e) => e.dataset.section));
    assert.ok(sections.includes("steps"), `sections: ${sections}`);
    assert.ok(sections.includes("sla_terms"), `sections: ${sections}`);
    const added = await page.locator('.diff-section[data-section="steps"] .lines li.line-added').allInnerTexts();
    assert.ok(added.some((l) => l.includes(stamp)), `added lines: ${JSON.stringify(added)}`);
    const sla = await page.locator('.diff-section[data-section="sla_terms"]').innerText();
    assert.match(sla, /CHANGED/);
    assert.ok(sla.includes(stamp));
    assert.match(await page.locator("#comments").innerText(), /comments/i);
    assert.deepEqual(await axeSerious(page, "body"), []);
  });

  test("the Director approves; the re-fetched SOP shows every approval in", async () => {
    await page.fill("#decision-comment", "Marketing agrees.");
    await page.click("#approve");
    await page.waitForFunction(() => document.getElementById("detail")?.dataset.reviewState === "APPROVED", null, { timeout: 10_000 });
    assert.match(await page.locator("#detail-status").innerText(), /Approved as Marketing Director/);
    assert.match(await page.locator("#approvals").innerText(), /Marketing Director — e2e-director@example\.com[\s\S]*Marketing agrees\./);
    await page.waitForFunction(() => document.querySelectorAll("#awaiting-list li").length === 0);
    const sop = await call(t.ops, "SopService/GetSop", { name });
    assert.equal(sop.review?.state, "APPROVED");
    assert.deepEqual((sop.review.approvals ?? []).map((a) => a.role).sort(), ["MARKETING_DIRECTOR", "VP_SALES"]);
  });

  test("published (by the Director when sopd lets them, else by Sales Ops in the console), the new revision is live", async () => {
    if ((await page.locator("#publish").count()) === 0) {
      await page.click("#signout");
      await page.waitForFunction(() => document.body.dataset.state === "signed-out");
      await page.fill("#token", t.ops);
      await page.press("#token", "Enter");
      await page.waitForFunction(() => document.body.dataset.state === "ready", null, { timeout: 10_000 });
      await page.click(`#ready-list a[href="#${name}"]`);
      await page.waitForSelector("#publish");
    }
    await page.click("#publish");
    await page.waitForFunction(() => !!document.getElementById("live-banner"), null, { timeout: 10_000 });
    // Publishing is a write: the live revision is a new one, whose content is the reviewed one.
    const sop = await call(t.ops, "SopService/GetSop", { name });
    assert.equal(sop.state, "PUBLISHED");
    assert.equal(sop.review, undefined, "nothing awaits publishing");
    const live = sop.publishedRevisionId;
    assert.ok(Number(live) > Number(reviewRevision), `live ${live}, reviewed ${reviewRevision}`);
    assert.notEqual(live, liveBefore);
    assert.match(await page.locator("#detail-status").innerText(), new RegExp(`Published: revision ${live} is live`));
    assert.match(await page.locator("#live-banner").innerText(), new RegExp(`Live: revision ${live} is published`));
    assert.equal(await page.locator("#sop-state").innerText(), "PUBLISHED");
    assert.equal(await page.locator("#published-revision").innerText(), live);
    const same = await call(t.ops, "SopService/DiffSopRevisions", { revisionA: `${name}/revisions/${reviewRevision}`, revisionB: `${name}/revisions/live` });
    assert.deepEqual(same.changes ?? [], [], "the live content is the content approved");
    // What reps get now: the lookup matches the new revision, with the new instructions.
    const found = await call(t.director, "ContextService/LookupSops", {
      context: { recordType: "Lead", recordId: "00Q-e2e", fields: { lead_status: MQL, lead_score: 82, company_size: 240, status_changed_at: new Date().toISOString() } },
    });
    const match = (found.matches ?? []).find((m) => m.sop === name);
    assert.ok(match, "the lookup matches the SOP");
    assert.equal(match.revisionId, live);
    assert.ok(JSON.stringify(match.sopBody?.steps ?? []).includes(stamp), "the live steps carry the change");
  });

  test("no request to another origin", async () => {
    const foreign = rec.requests.filter((u) => !u.startsWith(`${base}/`));
    assert.deepEqual(foreign, []);
  });
});
