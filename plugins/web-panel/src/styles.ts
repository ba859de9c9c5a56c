// The panel's styles, applied as a constructable stylesheet (adoptedStyleSheets): no
// <style> element and no style attributes, so a CSP of `default-src 'self'` (which forbids
// inline styles) needs no 'unsafe-inline'. Colours meet WCAG AA contrast on white.
export const css = `
:host {
  display: block;
  box-sizing: border-box;
  min-width: 280px;
  max-width: 100%;
  color: #1f2328;
  background: #ffffff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --accent: #0b57a4;
  --accent-bg: #eef4fb;
  --muted: #57606a;
  --line: #d8dee4;
  --danger: #b42318;
  --danger-bg: #fdecea;
  --warn-bg: #fff6dd;
  --warn-line: #d4a72c;
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: inherit; }
section.panel { padding: 12px 14px 16px; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.eyebrow {
  display: flex; align-items: center; justify-content: space-between; gap: 8px;
  font-size: 11px; font-weight: 600; letter-spacing: .06em; text-transform: uppercase; color: var(--muted);
  margin: 0 0 6px;
}
.live-dot { display: inline-flex; align-items: center; gap: 5px; text-transform: none; letter-spacing: 0; font-weight: 500; }
.live-dot::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: #1a7f37; }
.live-dot.off::before { background: #9a6700; }
h2.title { font-size: 18px; line-height: 1.3; margin: 0 0 4px; font-weight: 650; }
.purpose { color: var(--muted); margin: 0 0 12px; font-size: 13px; }
.meta { display: flex; flex-wrap: wrap; gap: 6px; margin: 0 0 12px; padding: 0; list-style: none; }
.chip {
  display: inline-block; border: 1px solid var(--line); border-radius: 999px; padding: 1px 8px;
  font-size: 12px; color: #24292f; background: #f6f8fa;
}
h3 { font-size: 12px; font-weight: 650; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 16px 0 6px; }
.step-current {
  border: 1px solid #b6cfea; border-left: 4px solid var(--accent); border-radius: 8px;
  background: var(--accent-bg); padding: 10px 12px; margin: 0 0 10px;
}
.step-current.breached { border-color: #f1b8b2; border-left-color: var(--danger); background: #fff8f7; }
.step-label { font-size: 11px; font-weight: 700; letter-spacing: .06em; text-transform: uppercase; color: var(--accent); margin: 0 0 2px; }
.step-current.breached .step-label { color: var(--danger); }
.step-current h3.step-title { font-size: 15px; line-height: 1.35; font-weight: 650; margin: 0 0 6px; text-transform: none; letter-spacing: 0; color: #1f2328; }
.sla {
  display: flex; align-items: baseline; gap: 2px 8px; flex-wrap: wrap;
  margin: 4px 0 8px; padding: 6px 10px; border-radius: 6px; background: #ffffff; border: 1px solid var(--line);
}
.sla .sla-time { font-size: 20px; font-weight: 700; font-variant-numeric: tabular-nums; }
.sla .sla-label { flex-basis: 100%; font-size: 11px; font-weight: 700; letter-spacing: .05em; text-transform: uppercase; color: var(--muted); }
.sla .sla-note { font-size: 12px; color: var(--muted); }
.sla.overdue .sla-label { color: var(--danger); }
.sla.overdue { background: var(--danger-bg); border-color: var(--danger); color: var(--danger); }
.sla.overdue .sla-note { color: var(--danger); }
.md { overflow-wrap: anywhere; }
.md p { margin: 0 0 8px; }
.md ul, .md ol { margin: 0 0 8px; padding-left: 20px; }
.md li { margin: 2px 0; }
.md code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: rgba(175,184,193,.25); padding: 0 4px; border-radius: 4px; }
.md pre { overflow-x: auto; background: #f6f8fa; padding: 8px; border-radius: 6px; }
.md pre code { background: none; padding: 0; }
.md table { border-collapse: collapse; width: 100%; margin: 0 0 8px; font-size: 12.5px; display: block; overflow-x: auto; }
.md th, .md td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; overflow-wrap: normal; word-break: normal; hyphens: auto; }
.md th:first-child, .md td:first-child { min-width: 5.5em; }
.md th { background: #f6f8fa; }
.md blockquote { margin: 0 0 8px; padding-left: 10px; border-left: 3px solid var(--line); color: var(--muted); }
a { color: var(--accent); text-underline-offset: 2px; }
a:focus-visible, button:focus-visible, select:focus-visible, summary:focus-visible {
  outline: 2px solid var(--accent); outline-offset: 2px; border-radius: 3px;
}
dl.kv { margin: 8px 0 0; display: grid; grid-template-columns: auto 1fr; gap: 4px 10px; font-size: 13px; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
ul.updates { margin: 0; padding: 0; list-style: none; }
ul.updates li { margin: 0 0 4px; }
ul.updates code, .field { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: rgba(175,184,193,.25); padding: 0 4px; border-radius: 4px; }
.note { color: var(--muted); font-size: 12.5px; }
.dq { margin: 8px 0 0; padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.dq label { display: block; font-weight: 600; font-size: 13px; margin: 0 0 4px; }
select, button {
  font: inherit; font-size: 13px; color: inherit; border: 1px solid #8c959f; border-radius: 6px; background: #fff; padding: 4px 8px;
}
select { width: 100%; }
button { cursor: pointer; background: #f6f8fa; }
button:hover { background: #eef1f4; }
.dq-desc { margin: 6px 0 0; font-size: 12.5px; color: var(--muted); min-height: 1em; }
ol.steps { list-style: none; margin: 0; padding: 0; counter-reset: none; }
ol.steps > li { border-top: 1px solid var(--line); }
ol.steps > li:first-child { border-top: 0; }
details > summary { cursor: pointer; padding: 6px 0; }
details > summary::marker { color: var(--muted); }
.swimlane { overflow-x: auto; }
.swimlane svg { display: block; max-width: 100%; height: auto; }
.note.error { color: #b42318; }
.step-num { display: inline-block; min-width: 1.6em; font-weight: 600; color: var(--muted); font-variant-numeric: tabular-nums; }
ol.steps li.current > .step-row { font-weight: 650; color: var(--accent); padding: 6px 0; }
.step-body { padding: 0 0 8px 1.6em; }
table.cadence { width: 100%; border-collapse: collapse; font-size: 12.5px; }
table.cadence th, table.cadence td { text-align: left; vertical-align: top; padding: 5px 6px; border-bottom: 1px solid var(--line); }
table.cadence th { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 650; }
table.cadence td.day { white-space: nowrap; font-weight: 600; font-variant-numeric: tabular-nums; }
table.cadence tr.today td { background: var(--accent-bg); }
table.cadence tr.today td:first-child { box-shadow: inset 3px 0 0 var(--accent); }
table.cadence tr.past td { color: var(--muted); }
.stale-badge { margin: 0 0 10px; padding: 4px 8px; border-radius: 6px; background: #fff4e5; color: #7a3e00; border: 1px solid #f0b46e; font-size: 12px; font-weight: 600; }
.today-badge { display: inline-block; margin-left: 4px; padding: 0 6px; border-radius: 999px; background: var(--accent); color: #fff; font-size: 10.5px; font-weight: 700; letter-spacing: .03em; }
ul.assets { margin: 0; padding: 0; list-style: none; }
ul.assets li { margin: 0 0 4px; }
.kind { color: var(--muted); font-size: 12px; }
.why, .others { margin-top: 12px; border-top: 1px solid var(--line); padding-top: 4px; }
.why ul { margin: 4px 0 8px; padding-left: 18px; font-size: 13px; }
.other { margin: 6px 0; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; }
.other-title { font-weight: 600; }
.state { text-align: left; margin: 12px 0 0; padding: 4px 0 4px 12px; border-left: 3px solid var(--line); }
.state h2 { font-size: 16px; margin: 0 0 6px; }
.state p { margin: 0 0 8px; color: var(--muted); }
/* Red is kept for a breached SLA; failures are marked in slate, reconnecting in amber. */
.state.error, .state.unauthorized { border-left-color: #57606a; }
.state.reconnecting { border-left-color: var(--warn-line); }
.state.empty, .state.waiting { border-left-color: #b6cfea; }
.state .message {
  font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #24292f; background: #f6f8fa;
  border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; white-space: pre-wrap; overflow-wrap: anywhere;
}
.banner {
  display: flex; align-items: center; gap: 8px; margin: 0 0 10px; padding: 6px 10px; border-radius: 6px;
  background: var(--warn-bg); border: 1px solid var(--warn-line); font-size: 13px; color: #4d3800;
}
.banner button { margin-left: auto; }
.skeleton { border-radius: 4px; background: linear-gradient(90deg, #eef1f4 25%, #f6f8fa 50%, #eef1f4 75%); background-size: 200% 100%; animation: shimmer 1.2s infinite linear; margin: 0 0 8px; height: 12px; }
.skeleton.h { height: 20px; width: 70%; }
.skeleton.w60 { width: 60%; }
.skeleton.block { height: 90px; }
@keyframes shimmer { from { background-position: 200% 0; } to { background-position: -200% 0; } }
@media (prefers-reduced-motion: reduce) { .skeleton { animation: none; } }
.spinner-text { color: var(--muted); font-size: 13px; }
.done-row { margin: 8px 0 0; }
button.done {
  font: inherit; font-size: 12px; padding: 1px 8px; border-radius: 999px; cursor: pointer;
  border: 1px solid #8c959f; background: #ffffff; color: #24292f;
}
ol.steps li > button.done { margin: 2px 0 4px 22px; }
button.done[aria-pressed="true"] { border-color: #1a7f37; color: #1a7f37; background: #eaf6ec; cursor: default; }
.search-box { margin-top: 16px; border-top: 1px solid var(--line); padding-top: 10px; }
.search label { display: block; font-size: 12px; font-weight: 650; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 4px; }
.search-row { display: flex; gap: 6px; }
.search-row input { flex: 1; min-width: 0; font: inherit; padding: 4px 8px; border: 1px solid #8c959f; border-radius: 6px; }
.search-row button, .code-picker button {
  font: inherit; font-size: 13px; padding: 4px 10px; border-radius: 6px; border: 1px solid #8c959f; background: #f6f8fa; color: #1f2328; cursor: pointer;
}
.search-row input:focus-visible, .code-picker input:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.search-status { font-size: 12.5px; color: var(--muted); margin: 6px 0 0; }
.search-status:empty { display: none; }
ol.search-results { list-style: none; margin: 6px 0 0; padding: 0; }
.search-result { padding: 6px 0; border-bottom: 1px solid var(--line); }
.search-title { font-weight: 600; }
.search-snippet { margin: 2px 0 0; font-size: 12.5px; color: #24292f; overflow-wrap: anywhere; }
mark { background: #fff1a8; color: inherit; padding: 0 1px; border-radius: 2px; }
dialog.code-picker { max-width: min(420px, calc(100vw - 32px)); border: 1px solid var(--line); border-radius: 10px; padding: 16px; color: #1f2328; }
dialog.code-picker::backdrop { background: rgba(15, 42, 71, .45); }
.code-picker h2 { font-size: 16px; margin: 0 0 6px; }
.code-picker fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 10px 0; padding: 6px 10px 8px; }
.code-picker legend { font-weight: 650; font-size: 13px; padding: 0 4px; }
.code-option { display: grid; grid-template-columns: auto 1fr; gap: 0 8px; align-items: baseline; margin: 6px 0; }
.code-option .code-desc { grid-column: 2; margin: 0; font-size: 12px; color: var(--muted); }
.code-option code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: var(--muted); }
.picker-error { color: var(--danger); margin: 0 0 8px; }
.picker-error:empty { display: none; }
.picker-buttons { display: flex; gap: 8px; justify-content: flex-end; }
.code-picker button.primary { background: var(--accent); border-color: var(--accent); color: #ffffff; }
.code-picker button:disabled { opacity: .6; cursor: progress; }
`;
