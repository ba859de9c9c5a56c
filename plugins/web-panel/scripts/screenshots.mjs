// Renders <sop-panel> in each state at 360 px (a CRM sidebar) against the Node Connect test
// server and writes docs/images/panel-<state>.png at the repository root, plus
// docs/images/demo-crm-page.png (the demo page at 1280 px) and docs/images/console-review.png
// (the review console at 1280 px), and docs/images/analytics-dashboard.png (the console's
// Analytics view at 1280 px, the test server's report fixture), and docs/images/editor.png (the
// console's SOP editor at 1400 px on the MQL handoff example, one violation showing, the
// swimlane beside it and a targeting preview of three pasted CSV records).
//
//   node scripts/screenshots.mjs [NAME...]   only these images (e.g. analytics-dashboard)
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser, leadContext, setPanel, waitState } from "../test/helpers.mjs";
import { startTestServer } from "../test/server.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const outDir = join(root, "docs/images");
mkdirSync(outDir, { recursive: true });

const ago = (s) => new Date(Date.now() - s * 1000).toISOString();
const lead = (status, extra = {}) =>
  leadContext({ lead_status: status, lead_score: 82, company_size: 240, title: "VP of Revenue Operations", lead_source: "Web", ...extra });

const shots = [
  { name: "loading", token: "slow-token", context: lead("MQL – New Handoff", { status_changed_at: ago(0) }), state: "loading" },
  { name: "sop-current-step", token: "sdr-token", context: lead("MQL – New Handoff", { status_changed_at: ago(108) }), state: "sop" },
  { name: "cadence", token: "sdr-token", context: lead("SQL – Accepted", { status_changed_at: ago(60), company_size: 40 }), state: "sop" },
  { name: "overdue", token: "sdr-token", context: lead("MQL – New Handoff", { status_changed_at: ago(342) }), state: "sop" },
  { name: "no-match", token: "sdr-token", context: leadContext({ industry: "Banking" }, "Account"), state: "no-match" },
  { name: "unauthorized", token: "expired-token", context: lead("MQL – New Handoff"), state: "unauthorized" },
  { name: "reconnecting", token: "down-token", context: lead("MQL – New Handoff"), state: "reconnecting" },
  { name: "error", token: "error-token", context: lead("MQL – New Handoff"), state: "error" },
];

const only = new Set(process.argv.slice(2));
const wanted = (name) => only.size === 0 || only.has(name);

const server = await startTestServer({});
const browser = await launchBrowser({ width: 360, height: 640 });
try {
  for (const s of shots) {
    if (!wanted(`panel-${s.name}`)) continue;
    const page = await browser.context.newPage();
    await page.emulateMedia({ reducedMotion: "reduce" });
    await page.goto(`${server.url}/fixtures/panel.html`);
    await setPanel(page, { token: s.token, context: s.context });
    await waitState(page, s.state);
    await page.waitForTimeout(300);
    const file = join(outDir, `panel-${s.name}.png`);
    await page.locator("sop-panel").screenshot({ path: file, animations: "disabled" });
    console.log(`wrote ${file.slice(root.length + 1)}`);
    await page.close();
  }
  // The demo CRM page as a whole, signed in as the demo SDR.
  if (wanted("demo-crm-page")) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ reducedMotion: "reduce" });
  await page.goto(`${server.url}/demo/`);
  await page.click("#signin-sdr");
  await waitState(page, "sop");
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(outDir, "demo-crm-page.png") });
  console.log("wrote docs/images/demo-crm-page.png");
  await page.close();
  }
  // The review console: the Marketing Director on a change awaiting their sign-off.
  if (wanted("console-review")) {
  const con = await browser.context.newPage();
  await con.setViewportSize({ width: 1280, height: 1100 });
  await con.emulateMedia({ reducedMotion: "reduce" });
  await con.goto(`${server.url}/console/`);
  await con.click("#signin-marketing-director");
  await con.click('#awaiting-list a[href="#orgs/default/sops/mql-acceptance-handoff"]');
  await con.waitForFunction(() => document.getElementById("detail")?.dataset.state === "ready" && !/Loading/.test(document.getElementById("detail").textContent));
  await con.locator("#detail-title").evaluate((el) => el.blur());
  await con.waitForTimeout(300);
  await con.screenshot({ path: join(outDir, "console-review.png"), fullPage: true });
  console.log("wrote docs/images/console-review.png");
  await con.close();
  }
  // The Analytics view as Marketing sees it: the fixture's reports, charts and tables.
  if (wanted("analytics-dashboard")) {
    const dash = await browser.context.newPage();
    await dash.setViewportSize({ width: 1280, height: 900 });
    await dash.emulateMedia({ reducedMotion: "reduce" });
    await dash.goto(`${server.url}/console/#analytics`);
    await dash.click("#signin-marketing");
    await dash.waitForFunction(() => document.getElementById("analytics-view")?.dataset.state === "ready");
    await dash.waitForTimeout(500);
    await dash.screenshot({ path: join(outDir, "analytics-dashboard.png"), fullPage: true });
    console.log("wrote docs/images/analytics-dashboard.png");
    await dash.close();
  }
  // The SOP editor on the MQL handoff example: a violation at its input, the swimlane, a preview.
  if (wanted("editor")) {
    const camel = (o) =>
      Array.isArray(o) ? o.map(camel) : o && typeof o === "object" ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), camel(v)])) : o;
    const raw = camel(server.sops.get("mql-acceptance-handoff").raw);
    for (const st of raw.steps ?? []) if (st.timeLimit?.duration === "5m") st.timeLimit.duration = "300s";
    Object.assign(server.review.sops.get("orgs/default/sops/mql-acceptance-handoff"), raw);
    const ed = await browser.context.newPage();
    await ed.setViewportSize({ width: 1400, height: 1000 });
    await ed.emulateMedia({ reducedMotion: "reduce" });
    await ed.goto(`${server.url}/console/`);
    await ed.click("#signin-sales-ops");
    await ed.waitForFunction(() => document.body.dataset.state === "ready");
    await ed.evaluate(() => (location.hash = "#/sops/mql-acceptance-handoff/edit"));
    await ed.waitForSelector("[data-path='steps[1].title']");
    await ed.fill("[data-path='steps[1].title']", "");
    await ed.waitForSelector(".violation[data-for='steps[1].title']");
    await ed.waitForSelector("#editor-swimlane[data-state='ready'] svg", { timeout: 20_000 });
    await ed.fill("#preview-input", "record_id,lead_status,lead_score\nL-1,MQL – New Handoff,82\nL-2,Open - Not Contacted,90\nL-3,Nurture,10\n");
    await ed.click("#preview-run");
    await ed.waitForSelector("#preview-table");
    await ed.locator("#editor-title").evaluate((el) => el.blur());
    await ed.evaluate(() => window.scrollTo(0, 0));
    await ed.waitForTimeout(300);
    await ed.screenshot({ path: join(outDir, "editor.png") });
    console.log("wrote docs/images/editor.png");
    await ed.close();
  }
} finally {
  await browser.close();
  await server.close();
}
