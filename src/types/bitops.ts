/**
 * Bit-level operations on string values for the bitmap commands (Redis bitops.c): population
 * count, first set/clear bit, BITFIELD's integer fields and their overflow rules.
 *
 * Bits are numbered from the most significant bit of the first byte (bit 0 = 0x80 of byte 0),
 * and a string reads as if followed by zero bytes forever.
 *
 * Strings are immutable, so a command that changes a few bytes of a value works through a
 * ByteOverlay (the original string plus the modified bytes) and builds the new string once
 * from slices of the old one at the end.
 */

/** Bits set in each byte value. */
const BITS_IN_BYTE = new Uint8Array(256);
for (let i = 1; i < 256; i++) BITS_IN_BYTE[i] = (i & 1) + BITS_IN_BYTE[i >> 1]!;

/** Scratch for counting long ranges 32 bits at a time (its own, aligned ArrayBuffer). */
const CHUNK = 65536;
const scratchBytes = Buffer.from(new ArrayBuffer(CHUNK));
const scratchWords = new Uint32Array(scratchBytes.buffer, 0, CHUNK >>> 2);

/** Number of set bits in bytes [start, end] of `s` (inclusive, within the string). */
export function popcount(s: string, start: number, end: number): number {
  let n = 0;
  if (end - start < 64) {
    for (let i = start; i <= end; i++) n += BITS_IN_BYTE[s.charCodeAt(i)]!;
    return n;
  }
  // Long ranges (BITCOUNT of big bitmaps): copy a chunk of bytes at a time and count whole
  // 32-bit words with the SWAR popcount, as Redis's redisPopcount does.
  for (let off = start; off <= end; off += CHUNK) {
    const len = Math.min(CHUNK, end + 1 - off);
    scratchBytes.latin1Write(s.slice(off, off + len), 0, len);
    const words = len >>> 2;
    for (let i = 0; i < words; i++) {
      let v = scratchWords[i]!;
      v = v - ((v >>> 1) & 0x55555555);
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      n += Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
    }
    for (let i = words << 2; i < len; i++) n += BITS_IN_BYTE[scratchBytes[i]!]!;
  }
  return n;
}

export function popcountByte(b: number): number {
  return BITS_IN_BYTE[b & 0xff]!;
}

/**
 * The position of the first bit equal to `bit` in bits [startBit, endBit] of `s` (both within
 * the string), or -1.
 */
