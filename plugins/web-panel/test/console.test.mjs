// The review console (/console/) in real headless Chromium against the Node Connect test server
// (test/server.mjs with test/review-server.mjs's fixture): its states, the diff, the sign-offs,
// approve / reject / publish and their errors, keyboard use, axe-core, and no foreign requests.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { axeSerious, launchBrowser, record } from "./helpers.mjs";
import { startTestServer } from "./server.mjs";

const MQL = "orgs/default/sops/mql-acceptance-handoff";
const CONTENT = "orgs/default/sops/content-usage-asset-request";

let browser;
before(async () => {
  browser = await launchBrowser({ width: 1280, height: 900 });
});
after(async () => {
  await browser?.close();
});

/** A fresh test server (the review fixture is mutable) and a console page on it. */
async function consolePage(server) {
  const page = await browser.context.newPage();
  const rec = record(page);
  await page.goto(`${server.url}/console/`);
  return { page, rec };
}

const bodyState = (page) => page.evaluate(() => document.body.dataset.state);
const waitBody = (page, state) => page.waitForFunction((s) => document.body.dataset.state === s, state, { timeout: 5000 });

async function signIn(page, token) {
  await waitBody(page, "signed-out");
  await page.fill("#token", token);
  await page.press("#token", "Enter");
  await waitBody(page, "ready");
}

async function openSop(page, name) {
  await page.click(`#awaiting-list a[href="#${name}"], #ready-list a[href="#${name}"]`);
  await page.waitForFunction(() => document.getElementById("detail")?.dataset.state === "ready");
  // The diff and comments load after the SOP.
  await page.waitForFunction(() => !/Loading/.test(document.getElementById("detail")?.textContent ?? "Loading"));
}

function sameOrigin(rec, server) {
  const foreign = rec.requests.filter((u) => !u.startsWith(`${server.url}/`));
  assert.deepEqual(foreign, [], "the console requested another origin");
}

