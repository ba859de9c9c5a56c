// The panel's search box: SopService.SearchSops over the live SOPs the rep may see. Results show
// the title and the server's snippet, its parts in turn, matched words in <mark>. Every part is
// a text node: the snippet is SOP text (untrusted), never parsed as HTML. A `role=search`
// group, not a <form>: the panel's shadow root holds no form (nothing in it submits anywhere).
import { h } from "./dom.js";
import type { SearchResultJson, SearchSopsResponseJson, SnippetPartJson } from "./gen/sopsidebar/v1/sop_service_pb.js";

/** Runs one search; rejects with an Error whose message is shown. */
export type RunSearch = (query: string, signal: AbortSignal) => Promise<SearchSopsResponseJson>;

const DEBOUNCE_MS = 350;
const MAX_QUERY = 500;

/** The snippet as nodes: text, highlighted parts in <mark>. */
export function snippetNodes(parts: readonly SnippetPartJson[]): Node[] {
  return parts.map((p) => (p.highlighted ? h("mark", { text: p.text ?? "" }) : document.createTextNode(p.text ?? "")));
}

function resultItem(r: SearchResultJson): HTMLElement {
  return h(
    "li",
    { class: "search-result", attrs: { "data-sop": r.sop ?? "" } },
    h("div", { class: "search-title", text: r.title || (r.sop ?? "").split("/").pop() || "" }),
    (r.snippet ?? []).length > 0 ? h("p", { class: "search-snippet" }, ...snippetNodes(r.snippet ?? [])) : null,
  );
}

/** The search group and its results, ready to append. */
export function searchBox(run: RunSearch): HTMLElement {
  const input = h("input", { attrs: { id: "sop-search", type: "search", maxlength: String(MAX_QUERY), autocomplete: "off", spellcheck: "false" } });
  const button = h("button", { text: "Search", attrs: { type: "button" } });
  const status = h("p", { class: "search-status", attrs: { role: "status", "aria-live": "polite" } });
  const list = h("ol", { class: "search-results", attrs: { "aria-label": "Search results" } });
  list.hidden = true;
  const form = h(
    "div",
    { class: "search", attrs: { role: "search", "aria-label": "Search procedures" } },
    h("label", { text: "Search all procedures", attrs: { for: "sop-search" } }),
    h("div", { class: "search-row" }, input, button),
  );
  let ac: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const go = async () => {
    clearTimeout(timer);
    ac?.abort();
    const query = input.value.trim();
    if (query === "") {
      status.textContent = "";
      list.replaceChildren();
      list.hidden = true;
      return;
    }
    const mine = new AbortController();
    ac = mine;
    status.textContent = "Searching…";
    form.setAttribute("aria-busy", "true");
    try {
      const res = await run(query, mine.signal);
      if (ac !== mine) return;
      const results = res.results ?? [];
      const corrected = res.correctedQuery ? `Showing results for “${res.correctedQuery}”. ` : "";
      status.textContent = corrected + (results.length === 0 ? "No procedure matches." : `${results.length} ${results.length === 1 ? "procedure" : "procedures"} found.`);
      list.replaceChildren(...results.map(resultItem));
      list.hidden = results.length === 0;
    } catch (e) {
      if (ac !== mine) return;
      status.textContent = `Search failed — ${e instanceof Error ? e.message : String(e)}`;
      list.replaceChildren();
      list.hidden = true;
    } finally {
      if (ac === mine) form.setAttribute("aria-busy", "false");
    }
  };
  button.addEventListener("click", () => void go());
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      void go();
    }
  });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => void go(), DEBOUNCE_MS);
  });
  return h("div", { class: "search-box" }, form, status, list);
}
