// The feedback loop against a REAL sopd, in headless Chromium: the demo SDR opens the demo lead
// (the panel shows MQL Acceptance & Handoff: PANEL_SHOWN), logs the first call (FIRST_CONTACT)
// and rejects the lead with the code picker (ValidateTransition, then DISQUALIFIED and
// STATUS_CHANGED through RecordEvents); then Marketing, in the console's Analytics view, sees
// those figures within 5 s. The reports are also read by API (a MARKETING token made with the
// real sopctl), so a failure says which side is wrong.
//
// Needs, else every test is skipped with the reason (test/with-sopd.mjs sets them; ctest's
// web_analytics_e2e runs `node test/with-sopd.mjs node --test test/e2e-analytics.test.mjs`):
//   SOPD_HTTP               sopd's HTTP base URL, serving dist/ (/demo/, /console/) and
//                           /demo/tokens.json with the SDR's token
//   SOPD_ADMIN_TOKEN_FILE   a file with an admin token, for `sopctl token create`
// Optional: SOPCTL (default <repo>/build/client/cli/sopctl), SOPD_GRPC (default 127.0.0.1:50051).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { axeSerious, launchBrowser, record, waitState } from "./helpers.mjs";
import { base, call, createToken, skipUnlessSopd } from "./sopd-e2e.mjs";

const skip = skipUnlessSopd("e2e-analytics");

const SOP_ID = "mql-acceptance-handoff";
const REJECTED = "Rejected: Return to Marketing";
/** How soon a figure must reach the dashboard after the rep's action. */
const WITHIN_MS = 5000;

