// AnalyticsService's reports as the console's dashboard calls them (Connect JSON, src/connect.ts),
// and the pure parts of the dashboard: turning report rows into tables, and tables into CSV.
// proto3 JSON sends int64 as strings ("40") and leaves zero values out: `num` reads both.
import type { ConnectJsonClient } from "../src/connect.js";
import type {
  AnalyticsDimensionJson,
  CodeReportJson,
  CoverageReportJson,
  ReportQueryJson,
  SlaReportJson,
  UsageReportJson,
} from "../src/gen/sopsidebar/v1/analytics_service_pb.js";

export type { AnalyticsDimensionJson, CodeReportJson, CoverageReportJson, ReportQueryJson, SlaReportJson, UsageReportJson };

const SERVICE = "sopsidebar.v1.AnalyticsService";

/** A rejection rate above this is flagged (the Marketing team's threshold). */
export const REJECTION_FLAG = 0.3;

export class AnalyticsApi {
  constructor(
    private readonly client: ConnectJsonClient,
    private readonly token: string,
  ) {}

  #call<Res>(method: string, query: ReportQueryJson): Promise<Res> {
    return this.client.unary<unknown, Res>(`${SERVICE}/${method}`, { query }, { headers: { Authorization: `Bearer ${this.token}` } });
  }

  sla(query: ReportQueryJson): Promise<SlaReportJson> {
    return this.#call("GetSlaReport", query);
  }

  codes(query: ReportQueryJson): Promise<CodeReportJson> {
    return this.#call("GetCodeReport", query);
  }

  usage(query: ReportQueryJson): Promise<UsageReportJson> {
    return this.#call("GetUsageReport", query);
  }

  coverage(query: ReportQueryJson): Promise<CoverageReportJson> {
    return this.#call("GetCoverageReport", query);
  }
}

/** An int64 (a string in JSON), a double, or a field left out (0). */
export function num(v: string | number | bigint | undefined | null): number {
  if (v === undefined || v === null || v === "") return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** 0.8466 → "84.7 %". */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

/** Milliseconds as "3 min 20 s", "45 s", "1 h 5 min"; "—" for none. */
export function duration(ms: number): string {
  if (ms <= 0) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** A table as shown and as exported: the same headers and cells. */
export interface Table {
  headers: string[];
  rows: string[][];
}

/** The key's value for a dimension the row is grouped by; "(none)" when empty. */
export function keyValue(values: readonly string[] | undefined, i: number): string {
  const v = values?.[i] ?? "";
  return v === "" ? "(none)" : v;
}

export function slaTable(report: SlaReportJson, first: string): Table {
  return {
    headers: [first, "First contacts", "Within window", "Compliance", "p50 to contact", "p90 to contact"],
    rows: (report.rows ?? []).map((r) => [
      keyValue(r.key?.values, 0),
      String(num(r.firstContacts)),
      String(num(r.withinWindow)),
      percent(num(r.compliance)),
      duration(num(r.p50Ms)),
      duration(num(r.p90Ms)),
    ]),
  };
}

/** Every code in the report, most used first. */
export function codesOf(report: CodeReportJson): string[] {
  const totals = new Map<string, number>();
  for (const r of report.rows ?? []) for (const [code, n] of Object.entries(r.byCode ?? {})) totals.set(code, (totals.get(code) ?? 0) + num(n));
  return [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c]) => c);
}

export function codeTable(report: CodeReportJson): Table {
  const codes = codesOf(report);
  return {
    headers: ["Lead source", "Records", "Disqualified", "Rejection rate", "Above 30 %", ...codes],
    rows: (report.rows ?? []).map((r) => {
      const rate = num(r.rejectionRate);
      return [
        keyValue(r.key?.values, 0),
        String(num(r.records)),
        String(num(r.disqualified)),
        percent(rate),
        rate > REJECTION_FLAG ? "yes" : "no",
        ...codes.map((c) => String(num(r.byCode?.[c]))),
      ];
    }),
  };
}

export function coverageTable(report: CoverageReportJson): Table {
  return {
    headers: ["Record type", "Status", "Unmatched lookups"],
    rows: (report.rows ?? []).map((r) => [keyValue(r.key?.values, 0), keyValue(r.key?.values, 1), String(num(r.unmatchedLookups))]),
  };
}

/** sopTitle: the SOP's title by its resource name, when the console knows it. */
export function usageTable(report: UsageReportJson, sopTitle: (name: string) => string): Table {
  return {
    headers: ["SOP", "Revision", "Impressions", "Records", "Steps completed", "By step", "Assets opened"],
    rows: (report.rows ?? []).map((r) => {
      const name = r.key?.values?.[0] ?? "";
      const bySteps = Object.entries(r.byStep ?? {})
        .map(([step, n]) => [Number(step), num(n)] as const)
        .sort((a, b) => a[0] - b[0])
        .map(([step, n]) => `step ${step}: ${n}`)
        .join("; ");
      return [sopTitle(name), keyValue(r.key?.values, 1), String(num(r.impressions)), String(num(r.records)), String(num(r.stepsCompleted)), bySteps, String(num(r.assetsOpened))];
    }),
  };
}

/**
 * RFC 4180 CSV (CRLF, quotes doubled). A cell that a spreadsheet would run as a formula (=, +,
 * -, @ first) gets a leading apostrophe: lead sources and statuses come from CRM data.
 */
export function toCsv(table: Table): string {
  const cell = (v: string) => {
    const safe = /^[=+\-@\t\r]/.test(v) && !/^-?\d/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [table.headers, ...table.rows].map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

/** Today (UTC) and the day `days` before it, as YYYY-MM-DD. */
export function defaultRange(now: Date, days = 30): { start: string; end: string } {
  const end = now.toISOString().slice(0, 10);
  const start = new Date(Date.parse(end) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return { start, end };
}
