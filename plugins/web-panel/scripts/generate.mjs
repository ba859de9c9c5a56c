// Generates the TypeScript API client from ../../proto with the system protoc and
// protoc-gen-es (pinned in package.json). Output: src/gen/ (not committed; `npm run build`
// regenerates it, so it never drifts from the .proto files).
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const protoRoot = resolve(root, "../../proto");
const out = join(root, "src/gen");
const protoc = process.env.PROTOC || "/usr/bin/protoc";
const protos = readdirSync(join(protoRoot, "sopsidebar/v1"))
  .filter((f) => f.endsWith(".proto"))
  .sort()
  .map((f) => `sopsidebar/v1/${f}`);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
execFileSync(
  protoc,
  [
    `--plugin=protoc-gen-es=${join(root, "node_modules/.bin/protoc-gen-es")}`,
    `--es_out=${out}`,
    "--es_opt=target=ts,import_extension=js",
    `-I${protoRoot}`,
    ...protos,
  ],
  { stdio: "inherit" },
);
console.log(`generated ${protos.length} files into src/gen/`);
