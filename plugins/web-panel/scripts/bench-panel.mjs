// 20 loads of the demo page, timing navigation start → the SOP title in the panel (the
// panel's `sop-panel:state` event with state "sop", fired right after the title is in the
// DOM). SOPD_HTTP set: the real sopd at that base URL, signed in with SOPD_SDR_TOKEN;
// otherwise the Node Connect test server. Prints exactly one line:
//   panel loads=20 first_sop_p50_ms=<n> first_sop_p99_ms=<n>
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "../test/helpers.mjs";
import { startTestServer } from "../test/server.mjs";

const LOADS = 20;
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
const samples = [];
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
  }, token);
  const page = await browser.context.newPage();
  for (let i = 0; i < LOADS + 1; i++) {
    await page.goto(`${base}/demo/`, { waitUntil: "commit" });
    await page.waitForFunction(() => window.__firstSopMs !== undefined, null, { timeout: 10_000, polling: 50 });
    const ms = await page.evaluate(() => window.__firstSopMs);
    if (i > 0) samples.push(ms); // the first load warms the HTTP cache and the server
  }
} finally {
  await browser.close();
  await server?.close();
}
samples.sort((a, b) => a - b);
const rank = (p) => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)];
console.log(`panel loads=${samples.length} first_sop_p50_ms=${Math.round(rank(50))} first_sop_p99_ms=${Math.round(rank(99))}`);
