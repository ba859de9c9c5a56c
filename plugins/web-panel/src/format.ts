// Small display helpers: roles, channels, values, conditions, durations.
import { toJson } from "@bufbuild/protobuf";
import { type Duration, type Value, ValueSchema, timestampDate } from "@bufbuild/protobuf/wkt";
import type { Condition } from "./gen/sopsidebar/v1/sop_pb.js";
import { Channel, Role } from "./gen/sopsidebar/v1/sop_pb.js";

const ROLE_LABELS: Record<number, string> = {
  [Role.SDR]: "SDR",
  [Role.AE]: "Account Executive",
  [Role.SALES_MANAGER]: "Sales Manager",
  [Role.SALES_OPS]: "Sales Ops",
  [Role.MARKETING]: "Marketing",
  [Role.VP_SALES]: "VP Sales",
  [Role.MARKETING_DIRECTOR]: "Marketing Director",
  [Role.ADMIN]: "Admin",
};

export function roleLabel(r: Role): string {
  return ROLE_LABELS[r] ?? "";
}

const CHANNEL_LABELS: Record<number, string> = {
  [Channel.CALL]: "Call",
  [Channel.EMAIL]: "Email",
  [Channel.LINKEDIN]: "LinkedIn",
  [Channel.SMS]: "SMS",
  [Channel.VIDEO]: "Video",
  [Channel.OTHER_CHANNEL]: "Other",
};

export function channelLabel(c: Channel): string {
  return CHANNEL_LABELS[c] ?? "—";
}

/** A google.protobuf.Value as the rep would read it: strings bare, others as JSON. */
export function valueText(v: Value | undefined): string {
  if (!v) return "(not set)";
  const j = toJson(ValueSchema, v);
  if (typeof j === "string") return `“${j}”`;
  if (j === null) return "null";
  if (Array.isArray(j)) return j.map((x) => (typeof x === "string" ? `“${x}”` : JSON.stringify(x))).join(", ");
  return JSON.stringify(j);
}

export function conditionText(c: Condition | undefined): string {
  if (!c) return "";
  const ci = c.caseInsensitive ? " (any case)" : "";
  switch (c.op.case) {
    case "equals":
      return `${c.field} = ${valueText(c.op.value)}${ci}`;
    case "anyOf":
      return `${c.field} is one of ${c.op.value.values.map((v) => valueText(v)).join(", ")}${ci}`;
    case "noneOf":
      return `${c.field} is none of ${c.op.value.values.map((v) => valueText(v)).join(", ")}${ci}`;
    case "prefix":
      return `${c.field} starts with “${c.op.value}”${ci}`;
    case "exists":
      return c.op.value ? `${c.field} is set` : `${c.field} is not set`;
    case "range": {
      const r = c.op.value;
      const parts: string[] = [];
      if (r.lower.case === "min") parts.push(`${r.exclusiveMin ? ">" : "≥"} ${r.lower.value}`);
      if (r.lower.case === "minTime") parts.push(`${r.exclusiveMin ? "after" : "from"} ${timestampDate(r.lower.value).toISOString()}`);
      if (r.upper.case === "max") parts.push(`${r.exclusiveMax ? "<" : "≤"} ${r.upper.value}`);
      if (r.upper.case === "maxTime") parts.push(`${r.exclusiveMax ? "before" : "until"} ${timestampDate(r.upper.value).toISOString()}`);
      return `${c.field} ${parts.join(" and ")}`;
    }
    default:
      return c.field;
  }
}

export function durationSeconds(d: Duration | undefined): number {
  if (!d) return 0;
  return Number(d.seconds) + d.nanos / 1e9;
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
