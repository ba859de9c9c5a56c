// What the console's and the analytics' e2e tests share about the real sopd they run against
// (test/with-sopd.mjs sets the environment; ctest's web_console_e2e and web_analytics_e2e):
//   SOPD_HTTP               sopd's HTTP base URL, serving dist/
//   SOPD_ADMIN_TOKEN_FILE   a file with an admin token, for `sopctl token create`
// Optional: SOPCTL (default <repo>/build/client/cli/sopctl), SOPD_GRPC (default 127.0.0.1:50051).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const env = process.env;

export const base = env.SOPD_HTTP?.replace(/\/+$/, "");
const adminTokenFile = env.SOPD_ADMIN_TOKEN_FILE;
const sopctl = env.SOPCTL || join(repo, "build/client/cli/sopctl");
const grpc = env.SOPD_GRPC || "127.0.0.1:50051";

/**
 * The describe's `skip`: false, or why the suite cannot run. Under ctest (SOPD_E2E_REQUIRED) a
 * missing setting throws instead: there, a skip is a failure.
 */
export function skipUnlessSopd(name) {
  const missing = [
    !base && "SOPD_HTTP",
    !(adminTokenFile && existsSync(adminTokenFile)) && "SOPD_ADMIN_TOKEN_FILE",
    !existsSync(sopctl) && `SOPCTL (${sopctl} does not exist: scripts/build sopctl)`,
  ].filter(Boolean);
  const skip = missing.length > 0 ? `needs a running sopd: set ${missing.join(", ")}` : false;
  if (skip && env.SOPD_E2E_REQUIRED) throw new Error(`${name} cannot run: ${skip}`);
  if (skip) console.log(`# ${name} skipped: ${skip}`);
  return skip;
}

/** A token for a user with one role, made by the admin with the real sopctl. */
export async function createToken(user, role, displayName) {
  const { stdout } = await run(
    sopctl,
    ["--server", grpc, "--token-file", adminTokenFile, "token", "create", "--user", user, "--role", role, "--display-name", displayName],
    { timeout: 20_000 },
  );
  return stdout.trim();
}

/** A unary Connect call (JSON) to sopd; rejects with the Connect error's code and message. */
export async function call(token, method, body) {
  const res = await fetch(`${base}/sopsidebar.v1.${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Connect-Protocol-Version": "1", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}
