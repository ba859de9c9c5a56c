// Bundles the panel into ONE file, dist/panel/sop-panel.js, the demo CRM page into
// dist/demo/ (index.html, demo.js, demo.css) and the review console into dist/console/
// (index.html, console.js, console.css). Prints the panel's size, minified and gzipped.
// Mermaid goes into its own chunk, dist/panel/sop-mermaid.js (src/mermaid-chunk.ts), which the
// panel and the console load only when they draw a diagram (src/diagram.ts).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "panel"), { recursive: true });
mkdirSync(join(dist, "demo"), { recursive: true });
mkdirSync(join(dist, "console"), { recursive: true });

const common = {
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome109", "firefox115", "safari16.4"],
  legalComments: "linked",
  sourcemap: false,
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
};

await build({ ...common, entryPoints: [join(root, "src/sop-panel.ts")], outfile: join(dist, "panel/sop-panel.js") });
await build({ ...common, entryPoints: [join(root, "src/mermaid-chunk.ts")], outfile: join(dist, "panel/sop-mermaid.js") });
await build({ ...common, entryPoints: [join(root, "demo/demo.ts")], outfile: join(dist, "demo/demo.js") });
copyFileSync(join(root, "demo/index.html"), join(dist, "demo/index.html"));
copyFileSync(join(root, "demo/demo.css"), join(dist, "demo/demo.css"));
await build({ ...common, entryPoints: [join(root, "console/console.ts")], outfile: join(dist, "console/console.js") });
copyFileSync(join(root, "console/index.html"), join(dist, "console/index.html"));
copyFileSync(join(root, "console/console.css"), join(dist, "console/console.css"));

const js = readFileSync(join(dist, "panel/sop-panel.js"));
const kb = (n) => (n / 1024).toFixed(1);
console.log(`dist/panel/sop-panel.js: ${kb(js.length)} KiB minified, ${kb(gzipSync(js, { level: 9 }).length)} KiB gzip`);
const cjs = readFileSync(join(dist, "console/console.js"));
console.log(`dist/console/console.js: ${kb(cjs.length)} KiB minified, ${kb(gzipSync(cjs, { level: 9 }).length)} KiB gzip`);
const mjs = readFileSync(join(dist, "panel/sop-mermaid.js"));
console.log(`dist/panel/sop-mermaid.js: ${kb(mjs.length)} KiB minified, ${kb(gzipSync(mjs, { level: 9 }).length)} KiB gzip (lazy)`);
