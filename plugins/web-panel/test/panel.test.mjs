// <sop-panel> in real headless Chromium against the Node Connect test server (test/server.mjs).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { axeSerious, launchBrowser, leadContext, record, setPanel, waitState } from "./helpers.mjs";
import { startTestServer } from "./server.mjs";

let server;
let browser;

const MQL = "MQL – New Handoff";
const SQL = "SQL – Accepted";
const minutesAgo = (m) => new Date(Date.now() - m * 60_000).toISOString();
const mqlFields = (changedAt = new Date().toISOString()) => ({
  lead_status: MQL,
  lead_score: 82,
  company_size: 240,
  title: "VP of Revenue Operations",
  lead_source: "Web",
  status_changed_at: changedAt,
});

before(async () => {
  server = await startTestServer({ heartbeatMs: 2000 });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function fixturePage() {
  const page = await browser.context.newPage();
  const rec = record(page);
  await page.goto(`${server.url}/fixtures/panel.html`);
  return { page, rec };
}

function sameOrigin(rec) {
  const foreign = rec.requests.filter((u) => !u.startsWith(`${server.url}/`));
  assert.deepEqual(foreign, [], "the page requested another origin");
}

describe("states", () => {
  test("waiting: no context yet shows a message, not a blank panel", async () => {
    const { page } = await fixturePage();
    await waitState(page, "waiting");
    assert.match(await page.locator("sop-panel .state").innerText(), /No record open/);
    await page.close();
  });

  test("loading: a skeleton with a status for screen readers", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "slow-token", context: leadContext(mqlFields()) });
    await waitState(page, "loading");
    assert.equal(await page.locator("sop-panel .skeleton").count(), 4);
    assert.match(await page.locator("sop-panel [role=status]").first().innerText(), /Finding the procedure/);
    await page.close();
  });

  test("no match: a record no SOP targets", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext({ industry: "Banking" }, "Account") });
    await waitState(page, "no-match");
    assert.match(await page.locator("sop-panel .state").innerText(), /No procedure for this record/);
    await page.close();
  });

  test("unauthorized: an expired token", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "expired-token", context: leadContext(mqlFields()) });
    await waitState(page, "unauthorized");
    const text = await page.locator("sop-panel .state").innerText();
    assert.match(text, /Not signed in/);
    assert.match(text, /token expired or revoked/);
    await page.close();
  });

  test("unauthorized: no token at all", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { context: leadContext(mqlFields()) });
    await waitState(page, "unauthorized");
    assert.match(await page.locator("sop-panel .state").innerText(), /missing bearer token/);
    await page.close();
  });

  test("reconnecting: the server is unavailable, the panel retries with backoff", async () => {
    const { page, rec } = await fixturePage();
    await setPanel(page, { token: "down-token", context: leadContext(mqlFields()) });
    await waitState(page, "reconnecting");
    assert.match(await page.locator("sop-panel .state").innerText(), /Can't reach the SOP server/);
    await page.waitForTimeout(2500);
    const attempts = rec.requests.filter((u) => u.endsWith("/WatchSops")).length;
    assert.ok(attempts >= 2 && attempts <= 5, `expected a few attempts with backoff, saw ${attempts}`);
    await page.close();
  });

  test("error: a server error shows its message", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "error-token", context: leadContext(mqlFields()) });
    await waitState(page, "error");
    const text = await page.locator("sop-panel .state").innerText();
    assert.match(text, /Couldn't load procedures/);
    assert.match(text, /rocksdb: IO error/);
    await page.close();
  });

  for (const [name, context] of [
    ["not an object", "Lead 00Q123"],
    ["an empty record type", { recordType: " ", fields: { lead_status: MQL } }],
    ["a nested object field", { recordType: "Lead", fields: { lead_status: { value: MQL } } }],
    ["fields as a list", { recordType: "Lead", fields: [MQL] }],
  ]) {
    test(`malformed context (${name}) shows an error state`, async () => {
      const { page, rec } = await fixturePage();
      await setPanel(page, { token: "sdr-token", context });
      await waitState(page, "malformed");
      assert.match(await page.locator("sop-panel .state").innerText(), /Can't read this record/);
      assert.equal(rec.requests.filter((u) => u.includes("/sopsidebar.v1.")).length, 0, "a malformed context is never sent");
      await page.close();
    });
  }
});