describe("console states", () => {
  let server;
  before(async () => {
    server = await startTestServer({});
  });
  after(async () => {
    await server?.close();
  });

  test("signed out: a labelled password field and the demo approver tokens; axe finds nothing serious", async () => {
    const { page, rec } = await consolePage(server);
    await waitBody(page, "signed-out");
    assert.equal(await page.getAttribute("#token", "type"), "password");
    assert.equal(await page.locator("label[for=token]").innerText(), "API token");
    await page.waitForSelector("#signin-marketing-director");
    assert.match(await page.locator("#demo-buttons").innerText(), /Marketing Director[\s\S]*Sales Ops|VP Sales/);
    assert.equal(await page.locator("#signin-sdr").count(), 0, "rep roles are not offered");
    assert.deepEqual(await axeSerious(page, "body"), []);
    sameOrigin(rec, server);
    await page.close();
  });

  test("a bad token stays signed out with the server's message", async () => {
    const { page } = await consolePage(server);
    await waitBody(page, "signed-out");
    await page.fill("#token", "expired-token");
    await page.click("#signin button[type=submit]");
    await page.waitForSelector("#signin-error:not([hidden])");
    assert.match(await page.locator("#signin-error").innerText(), /Unauthenticated: token expired or revoked/);
    assert.equal(await bodyState(page), "signed-out");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("sop-console-token")), null);
    await page.close();
  });

  test("loading: a status while WhoAmI is out", async () => {
    const { page } = await consolePage(server);
    await waitBody(page, "signed-out");
    await page.fill("#token", "slowreview-token");
    await page.press("#token", "Enter");
    await waitBody(page, "loading");
    assert.equal(await page.locator("#loading").isVisible(), true);
    assert.equal(await page.getAttribute("main", "aria-busy"), "true");
    await page.close();
  });

  test("error: sopd failing shows its message and a retry, and keeps the token", async () => {
    const { page } = await consolePage(server);
    await waitBody(page, "signed-out");
    await page.fill("#token", "error-token");
    await page.press("#token", "Enter");
    await waitBody(page, "error");
    assert.match(await page.locator("#page-error-text").innerText(), /Internal: review index unavailable/);
    assert.equal(await page.locator("#retry").isVisible(), true);
    assert.deepEqual(await axeSerious(page, "body"), []);
    await page.close();
  });

  test("nothing awaiting: a Sales Ops token sees the empty state, and what is ready to publish", async () => {
    const { page } = await consolePage(server);
    await signIn(page, "ops-token");
    assert.equal(await page.locator("#awaiting-list li").count(), 0);
    assert.match(await page.locator("#awaiting-state").innerText(), /Nothing awaits your sign-off/);
    assert.deepEqual(await page.locator("#ready-list a").allInnerTexts(), ["Content Usage & Asset Request"]);
    assert.deepEqual(await axeSerious(page, "body"), []);
    await page.close();
  });

  test("the token survives a reload (session storage) and Sign out forgets it", async () => {
    const { page } = await consolePage(server);
    await signIn(page, "vp-token");
    await page.reload();
    await waitBody(page, "ready");
    assert.match(await page.locator("#who").innerText(), /Victor VP \(VP Sales\)/);
    await page.click("#signout");
    await waitBody(page, "signed-out");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("sop-console-token")), null);
    await page.close();
  });

  test("reviews due: the overdue one flagged, soonest first", async () => {
    const { page } = await consolePage(server);
    await signIn(page, "director-token");
    await page.waitForSelector("#due-list li");
    const items = await page.locator("#due-list li").allInnerTexts();
    assert.equal(items.length, 2);
    assert.match(items[0], /Demo & Appointment Booking[\s\S]*Overdue since/);
    assert.match(items[1], /First-Touch Outreach Cadence[\s\S]*Due/);
    assert.doesNotMatch(items[1], /Overdue/);
    assert.equal(await page.locator("#due-list li.overdue").count(), 1);
    // Refresh with an SOP open reloads both the lists and the SOP.
    await page.click(`#awaiting-list a[href="#${MQL}"]`);
    await page.waitForFunction(() => document.getElementById("detail")?.dataset.state === "ready");
    const calls = server.requests.length;
    await page.click("#refresh");
    await page.waitForFunction(() => document.getElementById("detail")?.dataset.state === "ready" && document.querySelectorAll("#due-list li").length === 2);
    assert.equal(await page.locator("#awaiting-list li").count(), 1);
    assert.ok(server.requests.slice(calls).some((r) => r.includes("ListSops")));
    assert.ok(server.requests.slice(calls).some((r) => r.includes("GetSop")));
    await page.close();
  });
});

