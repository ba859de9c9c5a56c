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

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const FONT_SIZE = "16px";

mermaid.initialize({
  startOnLoad: false,
  securityLevel: "strict",
  // SVG text labels, not HTML in foreignObject: they are measured without inline styles, which
  // sopd's CSP (style-src 'self') and most CRM pages' refuse.
  htmlLabels: false,
  flowchart: { htmlLabels: false, useMaxWidth: true },
  fontFamily: FONT,
  themeVariables: { fontFamily: FONT, fontSize: FONT_SIZE },
  theme: "default",
});

let n = 0;
window.sopMermaid = {
  async render(source: string): Promise<string> {
    await mermaid.parse(source);
    // Mermaid measures its labels in a scratch element. Its own <style> is refused under a strict
    // CSP, so the scratch element gets the diagram's font through the CSSOM (which CSP allows):
    // labels are measured in the font they are drawn in, whatever the page's font is.
    const scratch = document.createElement("div");
    scratch.style.setProperty("position", "absolute");
    scratch.style.setProperty("left", "-10000px");
    scratch.style.setProperty("top", "0");
    scratch.style.setProperty("font-family", FONT);
    scratch.style.setProperty("font-size", FONT_SIZE);
    scratch.style.setProperty("line-height", "1.5");
    document.body.append(scratch);
    try {
      const { svg } = await mermaid.render(`sop-mermaid-${++n}`, source, scratch);
      return svg;
    } finally {
      scratch.remove();
    }
  },
};