describe("procedures", () => {
  test("MQL – New Handoff: MQL Acceptance & Handoff, the 5-minute step current, a ticking countdown", async () => {
    const { page, rec } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    assert.equal(await page.locator("sop-panel h2.title").innerText(), "MQL Acceptance & Handoff");
    const current = page.locator("sop-panel .step-current");
    assert.match(await current.locator(".step-title").innerText(), /check acceptance criteria within 5 minutes/);
    assert.match(await current.locator(".step-label").textContent(), /Current step · 2 of 4/);
    assert.match(await current.innerText(), /SDR/);
    assert.match(await current.locator(".updates").innerText(), /lead_status/);
    const t1 = await page.locator("sop-panel .sla-time").innerText();
    assert.match(t1, /^[45]:\d\d left$/);
    await page.waitForTimeout(1300);
    const t2 = await page.locator("sop-panel .sla-time").innerText();
    assert.notEqual(t1, t2, "the countdown ticks");
    assert.equal(await page.locator("sop-panel .sla.overdue").count(), 0);
    // The timer itself is not a live region; a separate polite region speaks per minute.
    assert.equal(await page.locator("sop-panel .sla-time").getAttribute("aria-live"), "off");
    assert.equal(await page.locator("sop-panel [aria-current=step]").count(), 1);
    // Why this SOP (collapsed) and the other matching SOPs.
    assert.equal(await page.locator("sop-panel details.why").getAttribute("open"), null);
    assert.match(await page.locator("sop-panel details.why").textContent(), /lead_status = “MQL – New Handoff”/);
    assert.match(await page.locator("sop-panel details.others summary").innerText(), /Other matching SOPs \(1\)/);
    sameOrigin(rec);
    await page.close();
  });

  test("a breached step turns red and says overdue", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext(mqlFields(minutesAgo(5.7))) });
    await waitState(page, "sop");
    await page.waitForSelector("sop-panel .sla.overdue");
    assert.match(await page.locator("sop-panel .sla-time").innerText(), /^overdue by 0:[34]\d$/);
    assert.equal(await page.locator("sop-panel .step-current.breached").count(), 1);
    await page.close();
  });

  test("the reject step shows the disqualification-code picker", async () => {
    const { page } = await fixturePage();
    // Step 4 (Reject, which requires a disqualification code) has no conditions and follows
    // step 3 (Accept, none either): publish a version where steps 2 and 3 never hold.
    await setPanel(page, { token: "sdr-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    server.publish("mql-acceptance-handoff", (sop) => {
      sop.steps[1].conditions = [{ field: "lead_status", equals: "never" }];
      sop.steps[2].conditions = [{ field: "lead_status", equals: "never" }];
    });
    try {
      await page.waitForSelector("sop-panel .dq select", { timeout: 3000 });
      const options = await page.locator("sop-panel .dq option").allInnerTexts();
      assert.ok(options.includes("D-TooSmall — Company too small"), options.join("|"));
      await page.locator("sop-panel .dq select").selectOption("D-WrongRole");
      assert.match(await page.locator("sop-panel .dq-desc").innerText(), /Below VP level/);
    } finally {
      server.publish("mql-acceptance-handoff", (sop) => {
        delete sop.steps[1].conditions;
        delete sop.steps[2].conditions;
        sop.steps[1].conditions = [{ field: "lead_status", equals: MQL }];
      });
      await page.close();
    }
  });

  test("a publish reaches the open panel within a second", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    const original = server.sops.get("mql-acceptance-handoff").raw.title;
    const t0 = Date.now();
    server.publish("mql-acceptance-handoff", (sop) => {
      sop.title = "MQL Acceptance & Handoff (v2)";
    });
    try {
      await page.waitForFunction(
        () => document.querySelector("sop-panel").shadowRoot.querySelector("h2.title")?.textContent === "MQL Acceptance & Handoff (v2)",
        null,
        { timeout: 1000 },
      );
      assert.ok(Date.now() - t0 < 1000);
    } finally {
      server.publish("mql-acceptance-handoff", (sop) => {
        sop.title = original;
      });
      await page.close();
    }
  });

  test("an SOP whose owner review is overdue carries a stale badge with the due date", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    assert.equal(await page.locator("sop-panel .stale-badge").count(), 0);
    server.setNextReview("mql-acceptance-handoff", Date.parse("2026-01-15T09:00:00Z"));
    try {
      const badge = page.locator("sop-panel .stale-badge");
      await badge.waitFor({ timeout: 2000 });
      assert.equal(await badge.getAttribute("role"), "note");
      assert.equal(await badge.innerText(), "Review overdue since 2026-01-15: this procedure may be out of date");
      // Reviewed: due in the future again, the badge goes.
      server.setNextReview("mql-acceptance-handoff", Date.now() + 30 * 86_400_000);
      await badge.waitFor({ state: "detached", timeout: 2000 });
    } finally {
      server.setNextReview("mql-acceptance-handoff", undefined);
      await page.close();
    }
  });

  test("a dropped stream reconnects by itself", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "drop-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    await waitState(page, "reconnecting");
    // The last result stays on screen under a banner while reconnecting.
    assert.match(await page.locator("sop-panel .banner").innerText(), /reconnecting/i);
    assert.equal(await page.locator("sop-panel h2.title").innerText(), "MQL Acceptance & Handoff");
    await waitState(page, "sop", 5000);
    await page.close();
  });

  for (const width of [320, 400]) {
    test(`fits a ${width} px sidebar without horizontal scrolling`, async () => {
      const { page } = await fixturePage();
      await page.setViewportSize({ width, height: 800 });
      await page.evaluate((w) => (document.body.style.width = `${w}px`), width);
      for (const fields of [mqlFields(), { lead_status: SQL, company_size: 240, status_changed_at: new Date().toISOString() }]) {
        await setPanel(page, { token: "sdr-token", context: leadContext(fields) });
        await waitState(page, "sop");
        await page.waitForTimeout(400);
        const overflow = await page.evaluate(() => {
          const host = document.querySelector("sop-panel");
          const right = host.getBoundingClientRect().right + 0.5;
          return Array.from(host.shadowRoot.querySelectorAll("*"))
            .filter((el) => el.getBoundingClientRect().right > right && !el.closest("table.md, .md table"))
            .map((el) => el.tagName);
        });
        assert.deepEqual(overflow, []);
      }
      await page.close();
    });
  }

  test("a field change on the same record keeps the SOP on screen (no loading flash); a new token clears it", async () => {
    const { page, rec } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    await page.evaluate(() => {
      window.__states = [];
      document.addEventListener("sop-panel:state", (e) => window.__states.push(e.detail.state));
    });
    const before = rec.requests.filter((u) => u.endsWith("/WatchSops")).length;
    for (const score of [83, 84, 85]) await setPanel(page, { context: leadContext({ ...mqlFields(), lead_score: score }) });
    await page.waitForTimeout(900);
    assert.equal(rec.requests.filter((u) => u.endsWith("/WatchSops")).length - before, 1, "debounced into one new watch");
    assert.deepEqual(await page.evaluate(() => window.__states), []);
    await setPanel(page, { token: "ae-token" });
    await waitState(page, "sop");
    assert.deepEqual(await page.evaluate(() => window.__states), ["loading", "sop"]);
    await page.close();
  });

  test("properties set before the element is defined still apply", async () => {
    const page = await browser.context.newPage();
    await page.addInitScript((ctx) => {
      document.addEventListener("readystatechange", () => {
        // "interactive" comes before deferred scripts run, so sop-panel is not defined yet.
        if (document.readyState !== "interactive") return;
        const p = document.querySelector("sop-panel");
        window.__definedEarly = customElements.get("sop-panel") !== undefined;
        p.token = "sdr-token";
        p.context = ctx;
      });
    }, leadContext(mqlFields()));
    await page.goto(`${server.url}/fixtures/panel.html`);
    await waitState(page, "sop");
    assert.equal(await page.evaluate(() => window.__definedEarly), false);
    assert.equal(await page.locator("sop-panel h2.title").innerText(), "MQL Acceptance & Handoff");
    await page.close();
  });

  test("a server without WatchSops is polled with LookupSops", async () => {
    const { page, rec } = await fixturePage();
    await setPanel(page, { token: "nowatch-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    assert.equal(await page.locator("sop-panel h2.title").innerText(), "MQL Acceptance & Handoff");
    assert.ok(rec.requests.some((u) => u.endsWith("/LookupSops")));
    await page.close();
  });

  test("a stream that ends with `reconnect` (sopd draining) is re-opened at once, without a reconnecting flash", async () => {
    const { page, rec } = await fixturePage();
    await page.evaluate(() => {
      window.__states = [];
      document.addEventListener("sop-panel:state", (e) => window.__states.push(e.detail.state));
    });
    await setPanel(page, { token: "shutdown-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    // The first stream ends 300 ms in; the new one is open well before the backoff would allow.
    await page.waitForTimeout(1500);
    const watches = rec.requests.filter((u) => u.endsWith("/WatchSops")).length;
    assert.equal(watches, 2, `expected one re-opened watch, saw ${watches} watch(es)`);
    assert.deepEqual(await page.evaluate(() => window.__states), ["loading", "sop"]);
    assert.equal(await page.locator("sop-panel h2.title").innerText(), "MQL Acceptance & Handoff");
    await page.close();
  });

  test("a stream that ends after a while is re-opened at once, without a reconnecting flash", async () => {
    const { page, rec } = await fixturePage();
    await page.evaluate(() => {
      window.__states = [];
      document.addEventListener("sop-panel:state", (e) => window.__states.push(e.detail.state));
    });
    await setPanel(page, { token: "resume-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    await page.waitForTimeout(6000);
    const watches = rec.requests.filter((u) => u.endsWith("/WatchSops")).length;
    assert.ok(watches >= 2, `expected the stream to be re-opened, saw ${watches} watch(es)`);
    assert.deepEqual(await page.evaluate(() => window.__states), ["loading", "sop"]);
    await page.close();
  });

  test("keyboard: Tab reaches 'Why this SOP' and Enter opens it", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    const summary = page.locator("sop-panel details.why > summary");
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      if (await summary.evaluate((el) => el.matches(":focus"))) break;
    }
    assert.ok(await summary.evaluate((el) => el.matches(":focus")), "summary reachable by Tab");
    await page.keyboard.press("Enter");
    assert.notEqual(await page.locator("sop-panel details.why").getAttribute("open"), null);
    await page.close();
  });

  test("hostile SOP Markdown renders inert", async () => {
    const { page, rec } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext({ lead_status: "XSS Test" }) });
    await waitState(page, "sop");
    assert.equal(await page.locator("sop-panel h2.title").innerText(), "Injected Instructions Test");
    // Open every collapsed part so everything is rendered and visible.
    await page.evaluate(() => document.querySelector("sop-panel").shadowRoot.querySelectorAll("details").forEach((d) => (d.open = true)));
    await page.waitForTimeout(500);
    const report = await page.evaluate(() => {
      const root = document.querySelector("sop-panel").shadowRoot;
      // The Swimlane section holds the diagram the panel draws itself (an SVG
      // from sopd's escaped Mermaid text, drawn with securityLevel "strict"):
      // its SVG and styles are ours, so only scripts and handlers are checked
      // there; everything else must hold no active element at all.
      const inLane = (el) => el.closest(".swimlane") !== null;
      const everything = Array.from(root.querySelectorAll("*"));
      const all = everything.filter((el) => !inLane(el));
      const hasHandler = (el) => Array.from(el.attributes).some((a) => /^on/i.test(a.name));
      return {
        scripts: root.querySelectorAll("script").length,
        iframes: Array.from(root.querySelectorAll("iframe, object, embed, svg, form, img, style")).filter((el) => !inLane(el)).length,
        handlers: everything.filter(hasHandler).length,
        styleAttrs: all.filter((el) => el.hasAttribute("style")).length,
        badHrefs: Array.from(root.querySelectorAll("[href]")).map((a) => a.getAttribute("href")).filter((h) => !/^(https?:|mailto:|tel:)/i.test(h)),
        links: Array.from(root.querySelectorAll("a[href]")).map((a) => [a.getAttribute("href"), a.getAttribute("target"), a.getAttribute("rel")]),
        flag: window.__xss,
        text: root.querySelector(".step-current").textContent,
      };
    });
    assert.equal(report.scripts, 0);
    assert.equal(report.iframes, 0);
    assert.equal(report.handlers, 0);
    assert.equal(report.styleAttrs, 0);
    assert.deepEqual(report.badHrefs, []);
    assert.ok(report.links.length >= 2);
    for (const [, target, rel] of report.links) {
      assert.equal(target, "_blank");
      assert.equal(rel, "noopener noreferrer");
    }
    assert.equal(report.flag, undefined, "a payload ran");
    // Raw HTML is shown as text, so the author sees what they wrote.
    assert.match(report.text, /<script>window.__xss = 1<\/script>/);
    // Hover and click what is there; nothing may run.
    for (const el of await page.locator("sop-panel .md a, sop-panel .md div").all()) await el.hover().catch(() => {});
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    // The tracker image in the Markdown was never requested.
    assert.ok(!rec.requests.some((u) => u.includes("tracker.example.net")));
    sameOrigin(rec);
    await page.close();
  });

  test("AE-only pricing playbook: hidden from the SDR, shown to the AE", async () => {
    const opp = leadContext({ stage_name: "Proposal/Price Quote", stage_changed_at: new Date().toISOString() }, "Opportunity");
    const { page } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: opp });
    await waitState(page, "no-match");
    await setPanel(page, { token: "ae-token" });
    await waitState(page, "sop");
    assert.equal(await page.locator("sop-panel h2.title").innerText(), "Pricing & Discount Playbook");
    await page.close();
  });

  test("postMessage from an allowed origin sets the context; other origins are ignored", async () => {
    // The host page is on localhost, the panel's frame on 127.0.0.1: two origins.
    const port = new URL(server.url).port;
    const host = `http://localhost:${port}`;
    const page = await browser.context.newPage();
    await page.goto(`${host}/fixtures/host.html`);
    await page.evaluate((src) => {
      const f = document.createElement("iframe");
      f.src = src;
      f.width = "360";
      f.height = "600";
      f.title = "SOP panel";
      document.body.append(f);
    }, `${server.url}/fixtures/panel.html`);
    const frame = await (await page.waitForSelector("iframe")).contentFrame();
    await frame.waitForFunction(() => customElements.get("sop-panel") !== undefined);
    await frame.evaluate((origin) => document.querySelector("sop-panel").setAttribute("allowed-origins", `https://crm.example.com ${origin}`), host);
    const post = (ctx) =>
      page.evaluate(
        ([c, target]) => document.querySelector("iframe").contentWindow.postMessage({ type: "sop-panel:context", context: c, token: "sdr-token" }, target),
        [ctx, server.url],
      );
    await post(leadContext(mqlFields()));
    await frame.waitForFunction(() => document.querySelector("sop-panel").dataset.state === "sop");
    // Now the host's origin is no longer allowed: its message changes nothing.
    await frame.evaluate(() => document.querySelector("sop-panel").setAttribute("allowed-origins", "https://crm.example.com"));
    await post(leadContext({ industry: "x" }, "Account"));
    await page.waitForTimeout(600);
    assert.equal(await frame.evaluate(() => document.querySelector("sop-panel").dataset.state), "sop");
    await page.close();
  });
});

