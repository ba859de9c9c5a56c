// Where the time goes between navigation start and the SOP title (bench-panel.mjs's figure):
// 20 loads of the demo page (after one warm-up) in one browser context, as bench-panel.mjs,
// printing the median time from navigation start of each milestone: the HTML's response end,
// the panel's and the demo page's User Timing marks (sop-panel:defined, demo:init,
// sop-panel:watch-open, sop-panel:watch-first-message, sop-panel:sop-shown), the demo's
// DOMContentLoaded and its /demo/tokens.json response end. SOPD_HTTP / SOPD_SDR_TOKEN as in
// bench-panel.mjs (else the Node Connect test server). Needs a built dist/.
import { launchBrowser } from "../test/helpers.mjs";
import { startTestServer } from "../test/server.mjs";

const LOADS = 20;
let server;
let base = process.env.SOPD_HTTP?.replace(/\/+$/, "");
let token = process.env.SOPD_SDR_TOKEN;
if (!base) {
  server = await startTestServer({});
  base = server.url;
  token = "sdr-token";
}
const browser = await launchBrowser({ width: 1280, height: 900 });
const rows = [];
try {
  await browser.context.addInitScript((t) => {
    sessionStorage.setItem("sop-demo-token", t);
    sessionStorage.setItem("sop-demo-role", "SDR");
    document.addEventListener(
      "sop-panel:state",
      (e) => {
        if (e.detail?.state === "sop" && window.__firstSopMs === undefined) window.__firstSopMs = performance.now();
      },
      true,
    );
    document.addEventListener("DOMContentLoaded", () => performance.mark("DOMContentLoaded"));
  }, token);
  const page = await browser.context.newPage();
  for (let i = 0; i < LOADS + 1; i++) {
    await page.goto(`${base}/demo/`, { waitUntil: "commit" });
    await page.waitForFunction(() => window.__firstSopMs !== undefined, null, { timeout: 10_000, polling: 50 });
    const row = await page.evaluate(() => {
      const o = { "html response end": performance.getEntriesByType("navigation")[0].responseEnd };
      for (const e of performance.getEntriesByType("resource")) if (e.name.endsWith("/demo/tokens.json")) o["tokens.json response end"] = e.responseEnd;
      for (const m of performance.getEntriesByType("mark")) if (!(m.name in o)) o[m.name] = m.startTime;
      o["SOP title (bench-panel's figure)"] = window.__firstSopMs;
      return o;
    });
    if (i > 0) rows.push(row);
  }
} finally {
  await browser.close();
  await server?.close();
}
const median = (xs) => {
  const s = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};
const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
const lines = keys.map((k) => [k, median(rows.map((r) => r[k]))]).sort((a, b) => a[1] - b[1]);
console.log(`panel phases, median ms from navigation start over ${rows.length} loads:`);
let prev = 0;
for (const [k, v] of lines) {
  console.log(`${v.toFixed(1).padStart(8)}  (+${(v - prev).toFixed(1).padStart(6)})  ${k}`);
  prev = v;
}
