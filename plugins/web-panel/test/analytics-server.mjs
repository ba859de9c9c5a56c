// The feedback loop's side of the Node test server (test/server.mjs): AnalyticsService
// (RecordEvents, recorded and deduplicated by event_id; the four reports from a fixture, the
// usage and code figures plus what was recorded), and the ValidateTransition and SearchSops
// answers server.mjs and review-server.mjs register, computed from the seed SOPs. Everything
// it receives is kept for the tests: `batches` (RecordEvents calls) and `reportCalls`.
//
// Test switches on the state: `failNext` (the next n RecordEvents calls fail UNAVAILABLE) and
// `hang` (RecordEvents never answers).
import { fromJson, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AnalyticsService,
  CodeReportSchema,
  CoverageReportSchema,
  RecordEventsRequestSchema,
  RecordEventsResponseSchema,
  ReportQuerySchema,
  SlaReportSchema,
  UsageReportSchema,
} from "./gen/sopsidebar/v1/analytics_service_pb.js";
import { ValidateTransitionResponseSchema } from "./gen/sopsidebar/v1/context_service_pb.js";
import { SearchSopsResponseSchema } from "./gen/sopsidebar/v1/sop_service_pb.js";

const ORG = "orgs/default";
const sopName = (id) => `${ORG}/sops/${id}`;

/** The reports' fixture rows, keyed by the group_by they answer (proto3 JSON). */
function fixtureRows() {
  return {
    slaBySource: [
      { key: { values: ["Web"] }, firstContacts: "40", withinWindow: "34", compliance: 0.85, p50Ms: "180000", p90Ms: "420000" },
      { key: { values: ["Partner Referral"] }, firstContacts: "12", withinWindow: "11", compliance: 11 / 12, p50Ms: "150000", p90Ms: "290000" },
      { key: { values: ["Purchased List"] }, firstContacts: "20", withinWindow: "9", compliance: 0.45, p50Ms: "540000", p90Ms: "1800000" },
    ],
    slaByWeek: [
      { key: { values: ["2026-11-09"] }, firstContacts: "18", withinWindow: "13", compliance: 13 / 18, p50Ms: "240000", p90Ms: "900000" },
      { key: { values: ["2026-11-16"] }, firstContacts: "26", withinWindow: "20", compliance: 20 / 26, p50Ms: "210000", p90Ms: "600000" },
      { key: { values: ["2026-11-23"] }, firstContacts: "28", withinWindow: "21", compliance: 0.75, p50Ms: "190000", p90Ms: "480000" },
    ],
    codesBySource: [
      { key: { values: ["Web"] }, records: "60", disqualified: "12", byCode: { "D-TooSmall": "5", "D-WrongRole": "4", "D-Budget": "3" }, rejectionRate: 0.2 },
      { key: { values: ["Purchased List"] }, records: "30", disqualified: "14", byCode: { "D-NoResponse": "8", "D-WrongRole": "4", "D-TooSmall": "2" }, rejectionRate: 14 / 30 },
      { key: { values: ["Partner Referral"] }, records: "15", disqualified: "2", byCode: { "D-Competitor": "2" }, rejectionRate: 2 / 15 },
    ],
    coverage: [
      { key: { values: ["Lead", "Nurture"] }, unmatchedLookups: "14" },
      { key: { values: ["Opportunity", "Closed Lost"] }, unmatchedLookups: "6" },
      { key: { values: ["Contact", ""] }, unmatchedLookups: "3" },
    ],
    usage: [
      { key: { values: [sopName("mql-acceptance-handoff"), "1"] }, impressions: "310", records: "120", stepsCompleted: "95", byStep: { 2: "60", 4: "35" }, assetsOpened: "22" },
      { key: { values: [sopName("first-touch-outreach-cadence"), "1"] }, impressions: "204", records: "88", stepsCompleted: "140", byStep: { 1: "80", 2: "60" }, assetsOpened: "31" },
    ],
  };
}

export function createAnalyticsState() {
  return {
    /** Every RecordEvents call: {token, parent, events (proto3 JSON), at}. */
    batches: [],
    /** Every event recorded, by event_id (the first time only). */
    recorded: new Map(),
    /** Every report call: {method, query (proto3 JSON)}. */
    reportCalls: [],
    failNext: 0,
    hang: false,
    rows: fixtureRows(),
    /** Events that arrived in any batch (retries included), flattened. */
    received() {
      return this.batches.flatMap((b) => b.events);
    },
  };
}

const dims = (q) => (q.groupBy ?? []).join(",");

function window(q) {
  const end = q.endDay || new Date().toISOString().slice(0, 10);
  const start = q.startDay || new Date(Date.parse(end) - 30 * 86_400_000).toISOString().slice(0, 10);
  return { startDay: start, endDay: end };
}

function bySources(rows, q) {
  const sources = q.leadSources ?? [];
  return sources.length === 0 ? rows : rows.filter((r) => sources.includes(r.key.values[0]));
}