describe("demo page", () => {
  test("demo: sign in as SDR, MQL → SQL – Accepted shows the cadence with Day 1, no reload, same origin only", async () => {
    const page = await browser.context.newPage();
    const rec = record(page);
    await page.goto(`${server.url}/demo/`);
    await page.click("#signin-sdr");
    await waitState(page, "sop");
    assert.equal(await page.locator("sop-panel h2.title").innerText(), "MQL Acceptance & Handoff");
    assert.match(await page.locator("sop-panel .sla-time").innerText(), /^[45]:\d\d left$/);
    await page.evaluate(() => (window.__noReload = true));
    await page.selectOption("#lead_status", SQL);
    await page.waitForFunction(
      () => document.querySelector("sop-panel").shadowRoot.querySelector("h2.title")?.textContent === "First-Touch Outreach Cadence (Inbound MQL)",
    );
    const today = page.locator("sop-panel table.cadence tr.today");
    assert.equal(await today.count(), 2, "both Day 1 touches are highlighted");
    assert.match(await today.first().innerText(), /Day 1/);
    assert.equal(await today.first().getAttribute("aria-current"), "date");
    assert.equal(await page.evaluate(() => window.__noReload), true, "no reload");
    // The token survives a reload through sessionStorage.
    await page.reload();
    await waitState(page, "sop");
    assert.deepEqual(rec.errors.filter((e) => /Content Security Policy/i.test(e)), [], "no CSP violation");
    sameOrigin(rec);
    await page.close();
  });

  test("axe-core: no serious or critical violation in the panel, in every state", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    await page.evaluate(() => document.querySelector("sop-panel").shadowRoot.querySelectorAll("details").forEach((d) => (d.open = true)));
    assert.deepEqual(await axeSerious(page), []);
    await setPanel(page, { context: leadContext({ lead_status: SQL, company_size: 240, status_changed_at: new Date().toISOString() }) });
    await page.waitForSelector("sop-panel table.cadence");
    assert.deepEqual(await axeSerious(page), []);
    for (const [token, state, context] of [
      ["error-token", "error"],
      ["expired-token", "unauthorized"],
      ["down-token", "reconnecting"],
      ["slow-token", "loading"],
      ["sdr-token", "no-match", leadContext({}, "Account")],
      ["sdr-token", "malformed", { fields: 7 }],
    ]) {
      await setPanel(page, { token, context: context ?? leadContext(mqlFields()) });
      await waitState(page, state);
      assert.deepEqual(await axeSerious(page), [], `state ${state}`);
    }
    await page.close();
  });

  test("axe-core: the demo page as a whole", async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.url}/demo/`);
    await page.click("#signin-sdr");
    await waitState(page, "sop");
    assert.deepEqual(await axeSerious(page, "body"), []);
    await page.close();
  });
});

// ---- the feedback loop: events, the code picker, search ------------------------------------

const MQL_SOP = "orgs/default/sops/mql-acceptance-handoff";
const REJECTED = "Rejected: Return to Marketing";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let recordSeq = 0;
/** A lead with a record id of its own, so a test finds its own events among all received. */
const ownLead = (fields) => ({ recordType: "Lead", recordId: `00Q-analytics-${Date.now()}-${++recordSeq}`, fields });

/** Polls the server side (Node) until `fn` returns something truthy. */
async function eventually(fn, what, timeout = 6000) {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const eventsOf = (recordId) => server.analytics.received().filter((e) => e.context?.recordId === recordId);
const batchesOf = (recordId) => server.analytics.batches.filter((b) => b.events.some((e) => e.context?.recordId === recordId));

describe("analytics events", () => {
  test("PANEL_SHOWN once per SOP shown, with the sop, revision_id and context; a re-render or a field edit sends none", async () => {
    const { page, rec } = await fixturePage();
    const ctx = ownLead(mqlFields());
    await setPanel(page, { token: "sdr-token", context: ctx });
    await waitState(page, "sop");
    const [shown] = await eventually(() => eventsOf(ctx.recordId).length > 0 && eventsOf(ctx.recordId), "PANEL_SHOWN");
    assert.equal(shown.type, "PANEL_SHOWN");
    assert.match(shown.eventId, UUID);
    assert.equal(shown.sop, MQL_SOP);
    assert.equal(shown.revisionId, String(server.sops.get("mql-acceptance-handoff").revision));
    assert.equal(shown.context.recordType, "Lead");
    assert.equal(shown.context.fields.lead_status, MQL);
    assert.equal(shown.context.fields.lead_source, "Web");
    assert.ok(Math.abs(Date.parse(shown.eventTime) - Date.now()) < 10_000);
    const [batch] = batchesOf(ctx.recordId);
    assert.equal(batch.parent, "orgs/default");
    assert.equal(batch.token, "sdr-token");

    // The same SOP again (a field edit re-opens the watch; the panel re-renders): nothing new.
    await setPanel(page, { context: { ...ctx, fields: { ...ctx.fields, lead_score: 90 } } });
    await page.waitForTimeout(2600);
    assert.equal(eventsOf(ctx.recordId).length, 1);
    // Another SOP on the same record: its own PANEL_SHOWN.
    await setPanel(page, { context: { ...ctx, fields: { ...ctx.fields, lead_status: SQL } } });
    const second = await eventually(() => eventsOf(ctx.recordId)[1], "the second PANEL_SHOWN");
    assert.equal(second.type, "PANEL_SHOWN");
    assert.equal(second.sop, "orgs/default/sops/first-touch-outreach-cadence");
    assert.notEqual(second.eventId, shown.eventId);
    assert.deepEqual(rec.errors, []);
    sameOrigin(rec);
    await page.close();
  });

  test("batched: a step marked done and an asset opened go in one call with PANEL_SHOWN; 20 waiting go at once", async () => {
    const { page } = await fixturePage();
    const ctx = ownLead(mqlFields());
    await setPanel(page, { token: "sdr-token", context: ctx });
    await waitState(page, "sop");
    await page.getByRole("button", { name: /Mark step 2 done/ }).click();
    const done = page.getByRole("button", { name: /^Step 2 done/ });
    assert.equal(await done.getAttribute("aria-pressed"), "true");
    assert.equal(await done.innerText(), "✓ Done");
    // The asset opens in a new tab: keep the test on this origin, the panel's listener still runs.
    await page.evaluate(() => {
      const a = document.querySelector("sop-panel").shadowRoot.querySelector(".step-current ul.assets a");
      a.addEventListener("click", (e) => e.preventDefault());
      a.click();
    });
    await eventually(() => eventsOf(ctx.recordId).length >= 3, "three events");
    const batches = batchesOf(ctx.recordId);
    assert.equal(batches.length, 1, "one RecordEvents call");
    const byType = Object.fromEntries(batches[0].events.map((e) => [e.type, e]));
    assert.deepEqual(Object.keys(byType).sort(), ["ASSET_OPENED", "PANEL_SHOWN", "STEP_COMPLETED"]);
    assert.equal(byType.STEP_COMPLETED.stepOrdinal, 2);
    assert.equal(byType.ASSET_OPENED.assetId, "acceptance-checklist");
    assert.equal(new Set(batches[0].events.map((e) => e.eventId)).size, 3);

    // 25 first contacts: 20 go without waiting for the 2 s timer, then the other 5.
    const t0 = Date.now();
    await page.evaluate(() => {
      for (let i = 0; i < 25; i++) document.querySelector("sop-panel").recordFirstContact();
    });
    await eventually(() => eventsOf(ctx.recordId).filter((e) => e.type === "FIRST_CONTACT").length >= 20, "20 first contacts");
    assert.ok(Date.now() - t0 < 1500, `the full batch went at once (${Date.now() - t0} ms)`);
    const calls = batchesOf(ctx.recordId).slice(1);
    assert.equal(calls[0].events.length, 20);
    await eventually(() => eventsOf(ctx.recordId).filter((e) => e.type === "FIRST_CONTACT").length === 25, "the other 5");
    assert.ok(batchesOf(ctx.recordId).every((b) => b.events.length <= 20));
    await page.close();
  });

  test("a failed RecordEvents is retried with the same event ids, recorded once, and nothing shows to the rep", async () => {
    const { page, rec } = await fixturePage();
    server.analytics.failNext = 1;
    const ctx = ownLead(mqlFields());
    await setPanel(page, { token: "sdr-token", context: ctx });
    await waitState(page, "sop");
    await eventually(() => batchesOf(ctx.recordId).length >= 2, "the retry", 8000);
    const [first, retry] = batchesOf(ctx.recordId);
    assert.deepEqual(retry.events.map((e) => e.eventId), first.events.map((e) => e.eventId), "the same ids");
    assert.ok(retry.at - first.at >= 700, "after a backoff");
    const recorded = [...server.analytics.recorded.values()].filter((e) => e.context?.recordId === ctx.recordId);
    assert.equal(recorded.length, 1, "counted once");
    assert.equal(await page.evaluate(() => document.querySelector("sop-panel").dataset.state), "sop");
    assert.equal(await page.locator("sop-panel [role=alert]").count(), 0, "no error shown");
    assert.deepEqual(rec.errors.filter((e) => !/Failed to load resource/.test(e)), []);
    await page.close();
  });

  test("a hanging or failing RecordEvents never blocks rendering", async () => {
    server.analytics.hang = true;
    try {
      const { page } = await fixturePage();
      const ctx = ownLead(mqlFields());
      await setPanel(page, { token: "sdr-token", context: ctx });
      await waitState(page, "sop");
      await eventually(() => batchesOf(ctx.recordId).length >= 1, "the hanging call");
      // With the call still out, the rep keeps working: a new status shows its SOP at once.
      const t0 = Date.now();
      await setPanel(page, { context: { ...ctx, fields: { ...ctx.fields, lead_status: SQL } } });
      await page.waitForFunction(() => document.querySelector("sop-panel").shadowRoot.querySelector("h2.title")?.textContent.startsWith("First-Touch"));
      assert.ok(Date.now() - t0 < 2000, `rendered in ${Date.now() - t0} ms`);
      await page.getByRole("button", { name: /Mark step 1 done/ }).first().click();
      assert.equal(await page.locator("sop-panel [role=alert]").count(), 0);
      await page.close();
    } finally {
      server.analytics.hang = false;
    }
    server.analytics.failNext = 1000;
    try {
      const { page } = await fixturePage();
      await setPanel(page, { token: "sdr-token", context: ownLead(mqlFields()) });
      await waitState(page, "sop");
      await page.waitForTimeout(2500);
      assert.equal(await page.evaluate(() => document.querySelector("sop-panel").dataset.state), "sop");
      assert.equal(await page.locator("sop-panel [role=alert]").count(), 0);
      await page.close();
    } finally {
      server.analytics.failNext = 0;
    }
  });
});

describe("status changes: validateTransition and the code picker", () => {
  /** Starts panel.validateTransition(status) in the page; its result lands in window.__transition. */
  const startTransition = (page, status) =>
    page.evaluate((s) => {
      window.__transition = undefined;
      document.querySelector("sop-panel").validateTransition(s).then((r) => (window.__transition = r));
    }, status);
  const transition = (page) => page.evaluate(() => window.__transition);

  test("rejecting needs a code: the picker lists the SOP's codes, the save resolves only once one is confirmed", async () => {
    const { page } = await fixturePage();
    const ctx = ownLead(mqlFields());
    await setPanel(page, { token: "sdr-token", context: ctx });
    await waitState(page, "sop");
    await startTransition(page, REJECTED);
    const dialog = page.getByRole("dialog", { name: "Choose a disqualification code" });
    await dialog.waitFor();
    const radios = dialog.getByRole("radio");
    assert.equal(await radios.count(), 6);
    assert.ok(await dialog.getByRole("radio", { name: "Company too small D-TooSmall" }).isVisible());
    assert.deepEqual(await axeSerious(page), []);
    await page.waitForTimeout(300);
    assert.equal(await transition(page), undefined, "pending while the picker is open");
    // Confirm without a code: told, still pending.
    await dialog.getByRole("button", { name: "Confirm and save" }).click();
    assert.equal(await dialog.getByRole("alert").innerText(), "Choose a code first.");
    assert.equal(await transition(page), undefined);
    // Keyboard: the first code has focus; arrow to D-WrongRole, then pick D-TooSmall by its label.
    await page.keyboard.press("ArrowDown");
    assert.equal(await dialog.getByRole("radio", { name: /D-WrongRole/ }).isChecked(), true);
    await dialog.getByText("Company too small", { exact: true }).click();
    await dialog.getByRole("button", { name: "Confirm and save" }).click();
    await page.waitForFunction(() => window.__transition !== undefined);
    const r = await transition(page);
    assert.deepEqual(
      { allowed: r.allowed, code: r.code, codeLabel: r.codeLabel, checked: r.checked, cancelled: r.cancelled, sop: r.sop },
      { allowed: true, code: "D-TooSmall", codeLabel: "Company too small", checked: true, cancelled: false, sop: MQL_SOP },
    );
    assert.equal(await page.locator("sop-panel dialog").count(), 0, "the picker is gone");
    const events = await eventually(() => {
      const e = eventsOf(ctx.recordId);
      return e.some((x) => x.type === "DISQUALIFIED") && e.some((x) => x.type === "STATUS_CHANGED") && e;
    }, "DISQUALIFIED and STATUS_CHANGED");
    const dq = events.find((e) => e.type === "DISQUALIFIED");
    assert.equal(dq.code, "D-TooSmall");
    assert.equal(dq.sop, MQL_SOP);
    assert.equal(dq.revisionId, String(server.sops.get("mql-acceptance-handoff").revision));
    assert.equal(dq.context.fields.lead_status, MQL, "the record as it was before the change");
    assert.equal(events.find((e) => e.type === "STATUS_CHANGED").newStatus, REJECTED);
    await page.close();
  });

  test("cancel and Escape resolve not allowed, and send nothing; a status that needs no code resolves at once", async () => {
    const { page } = await fixturePage();
    const ctx = ownLead(mqlFields());
    await setPanel(page, { token: "sdr-token", context: ctx });
    await waitState(page, "sop");
    await eventually(() => eventsOf(ctx.recordId).length === 1, "PANEL_SHOWN");
    await startTransition(page, REJECTED);
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await page.waitForFunction(() => window.__transition !== undefined);
    assert.deepEqual(await page.evaluate(() => [window.__transition.allowed, window.__transition.cancelled]), [false, true]);
    await startTransition(page, REJECTED);
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => window.__transition !== undefined);
    assert.equal((await transition(page)).cancelled, true);

    await startTransition(page, SQL);
    await page.waitForFunction(() => window.__transition !== undefined);
    const r = await transition(page);
    assert.deepEqual([r.allowed, r.code, r.checked], [true, "", true]);
    assert.equal(await page.locator("sop-panel dialog").count(), 0, "no picker");
    const changed = await eventually(() => eventsOf(ctx.recordId).find((e) => e.type === "STATUS_CHANGED"), "STATUS_CHANGED");
    assert.equal(changed.newStatus, SQL);
    assert.equal(changed.sop, MQL_SOP, "the SOP shown");
    await page.waitForTimeout(500);
    assert.deepEqual(eventsOf(ctx.recordId).map((e) => e.type).sort(), ["PANEL_SHOWN", "STATUS_CHANGED"], "nothing from the cancelled ones");
    await page.close();
  });

  test("demo page: Save status with the code picker saves only after the code; Log first call records FIRST_CONTACT", async () => {
    const page = await browser.context.newPage();
    const rec = record(page);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.url}/demo/`);
    await page.click("#signin-sdr");
    await waitState(page, "sop");
    const before = server.analytics.received().length;
    await page.getByRole("button", { name: "Log first call" }).click();
    assert.equal(await page.locator("#action-status").innerText(), "First call logged.");
    await page.selectOption("#new_status", REJECTED);
    await page.getByRole("button", { name: "Save status" }).click();
    const dialog = page.getByRole("dialog", { name: "Choose a disqualification code" });
    await dialog.waitFor();
    assert.equal(await page.inputValue("#lead_status"), MQL, "not saved while the picker is open");
    assert.deepEqual(await axeSerious(page, "body"), []);
    await dialog.getByText("No budget", { exact: true }).click();
    await dialog.getByRole("button", { name: "Confirm and save" }).click();
    await page.waitForFunction(() => document.getElementById("lead_status").value.startsWith("Rejected"));
    assert.equal(await page.locator("#action-status").innerText(), `Saved: ${REJECTED} (D-Budget — No budget).`);
    const mine = await eventually(() => {
      const e = server.analytics.received().slice(before).filter((x) => x.context?.recordId === "00Q5e000004DemoAA1");
      return ["FIRST_CONTACT", "DISQUALIFIED", "STATUS_CHANGED"].every((t) => e.some((x) => x.type === t)) && e;
    }, "the demo's events");
    assert.equal(mine.find((e) => e.type === "DISQUALIFIED").code, "D-Budget");
    assert.equal(mine.find((e) => e.type === "FIRST_CONTACT").sop, MQL_SOP);
    assert.deepEqual(rec.errors.filter((e) => /Content Security Policy/i.test(e)), [], "no CSP violation");
    sameOrigin(rec);
    await page.close();
  });
});

