// The SOP editor (#/new, #/sops/{id}/edit): an SOP as a form or as YAML, checked as you type by
// sopd's own validator (AuthoringService.ValidateSop, 250 ms after the last keystroke, stale
// answers dropped), every violation shown at its input (form) or its line (YAML); the swimlane
// beside it (ValidateSop's diagram, drawn by the lazy Mermaid chunk); a targeting preview against
// pasted or uploaded records (CSV or JSONL, parsed here; SopService.PreviewTargeting); Save
// (CreateSop / UpdateSop with the etag: a conflict keeps the edits) and Submit (SubmitSop: a
// PreconditionFailure's violations, e.g. TEMPLATE ones, shown at their fields).
//
// The model: the form edits an Sop in its proto JSON form (what GetSop returns), keeping fields
// it has no input for (assets, step conditions, …). YAML mode's text is its own source of truth
// while it is shown: ValidateSop checks the text itself (so line and column are sopd's); Save,
// Preview and switching back to the form read it with sop-yaml.ts (the file format's mapping).
import { type ConnectJsonClient, ConnectError, codeName, toConnectError } from "../src/connect.js";
import { renderDiagram } from "../src/diagram.js";
import type { CrmContextJson } from "../src/gen/sopsidebar/v1/context_service_pb.js";
import type { SopJson } from "../src/gen/sopsidebar/v1/sop_pb.js";
import type { PreviewTargetingResponseJson, RecordPreviewJson } from "../src/gen/sopsidebar/v1/sop_service_pb.js";
import type { SopViolationJson, ValidateSopResponseJson } from "../src/gen/sopsidebar/v1/authoring_service_pb.js";
import { detailViolations } from "./error-details.js";
import { parseRecords } from "./records.js";
import { humanDuration, protoDuration, sopToYaml, yamlToSop } from "./sop-yaml.js";
import { h, roleLabel } from "./view.js";

const SOPS = "sopsidebar.v1.SopService";
const OUTPUT_ONLY = ["state", "revisionId", "createTime", "updateTime", "publishedRevisionId", "deleteTime", "publishTime", "review", "lastReviewTime", "nextReviewTime", "templateUse"];
const AUTHORING = "sopsidebar.v1.AuthoringService";
export const VALIDATE_DEBOUNCE_MS = 250;

const ROLES = ["SDR", "AE", "SALES_MANAGER", "SALES_OPS", "MARKETING", "VP_SALES", "MARKETING_DIRECTOR", "ADMIN"] as const;
const REVIEW_CYCLES = ["MONTHLY", "QUARTERLY", "SEMI_ANNUAL", "ANNUAL"];
const FUNNEL_STAGES = ["LEAD", "MQL", "SQL", "OPPORTUNITY", "CUSTOMER", "NURTURE"];
const CHANNELS = ["CALL", "EMAIL", "LINKEDIN", "SMS", "VIDEO", "OTHER_CHANNEL"];
const OPS = ["equals", "anyOf", "noneOf", "prefix", "exists", "range"] as const;
type Op = (typeof OPS)[number];
const OP_LABEL: Record<Op, string> = { equals: "equals", anyOf: "any of", noneOf: "none of", prefix: "starts with", exists: "exists", range: "range (min..max)" };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** A violation to show: the field path (snake_case, 0-based indices) and where in YAML it is. */
interface Shown {
  field: string;
  description: string;
  line?: number;
  column?: number;
  type?: string;
}

/** The calls the editor makes, with the signed-in token. */
export class EditorApi {
  constructor(
    private readonly client: ConnectJsonClient,
    private readonly token: string,
  ) {}
  call<Res>(method: string, request: unknown, signal?: AbortSignal): Promise<Res> {
    return this.client.unary<unknown, Res>(method, request, { headers: { Authorization: `Bearer ${this.token}` }, signal });
  }
}

function errorText(e: unknown): string {
  const err = toConnectError(e);
  return `${codeName(err.code)}: ${err.rawMessage || "no message"}`;
}

/** "sop.steps[0].title" / "steps[0].title" → "steps[0].title". */
function normPath(p: string): string {
  return p.replace(/^sop\./, "").replace(/^draft\./, "");
}

function camelToSnake(p: string): string {
  return p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A form value → a CRM value as the file format types it: numbers and bools plain, "quoted" strings. */
function typedValue(text: string): unknown {
  const s = text.trim();
  if (/^"(.*)"$/.test(s)) return s.slice(1, -1);
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/.test(s)) return Number(s);
  if (s === "true") return true;
  if (s === "false") return false;
  return s;
}

function valueText(v: unknown): string {
  if (typeof v === "string") return /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$|^(true|false)$/.test(v.trim()) ? `"${v}"` : v;
  if (v === undefined || v === null) return "";
  return String(v);
}

