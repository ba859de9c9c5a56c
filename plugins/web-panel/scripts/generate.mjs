// Generates the API code from ../../proto with the system protoc and protoc-gen-es (pinned
// in package.json): TypeScript into src/gen/ for the panel, JavaScript into test/gen/ for the
// Node Connect test server. Neither is committed; `npm run build` regenerates both, so they
// never drift from the .proto files.
//
// The panel imports only the proto3 JSON types from src/gen/ (json_types=true: `SopJson`,
// `WatchSopsResponseJson`, …), as types: it speaks Connect's JSON form with fetch and
// JSON.parse (src/connect.ts), so none of the generated runtime code, nor the protobuf-es
// runtime, reaches the bundle. tsc still checks the panel against the protos.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const protoRoot = resolve(root, "../../proto");
const outputs = [
  [join(root, "src/gen"), "target=ts,import_extension=js,json_types=true"],
  [join(root, "test/gen"), "target=js+dts,import_extension=js"],
];
const protoc = process.env.PROTOC || "/usr/bin/protoc";
const protos = readdirSync(join(protoRoot, "sopsidebar/v1"))
  .filter((f) => f.endsWith(".proto"))
  .sort()
  .map((f) => `sopsidebar/v1/${f}`);

for (const [out, opt] of outputs) {
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
execFileSync(
  protoc,
  [
    `--plugin=protoc-gen-es=${join(root, "node_modules/.bin/protoc-gen-es")}`,
    `--es_out=${out}`,
    `--es_opt=${opt}`,
    `-I${protoRoot}`,
    ...protos,
  ],
  { stdio: "inherit" },
);
}
console.log(`generated ${protos.length} files into src/gen/ (TypeScript) and test/gen/ (JavaScript)`);