describe("search", () => {
  test("results show the snippet with matched words in <mark>; a snippet with markup stays text", async () => {
    const { page, rec } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext(mqlFields()) });
    await waitState(page, "sop");
    const box = page.getByRole("searchbox", { name: "Search all procedures" });
    await box.fill("onerror");
    await box.press("Enter");
    await page.locator("sop-panel .search-result").first().waitFor();
    assert.match(await page.locator("sop-panel .search-status").innerText(), /1 procedure found/);
    const result = await page.evaluate(() => {
      const root = document.querySelector("sop-panel").shadowRoot;
      const item = root.querySelector(".search-result");
      return {
        title: item.querySelector(".search-title").textContent,
        snippet: item.querySelector(".search-snippet").textContent,
        marks: Array.from(item.querySelectorAll("mark"), (m) => m.textContent),
        elements: Array.from(item.querySelectorAll(".search-snippet *"), (e) => e.tagName),
        imgs: root.querySelectorAll("img").length,
        flag: window.__xss,
      };
    });
    assert.equal(result.title, "Injected Instructions Test");
    assert.match(result.snippet, /<img src=x onerror="window.__xss=1">/, "the markup is shown as text");
    assert.deepEqual(result.marks, ["onerror"]);
    assert.deepEqual([...new Set(result.elements)], ["MARK"], "only <mark> elements");
    assert.equal(result.imgs, 0);
    assert.equal(result.flag, undefined);

    await box.fill("acceptance criteria");
    await box.press("Enter");
    await page.waitForFunction(() => document.querySelector("sop-panel").shadowRoot.querySelector(".search-title")?.textContent === "MQL Acceptance & Handoff");
    const marks = await page.locator("sop-panel .search-result").first().locator("mark").allInnerTexts();
    assert.ok(marks.length > 0 && marks.every((m) => /^(acceptance|criteria)/i.test(m)), `marks: ${marks}`);
    assert.deepEqual(await axeSerious(page), []);
    await box.fill("zzqx");
    await box.press("Enter");
    await page.waitForFunction(() => /No procedure matches/.test(document.querySelector("sop-panel").shadowRoot.querySelector(".search-status")?.textContent));
    sameOrigin(rec);
    await page.close();
  });

  test("search without a shown SOP takes the org from WhoAmI", async () => {
    const { page } = await fixturePage();
    await setPanel(page, { token: "sdr-token", context: leadContext({ industry: "Banking" }, "Account") });
    await waitState(page, "no-match");
    const box = page.getByRole("searchbox", { name: "Search all procedures" });
    await box.fill("cadence");
    await box.press("Enter");
    await page.locator("sop-panel .search-result").first().waitFor();
    assert.ok((await page.locator("sop-panel .search-title").allInnerTexts()).includes("First-Touch Outreach Cadence (Inbound MQL)"));
    await page.close();
  });
});
