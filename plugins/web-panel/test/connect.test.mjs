// src/connect.ts, the panel's Connect JSON client, in Node (fetch, streams and TextDecoder as in
// the browser) against a raw HTTP server, for the wire cases the Connect test server never
// produces: envelopes split across reads, several in one read, a stream cut before its
// end-of-stream message, a compressed message, non-Connect errors, a refused connection.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
let mod;
let server;
let base;
const handlers = new Map();

function envelope(flags, obj) {
  const body = Buffer.from(JSON.stringify(obj));
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

before(async () => {
  const out = await build({ entryPoints: [join(root, "src/connect.ts")], bundle: true, format: "esm", write: false, logLevel: "warning" });
  mod = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`);
  server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const h = handlers.get(req.url.slice(1));
      if (!h) {
        res.writeHead(404, { "Content-Type": "text/plain" });
        return res.end("no such method");
      }
      h(req, Buffer.concat(chunks), res);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => new Promise((r) => server.close(r)));

async function collect(gen) {
  const out = [];
  for await (const m of gen) out.push(m);
  return out;
}

async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}

describe("Connect JSON client", () => {
  test("server stream: the request is one envelope with the headers Connect wants; messages split and merged across reads", async () => {
    let seen;
    handlers.set("svc/Split", (req, body, res) => {
      seen = { ct: req.headers["content-type"], version: req.headers["connect-protocol-version"], auth: req.headers.authorization, body };
      res.writeHead(200, { "Content-Type": "application/connect+json" });
      const all = Buffer.concat([envelope(0, { n: 1, extra: { unknown: true } }), envelope(0, { n: 2 }), envelope(2, {})]);
      // One byte, then the rest of the first header, then everything else at once.
      res.write(all.subarray(0, 1));
      setTimeout(() => {
        res.write(all.subarray(1, 7));
        setTimeout(() => res.end(all.subarray(7)), 10);
      }, 10);
    });
    const client = new mod.ConnectJsonClient(base);
    const msgs = await collect(client.serverStream("svc/Split", { context: { recordType: "Lead" } }, { headers: { Authorization: "Bearer t" } }));
    assert.deepEqual(msgs, [{ n: 1, extra: { unknown: true } }, { n: 2 }]);
    assert.equal(seen.ct, "application/connect+json");
    assert.equal(seen.version, "1");
    assert.equal(seen.auth, "Bearer t");
    assert.equal(seen.body[0], 0);
    assert.equal(seen.body.readUInt32BE(1), seen.body.length - 5);
    assert.deepEqual(JSON.parse(seen.body.subarray(5)), { context: { recordType: "Lead" } });
  });

  test("server stream: the end-of-stream error, with its details, after the messages", async () => {
    handlers.set("svc/EndError", (_req, _body, res) => {
      res.writeHead(200, { "Content-Type": "application/connect+json" });
      res.end(
        Buffer.concat([
          envelope(0, { n: 1 }),
          envelope(2, { error: { code: "resource_exhausted", message: "too many watches", details: [{ type: "google.rpc.ErrorInfo", value: "CgE" }] } }),
        ]),
      );
    });
    const client = new mod.ConnectJsonClient(base);
    const got = [];
    const e = await rejects(
      (async () => {
        for await (const m of client.serverStream("svc/EndError", {})) got.push(m);
      })(),
    );
    assert.deepEqual(got, [{ n: 1 }]);
    assert.ok(e instanceof mod.ConnectError);
    assert.equal(e.code, "resource_exhausted");
    assert.equal(e.rawMessage, "too many watches");
    assert.deepEqual(e.details, [{ type: "google.rpc.ErrorInfo", value: "CgE" }]);
    assert.equal(mod.codeName(e.code), "ResourceExhausted");
  });

  test("server stream: cut before the end-of-stream message is unavailable (retried), a compressed message internal", async () => {
    handlers.set("svc/Cut", (_req, _body, res) => {
      res.writeHead(200, { "Content-Type": "application/connect+json" });
      res.end(envelope(0, { n: 1 }).subarray(0, 8));
    });
    handlers.set("svc/Compressed", (_req, _body, res) => {
      res.writeHead(200, { "Content-Type": "application/connect+json" });
      res.end(envelope(1, { n: 1 }));
    });
    const client = new mod.ConnectJsonClient(base);
    assert.equal((await rejects(collect(client.serverStream("svc/Cut", {})))).code, "unavailable");
    assert.equal((await rejects(collect(client.serverStream("svc/Compressed", {})))).code, "internal");
  });

  test("server stream: no such route (a gateway without streaming) is unimplemented; a proxy's 503 unavailable", async () => {
    handlers.set("svc/Proxy", (_req, _body, res) => {
      res.writeHead(503, { "Content-Type": "text/html" });
      res.end("<h1>Service Unavailable</h1>");
    });
    const client = new mod.ConnectJsonClient(base);
    assert.equal((await rejects(collect(client.serverStream("svc/Missing", {})))).code, "unimplemented");
    assert.equal((await rejects(collect(client.serverStream("svc/Proxy", {})))).code, "unavailable");
  });

  test("unary: the answer; a Connect error from its body; the HTTP status without one", async () => {
    handlers.set("svc/Ok", (req, body, res) => {
      assert.equal(req.headers["content-type"], "application/json");
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ echo: JSON.parse(body) }));
    });
    handlers.set("svc/Denied", (_req, _body, res) => {
      res.writeHead(401, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ code: "unauthenticated", message: "token expired" }));
    });
    handlers.set("svc/Forbidden", (_req, _body, res) => {
      res.writeHead(403, { "Content-Type": "text/plain" });
      res.end("forbidden");
    });
    const client = new mod.ConnectJsonClient(base);
    assert.deepEqual(await client.unary("svc/Ok", { a: 1 }), { echo: { a: 1 } });
    const denied = await rejects(client.unary("svc/Denied", {}));
    assert.equal(denied.code, "unauthenticated");
    assert.equal(denied.rawMessage, "token expired");
    assert.equal((await rejects(client.unary("svc/Forbidden", {}))).code, "permission_denied");
  });

  test("a refused connection is unavailable; an abort with a ConnectError reason is that error", async () => {
    const closed = createServer();
    await new Promise((r) => closed.listen(0, "127.0.0.1", r));
    const port = closed.address().port;
    await new Promise((r) => closed.close(r));
    const refused = new mod.ConnectJsonClient(`http://127.0.0.1:${port}`);
    assert.equal((await rejects(refused.unary("svc/Ok", {}))).code, "unavailable");
    assert.equal((await rejects(collect(refused.serverStream("svc/Ok", {})))).code, "unavailable");

    handlers.set("svc/Hang", (_req, _body, res) => {
      res.writeHead(200, { "Content-Type": "application/connect+json" });
      res.write(envelope(0, { n: 1 }));
    });
    const ac = new AbortController();
    const client = new mod.ConnectJsonClient(base);
    const got = [];
    const e = await rejects(
      (async () => {
        for await (const m of client.serverStream("svc/Hang", {}, { signal: ac.signal })) {
          got.push(m);
          setTimeout(() => ac.abort(new mod.ConnectError("no heartbeat from the server", "unavailable")), 20);
        }
      })(),
    );
    assert.deepEqual(got, [{ n: 1 }]);
    assert.equal(e.code, "unavailable");
    assert.equal(e.rawMessage, "no heartbeat from the server");
  });
});
