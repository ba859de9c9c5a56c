// Shared by the Chromium tests, the screenshot script and the benchmark: Debian's chromium
// driven by playwright-core (`npx playwright install` cannot download browsers here).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const require = createRequire(import.meta.url);

/** A fresh headless Chromium with its own user-data-dir; close() removes the dir. */
export async function launchBrowser({ width = 360, height = 900 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "sop-panel-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width, height },
    deviceScaleFactor: 1,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every request the page makes (URL), and every console error, for assertions. */
export function record(page) {
  const requests = [];
  const errors = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return { requests, errors };
}

/** Waits for the panel's data-state. */
export async function waitState(page, state, timeout = 5000) {
  await page.waitForFunction((s) => document.querySelector("sop-panel")?.dataset.state === s, state, { timeout });
}

/** Sets the panel's token and context (page.evaluate runs outside the page's CSP). */
export async function setPanel(page, { token, context, attrs } = {}) {
  await page.waitForFunction(() => customElements.get("sop-panel") !== undefined);
  await page.evaluate(
    ({ token, context, attrs }) => {
      const p = document.querySelector("sop-panel");
      for (const [k, v] of Object.entries(attrs ?? {})) p.setAttribute(k, v);
      if (token !== undefined) p.token = token;
      if (context !== undefined) p.context = context;
    },
    { token, context, attrs },
  );
}

export function leadContext(fields, recordType = "Lead") {
  return { recordType, recordId: "00Q5e000004TestAA1", fields };
}

/** Runs axe-core on the panel; returns violations of impact serious or critical. */
export async function axeSerious(page, selector = "sop-panel") {
  const src = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  // CSP blocks inline <script>; the DevTools protocol's evaluate is not subject to it.
  await page.evaluate(src);
  const result = await page.evaluate(async (sel) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run({ include: [[sel]] }, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
  }, selector);
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}
