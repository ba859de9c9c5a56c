// The SOP file format (docs/SOP-FILES.md) in the browser: the proto JSON mapping of Sop as YAML
// with snake_case keys and durations with units. The editor's YAML mode shows an SOP this way and
// reads it back: keys snake_case → lowerCamelCase, durations "1h30m" → "5400s", output-only
// fields dropped. The server validates the YAML text itself (ValidateSop's `yaml`), so syntax
// errors and unknown keys are reported with sopd's line and column.
import { parse, stringify } from "yaml";
import type { SopJson } from "../src/gen/sopsidebar/v1/sop_pb.js";

const OUTPUT_ONLY = new Set([
  "state", "revisionId", "etag", "createTime", "updateTime", "publishedRevisionId", "deleteTime",
  "publishTime", "review", "lastReviewTime", "nextReviewTime", "templateUse",
]);
const DURATION_KEYS = new Set(["duration", "within"]);

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** "1h30m", "90s", "1.5h", "2d" → seconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!/^(\d+(\.\d+)?[dhms])+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)([dhms])/g)) total += Number(m[1]) * { d: 86400, h: 3600, m: 60, s: 1 }[m[2] as "d" | "h" | "m" | "s"];
  return total;
}

/** "300s" → "5m"; "5400s" → "1h30m"; anything else as it is. */
export function humanDuration(proto: string): string {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(proto);
  if (!m) return proto;
  let s = Number(m[1]);
  if (!Number.isInteger(s) || s === 0) return proto;
  let out = "";
  for (const [unit, n] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (s >= n) {
      out += `${Math.floor(s / n)}${unit}`;
      s %= n;
    }
  }
  return out;
}

/** A duration as the form or a file writes it ("5m", "300s") → proto JSON ("300s"); undefined if not one. */
export function protoDuration(text: string): string | undefined {
  const secs = parseDuration(text);
  return secs === undefined ? undefined : `${secs}s`;
}

/** The order sopd and the examples write fields in (proto field order); others after. */
const ORDER = [
  "name", "title", "purpose", "owner", "owner_user_id", "review_cycle", "tags", "funnel_stage", "anchor_field",
  "targeting_rules", "steps", "cadence", "sla_terms", "disqualification_codes", "assets", "visibility_roles",
  "required_approver_roles", "description", "record_types", "priority", "conditions", "ordinal", "instructions",
  "responsible_role", "time_limit", "required_updates", "asset_ids", "day", "within", "channel", "action",
  "template_name", "crm_updates", "field", "value", "note", "code", "label", "number", "duration", "anchor_event",
];
const rank = (k: string) => {
  const i = ORDER.indexOf(k);
  return i < 0 ? ORDER.length : i;
};

function mapKeys(v: unknown, key: (k: string) => string, out: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => mapKeys(x, key, out));
  if (v === null || typeof v !== "object") return v;
  const o: Record<string, unknown> = {};
  const entries = Object.entries(v as Record<string, unknown>);
  if (out) entries.sort(([a], [b]) => rank(snake(a)) - rank(snake(b)));
  for (const [k, x] of entries) {
    const c = camel(k);
    if (out && OUTPUT_ONLY.has(c)) continue;
    let val = mapKeys(x, key, out);
    if (DURATION_KEYS.has(c) && typeof val === "string") val = out ? humanDuration(val) : (protoDuration(val) ?? val);
    o[key(k)] = val;
  }
  return o;
}

/** The SOP as an SOP file. */
export function sopToYaml(sop: SopJson): string {
  const obj = mapKeys(sop, snake, true) as Record<string, unknown>;
  if (Object.keys(obj).length === 0) return "";
  return stringify(obj, { lineWidth: 0 });
}

/** An SOP file → the SOP (proto JSON); throws an Error with the line when the YAML does not parse. */
export function yamlToSop(text: string): SopJson {
  const doc = parse(text, { prettyErrors: true });
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new Error("an SOP file is a mapping of fields (title:, owner:, steps:, …)");
  return mapKeys(doc, camel, false) as SopJson;
}
