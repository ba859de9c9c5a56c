// Runs a command against a real sopd it starts: a temp data dir with the
// example SOPs, gRPC and the Connect gateway on free loopback ports, the
// gateway serving dist/ (the bundle and the demo page) and the demo's SDR and
// AE tokens, made with the real sopctl. The command gets SOPD_HTTP,
// SOPD_GRPC, SOPD_SDR_TOKEN, SOPD_AE_TOKEN and SOPD_ADMIN_TOKEN_FILE.
//
//   node test/with-sopd.mjs                  test/e2e-sopd.test.mjs (ctest's
//                                            web_panel_e2e), which must run,
//                                            not skip (SOPD_E2E_REQUIRED)
//   node test/with-sopd.mjs CMD [ARGS...]    CMD, e.g. node scripts/bench-panel.mjs, or
//                                            node --test test/e2e-console.test.mjs
//                                            (ctest's web_console_e2e) or
//                                            test/e2e-analytics.test.mjs
//                                            (ctest's web_analytics_e2e)
//
// Environment: SOPD, SOPCTL, SOP_EXAMPLES (as ctest and scripts/bench set them).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startSopd } from "../../../tests/connect_node/sopd.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const panel = resolve(here, "..");
const scratch = mkdtempSync(join(tmpdir(), "sop-panel-e2e-"));
const tokens = join(scratch, "tokens.json");
writeFileSync(tokens, "{}");
const sopd = await startSopd(["--http-static-dir", join(panel, "dist"), "--http-demo-tokens", tokens]);
let status = 1;
try {
  const adminFile = join(scratch, "admin.token");
  writeFileSync(adminFile, sopd.adminToken, { mode: 0o600 });
  const token = (role) => execFileSync(process.env.SOPCTL, [
    "--server", sopd.grpcAddress, "--token-file", adminFile, "token", "create",
    "--user", `demo-${role.toLowerCase()}@example.com`, "--role", role,
  ], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  const sdr = token("SDR");
  const ae = token("AE");
  writeFileSync(tokens, JSON.stringify({ SDR: sdr, AE: ae }));
  const [command, ...args] = process.argv.length > 2
    ? process.argv.slice(2)
    : [process.execPath, "--test", "--test-concurrency=1", "test/e2e-sopd.test.mjs"];
  const run = spawnSync(command, args, {
    cwd: panel,
    stdio: "inherit",
    env: {
      ...process.env,
      SOPD_HTTP: sopd.httpUrl,
      SOPD_GRPC: sopd.grpcAddress,
      SOPD_SDR_TOKEN: sdr,
      SOPD_AE_TOKEN: ae,
      SOPD_ADMIN_TOKEN_FILE: adminFile,
      SOPD_E2E_REQUIRED: "1",
    },
  });
  status = run.status ?? 1;
} finally {
  await sopd.stop();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(status);
