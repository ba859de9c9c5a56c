// The watch benchmark (scripts/bench): WATCHERS (default 1000) WatchSops
// streams over Connect, each its own HTTP/1.1 connection, on one real sopd;
// then one publish that changes every stream's result. Prints one line:
//   watch watchers=N notify_p50_ms=... notify_p99_ms=... sopd_threads=...
// notify: from the publish call (its fsync included) to the stream's new
// result;
// sopd_threads: the sopd process's threads while every stream is open.
import { setMaxListeners } from "node:events";
import { readdirSync } from "node:fs";
import { Role } from "./gen/sopsidebar/v1/sop_pb.js";
import { clients, mqlLead } from "./clients.mjs";
import { startSopd } from "./sopd.mjs";

const watchers = Number(process.env.WATCHERS ?? 1000);
const sopd = await startSopd([`--max-watches-per-token=${watchers}`]);
try {
  const admin = clients(sopd.httpUrl, sopd.adminToken);
  const { secret } = await admin.admin.createToken({
    parent: "orgs/default",
    token: { userId: "bench-sdr@example.com", roles: [Role.SDR] },
  });
  const sdr = clients(sopd.httpUrl, secret);
  const controller = new AbortController();
  setMaxListeners(watchers + 10, controller.signal);  // one listener per stream
  const newTitle = "MQL Acceptance & Handoff (bench)";
  let publishedAt = 0;
  const delays = [];
  let opened = 0;
  let allOpen;
  const allOpened = new Promise((resolve) => (allOpen = resolve));
  const streams = Array.from({ length: watchers }, async () => {
    const stream = sdr.context.watchSops({ context: mqlLead() }, { signal: controller.signal });
    for await (const message of stream) {
      if (message.event.case !== "result") continue;
      if (message.event.value.matches[0]?.sopBody.title === newTitle) {
        delays.push(Date.now() - publishedAt);
        return;
      }
      if (++opened === watchers) allOpen();
    }
  });
  await allOpened;
  const threads = readdirSync(`/proc/${sopd.pid}/task`).length;
  const name = "orgs/default/sops/mql-acceptance-handoff";
  const sop = await admin.sops.getSop({ name });
  await admin.sops.updateSop({ sop: { ...sop, title: newTitle }, updateMask: { paths: ["title"] } });
  publishedAt = Date.now();
  await admin.sops.publishSop({ name, emergency: true, reason: "watch benchmark" });
  await Promise.all(streams.map((s) => s.catch(() => {})));
  controller.abort();
  if (delays.length !== watchers) {
    throw new Error(`${watchers - delays.length} of ${watchers} streams missed the update`);
  }
  delays.sort((a, b) => a - b);
  const pct = (p) => delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))];
  console.log(`watch watchers=${watchers} notify_p50_ms=${pct(50)} notify_p99_ms=${pct(99)} ` +
    `sopd_threads=${threads}`);
} finally {
  await sopd.stop();
}
