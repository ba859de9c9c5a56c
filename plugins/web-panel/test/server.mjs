// A small but real Connect server for the panel's tests, screenshots and benchmark, until
// sopd's Connect gateway is used (test/e2e-sopd.test.mjs runs against the real sopd).
//
// It serves ContextService.LookupSops and WatchSops with @connectrpc/connect-node and the
// generated service definitions, answering from the seed SOPs (examples/sops/*.yaml) with a
// simplified matcher (record types, equals / any_of / none_of / range / prefix / exists,
// visibility roles, current step, due time, cadence day). It also serves dist/ like sopd
// will: /panel/sop-panel.js, /demo/, /demo/tokens.json, under `Content-Security-Policy:
// default-src 'self'`, plus /fixtures/ (test pages).
//
// Tokens pick a role or a failure, so tests can run side by side:
//   sdr-token, ae-token             an SDR / AE
//   expired-token, (none)           UNAUTHENTICATED
//   error-token                     INTERNAL with a message
//   down-token                      UNAVAILABLE on every attempt
//   slow-token                      an SDR whose first answer never comes (loading state)
//   drop-token                      an SDR whose first stream drops 300 ms after its first
//                                   message; the next two attempts are UNAVAILABLE
//   nowatch-token                   an SDR on a server without WatchSops (UNIMPLEMENTED)
//   shutdown-token                  an SDR whose first stream gets `reconnect` 300 ms after its
//                                   first message, then ends UNAVAILABLE (sopd draining); the
//                                   next streams are normal
//   resume-token                    an SDR whose streams all end normally 2.5 s after opening
//                                   (like a server's stream deadline)
//
// The review console's methods (SopService, AdminService.WhoAmI) and their tokens are in
// test/review-server.mjs; /console/ serves dist/console. AnalyticsService, ValidateTransition
// and SearchSops are test/analytics-server.mjs's (the rep tokens above and the console's work).
//
// Run by hand: node test/server.mjs [port]
import { create, equals, fromJson } from "@bufbuild/protobuf";
import { ValueSchema, timestampFromMs, timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import {
  ContextService,
  LookupSopsResponseSchema,
  SopMatchSchema,
} from "./gen/sopsidebar/v1/context_service_pb.js";
import { ConditionSchema, SopSchema } from "./gen/sopsidebar/v1/sop_pb.js";
import { analyticsRoutes, createAnalyticsState, searchSops, validateTransition } from "./analytics-server.mjs";
import { editorRoutes } from "./editor-server.mjs";
import { createReviewState, reviewRoutes, reviewUser } from "./review-server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, "..");
const repo = resolve(pkg, "../..");

export const TOKENS = { SDR: "sdr-token", AE: "ae-token", VP_SALES: "vp-token", MARKETING_DIRECTOR: "director-token", SALES_OPS: "ops-token", MARKETING: "marketing-token" };
const ROLE_OF = { "sdr-token": "SDR", "ae-token": "AE", "slow-token": "SDR", "drop-token": "SDR", "resume-token": "SDR", "nowatch-token": "SDR", "shutdown-token": "SDR" };

/** The seed SOPs as {id, raw (YAML object), revision}. */
function loadSops(extra) {
  const dir = join(repo, "examples/sops");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).map((f) => join(dir, f));
  if (extra) files.push(join(here, "fixtures/xss-sop.yaml"));
  const sops = new Map();
  for (const f of files) {
    const id = f.split("/").pop().replace(/\.yaml$/, "");
    sops.set(id, { id, raw: parseYaml(readFileSync(f, "utf8")), revision: 1 });
  }
  return sops;
}

function sopMessage(entry) {
  const body = fromJson(SopSchema, entry.raw, { ignoreUnknownFields: true });
  body.name = `orgs/default/sops/${entry.id}`;
  body.state = 2; // PUBLISHED
  body.revisionId = String(entry.revision);
  body.publishedRevisionId = String(entry.revision);
  return body;
}

// ---- the matcher (a simplified copy of sopd's rules, for fixtures only) -------------------

