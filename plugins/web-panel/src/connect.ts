// A minimal client for the Connect protocol's JSON form (https://connectrpc.com/docs/protocol),
// just what the panel needs: unary calls and server streams over fetch.
//
// Why not @connectrpc/connect-web and the protobuf-es runtime: together they were ~70 % of the
// bundle, and booting the generated descriptors (descriptor.proto included, through the
// field_behavior option) plus reflection-based decoding cost a cold page more main-thread time
// than everything else up to the first SOP on screen. The JSON form needs neither: requests are
// JSON.stringify, responses JSON.parse, and the proto3 JSON shapes are typed by the `…Json`
// types protoc-gen-es generates (imported as types only, so no runtime code follows them).
//
// Wire format:
//  - unary: POST application/json; a non-200 answer is an error whose JSON body is
//    {code, message, details}; without one, the HTTP status gives the code.
//  - server stream: POST application/connect+json; request and response are 5-byte envelopes
//    (flags, big-endian uint32 length) around JSON; flag 0x02 marks the end-of-stream message,
//    {error?: {code, message, details}, metadata?}, that every stream ends with.
// Unknown fields in a response are simply extra properties nobody reads: a newer sopd that
// adds fields does not break an older panel.

/** Connect's error codes as they travel ("invalid_argument"). */
export type Code =
  | "canceled"
  | "unknown"
  | "invalid_argument"
  | "deadline_exceeded"
  | "not_found"
  | "already_exists"
  | "permission_denied"
  | "resource_exhausted"
  | "failed_precondition"
  | "aborted"
  | "out_of_range"
  | "unimplemented"
  | "internal"
  | "unavailable"
  | "data_loss"
  | "unauthenticated";

const CODES = new Set<string>([
  "canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found", "already_exists",
  "permission_denied", "resource_exhausted", "failed_precondition", "aborted", "out_of_range",
  "unimplemented", "internal", "unavailable", "data_loss", "unauthenticated",
]);

