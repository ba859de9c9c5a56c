// Starts a real sopd for the Connect tests and the watch benchmark: a temp
// data dir, the example SOPs imported, gRPC and the Connect gateway on free
// loopback ports. SOPD (the binary) and SOP_EXAMPLES (the SOP files) come
// from the environment, as ctest sets them.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function startSopd(extraArgs = []) {
  const binary = process.env.SOPD;
  const examples = process.env.SOP_EXAMPLES;
  if (!binary || !examples) throw new Error("set SOPD and SOP_EXAMPLES");
  const dir = mkdtempSync(join(tmpdir(), "sopd-connect-"));
  const child = spawn(binary, [
    "--data-dir", join(dir, "data"), "--grpc-listen", "127.0.0.1:0",
    "--http-listen", "127.0.0.1:0", "--import", examples, ...extraArgs,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const ready = new Promise((resolve, reject) => {
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const http = /Connect\/HTTP on (http:\/\/\S+?)\/? /.exec(log);
      const grpc = / listening on (\S+) /.exec(log);
      if (http && grpc) resolve({ httpUrl: http[1], grpcAddress: grpc[1] });
    });
    child.on("exit", (code) => reject(new Error(`sopd exited with ${code}:\n${log}`)));
  });
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`sopd did not start:\n${log}`)), 20000).unref());
  const { httpUrl, grpcAddress } = await Promise.race([ready, timeout]);
  const adminToken = readFileSync(join(dir, "data", "admin.token"), "utf8").trim();
  return {
    httpUrl, grpcAddress, adminToken, pid: child.pid,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on("exit", resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
