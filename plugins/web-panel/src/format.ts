// Small display helpers: roles, channels, values, conditions, durations and times, from the
// proto3 JSON the server sends (see src/api.ts).
import type { ChannelJson, ConditionJson, RoleJson } from "./api.js";

type JsonValue = number | string | boolean | null | JsonValue[] | { [k: string]: JsonValue };

// Keyed by the enum value's name, as proto3 JSON sends it. A value this build does not know
// (a newer sopd's, sent as its number) has no label.
const ROLE_LABELS: Partial<Record<RoleJson, string>> = {
  SDR: "SDR",
  AE: "Account Executive",
  SALES_MANAGER: "Sales Manager",
  SALES_OPS: "Sales Ops",
  MARKETING: "Marketing",
  VP_SALES: "VP Sales",
  MARKETING_DIRECTOR: "Marketing Director",
  ADMIN: "Admin",
  INTEGRATION: "Integration",
};

export function roleLabel(r: RoleJson | number | undefined): string {
  return (typeof r === "string" && Object.hasOwn(ROLE_LABELS, r) ? ROLE_LABELS[r] : undefined) ?? "";
}

const CHANNEL_LABELS: Partial<Record<ChannelJson, string>> = {
  CALL: "Call",
  EMAIL: "Email",
  LINKEDIN: "LinkedIn",
  SMS: "SMS",
  VIDEO: "Video",
  OTHER_CHANNEL: "Other",
};

export function channelLabel(c: ChannelJson | number | undefined): string {
  return (typeof c === "string" && Object.hasOwn(CHANNEL_LABELS, c) ? CHANNEL_LABELS[c] : undefined) ?? "—";
}

/**
 * A google.protobuf.Value as the rep would read it: strings bare, others as JSON. `undefined`
 * is a Value field that is not set; `null` is one set to null.
 */
export function valueText(v: JsonValue | undefined): string {
  if (v === undefined) return "(not set)";
  if (typeof v === "string") return `“${v}”`;
  if (v === null) return "null";
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? `“${x}”` : JSON.stringify(x))).join(", ");
  return JSON.stringify(v);
}

export function conditionText(c: ConditionJson | undefined): string {
  if (!c) return "";
  const field = c.field ?? "";
  const ci = c.caseInsensitive ? " (any case)" : "";
  // proto3 JSON writes the oneof member that is set, even at its default (`exists: false`).
  if (c.equals !== undefined) return `${field} = ${valueText(c.equals)}${ci}`;
  if (c.anyOf !== undefined) return `${field} is one of ${c.anyOf.map((v) => valueText(v)).join(", ")}${ci}`;
  if (c.noneOf !== undefined) return `${field} is none of ${c.noneOf.map((v) => valueText(v)).join(", ")}${ci}`;
  if (c.prefix !== undefined) return `${field} starts with “${c.prefix}”${ci}`;
  if (c.exists !== undefined) return c.exists ? `${field} is set` : `${field} is not set`;
  if (c.range !== undefined) {
    const r = c.range;
    const parts: string[] = [];
    if (r.min !== undefined) parts.push(`${r.exclusiveMin ? ">" : "≥"} ${r.min}`);
    if (r.minTime !== undefined) parts.push(`${r.exclusiveMin ? "after" : "from"} ${new Date(timestampMs(r.minTime)).toISOString()}`);
    if (r.max !== undefined) parts.push(`${r.exclusiveMax ? "<" : "≤"} ${r.max}`);
    if (r.maxTime !== undefined) parts.push(`${r.exclusiveMax ? "before" : "until"} ${new Date(timestampMs(r.maxTime)).toISOString()}`);
    return `${field} ${parts.join(" and ")}`;
  }
  return field;
}

/** A Duration's JSON ("300s", "1.5s", "-2s") in seconds; 0 when unset or unreadable. */
export function durationSeconds(d: string | undefined): number {
  if (!d) return 0;
  const n = Number(d.endsWith("s") ? d.slice(0, -1) : d);
  return Number.isFinite(n) ? n : 0;
}

/**
 * A Timestamp's JSON (RFC 3339: "2026-11-30T09:41:00Z", up to nine fractional digits, a "Z" or
 * an offset) in ms since the epoch; NaN when unreadable. The fraction is cut to milliseconds
 * first: not every engine's Date.parse takes nine digits.
 */
export function timestampMs(t: string): number {
  return Date.parse(t.replace(/(\.\d{3})\d+/, "$1"));
}

/** 42 → "0:42", 192 → "3:12", 3725 → "1:02:05", 2 days+ → "2d 3h". */
export function clock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(s / 86400);
  if (days >= 1) {
    const h = Math.floor((s % 86400) / 3600);
    return `${days}d ${h}h`;
  }
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

/** 300 → "5 minutes", 7200 → "2 hours", 172800 → "2 days". */
export function humanDuration(seconds: number): string {
  const unit = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  if (seconds % 86400 === 0 && seconds >= 86400) return unit(seconds / 86400, "day");
  if (seconds % 3600 === 0 && seconds >= 3600) return unit(seconds / 3600, "hour");
  if (seconds % 60 === 0 && seconds >= 60) return unit(seconds / 60, "minute");
  return unit(Math.round(seconds), "second");
}

/** Words for the live region, coarse enough to change at most once a minute: "3 minutes left",
 * "about 5 hours left", "overdue by 2 minutes". */
export function spokenRemaining(seconds: number): string {
  const abs = Math.abs(seconds);
  const mins = Math.floor(abs / 60);
  let amount: string;
  if (mins < 1) amount = "less than a minute";
  else if (mins < 120) amount = humanDuration(mins * 60);
  else if (mins < 48 * 60) amount = `about ${humanDuration(Math.floor(mins / 60) * 3600)}`;
  else amount = `about ${humanDuration(Math.floor(mins / 1440) * 86400)}`;
  return seconds >= 0 ? `${amount} left` : `overdue by ${amount}`;
}
