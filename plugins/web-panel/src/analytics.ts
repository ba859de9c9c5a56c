// The panel's events (AnalyticsService.RecordEvents): what the rep saw and did with an SOP.
//
// Never in the rep's way: `add` only appends to an array; sending happens later, batched (every
// FLUSH_MS, or at once when MAX_BATCH events wait), one call at a time, and a failure is never
// shown — at most a console.debug. Each event carries a client event_id made when it happened
// and kept across retries, and sopd skips ids it already recorded, so a retried batch never
// counts twice. The queue is bounded (MAX_QUEUE: the oldest go first) and a batch is dropped
// after MAX_ATTEMPTS failed sends; offline, it waits with backoff (and tries again on `online`).
// On pagehide everything waiting goes out with fetch's keepalive, so it outlives the page.
import { type CallOptions, type Code, ConnectError, toConnectError } from "./connect.js";
import type { EventJson, RecordEventsRequestJson, RecordEventsResponseJson } from "./gen/sopsidebar/v1/analytics_service_pb.js";

export type { EventJson };

/** How events go out; the panel binds it to its client and server at send time. */
export type SendEvents = (request: RecordEventsRequestJson, opts: CallOptions) => Promise<RecordEventsResponseJson>;

export interface EventQueueOptions {
  /** Wait this long after the first queued event before sending (default 2000 ms). */
  flushMs?: number;
  /** Send at once when this many wait; also the most per call (default 20). */
  maxBatch?: number;
  /** Keep at most this many waiting; beyond, the oldest are dropped (default 200). */
  maxQueue?: number;
  /** The first retry's delay, doubled per failure up to backoffMaxMs (defaults 1000, 60000). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** A batch is dropped after this many failed sends (default 8). */
  maxAttempts?: number;
  /** A call that has not answered by then is abandoned and retried (default 10000 ms). */
  timeoutMs?: number;
}

interface Queued {
  event: EventJson;
  /** orgs/{org}: the call's parent. */
  parent: string;
  /** The Authorization header of the rep whose event it is. */
  auth: string;
  attempts: number;
}

/** Codes worth sending the same batch again for: the server or the network was not able to. */
const RETRY: ReadonlySet<Code> = new Set<Code>(["unavailable", "deadline_exceeded", "resource_exhausted", "aborted", "internal", "unknown", "canceled"]);

/** A UUID v4; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function newEventId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** orgs/{org} of an orgs/{org}/sops/{sop} name; "" when it is not one. */
export function orgOf(name: string): string {
  const m = /^(orgs\/[^/]+)\//.exec(name);
  return m ? m[1] : "";
}

function debug(message: string, detail?: unknown): void {
  console.debug(`sop-panel analytics: ${message}`, ...(detail === undefined ? [] : [detail]));
}

export class EventQueue {
  readonly #send: SendEvents;
  readonly #flushMs: number;
  readonly #maxBatch: number;
  readonly #maxQueue: number;
  readonly #backoffMinMs: number;
  readonly #backoffMaxMs: number;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  #queue: Queued[] = [];
  #inFlight = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #backoffUntil = 0;
  #failures = 0;

