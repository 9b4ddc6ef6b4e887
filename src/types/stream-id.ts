/**
 * Stream entry IDs.
 *
 * An ID is two unsigned 64-bit integers, <ms>-<seq>. JS numbers cannot hold all of them, so
 * internally an ID is a 16-character latin1 string holding the 128-bit big-endian encoding
 * (exactly Redis's streamEncodeID bytes, which the RDB format also uses for node keys and PEL
 * entries). Such strings compare with `<` / `>` in ID order, are cheap Map keys, and cost no
 * BigInt arithmetic on the hot paths; `formatId` turns one into the "ms-seq" text of replies.
 */

export type StreamId = string;

const TWO32 = 4294967296;
export const ID_MIN: StreamId = '\x00'.repeat(16);
export const ID_MAX: StreamId = '\xff'.repeat(16);
export const U64_MAX = 18446744073709551615n;

function be32(v: number): string {
  return String.fromCharCode((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

/** ID from two non-negative safe integers. */
export function makeId(ms: number, seq: number): StreamId {
  return be32(Math.floor(ms / TWO32)) + be32(ms % TWO32) + be32(Math.floor(seq / TWO32)) + be32(seq % TWO32);
}

function u64Bytes(v: bigint): string {
  return be32(Number((v >> 32n) & 0xffffffffn)) + be32(Number(v & 0xffffffffn));
}

/** ID from two unsigned 64-bit bigints. */
export function makeIdBig(ms: bigint, seq: bigint): StreamId {
  return u64Bytes(ms) + u64Bytes(seq);
}

function word(id: StreamId, o: number): number {
  return ((id.charCodeAt(o) << 24) | (id.charCodeAt(o + 1) << 16) | (id.charCodeAt(o + 2) << 8) | id.charCodeAt(o + 3)) >>> 0;
}

function partText(id: StreamId, o: number): string {
  const hi = word(id, o);
  const lo = word(id, o + 4);
  if (hi < 0x200000) return String(hi * TWO32 + lo);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

function partBig(id: StreamId, o: number): bigint {
  return (BigInt(word(id, o)) << 32n) | BigInt(word(id, o + 4));
}

/** "<ms>-<seq>" as Redis prints IDs. */
export function formatId(id: StreamId): string {
  return partText(id, 0) + '-' + partText(id, 8);
}

export function idMs(id: StreamId): bigint {
  return partBig(id, 0);
}

export function idSeq(id: StreamId): bigint {
  return partBig(id, 8);
}

/** The ms part as a number when it is a safe integer, else null. */
export function idMsNumber(id: StreamId): number | null {
  const hi = word(id, 0);
  return hi < 0x200000 ? hi * TWO32 + word(id, 4) : null;
}

/** The seq part as a number when it is a safe integer, else null. */
export function idSeqNumber(id: StreamId): number | null {
  const hi = word(id, 8);
  return hi < 0x200000 ? hi * TWO32 + word(id, 12) : null;
}

/** The next ID (streamIncrID), or null when `id` is the largest possible one. */
export function incrId(id: StreamId): StreamId | null {
  if (id === ID_MAX) return null;
  const codes: number[] = new Array<number>(16);
  for (let i = 0; i < 16; i++) codes[i] = id.charCodeAt(i);
  for (let i = 15; i >= 0; i--) {
    if (codes[i] === 255) codes[i] = 0;
    else {
      codes[i]!++;
      break;
    }
  }
  return String.fromCharCode(...codes);
}

/** The previous ID (streamDecrID), or null when `id` is 0-0. */
export function decrId(id: StreamId): StreamId | null {
  if (id === ID_MIN) return null;
  const codes: number[] = new Array<number>(16);
  for (let i = 0; i < 16; i++) codes[i] = id.charCodeAt(i);
  for (let i = 15; i >= 0; i--) {
    if (codes[i] === 0) codes[i] = 255;
    else {
      codes[i]!--;
      break;
    }
  }
  return String.fromCharCode(...codes);
}

/**
 * Parses "<ms>-<seq>", "<ms>" or "<ms>-*" the way streamGenericParseIDOrReply does (strtoull
 * semantics: decimal digits only, no sign, must fit u64). `missingSeq` fills a missing seq part.
 * Returns null when the text is not a valid ID; `seqGiven` is false for the "<ms>-*" form.
 */
export function parseStreamId(
  s: string,
  missingSeq: bigint,
  allowAutoSeq: boolean,
): { id: StreamId; seqGiven: boolean; ms: bigint } | null {
  if (s.length > 127) return null;
  const dash = s.indexOf('-');
  const msText = dash < 0 ? s : s.slice(0, dash);
  const ms = parseU64(msText);
  if (ms === null) return null;
  if (dash < 0) return { id: makeIdBig(ms, missingSeq), seqGiven: true, ms };
  const seqText = s.slice(dash + 1);
  if (allowAutoSeq && seqText === '*') return { id: makeIdBig(ms, 0n), seqGiven: false, ms };
  const seq = parseU64(seqText);
  if (seq === null) return null;
  return { id: makeIdBig(ms, seq), seqGiven: true, ms };
}

/**
 * Unsigned 64-bit decimal as Redis's string2ull accepts it: a canonical int64 (string2ll) that
 * is not negative, or else whatever strtoull takes whole (leading spaces, a sign, leading
 * zeros; a '-' wraps modulo 2^64 like C does) without overflowing.
 */
export function parseU64(s: string): bigint | null {
  const n = s.length;
  if (n === 0) return null;
  if (/^(0|-?[1-9][0-9]{0,18})$/.test(s)) {
    const v = BigInt(s);
    if (v <= 9223372036854775807n && v >= -9223372036854775808n) return v < 0n ? null : v;
  }
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (m === null) return null;
  const v = BigInt(m[2]!);
  if (v > U64_MAX) return null;
  return m[1] === '-' ? (U64_MAX + 1n - v) & U64_MAX : v;
}
