// DOM helpers and the console's renderings of a diff, sign-offs and comments. Everything from
// the server is set as text (textContent), never as HTML: SOP text and comments are untrusted.
import { roleLabel as panelRoleLabel } from "../src/format.js";
import type { CommentJson, FieldChangeJson, RoleJson, SignOffJson, SopDiffJson } from "./review-api.js";

type Child = Node | string | null | undefined | false;

/** An element with attributes (string values; `true` for a bare attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c);
  }
  return el;
}

/** The panel's label of a role; a role it has none for (a newer sopd's) as sent. */
export function roleLabel(role: RoleJson | number | undefined): string {
  if (role === undefined) return "";
  return panelRoleLabel(role) || String(role);
}

/** An RFC 3339 time as a short local date and time; "" when unset or invalid. */
export function formatTime(t: string | undefined): string {
  if (!t) return "";
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return t;
  return d.toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });
}

export function timeEl(t: string | undefined): HTMLElement {
  return h("time", { datetime: t ?? "" }, formatTime(t));
}

/** "steps" → "Steps", "sla_terms" → "SLA terms". */
export function sectionLabel(section: string): string {
  const words = section.split("_").map((w) => (w === "sla" ? "SLA" : w));
  const s = words.join(" ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The changes by section, sections in the order they first appear (the order of Sop's fields). */
export function groupBySection(changes: readonly FieldChangeJson[]): Map<string, FieldChangeJson[]> {
  const groups = new Map<string, FieldChangeJson[]>();
  for (const c of changes) {
    const key = c.section || (c.path ?? "").split(/[.[]/)[0] || "other";
    const list = groups.get(key);
    if (list) list.push(c);
    else groups.set(key, [c]);
  }
  return groups;
}

/** A compact-JSON value for reading: a JSON string as its text, anything else pretty-printed. */
export function displayValue(json: string | undefined): string {
  if (!json) return "";
  try {
    const v: unknown = JSON.parse(json);
    if (typeof v === "string") return v;
    return JSON.stringify(v, null, 2);
  } catch {
    return json;
  }
}

type Kind = "added" | "removed" | "changed";

function kindOf(c: FieldChangeJson): Kind {
  if (c.kind === "ADDED") return "added";
  if (c.kind === "REMOVED") return "removed";
  return "changed";
}

const KIND_LABEL: Record<Kind, string> = { added: "Added", removed: "Removed", changed: "Changed" };

function lineDiff(c: FieldChangeJson): HTMLElement {
  const list = h("ol", { class: "lines", "aria-label": `Line changes in ${c.path ?? c.section ?? ""}` });
  for (const l of c.lines ?? []) {
    const op = l.op === "ADDED" ? "added" : l.op === "REMOVED" ? "removed" : "kept";
    const sign = op === "added" ? "+" : op === "removed" ? "−" : " ";
    const srText = op === "added" ? "added: " : op === "removed" ? "removed: " : "";
    const text = l.text ?? "";
    const body = op === "added" ? h("ins", {}, text) : op === "removed" ? h("del", {}, text) : h("span", {}, text);
    list.append(
      h("li", { class: `line line-${op}` }, h("span", { class: "sign", "aria-hidden": "true" }, sign), srText ? h("span", { class: "visually-hidden" }, srText) : null, body),
    );
  }
  return list;
}

function valueBlock(label: "Before" | "After", json: string | undefined): HTMLElement {
  const text = displayValue(json);
  const inner = label === "Before" ? h("del", {}, text) : h("ins", {}, text);
  return h("div", { class: `value value-${label.toLowerCase()}` }, h("span", { class: "value-label" }, label), h("pre", {}, inner));
}

export function renderChange(c: FieldChangeJson): HTMLElement {
  const kind = kindOf(c);
  const item = h(
    "li",
    { class: `change change-${kind}`, "data-kind": kind },
    h("div", { class: "change-head" }, h("span", { class: `badge badge-${kind}` }, KIND_LABEL[kind]), " ", h("code", { class: "path" }, c.path || c.section || "")),
  );
  if ((c.lines ?? []).length > 0) {
    item.append(lineDiff(c));
  } else {
    if (kind !== "added") item.append(valueBlock("Before", c.before));
    if (kind !== "removed") item.append(valueBlock("After", c.after));
  }
  return item;
}

export function renderDiff(diff: SopDiffJson): HTMLElement {
  const changes = diff.changes ?? [];
  const box = h("div", { class: "diff", "data-changes": String(changes.length) });
  if (changes.length === 0) {
    box.append(h("p", { class: "empty" }, "No content changes between these revisions."));
    return box;
  }
  for (const [section, list] of groupBySection(changes)) {
    const id = `diff-${section.replace(/[^a-z0-9_-]/gi, "-")}`;
    box.append(
      h(
        "section",
        { class: "diff-section", "aria-labelledby": id, "data-section": section },
        h("h4", { id }, `${sectionLabel(section)} `, h("span", { class: "count" }, `(${list.length} ${list.length === 1 ? "change" : "changes"})`)),
        h("ul", { class: "changes" }, ...list.map(renderChange)),
      ),
    );
  }
  return box;
}

export function renderSignOff(s: SignOffJson): HTMLElement {
  return h(
    "li",
    { class: "signoff", "data-role": String(s.role ?? "") },
    h("strong", {}, roleLabel(s.role)),
    ` — ${s.userId ?? "someone"}`,
    s.via ? ` (via ${s.via})` : null,
    s.time ? ", " : null,
    s.time ? timeEl(s.time) : null,
    s.comment ? h("p", { class: "signoff-comment" }, s.comment) : null,
  );
}

export function renderComment(c: CommentJson): HTMLElement {
  return h(
    "li",
    { class: `comment${c.resolved ? " resolved" : ""}` },
    h(
      "p",
      { class: "comment-meta" },
      h("strong", {}, c.author ?? "someone"),
      c.stepOrdinal ? ` on step ${c.stepOrdinal}` : null,
      c.createTime ? " · " : null,
      c.createTime ? timeEl(c.createTime) : null,
      c.revisionId ? ` · revision ${c.revisionId}` : null,
      c.resolved ? " · resolved" : null,
    ),
    h("p", { class: "comment-text" }, c.text ?? ""),
  );
}