function listText(v: unknown): string {
  const values = Array.isArray(v) ? v : ((v as Obj | undefined)?.values ?? []);
  return (values as unknown[]).map(valueText).join(", ");
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function opOf(c: Obj): Op {
  for (const op of OPS) if (c[op] !== undefined) return op;
  return "equals";
}

export interface EditorOptions {
  api: EditorApi;
  org: string;
  /** The SOP to edit (orgs/…/sops/…), or undefined for a new one. */
  name?: string;
  mermaidUrl: string;
  /** Called after a save that gave a new SOP its name (the page updates its URL). */
  onSaved?: (sop: SopJson) => void;
}

export class SopEditor {
  readonly root: HTMLElement;
  #o: EditorOptions;
  #sop: Obj = {};
  #name: string | undefined;
  #etag = "";
  #mode: "form" | "yaml" = "form";
  #yamlText = "";
  #dirty = false;
  #seq = 0;
  #diagramSeq = 0;
  #lastDiagram = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abort: AbortController | undefined;
  #violations: Shown[] = [];
  /** Violations the page finds itself (a duration it cannot read), by field path. */
  #local = new Map<string, string>();
  #els: {
    title: HTMLElement;
    status: HTMLElement;
    error: HTMLElement;
    form: HTMLFormElement;
    yamlPane: HTMLElement;
    yaml: HTMLTextAreaElement;
    yamlViolations: HTMLOListElement;
    summary: HTMLElement;
    swimlane: HTMLElement;
    previewInput: HTMLTextAreaElement;
    previewFile: HTMLInputElement;
    previewCrm: HTMLSelectElement;
    previewType: HTMLInputElement;
    previewResult: HTMLElement;
    sopId: HTMLInputElement;
    modeForm: HTMLButtonElement;
    modeYaml: HTMLButtonElement;
    save: HTMLButtonElement;
    submit: HTMLButtonElement;
  };

  constructor(options: EditorOptions) {
    this.#o = options;
    this.#name = options.name;
    const e = {
      title: h("h1", { id: "editor-title", tabindex: "-1" }, options.name ? "Loading…" : "New SOP"),
      status: h("p", { id: "editor-status", class: "status", role: "status" }),
      error: h("div", { id: "editor-error", class: "error", role: "alert", hidden: true }),
      form: h("form", { id: "sop-form", class: "sop-form", novalidate: true, "aria-label": "SOP" }),
      yamlPane: h("div", { id: "yaml-pane", class: "yaml-pane", hidden: true }),
      yaml: h("textarea", { id: "yaml-text", class: "yaml-text", spellcheck: "false", rows: "28", "aria-describedby": "yaml-hint yaml-violations" }),
      yamlViolations: h("ol", { id: "yaml-violations", class: "yaml-violations", "aria-label": "Problems by line" }),
      summary: h("div", { id: "violations", class: "violations", "aria-live": "polite" }),
      swimlane: h("div", { id: "editor-swimlane", class: "editor-swimlane", "data-state": "empty" }, h("p", { class: "hint" }, "The swimlane appears once the SOP has steps.")),
      previewInput: h("textarea", { id: "preview-input", rows: "6", spellcheck: "false", "aria-describedby": "preview-hint" }),
      previewFile: h("input", { id: "preview-file", type: "file", accept: ".csv,.jsonl,.ndjson,.json,text/csv" }),
      previewCrm: h("select", { id: "preview-crm" }),
      previewType: h("input", { id: "preview-record-type", value: "Lead" }),
      previewResult: h("div", { id: "preview-result", "aria-live": "polite" }),
      sopId: h("input", { id: "sop-id", "data-path": "sop_id", pattern: "[a-z][a-z0-9-]{0,62}", "aria-describedby": "sop-id-hint" }),
      modeForm: h("button", { type: "button", id: "mode-form", "aria-pressed": "true" }, "Form"),
      modeYaml: h("button", { type: "button", id: "mode-yaml", "aria-pressed": "false" }, "YAML"),
      save: h("button", { type: "button", id: "save", class: "primary" }, "Save draft"),
      submit: h("button", { type: "button", id: "submit-review", class: "secondary" }, "Submit for review"),
    };
    this.#els = e;
    for (const [v, label] of [["", "none (our field names)"], ["salesforce", "Salesforce"], ["hubspot", "HubSpot"]]) e.previewCrm.append(new Option(label, v));
    e.yamlPane.append(
      h("label", { for: "yaml-text" }, "The SOP as YAML"),
      h("p", { id: "yaml-hint", class: "hint" }, "The SOP file format (docs/SOP-FILES.md). Checked by sopd as you type; problems are listed by line below."),
      e.yaml,
      e.yamlViolations,
    );
    const preview = h(
      "section",
      { id: "preview", class: "block", "aria-labelledby": "preview-h" },
      h("h2", { id: "preview-h" }, "Preview targeting"),
      h("p", { id: "preview-hint", class: "hint" }, "Paste CSV (a header row of field names) or JSON Lines, or choose a file. Columns record_id and record_type are the record's id and type. Nothing leaves the browser but the request to sopd."),
      h("label", { for: "preview-input" }, "Records"),
      e.previewInput,
      h("div", { class: "row" }, h("label", { for: "preview-file" }, "or a file"), e.previewFile),
      h("div", { class: "row" }, h("label", { for: "preview-crm" }, "Field names"), e.previewCrm, h("label", { for: "preview-record-type" }, "Record type"), e.previewType),
      h("button", { type: "button", id: "preview-run", class: "secondary" }, "Preview"),
      e.previewResult,
    );
    this.root = h(
      "section",
      { id: "editor", class: "card editor", "aria-labelledby": "editor-title", "data-mode": "form", "data-validation": "idle" },
      e.title,
      e.status,
      e.error,
      h("div", { class: "mode-switch", role: "group", "aria-label": "Edit as" }, e.modeForm, e.modeYaml),
      h(
        "div",
        { class: "editor-grid" },
        h("div", { class: "editor-main" }, e.summary, e.form, e.yamlPane, h("div", { class: "buttons" }, e.save, e.submit)),
        h("aside", { class: "editor-side", "aria-label": "Swimlane and preview" }, h("section", { class: "block", "aria-labelledby": "swimlane-h" }, h("h2", { id: "swimlane-h" }, "Swimlane"), e.swimlane), preview),
      ),
    );
    e.modeForm.addEventListener("click", () => this.setMode("form"));
    e.modeYaml.addEventListener("click", () => this.setMode("yaml"));
    e.yaml.addEventListener("input", () => {
      this.#yamlText = e.yaml.value;
      this.#changed();
    });
    e.save.addEventListener("click", () => void this.save());
    e.submit.addEventListener("click", () => void this.submit());
    (preview.querySelector("#preview-run") as HTMLButtonElement).addEventListener("click", () => void this.preview());
    e.previewFile.addEventListener("change", () => void this.#readFile());
    e.yamlViolations.addEventListener("click", (ev) => {
      const li = (ev.target as HTMLElement).closest<HTMLElement>("li[data-line]");
      if (li) this.#selectLine(Number(li.dataset.line));
    });
  }

  /** Loads the SOP (or starts a new one) and validates it once. */
  async start(): Promise<void> {
    if (this.#name) {
      try {
        const sop = await this.#o.api.call<SopJson>(`${SOPS}/GetSop`, { name: this.#name });
        this.#load(sop);
      } catch (e) {
        this.#els.title.textContent = "Could not open the SOP";
        this.#showError(`Could not open ${this.#name} — ${errorText(e)}`);
        return;
      }
    } else {
      this.#sop = {};
    }
    this.#renderForm();
    // A new, untouched SOP is not judged yet: its problems show from the first edit on.
    if (this.#name) this.#validateNow();
  }

  #load(sop: SopJson): void {
    const { etag, ...rest } = sop as Obj;
    // Output-only fields are the server's: the editor neither shows nor sends them.
    for (const k of OUTPUT_ONLY) delete rest[k];
    this.#sop = rest;
    this.#etag = etag ?? "";
    this.#name = sop.name;
    this.#els.title.textContent = `Edit: ${sop.title || sop.name}`;
    this.root.dataset.etag = this.#etag;
  }

  destroy(): void {
    clearTimeout(this.#timer);
    this.#abort?.abort();
    this.#seq++;
  }

  get mode(): "form" | "yaml" {
    return this.#mode;
  }

  /** The SOP as the current mode holds it; throws when the YAML does not parse. */
  #currentSop(): Obj {
    if (this.#mode === "yaml") return yamlToSop(this.#yamlText) as Obj;
    return this.#sop;
  }

  setMode(mode: "form" | "yaml"): void {
    if (mode === this.#mode) return;
    if (mode === "yaml") {
      this.#yamlText = sopToYaml(this.#sop as SopJson);
      this.#els.yaml.value = this.#yamlText;
    } else {
      let sop: Obj;
      try {
        sop = yamlToSop(this.#yamlText) as Obj;
      } catch (e) {
        this.#showError(`Fix the YAML before switching to the form — ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
        return;
      }
      this.#sop = { ...sop, name: this.#name };
      if (!this.#name) delete this.#sop.name;
      this.#renderForm();
    }
    this.#hideError();
    this.#mode = mode;
    this.root.dataset.mode = mode;
    this.#els.form.hidden = mode === "yaml";
    this.#els.yamlPane.hidden = mode === "form";
    this.#els.modeForm.setAttribute("aria-pressed", String(mode === "form"));
    this.#els.modeYaml.setAttribute("aria-pressed", String(mode === "yaml"));
    this.#validateNow();
    (mode === "yaml" ? this.#els.yaml : this.#els.modeForm).focus();
  }

  // ---- validation ------------------------------------------------------------------------

  #changed(): void {
    this.#dirty = true;
    this.root.dataset.dirty = "true";
    this.root.dataset.validation = "pending";
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#validateNow(), VALIDATE_DEBOUNCE_MS);
  }

  #validateNow(): void {
    clearTimeout(this.#timer);
    const seq = ++this.#seq;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.root.dataset.validation = "pending";
    const request: Obj = { parent: this.#o.org, includeDiagram: true };
    if (this.#mode === "yaml") request.yaml = this.#yamlText;
    else request.sop = this.#sop;
    this.#o.api
      .call<ValidateSopResponseJson>(`${AUTHORING}/ValidateSop`, request, abort.signal)
      .then((res) => {
        if (seq !== this.#seq) return; // a newer edit is being checked
        this.#setViolations((res.violations ?? []).map((v: SopViolationJson) => ({ field: normPath(v.field ?? ""), description: v.description ?? "", line: v.line, column: v.column })));
        this.root.dataset.validation = (res.violations ?? []).length === 0 && this.#local.size === 0 ? "valid" : "invalid";
        this.root.dataset.validatedSeq = String(seq);
        void this.#drawSwimlane(res.diagram?.source ?? "");
      })
      .catch((e: unknown) => {
        if (seq !== this.#seq || toConnectError(e).code === "canceled") return;
        this.root.dataset.validation = "error";
        this.#els.status.textContent = `Could not check the SOP — ${errorText(e)}`;
      });
  }

  #setViolations(list: Shown[]): void {
    this.#violations = list;
    this.#paintViolations();
  }

  /** Marks every violation at its input (form) or line (YAML), and lists them all. */
  #paintViolations(): void {
    const form = this.#els.form;
    for (const el of Array.from(this.root.querySelectorAll(".violation"))) el.remove();
    for (const el of Array.from(this.root.querySelectorAll("[aria-invalid]"))) {
      el.removeAttribute("aria-invalid");
      const ids = (el.getAttribute("aria-describedby") ?? "").split(" ").filter((x) => x && !x.startsWith("v-"));
      if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
      else el.removeAttribute("aria-describedby");
    }
    const all: Shown[] = [...this.#violations, ...[...this.#local].map(([field, description]) => ({ field, description }))];
    const summary = this.#els.summary;
    summary.replaceChildren();
    this.#els.yamlViolations.replaceChildren();
    this.root.dataset.violations = String(all.length);
    if (all.length === 0) return;
    const list = h("ul", { id: "violation-list" });
    all.forEach((v, i) => {
      const id = `v-${i}`;
      const where = v.field || "the SOP";
      if (this.#mode === "yaml") {
        const line = v.line ?? 0;
        this.#els.yamlViolations.append(
          h(
            "li",
            { class: "violation-line", "data-line": String(line), "data-field": v.field, tabindex: "0" },
            line > 0 ? `Line ${line}${v.column ? `, column ${v.column}` : ""}: ` : "",
            h("code", {}, where),
            ` — ${v.description}`,
          ),
        );
        return;
      }
      const target = this.#targetFor(v.field);
      const msg = h("p", { class: "violation", id, "data-for": v.field, "data-type": v.type ?? "" }, `${v.type && v.type !== "field" ? `${v.type}: ` : ""}${v.description}`);
      if (target) {
        target.setAttribute("aria-invalid", "true");
        const ids = (target.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
        target.setAttribute("aria-describedby", [...ids, id].join(" "));
        if (target instanceof HTMLFieldSetElement) {
          const legend = target.querySelector(":scope > legend");
          if (legend) legend.after(msg);
          else target.prepend(msg);
        } else target.closest(".field")?.append(msg) ?? target.after(msg);
      }
      list.append(h("li", { "data-field": v.field }, h("code", {}, where), ` — ${v.description}`, target ? "" : " (no input for it here: edit it as YAML)"));
    });
    if (this.#mode === "form") summary.append(h("p", { class: "violations-head" }, `${all.length} ${all.length === 1 ? "problem" : "problems"} to fix before submitting:`), list);
    void form;
  }

  /** The input (or fieldset) for a field path: the exact path, an alias, else the nearest parent. */
  #targetFor(field: string): HTMLElement | null {
    let p = this.#indexPath(camelToSnake(field));
    for (;;) {
      if (!p) return null;
      const el =
        this.root.querySelector<HTMLElement>(`[data-path="${CSS.escape(p)}"]`) ??
        this.root.querySelector<HTMLElement>(`[data-alias~="${CSS.escape(p)}"]`);
      if (el) return el;
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      if (cut <= 0) return null;
      p = p.slice(0, cut);
    }
  }

  /**
   * Paths that name list items by key (template requirements: `sla_terms[first_contact_window]`,
   * diffs: `steps[ordinal=3]`) → by index in the SOP being edited; unknown keys stay as they are
   * (the violation then lands on the list).
   */
  #indexPath(path: string): string {
    const keyed: Record<string, [string, string]> = { sla_terms: ["slaTerms", "name"], disqualification_codes: ["disqualificationCodes", "code"], steps: ["steps", "ordinal"], assets: ["assets", "id"] };
    return path.replace(/(^|\.)([a-z_]+)\[([^\]]*[^\]0-9][^\]]*)\]/g, (all, dot: string, list: string, key: string) => {
      const spec = keyed[list];
      if (!spec) return all;
      const value = key.replace(/^[a-z_]+=/, "");
      const items: Obj[] = (list === "steps" || list === "sla_terms" || list === "disqualification_codes" || list === "assets") && dot === "" ? (this.#sop[spec[0]] ?? []) : [];
      const i = items.findIndex((it) => String(it[spec[1]] ?? "") === value);
      return i >= 0 ? `${dot}${list}[${i}]` : `${dot}${list}`;
    });
  }

  #selectLine(line: number): void {
    const ta = this.#els.yaml;
    const lines = ta.value.split("\n");
    if (line < 1 || line > lines.length) return;
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    ta.focus();
    ta.setSelectionRange(start, start + lines[line - 1].length);
  }

  async #drawSwimlane(source: string): Promise<void> {
    const box = this.#els.swimlane;
    if (source === this.#lastDiagram) return;
    this.#lastDiagram = source;
    const seq = ++this.#diagramSeq;
    if (!source) {
      box.dataset.state = "empty";
      box.replaceChildren(h("p", { class: "hint" }, "The swimlane appears once the SOP has steps."));
      return;
    }
    box.dataset.state = "loading";
    try {
      const svg = await renderDiagram(source, this.#o.mermaidUrl, document);
      if (seq !== this.#diagramSeq) return;
      svg.setAttribute("aria-label", "Swimlane of the SOP: one lane per responsible role");
      box.replaceChildren(svg);
      box.dataset.state = "ready";
    } catch (e) {
      if (seq !== this.#diagramSeq) return;
      box.dataset.state = "error";
      box.replaceChildren(h("p", { class: "error", role: "alert" }, `Couldn't draw the swimlane — ${e instanceof Error ? e.message : String(e)}`));
    }
  }

  // ---- the form --------------------------------------------------------------------------

  #renderForm(): void {
    const s = this.#sop;
    const form = this.#els.form;
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.path;
    form.replaceChildren();
    if (!this.#name) {
      form.append(
        h("div", { class: "field" }, h("label", { for: "sop-id" }, "SOP id"), h("p", { id: "sop-id-hint", class: "hint" }, "Optional: a-z, 0-9 and -, starting with a letter; sopd makes one from the title when empty."), this.#els.sopId),
      );
    }
    form.append(
      this.#text("Title", "title", s, "title", { required: true }),
      this.#text("Purpose", "purpose", s, "purpose", { multiline: true }),
      h(
        "div",
        { class: "cols" },
        this.#text("Owner (job title)", "owner", s, "owner", { required: true }),
        this.#text("Owner's user id", "owner_user_id", s, "ownerUserId"),
      ),
      h(
        "div",
        { class: "cols" },
        this.#select("Review cycle", "review_cycle", s, "reviewCycle", REVIEW_CYCLES),
        this.#select("Funnel stage", "funnel_stage", s, "funnelStage", FUNNEL_STAGES),
        this.#text("Anchor field", "anchor_field", s, "anchorField", { placeholder: "status_changed_at" }),
      ),
      this.#text("Tags", "tags", s, "tags", { list: true, placeholder: "mql, handoff" }),
      this.#list("Targeting rules", "targeting_rules", s, "targetingRules", "rule", (r, p) => this.#rule(r, p), () => ({ recordTypes: ["Lead"], conditions: [] })),
      this.#list("Steps", "steps", s, "steps", "step", (st, p) => this.#step(st, p), () => ({ ordinal: (s.steps?.length ?? 0) + 1, title: "" })),
      this.#list("Cadence", "cadence", s, "cadence", "touch", (t, p) => this.#touch(t, p), () => ({ day: 1, channel: "CALL", action: "" })),
      this.#list("SLA terms", "sla_terms", s, "slaTerms", "term", (t, p) => this.#slaTerm(t, p), () => ({ name: "" })),
      this.#list("Disqualification codes", "disqualification_codes", s, "disqualificationCodes", "code", (c, p) =>
        h("div", { class: "cols" }, this.#text("Code", `${p}.code`, c, "code"), this.#text("Label", `${p}.label`, c, "label"), this.#text("Description", `${p}.description`, c, "description")),
      () => ({ code: "", label: "" })),
      this.#roles("Visible to (none checked: every role)", "visibility_roles", s, "visibilityRoles"),
      this.#roles("Approvers required before publishing", "required_approver_roles", s, "requiredApproverRoles"),
    );
    if (focused) form.querySelector<HTMLElement>(`[data-path="${CSS.escape(focused)}"]`)?.focus();
    this.#paintViolations();
  }

  #id(path: string): string {
    return `f-${path.replace(/[^a-zA-Z0-9]+/g, "-")}`;
  }

  #text(label: string, path: string, obj: Obj, key: string, opts: { multiline?: boolean; number?: boolean; required?: boolean; list?: boolean; duration?: boolean; placeholder?: string; alias?: string } = {}): HTMLElement {
    const id = this.#id(path);
    const input = opts.multiline ? h("textarea", { id, rows: "3" }) : h("input", { id, type: opts.number ? "number" : "text" });
    input.dataset.path = path;
    if (opts.alias) input.dataset.alias = opts.alias;
    if (opts.placeholder) input.setAttribute("placeholder", opts.placeholder);
    if (opts.required) input.setAttribute("aria-required", "true");
    const v = obj[key];
    input.value = opts.list ? (v ?? []).join(", ") : opts.duration ? (v ? humanDuration(String(v)) : "") : v === undefined || v === null ? "" : String(v);
    input.addEventListener("input", () => {
      const t = input.value;
      this.#local.delete(path);
      if (t.trim() === "") delete obj[key];
      else if (opts.list) obj[key] = splitList(t);
      else if (opts.number) obj[key] = Number(t);
      else if (opts.duration) {
        const d = protoDuration(t);
        if (d === undefined) {
          delete obj[key];
          this.#local.set(path, `"${t}" is not a duration: write e.g. 5m, 2h, 1h30m, 1d or 90s`);
        } else obj[key] = d;
      } else obj[key] = t;
      this.#changed();
    });
    return h("div", { class: "field" }, h("label", { for: id }, label, opts.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : ""), input);
  }

  #select(label: string, path: string, obj: Obj, key: string, values: readonly string[], labels?: (v: string) => string): HTMLElement {
    const id = this.#id(path);
    const sel = h("select", { id, "data-path": path });
    sel.append(new Option("—", ""));
    for (const v of values) sel.append(new Option(labels ? labels(v) : v, v));
    sel.value = obj[key] ?? "";
    sel.addEventListener("change", () => {
      if (sel.value) obj[key] = sel.value;
      else delete obj[key];
      this.#changed();
    });
    return h("div", { class: "field" }, h("label", { for: id }, label), sel);
  }

  #roles(legend: string, path: string, obj: Obj, key: string): HTMLElement {
    const fs = h("fieldset", { class: "roles-box", "data-path": path }, h("legend", {}, legend));
    for (const r of ROLES) {
      const id = this.#id(`${path}-${r}`);
      const cb = h("input", { type: "checkbox", id, value: r });
      cb.checked = (obj[key] ?? []).includes(r);
      cb.addEventListener("change", () => {
        const set = new Set<string>(obj[key] ?? []);
        if (cb.checked) set.add(r);
        else set.delete(r);
        const next = ROLES.filter((x) => set.has(x));
        if (next.length) obj[key] = next;
        else delete obj[key];
        this.#changed();
      });
      fs.append(h("span", { class: "check" }, cb, h("label", { for: id }, roleLabel(r))));
    }
    return fs;
  }

  #list(legend: string, path: string, obj: Obj, key: string, noun: string, item: (o: Obj, p: string) => HTMLElement, make: () => Obj): HTMLElement {
    const fs = h("fieldset", { class: "list", "data-path": path }, h("legend", {}, legend));
    const items: Obj[] = obj[key] ?? [];
    items.forEach((o, i) => {
      const p = `${path}[${i}]`;
      const box = h("fieldset", { class: "item", "data-path": p }, h("legend", {}, `${noun[0].toUpperCase()}${noun.slice(1)} ${i + 1}`));
      const remove = h("button", { type: "button", class: "link remove", "data-remove": p }, `Remove ${noun} ${i + 1}`);
      remove.addEventListener("click", () => {
        items.splice(i, 1);
        if (items.length === 0) delete obj[key];
        this.#renderForm();
        this.#changed();
      });
      box.append(item(o, p), remove);
      fs.append(box);
    });
    const add = h("button", { type: "button", class: "secondary add", "data-add": path }, `Add ${noun}`);
    add.addEventListener("click", () => {
      obj[key] = [...items, make()];
      this.#renderForm();
      this.#changed();
      this.#els.form.querySelector<HTMLElement>(`[data-path^="${CSS.escape(`${path}[${items.length}]`)}"]:is(input,select,textarea)`)?.focus();
    });
    fs.append(add);
    return fs;
  }

  #conditions(path: string, obj: Obj): HTMLElement {
    return this.#list("Conditions (all must hold)", path, obj, "conditions", "condition", (c, p) => this.#condition(c, p), () => ({ field: "", equals: "" }));
  }

  #condition(c: Obj, p: string): HTMLElement {
    const op = opOf(c);
    const opId = this.#id(`${p}.op`);
    const sel = h("select", { id: opId, "data-path": `${p}.op` });
    for (const o of OPS) sel.append(new Option(OP_LABEL[o], o));
    sel.value = op;
    const valId = this.#id(`${p}.value`);
    const alias = OPS.map((o) => `${p}.${camelToSnake(o)}`).join(" ");
    const val = h("input", { id: valId, "data-path": `${p}.${camelToSnake(op)}`, "data-alias": alias, type: "text" });
    const show = (o: Op): string => {
      if (o === "anyOf" || o === "noneOf") return listText(c[o]);
      if (o === "range") return `${c.range?.min ?? ""}..${c.range?.max ?? ""}`;
      if (o === "exists") return "";
      return valueText(c[o]);
    };
    val.value = show(op);
    val.disabled = op === "exists";
    const write = () => {
      const o = sel.value as Op;
      for (const x of OPS) delete c[x];
      const t = val.value;
      if (o === "equals") c.equals = typedValue(t);
      else if (o === "anyOf" || o === "noneOf") c[o] = splitList(t).map(typedValue);
      else if (o === "prefix") c.prefix = t;
      else if (o === "exists") c.exists = true;
      else {
        const [lo, hi] = t.split("..");
        const r: Obj = {};
        if (lo?.trim()) r.min = Number(lo);
        if (hi?.trim()) r.max = Number(hi);
        c.range = r;
      }
      val.dataset.path = `${p}.${camelToSnake(o)}`;
      val.disabled = o === "exists";
      this.#changed();
    };
    sel.addEventListener("change", write);
    val.addEventListener("input", write);
    return h(
      "div",
      { class: "cols condition" },
      this.#text("Field", `${p}.field`, c, "field", { placeholder: "lead_status" }),
      h("div", { class: "field" }, h("label", { for: opId }, "Operator"), sel),
      h("div", { class: "field" }, h("label", { for: valId }, "Value"), val),
    );
  }

  #rule(r: Obj, p: string): HTMLElement {
    return h(
      "div",
      {},
      h(
        "div",
        { class: "cols" },
        this.#text("Record types", `${p}.record_types`, r, "recordTypes", { list: true, placeholder: "Lead, Contact" }),
        this.#text("Priority (0–1000)", `${p}.priority`, r, "priority", { number: true }),
        this.#text("Description", `${p}.description`, r, "description"),
      ),
      this.#conditions(`${p}.conditions`, r),
    );
  }

  #step(st: Obj, p: string): HTMLElement {
    const tl: Obj = st.timeLimit ?? {};
    const tlWrap = (key: string, label: string, opts: { duration?: boolean } = {}) => {
      const field = this.#text(label, `${p}.time_limit.${camelToSnake(key)}`, tl, key, opts);
      // Bubbling: after the input's own handler has written `tl`.
      field.addEventListener("input", () => {
        if (Object.keys(tl).length) st.timeLimit = tl;
        else delete st.timeLimit;
      });
      return field;
    };
    const durationField = tlWrap("duration", "Time limit", { duration: true });
    const durInput = durationField.querySelector("input");
    if (durInput) {
      durInput.dataset.alias = `${p}.time_limit`;
      durInput.setAttribute("placeholder", "5m");
    }
    return h(
      "div",
      {},
      h(
        "div",
        { class: "cols" },
        this.#text("Ordinal", `${p}.ordinal`, st, "ordinal", { number: true }),
        this.#text("Title", `${p}.title`, st, "title", { required: true }),
        this.#select("Responsible role", `${p}.responsible_role`, st, "responsibleRole", ROLES, (r) => roleLabel(r as never)),
      ),
      this.#text("Instructions (Markdown)", `${p}.instructions`, st, "instructions", { multiline: true }),
      h("div", { class: "cols" }, durationField, tlWrap("anchorEvent", "Clock starts at (event)")),
      this.#list("Required CRM updates", `${p}.required_updates`, st, "requiredUpdates", "update", (u, up) => this.#fieldUpdate(u, up), () => ({ field: "" })),
    );
  }

  #fieldUpdate(u: Obj, p: string): HTMLElement {
    const id = this.#id(`${p}.value`);
    const val = h("input", { id, "data-path": `${p}.value`, type: "text" });
    val.value = u.value === undefined ? "" : valueText(u.value);
    val.addEventListener("input", () => {
      if (val.value.trim() === "") delete u.value;
      else u.value = typedValue(val.value);
      this.#changed();
    });
    return h("div", { class: "cols" }, this.#text("Field", `${p}.field`, u, "field"), h("div", { class: "field" }, h("label", { for: id }, "Value (empty: any)"), val), this.#text("Note", `${p}.note`, u, "note"));
  }

  #touch(t: Obj, p: string): HTMLElement {
    return h(
      "div",
      { class: "cols" },
      this.#text("Day", `${p}.day`, t, "day", { number: true }),
      this.#text("Within", `${p}.within`, t, "within", { duration: true, placeholder: "5m" }),
      this.#select("Channel", `${p}.channel`, t, "channel", CHANNELS),
      this.#text("Action", `${p}.action`, t, "action"),
      this.#text("Template", `${p}.template_name`, t, "templateName"),
    );
  }

  #slaTerm(t: Obj, p: string): HTMLElement {
    const id = this.#id(`${p}.threshold`);
    const val = h("input", { id, "data-path": `${p}.threshold`, "data-alias": `${p}.number ${p}.duration`, type: "text", placeholder: "75 or 5m" });
    val.value = t.number !== undefined ? String(t.number) : t.duration ? humanDuration(t.duration) : "";
    val.addEventListener("input", () => {
      delete t.number;
      delete t.duration;
      this.#local.delete(`${p}.threshold`);
      const s = val.value.trim();
      if (s === "") {
        // no threshold
      } else if (/^-?\d+(\.\d+)?$/.test(s)) t.number = Number(s);
      else {
        const d = protoDuration(s);
        if (d) t.duration = d;
        else this.#local.set(`${p}.threshold`, `"${s}" is neither a number nor a duration (5m, 2h, 1d)`);
      }
      this.#changed();
    });
    return h("div", { class: "cols" }, this.#text("Name", `${p}.name`, t, "name", { placeholder: "min_lead_score" }), h("div", { class: "field" }, h("label", { for: id }, "Threshold (number or duration)"), val), this.#text("Description", `${p}.description`, t, "description"));
  }

  // ---- save and submit -------------------------------------------------------------------

  #showError(text: string, ...extra: Node[]): void {
    const box = this.#els.error;
    box.replaceChildren(h("p", {}, text), ...extra);
    box.hidden = false;
  }

  #hideError(): void {
    this.#els.error.hidden = true;
    this.#els.error.replaceChildren();
  }

  /** Shows a call's field violations (BadRequest / PreconditionFailure) at their fields. */
  #showDetailViolations(e: ConnectError): number {
    const found = detailViolations(e.details).filter((v) => v.field);
    if (found.length === 0) return 0;
    if (this.#mode === "yaml") this.setMode("form");
    this.#setViolations(found.map((v) => ({ field: normPath(v.field), description: v.description, type: v.type })));
    return found.length;
  }

  async save(): Promise<boolean> {
    let sop: Obj;
    try {
      sop = { ...this.#currentSop() };
    } catch (e) {
      this.#showError(`The YAML does not parse — ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
      return false;
    }
    this.#hideError();
    this.#els.save.disabled = true;
    this.#els.status.textContent = "Saving…";
    try {
      let saved: SopJson;
      if (!this.#name) {
        delete sop.name;
        const sopId = this.#els.sopId.value.trim();
        saved = await this.#o.api.call<SopJson>(`${SOPS}/CreateSop`, { parent: this.#o.org, sop, ...(sopId ? { sopId } : {}) });
      } else {
        saved = await this.#o.api.call<SopJson>(`${SOPS}/UpdateSop`, { sop: { ...sop, name: this.#name, etag: this.#etag } });
      }
      const wasNew = !this.#name;
      this.#etag = saved.etag ?? "";
      this.#name = saved.name;
      this.root.dataset.etag = this.#etag;
      this.root.dataset.saved = saved.name ?? "";
      this.#dirty = false;
      this.root.dataset.dirty = "false";
      this.#els.title.textContent = `Edit: ${saved.title || saved.name}`;
      this.#els.status.textContent = `Saved: ${saved.name} (revision ${saved.revisionId ?? "?"}, draft).`;
      if (wasNew) {
        this.#els.sopId.closest(".field")?.remove();
        this.#o.onSaved?.(saved);
      }
      return true;
    } catch (e) {
      const err = toConnectError(e);
      this.#els.status.textContent = "";
      if (err.code === "aborted") {
        const reload = h("button", { type: "button", id: "reload-current", class: "secondary" }, "Load the current version (discards your edits)");
        reload.addEventListener("click", () => {
          this.#hideError();
          void this.start().then(() => this.#els.status.textContent = "Loaded the current version.");
        });
        this.root.dataset.conflict = "true";
        this.#showError(`Conflict: this SOP was changed by someone else since you opened it (${errorText(err)}). Your edits are still here, not saved. Copy what you need, then load the current version.`, reload);
      } else {
        const n = this.#showDetailViolations(err);
        this.#showError(`Save failed — ${errorText(err)}${n ? ` (${n} ${n === 1 ? "field" : "fields"} marked below)` : ""}`);
      }
      return false;
    } finally {
      this.#els.save.disabled = false;
    }
  }

  async submit(): Promise<void> {
    if (this.#dirty || !this.#name) {
      if (!(await this.save())) return;
    }
    this.#hideError();
    this.#els.submit.disabled = true;
    this.#els.status.textContent = "Submitting for review…";
    try {
      const sop = await this.#o.api.call<SopJson>(`${SOPS}/SubmitSop`, { name: this.#name, etag: this.#etag });
      this.#etag = sop.etag ?? "";
      this.root.dataset.etag = this.#etag;
      this.root.dataset.submitted = "true";
      const awaiting = (sop.review?.awaitingRoles ?? []).map((r) => roleLabel(r)).join(", ");
      this.#els.status.textContent = `Submitted for review${awaiting ? `: awaiting ${awaiting}` : ""}.`;
    } catch (e) {
      const err = toConnectError(e);
      this.#els.status.textContent = "";
      const n = this.#showDetailViolations(err);
      this.#showError(`Submit failed — ${errorText(err)}${n ? ` (${n} ${n === 1 ? "problem" : "problems"} marked at ${n === 1 ? "its field" : "their fields"})` : ""}`);
    } finally {
      this.#els.submit.disabled = false;
    }
  }

  // ---- preview ---------------------------------------------------------------------------

  async #readFile(): Promise<void> {
    const f = this.#els.previewFile.files?.[0];
    if (!f) return;
    this.#els.previewInput.value = await f.text();
  }

  async preview(): Promise<void> {
    const out = this.#els.previewResult;
    out.dataset.state = "loading";
    let records: CrmContextJson[];
    let draft: Obj;
    try {
      records = parseRecords(this.#els.previewInput.value, { recordType: this.#els.previewType.value.trim() || "Lead", crm: this.#els.previewCrm.value });
      draft = { ...this.#currentSop() };
    } catch (e) {
      out.dataset.state = "error";
      out.replaceChildren(h("p", { class: "error", role: "alert" }, e instanceof Error ? e.message.split("\n")[0] : String(e)));
      return;
    }
    if (records.length === 0) {
      out.dataset.state = "error";
      out.replaceChildren(h("p", { class: "error", role: "alert" }, "No records: paste CSV with a header row, or JSON Lines."));
      return;
    }
    if (this.#name) draft.name = this.#name;
    else delete draft.name;
    delete draft.etag;
    out.replaceChildren(h("p", { class: "hint", role: "status" }, `Previewing ${records.length} ${records.length === 1 ? "record" : "records"}…`));
    try {
      const res = await this.#o.api.call<PreviewTargetingResponseJson>(`${SOPS}/PreviewTargeting`, { parent: this.#o.org, draft, records });
      out.replaceChildren(this.#previewTable(res));
      out.dataset.state = "ready";
    } catch (e) {
      out.dataset.state = "error";
      out.replaceChildren(h("p", { class: "error", role: "alert" }, `Preview failed — ${errorText(e)}`));
    }
  }

  #previewTable(res: PreviewTargetingResponseJson): HTMLElement {
    const counts = h(
      "ul",
      { id: "preview-counts", class: "counts" },
      ...(
        [
          ["gained", res.gained],
          ["lost", res.lost],
          ["reranked", res.reranked],
          ["unchanged", res.unchanged],
          ["not matched", res.notMatched],
        ] as const
      ).map(([k, n]) => h("li", { "data-count": k.replace(" ", "_") }, h("strong", {}, String(n ?? 0)), ` ${k}`)),
    );
    const sopId = (n: string | undefined) => (n ? (n.split("/").pop() ?? n) : "—");
    const table = h(
      "table",
      { id: "preview-table", class: "preview-table" },
      h("caption", {}, "Each record: which SOP and step it gets today, and with this draft published"),
      h("thead", {}, h("tr", {}, ...["Record", "Change", "Current SOP", "Current step", "Preview SOP", "Preview step"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        ...(res.records ?? []).map((r: RecordPreviewJson) =>
          h(
            "tr",
            { "data-change": String(r.change ?? "CHANGE_UNSPECIFIED") },
            h("td", {}, r.recordId ?? ""),
            h("td", {}, h("span", { class: `chip change-${String(r.change ?? "").toLowerCase()}` }, String(r.change ?? "").replace(/_/g, " ").toLowerCase())),
            h("td", {}, sopId(r.currentSop)),
            h("td", {}, r.currentStep || "—"),
            h("td", {}, sopId(r.previewSop)),
            h("td", {}, r.previewStep || "—"),
          ),
        ),
      ),
    );
    return h("div", {}, counts, h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Preview table" }, table));
  }
}
