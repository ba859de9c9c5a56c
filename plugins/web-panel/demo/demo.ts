// The demo CRM lead page: editable fields feed <sop-panel>'s `context` property, so the
// panel follows every change without a reload. "Save status" is how a CRM saves a status
// change: it asks the panel first (`panel.validateTransition`, which shows the code picker when
// the SOP needs a disqualification code) and saves only when that resolves `allowed`; "Log
// first call" records the rep's first contact (`panel.recordFirstContact`). No inline script or style: it runs under
// sopd's CSP (default-src 'self').
import { demoTokens } from "./demo-tokens.js";
import type { FieldValue, PanelContext } from "../src/context.js";
import type { TransitionResult } from "../src/sop-panel.js";

// The Lead Status values the example SOPs (examples/sops/*.yaml) target, spelled exactly
// as there (EN DASH in "MQL – New Handoff"; a hyphen in Salesforce's "Open - Not Contacted").
const LEAD_STATUSES = [
  "Open - Not Contacted",
  "MQL – New Handoff",
  "SQL – Accepted",
  "Working – Contacted",
  "Meeting Booked",
  "Rejected: Return to Marketing",
  "Outreach Complete",
  "Nurture",
  "Merged",
];
// The reps the panel is for; the file's other roles (Sales Ops, approvers) are the review
// console's (/console/).
const DEMO_ROLES = ["SDR", "AE"];
const TOKEN_KEY = "sop-demo-token";
const ROLE_KEY = "sop-demo-role";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

type PanelEl = HTMLElement & {
  context: unknown;
  token: string;
  validateTransition(newStatus: string): Promise<TransitionResult>;
  recordFirstContact(): boolean;
};

function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function fromLocalInput(v: string): string | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function fieldValue(el: HTMLInputElement | HTMLSelectElement): FieldValue | undefined {
  if (el instanceof HTMLInputElement) {
    if (el.type === "number") return el.value === "" ? undefined : Number(el.value);
    if (el.type === "datetime-local") return fromLocalInput(el.value) ?? undefined;
  }
  return el.value === "" ? undefined : el.value;
}

function recordContext(): PanelContext {
  const recordType = $<HTMLSelectElement>("record_type").value;
  const container = $(recordType === "Lead" ? "lead-fields" : "opp-fields");
  const fields: Record<string, FieldValue> = {};
  for (const el of container.querySelectorAll<HTMLInputElement | HTMLSelectElement>("[data-field]")) {
    const v = fieldValue(el);
    if (v !== undefined) fields[el.dataset.field as string] = v;
  }
  // The saved disqualification code travels with the record, as a CRM field would.
  if (recordType === "Lead" && savedCode) fields.disqualification_code = savedCode;
  return { recordType, recordId: recordType === "Lead" ? "00Q5e000004DemoAA1" : "0065e00000DemoOpp1", fields };
}

/** The code saved with the last status change that needed one ("" when none). */
let savedCode = "";

function main(): void {
  performance.mark("demo:init");
  const panel = $<PanelEl>("panel");
  const status = $<HTMLSelectElement>("lead_status");
  for (const s of LEAD_STATUSES) status.append(new Option(s, s));
  status.value = "MQL – New Handoff";
  const now = toLocalInput(new Date());
  $<HTMLInputElement>("status_changed_at").value = now;
  $<HTMLInputElement>("stage_changed_at").value = now;

  const update = () => {
    const ctx = recordContext();
    const rt = ctx.recordType ?? "Lead";
    $("lead-fields").hidden = rt !== "Lead";
    $("opp-fields").hidden = rt !== "Opportunity";
    $("crumb-type").textContent = rt === "Lead" ? "Leads" : "Opportunities";
    $("status-badge").textContent = rt === "Lead" ? status.value : $<HTMLSelectElement>("stage_name").value;
    $("hdr-title").textContent = $<HTMLInputElement>("title").value;
    panel.context = ctx;
  };

  // Save status: validated by the panel (and its code picker) before it is "saved".
  const newStatus = $<HTMLSelectElement>("new_status");
  for (const s of LEAD_STATUSES) newStatus.append(new Option(s, s));
  newStatus.value = "SQL – Accepted";
  const actionStatus = $("action-status");
  const save = $<HTMLButtonElement>("save-status");
  $("status-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next = newStatus.value;
    save.disabled = true;
    actionStatus.textContent = `Checking “${next}” with the SOP…`;
    void panel.validateTransition(next).then(
      (r) => {
        save.disabled = false;
        if (!r.allowed) {
          actionStatus.textContent = r.cancelled ? "Not saved: no disqualification code was chosen." : `Not saved: ${r.reason}`;
          return;
        }
        savedCode = r.code;
        status.value = next;
        $<HTMLInputElement>("status_changed_at").value = toLocalInput(new Date());
        update();
        actionStatus.textContent = `Saved: ${next}${r.code ? ` (${r.code} — ${r.codeLabel})` : ""}.${r.checked ? "" : " (Not checked with the SOP server.)"}`;
      },
      (e: unknown) => {
        save.disabled = false;
        actionStatus.textContent = `Not saved: ${e instanceof Error ? e.message : String(e)}`;
      },
    );
  });
  $("log-call").addEventListener("click", () => {
    actionStatus.textContent = panel.recordFirstContact() ? "First call logged." : "No procedure is shown for this record: nothing to log against.";
  });

  // A status change restarts the SLA clock, as a CRM workflow would.
  status.addEventListener("change", () => {
    savedCode = "";
    $<HTMLInputElement>("status_changed_at").value = toLocalInput(new Date());
  });
  $("stage_name").addEventListener("change", () => {
    $<HTMLInputElement>("stage_changed_at").value = toLocalInput(new Date());
  });
  for (const el of document.querySelectorAll<HTMLElement>("[data-field], #record_type")) {
    el.addEventListener("input", update);
    el.addEventListener("change", update);
  }

  // Sign-in: a pasted token, or the demo tokens sopd serves on loopback.
  const who = $("who");
  const setToken = (token: string, role: string) => {
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      sessionStorage.setItem(ROLE_KEY, role);
    } else {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(ROLE_KEY);
    }
    who.textContent = token ? `Signed in${role ? ` as ${role}` : ""}` : "Not signed in";
    panel.token = token;
  };
  $("signin").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $<HTMLInputElement>("token");
    setToken(input.value.trim(), "");
    input.value = "";
  });
  $("signout").addEventListener("click", () => setToken("", ""));
  setToken(sessionStorage.getItem(TOKEN_KEY) ?? "", sessionStorage.getItem(ROLE_KEY) ?? "");

  void demoTokens(DEMO_ROLES).then((tokens) => {
    const box = $("demo-buttons");
    for (const [role, token] of tokens) {
      const b = document.createElement("button");
      b.type = "button";
      b.id = `signin-${role.toLowerCase()}`;
      b.textContent = `Sign in as demo ${role}`;
      b.addEventListener("click", () => setToken(token, role));
      box.append(b);
    }
  });

  update();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();