/** The fixture's rows plus the recorded events, for the usage report by SOP (and revision). */
function usageRows(state, q, withRevision) {
  const keyOf = (sop, revision) => (withRevision ? [sop, revision] : [sop]);
  const rows = new Map();
  const row = (values) => {
    const k = JSON.stringify(values);
    if (!rows.has(k)) rows.set(k, { key: { values }, impressions: "0", records: "0", stepsCompleted: "0", byStep: {}, assetsOpened: "0" });
    return rows.get(k);
  };
  for (const f of state.rows.usage) {
    const r = row(keyOf(...f.key.values));
    for (const n of ["impressions", "records", "stepsCompleted", "assetsOpened"]) r[n] = String(Number(r[n]) + Number(f[n]));
    for (const [step, n] of Object.entries(f.byStep)) r.byStep[step] = String(Number(r.byStep[step] ?? 0) + Number(n));
  }
  for (const e of state.recorded.values()) {
    if ((q.leadSources ?? []).length > 0 && !q.leadSources.includes(e.context?.fields?.lead_source)) continue;
    const r = row(keyOf(e.sop, e.revisionId));
    const add = (f) => (r[f] = String(Number(r[f] ?? 0) + 1));
    if (e.type === "PANEL_SHOWN") add("impressions");
    if (e.type === "STEP_COMPLETED") {
      add("stepsCompleted");
      r.byStep[e.stepOrdinal] = String(Number(r.byStep[e.stepOrdinal] ?? 0) + 1);
    }
    if (e.type === "ASSET_OPENED") add("assetsOpened");
  }
  return [...rows.values()];
}

/** The fixture's SLA rows by lead source, plus recorded first contacts (window: 5 minutes). */
function slaRows(state) {
  const rows = new Map(state.rows.slaBySource.map((r) => [r.key.values[0], structuredClone(r)]));
  for (const e of state.recorded.values()) {
    if (e.type !== "FIRST_CONTACT") continue;
    const source = String(e.context?.fields?.lead_source ?? "");
    if (!rows.has(source)) rows.set(source, { key: { values: [source] }, firstContacts: "0", withinWindow: "0", compliance: 0 });
    const r = rows.get(source);
    const anchor = Date.parse(e.context?.fields?.status_changed_at ?? "");
    const within = !Number.isNaN(anchor) && Date.parse(e.eventTime) - anchor <= 300_000;
    r.firstContacts = String(Number(r.firstContacts) + 1);
    if (within) r.withinWindow = String(Number(r.withinWindow) + 1);
    r.compliance = Number(r.withinWindow) / Number(r.firstContacts);
  }
  return [...rows.values()];
}

function codeRows(state, q) {
  const rows = new Map(state.rows.codesBySource.map((r) => [r.key.values[0], structuredClone(r)]));
  for (const e of state.recorded.values()) {
    if (e.type !== "DISQUALIFIED") continue;
    const source = String(e.context?.fields?.lead_source ?? "");
    if (!rows.has(source)) rows.set(source, { key: { values: [source] }, records: "0", disqualified: "0", byCode: {}, rejectionRate: 0 });
    const r = rows.get(source);
    r.records = String(Number(r.records) + 1);
    r.disqualified = String(Number(r.disqualified) + 1);
    r.byCode[e.code] = String(Number(r.byCode[e.code] ?? 0) + 1);
    r.rejectionRate = Number(r.disqualified) / Number(r.records);
  }
  return bySources([...rows.values()], q);
}

