// <sop-panel>: shows which Standard Operating Procedure applies to the CRM record the rep
// has open, kept current by ContextService.WatchSops over Connect (JSON, HTTP/1.1).
//
// Inputs: attributes `server`, `record-type`, `token`, `allowed-origins`, `debounce`;
// properties `context`, `token`, `server`; and, inside an iframe, window messages
// {type: "sop-panel:context", context, token?} from an allowed origin.
// Output: the `sop-panel:state` event ({detail: {state}}) and the host's `data-state`.
// Methods: `validateTransition(newStatus)` before the host saves a status change (the code
// picker), `recordFirstContact()`, `retry()`. Events to AnalyticsService (src/analytics.ts):
// PANEL_SHOWN, STEP_COMPLETED, ASSET_OPENED, DISQUALIFIED, STATUS_CHANGED, FIRST_CONTACT.
import {
  type AssetJson,
  type CrmContextJson,
  type FieldUpdateJson,
  type LookupSopsResponseJson,
  type SopJson,
  type SopMatchJson,
  type StepJson,
  type ValidateTransitionResponseJson,
  type WatchSopsRequestJson,
  lookupSops,
  recordEvents,
  searchSops,
  validateTransition,
  watchSops,
  whoAmI,
  getSopDiagram,
} from "./api.js";
import { type EventJson, EventQueue, newEventId, orgOf } from "./analytics.js";
import { pickCode } from "./code-picker.js";
import { ConnectError, ConnectJsonClient, codeName, toConnectError } from "./connect.js";
import { type NormalizedContext, checkContext, contextKey } from "./context.js";
import {
  channelLabel,
  clock,
  conditionText,
  durationSeconds,
  humanDuration,
  roleLabel,
  spokenRemaining,
  timestampMs,
  valueText,
} from "./format.js";
import { renderDiagram } from "./diagram.js";
import { h } from "./dom.js";
import { searchBox } from "./search.js";
import { css } from "./styles.js";

export type PanelState =
  | "waiting" // no context yet
  | "loading"
  | "sop" // a matching SOP is shown
  | "no-match"
  | "unauthorized"
  | "reconnecting"
  | "error"
  | "malformed";

type View =
  | { kind: "waiting" }
  | { kind: "loading" }
  | { kind: "result" }
  | { kind: "unauthorized"; message: string }
  | { kind: "reconnecting"; retryAt: number; message: string }
  | { kind: "error"; message: string; retryAt?: number }
  | { kind: "malformed"; problem: string };

/** What `validateTransition(newStatus)` resolves to. */
export interface TransitionResult {
  /** The host may save the change. */
  allowed: boolean;
  /** The disqualification code the rep picked; "" when none was needed. */
  code: string;
  /** That code's label. */
  codeLabel: string;
  /** Why not, when not allowed: sopd's reason, or "cancelled". */
  reason: string;
  /** The rep closed the picker without a code. */
  cancelled: boolean;
  /**
   * false when the panel could not ask sopd (no record, an error, a sopd without the method):
   * then `allowed` is true and the host's own rules decide; `reason` says what failed.
   */
  checked: boolean;
  /** The SOP and revision that asked for the code (empty when none did). */
  sop: string;
  revisionId: string;
}

type EventType = "PANEL_SHOWN" | "STEP_COMPLETED" | "DISQUALIFIED" | "FIRST_CONTACT" | "ASSET_OPENED" | "STATUS_CHANGED";

/** The documented postMessage shape. */
export interface ContextMessage {
  type: "sop-panel:context";
  context: unknown;
  token?: string;
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const DEFAULT_DEBOUNCE_MS = 250;
const SILENT_RESUME_AFTER_MS = 2000;
/**
 * A stream whose last message is `reconnect` (sopd shutting down) is opened again after a random
 * wait up to this long, so that the panels of a whole sales floor do not all arrive at once.
 */
const RECONNECT_SPREAD_MS = 500;
const POLL_INTERVAL_MS = 30_000;

/** The SLA's name for a step's clock ("first contact"), from the SOP's SLA term of the same duration. */
function slaName(sop: SopJson, step: StepJson): string {
  const secs = durationSeconds(step.timeLimit?.duration);
  const term = (sop.slaTerms ?? []).find((t) => t.duration !== undefined && durationSeconds(t.duration) === secs);
  if (!term) return "Step deadline";
  const words = (term.name ?? "").replace(/_(window|sla|limit|deadline)$/, "").replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A User Timing mark (`sop-panel:<name>`) for performance tools; never throws. */
function mark(name: string): void {
  try {
    performance.mark(`sop-panel:${name}`);
  } catch {
    /* no User Timing here */
  }
}

// The Markdown renderer (marked + DOMPurify, two thirds of the bundle) is evaluated when a
// watch is first opened, not when the page loads the bundle: esbuild turns the dynamic import
// into a lazily initialised module inside the same file. A page where the panel has no record
// never pays for it, and one that has pays once its request is on the wire, not before.
type Markdown = typeof import("./markdown.js");
let markdown: Markdown | undefined;
let markdownLoad: Promise<Markdown> | undefined;

function loadMarkdown(): Promise<Markdown> {
  markdownLoad ??= import("./markdown.js").then(
    (m) => (markdown = m),
    (e: unknown) => {
      markdownLoad = undefined; // the next result tries again
      throw e;
    },
  );
  return markdownLoad;
}

/** Only after loadMarkdown() resolved: a result is rendered only once it has (see #run). */
function renderMarkdown(md: string): DocumentFragment {
  if (!markdown) throw new Error("sop-panel: the Markdown renderer is not loaded");
  return markdown.renderMarkdown(md);
}

let sheet: CSSStyleSheet | undefined;
function panelSheet(): CSSStyleSheet {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
  }
  return sheet;
}

type Outcome = "auth" | "fatal" | "retry" | "server";

function classify(e: ConnectError): Outcome {
  switch (e.code) {
    case "unauthenticated":
    case "permission_denied":
      return "auth";
    case "invalid_argument":
    case "not_found":
    case "failed_precondition":
    case "unimplemented":
    case "out_of_range":
      return "fatal";
    // src/connect.ts reports a failed network (fetch's TypeError) and a connection that ends
    // mid-stream as unavailable.
    case "unavailable":
    case "deadline_exceeded":
    case "aborted":
    case "resource_exhausted":
    case "canceled":
      return "retry";
    default:
      return "server";
  }
}

/** "Internal: lookup index unavailable: …" */
function errorText(e: ConnectError): string {
  return `${codeName(e.code)}: ${e.rawMessage}`;
}

/** Deep equality of two parsed JSON values (key order aside). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Where the diagram chunk is: beside this bundle (its <script>'s URL, captured while it runs). */
const BUNDLE_URL = (document.currentScript as HTMLScriptElement | null)?.src ?? "";

/** A swimlane drawn (or failed) for one SOP revision, kept across re-renders. */
interface Swimlane {
  box: HTMLElement;
  started: boolean;
}

export class SopPanelElement extends HTMLElement {
  static observedAttributes = ["server", "record-type", "token", "allowed-origins", "debounce"];

