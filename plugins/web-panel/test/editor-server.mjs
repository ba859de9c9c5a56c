// The editor's and the swimlanes' side of the Node test server (test/server.mjs), for quick
// iteration without a C++ build: AuthoringService.GetSopDiagram and ValidateSop, and SopService's
// CreateSop, UpdateSop (etag checked: ABORTED when stale), SubmitSop (an SOP made from a template
// with a missing required field: FAILED_PRECONDITION with a PreconditionFailure violation of type
// TEMPLATE whose subject is the field path) and PreviewTargeting. The validator here checks a few
// of the rules sopd's does (title, owner, step titles and ordinals, a rule's record types or
// conditions, durations); the real one is exercised by test/e2e-editor.test.mjs on a real sopd.
import { fromJson, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseDocument } from "yaml";
import { AuthoringService, SopDiagramSchema, ValidateSopResponseSchema } from "./gen/sopsidebar/v1/authoring_service_pb.js";
import { CreateSopRequestSchema, PreviewTargetingResponseSchema, UpdateSopRequestSchema } from "./gen/sopsidebar/v1/sop_service_pb.js";
import { SopSchema } from "./gen/sopsidebar/v1/sop_pb.js";
import { CrmContextSchema } from "./gen/sopsidebar/v1/context_service_pb.js";

const ORG = "orgs/default";
const EDITORS = ["SALES_OPS", "ADMIN"];

/** Mermaid text of an SOP's swimlane (one subgraph per role), from its proto JSON or YAML object. */
export function swimlane(sop) {
  const steps = [...(sop.steps ?? [])].sort((a, b) => (a.ordinal ?? 0) - (b.ordinal ?? 0));
  if (steps.length === 0) return "";
  const q = (s) => `"${String(s).replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;")}"`;
  const lanes = new Map();
  steps.forEach((s, i) => {
    const role = s.responsibleRole ?? s.responsible_role ?? "UNASSIGNED";
    if (!lanes.has(role)) lanes.set(role, []);
    lanes.get(role).push(`    step${i + 1}[${q(`${s.ordinal ?? i + 1}. ${s.title ?? ""}`)}]`);
  });
  const out = ["flowchart TD", `  start([${q(sop.title ?? "SOP")}])`, '  done(["Done"])'];
  for (const [role, nodes] of lanes) out.push(`  subgraph lane_${role.toLowerCase()} [${q(role)}]`, ...nodes, "  end");
  out.push("  start --> step1");
  for (let i = 1; i < steps.length; i++) out.push(`  step${i} --> step${i + 1}`);
  out.push(`  step${steps.length} --> done`);
  return `${out.join("\n")}\n`;
}

const DURATION = /^\d+(\.\d+)?s$/;

/** Violations (field paths as sopd writes them: snake_case, 0-based) of an SOP's proto JSON. */
export function violationsOf(sop) {
  const v = [];
  const add = (field, description) => v.push({ field, description });
  if (!sop.title?.trim()) add("title", "required");
  else if (sop.title.length > 200) add("title", "at most 200 characters");
  if (!sop.owner?.trim()) add("owner", "required");
  (sop.targetingRules ?? []).forEach((r, i) => {
    if (!(r.recordTypes ?? []).length && !(r.conditions ?? []).length) add(`targeting_rules[${i}]`, "a rule needs record_types or at least one condition");
    if ((r.priority ?? 0) < 0 || (r.priority ?? 0) > 1000) add(`targeting_rules[${i}].priority`, "must be 0–1000");
    (r.conditions ?? []).forEach((c, j) => {
      if (!c.field) add(`targeting_rules[${i}].conditions[${j}].field`, "required");
    });
  });
  const seen = new Set();
  (sop.steps ?? []).forEach((s, i) => {
    if (!s.title?.trim()) add(`steps[${i}].title`, "required");
    if (!(s.ordinal > 0)) add(`steps[${i}].ordinal`, "must be a positive integer");
    else if (seen.has(s.ordinal)) add(`steps[${i}].ordinal`, `ordinal ${s.ordinal} is used by another step`);
    seen.add(s.ordinal);
    if (s.timeLimit && !DURATION.test(s.timeLimit.duration ?? "")) add(`steps[${i}].time_limit.duration`, "required: a positive duration");
  });
  (sop.disqualificationCodes ?? []).forEach((c, i) => {
    if (!c.code) add(`disqualification_codes[${i}].code`, "required");
    if (!c.label) add(`disqualification_codes[${i}].label`, "required");
  });
  return v;
}

