// SOP instructions are Markdown written by one role and shown to every rep, so they are
// untrusted: rendered with marked, then sanitised with DOMPurify, then checked once more.
//
// Layers:
//  1. marked renders raw HTML in the Markdown as escaped text (a `<script>` shows as text).
//  2. DOMPurify with a small allow-list (no script/style/iframe/object/form/img/svg, no
//     event-handler or style attributes).
//  3. A hook on every element: links keep only http/https/mailto/tel URLs and open in a new
//     tab with rel="noopener noreferrer"; images are replaced by their alt text, so the panel
//     never requests another origin.
import DOMPurify from "dompurify";
import { Marked } from "marked";

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:", "tel:"]);

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const marked = new Marked({
  async: false,
  gfm: true,
  breaks: false,
  renderer: {
    html(token) {
      return escapeHtml(token.text);
    },
    image(token) {
      return escapeHtml(token.text || "");
    },
  },
});

const ALLOWED_TAGS = [
  "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
  "i", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
  "input", // GFM task-list checkboxes; made inert below
];
const ALLOWED_ATTR = ["href", "title", "align", "colspan", "rowspan", "start", "type", "checked", "disabled"];

let purifier: typeof DOMPurify | undefined;

// The module's own DOMPurify instance (the bundle's copy: nothing else on the page shares it),
// configured once with setConfig, so sanitize() does not parse the config and rebuild the
// allow-lists on every call (a panel render sanitises every step's instructions).
function getPurifier(): typeof DOMPurify {
  if (purifier) return purifier;
  const p = DOMPurify;
  p.setConfig({
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|tel:)/i,
    ALLOW_DATA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  });
  // Images become their alt text (before the allow-list check, which would drop them whole).
  p.addHook("beforeSanitizeElements", (node) => {
    if (node instanceof Element && node.nodeName === "IMG") {
      const alt = node.getAttribute("alt") ?? "";
      node.replaceWith(node.ownerDocument.createTextNode(alt));
    }
  });
  p.addHook("afterSanitizeAttributes", (node) => {
    if (!(node instanceof Element)) return;
    for (const attr of Array.from(node.attributes)) {
      if (/^on/i.test(attr.name) || attr.name === "style") node.removeAttribute(attr.name);
    }
    if (node.tagName === "A") {
      const href = node.getAttribute("href");
      if (href !== null) {
        let ok = false;
        try {
          ok = SAFE_PROTOCOLS.has(new URL(href).protocol);
        } catch {
          ok = false;
        }
        if (!ok) node.removeAttribute("href");
      }
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
  purifier = p;
  return p;
}

/** Renders untrusted Markdown into an inert DocumentFragment. */
export function renderMarkdown(md: string): DocumentFragment {
  const html = marked.parse(md ?? "") as string;
  const frag = getPurifier().sanitize(html) as unknown as DocumentFragment;
  for (const input of Array.from(frag.querySelectorAll("input"))) {
    if (input.getAttribute("type") !== "checkbox") input.remove();
    else input.setAttribute("disabled", "");
  }
  return frag;
}