/** Asks `read` until it returns something truthy, for up to `ms`; the last answer in the error. */
async function within(ms, what, read) {
  const t0 = Date.now();
  let last;
  for (;;) {
    last = await read();
    if (last.ok) return last.value;
    if (Date.now() - t0 > ms) throw new Error(`${what} not within ${ms} ms; last answer: ${JSON.stringify(last.seen)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const num = (v) => Number(v ?? 0);

describe("the feedback loop on a real sopd", { skip }, () => {
  let browser;
  let demo;
  let rec;
  let marketing;
  let org;
  let sop;
  let before0;

  /** The usage row of the SOP and the code row of lead source Web, as Marketing reads them. */
  async function figures() {
    const query = { parent: org };
    const [usage, codes, sla] = await Promise.all([
      call(marketing, "AnalyticsService/GetUsageReport", { query: { ...query, groupBy: ["SOP"] } }),
      call(marketing, "AnalyticsService/GetCodeReport", { query: { ...query, groupBy: ["LEAD_SOURCE"] } }),
      call(marketing, "AnalyticsService/GetSlaReport", { query: { ...query, groupBy: ["LEAD_SOURCE"] } }),
    ]);
    const u = (usage.rows ?? []).find((r) => r.key?.values?.[0] === sop) ?? {};
    const c = (codes.rows ?? []).find((r) => r.key?.values?.[0] === "Web") ?? {};
    const s = (sla.rows ?? []).find((r) => r.key?.values?.[0] === "Web") ?? {};
    return { impressions: num(u.impressions), tooSmall: num(c.byCode?.["D-TooSmall"]), disqualified: num(c.disqualified), firstContacts: num(s.firstContacts) };
  }

  before(async () => {
    marketing = await createToken("e2e-marketing@example.com", "MARKETING", "Mia Marketing");
    org = (await call(marketing, "AdminService/WhoAmI", {})).org;
    sop = `${org}/sops/${SOP_ID}`;
    before0 = await figures();
    browser = await launchBrowser({ width: 1280, height: 1000 });
    demo = await browser.context.newPage();
    rec = record(demo);
  });
  after(async () => {
    await browser?.close();
  });

  test("the panel on the demo lead records PANEL_SHOWN", async () => {
    await demo.goto(`${base}/demo/`);
    await demo.click("#signin-sdr");
    await waitState(demo, "sop", 10_000);
    assert.equal(await demo.locator("sop-panel h2.title").innerText(), "MQL Acceptance & Handoff");
    await within(WITHIN_MS, "PANEL_SHOWN in the usage report", async () => {
      const f = await figures();
      return { ok: f.impressions >= before0.impressions + 1, value: f, seen: f };
    });
  });

  test("Log first call records FIRST_CONTACT; rejecting through the code picker records DISQUALIFIED", async () => {
    await demo.getByRole("button", { name: "Log first call" }).click();
    assert.equal(await demo.locator("#action-status").innerText(), "First call logged.");
    await demo.selectOption("#new_status", REJECTED);
    await demo.getByRole("button", { name: "Save status" }).click();
    const dialog = demo.getByRole("dialog", { name: "Choose a disqualification code" });
    await dialog.waitFor({ timeout: 10_000 });
    assert.equal(await demo.inputValue("#lead_status"), "MQL – New Handoff", "not saved while the picker is open");
    const codes = await dialog.getByRole("radio").evaluateAll((rs) => rs.map((r) => r.value));
    assert.ok(codes.includes("D-TooSmall"), `codes: ${codes}`);
    await dialog.getByText("Company too small", { exact: true }).click();
    await dialog.getByRole("button", { name: "Confirm and save" }).click();
    await demo.waitForFunction((s) => document.getElementById("lead_status").value === s, REJECTED, { timeout: 10_000 });
    assert.match(await demo.locator("#action-status").innerText(), /Saved: Rejected: Return to Marketing \(D-TooSmall — Company too small\)/);
    const f = await within(WITHIN_MS, "DISQUALIFIED and FIRST_CONTACT in the reports", async () => {
      const now = await figures();
      return { ok: now.tooSmall >= before0.tooSmall + 1 && now.firstContacts >= before0.firstContacts + 1, value: now, seen: now };
    });
    assert.ok(f.disqualified >= before0.disqualified + 1);
  });

  test("Marketing's dashboard shows those figures within 5 s", async () => {
    const page = await browser.context.newPage();
    const crec = record(page);
    await page.goto(`${base}/console/#analytics`);
    await page.waitForFunction(() => document.body.dataset.state === "signed-out");
    await page.fill("#token", marketing);
    await page.press("#token", "Enter");
    const t0 = Date.now();
    await page.waitForFunction(() => document.getElementById("analytics-view")?.dataset.state === "ready", null, { timeout: WITHIN_MS });
    await page.waitForFunction(
      ({ minImpressions, minTooSmall }) => {
        const cells = (sel) => Array.from(document.querySelectorAll(sel), (tr) => Array.from(tr.children, (c) => c.textContent));
        // Per revision in the table: the SOP's rows summed.
        const impressions = cells("#usage table.data tbody tr")
          .filter((r) => r[0] === "MQL Acceptance & Handoff")
          .reduce((n, r) => n + Number(r[2]), 0);
        const heads = Array.from(document.querySelectorAll("#codes table.data thead th"), (th) => th.textContent);
        const web = cells("#codes table.data tbody tr").find((r) => r[0] === "Web");
        const col = heads.indexOf("D-TooSmall");
        return impressions >= minImpressions && web && col > 0 && Number(web[col]) >= minTooSmall;
      },
      { minImpressions: before0.impressions + 1, minTooSmall: before0.tooSmall + 1 },
      { timeout: WITHIN_MS },
    );
    assert.ok(Date.now() - t0 < WITHIN_MS + 1000);
    assert.equal(await page.locator("#analytics-view canvas").count(), 4);
    assert.deepEqual(await axeSerious(page, "body"), []);
    const foreign = [...rec.requests, ...crec.requests].filter((u) => !u.startsWith(`${base}/`));
    assert.deepEqual(foreign, [], "no request to another origin");
    await page.close();
  });
});
