// The console's Analytics view (#analytics): Marketing's dashboard over AnalyticsService's
// reports — first-contact SLA compliance by lead source and by week, disqualification codes and
// rejection rates by lead source (sources above 30 % flagged), coverage gaps (contexts no SOP
// matched) and usage per SOP and revision. Filters: the days counted and one lead source. Every
// table downloads as CSV (exactly the cells shown). Live: while the view is shown and the tab is
// visible it asks sopd again every REFRESH_MS; the figures are sopd's at that moment.
//
// Charts are Chart.js (bundled, canvas: no request anywhere), each with its table beside it as
// the accessible, exact form of the same figures.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartData,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
} from "chart.js";
import { ConnectError, codeName, toConnectError } from "../src/connect.js";
import {
  type AnalyticsApi,
  type CodeReportJson,
  type ReportQueryJson,
  type SlaReportJson,
  type Table,
  REJECTION_FLAG,
  codeTable,
  codesOf,
  coverageTable,
  defaultRange,
  keyValue,
  num,
  percent,
  slaTable,
  toCsv,
  usageTable,
} from "./analytics-api.js";
import { h } from "./view.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

/** How often the view asks sopd again while visible. */
export const REFRESH_MS = 2000;
/** Distinct at AA contrast against white, in order of use. */
const PALETTE = ["#0b57a4", "#c2410c", "#1a7f37", "#8250df", "#9a6700", "#1b7c83", "#bf3989", "#57606a"];
const FLAG_COLOUR = "#b42318";

type SectionId = "sla-source" | "sla-week" | "codes" | "rejection" | "coverage" | "usage";

interface Section {
  box: HTMLElement;
  status: HTMLElement;
  tableBox: HTMLElement;
  canvas?: HTMLCanvasElement;
  chart?: Chart;
  table?: Table;
}

function errorText(e: unknown): string {
  const err = e instanceof ConnectError ? e : toConnectError(e);
  return `${codeName(err.code)}: ${err.rawMessage || "no message"}`;
}

function renderTable(table: Table, caption: string, flagged: (row: string[]) => boolean = () => false): HTMLTableElement {
  const el = h("table", { class: "data" });
  el.append(h("caption", { class: "visually-hidden" }, caption));
  el.append(h("thead", {}, h("tr", {}, ...table.headers.map((t) => h("th", { scope: "col" }, t)))));
  const body = h("tbody");
  for (const row of table.rows) {
    const tr = h("tr", flagged(row) ? { class: "flagged" } : {});
    row.forEach((cell, i) => tr.append(i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell)));
    body.append(tr);
  }
  el.append(body);
  return el;
}

