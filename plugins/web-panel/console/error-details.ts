// Reads the google.rpc error details sopd puts on a Connect error (base64 protobuf, as
// connect_protocol.cc writes them): BadRequest's field violations (INVALID_ARGUMENT) and
// PreconditionFailure's violations (FAILED_PRECONDITION, e.g. type "TEMPLATE" whose subject is a
// field path). A few lines of wire-format decoding instead of a protobuf runtime in the bundle.
import type { ErrorDetail } from "../src/connect.js";

/** One violation from a detail: the field path (subject), the text, and its kind. */
export interface DetailViolation {
  /** BadRequest: "field"; PreconditionFailure: the violation's type, e.g. "TEMPLATE". */
  type: string;
  /** The field path (BadRequest.field / PreconditionFailure.subject). */
  field: string;
  description: string;
}

function base64Bytes(b64: string): Uint8Array {
  const s = b64.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(s + "===".slice((s.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The length-delimited fields of a message: [field number, bytes]; other wire types skipped. */
function fields(buf: Uint8Array): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error("truncated");
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const wire = key & 7;
    const num = Math.floor(key / 8);
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      out.push([num, buf.subarray(i, i + len)]);
      i += len;
    } else throw new Error("unsupported wire type");
  }
  return out;
}

const utf8 = new TextDecoder();

/** The violations of every BadRequest and PreconditionFailure detail; unreadable ones are skipped. */
export function detailViolations(details: readonly ErrorDetail[]): DetailViolation[] {
  const out: DetailViolation[] = [];
  for (const d of details) {
    try {
      if (d.type === "google.rpc.BadRequest") {
        for (const [n, v] of fields(base64Bytes(d.value))) {
          if (n !== 1) continue;
          const f = new Map(fields(v).map(([k, b]) => [k, utf8.decode(b)]));
          out.push({ type: "field", field: f.get(1) ?? "", description: f.get(2) ?? "" });
        }
      } else if (d.type === "google.rpc.PreconditionFailure") {
        for (const [n, v] of fields(base64Bytes(d.value))) {
          if (n !== 1) continue;
          const f = new Map(fields(v).map(([k, b]) => [k, utf8.decode(b)]));
          out.push({ type: f.get(1) ?? "", field: f.get(2) ?? "", description: f.get(3) ?? "" });
        }
      }
    } catch {
      // A detail this console cannot read: the error's message still says what went wrong.
    }
  }
  return out;
}