function scalarEq(a, b, ci) {
  if (typeof a === "string" && typeof b === "string" && ci) return a.toLowerCase() === b.toLowerCase();
  return a === b;
}
function asList(v) {
  return Array.isArray(v) ? v : [v];
}
function toNumberOrTime(v) {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}
function inRange(v, r) {
  const x = toNumberOrTime(v);
  if (x === undefined) return false;
  const lo = r.min ?? (r.min_time ? Date.parse(r.min_time) : undefined);
  const hi = r.max ?? (r.max_time ? Date.parse(r.max_time) : undefined);
  if (lo !== undefined && (r.exclusive_min ? !(x > lo) : !(x >= lo))) return false;
  if (hi !== undefined && (r.exclusive_max ? !(x < hi) : !(x <= hi))) return false;
  return true;
}
function conditionHolds(c, fields) {
  const has = Object.hasOwn(fields, c.field) && fields[c.field] !== null;
  const v = fields[c.field];
  const ci = !!c.case_insensitive;
  if ("exists" in c) return c.exists ? has : !has;
  if ("none_of" in c) return !has || !asList(v).some((x) => c.none_of.some((y) => scalarEq(x, y, ci)));
  if (!has) return false;
  if ("equals" in c) return asList(v).some((x) => scalarEq(x, c.equals, ci));
  if ("any_of" in c) return asList(v).some((x) => c.any_of.some((y) => scalarEq(x, y, ci)));
  if ("prefix" in c) return asList(v).some((x) => typeof x === "string" && (ci ? x.toLowerCase().startsWith(c.prefix.toLowerCase()) : x.startsWith(c.prefix)));
  if ("range" in c) return asList(v).some((x) => inRange(x, c.range));
  return false;
}

const DAY_MS = 86_400_000;

function durationMs(s) {
  return s ? Number(String(s).replace(/s$/, "")) * 1000 : 0;
}

export function lookup(sops, role, ctx, now = Date.now()) {
  const fields = ctx.fields;
  const hits = [];
  for (const entry of sops.values()) {
    const sop = entry.raw;
    const vis = sop.visibility_roles ?? [];
    if (vis.length > 0 && !vis.includes(role)) continue;
    let best;
    (sop.targeting_rules ?? []).forEach((rule, i) => {
      const types = rule.record_types ?? [];
      if (types.length > 0 && !types.includes(ctx.recordType)) return;
      const conds = rule.conditions ?? [];
      if (!conds.every((c) => conditionHolds(c, fields))) return;
      const specificity = conds.length + (types.length > 0 ? 1 : 0);
      const cand = { rule, i, specificity, priority: rule.priority ?? 0 };
      if (!best || cand.priority > best.priority || (cand.priority === best.priority && cand.specificity > best.specificity)) best = cand;
    });
    if (best) hits.push({ entry, ...best });
  }
  hits.sort((a, b) => b.priority - a.priority || b.specificity - a.specificity);
  const matches = hits.map(({ entry, rule, i, specificity, priority }) => {
    const sop = entry.raw;
    const steps = [...(sop.steps ?? [])].sort((a, b) => a.ordinal - b.ordinal);
    const idx = steps.findIndex((s) => (s.conditions ?? []).every((c) => conditionHolds(c, fields)));
    const step = idx >= 0 ? steps[idx] : undefined;
    let due;
    if (step?.time_limit) {
      const anchor = fields[step.time_limit.anchor_field || sop.anchor_field];
      const t = typeof anchor === "string" ? Date.parse(anchor) : NaN;
      if (!Number.isNaN(t)) due = timestampFromMs(t + durationMs(step.time_limit.duration));
    }
    let cadenceDay = 0;
    const anchor = fields[sop.anchor_field];
    if ((sop.cadence ?? []).length > 0 && typeof anchor === "string" && !Number.isNaN(Date.parse(anchor))) {
      cadenceDay = Math.max(1, Math.floor((now - Date.parse(anchor)) / DAY_MS) + 1);
    }
    return create(SopMatchSchema, {
      sop: `orgs/default/sops/${entry.id}`,
      revisionId: String(entry.revision),
      explanation: {
        ruleIndex: i,
        ruleDescription: rule.description ?? "",
        priority,
        specificity,
        matchedRecordType: (rule.record_types ?? []).length > 0 ? ctx.recordType : "",
        matchedConditions: (rule.conditions ?? []).map((c) => ({
          condition: fromJson(ConditionSchema, c),
          actual: Object.hasOwn(fields, c.field) ? fromJson(ValueSchema, fields[c.field]) : undefined,
        })),
      },
      currentStepIndex: idx,
      currentStepDueTime: due,
      cadenceDay,
      sopBody: sopMessage(entry),
      // As sopd: the owner's next review, and whether it is late.
      nextReviewTime: entry.nextReviewMs === undefined ? undefined : timestampFromMs(entry.nextReviewMs),
      reviewOverdue: entry.nextReviewMs !== undefined && entry.nextReviewMs < now,
    });
  });
  return create(LookupSopsResponseSchema, { matches });
}

function contextFromRequest(req) {
  const c = req.context;
  if (!c || !c.recordType) throw new ConnectError("context.record_type: required", Code.InvalidArgument);
  const fields = {};
  for (const [k, v] of Object.entries(c.fields)) fields[k] = valueToJs(v);
  return { recordType: c.recordType, recordId: c.recordId, fields };
}

function valueToJs(v) {
  switch (v.kind.case) {
    case "stringValue":
    case "numberValue":
    case "boolValue":
      return v.kind.value;
    case "listValue":
      return v.kind.value.values.map(valueToJs);
    case "structValue":
      return null;
    default:
      return null;
  }
}