/** A download of `text` as a file, from a Blob (no request anywhere). */
function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export class Dashboard {
  readonly #root: HTMLElement;
  readonly #api: AnalyticsApi;
  readonly #org: string;
  readonly #sopTitle: (name: string) => string;
  readonly #sections = new Map<SectionId, Section>();
  readonly #sources = new Set<string>();
  #start!: HTMLInputElement;
  #end!: HTMLInputElement;
  #source!: HTMLSelectElement;
  #freshness!: HTMLElement;
  #error!: HTMLElement;
  #timer: ReturnType<typeof setInterval> | undefined;
  #inFlight = false;
  #again = false;
  #generation = 0;
  #refreshes = 0;

  /** root: the view's element (emptied and filled); sopTitle: a title for an SOP's name. */
  constructor(root: HTMLElement, api: AnalyticsApi, org: string, sopTitle: (name: string) => string) {
    this.#root = root;
    this.#api = api;
    this.#org = org;
    this.#sopTitle = sopTitle;
    this.#build();
  }

  /** Shows fresh figures now, then every REFRESH_MS while the tab is visible. */
  start(): void {
    this.stop();
    void this.refresh();
    this.#timer = setInterval(() => {
      if (document.visibilityState === "visible") void this.refresh();
    }, REFRESH_MS);
    document.addEventListener("visibilitychange", this.#onVisible);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    document.removeEventListener("visibilitychange", this.#onVisible);
  }

  /** Stops and releases the charts (sign-out). */
  destroy(): void {
    this.stop();
    this.#generation++;
    for (const s of this.#sections.values()) s.chart?.destroy();
    this.#root.replaceChildren();
  }

  #onVisible = (): void => {
    if (document.visibilityState === "visible") void this.refresh();
  };

  /** The request's ReportQuery, without group_by (each report sets its own). */
  query(): ReportQueryJson {
    const q: ReportQueryJson = { parent: this.#org };
    if (this.#start.value) q.startDay = this.#start.value;
    if (this.#end.value) q.endDay = this.#end.value;
    if (this.#source.value) q.leadSources = [this.#source.value];
    return q;
  }

  // ---- layout --------------------------------------------------------------------------------

  #build(): void {
    const range = defaultRange(new Date());
    this.#start = h("input", { type: "date", id: "f-start", value: range.start });
    this.#end = h("input", { type: "date", id: "f-end", value: range.end });
    this.#source = h("select", { id: "f-source" }, h("option", { value: "" }, "All lead sources"));
    const filters = h(
      "form",
      { class: "filters", id: "analytics-filters", "aria-label": "Filters" },
      h("div", { class: "filter" }, h("label", { for: "f-start" }, "From (UTC day)"), this.#start),
      h("div", { class: "filter" }, h("label", { for: "f-end" }, "To (UTC day)"), this.#end),
      h("div", { class: "filter" }, h("label", { for: "f-source" }, "Lead source"), this.#source),
    );
    filters.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.refresh();
    });
    for (const el of [this.#start, this.#end, this.#source]) el.addEventListener("change", () => void this.refresh());
    this.#freshness = h("p", { class: "hint", id: "analytics-freshness" }, "Loading…");
    this.#error = h("div", { class: "error", id: "analytics-error", role: "alert", hidden: true });
    const head = h(
      "div",
      { class: "card" },
      h("h1", { id: "analytics-h" }, "Analytics"),
      h("p", { class: "hint" }, "What reps did with the SOPs the panel showed them, measured against the SOPs' own terms."),
      filters,
      this.#freshness,
      this.#error,
    );
    const grid = h("div", { class: "dash-grid" });
    const add = (id: SectionId, title: string, hint: string, chart: boolean, wide = false) => {
      const headingId = `${id}-h`;
      const status = h("p", { class: "list-state", role: "status" }, "Loading…");
      // Focusable: a narrow screen scrolls the table sideways, by keyboard too.
      const tableBox = h("div", { class: "table-box", role: "region", tabindex: "0", "aria-label": `${title}: table` });
      const csv = h("button", { type: "button", class: "secondary csv", id: `${id}-csv`, "aria-describedby": headingId }, "Download CSV");
      const box = h("section", { class: `card dash${wide ? " wide" : ""}`, id, "aria-labelledby": headingId }, h("div", { class: "dash-head" }, h("h2", { id: headingId }, title), csv), h("p", { class: "hint" }, hint), status);
      const section: Section = { box, status, tableBox };
      if (chart) {
        section.canvas = h("canvas", { role: "img", "aria-label": `${title}: chart; the table below has the figures` });
        box.append(h("div", { class: "chart-box" }, section.canvas));
      }
      box.append(tableBox);
      csv.addEventListener("click", () => {
        if (!section.table) return;
        const q = this.query();
        const source = q.leadSources?.[0] ? `-${q.leadSources[0].replace(/[^A-Za-z0-9]+/g, "-")}` : "";
        download(`${id}-${q.startDay ?? "start"}-${q.endDay ?? "today"}${source}.csv`, toCsv(section.table));
      });
      this.#sections.set(id, section);
      grid.append(box);
    };
    add("sla-source", "First-contact SLA by lead source", "Share of first contacts inside the SOP's first-contact window; time to first contact (p50, p90).", true);
    add("sla-week", "First-contact SLA by week", "Weeks start on Monday (UTC).", true);
    add("codes", "Disqualification codes by lead source", "Rejections per code, stacked per lead source.", true);
    add("rejection", "Rejection rate by lead source", `Rejections / records that reached an SOP with disqualification codes. Above ${REJECTION_FLAG * 100} % is flagged.`, true);
    add("coverage", "Coverage gaps", "Lookups no SOP matched, by record type and status, most frequent first: where an SOP is missing.", false);
    add("usage", "Usage per SOP and revision", "Impressions (the panel showing the SOP), records, steps marked done and assets opened.", false, true);
    this.#root.dataset.state = "loading";
    this.#root.replaceChildren(head, grid);
  }

  // ---- data ----------------------------------------------------------------------------------

  async refresh(): Promise<void> {
    if (this.#inFlight) {
      this.#again = true; // a filter changed mid-call: ask again with it when this one is back
      return;
    }
    const q = this.query();
    if (q.startDay && q.endDay && q.startDay > q.endDay) {
      this.#showError("The start day is after the end day.");
      return;
    }
    this.#inFlight = true;
    const gen = this.#generation;
    const [bySource, byWeek, codes, coverage, usage] = await Promise.allSettled([
      this.#api.sla({ ...q, groupBy: ["LEAD_SOURCE"] }),
      this.#api.sla({ ...q, groupBy: ["WEEK"] }),
      this.#api.codes({ ...q, groupBy: ["LEAD_SOURCE"] }),
      this.#api.coverage({ ...q, groupBy: ["RECORD_TYPE", "STATUS"] }),
      this.#api.usage({ ...q, groupBy: ["SOP", "REVISION"] }),
    ]);
    this.#inFlight = false;
    if (gen !== this.#generation) return;
    if (this.#again) {
      this.#again = false;
      void this.refresh();
      return;
    }
    const results = [bySource, byWeek, codes, coverage, usage];
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length === results.length) {
      this.#showError(`Could not load the reports — ${errorText(failed[0].reason)}`);
      return;
    }
    this.#error.hidden = true;
    this.#show("sla-source", bySource, (r) => this.#sla("sla-source", r, "Lead source", "bar"));
    this.#show("sla-week", byWeek, (r) => this.#sla("sla-week", r, "Week", "line"));
    this.#show("codes", codes, (r) => this.#codes(r));
    this.#show("rejection", codes, (r) => this.#rejection(r));
    this.#show("coverage", coverage, (r) => this.#setTable("coverage", coverageTable(r), "Coverage gaps"));
    this.#show("usage", usage, (r) => this.#setTable("usage", usageTable(r, this.#sopTitle), "Usage per SOP and revision"));
    if (bySource.status === "fulfilled") this.#learnSources((bySource.value.rows ?? []).map((r) => r.key?.values?.[0] ?? ""));
    if (codes.status === "fulfilled") this.#learnSources((codes.value.rows ?? []).map((r) => r.key?.values?.[0] ?? ""));
    this.#refreshes++;
    this.#root.dataset.state = "ready";
    this.#root.dataset.refreshes = String(this.#refreshes);
    const at = new Date().toLocaleTimeString("en-GB", { hour12: false });
    this.#freshness.textContent = `Updated ${at}. Refreshed every ${REFRESH_MS / 1000} s while this view is open and the tab is visible.`;
  }

  #showError(text: string): void {
    this.#error.textContent = text;
    this.#error.hidden = false;
    this.#root.dataset.state = "error";
  }

  #show<T>(id: SectionId, result: PromiseSettledResult<T>, render: (value: T) => void): void {
    const s = this.#sections.get(id) as Section;
    if (result.status === "rejected") {
      s.status.textContent = `Could not load — ${errorText(result.reason)}`;
      s.status.className = "list-state error";
      return;
    }
    s.status.className = "list-state";
    s.status.textContent = "";
    render(result.value);
  }

  #setTable(id: SectionId, table: Table, caption: string, flagged?: (row: string[]) => boolean): void {
    const s = this.#sections.get(id) as Section;
    s.table = table;
    s.box.dataset.rows = String(table.rows.length);
    if (table.rows.length === 0) {
      s.status.textContent = "No figures for these filters.";
      s.status.className = "list-state empty";
    }
    s.tableBox.replaceChildren(renderTable(table, caption, flagged));
  }

  #chart(id: SectionId, type: "bar" | "line", data: ChartData<"bar" | "line">, opts: { stacked?: boolean; percent?: boolean; legend?: boolean } = {}): void {
    const s = this.#sections.get(id) as Section;
    if (!s.canvas) return;
    if (s.chart) {
      s.chart.data = data;
      s.chart.update("none");
      return;
    }
    s.chart = new Chart(s.canvas, {
      type,
      data,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: opts.legend ?? false, position: "bottom" } },
        scales: {
          x: { stacked: opts.stacked ?? false },
          y: {
            stacked: opts.stacked ?? false,
            beginAtZero: true,
            ...(opts.percent ? { max: 100, ticks: { callback: (v: string | number) => `${v} %` } } : { ticks: { precision: 0 } }),
          },
        },
      },
    } as never);
  }

  #sla(id: SectionId, report: SlaReportJson, first: string, type: "bar" | "line"): void {
    const rows = report.rows ?? [];
    this.#chart(id, type, {
      labels: rows.map((r) => keyValue(r.key?.values, 0)),
      datasets: [
        {
          label: "Compliance (%)",
          data: rows.map((r) => Math.round(num(r.compliance) * 1000) / 10),
          backgroundColor: PALETTE[0],
          borderColor: PALETTE[0],
        },
      ],
    }, { percent: true });
    this.#setTable(id, slaTable(report, first), id === "sla-week" ? "First-contact SLA by week" : "First-contact SLA by lead source");
  }

  #codes(report: CodeReportJson): void {
    const rows = report.rows ?? [];
    const codes = codesOf(report);
    this.#chart(
      "codes",
      "bar",
      {
        labels: rows.map((r) => keyValue(r.key?.values, 0)),
        datasets: codes.map((code, i) => ({ label: code, data: rows.map((r) => num(r.byCode?.[code])), backgroundColor: PALETTE[i % PALETTE.length] })),
      },
      { stacked: true, legend: true },
    );
    this.#setTable("codes", codeTable(report), "Disqualification codes by lead source", (row) => row[4] === "yes");
  }

  #rejection(report: CodeReportJson): void {
    const rows = report.rows ?? [];
    this.#chart("rejection", "bar", {
      labels: rows.map((r) => keyValue(r.key?.values, 0)),
      datasets: [
        {
          label: "Rejection rate (%)",
          data: rows.map((r) => Math.round(num(r.rejectionRate) * 1000) / 10),
          backgroundColor: rows.map((r) => (num(r.rejectionRate) > REJECTION_FLAG ? FLAG_COLOUR : PALETTE[0])),
        },
      ],
    }, { percent: true });
    const table: Table = {
      headers: ["Lead source", "Records", "Disqualified", "Rejection rate", "Above 30 %"],
      rows: rows.map((r) => {
        const rate = num(r.rejectionRate);
        return [keyValue(r.key?.values, 0), String(num(r.records)), String(num(r.disqualified)), percent(rate), rate > REJECTION_FLAG ? "yes" : "no"];
      }),
    };
    this.#setTable("rejection", table, "Rejection rate by lead source", (row) => row[4] === "yes");
    const flagged = table.rows.filter((row) => row[4] === "yes");
    const s = this.#sections.get("rejection") as Section;
    if (flagged.length > 0) {
      s.status.textContent = `Above ${REJECTION_FLAG * 100} %: ${flagged.map((row) => `${row[0]} (${row[3]})`).join(", ")}.`;
      s.status.className = "list-state flag-note";
    }
  }

  #learnSources(sources: string[]): void {
    let added = false;
    for (const s of sources) {
      if (s && !this.#sources.has(s)) {
        this.#sources.add(s);
        added = true;
      }
    }
    if (!added) return;
    const chosen = this.#source.value;
    const options = [...this.#sources].sort((a, b) => a.localeCompare(b)).map((s) => h("option", { value: s }, s));
    this.#source.replaceChildren(h("option", { value: "" }, "All lead sources"), ...options);
    this.#source.value = chosen;
  }
}