  #root: ShadowRoot;
  #region: HTMLElement;
  #content: HTMLElement;
  #live: HTMLElement;
  #rawContext: unknown = undefined;
  #ctx: NormalizedContext | undefined;
  #ctxKey = "";
  #tokenProp: string | undefined;
  #serverProp: string | undefined;
  #view: View = { kind: "waiting" };
  #result: LookupSopsResponseJson | undefined;
  #liveOk = false;
  #gen = 0;
  #abort: AbortController | undefined;
  #debounceTimer: ReturnType<typeof setTimeout> | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #wake: (() => void) | undefined;
  #clockOffsetMs = 0;
  #dropResult = false;
  #lastSpoken = "";
  #state: PanelState | undefined;
  #client: ConnectJsonClient | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #lastHeartbeatAt = 0;
  #heartbeatGapMs = 0;
  /** RecordEvents, batched and retried; see src/analytics.ts. */
  #events = new EventQueue((request, opts) => recordEvents(this.#getClient(), request, opts));
  /** The last SOP a PANEL_SHOWN was sent for (record, SOP, revision), so a re-render sends none. */
  #shownKey = "";
  /** Steps marked done (record, SOP, revision, ordinal). */
  #doneSteps = new Set<string>();
  /** The open code picker's cancel, so a second validateTransition() replaces the first. */
  #pickerAbort: AbortController | undefined;
  /** WhoAmI's org per token (the search's parent when neither the context nor an SOP says). */
  #orgByToken = new Map<string, Promise<string>>();
  /** The Swimlane section's body per SOP revision, so a re-render neither fetches nor draws again. */
  #swimlanes = new Map<string, Swimlane>();

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    if ("adoptedStyleSheets" in this.#root) {
      this.#root.adoptedStyleSheets = [panelSheet()];
    } else {
      // Older engines: a <style> element (needs style-src 'unsafe-inline' under a strict CSP).
      const s = document.createElement("style");
      s.textContent = css;
      (this.#root as ShadowRoot).append(s);
    }
    this.#live = h("div", { class: "visually-hidden", attrs: { "aria-live": "polite", "aria-atomic": "true" } });
    this.#content = h("div", { class: "content" });
    const search = searchBox((query, signal) => this.#search(query, signal));
    this.#region = h("section", { class: "panel", attrs: { role: "region", "aria-label": "Standard operating procedure" } }, this.#content, search, this.#live);
    this.#root.append(this.#region);
  }

  // ---- public API -------------------------------------------------------------------------

  /** The record context: {recordType, recordId, fields: {lead_status: ..., ...}}. */
  get context(): unknown {
    return this.#rawContext;
  }
  set context(value: unknown) {
    this.#rawContext = value;
    this.#contextChanged();
  }

  /** The bearer token (preferred over the attribute: it does not show in the DOM). */
  get token(): string {
    return this.#tokenProp ?? this.getAttribute("token") ?? "";
  }
  set token(value: string | null | undefined) {
    const next = value ?? undefined;
    if (next === this.#tokenProp) return;
    this.#tokenProp = next;
    this.#restart();
  }

  /** The server's base URL; default: the page's origin. */
  get server(): string {
    return this.#serverProp ?? this.getAttribute("server") ?? "";
  }
  set server(value: string | null | undefined) {
    this.#serverProp = value ?? undefined;
    this.#restart();
  }

  /** The state being shown. */
  get state(): PanelState {
    return this.#state ?? "waiting";
  }

  /** Reconnects now (e.g. after the host refreshed the token). */
  retry(): void {
    this.#restart();
  }

  /**
   * Call before saving a status change of the record in `context` (still as it is before the
   * change). Asks sopd (ContextService.ValidateTransition) whether the SOPs that apply need a
   * disqualification code for `newStatus`; when they do, shows the code picker and resolves
   * once the rep confirmed a code sopd allows (or cancelled). Records DISQUALIFIED (with the
   * code) and STATUS_CHANGED when the change may be saved. Never rejects for a server problem:
   * see TransitionResult.checked.
   */
  async validateTransition(newStatus: string): Promise<TransitionResult> {
    if (typeof newStatus !== "string" || newStatus.trim() === "") throw new TypeError("validateTransition: newStatus must be a non-empty string");
    const result: TransitionResult = { allowed: true, code: "", codeLabel: "", reason: "", cancelled: false, checked: false, sop: "", revisionId: "" };
    const ctx = this.#ctx;
    if (!ctx) return { ...result, reason: "the panel has no record context" };
    const context = this.#contextJson(ctx);
    const call = (code: string) => validateTransition(this.#getClient(), { context, newStatus, code }, { headers: this.#headers() });
    let res: ValidateTransitionResponseJson;
    try {
      res = await call("");
    } catch (e) {
      const err = toConnectError(e);
      console.debug("sop-panel: ValidateTransition failed; the host decides", err.message);
      return { ...result, reason: errorText(err) };
    }
    const top = this.#topMatch();
    const sop = res.sop || top?.sop || "";
    const revisionId = res.sop ? (res.revisionId ?? "") : (top?.revisionId ?? "");
    Object.assign(result, { checked: true, sop: res.sop ?? "", revisionId: res.revisionId ?? "" });
    if (!res.codeRequired) {
      if (!res.allowed) return { ...result, allowed: false, reason: res.reason ?? "" };
      if (sop) this.#record("STATUS_CHANGED", sop, revisionId, context, { newStatus });
      return result;
    }
    this.#pickerAbort?.abort();
    const ac = new AbortController();
    this.#pickerAbort = ac;
    const picked = await pickCode(
      this.#root,
      {
        newStatus,
        codes: res.allowedCodes ?? [],
        confirm: async (code) => {
          try {
            const again = await call(code);
            return again.allowed ? "" : again.reason || "sopd does not allow this code";
          } catch (e) {
            throw new Error(errorText(toConnectError(e)));
          }
        },
      },
      ac.signal,
    );
    if (this.#pickerAbort === ac) this.#pickerAbort = undefined;
    if (!picked) return { ...result, allowed: false, cancelled: true, reason: "cancelled" };
    const code = picked.code ?? "";
    this.#record("DISQUALIFIED", sop, revisionId, context, { code });
    this.#record("STATUS_CHANGED", sop, revisionId, context, { newStatus });
    return { ...result, code, codeLabel: picked.label ?? "" };
  }

  /**
   * Records the rep's first contact with the record (FIRST_CONTACT, now) against the SOP shown;
   * sopd measures it against that SOP's first-contact window. False when no SOP is shown.
   */
  recordFirstContact(): boolean {
    const top = this.#topMatch();
    if (!top?.sop || !this.#ctx || this.#state !== "sop") return false;
    this.#record("FIRST_CONTACT", top.sop, top.revisionId ?? "", this.#contextJson(this.#ctx), {});
    return true;
  }

  // ---- lifecycle --------------------------------------------------------------------------

  connectedCallback(): void {
    // A host may set properties before this script defined the element: those landed on the
    // instance and would shadow the accessors. Re-apply them through the accessors.
    for (const prop of ["token", "server", "context"] as const) {
      if (Object.hasOwn(this, prop)) {
        const value = (this as Record<string, unknown>)[prop];
        delete (this as Record<string, unknown>)[prop];
        (this as Record<string, unknown>)[prop] = value;
      }
    }
    window.addEventListener("message", this.#onMessage);
    window.addEventListener("online", this.#onOnline);
    window.addEventListener("pagehide", this.#onPageHide);
    if (window.parent !== window) this.#announceReady();
    if (this.#rawContext === undefined) this.#render();
    else this.#restart();
  }

  disconnectedCallback(): void {
    window.removeEventListener("message", this.#onMessage);
    window.removeEventListener("online", this.#onOnline);
    window.removeEventListener("pagehide", this.#onPageHide);
    this.#pickerAbort?.abort();
    this.#events.flushNow(true);
    this.#stop();
  }

  attributeChangedCallback(name: string, oldValue: string | null, newValue: string | null): void {
    if (oldValue === newValue || !this.isConnected) return;
    if (name === "server" || name === "token") this.#restart();
    else if (name === "record-type") this.#contextChanged();
    else if (name === "allowed-origins" && window.parent !== window) this.#announceReady();
  }

  // ---- context & postMessage --------------------------------------------------------------

  #allowedOrigins(): string[] {
    return (this.getAttribute("allowed-origins") ?? "")
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter((s) => s !== "" && s !== "*");
  }

  #announceReady(): void {
    for (const origin of this.#allowedOrigins()) {
      try {
        window.parent.postMessage({ type: "sop-panel:ready" }, origin);
      } catch {
        /* a malformed origin in the list: ignore */
      }
    }
  }

  #onMessage = (ev: MessageEvent): void => {
    const allowed = this.#allowedOrigins();
    if (allowed.length === 0 || !allowed.includes(ev.origin)) return;
    const data = ev.data as Partial<ContextMessage> | null;
    if (!data || typeof data !== "object" || data.type !== "sop-panel:context") return;
    if (typeof data.token === "string" && data.token !== this.#tokenProp) {
      this.#tokenProp = data.token;
      this.#ctxKey = ""; // force a new watch with the new token
      this.#dropResult = true; // and never show the old token's result meanwhile
    }
    this.context = data.context;
  };

  #onOnline = (): void => {
    this.#wake?.();
    this.#events.online();
  };

  #onPageHide = (): void => {
    this.#events.flushNow(true);
  };

  // ---- events, transitions, search ----------------------------------------------------------

  #contextJson(ctx: NormalizedContext): CrmContextJson {
    const c: CrmContextJson = { recordType: ctx.recordType, recordId: ctx.recordId, fields: ctx.fields };
    if (ctx.org) c.org = ctx.org;
    return c;
  }

  #topMatch(): SopMatchJson | undefined {
    return this.#result?.matches?.[0];
  }

  /** Queues an event; sent later, batched (never awaited: nothing here waits on the network). */
  #record(type: EventType, sop: string, revisionId: string, context: CrmContextJson, extra: Partial<EventJson>): void {
    // sopd attributes events to a record: a context without recordId has nothing to count on.
    if (!context.recordId) {
      console.debug(`sop-panel analytics: no recordId in the context, ${type} not recorded`);
      return;
    }
    const event: EventJson = { eventId: newEventId(), type, eventTime: new Date().toISOString(), sop, revisionId, context, ...extra };
    const token = this.token;
    this.#events.add(event, context.org || orgOf(sop), token ? `Bearer ${token}` : "");
  }

  /** PANEL_SHOWN once per SOP shown on a record: after the paint, so it never delays it. */
  #noteShown(): void {
    const top = this.#topMatch();
    const ctx = this.#ctx;
    if (!top?.sop || !ctx) return;
    const key = JSON.stringify([ctx.org, ctx.recordType, ctx.recordId, top.sop, top.revisionId ?? ""]);
    if (key === this.#shownKey) return;
    this.#shownKey = key;
    const context = this.#contextJson(ctx);
    const sop = top.sop;
    const revisionId = top.revisionId ?? "";
    requestAnimationFrame(() => setTimeout(() => this.#record("PANEL_SHOWN", sop, revisionId, context, {}), 0));
  }

  #stepKey(top: SopMatchJson, ordinal: number): string {
    const ctx = this.#ctx;
    return JSON.stringify([ctx?.org, ctx?.recordType, ctx?.recordId, top.sop, top.revisionId ?? "", ordinal]);
  }

  /** A "Done" toggle for a step: STEP_COMPLETED once, then it shows the step as done. */
  #doneButton(step: StepJson): HTMLElement | null {
    const top = this.#topMatch();
    if (!top?.sop) return null;
    const ordinal = step.ordinal ?? 0;
    const key = this.#stepKey(top, ordinal);
    const b = h("button", { class: "done", attrs: { type: "button", "data-key": `done:${ordinal}`, "aria-label": `Mark step ${ordinal} done: ${step.title ?? ""}` } });
    const paint = () => {
      const done = this.#doneSteps.has(key);
      b.textContent = done ? "✓ Done" : "Done";
      b.setAttribute("aria-pressed", String(done));
      b.disabled = done;
      if (done) b.setAttribute("aria-label", `Step ${ordinal} done: ${step.title ?? ""}`);
    };
    b.addEventListener("click", () => {
      const ctx = this.#ctx;
      if (this.#doneSteps.has(key) || !ctx || !top.sop) return;
      this.#doneSteps.add(key);
      paint();
      this.#record("STEP_COMPLETED", top.sop, top.revisionId ?? "", this.#contextJson(ctx), { stepOrdinal: ordinal });
    });
    paint();
    return b;
  }

  /** The search's parent: the context's org, the shown SOP's, or the token's (WhoAmI). */
  async #searchOrg(signal: AbortSignal): Promise<string> {
    const org = this.#ctx?.org || orgOf(this.#topMatch()?.sop ?? "");
    if (org) return org;
    const token = this.token;
    let known = this.#orgByToken.get(token);
    if (!known) {
      known = whoAmI(this.#getClient(), { headers: this.#headers(), signal }).then((me) => me.org ?? "");
      known.catch(() => this.#orgByToken.delete(token));
      this.#orgByToken.set(token, known);
    }
    return known;
  }

  async #search(query: string, signal: AbortSignal) {
    try {
      const parent = await this.#searchOrg(signal);
      return await searchSops(this.#getClient(), { parent, query, pageSize: 5 }, { headers: this.#headers(), signal });
    } catch (e) {
      throw new Error(errorText(toConnectError(e)));
    }
  }

  #debounceMs(): number {
    const n = Number(this.getAttribute("debounce"));
    return Number.isFinite(n) && n >= 0 && this.hasAttribute("debounce") ? n : DEFAULT_DEBOUNCE_MS;
  }

  #contextChanged(): void {
    if (!this.isConnected) return;
    if (this.#rawContext === undefined || this.#rawContext === null) {
      this.#stop();
      this.#ctx = undefined;
      this.#ctxKey = "";
      this.#setView({ kind: "waiting" });
      return;
    }
    const check = checkContext(this.#rawContext, this.getAttribute("record-type") ?? "");
    if (!check.ok) {
      this.#stop();
      this.#ctx = undefined;
      this.#ctxKey = "";
      this.#result = undefined;
      this.#setView({ kind: "malformed", problem: check.problem });
      return;
    }
    const key = contextKey(check.context);
    if (key === this.#ctxKey && this.#view.kind !== "malformed") return;
    const prev = this.#ctx;
    this.#ctx = check.context;
    this.#ctxKey = key;
    clearTimeout(this.#debounceTimer);
    if (!prev) {
      this.#restart();
    } else {
      const sameRecord = prev.recordType === check.context.recordType && prev.recordId === check.context.recordId && prev.org === check.context.org;
      this.#debounceTimer = setTimeout(() => this.#restart(sameRecord), this.#debounceMs());
    }
  }

  // ---- the watch --------------------------------------------------------------------------

  #getClient(): ConnectJsonClient {
    const base = (this.server || window.location.origin).replace(/\/+$/, "");
    if (this.#client?.baseUrl !== base) this.#client = new ConnectJsonClient(base);
    return this.#client;
  }

  /** Per call, so a token set while a stream is down is the one the reconnect sends. */
  #headers(): Record<string, string> {
    const token = this.token;
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  #stop(): void {
    this.#gen++;
    clearTimeout(this.#debounceTimer);
    clearTimeout(this.#watchdog);
    this.#abort?.abort();
    this.#abort = undefined;
    this.#wake?.();
    this.#wake = undefined;
    this.#stopTick();
  }

  /**
   * Opens a new watch. keepResult: the same record's fields changed, so the SOP on screen stays
   * (marked busy) until the new result replaces it, instead of flashing the loading state on
   * every keystroke. Never kept across a token, server or record change.
   */
  #restart(keepResult = false): void {
    if (!this.isConnected) return;
    this.#stop();
    if (!this.#ctx) {
      if (this.#rawContext !== undefined) this.#contextChanged();
      else this.#setView({ kind: "waiting" });
      return;
    }
    if (keepResult && !this.#dropResult && this.#result && this.#view.kind === "result") {
      this.#region.setAttribute("aria-busy", "true");
      this.#startTick();
    } else {
      this.#result = undefined;
      this.#liveOk = false;
      this.#setView({ kind: "loading" });
    }
    this.#dropResult = false;
    const gen = this.#gen;
    void this.#run(gen, this.#ctx);
  }

  #sleep(ms: number, gen: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      if (gen === this.#gen) this.#wake = done;
    });
  }

  #armWatchdog(ac: AbortController): void {
    clearTimeout(this.#watchdog);
    if (this.#heartbeatGapMs <= 0) return; // the server has not shown it heartbeats
    const limit = Math.max(3 * this.#heartbeatGapMs, 10_000);
    this.#watchdog = setTimeout(() => ac.abort(new ConnectError("no heartbeat from the server", "unavailable")), limit);
  }

  async #run(gen: number, ctx: NormalizedContext): Promise<void> {
    let attempt = 0;
    // Field values are google.protobuf.Value, whose JSON is the value itself.
    const request: WatchSopsRequestJson = {
      context: { org: ctx.org, recordType: ctx.recordType, recordId: ctx.recordId, fields: ctx.fields },
      maxResults: 5,
    };
    // A server without WatchSops (UNIMPLEMENTED before any message) is polled with LookupSops.
    let polling = false;
    while (gen === this.#gen && this.isConnected) {
      const ac = new AbortController();
      this.#abort = ac;
      this.#lastHeartbeatAt = 0;
      this.#heartbeatGapMs = 0;
      let failure: ConnectError | undefined;
      const openedAt = Date.now();
      let delivered = false;
      let toldToReconnect = false;
      if (polling) {
        try {
          const result = await lookupSops(this.#getClient(), { context: request.context, maxResults: request.maxResults }, { signal: ac.signal, headers: this.#headers() });
          if (!markdown) await loadMarkdown();
          if (gen !== this.#gen) return;
          attempt = 0;
          this.#result = result;
          this.#liveOk = true;
          this.#setView({ kind: "result" });
          await this.#sleep(POLL_INTERVAL_MS, gen);
          continue;
        } catch (e) {
          if (gen !== this.#gen) return;
          failure = toConnectError(e);
        }
      }
      if (!polling) {
        try {
          mark("watch-open");
          const stream = watchSops(this.#getClient(), request, { signal: ac.signal, headers: this.#headers() });
          // Set up the Markdown renderer while the request is out: the import resolves in a
          // microtask, so after the loop below has sent the request, and usually well before the
          // answer is back. (Failure is handled where a result needs it.)
          if (!markdown) loadMarkdown().catch(() => {});
          for await (const msg of stream) {
            if (gen !== this.#gen) return;
            if (!delivered) mark("watch-first-message");
            delivered = true;
            this.#armWatchdog(ac);
            // The oneof `event`: proto3 JSON names the member that is set (an empty result is {}).
            if (msg.result !== undefined) {
              if (!markdown) {
                await loadMarkdown();
                if (gen !== this.#gen) return;
              }
              attempt = 0;
              const prev = this.#result;
              const unchanged = this.#view.kind === "result" && prev !== undefined && jsonEqual(prev, msg.result);
              this.#result = msg.result;
              this.#liveOk = true;
              // A re-opened stream repeats the result: leave the DOM (selection, scroll) alone.
              if (unchanged) this.#publishState(this.#state ?? "sop");
              else this.#setView({ kind: "result" });
            } else if (msg.reconnect !== undefined) {
              // sopd is shutting down: its end-of-stream (unavailable) follows. Not an error to
              // show: open the watch again, reaching a server that is up.
              toldToReconnect = true;
              break;
            } else if (msg.heartbeat !== undefined) {
              this.#onHeartbeat(msg.heartbeat.sendTime);
              this.#armWatchdog(ac);
              if (!this.#liveOk && this.#result) {
                this.#liveOk = true;
                this.#setView({ kind: "result" });
              }
            }
          }
          if (gen !== this.#gen) return;
          failure = new ConnectError(toldToReconnect ? "the server asked to reconnect" : "the server closed the stream", "unavailable");
        } catch (e) {
          if (gen !== this.#gen) return;
          failure = toConnectError(ac.signal.aborted && ac.signal.reason instanceof ConnectError ? ac.signal.reason : e);
        } finally {
          clearTimeout(this.#watchdog);
        }
      }
      if (failure === undefined) continue; // not reached: both paths above end in a failure
      if (toldToReconnect) {
        // Keeps the result on screen; the reconnecting state shows only if the new watch fails.
        attempt = 0;
        await this.#sleep(Math.round(Math.random() * RECONNECT_SPREAD_MS), gen);
        continue;
      }
      if (!polling && !delivered && failure.code === "unimplemented") {
        polling = true;
        continue;
      }
      const outcome = classify(failure);
      if (outcome === "auth") {
        this.#result = undefined;
        this.#setView({ kind: "unauthorized", message: failure.rawMessage || codeName(failure.code) });
        return;
      }
      if (outcome === "fatal") {
        this.#result = undefined;
        this.#setView({ kind: "error", message: errorText(failure) });
        return;
      }
      // A stream that was live for a while and then ended (the server's stream deadline, a
      // proxy's idle cut, a restart) is re-opened at once, keeping the result on screen; the
      // reconnecting state shows only if that fails. A stream that dies young backs off.
      if (outcome === "retry" && delivered && Date.now() - openedAt >= SILENT_RESUME_AFTER_MS) {
        attempt = 0;
        continue;
      }
      attempt++;
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (attempt - 1));
      const delay = Math.round(base * (0.8 + Math.random() * 0.4));
      const retryAt = Date.now() + delay;
      this.#liveOk = false;
      if (outcome === "server") {
        this.#setView({ kind: "error", message: errorText(failure), retryAt });
      } else {
        this.#setView({ kind: "reconnecting", retryAt, message: failure.rawMessage });
      }
      await this.#sleep(delay, gen);
    }
  }

  #onHeartbeat(sendTime: string | undefined): void {
    const now = Date.now();
    if (this.#lastHeartbeatAt > 0) this.#heartbeatGapMs = now - this.#lastHeartbeatAt;
    else this.#heartbeatGapMs = 30_000;
    this.#lastHeartbeatAt = now;
    const sent = sendTime ? timestampMs(sendTime) : Number.NaN;
    if (!Number.isNaN(sent)) {
      const offset = sent - now;
      // Correct the countdown only for a real clock difference, not network delay.
      this.#clockOffsetMs = Math.abs(offset) > 2000 ? offset : 0;
    }
  }

  // ---- rendering --------------------------------------------------------------------------

  #setView(view: View): void {
    this.#view = view;
    this.#render();
  }

  #publishState(state: PanelState): void {
    this.setAttribute("data-state", state);
    this.#region.setAttribute("aria-busy", state === "loading" ? "true" : "false");
    if (state === this.#state) return;
    this.#state = state;
    this.dispatchEvent(new CustomEvent("sop-panel:state", { detail: { state }, bubbles: true, composed: true }));
  }

  #render(): void {
    // Keep what the rep opened or picked across re-renders.
    const open = new Set(
      Array.from(this.#content.querySelectorAll<HTMLDetailsElement>("details[data-key]"))
        .filter((d) => d.open)
        .map((d) => d.dataset.key ?? ""),
    );
    const picks = new Map(
      Array.from(this.#content.querySelectorAll<HTMLSelectElement>("select[data-key]")).map((s) => [s.dataset.key ?? "", s.value]),
    );
    const focusedKey = (this.#root.activeElement as HTMLElement | null)?.dataset?.key;

    this.#stopTick();
    const v = this.#view;
    let nodes: Node[];
    let state: PanelState;
    switch (v.kind) {
      case "waiting":
        state = "waiting";
        nodes = [this.#stateBlock("waiting", "No record open", "Open a lead, contact or opportunity to see the procedure that applies to it.")];
        break;
      case "loading":
        state = "loading";
        nodes = this.#loading();
        break;
      case "malformed":
        state = "malformed";
        nodes = [
          this.#stateBlock("error", "Can't read this record", "The CRM sent a record context the panel cannot use, so no procedure is shown.", v.problem),
        ];
        break;
      case "unauthorized":
        state = "unauthorized";
        nodes = [
          this.#stateBlock(
            "unauthorized",
            "Not signed in",
            "Your session with SOP Sidebar is missing or has expired. Sign in again (or reload the CRM page) to see procedures.",
            v.message,
          ),
        ];
        break;
      case "error": {
        state = "error";
        const block = this.#stateBlock("error", "Couldn't load procedures", "The SOP server answered with an error.", v.message);
        block.append(this.#retryLine(v.retryAt));
        nodes = [block];
        break;
      }
      case "reconnecting": {
        state = "reconnecting";
        const banner = h("div", { class: "banner", attrs: { role: "status" } }, h("span", { text: "Offline — reconnecting…" }), this.#retryButton());
        if (this.#result) {
          nodes = [banner, ...this.#resultNodes(this.#result, true)];
        } else {
          const block = this.#stateBlock("reconnecting", "Can't reach the SOP server", "The panel reconnects by itself as soon as the server is back.", v.message);
          block.append(this.#retryLine(v.retryAt));
          nodes = [block];
        }
        break;
      }
      case "result": {
        const r = this.#result;
        if (!r || !r.matches?.length) {
          state = "no-match";
          nodes = [
            this.#eyebrow(),
            this.#stateBlock("empty", "No procedure for this record", "No published SOP applies to this record right now. It updates as soon as one does."),
          ];
        } else {
          state = "sop";
          nodes = this.#resultNodes(r, false);
        }
        break;
      }
    }
    if (state !== "sop" && state !== "no-match" && !(state === "reconnecting" && this.#result)) nodes.unshift(this.#eyebrow(null));
    this.#content.replaceChildren(...nodes);

    for (const d of this.#content.querySelectorAll<HTMLDetailsElement>("details[data-key]")) {
      if (open.has(d.dataset.key ?? "")) d.open = true;
    }
    for (const s of this.#content.querySelectorAll<HTMLSelectElement>("select[data-key]")) {
      const prev = picks.get(s.dataset.key ?? "");
      if (prev !== undefined) {
        s.value = prev;
        s.dispatchEvent(new Event("change"));
      }
    }
    if (focusedKey) this.#content.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
    if (state === "sop" && this.#state !== "sop") mark("sop-shown");
    this.#publishState(state);
    this.#startTick();
    if (state === "sop") this.#noteShown();
  }

  #eyebrow(stale: boolean | null = false): HTMLElement {
    return h(
      "p",
      { class: "eyebrow" },
      h("span", { text: "Procedure" }),
      stale === null ? null : h("span", { class: `live-dot${stale ? " off" : ""}`, text: stale ? "Reconnecting" : "Live" }),
    );
  }

  #stateBlock(kind: string, title: string, text: string, message?: string): HTMLElement {
    const role = kind === "error" || kind === "unauthorized" ? "alert" : "status";
    return h(
      "div",
      { class: `state ${kind}`, attrs: { role } },
      h("h2", { text: title }),
      h("p", { text }),
      message ? h("div", { class: "message", text: message }) : null,
    );
  }

  #retryButton(): HTMLButtonElement {
    const b = h("button", { text: "Retry now", attrs: { type: "button", "data-key": "retry" } });
    b.addEventListener("click", () => {
      if (this.#wake) this.#wake();
      else this.#restart();
    });
    return b;
  }

  #retryLine(retryAt?: number): HTMLElement {
    const p = h("p", { class: "note" });
    if (retryAt) p.append("Retrying automatically. ");
    p.append(this.#retryButton());
    return p;
  }

  #loading(): Node[] {
    return [
      h(
        "div",
        { attrs: { role: "status" } },
        h("span", { class: "visually-hidden", text: "Loading the procedure for this record…" }),
        h("div", { class: "skeleton h", attrs: { "aria-hidden": "true" } }),
        h("div", { class: "skeleton w60", attrs: { "aria-hidden": "true" } }),
        h("div", { class: "skeleton block", attrs: { "aria-hidden": "true" } }),
        h("div", { class: "skeleton", attrs: { "aria-hidden": "true" } }),
        h("p", { class: "spinner-text", text: "Finding the procedure for this record…", attrs: { "aria-hidden": "true" } }),
      ),
    ];
  }

  /** The owner's periodic review of this SOP is late: it may be out of date. */
  #staleBadge(due: string | undefined): HTMLElement {
    const date = due ? new Date(timestampMs(due)).toISOString().slice(0, 10) : "";
    return h("p", {
      class: "stale-badge",
      attrs: { role: "note" },
      text: date ? `Review overdue since ${date}: this procedure may be out of date` : "Review overdue: this procedure may be out of date",
    });
  }

  #resultNodes(r: LookupSopsResponseJson, stale: boolean): Node[] {
    const [top, ...others] = r.matches ?? [];
    const sop = top.sopBody;
    if (!sop) return [this.#stateBlock("error", "Couldn't show the procedure", "The server sent a match without its SOP.")];
    const nodes: Node[] = [this.#eyebrow(stale)];
    const article = h("article", { class: "sop", attrs: { "aria-labelledby": "sop-title" } });
    article.append(h("h2", { class: "title", text: sop.title ?? "", attrs: { id: "sop-title" } }));
    if (top.reviewOverdue) article.append(this.#staleBadge(top.nextReviewTime));
    if (sop.purpose) article.append(h("p", { class: "purpose", text: sop.purpose }));

    const steps = sop.steps ?? [];
    const idx = top.currentStepIndex ?? 0;
    const current = idx >= 0 && idx < steps.length ? steps[idx] : undefined;
    if (current) article.append(this.#currentStep(top, sop, current));
    else if (steps.length > 0) article.append(h("p", { class: "note", text: "No step applies to this record right now; the steps are listed below." }));

    if (sop.cadence?.length) article.append(...this.#cadence(sop, top.cadenceDay ?? 0));
    if (steps.length > 0) article.append(...this.#stepList(steps, idx));
    const assets = this.#allAssets(sop, current);
    if (assets) article.append(assets);
    article.append(this.#why(top));
    if (steps.length > 0) article.append(this.#swimlane(top));
    nodes.push(article);
    if (others.length > 0) nodes.push(this.#others(others));
    return nodes;
  }

  #currentStep(m: SopMatchJson, sop: SopJson, step: StepJson): HTMLElement {
    const box = h("div", { class: "step-current", attrs: { "aria-labelledby": "current-step-title", role: "group" } });
    box.append(h("p", { class: "step-label", text: `Current step · ${step.ordinal ?? 0} of ${sop.steps?.length ?? 0}` }));
    box.append(h("h3", { class: "step-title", text: step.title ?? "", attrs: { id: "current-step-title" } }));
    if (m.currentStepDueTime) box.append(this.#sla(m.currentStepDueTime, sop, step));
    if (step.instructions) {
      const md = h("div", { class: "md" });
      md.append(renderMarkdown(step.instructions));
      box.append(md);
    }
    const kv = h("dl", { class: "kv" });
    const role = roleLabel(step.responsibleRole);
    if (role) kv.append(h("dt", { text: "Who" }), h("dd", { text: role }));
    if (step.timeLimit?.duration) {
      const lim = humanDuration(durationSeconds(step.timeLimit.duration));
      kv.append(h("dt", { text: "Time limit" }), h("dd", { text: step.timeLimit.anchorEvent ? `${lim} from ${step.timeLimit.anchorEvent}` : lim }));
    }
    if (kv.childElementCount > 0) box.append(kv);
    if (step.requiredUpdates?.length) {
      box.append(h("h3", { text: "Update in the CRM" }), this.#updates(step.requiredUpdates));
    }
    if (sop.disqualificationCodes?.length && step.requiredUpdates?.some((u) => u.field === "disqualification_code")) {
      box.append(this.#dqPicker(sop));
    }
    const stepAssets = (step.assetIds ?? []).map((id) => sop.assets?.find((a) => (a.id ?? "") === id)).filter((a) => a !== undefined);
    if (stepAssets.length > 0) {
      box.append(h("h3", { text: "Use" }), this.#assetList(stepAssets));
    }
    const done = this.#doneButton(step);
    if (done) box.append(h("p", { class: "done-row" }, done));
    if (m.currentStepDueTime && this.#remaining(m.currentStepDueTime) < 0) box.classList.add("breached");
    return box;
  }

  #updates(list: FieldUpdateJson[]): HTMLElement {
    const ul = h("ul", { class: "updates" });
    for (const u of list) {
      const li = h("li", {}, h("code", { text: u.field ?? "" }));
      // Unset means "any non-empty value"; a Value set to null arrives as null.
      if (u.value !== undefined) li.append(` → ${valueText(u.value)}`);
      if (u.note) li.append(h("div", { class: "note", text: u.note }));
      ul.append(li);
    }
    return ul;
  }

  #dqPicker(sop: SopJson): HTMLElement {
    const id = "dq-select";
    const codes = sop.disqualificationCodes ?? [];
    const select = h("select", { attrs: { id, "data-key": `dq:${sop.name ?? ""}`, "aria-describedby": "dq-desc" } });
    select.append(h("option", { text: "Choose a code…", attrs: { value: "" } }));
    for (const c of codes) select.append(h("option", { text: `${c.code ?? ""} — ${c.label ?? ""}`, attrs: { value: c.code ?? "" } }));
    const desc = h("p", { class: "dq-desc", attrs: { id: "dq-desc", "aria-live": "polite" } });
    select.addEventListener("change", () => {
      const code = select.value === "" ? undefined : codes.find((c) => c.code === select.value);
      desc.textContent = code?.description ?? "";
      if (code) {
        this.dispatchEvent(
          new CustomEvent("sop-panel:disqualification-code", { detail: { code: code.code ?? "", label: code.label ?? "" }, bubbles: true, composed: true }),
        );
      }
    });
    return h("div", { class: "dq" }, h("label", { text: "Disqualification code (required)", attrs: { for: id } }), select, desc);
  }

  #assetList(assets: AssetJson[]): HTMLElement {
    const ul = h("ul", { class: "assets" });
    for (const a of assets) {
      const li = h("li");
      const title = a.title ?? "";
      let safe = false;
      try {
        safe = ["http:", "https:", "mailto:", "tel:"].includes(new URL(a.uri ?? "").protocol);
      } catch {
        safe = false;
      }
      if (safe) {
        const link = h("a", { text: title, attrs: { href: a.uri ?? "", target: "_blank", rel: "noopener noreferrer" } });
        const opened = (ev: MouseEvent) => {
          if (ev.type === "auxclick" && ev.button !== 1) return;
          const top = this.#topMatch();
          if (top?.sop && this.#ctx) this.#record("ASSET_OPENED", top.sop, top.revisionId ?? "", this.#contextJson(this.#ctx), { assetId: a.id ?? "" });
        };
        link.addEventListener("click", opened);
        link.addEventListener("auxclick", opened);
        li.append(link);
      }
      else li.append(h("span", { text: title }));
      if (a.kind) li.append(" ", h("span", { class: "kind", text: `(${a.kind.replace(/_/g, " ")})` }));
      ul.append(li);
    }
    return ul;
  }

  #allAssets(sop: SopJson, current: StepJson | undefined): HTMLElement | null {
    const shown = new Set(current?.assetIds ?? []);
    const rest = (sop.assets ?? []).filter((a) => !shown.has(a.id ?? ""));
    if (rest.length === 0) return null;
    const d = h("details", { attrs: { "data-key": `assets:${sop.name ?? ""}` } }, h("summary", { text: `Other linked assets (${rest.length})` }), this.#assetList(rest));
    return d;
  }

  #cadence(sop: SopJson, day: number): Node[] {
    const cadence = sop.cadence ?? [];
    const table = h("table", { class: "cadence" });
    table.append(h("caption", { class: "visually-hidden", text: day > 0 ? `Outreach cadence; today is day ${day}` : "Outreach cadence" }));
    table.append(
      h("thead", {}, h("tr", {}, h("th", { text: "Day", attrs: { scope: "col" } }), h("th", { text: "Touch", attrs: { scope: "col" } }))),
    );
    const body = h("tbody");
    for (const t of cadence) {
      const tDay = t.day ?? 0;
      const tr = h("tr");
      const dayCell = h("td", { class: "day", text: `Day ${tDay}` });
      if (day > 0 && tDay === day) {
        tr.className = "today";
        tr.setAttribute("aria-current", "date");
        dayCell.append(h("span", { class: "today-badge", text: "Today" }));
      } else if (day > 0 && tDay < day) {
        tr.className = "past";
      }
      const within = t.within ? ` · within ${humanDuration(durationSeconds(t.within))}` : "";
      const touch = h("td", {}, h("strong", { text: channelLabel(t.channel) }), h("span", { class: "kind", text: within }), h("div", { text: t.action ?? "" }));
      tr.append(dayCell, touch);
      body.append(tr);
    }
    table.append(body);
    const heading = day > 0 ? `Cadence — day ${day}` : "Cadence";
    const nodes: Node[] = [h("h3", { text: heading })];
    const lastDay = Math.max(...cadence.map((t) => t.day ?? 0));
    if (day > lastDay) nodes.push(h("p", { class: "note", text: `The cadence ended on day ${lastDay}.` }));
    else if (day > 0 && !cadence.some((t) => (t.day ?? 0) === day)) nodes.push(h("p", { class: "note", text: `No touch is scheduled for day ${day}.` }));
    nodes.push(table);
    return nodes;
  }

  #stepList(steps: StepJson[], current: number): Node[] {
    const ol = h("ol", { class: "steps" });
    steps.forEach((s, i) => {
      const li = h("li", { class: i === current ? "current" : "" });
      const num = h("span", { class: "step-num", text: `${s.ordinal ?? 0}.` });
      const title = s.title ?? "";
      if (i === current) {
        li.setAttribute("aria-current", "step");
        li.append(h("div", { class: "step-row" }, num, ` ${title} `, h("span", { class: "visually-hidden", text: "(current step, shown above)" })));
      } else {
        const d = h("details", { attrs: { "data-key": `step:${s.ordinal ?? 0}` } }, h("summary", {}, num, ` ${title}`));
        const body = h("div", { class: "step-body" });
        const role = roleLabel(s.responsibleRole);
        if (role) body.append(h("p", { class: "note", text: `Who: ${role}` }));
        if (s.instructions) {
          const md = h("div", { class: "md" });
          md.append(renderMarkdown(s.instructions));
          body.append(md);
        }
        if (s.requiredUpdates?.length) body.append(this.#updates(s.requiredUpdates));
        d.append(body);
        li.append(d);
        const done = this.#doneButton(s);
        if (done) li.append(done);
      }
      ol.append(li);
    });
    return [h("h3", { text: "All steps" }), ol];
  }

  #why(m: SopMatchJson): HTMLElement {
    const d = h("details", { class: "why", attrs: { "data-key": `why:${m.sop ?? ""}` } }, h("summary", { text: "Why this SOP" }));
    const e = m.explanation;
    if (e) {
      if (e.ruleDescription) d.append(h("p", { class: "note", text: `Rule: ${e.ruleDescription}` }));
      const ul = h("ul");
      if (e.matchedRecordType) ul.append(h("li", { text: `record type = “${e.matchedRecordType}”` }));
      for (const mc of e.matchedConditions ?? []) {
        const li = h("li", { text: conditionText(mc.condition) });
        li.append(h("span", { class: "kind", text: ` (record: ${valueText(mc.actual)})` }));
        ul.append(li);
      }
      d.append(ul);
      d.append(h("p", { class: "note", text: `Priority ${e.priority ?? 0} · specificity ${e.specificity ?? 0}` }));
    } else {
      d.append(h("p", { class: "note", text: "The server sent no explanation." }));
    }
    return d;
  }

  /** The chunk's URL: beside the bundle, else on the server (`/panel/sop-mermaid.js`). */
  #mermaidUrl(): string {
    if (BUNDLE_URL) return new URL("sop-mermaid.js", BUNDLE_URL).href;
    return new URL("/panel/sop-mermaid.js", this.server || location.href).href;
  }

  /**
   * "Swimlane": collapsed; on first open, GetSopDiagram(SWIMLANE, MERMAID) of the revision shown,
   * drawn by the lazily loaded Mermaid chunk. A failure is a message in the section, nothing more.
   */
  #swimlane(m: SopMatchJson): HTMLElement {
    const revision = m.revisionId || "published";
    const key = `${m.sop ?? ""}@${revision}`;
    let lane = this.#swimlanes.get(key);
    if (!lane) {
      lane = { box: h("div", { class: "swimlane", attrs: { "data-state": "idle" } }), started: false };
      if (this.#swimlanes.size > 20) this.#swimlanes.clear();
      this.#swimlanes.set(key, lane);
    }
    const d = h("details", { class: "swimlane-section", attrs: { "data-key": `swimlane:${key}` } }, h("summary", { text: "Swimlane" }), lane.box);
    const current = lane;
    const open = () => {
      if (!d.open || current.started) return;
      current.started = true;
      void this.#drawSwimlane(m.sop ?? "", revision, current.box);
    };
    d.addEventListener("toggle", open);
    return d;
  }

  async #drawSwimlane(sop: string, revision: string, box: HTMLElement): Promise<void> {
    box.dataset.state = "loading";
    box.setAttribute("aria-busy", "true");
    box.replaceChildren(h("p", { class: "note", text: "Drawing the swimlane…", attrs: { role: "status" } }));
    try {
      const ask = (rev: string) => getSopDiagram(this.#getClient(), { name: sop, revision: rev, kind: "SWIMLANE", format: "MERMAID" }, { headers: this.#headers() });
      // A revision by id is SOP history, which reps may not read (kReadHistory): for them the SOP
      // as GetSop shows it, its published revision (revision ""), is the one the panel shows.
      const diagram = await ask(revision).catch((e: unknown) => {
        if (toConnectError(e).code === "permission_denied") return ask("");
        throw e;
      });
      const svg = await renderDiagram(diagram.source ?? "", this.#mermaidUrl(), this.#root);
      svg.setAttribute("aria-label", `Swimlane of the procedure, revision ${diagram.revisionId ?? revision}: one lane per responsible role`);
      box.replaceChildren(svg);
      box.dataset.state = "ready";
    } catch (e) {
      const text = e instanceof ConnectError ? errorText(e) : e instanceof Error ? e.message : String(e);
      box.replaceChildren(h("p", { class: "note error", text: `Couldn't draw the swimlane — ${text}`, attrs: { role: "alert" } }));
      box.dataset.state = "error";
    } finally {
      box.setAttribute("aria-busy", "false");
    }
  }

  #others(others: SopMatchJson[]): HTMLElement {
    const d = h("details", { class: "others", attrs: { "data-key": "others" } }, h("summary", { text: `Other matching SOPs (${others.length})` }));
    for (const o of others) {
      const s = o.sopBody;
      if (!s) continue;
      const box = h("div", { class: "other" }, h("div", { class: "other-title", text: s.title ?? "" }));
      const stepIdx = o.currentStepIndex ?? 0;
      const step = stepIdx >= 0 ? s.steps?.[stepIdx] : undefined;
      if (step) box.append(h("div", { class: "note", text: `Current step: ${step.title ?? ""}` }));
      if (s.purpose) box.append(h("div", { class: "note", text: s.purpose }));
      d.append(box);
    }
    return d;
  }

  // ---- the SLA countdown ------------------------------------------------------------------

  #remaining(due: string): number {
    return (timestampMs(due) - (Date.now() + this.#clockOffsetMs)) / 1000;
  }

  #sla(due: string, sop: SopJson, step: StepJson): HTMLElement {
    const box = h("div", { class: "sla", attrs: { "data-due": String(timestampMs(due)) } });
    const note = step.timeLimit?.anchorEvent ? `since ${step.timeLimit.anchorEvent}` : "";
    box.append(
      h("span", { class: "sla-label", text: slaName(sop, step) }),
      h("span", { class: "sla-time", attrs: { role: "timer", "aria-live": "off" } }),
    );
    if (note) box.append(h("span", { class: "sla-note", text: note }));
    this.#paintSla(box);
    return box;
  }

  #paintSla(box: HTMLElement): void {
    const due = Number(box.dataset.due);
    const secs = (due - (Date.now() + this.#clockOffsetMs)) / 1000;
    const time = box.querySelector(".sla-time");
    const overdue = secs < 0;
    if (time) time.textContent = overdue ? `overdue by ${clock(-secs)}` : `${clock(Math.ceil(secs))} left`;
    box.classList.toggle("overdue", overdue);
    box.closest(".step-current")?.classList.toggle("breached", overdue);
    // The live region speaks at a polite rate: on minute changes and when the step breaches.
    const spoken = spokenRemaining(overdue ? Math.floor(secs) : Math.ceil(secs));
    if (spoken !== this.#lastSpoken) {
      const firstPaint = this.#lastSpoken === "";
      this.#lastSpoken = spoken;
      if (!firstPaint) this.#live.textContent = `Current step: ${spoken}`;
    }
  }

  #startTick(): void {
    const box = this.#content.querySelector<HTMLElement>(".sla");
    if (!box) {
      this.#lastSpoken = "";
      return;
    }
    this.#tick = setInterval(() => this.#paintSla(box), 1000);
  }

  #stopTick(): void {
    clearInterval(this.#tick);
    this.#tick = undefined;
  }
}

if (!customElements.get("sop-panel")) customElements.define("sop-panel", SopPanelElement);
mark("defined");

declare global {
  interface HTMLElementTagNameMap {
    "sop-panel": SopPanelElement;
  }
}