// ---- the server --------------------------------------------------------------------------

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".json": "application/json", ".png": "image/png" };

function sendFile(res, base, rel) {
  const full = normalize(join(base, rel));
  if (!full.startsWith(base)) return false;
  let st;
  try {
    st = statSync(full);
  } catch {
    return false;
  }
  if (!st.isFile()) return false;
  res.writeHead(200, { "Content-Type": TYPES[extname(full)] ?? "application/octet-stream", "Cache-Control": "no-store" });
  res.end(readFileSync(full));
  return true;
}

/**
 * Starts the server. Options: port (0: any), heartbeatMs (Connect heartbeats), xss (add the
 * hostile fixture SOP). Returns {url, close, publish(id, patch), sops, requests, review} (review:
 * the console's fixture state, test/review-server.mjs) and analytics (test/analytics-server.mjs).
 */
export async function startTestServer({ port = 0, heartbeatMs = 15_000, xss = true } = {}) {
  const sops = loadSops(xss);
  const review = createReviewState();
  const analytics = createAnalyticsState();
  const listeners = new Set();
  const drops = new Map();
  const notify = () => {
    for (const l of listeners) l();
  };

  function auth(ctx) {
    const h = ctx.requestHeader.get("authorization") ?? "";
    const m = /^Bearer (.+)$/.exec(h);
    if (!m) throw new ConnectError("missing bearer token", Code.Unauthenticated);
    const token = m[1];
    if (token === "error-token") throw new ConnectError("lookup index unavailable: rocksdb: IO error: /var/sopd/db/LOCK", Code.Internal);
    if (token === "down-token") throw new ConnectError("sopd is restarting", Code.Unavailable);
    const role = ROLE_OF[token];
    if (!role) throw new ConnectError("token expired or revoked", Code.Unauthenticated);
    return { token, role };
  }

  function reviewAuth(ctx) {
    const m = /^Bearer (.+)$/.exec(ctx.requestHeader.get("authorization") ?? "");
    if (!m) throw new ConnectError("missing bearer token", Code.Unauthenticated);
    const token = m[1];
    if (token === "error-token") throw new ConnectError("review index unavailable: rocksdb: IO error: /var/sopd/db/LOCK", Code.Internal);
    if (token === "down-token") throw new ConnectError("sopd is restarting", Code.Unavailable);
    const u = reviewUser(token);
    if (!u) throw new ConnectError("token expired or revoked", Code.Unauthenticated);
    return { token, ...u };
  }

  /** A rep's token (auth) or the console's (reviewAuth): {token, role}. */
  function anyAuth(ctx) {
    const m = /^Bearer (.+)$/.exec(ctx.requestHeader.get("authorization") ?? "");
    if (m && reviewUser(m[1])) {
      const u = reviewAuth(ctx);
      return { ...u, role: u.roles[0] };
    }
    return auth(ctx);
  }

  const routes = (router) => {
    const editing = editorRoutes(router, review, anyAuth, sops);
    reviewRoutes(router, review, reviewAuth, {
      ...editing,
      async searchSops(req, ctx) {
        const { role } = anyAuth(ctx);
        if (req.parent !== "orgs/default") throw new ConnectError(`parent: "${req.parent}" not found`, Code.NotFound);
        return searchSops(sops.values(), role, req.query);
      },
    });
    analyticsRoutes(router, analytics, anyAuth);
    router.service(ContextService, {
      async validateTransition(req, ctx) {
        const { role } = auth(ctx);
        const found = lookup(sops, role, contextFromRequest(req));
        const matches = found.matches.map((m) => ({ name: m.sop, revisionId: m.revisionId, raw: sops.get(m.sop.split("/").pop()).raw }));
        return validateTransition(matches, req.newStatus, req.code);
      },
      async lookupSops(req, ctx) {
        const { role } = auth(ctx);
        return lookup(sops, role, contextFromRequest(req));
      },
      async *watchSops(req, ctx) {
        const { token, role } = auth(ctx);
        if (token === "nowatch-token") throw new ConnectError("method not implemented", Code.Unimplemented);
        const context = contextFromRequest(req);
        const opened = Date.now();
        if (token === "drop-token") {
          const n = (drops.get(token) ?? 0) + 1;
          drops.set(token, n);
          if (n === 2 || n === 3) throw new ConnectError("connection refused", Code.Unavailable);
        }
        if (token === "slow-token") {
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
          return;
        }
        let last = lookup(sops, role, context);
        yield { event: { case: "result", value: last } };
        if (token === "drop-token" && drops.get(token) === 1) {
          await new Promise((r) => setTimeout(r, 300));
          throw new ConnectError("connection reset by peer", Code.Unavailable);
        }
        if (token === "shutdown-token") {
          const n = (drops.get(token) ?? 0) + 1;
          drops.set(token, n);
          if (n === 1) {
            await new Promise((r) => setTimeout(r, 300));
            yield { event: { case: "reconnect", value: { reason: "sopd is shutting down" } } };
            throw new ConnectError("server shutting down; retry on a server that is up", Code.Unavailable);
          }
        }
        let wake;
        let dirty = false;
        const onChange = () => {
          dirty = true;
          wake?.("change");
        };
        const onAbort = () => wake?.("abort");
        listeners.add(onChange);
        ctx.signal.addEventListener("abort", onAbort, { once: true });
        try {
          while (!ctx.signal.aborted) {
            let timer;
            const ev = dirty ? "change" : await new Promise((resolve) => {
              wake = resolve;
              timer = setTimeout(() => resolve("heartbeat"), token === "resume-token" ? Math.min(heartbeatMs, 500) : heartbeatMs);
            });
            clearTimeout(timer);
            if (ev === "abort") return;
            if (token === "resume-token" && Date.now() - opened >= 2500) return;
            if (ev === "heartbeat") {
              yield { event: { case: "heartbeat", value: { sendTime: timestampNow() } } };
            } else {
              dirty = false;
              const next = lookup(sops, role, context);
              if (!equals(LookupSopsResponseSchema, next, last)) {
                last = next;
                yield { event: { case: "result", value: next } };
              }
            }
          }
        } finally {
          listeners.delete(onChange);
          ctx.signal.removeEventListener("abort", onAbort);
        }
      },
    });
  };

  const connect = connectNodeAdapter({ routes });
  const dist = join(pkg, "dist");
  const fixtures = join(here, "fixtures");
  const requests = [];
  // The policy sopd's gateway sends with every static file (docs/HTTP.md), minus
  // frame-ancestors (the postMessage test frames the panel from another origin).
  const csp = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'";

  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? "/", "http://x");
    const p = url.pathname;
    if (p.startsWith("/sopsidebar.v1.")) return connect(req, res);
    // The host-page fixture frames the panel from another origin (postMessage test).
    res.setHeader("Content-Security-Policy", p === "/fixtures/host.html" ? `${csp}; frame-src http://127.0.0.1:*` : csp);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    if (p === "/" || p === "/demo") {
      res.writeHead(302, { Location: "/demo/" });
      return res.end();
    }
    // For test/fixtures/fake-sopctl.mjs (a dry run of e2e-sopd.test.mjs against this server).
    const m = /^\/__test\/sops\/([a-z0-9-]+)$/.exec(p);
    if (m && sops.has(m[1])) {
      if (req.method === "GET") {
        res.writeHead(200, { "Content-Type": "application/json" });
        return res.end(JSON.stringify({ name: `orgs/default/sops/${m[1]}`, ...sops.get(m[1]).raw }));
      }
      if (req.method === "PUT") {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          const { name: _name, ...raw } = JSON.parse(body);
          sops.get(m[1]).raw = raw;
          sops.get(m[1]).revision++;
          notify();
          res.writeHead(204);
          res.end();
        });
        return;
      }
    }
    if (p === "/favicon.ico") {
      res.writeHead(204);
      return res.end();
    }
    if (p === "/demo/tokens.json") {
      res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      return res.end(JSON.stringify(TOKENS));
    }
    if (p.startsWith("/panel/") && sendFile(res, join(dist, "panel"), p.slice(7))) return;
    if (p.startsWith("/demo/") && sendFile(res, join(dist, "demo"), p.slice(6) || "index.html")) return;
    if (p === "/console") {
      res.writeHead(302, { Location: "/console/" });
      return res.end();
    }
    if (p.startsWith("/console/") && sendFile(res, join(dist, "console"), p.slice(9) || "index.html")) return;
    if (p.startsWith("/fixtures/") && sendFile(res, fixtures, p.slice(10))) return;
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found");
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  const addr = server.address();
  const url = `http://127.0.0.1:${addr.port}`;
  return {
    url,
    sops,
    requests,
    review,
    analytics,
    /** Edits a seed SOP's YAML object and "publishes" it: open watches get the new result. */
    publish(id, patch) {
      const entry = sops.get(id);
      if (!entry) throw new Error(`no SOP ${id}`);
      patch(entry.raw);
      entry.revision++;
      notify();
    },
    /** Sets when a seed SOP's owner review falls due (ms since the epoch; undefined: no cycle). */
    setNextReview(id, ms) {
      const entry = sops.get(id);
      if (!entry) throw new Error(`no SOP ${id}`);
      entry.nextReviewMs = ms;
      notify();
    },
    close() {
      return new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = await startTestServer({ port: Number(process.argv[2] ?? 8787) });
  console.log(`test server on ${s.url}  (demo: ${s.url}/demo/, tokens: sdr-token, ae-token)`);
}