/** "invalid_argument" → "InvalidArgument", the spelling the panel has always shown. */
export function codeName(code: Code): string {
  return code.replace(/(?:^|_)([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** An error detail as sent: the Any's type name and base64 value (`debug` when the server adds it). */
export interface ErrorDetail {
  type: string;
  value: string;
  debug?: unknown;
}

export class ConnectError extends Error {
  override name = "ConnectError";
  /** The server's message without the "[code]" prefix. */
  readonly rawMessage: string;

  constructor(
    rawMessage: string,
    readonly code: Code,
    readonly details: ErrorDetail[] = [],
    options?: { cause?: unknown },
  ) {
    super(rawMessage ? `[${code}] ${rawMessage}` : `[${code}]`, options);
    this.rawMessage = rawMessage;
  }
}

/**
 * Any failure as a ConnectError. fetch and stream reads reject with a TypeError when the network
 * fails: that is `unavailable` (worth retrying), as an aborted call is `canceled`.
 */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  if (e instanceof TypeError) return new ConnectError(e.message || "network error", "unavailable", [], { cause: e });
  if (e instanceof DOMException && (e.name === "AbortError" || e.name === "TimeoutError")) {
    return new ConnectError(e.message || "the call was aborted", "canceled", [], { cause: e });
  }
  return new ConnectError(e instanceof Error ? e.message : String(e), "unknown", [], { cause: e });
}

/** https://connectrpc.com/docs/protocol/#http-to-error-code */
function codeFromHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return "internal";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "unimplemented";
    case 429:
    case 502:
    case 503:
    case 504:
      return "unavailable";
    default:
      return "unknown";
  }
}

/** A Connect error object ({code, message, details}) as a ConnectError; `fallback` when its code is missing. */
function errorFromJson(json: unknown, fallback: Code): ConnectError {
  const o = (json !== null && typeof json === "object" ? json : {}) as Record<string, unknown>;
  const code = typeof o.code === "string" && CODES.has(o.code) ? (o.code as Code) : fallback;
  const message = typeof o.message === "string" ? o.message : "";
  const details = Array.isArray(o.details)
    ? o.details.filter((d): d is ErrorDetail => d !== null && typeof d === "object" && typeof d.type === "string" && typeof d.value === "string")
    : [];
  return new ConnectError(message, code, details);
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Extra request headers, e.g. Authorization. */
  headers?: Record<string, string>;
  /** fetch's keepalive: the request outlives the page (pagehide); its body must stay under 64 KiB. */
  keepalive?: boolean;
}

const utf8 = new TextEncoder();

export class ConnectJsonClient {
  /** baseUrl: the server's root, without a trailing slash; paths are "pkg.Service/Method". */
  constructor(readonly baseUrl: string) {}

  #fetch(path: string, contentType: string, body: BodyInit, opts: CallOptions): Promise<Response> {
    return fetch(`${this.baseUrl}/${path}`, {
      method: "POST",
      headers: { ...opts.headers, "Content-Type": contentType, "Connect-Protocol-Version": "1" },
      body,
      signal: opts.signal,
      keepalive: opts.keepalive,
      // A redirect would re-send the token to wherever it points.
      redirect: "error",
      mode: "cors",
    });
  }

  /** A unary call. Rejects with a ConnectError. */
  async unary<Req, Res>(path: string, request: Req, opts: CallOptions = {}): Promise<Res> {
    try {
      const res = await this.#fetch(path, "application/json", JSON.stringify(request), opts);
      const text = await res.text();
      if (res.status !== 200) {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw new ConnectError(`HTTP ${res.status}`, codeFromHttpStatus(res.status));
        }
        throw errorFromJson(json, codeFromHttpStatus(res.status));
      }
      if (!isContentType(res, "application/json")) {
        throw new ConnectError(`unexpected content type ${res.headers.get("Content-Type") ?? "(none)"}`, "internal");
      }
      return parseJson(text) as Res;
    } catch (e) {
      throw abortReason(opts.signal) ?? toConnectError(e);
    }
  }

  /**
   * A server stream: yields each message, returns after the end-of-stream message, throws its
   * error (a ConnectError). Leaving the loop early cancels the response body.
   */
  async *serverStream<Req, Res>(path: string, request: Req, opts: CallOptions = {}): AsyncGenerator<Res, void, undefined> {
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      const res = await this.#fetch(path, "application/connect+json", envelope(utf8.encode(JSON.stringify(request))), opts);
      if (res.status !== 200) {
        // Not Connect's answer (a stream's errors come in its end-of-stream message): a proxy's
        // or a server without the route. Its body may still be a Connect error.
        let json: unknown;
        try {
          json = await res.json();
        } catch {
          throw new ConnectError(`HTTP ${res.status}`, codeFromHttpStatus(res.status));
        }
        throw errorFromJson(json, codeFromHttpStatus(res.status));
      }
      if (!isContentType(res, "application/connect+json")) {
        throw new ConnectError(`unexpected content type ${res.headers.get("Content-Type") ?? "(none)"}`, "internal");
      }
      if (!res.body) throw new ConnectError("the response has no body", "internal");
      reader = res.body.getReader();
      const text = new TextDecoder();
      let buf: Uint8Array = new Uint8Array(0);
      for (;;) {
        // Every complete envelope in the buffer first, then read more.
        while (buf.length >= 5) {
          const flags = buf[0];
          const len = new DataView(buf.buffer, buf.byteOffset, 5).getUint32(1);
          if (buf.length < 5 + len) break;
          const payload = buf.subarray(5, 5 + len);
          buf = buf.subarray(5 + len);
          if (flags & 0x01) throw new ConnectError("a compressed message, but the panel asks for no compression", "internal");
          const json = parseJson(text.decode(payload));
          if (flags & 0x02) {
            const end = (json ?? {}) as { error?: unknown };
            if (end.error !== undefined && end.error !== null) throw errorFromJson(end.error, "unknown");
            return;
          }
          yield json as Res;
        }
        const { done, value } = await reader.read();
        if (done) {
          // The connection ended mid-stream (a proxy's cut, a crash): nothing the server said.
          throw new ConnectError("the stream ended without its end-of-stream message", "unavailable");
        }
        buf = buf.length === 0 ? value : concat(buf, value);
      }
    } catch (e) {
      throw abortReason(opts.signal) ?? toConnectError(e);
    } finally {
      // Early exit (the caller stopped listening) or an error: release the connection.
      reader?.cancel().catch(() => {});
    }
  }
}

/** The abort's reason when the caller aborted with a ConnectError (e.g. a heartbeat watchdog). */
function abortReason(signal: AbortSignal | undefined): ConnectError | undefined {
  if (!signal?.aborted) return undefined;
  return signal.reason instanceof ConnectError ? signal.reason : new ConnectError("the call was aborted", "canceled");
}

function isContentType(res: Response, type: string): boolean {
  const ct = (res.headers.get("Content-Type") ?? "").toLowerCase();
  return ct === type || ct.startsWith(`${type};`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConnectError(`the server sent invalid JSON: ${(e as Error).message}`, "internal");
  }
}

function envelope(payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
