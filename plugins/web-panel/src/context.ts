// Validation of the record context a host hands the panel. A malformed context is
// reported (the panel shows an error state), never sent and never silently dropped.

/** A CRM field value as the server accepts it: string, number, bool, null or a list of those. */
export type FieldValue = string | number | boolean | null | Array<string | number | boolean | null>;

/** The record the rep is looking at, as hosts pass it (the `context` property or postMessage). */
export interface PanelContext {
  /** "Lead", "Contact", "Opportunity", ... Falls back to the `record-type` attribute. */
  recordType?: string;
  recordId?: string;
  /** Fields by the API names the SOP rules use: lead_status, lead_score, company_size, ... */
  fields?: Record<string, FieldValue>;
  /** Optional orgs/{org}; empty means the token's org. */
  org?: string;
}

export interface NormalizedContext {
  org: string;
  recordType: string;
  recordId: string;
  fields: Record<string, FieldValue>;
}

export type ContextCheck = { ok: true; context: NormalizedContext } | { ok: false; problem: string };

const MAX_FIELDS = 500;
const MAX_STRING = 10_000;

function scalarOk(v: unknown): boolean {
  if (v === null || typeof v === "boolean") return true;
  if (typeof v === "string") return v.length <= MAX_STRING;
  if (typeof v === "number") return Number.isFinite(v);
  return false;
}

/** Checks a context and normalises it; `defaultRecordType` comes from the record-type attribute. */
export function checkContext(input: unknown, defaultRecordType: string): ContextCheck {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return { ok: false, problem: "the context is not an object" };
  }
  const c = input as Record<string, unknown>;
  const recordType = c.recordType ?? defaultRecordType;
  if (typeof recordType !== "string" || recordType.trim() === "") {
    return { ok: false, problem: "recordType is missing (set it in the context or the record-type attribute)" };
  }
  if (c.recordId !== undefined && typeof c.recordId !== "string") {
    return { ok: false, problem: "recordId is not a string" };
  }
  if (c.org !== undefined && typeof c.org !== "string") {
    return { ok: false, problem: "org is not a string" };
  }
  const rawFields = c.fields ?? {};
  if (rawFields === null || typeof rawFields !== "object" || Array.isArray(rawFields)) {
    return { ok: false, problem: "fields is not an object of field name to value" };
  }
  const entries = Object.entries(rawFields as Record<string, unknown>);
  if (entries.length > MAX_FIELDS) return { ok: false, problem: `more than ${MAX_FIELDS} fields` };
  const fields: Record<string, FieldValue> = {};
  for (const [name, value] of entries) {
    if (name === "" || name.length > 256) return { ok: false, problem: `field name "${name.slice(0, 40)}" is not valid` };
    if (value === undefined) continue;
    if (value instanceof Date) {
      // A convenience for hosts: times travel as RFC 3339 strings.
      if (Number.isNaN(value.getTime())) return { ok: false, problem: `field ${name} is an invalid Date` };
      fields[name] = value.toISOString();
      continue;
    }
    if (Array.isArray(value)) {
      if (!value.every(scalarOk)) return { ok: false, problem: `field ${name} holds a list with a value that is not a string, number, bool or null` };
      fields[name] = value as FieldValue;
    } else if (scalarOk(value)) {
      fields[name] = value as FieldValue;
    } else {
      return { ok: false, problem: `field ${name} is not a string, number, bool, null or list of those` };
    }
  }
  return {
    ok: true,
    context: {
      org: (c.org as string | undefined) ?? "",
      recordType: recordType.trim(),
      recordId: (c.recordId as string | undefined) ?? "",
      fields,
    },
  };
}

/** A stable key: two contexts with the same key need no new watch. */
export function contextKey(c: NormalizedContext): string {
  const sorted = Object.keys(c.fields).sort().map((k) => [k, c.fields[k]]);
  return JSON.stringify([c.org, c.recordType, c.recordId, sorted]);
}
