// 20 loads of the demo page, timing navigation start → the SOP title in the panel (the
// panel's `sop-panel:state` event with state "sop", fired right after the title is in the
// DOM). SOPD_HTTP set: the real sopd at that base URL, signed in with SOPD_SDR_TOKEN;
// otherwise the Node Connect test server. Prints exactly one line:
//   panel loads=20 first_sop_p50_ms=<n> first_sop_p99_ms=<n>
// With --phases, then where the time goes: the median time from navigation start of each
// milestone of the same loads: the HTML's response end, the panel's and the demo page's User
// Timing marks (sop-panel:defined, demo:init, sop-panel:watch-open,
// sop-panel:watch-first-message, sop-panel:sop-shown), the demo's DOMContentLoaded, and the
// fetch start and response end of every subresource (marked "cache" when served from the HTTP
// cache).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "../test/helpers.mjs";
import { startTestServer } from "../test/server.mjs";

const LOADS = 20;
const phases = process.argv.includes("--phases");
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
if (!existsSync(join(root, "dist/panel/sop-panel.js")) || !existsSync(join(root, "dist/demo/index.html"))) {
  execFileSync("npm", ["run", "-s", "build"], { cwd: root, stdio: "ignore" });
}

let server;
let base = process.env.SOPD_HTTP?.replace(/\/+$/, "");
let token = process.env.SOPD_SDR_TOKEN;
if (!base) {
  server = await startTestServer({});
  base = server.url;
  token = "sdr-token";
}
if (!token) {
  console.error("bench:panel: SOPD_HTTP is set but SOPD_SDR_TOKEN is not");
  process.exit(2);
}

const browser = await launchBrowser({ width: 1280, height: 900 });
const rows = []; // one per load: milestone → ms from navigation start
try {
  await browser.context.addInitScript((t) => {
    sessionStorage.setItem("sop-demo-token", t);
    sessionStorage.setItem("sop-demo-role", "SDR");
    // Resolved by the event itself, so the benchmark waits with one evaluate per load rather
    // than polling the page (every poll is script the page's main thread runs mid-load).
    window.__firstSop = new Promise((resolve, reject) => {
      document.addEventListener(
        "sop-panel:state",
        (e) => {
          if (e.detail?.state === "sop" && window.__firstSopMs === undefined) {
            window.__firstSopMs = performance.now();
            resolve();
          }
        },
        true,
      );
      setTimeout(() => reject(new Error("no SOP shown within 10 s")), 10_000);
    });
    document.addEventListener("DOMContentLoaded", () => performance.mark("DOMContentLoaded"));
  }, token);
  const page = await browser.context.newPage();
  for (let i = 0; i < LOADS + 1; i++) {
    await page.goto(`${base}/demo/`, { waitUntil: "commit" });
    await page.evaluate(() => window.__firstSop);
    const row = await page.evaluate(() => {
      const o = { "html response end": performance.getEntriesByType("navigation")[0].responseEnd };
      for (const e of performance.getEntriesByType("resource")) {
        const file = e.name.replace(/^.*\//, "");
        o[`${file} fetch start`] = e.fetchStart;
        o[`${file} response end (${e.transferSize ? "network" : "cache"})`] = e.responseEnd;
      }
      for (const m of performance.getEntriesByType("mark")) if (!(m.name in o)) o[m.name] = m.startTime;
      o["SOP title shown"] = window.__firstSopMs;
      return o;
    });
    if (i > 0) rows.push(row); // the first load warms the HTTP cache and the server
  }
} finally {
  await browser.close();
  await server?.close();
}

const samples = rows.map((r) => r["SOP title shown"]).sort((a, b) => a - b);
const rank = (p) => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)];
console.log(`panel loads=${samples.length} first_sop_p50_ms=${Math.round(rank(50))} first_sop_p99_ms=${Math.round(rank(99))}`);

if (phases) {
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
}