export function bitpos(s: string, startBit: number, endBit: number, bit: number): number {
  const firstByte = Math.floor(startBit / 8);
  const lastByte = Math.floor(endBit / 8);
  const skip = bit ? 0 : 0xff;
  for (let byte = firstByte; byte <= lastByte; byte++) {
    const b = s.charCodeAt(byte);
    if (b === skip) continue;
    const from = byte === firstByte ? startBit % 8 : 0;
    const to = byte === lastByte ? endBit % 8 : 7;
    for (let k = from; k <= to; k++) {
      if (((b >> (7 - k)) & 1) === bit) return byte * 8 + k;
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------

/** Where an overlay reads the base bytes from when not from the string itself. */
export interface ByteSource {
  get(i: number): number;
}

/**
 * A string with some bytes replaced and zero bytes appended up to `length`. Reads come from
 * `source` when given (a large bitmap's mirror, see bitmap-cache.ts), else from the string.
 */
export class ByteOverlay {
  private readonly changes = new Map<number, number>();

  constructor(
    readonly base: string,
    /** The length of the result (at least base.length: Redis's sdsgrowzero). */
    readonly length: number = base.length,
    private readonly source?: ByteSource,
  ) {}

  get(i: number): number {
    const v = this.changes.get(i);
    if (v !== undefined) return v;
    if (this.source !== undefined) return this.source.get(i);
    return i < this.base.length ? this.base.charCodeAt(i) : 0;
  }

  /** The bytes written so far (index → byte). */
  writes(): ReadonlyMap<number, number> {
    return this.changes;
  }

  set(i: number, v: number): void {
    this.changes.set(i, v & 0xff);
  }

  /** Whether the result differs from the base (a byte was written or the string grew). */
  get modified(): boolean {
    return this.changes.size !== 0 || this.length !== this.base.length;
  }

  /** The resulting string (the base itself when nothing changed or grew). */
  build(): string {
    if (!this.modified) return this.base;
    const idx = [...this.changes.keys()].sort((a, b) => a - b);
    let out = '';
    let pos = 0;
    let k = 0;
    while (k < idx.length) {
      const i = idx[k]!;
      out += this.piece(pos, i);
      // Consecutive modified bytes become one run of characters.
      let run = '';
      let j = i;
      while (k < idx.length && idx[k] === j) {
        run += String.fromCharCode(this.changes.get(j)!);
        j++;
        k++;
      }
      out += run;
      pos = j;
    }
    return out + this.piece(pos, this.length);
  }

  /** Bytes [from, to) of the zero-padded base. */
  private piece(from: number, to: number): string {
    if (from >= to) return '';
    const baseLen = this.base.length;
    const head = from < baseLen ? this.base.slice(from, Math.min(to, baseLen)) : '';
    const zeros = to - Math.max(from, baseLen);
    return zeros > 0 ? head + '\0'.repeat(zeros) : head;
  }
}

// ---------------------------------------------------------------------------------------------
// BITFIELD

export const BFOVERFLOW_WRAP = 0;
export const BFOVERFLOW_SAT = 1;
export const BFOVERFLOW_FAIL = 2;

export const BITFIELDOP_GET = 0;
export const BITFIELDOP_SET = 1;
export const BITFIELDOP_INCRBY = 2;

export interface BitfieldOp {
  opcode: number;
  /** Bit offset of the field's most significant bit. */
  offset: number;
  bits: number;
  signed: boolean;
  /** SET's value / INCRBY's increment (int64). */
  value: number | bigint;
  owtype: number;
}

/** The field read by loadField, as two unsigned 32-bit halves of its `bits`-bit value. */
let fieldHi = 0;
let fieldLo = 0;

/** getUnsignedBitfield: reads `bits` bits MSB first into fieldHi:fieldLo. */
function loadField(ov: ByteOverlay, offset: number, bits: number): void {
  let hi = 0;
  let lo = 0;
  let byte = Math.floor(offset / 8);
  let bit = 7 - (offset % 8);
  let b = ov.get(byte);
  for (let j = bits - 1; j >= 0; j--) {
    const v = (b >> bit) & 1;
    if (j >= 32) hi |= v << (j - 32);
    else lo |= v << j;
    if (bit === 0) {
      bit = 7;
      b = ov.get(++byte);
    } else {
      bit--;
    }
  }
  fieldHi = hi >>> 0;
  fieldLo = lo >>> 0;
}

/** setUnsignedBitfield: writes the low `bits` bits of hi:lo MSB first at `offset`. */
function storeField(ov: ByteOverlay, offset: number, bits: number, hi: number, lo: number): void {
  let byte = Math.floor(offset / 8);
  let bit = 7 - (offset % 8);
  let b = ov.get(byte);
  for (let j = bits - 1; j >= 0; j--) {
    const v = j >= 32 ? (hi >>> (j - 32)) & 1 : (lo >>> j) & 1;
    b = (b & ~(1 << bit)) | (v << bit);
    if (bit === 0 || j === 0) ov.set(byte, b);
    if (bit === 0) {
      bit = 7;
      b = ov.get(++byte);
    } else {
      bit--;
    }
  }
}

const TWO_32 = 4294967296;
/** Operands up to this magnitude take the exact double path with fields of ≤ 48 bits. */
const FAST_LIMIT = 2 ** 52;

/** x mod 2^bits in [0, 2^bits) (doubles, |x| < 2^53). */
function umod(x: number, bits: number): number {
  const m = 2 ** bits;
  const r = x % m;
  return r < 0 ? r + m : r;
}

/** x as a signed `bits`-bit integer (two's complement wrap). */
function smod(x: number, bits: number): number {
  const r = umod(x, bits);
  return r >= 2 ** (bits - 1) ? r - 2 ** bits : r;
}

/** Result of one BITFIELD operation. */
export interface BitfieldResult {
  /** The reply: the value (GET), old value (SET), new value (INCRBY), or null (OVERFLOW FAIL). */
  reply: number | bigint | null;
  /** Whether the stored field changed (Redis's `oldval != newval`). */
  changed: boolean;
}

const result: BitfieldResult = { reply: null, changed: false };

/**
 * Runs one BITFIELD operation on the overlay with Redis's exact semantics, including the
 * overflow checks' int64 wrap-arounds. The result object is reused between calls.
 */
export function bitfieldExec(ov: ByteOverlay, op: BitfieldOp): BitfieldResult {
  if (op.bits <= 48 && typeof op.value === 'number' && Math.abs(op.value) <= FAST_LIMIT) return execFast(ov, op);
  return execBig(ov, op);
}

function execFast(ov: ByteOverlay, op: BitfieldOp): BitfieldResult {
  const bits = op.bits;
  loadField(ov, op.offset, bits);
  const raw = fieldHi * TWO_32 + fieldLo;
  const span = 2 ** bits;
  const max = op.signed ? 2 ** (bits - 1) - 1 : span - 1;
  const min = op.signed ? -max - 1 : 0;
  const old = op.signed && raw > max ? raw - span : raw;
  result.changed = false;
  if (op.opcode === BITFIELDOP_GET) {
    result.reply = old;
    return result;
  }
  const x = op.value as number;
  let overflow = 0;
  let newval: number;
  if (op.opcode === BITFIELDOP_INCRBY) {
    const sum = old + x;
    if (x > max - old) overflow = 1;
    else if (x < min - old) overflow = -1;
    newval = overflow === 0 ? sum : op.owtype === BFOVERFLOW_SAT ? (overflow > 0 ? max : min) : op.signed ? smod(sum, bits) : umod(sum, bits);
  } else {
    // SET checks the value itself; an unsigned field sees a negative value as a huge uint64.
    if (x > max || (!op.signed && x < 0)) overflow = 1;
    else if (x < min) overflow = -1;
    newval = overflow === 0 ? x : op.owtype === BFOVERFLOW_SAT ? (overflow > 0 ? max : min) : op.signed ? smod(x, bits) : umod(x, bits);
  }
  if (overflow !== 0 && op.owtype === BFOVERFLOW_FAIL) {
    result.reply = null;
    return result;
  }
  result.reply = op.opcode === BITFIELDOP_INCRBY ? newval : old;
  const u = newval < 0 ? newval + span : newval;
  storeField(ov, op.offset, bits, Math.floor(u / TWO_32), u % TWO_32);
  result.changed = newval !== old;
  return result;
}

const i64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** The exact path: Redis's checks on int64/uint64 values, wrap-arounds included. */
function execBig(ov: ByteOverlay, op: BitfieldOp): BitfieldResult {
  const bits = op.bits;
  const b = BigInt(bits);
  loadField(ov, op.offset, bits);
  const raw = (BigInt(fieldHi) << 32n) | BigInt(fieldLo);
  const old = op.signed ? BigInt.asIntN(bits, raw) : raw;
  result.changed = false;
  if (op.opcode === BITFIELDOP_GET) {
    result.reply = old;
    return result;
  }
  const arg = BigInt(op.value);
  const incr = op.opcode === BITFIELDOP_INCRBY ? arg : 0n;
  let overflow = 0;
  let limit = 0n;
  let value: bigint;
  if (op.signed) {
    // checkSignedBitfieldOverflow(value, incr)
    value = op.opcode === BITFIELDOP_INCRBY ? old : arg;
    const max = bits === 64 ? 9223372036854775807n : (1n << (b - 1n)) - 1n;
    const min = -max - 1n;
    const maxincr = i64(max - value);
    const minincr = i64(min - value);
    if (value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) {
      overflow = 1;
      limit = max;
    } else if (value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) {
      overflow = -1;
      limit = min;
    }
    if (overflow !== 0 && op.owtype === BFOVERFLOW_WRAP) limit = BigInt.asIntN(bits, value + incr);
  } else {
    // checkUnsignedBitfieldOverflow(value, incr): value is a uint64
    value = op.opcode === BITFIELDOP_INCRBY ? old : BigInt.asUintN(64, arg);
    const max = (1n << b) - 1n;
    const maxincr = i64(max - value);
    const minincr = i64(-value);
    if (value > max || (incr > 0n && incr > maxincr)) {
      overflow = 1;
      limit = max;
    } else if (incr < 0n && incr < minincr) {
      overflow = -1;
      limit = 0n;
    }
    if (overflow !== 0 && op.owtype === BFOVERFLOW_WRAP) limit = BigInt.asUintN(bits, value + incr);
  }
  if (overflow !== 0 && op.owtype === BFOVERFLOW_FAIL) {
    result.reply = null;
    return result;
  }
  const newval = overflow !== 0 ? limit : value + incr;
  result.reply = op.opcode === BITFIELDOP_INCRBY ? newval : old;
  const u = BigInt.asUintN(64, newval);
  storeField(ov, op.offset, bits, Number(u >> 32n), Number(u & 0xffffffffn));
  result.changed = newval !== old;
  return result;
}