describe("a change under review", () => {
  let server;
  before(async () => {
    server = await startTestServer({});
  });
  after(async () => {
    await server?.close();
  });

  test("the Director's list has the change awaiting their role only; opening it shows who, approvals, awaiting roles, the diff and the comments", async () => {
    const { page, rec } = await consolePage(server);
    await signIn(page, "director-token");
    assert.deepEqual(await page.locator("#awaiting-list a").allInnerTexts(), ["MQL Acceptance & Handoff"]);
    assert.match(await page.locator("#awaiting-list li").innerText(), /Awaiting Marketing Director · submitted by sam\.ops@example\.com/);
    await openSop(page, MQL);
    assert.equal(await page.locator("#detail-title").innerText(), "MQL Acceptance & Handoff");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "detail-title", "focus moves to the opened SOP");
    const facts = await page.locator("#detail .facts").innerText();
    assert.match(facts, /Submitted by\s+sam\.ops@example\.com on /);
    assert.match(facts, /Revision under review\s+7/);
    assert.match(await page.locator("#approvals").innerText(), /VP Sales — victor\.vp@example\.com[\s\S]*Fine by sales\./);
    assert.deepEqual(await page.locator("#awaiting-roles li").allInnerTexts(), ["Marketing Director"]);

    // The diff, by section, each kind styled (and labelled) distinctly.
    assert.deepEqual(await page.locator(".diff-section").evaluateAll((els) => els.map((e) => e.dataset.section)), ["title", "steps", "sla_terms", "visibility_roles"]);
    assert.deepEqual(await page.locator(".diff-section h4").allInnerTexts(), ["Title (1 change)", "Steps (2 changes)", "SLA terms (1 change)", "Visibility roles (1 change)"]);
    const kinds = await page.locator(".change").evaluateAll((els) => els.map((e) => e.dataset.kind));
    assert.deepEqual(kinds, ["changed", "changed", "added", "changed", "removed"]);
    const colours = await page.locator(".change").evaluateAll((els) => els.map((e) => getComputedStyle(e).borderLeftColor));
    assert.equal(new Set(colours).size, 3, "added, removed and changed have distinct colours");
    assert.deepEqual(await page.locator(".badge").allInnerTexts(), ["CHANGED", "CHANGED", "ADDED", "CHANGED", "REMOVED"]);
    // Title: before and after; the instructions: a line diff.
    const title = page.locator('.diff-section[data-section="title"] .change');
    assert.equal(await title.locator(".value-before del").innerText(), "MQL Acceptance");
    assert.equal(await title.locator(".value-after ins").innerText(), "MQL Acceptance & Handoff");
    const lines = page.locator(".change .lines li");
    assert.deepEqual(await lines.evaluateAll((els) => els.map((e) => e.className)), ["line line-kept", "line line-removed", "line line-added", "line line-added"]);
    assert.equal(await page.locator(".lines li.line-removed del").innerText(), "2. Call within 5 minutes.");
    assert.deepEqual(await page.locator(".lines li.line-added ins").allInnerTexts(), ["2. Call within 3 minutes.", "3. Log the call."]);
    assert.match(await page.locator('.diff-section[data-section="visibility_roles"]').innerText(), /REMOVED[\s\S]*visibility_roles\[AE\][\s\S]*Before\s+AE/);

    // Comments: oldest first, as text (a <script> in one shows, and never runs).
    const comments = await page.locator("#comment-list li").allInnerTexts();
    assert.equal(comments.length, 2);
    assert.match(comments[0], /victor\.vp@example\.com on step 2[\s\S]*night shift/);
    assert.match(comments[1], /<script>window\.__xss = 1<\/script>/);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator("#detail script").count(), 0);

    assert.deepEqual(await axeSerious(page, "body"), []);
    sameOrigin(rec, server);
    await page.close();
  });

  test("keyboard: Tab reaches the change, Enter opens it, and the decision form is labelled", async () => {
    const { page } = await consolePage(server);
    await signIn(page, "director-token");
    let focused = "";
    for (let i = 0; i < 15 && focused !== MQL; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => document.activeElement?.getAttribute("href")?.slice(1) ?? "");
    }
    assert.equal(focused, MQL, "the SOP link is reachable by Tab");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.getElementById("detail")?.dataset.state === "ready");
    assert.equal(await page.locator("label[for=decision-comment]").innerText(), "Comment");
    assert.equal(await page.locator("#approve").innerText(), "Approve");
    await page.close();
  });

  test("reject without a comment: refused in the page, nothing sent", async () => {
    const { page } = await consolePage(server);
    await signIn(page, "director-token");
    await openSop(page, MQL);
    const before = server.requests.filter((r) => r.includes("RejectSop")).length;
    await page.click("#reject");
    await page.waitForSelector("#detail-error:not([hidden])");
    assert.match(await page.locator("#detail-error").innerText(), /A rejection needs a comment/);
    assert.equal(await page.getAttribute("#decision-comment", "aria-invalid"), "true");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "decision-comment");
    assert.equal(server.requests.filter((r) => r.includes("RejectSop")).length, before);
    await page.close();
  });

  test("a stale view: the change was edited after it was opened, so Approve gets the server's ABORTED, shown with a reload", async () => {
    const { page } = await consolePage(server);
    await signIn(page, "director-token");
    await openSop(page, MQL);
    const approvals = server.review.sops.get(MQL).review.approvals;
    server.review.edit("mql-acceptance-handoff");
    await page.click("#approve");
    await page.waitForSelector("#detail-error:not([hidden])");
    const text = await page.locator("#detail-error").innerText();
    assert.match(text, /Approval failed — Aborted: /);
    assert.match(text, /reload, read the current diff, and decide again/);
    await page.click("#reload");
    await page.waitForFunction(() => document.getElementById("review-revision")?.textContent === "8");
    // Put the fixture back for the next test.
    const s = server.review.sops.get(MQL);
    s.revisionId = "7";
    s.review = { ...s.review, revisionId: "7", approvals, awaitingRoles: ["MARKETING_DIRECTOR"] };
    await page.close();
  });

  test("approve: the Director signs off, the SOP re-fetched shows APPROVED with both approvals; no Publish for a non-editor", async () => {
    const { page } = await consolePage(server);
    await signIn(page, "director-token");
    await openSop(page, MQL);
    await page.fill("#decision-comment", "Marketing agrees.");
    await page.click("#approve");
    await page.waitForFunction(() => document.getElementById("detail")?.dataset.reviewState === "APPROVED");
    assert.match(await page.locator("#detail-status").innerText(), /Approved as Marketing Director/);
    const sent = server.review.sops.get(MQL).review.approvals.at(-1);
    assert.equal(sent.comment, "Marketing agrees.");
    assert.match(await page.locator("#approvals").innerText(), /VP Sales[\s\S]*Marketing Director — dora\.director@example\.com[\s\S]*Marketing agrees\./);
    assert.equal(await page.locator("#publish").count(), 0);
    assert.match(await page.locator("#no-action").innerText(), /Sales Ops or Admin/);
    await page.waitForFunction(() => document.querySelectorAll("#awaiting-list li").length === 0);
    assert.match(await page.locator("#awaiting-state").innerText(), /Nothing awaits/);
    await page.close();
  });

  test("publish: Sales Ops publishes the approved draft and the console shows it live", async () => {
    const { page } = await consolePage(server);
    await signIn(page, "ops-token");
    assert.deepEqual((await page.locator("#ready-list a").allInnerTexts()).sort(), ["Content Usage & Asset Request", "MQL Acceptance & Handoff"]);
    await openSop(page, CONTENT);
    assert.equal(await page.locator("#review-state").innerText(), "Approved — ready to publish");
    await page.click("#publish");
    await page.waitForFunction(() => document.getElementById("detail")?.dataset.sopState === "PUBLISHED" && !!document.getElementById("live-banner"));
    assert.match(await page.locator("#detail-status").innerText(), /Published: revision 4 is live/);
    assert.match(await page.locator("#live-banner").innerText(), /Live: revision 4 is published/);
    assert.equal(await page.locator("#published-revision").innerText(), "4");
    assert.equal(await page.locator("#sop-state").innerText(), "PUBLISHED");
    assert.deepEqual(await page.locator("#ready-list a").allInnerTexts(), ["MQL Acceptance & Handoff"]);
    await page.close();
  });

  test("reject with a comment: the draft goes back to DRAFT with the rejection shown", async () => {
    const s = server.review.sops.get("orgs/default/sops/pricing-discount-playbook");
    assert.equal(s.review.state, "IN_REVIEW");
    const { page } = await consolePage(server);
    await signIn(page, "vp-token");
    await openSop(page, "orgs/default/sops/pricing-discount-playbook");
    await page.fill("#decision-comment", "Discount caps are missing.");
    await page.click("#reject");
    await page.waitForFunction(() => document.getElementById("detail")?.dataset.reviewState === "DRAFT");
    assert.match(await page.locator(".rejection").innerText(), /VP Sales — victor\.vp@example\.com[\s\S]*Discount caps are missing\./);
    assert.match(await page.locator("#detail-status").innerText(), /Rejected as VP Sales/);
    await page.close();
  });
});
