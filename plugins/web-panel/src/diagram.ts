// Draws an SOP's Mermaid diagram (AuthoringService's SWIMLANE) into the panel's shadow root or the
// console's page. Mermaid lives in its own chunk, sop-mermaid.js (src/mermaid-chunk.ts), loaded
// with a <script> on the first diagram: the panel's bundle stays small, and the chunk comes from
// sopd's origin like the panel itself.
//
// CSP: sopd serves pages with style-src 'self' (and CRM pages are often as strict), which refuses
// the <style> element and style="" attributes in Mermaid's SVG. So the SVG is parsed off-page,
// its <style> becomes a constructed stylesheet adopted by the root, and each style attribute is
// applied through the CSSOM (el.style.cssText), which CSP allows. @import rules are dropped:
// a diagram never fetches anything.
import type { SopMermaid } from "./mermaid-chunk.js";

let loading: Promise<SopMermaid> | undefined;

/** The chunk's API, loading it from `url` on first use (one load per page). */
export function loadMermaid(url: string): Promise<SopMermaid> {
  if (window.sopMermaid) return Promise.resolve(window.sopMermaid);
  loading ??= new Promise<SopMermaid>((resolve, reject) => {
    const s = document.createElement("script");
    s.src = url;
    s.async = true;
    s.addEventListener("load", () => (window.sopMermaid ? resolve(window.sopMermaid) : reject(new Error("the diagram renderer did not start"))));
    s.addEventListener("error", () => {
      loading = undefined;
      s.remove();
      reject(new Error(`could not load the diagram renderer (${url})`));
    });
    document.head.append(s);
  });
  return loading;
}

const ownSheets = new WeakMap<Document | ShadowRoot, CSSStyleSheet[]>();
const MAX_SHEETS = 8;

/** Adopts `css` into `root`, keeping at most the last MAX_SHEETS diagram sheets. */
function adopt(root: Document | ShadowRoot, css: string): void {
  if (!("adoptedStyleSheets" in root)) return;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css.replace(/@import[^;]*;/g, ""));
  const mine = ownSheets.get(root) ?? [];
  mine.push(sheet);
  const dropped = mine.splice(0, Math.max(0, mine.length - MAX_SHEETS));
  ownSheets.set(root, mine);
  root.adoptedStyleSheets = [...root.adoptedStyleSheets.filter((s) => !dropped.includes(s)), sheet];
}

/**
 * Renders Mermaid `source` to an <svg> for `root` (its styles adopted there). Rejects with a
 * readable Error when the chunk does not load or Mermaid cannot draw the source.
 */
export async function renderDiagram(source: string, chunkUrl: string, root: Document | ShadowRoot): Promise<SVGSVGElement> {
  const m = await loadMermaid(chunkUrl);
  const text = await m.render(source);
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.localName !== "svg" || doc.getElementsByTagName("parsererror").length > 0) throw new Error("the diagram renderer returned no SVG");
  let css = "";
  for (const st of Array.from(svg.querySelectorAll("style"))) {
    css += `${st.textContent ?? ""}\n`;
    st.remove();
  }
  for (const bad of Array.from(svg.querySelectorAll("script, foreignObject iframe"))) bad.remove();
  const styles: string[] = [];
  for (const el of [svg, ...Array.from(svg.querySelectorAll("*"))]) {
    for (const a of Array.from(el.attributes)) if (/^on/i.test(a.name)) el.removeAttribute(a.name);
    const style = el.getAttribute("style");
    if (style) {
      el.setAttribute("data-sop-style", String(styles.length));
      styles.push(style);
      el.removeAttribute("style");
    }
  }
  const out = document.importNode(svg, true) as unknown as SVGSVGElement;
  for (const el of [out, ...Array.from(out.querySelectorAll<SVGElement>("[data-sop-style]"))]) {
    const i = el.getAttribute("data-sop-style");
    if (i === null) continue;
    el.style.cssText = styles[Number(i)] ?? "";
    el.removeAttribute("data-sop-style");
  }
  if (css) adopt(root, css);
  out.setAttribute("role", "img");
  return out;
}
