// Records for the targeting preview, parsed in the browser from pasted or uploaded text: CSV
// (RFC 4180: a header row of field names; quoted fields with "" for a quote, commas and line
// breaks inside quotes; CRLF or LF) or JSON Lines (one object a line: a CrmContext with `fields`,
// or a flat object of fields). Columns/keys record_id and record_type (also id, Id, recordId,
// recordType; Salesforce's Id and HubSpot's hs_object_id, as sopctl preview reads them) are the
// record's id and type; the rest are its fields. CSV values are typed as SOP
// files type them: numbers and true/false plain, empty cells left out.
import type { CrmContextJson } from "../src/gen/sopsidebar/v1/context_service_pb.js";

/** RFC 4180 CSV → rows of cells. Throws on a quote left open. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  let i = 0;
  const s = text.replace(/^\uFEFF/, "");
  while (i < s.length) {
    const c = s[i];
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === "") {
      quoted = true;
      i++;
    } else if (c === ",") {
      row.push(cell);
      cell = "";
      i++;
    } else if (c === "\r" || c === "\n") {
      row.push(cell);
      cell = "";
      rows.push(row);
      row = [];
      i += c === "\r" && s[i + 1] === "\n" ? 2 : 1;
    } else {
      cell += c;
      i++;
    }
  }
  if (quoted) throw new Error("CSV: a quoted field is not closed");
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

function typed(v: string): unknown {
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/.test(v)) return Number(v);
  if (v === "true") return true;
  if (v === "false") return false;
  return v;
}

const ID_KEYS = new Set(["record_id", "recordId", "id", "Id", "hs_object_id"]);
const TYPE_KEYS = new Set(["record_type", "recordType"]);

function fromFlat(o: Record<string, unknown>, index: number, recordType: string, crm: string): CrmContextJson {
  const fields: Record<string, never> = {};
  let id = "";
  let type = recordType;
  for (const [k, v] of Object.entries(o)) {
    if (ID_KEYS.has(k) && !id) id = String(v);
    else if (TYPE_KEYS.has(k)) type = String(v);
    else if (v !== "" && v !== undefined) (fields as Record<string, unknown>)[k] = v;
  }
  return { recordType: type, recordId: id || String(index + 1), fields, ...(crm ? { crm } : {}) };
}

/** The records in `text` (CSV or JSONL, told apart by the first character). */
export function parseRecords(text: string, opts: { recordType: string; crm: string }): CrmContextJson[] {
  const t = text.trim();
  if (!t) return [];
  if (t.startsWith("{")) {
    return t
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .map((line, i) => {
        let o: unknown;
        try {
          o = JSON.parse(line);
        } catch (e) {
          throw new Error(`JSONL line ${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (o === null || typeof o !== "object" || Array.isArray(o)) throw new Error(`JSONL line ${i + 1}: not an object`);
        const r = o as Record<string, unknown>;
        if (r.fields && typeof r.fields === "object") {
          return { recordType: opts.recordType, ...(opts.crm ? { crm: opts.crm } : {}), ...r, recordId: String(r.recordId ?? r.record_id ?? i + 1) } as CrmContextJson;
        }
        return fromFlat(r, i, opts.recordType, opts.crm);
      });
  }
  const rows = parseCsv(t);
  const [header, ...body] = rows;
  if (!header || body.length === 0) throw new Error("CSV: a header row of field names and at least one record");
  return body.map((cells, i) => {
    if (cells.length !== header.length) throw new Error(`CSV row ${i + 2}: ${cells.length} cells, the header has ${header.length}`);
    const o: Record<string, unknown> = {};
    header.forEach((k, j) => {
      if (cells[j] !== "") o[k.trim()] = ID_KEYS.has(k.trim()) || TYPE_KEYS.has(k.trim()) ? cells[j] : typed(cells[j]);
    });
    return fromFlat(o, i, opts.recordType, opts.crm);
  });
}
