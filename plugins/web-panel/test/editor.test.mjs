// The console's SOP editor and the swimlanes (panel and console) in real headless Chromium against
// the Node Connect test server (test/server.mjs + test/editor-server.mjs): validation as you type
// at the right inputs, YAML syntax errors at their line, the swimlane drawn by the lazy Mermaid
// chunk, the targeting preview from pasted CSV, save / stale-etag conflict, a template violation
// on submit, and no request to any other origin. test/e2e-editor.test.mjs runs the same on a real
// sopd.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { axeSerious, launchBrowser, leadContext, record, setPanel, waitState } from "./helpers.mjs";
import { startTestServer } from "./server.mjs";

const MQL = "MQL – New Handoff";

let browser;
let server;
before(async () => {
  server = await startTestServer({});
  browser = await launchBrowser({ width: 1400, height: 1000 });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

function sameOrigin(rec) {
  const foreign = rec.requests.filter((u) => !u.startsWith(`${server.url}/`));
  assert.deepEqual(foreign, [], "the page requested another origin");
}

const editorAttr = (page, attr) => page.evaluate((a) => document.getElementById("editor")?.dataset[a], attr);

async function editorPage(hash = "#/new") {
  const page = await browser.context.newPage();
  const rec = record(page);
  await page.goto(`${server.url}/console/`);
  await page.waitForFunction(() => document.body.dataset.state === "signed-out");
  await page.fill("#token", "ops-token");
  await page.press("#token", "Enter");
  await page.waitForFunction(() => document.body.dataset.state === "ready");
  await page.evaluate((h) => (location.hash = h), hash);
  await page.waitForSelector("#editor #sop-form [data-path='title']");
  return { page, rec };
}

/** Waits until the editor's latest validation has answered. */
async function settled(page, timeout = 1000) {
  await page.waitForFunction(() => {
    const e = document.getElementById("editor");
    return e && e.dataset.validation !== "pending";
  }, null, { timeout });
}

describe("editor (Node test server)", () => {
  test("violations appear at their inputs within a second, and clear when fixed; the swimlane appears", async () => {
    const { page, rec } = await editorPage();
    // The empty SOP: title and owner are required.
    await page.fill("[data-path='purpose']", "Hand MQLs over fast.");
    const t0 = Date.now();
    await page.waitForSelector("[data-path='title'][aria-invalid='true']", { timeout: 1000 });
    assert.ok(Date.now() - t0 < 1000);
    assert.match(await page.locator(".violation[data-for='title']").innerText(), /required/);
    assert.match(await page.locator(".violation[data-for='owner']").innerText(), /required/);
    // The message is the input's description (screen readers read it with the input).
    const described = await page.getAttribute("[data-path='title']", "aria-describedby");
    assert.ok(described && (await page.locator(`#${described.split(" ").pop()}`).count()) === 1);

    // A step without a title: the violation is at steps[0].title.
    await page.click("[data-add='steps']");
    await page.fill("[data-path='title']", "Editor test SOP");
    await page.fill("[data-path='owner']", "Sales Operations Manager");
    await page.waitForSelector("[data-path='steps[0].title'][aria-invalid='true']", { timeout: 3000 });
    assert.equal(await page.locator("[data-path='title'][aria-invalid]").count(), 0);
    await page.fill("[data-path='steps[0].title']", "Open the lead within 5 minutes");
    await page.selectOption("[data-path='steps[0].responsible_role']", "SDR");
    await page.waitForFunction(() => document.getElementById("editor").dataset.validation === "valid", null, { timeout: 3000 });
    assert.equal(await page.locator(".violation").count(), 0);
    await page.waitForFunction(() => /Open the lead within 5 minutes/.test(document.querySelector("#editor-swimlane[data-state='ready'] svg")?.textContent ?? ""), null, { timeout: 15_000 });
    assert.deepEqual(await axeSerious(page, "#editor"), []);
    sameOrigin(rec);
    await page.close();
  });

  test("stale answers are dropped: only the last keystroke's validation is shown", async () => {
    const { page } = await editorPage();
    await settled(page);
    const seqBefore = Number((await editorAttr(page, "validatedSeq")) ?? 0);
    await page.locator("[data-path='title']").pressSequentially("Typed quickly", { delay: 20 });
    await page.fill("[data-path='owner']", "Ops");
    await settled(page);
    // One request after the debounce, not one per key.
    const seqAfter = Number(await editorAttr(page, "validatedSeq"));
    assert.ok(seqAfter - seqBefore <= 2, `validated ${seqAfter - seqBefore} times`);
    await page.close();
  });

  test("YAML mode: a syntax error is shown at its line; a duration in the form that is not one is flagged", async () => {
    const { page } = await editorPage();
    await page.fill("[data-path='title']", "YAML SOP");
    await page.fill("[data-path='owner']", "Ops");
    await settled(page);
    await page.click("#mode-yaml");
    assert.match(await page.inputValue("#yaml-text"), /title: YAML SOP/);
    await page.fill("#yaml-text", "title: YAML SOP\nowner: Ops\nsteps:\n  - ordinal: 1\n    title: [unclosed\n");
    await page.waitForSelector("#yaml-violations li[data-line]", { timeout: 3000 });
    const line = Number(await page.getAttribute("#yaml-violations li", "data-line"));
    assert.ok(line >= 5, `line ${line}`);
    // The form refuses to take YAML that does not parse.
    await page.click("#mode-form");
    assert.equal(await editorAttr(page, "mode"), "yaml");
    assert.match(await page.locator("#editor-error").innerText(), /Fix the YAML/);
    await page.fill("#yaml-text", "title: YAML SOP\nowner: Ops\nsteps:\n  - ordinal: 1\n    title: Call\n    time_limit: {duration: 5m}\n");
    await settled(page);
    await page.click("#mode-form");
    assert.equal(await page.inputValue("[data-path='steps[0].title']"), "Call");
    assert.equal(await page.inputValue("[data-path='steps[0].time_limit.duration']"), "5m");
    await page.fill("[data-path='steps[0].time_limit.duration']", "soon");
    await page.waitForSelector(".violation[data-for='steps[0].time_limit.duration']", { timeout: 3000 });
    await page.close();
  });

  test("preview: pasted CSV becomes records; the table and the counts show", async () => {
    const { page } = await editorPage();
    await page.fill("[data-path='title']", "Preview SOP");
    await page.fill("[data-path='owner']", "Ops");
    await page.click("[data-add='targeting_rules']");
    await page.click("[data-add='targeting_rules[0].conditions']");
    await page.fill("[data-path='targeting_rules[0].conditions[0].field']", "lead_status");
    await page.fill("[data-path='targeting_rules[0].conditions[0].equals']", MQL);
    await page.fill("#preview-input", `record_id,lead_status,lead_score\r\nL1,${MQL},82\r\nL2,"Open, not contacted",40\r\n`);
    await page.click("#preview-run");
    await page.waitForSelector("#preview-result[data-state='ready'] #preview-table");
    const rows = await page.locator("#preview-table tbody tr").evaluateAll((trs) => trs.map((tr) => [tr.cells[0].textContent, tr.dataset.change]));
    assert.deepEqual(rows, [["L1", "GAINED"], ["L2", "NOT_MATCHED"]]);
    assert.match(await page.locator("#preview-counts [data-count='gained']").innerText(), /^1 gained/);
    assert.match(await page.locator("#preview-counts [data-count='not_matched']").innerText(), /^1 not matched/);
    await page.close();
  });

  test("save creates the SOP; a save on a stale etag shows the conflict and keeps the edits", async () => {
    const { page } = await editorPage();
    await page.fill("#sop-id", "editor-node-save");
    await page.fill("[data-path='title']", "Saved from the editor");
    await page.fill("[data-path='owner']", "Ops");
    await page.click("#save");
    await page.waitForFunction(() => document.getElementById("editor").dataset.saved === "orgs/default/sops/editor-node-save");
    assert.equal(await page.evaluate(() => location.hash), "#/sops/editor-node-save/edit");
    assert.equal(server.review.sops.get("orgs/default/sops/editor-node-save").title, "Saved from the editor");
    // Someone else saves meanwhile.
    server.review.sops.get("orgs/default/sops/editor-node-save").etag = "someone-else";
    await page.fill("[data-path='title']", "My later edit");
    await page.click("#save");
    await page.waitForFunction(() => document.getElementById("editor").dataset.conflict === "true");
    assert.match(await page.locator("#editor-error").innerText(), /Conflict: this SOP was changed by someone else[\s\S]*Aborted/);
    assert.equal(await page.inputValue("[data-path='title']"), "My later edit");
    await page.close();
  });

  test("submit: a template's violation is shown at its field", async () => {
    server.review.sops.set("orgs/default/sops/from-template", {
      name: "orgs/default/sops/from-template",
      title: "From a template",
      owner: "Ops",
      state: "DRAFT",
      revisionId: "1",
      etag: "ft-1",
      slaTerms: [{ name: "min_lead_score", number: 75 }, { name: "first_contact_window", duration: "600s" }],
      templateUse: { template: "orgs/default/templates/inbound-mql", requiredFields: ["disqualification_codes"], slaRequirements: [{ term: "first_contact_window", maxDuration: "300s" }] },
    });
    const { page } = await editorPage("#/sops/from-template/edit");
    await page.waitForFunction(() => document.getElementById("editor-title")?.textContent === "Edit: From a template");
    await page.click("#submit-review");
    await page.waitForSelector("fieldset[data-path='disqualification_codes'][aria-invalid='true']");
    assert.match(await page.locator(".violation[data-for='disqualification_codes']").innerText(), /TEMPLATE: required by template/);
    // A requirement on an SLA term names the term, not its index: it lands at that term's input.
    assert.equal(await page.getAttribute("[data-path='sla_terms[1].threshold']", "aria-invalid"), "true");
    assert.match(await page.locator(".violation[data-for='sla_terms[first_contact_window].duration']").innerText(), /at most 300s/);
    assert.match(await page.locator("#editor-error").innerText(), /FailedPrecondition/);
    await page.close();
  });

  test("the SOP page links to the editor and draws the swimlane", async () => {
    const page = await browser.context.newPage();
    const rec = record(page);
    await page.goto(`${server.url}/console/`);
    await page.fill("#token", "ops-token");
    await page.press("#token", "Enter");
    await page.waitForFunction(() => document.body.dataset.state === "ready");
    server.review.sops.get("orgs/default/sops/mql-acceptance-handoff").steps = [{ ordinal: 1, title: "Call the lead", responsibleRole: "SDR" }];
    await page.evaluate(() => (location.hash = "#orgs/default/sops/mql-acceptance-handoff"));
    await page.waitForSelector("#detail-swimlane[data-state='ready'] svg", { timeout: 15_000 });
    assert.equal(await page.getAttribute("#edit-sop", "href"), "#/sops/mql-acceptance-handoff/edit");
    sameOrigin(rec);
    await page.close();
  });
});

describe("panel Swimlane section (Node test server)", () => {
  test("collapsed at first; opened, it draws the SOP's swimlane from the lazy chunk", async () => {
    const page = await browser.context.newPage();
    const rec = record(page);
    await page.goto(`${server.url}/fixtures/panel.html`);
    await setPanel(page, { token: "sdr-token", context: leadContext({ lead_status: MQL, lead_score: 82, company_size: 240, status_changed_at: new Date().toISOString() }) });
    await waitState(page, "sop");
    // The chunk is not loaded until the section opens.
    assert.equal(rec.requests.filter((u) => u.includes("sop-mermaid.js")).length, 0);
    await page.locator("sop-panel details.swimlane-section summary").click();
    await page.waitForFunction(() => document.querySelector("sop-panel").shadowRoot.querySelector(".swimlane[data-state='ready'] svg") !== null, null, { timeout: 15_000 });
    assert.equal(rec.requests.filter((u) => u.endsWith("/panel/sop-mermaid.js")).length, 1);
    const text = await page.evaluate(() => document.querySelector("sop-panel").shadowRoot.querySelector(".swimlane svg").textContent);
    assert.match(text, /SDR/);
    sameOrigin(rec);
    await page.close();
  });
});
