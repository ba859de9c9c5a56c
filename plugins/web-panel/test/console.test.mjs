// The review console (/console/) in real headless Chromium against the Node Connect test server
// (test/server.mjs with test/review-server.mjs's fixture): its states, the diff, the sign-offs,
// approve / reject / publish and their errors, keyboard use, axe-core, and no foreign requests.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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
    // The lists are fetched again beside the SOP: wait for them rather than race them.
    await page.waitForFunction(() => document.querySelectorAll("#ready-list a").length === 1);
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

describe("analytics dashboard", () => {
  let server;
  before(async () => {
    server = await startTestServer({});
  });
  after(async () => {
    await server?.close();
  });

  const view = (page) => page.locator("#analytics-view");
  const waitReady = (page) => page.waitForFunction(() => document.getElementById("analytics-view")?.dataset.state === "ready", null, { timeout: 5000 });
  /** A table's body rows as arrays of cell texts. */
  const rows = (page, section) =>
    page.locator(`#${section} table.data tbody tr`).evaluateAll((trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent)));
  const refreshes = (page) => page.evaluate(() => Number(document.getElementById("analytics-view").dataset.refreshes ?? 0));

  async function dashboard() {
    const { page, rec } = await consolePage(server);
    await waitBody(page, "signed-out");
    await page.click("#signin-marketing");
    await waitBody(page, "ready");
    await page.getByRole("link", { name: "Analytics" }).click();
    await waitReady(page);
    return { page, rec };
  }

  test("Marketing's view: charts and tables from the four reports, the >30 % source flagged; axe finds nothing serious", async () => {
    const calls0 = server.analytics.reportCalls.length;
    const { page, rec } = await dashboard();
    assert.equal(await page.getByRole("link", { name: "Analytics" }).getAttribute("aria-current"), "page");
    assert.equal(await page.locator("#workspace").isVisible(), false);
    assert.equal(await page.getByRole("heading", { name: "Analytics", level: 1 }).isVisible(), true);

    assert.deepEqual(await rows(page, "sla-source"), [
      ["Web", "40", "34", "85.0 %", "3 min", "7 min"],
      ["Partner Referral", "12", "11", "91.7 %", "2 min 30 s", "4 min 50 s"],
      ["Purchased List", "20", "9", "45.0 %", "9 min", "30 min"],
    ]);
    assert.deepEqual((await rows(page, "sla-week")).map((r) => [r[0], r[3]]), [["2026-11-09", "72.2 %"], ["2026-11-16", "76.9 %"], ["2026-11-23", "75.0 %"]]);
    const headers = await page.locator("#codes table.data thead th").allInnerTexts();
    assert.deepEqual(headers.slice(0, 5), ["Lead source", "Records", "Disqualified", "Rejection rate", "Above 30 %"]);
    assert.deepEqual(headers.slice(5).sort(), ["D-Budget", "D-Competitor", "D-NoResponse", "D-TooSmall", "D-WrongRole"]);
    assert.deepEqual(await page.locator("#rejection tr.flagged th").allInnerTexts(), ["Purchased List"]);
    assert.match(await page.locator("#rejection .flag-note").innerText(), /Above 30 %: Purchased List \(46\.7 %\)/);
    assert.deepEqual(await rows(page, "coverage"), [["Lead", "Nurture", "14"], ["Opportunity", "Closed Lost", "6"], ["Contact", "(none)", "3"]]);
    const usage = await rows(page, "usage");
    assert.deepEqual(usage[0], ["MQL Acceptance & Handoff", "1", "310", "120", "95", "step 2: 60; step 4: 35", "22"]);

    // Four charts, drawn (non-blank canvases), each labelled and backed by its table.
    const charts = await page.locator("#analytics-view canvas").evaluateAll((cs) =>
      cs.map((c) => {
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) painted++;
        return { label: c.getAttribute("aria-label"), role: c.getAttribute("role"), painted };
      }),
    );
    assert.equal(charts.length, 4);
    for (const c of charts) {
      assert.equal(c.role, "img");
      assert.match(c.label, /chart; the table below has the figures/);
      assert.ok(c.painted > 500, `${c.label} is drawn`);
    }

    // The requests: the caller's org, the last 30 days, each report's grouping.
    const calls = server.analytics.reportCalls.slice(calls0, calls0 + 5);
    const today = new Date().toISOString().slice(0, 10);
    const start = new Date(Date.parse(today) - 29 * 86_400_000).toISOString().slice(0, 10);
    assert.deepEqual(
      calls.map((c) => [c.method, c.query.groupBy.join("+")]).sort(),
      [["GetCodeReport", "LEAD_SOURCE"], ["GetCoverageReport", "RECORD_TYPE+STATUS"], ["GetSlaReport", "LEAD_SOURCE"], ["GetSlaReport", "WEEK"], ["GetUsageReport", "SOP+REVISION"]],
    );
    for (const c of calls) assert.deepEqual([c.query.parent, c.query.startDay, c.query.endDay, c.query.leadSources], ["orgs/default", start, today, undefined]);

    assert.deepEqual(await axeSerious(page, "body"), []);
    assert.deepEqual(rec.errors, [], "no console error (no CSP violation)");
    sameOrigin(rec, server);
    await page.close();
  });

  test("the filters change the requests: a lead source and a date range", async () => {
    const { page } = await dashboard();
    const options = await page.locator("#f-source option").allInnerTexts();
    assert.deepEqual(options, ["All lead sources", "Partner Referral", "Purchased List", "Web"]);
    await page.getByLabel("Lead source", { exact: true }).selectOption("Purchased List");
    await page.waitForFunction(() => document.querySelectorAll("#sla-source table.data tbody tr").length === 1);
    assert.deepEqual((await rows(page, "sla-source")).map((r) => r[0]), ["Purchased List"]);
    let last = server.analytics.reportCalls.at(-1).query;
    assert.deepEqual(last.leadSources, ["Purchased List"]);

    await page.getByLabel("From (UTC day)", { exact: true }).fill("2026-11-02");
    await page.getByLabel("To (UTC day)", { exact: true }).fill("2026-11-22");
    const calls = () => server.analytics.reportCalls.filter((c) => c.query.startDay === "2026-11-02" && c.query.endDay === "2026-11-22");
    for (let i = 0; i < 100 && calls().length < 5; i++) await page.waitForTimeout(50);
    assert.ok(calls().length >= 5, "every report asked for the new range");
    last = calls().at(-1).query;
    assert.deepEqual(last.leadSources, ["Purchased List"], "with the lead source still chosen");
    assert.equal(await page.getByLabel("Lead source", { exact: true }).inputValue(), "Purchased List", "the choice survives the options' refresh");

    // A start after the end is refused in the page, before anything is sent.
    await page.getByLabel("From (UTC day)", { exact: true }).fill("2026-11-30");
    await page.locator("#analytics-error").waitFor();
    assert.equal(await page.locator("#analytics-error").innerText(), "The start day is after the end day.");
    await page.close();
  });

  test("CSV export downloads exactly the table shown", async () => {
    const { page } = await dashboard();
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#rejection-csv")]);
    const today = new Date().toISOString().slice(0, 10);
    assert.match(download.suggestedFilename(), new RegExp(`^rejection-\\d{4}-\\d\\d-\\d\\d-${today}\\.csv$`));
    const csv = readFileSync(await download.path(), "utf8");
    assert.equal(
      csv,
      "Lead source,Records,Disqualified,Rejection rate,Above 30 %\r\nWeb,60,12,20.0 %,no\r\nPurchased List,30,14,46.7 %,yes\r\nPartner Referral,15,2,13.3 %,no\r\n",
    );
    const [usage] = await Promise.all([page.waitForEvent("download"), page.click("#usage-csv")]);
    const lines = readFileSync(await usage.path(), "utf8").trimEnd().split("\r\n");
    assert.equal(lines[0], "SOP,Revision,Impressions,Records,Steps completed,By step,Assets opened");
    assert.equal(lines[1], "MQL Acceptance & Handoff,1,310,120,95,step 2: 60; step 4: 35,22");
    assert.equal(lines.length, 3);
    await page.close();
  });

  test("live: it asks again every ~2 s, and new figures show without a reload", async () => {
    const { page } = await dashboard();
    const n0 = await refreshes(page);
    await page.waitForFunction((n) => Number(document.getElementById("analytics-view").dataset.refreshes) >= n + 2, n0, { timeout: 6000 });
    assert.match(await page.locator("#analytics-freshness").innerText(), /Updated \d\d:\d\d:\d\d\. Refreshed every 2 s/);
    // A rep's panel shows the MQL SOP (recorded by RecordEvents) and a new coverage gap appears.
    const res = await fetch(`${server.url}/sopsidebar.v1.AnalyticsService/RecordEvents`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer sdr-token" },
      body: JSON.stringify({
        parent: "orgs/default",
        events: [{ eventId: `live-${Date.now()}`, type: "PANEL_SHOWN", eventTime: new Date().toISOString(), sop: "orgs/default/sops/mql-acceptance-handoff", revisionId: "1", context: { recordType: "Lead", recordId: "00Q-live", fields: { lead_source: "Web" } } }],
      }),
    });
    assert.equal(res.status, 200);
    server.analytics.rows.coverage.push({ key: { values: ["Lead", "Recycled"] }, unmatchedLookups: "2" });
    const t0 = Date.now();
    await page.waitForFunction(() => {
      const usage = document.querySelector("#usage table.data tbody tr td:nth-child(3)")?.textContent;
      const coverage = Array.from(document.querySelectorAll("#coverage table.data tbody tr td:first-of-type"), (td) => td.textContent);
      return usage === "311" && coverage.includes("Recycled");
    }, null, { timeout: 5000 });
    assert.ok(Date.now() - t0 < 5000);
    // Back to Reviews: the refreshing stops.
    await page.getByRole("link", { name: "Reviews" }).click();
    await page.locator("#workspace").waitFor();
    const stopped = await refreshes(page);
    await page.waitForTimeout(2500);
    assert.equal(await refreshes(page), stopped);
    await page.close();
  });
});