  constructor(send: SendEvents, opts: EventQueueOptions = {}) {
    this.#send = send;
    this.#flushMs = opts.flushMs ?? 2000;
    this.#maxBatch = opts.maxBatch ?? 20;
    this.#maxQueue = opts.maxQueue ?? 200;
    this.#backoffMinMs = opts.backoffMinMs ?? 1000;
    this.#backoffMaxMs = opts.backoffMaxMs ?? 60_000;
    this.#maxAttempts = opts.maxAttempts ?? 8;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Events waiting (not counting a batch on the wire). */
  get size(): number {
    return this.#queue.length;
  }

  /** Queues an event of `parent` (orgs/{org}) for the rep whose Authorization header is `auth`. */
  add(event: EventJson, parent: string, auth: string): void {
    if (!parent) {
      debug("an event without an org is dropped", event.type);
      return;
    }
    this.#queue.push({ event, parent, auth, attempts: 0 });
    while (this.#queue.length > this.#maxQueue) {
      const dropped = this.#queue.shift();
      debug("the queue is full: dropped the oldest event", dropped?.event.eventId);
    }
    if (this.#queue.length >= this.#maxBatch) this.#schedule(0);
    else this.#schedule(this.#flushMs);
  }

  /** Sends everything waiting now, with keepalive (pagehide, the panel leaving the page). */
  flushNow(keepalive: boolean): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (keepalive) {
      // The page is going: one keepalive call per batch, in parallel, whatever the backoff.
      while (this.#queue.length > 0) void this.#sendBatch(this.#takeBatch(), true);
      return;
    }
    this.#backoffUntil = 0;
    void this.#flush();
  }

  /** The network is back: try now instead of waiting out the backoff. */
  online(): void {
    if (this.#queue.length > 0) this.flushNow(false);
  }

  #schedule(ms: number): void {
    if (this.#inFlight) return; // the call's end schedules the next
    const wait = Math.max(ms, this.#backoffUntil - Date.now());
    if (this.#timer !== undefined) {
      if (wait > 0) return; // already due; an immediate flush replaces it
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, wait);
  }

  /** Up to maxBatch events of the first event's org and rep, in order. */
  #takeBatch(): Queued[] {
    const first = this.#queue[0];
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    for (const q of this.#queue) {
      if (batch.length < this.#maxBatch && q.parent === first.parent && q.auth === first.auth) batch.push(q);
      else rest.push(q);
    }
    this.#queue = rest;
    return batch;
  }

  async #flush(): Promise<void> {
    if (this.#inFlight || this.#queue.length === 0) return;
    this.#inFlight = true;
    const ok = await this.#sendBatch(this.#takeBatch(), false);
    this.#inFlight = false;
    if (ok) {
      this.#failures = 0;
      this.#backoffUntil = 0;
    } else {
      this.#failures++;
      const base = Math.min(this.#backoffMaxMs, this.#backoffMinMs * 2 ** (this.#failures - 1));
      this.#backoffUntil = Date.now() + Math.round(base * (0.8 + Math.random() * 0.4));
    }
    if (this.#queue.length > 0) this.#schedule(this.#queue.length >= this.#maxBatch || !ok ? 0 : this.#flushMs);
  }

  /** One RecordEvents call. True when the batch is done with (sent, or dropped as unsendable). */
  async #sendBatch(batch: Queued[], keepalive: boolean): Promise<boolean> {
    if (batch.length === 0) return true;
    const ac = new AbortController();
    const timer = keepalive ? undefined : setTimeout(() => ac.abort(new ConnectError("RecordEvents did not answer", "deadline_exceeded")), this.#timeoutMs);
    try {
      await this.#send(
        { parent: batch[0].parent, events: batch.map((q) => q.event) },
        { headers: batch[0].auth ? { Authorization: batch[0].auth } : {}, signal: ac.signal, keepalive },
      );
      return true;
    } catch (e) {
      const err = toConnectError(e);
      if (RETRY.has(err.code)) {
        const keep = batch.filter((q) => ++q.attempts < this.#maxAttempts);
        if (keep.length < batch.length) debug(`dropped ${batch.length - keep.length} events after ${this.#maxAttempts} failed sends`, err.message);
        // Back at the front, ids unchanged: the retry is the same events.
        this.#queue.unshift(...keep);
        return false;
      }
      // All or nothing: the server names the event it refused (events[3]); the others go again.
      const m = /events\[(\d+)\]/.exec(err.rawMessage);
      const bad = m ? Number(m[1]) : -1;
      if (bad >= 0 && bad < batch.length && batch.length > 1) {
        debug(`the server refused events[${bad}]; sending the others again`, err.message);
        this.#queue.unshift(...batch.filter((_, i) => i !== bad));
      } else {
        debug(`dropped ${batch.length} events the server refused`, err.message);
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}