const snakeToCamel = (o) =>
  Array.isArray(o) ? o.map(snakeToCamel) : o && typeof o === "object" ? Object.fromEntries(Object.entries(o).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), snakeToCamel(x)])) : o;

/** Hand-encoded google.rpc.PreconditionFailure (the test server has no googleapis schemas). */
function preconditionFailure(violations) {
  const enc = new TextEncoder();
  const varint = (n) => {
    const out = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const field = (num, bytes) => [...varint((num << 3) | 2), ...varint(bytes.length), ...bytes];
  const bytes = violations.flatMap((v) => field(1, [...field(1, [...enc.encode(v.type)]), ...field(2, [...enc.encode(v.subject)]), ...field(3, [...enc.encode(v.description)])]));
  return { type: "google.rpc.PreconditionFailure", value: new Uint8Array(bytes) };
}

/**
 * Registers AuthoringService; returns the SopService methods to add (CreateSop, UpdateSop,
 * SubmitSop, PreviewTargeting). `state` is the review fixture (test/review-server.mjs), whose SOP
 * map the new SOPs join; `panelSops` the panel's SOPs (for the panel's Swimlane section).
 */
export function editorRoutes(router, state, auth, panelSops) {
  const editor = (ctx) => {
    const u = auth(ctx);
    const roles = u.roles ?? [u.role];
    if (!roles.some((r) => EDITORS.includes(r))) throw new ConnectError("edit SOPs: needs SALES_OPS or ADMIN", Code.PermissionDenied);
    return u;
  };
  let n = 0;
  router.service(AuthoringService, {
    async getSopDiagram(req, ctx) {
      auth(ctx);
      const id = req.name.split("/").pop();
      const panel = panelSops.get(id);
      const sop = panel ? panel.raw : state.sops.get(req.name);
      if (!sop) throw new ConnectError(`SOP "${req.name}" not found`, Code.NotFound);
      if (id === "broken-diagram") return fromJson(SopDiagramSchema, { sop: req.name, revisionId: "1", kind: "SWIMLANE", format: "MERMAID", source: "flowchart TD\n  a[[[ not mermaid\n" });
      return fromJson(SopDiagramSchema, { sop: req.name, revisionId: panel ? String(panel.revision) : (sop.revisionId ?? "1"), kind: "SWIMLANE", format: "MERMAID", source: swimlane(sop) });
    },
    async validateSop(req, ctx) {
      editor(ctx);
      let sop;
      if (req.subject.case === "yaml") {
        const doc = parseDocument(req.subject.value, { prettyErrors: true });
        if (doc.errors.length > 0) {
          const e = doc.errors[0];
          const [line, column] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [0, 0];
          return fromJson(ValidateSopResponseSchema, { violations: [{ field: "", description: `YAML syntax: ${e.message.split("\n")[0]}`, line, column }] });
        }
        sop = snakeToCamel(doc.toJS() ?? {});
        const v = violationsOf(sop).map((x) => ({ ...x, line: 1, column: 1 }));
        return fromJson(ValidateSopResponseSchema, { violations: v, ...(req.includeDiagram && sop.steps?.length ? { diagram: { kind: "SWIMLANE", format: "MERMAID", source: swimlane(sop) } } : {}) });
      }
      sop = req.subject.case === "sop" ? toJson(SopSchema, req.subject.value) : {};
      const source = req.includeDiagram ? swimlane(sop) : "";
      return fromJson(ValidateSopResponseSchema, { violations: violationsOf(sop), ...(source ? { diagram: { kind: "SWIMLANE", format: "MERMAID", source } } : {}) });
    },
  });
  const invalid = (v) => new ConnectError(`sop: ${v.map((x) => `${x.field}: ${x.description}`).join("; ")}`, Code.InvalidArgument);
  return {
    async createSop(req, ctx) {
      const u = editor(ctx);
      const q = toJson(CreateSopRequestSchema, req);
      const sop = q.sop ?? {};
      const v = violationsOf(sop);
      if (v.length) throw invalid(v);
      const id = q.sopId || (sop.title ?? "sop").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 63) || `sop-${++n}`;
      const name = `${ORG}/sops/${id}`;
      if (state.sops.has(name)) throw new ConnectError(`SOP "${name}" already exists`, Code.AlreadyExists);
      const saved = { ...sop, name, state: "DRAFT", revisionId: "1", etag: state.nextEtag(id), review: { state: "DRAFT", revisionId: "1", authors: [u.userId] } };
      state.sops.set(name, saved);
      return fromJson(SopSchema, saved);
    },
    async updateSop(req, ctx) {
      editor(ctx);
      const q = toJson(UpdateSopRequestSchema, req);
      const s = state.sops.get(q.sop?.name);
      if (!s) throw new ConnectError(`SOP "${q.sop?.name}" not found`, Code.NotFound);
      if (q.sop.etag && q.sop.etag !== s.etag) throw new ConnectError(`etag: "${q.sop.etag}" is stale; the SOP changed since it was read`, Code.Aborted);
      const v = violationsOf(q.sop);
      if (v.length) throw invalid(v);
      const { etag: _e, ...body } = q.sop;
      const rev = String(Number(s.revisionId ?? "1") + 1);
      const saved = { ...s, ...body, revisionId: rev, etag: state.nextEtag(s.name.split("/").pop()) };
      state.sops.set(s.name, saved);
      return fromJson(SopSchema, saved);
    },
    async submitSop(req, ctx) {
      const u = editor(ctx);
      const s = state.sops.get(req.name);
      if (!s) throw new ConnectError(`SOP "${req.name}" not found`, Code.NotFound);
      if (req.etag && req.etag !== s.etag) throw new ConnectError("etag: stale", Code.Aborted);
      const missing = (s.templateUse?.requiredFields ?? []).filter((f) => {
        const [top] = f.split(/[.[]/);
        const camel = top.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
        const val = s[camel];
        return val === undefined || val === "" || (Array.isArray(val) && val.length === 0);
      });
      const secs = (d) => Number(String(d ?? "").replace(/s$/, ""));
      const slaUnmet = (s.templateUse?.slaRequirements ?? []).filter((r) => {
        const term = (s.slaTerms ?? []).find((t) => t.name === r.term);
        return r.maxDuration && (!term || secs(term.duration) > secs(r.maxDuration));
      });
      if (missing.length || slaUnmet.length) {
        const violations = [
          ...missing.map((f) => ({ type: "TEMPLATE", subject: f, description: `required by template ${s.templateUse.template}` })),
          ...slaUnmet.map((r) => ({ type: "TEMPLATE", subject: `sla_terms[${r.term}].duration`, description: `${r.term} must be at most ${r.maxDuration}` })),
        ];
        throw new ConnectError(`the SOP does not meet its template: ${missing.join(", ")}`, Code.FailedPrecondition, undefined, [preconditionFailure(violations)]);
      }
      s.review = { state: "IN_REVIEW", revisionId: s.revisionId, submittedBy: u.userId, submitTime: new Date().toISOString(), awaitingRoles: s.requiredApproverRoles ?? [], authors: [u.userId] };
      s.etag = state.nextEtag(s.name.split("/").pop());
      return fromJson(SopSchema, s);
    },
    async previewTargeting(req, ctx) {
      editor(ctx);
      if (req.subject.case !== "draft") throw new ConnectError("draft: required here", Code.InvalidArgument);
      const draft = toJson(SopSchema, req.subject.value);
      const name = draft.name || `${ORG}/sops/(new)`;
      const counts = { gained: 0, lost: 0, reranked: 0, unchanged: 0, notMatched: 0 };
      const records = req.records.map((r, i) => {
        const c = toJson(CrmContextSchema, r);
        const matches = (draft.targetingRules ?? []).some(
          (rule) =>
            (!(rule.recordTypes ?? []).length || rule.recordTypes.includes(c.recordType)) &&
            (rule.conditions ?? []).every((cond) => (cond.equals !== undefined ? c.fields?.[cond.field] === cond.equals : true)),
        );
        const change = matches ? "GAINED" : "NOT_MATCHED";
        counts[matches ? "gained" : "notMatched"]++;
        return { recordId: c.recordId || String(i), change, previewSop: matches ? name : "", previewStep: matches ? (draft.steps?.[0]?.title ?? "") : "", rankAfter: matches ? 1 : 0 };
      });
      return fromJson(PreviewTargetingResponseSchema, { records, ...counts });
    },
  };
}
