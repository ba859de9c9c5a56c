// The lazily loaded diagram chunk, dist/panel/sop-mermaid.js: Mermaid (bundled from npm, nothing
// fetched at run time) behind one function, window.sopMermaid.render(source) → SVG text. The
// panel and the console load it with a <script> from sopd's origin only when a diagram is
// shown (src/diagram.ts), so the panel's own bundle does not carry Mermaid.
import mermaid from "mermaid";

export interface SopMermaid {
  /** The diagram as SVG text; rejects with Mermaid's parse or render error. */
  render(source: string): Promise<string>;
}

declare global {
  interface Window {
    sopMermaid?: SopMermaid;
  }
}

mermaid.initialize({
  startOnLoad: false,
  securityLevel: "strict",
  // SVG text labels, not HTML in foreignObject: they are measured without inline styles, which
  // sopd's CSP (style-src 'self') and most CRM pages' refuse.
  htmlLabels: false,
  flowchart: { htmlLabels: false, useMaxWidth: true },
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  theme: "default",
});

let n = 0;
window.sopMermaid = {
  async render(source: string): Promise<string> {
    await mermaid.parse(source);
    const { svg } = await mermaid.render(`sop-mermaid-${++n}`, source);
    return svg;
  },
};