/** Registers AnalyticsService; `auth(ctx)` gives {token} or throws. */
export function analyticsRoutes(router, state, auth) {
  const report = (method, schema, rows) => async (req, ctx) => {
    auth(ctx);
    const q = toJson(ReportQuerySchema, req.query ?? {}, { alwaysEmitImplicit: false });
    state.reportCalls.push({ method, query: q });
    if (q.parent !== ORG) throw new ConnectError(`query.parent: "${q.parent ?? ""}" not found`, Code.NotFound);
    return fromJson(schema, { rows: rows(q), ...window(q) });
  };
  router.service(AnalyticsService, {
    async recordEvents(req, ctx) {
      const { token } = auth(ctx);
      const json = toJson(RecordEventsRequestSchema, req);
      state.batches.push({ token, parent: json.parent, events: json.events ?? [], at: Date.now() });
      if (state.hang) {
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        throw new ConnectError("the client gave up", Code.Canceled);
      }
      if (state.failNext > 0) {
        state.failNext--;
        throw new ConnectError("event store unavailable", Code.Unavailable);
      }
      if (json.parent !== ORG) throw new ConnectError(`parent: "${json.parent ?? ""}" not found`, Code.NotFound);
      const events = json.events ?? [];
      events.forEach((e, i) => {
        for (const f of ["eventId", "type", "eventTime", "sop", "revisionId"]) {
          if (!e[f]) throw new ConnectError(`events[${i}].${f}: required`, Code.InvalidArgument);
        }
        if (!e.context?.recordType) throw new ConnectError(`events[${i}].context.record_type: required`, Code.InvalidArgument);
        if (e.type === "DISQUALIFIED" && !e.code) throw new ConnectError(`events[${i}].code: required`, Code.InvalidArgument);
      });
      let recorded = 0;
      let duplicates = 0;
      for (const e of events) {
        if (state.recorded.has(e.eventId)) duplicates++;
        else {
          state.recorded.set(e.eventId, e);
          recorded++;
        }
      }
      return fromJson(RecordEventsResponseSchema, { recorded, duplicates });
    },
    getSlaReport: report("GetSlaReport", SlaReportSchema, (q) => {
      if (dims(q) === "WEEK") return state.rows.slaByWeek;
      if (dims(q) === "LEAD_SOURCE") return bySources(slaRows(state), q);
      return [];
    }),
    getCodeReport: report("GetCodeReport", CodeReportSchema, (q) => (dims(q) === "LEAD_SOURCE" ? codeRows(state, q) : [])),
    getUsageReport: report("GetUsageReport", UsageReportSchema, (q) => (dims(q) === "SOP,REVISION" || dims(q) === "SOP" ? usageRows(state, q, dims(q) === "SOP,REVISION") : [])),
    getCoverageReport: report("GetCoverageReport", CoverageReportSchema, () => state.rows.coverage),
  });
}

/**
 * ValidateTransition over lookup's matches: a step that sets lead_status to new_status and asks
 * for disqualification_code makes its SOP's codes mandatory.
 */
export function validateTransition(matches, newStatus, code) {
  if (!newStatus) throw new ConnectError("new_status: required", Code.InvalidArgument);
  for (const { name, revisionId, raw } of matches) {
    const codes = raw.disqualification_codes ?? [];
    const asks = (raw.steps ?? []).some(
      (s) => (s.required_updates ?? []).some((u) => u.field === "lead_status" && u.value === newStatus) && (s.required_updates ?? []).some((u) => u.field === "disqualification_code"),
    );
    if (!asks || codes.length === 0) continue;
    const allowed = codes.some((c) => c.code === code);
    return fromJson(ValidateTransitionResponseSchema, {
      allowed,
      reason: allowed ? "" : `${raw.title}: a disqualification code is required: one of ${codes.map((c) => c.code).join(", ")}`,
      codeRequired: true,
      allowedCodes: codes.map((c) => ({ code: c.code, label: c.label, description: c.description ?? "" })),
      sop: name,
      revisionId,
    });
  }
  return fromJson(ValidateTransitionResponseSchema, { allowed: true });
}

/** A snippet of `text` around the first match of `words` (the last one also as a prefix). */
function snippet(text, words) {
  const lower = text.toLowerCase();
  let at = -1;
  for (const w of words) {
    const i = lower.indexOf(w);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  if (at < 0) return null;
  const start = Math.max(0, at - 40);
  const piece = text.slice(start, start + 140).replace(/\s+/g, " ");
  const re = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})[\\p{L}\\p{N}]*`, "giu");
  const parts = [];
  let last = 0;
  for (const m of piece.matchAll(re)) {
    if (m.index > last) parts.push({ text: piece.slice(last, m.index) });
    parts.push({ text: m[0], highlighted: true });
    last = m.index + m[0].length;
  }
  if (last < piece.length) parts.push({ text: piece.slice(last) });
  if (start > 0) parts[0] = { ...parts[0], text: `…${parts[0].text}` };
  return parts;
}

/** SearchSops over the seed SOPs the role sees: title, purpose, step titles and instructions. */
export function searchSops(entries, role, query) {
  const q = (query ?? "").trim();
  if (!q || q.length > 500) throw new ConnectError("query: must be 1..500 characters", Code.InvalidArgument);
  const words = q.toLowerCase().replace(/"/g, "").split(/\s+/).filter(Boolean);
  const results = [];
  for (const entry of entries) {
    const sop = entry.raw;
    const vis = sop.visibility_roles ?? [];
    if (role && vis.length > 0 && !vis.includes(role)) continue;
    const fields = [sop.title ?? "", sop.purpose ?? "", ...(sop.steps ?? []).flatMap((s) => [s.title ?? "", s.instructions ?? ""])];
    const all = fields.join("\n").toLowerCase();
    const score = words.reduce((n, w) => n + all.split(w).length - 1, 0);
    if (score === 0) continue;
    const parts = fields.map((f) => snippet(f, words)).find((p) => p !== null) ?? [];
    results.push({ sop: sopName(entry.id), revisionId: String(entry.revision), title: sop.title ?? "", score, snippet: parts });
  }
  results.sort((a, b) => b.score - a.score);
  return fromJson(SearchSopsResponseSchema, { results: results.slice(0, 10) });
}
