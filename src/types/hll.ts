/**
 * Redis's HyperLogLog representation (hyperloglog.c), byte for byte: an HLL is a plain string
 * value, so RDB, DUMP/RESTORE, replication and DEBUG DIGEST carry it unchanged, and Redis and
 * Mirra must read each other's bytes and count the same numbers.
 *
 * Layout: a 16-byte header `HYLL` | encoding (0 dense, 1 sparse) | 3 unused bytes | cached
 * cardinality (uint64 little endian; the top bit of the last byte set = stale), then
 *  - dense:  16384 registers of 6 bits, packed LSB first (12288 bytes);
 *  - sparse: run-length opcodes, each covering consecutive registers:
 *      ZERO  00xxxxxx            1..64 registers at 0
 *      XZERO 01xxxxxx yyyyyyyy   1..16384 registers at 0 (14-bit length)
 *      VAL   1vvvvvxx            1..4 registers at value 1..32
 *
 * Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the register,
 * the run of zero bits above them (plus one) is the register candidate. The cardinality is
 * Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog sketches")
 * over the register histogram, as Redis 7.0 computes it.
 *
 * The sparse form is edited in place exactly as Redis edits it (same opcode splits, same merge
 * of adjacent VAL opcodes, same promotion to dense when an edit would pass
 * hll-sparse-max-bytes or a value above 32 is needed), because the resulting bytes are visible
 * with GET and must equal Redis's.
 *
 * A working HLL is a Buffer with spare capacity and an explicit length; like an sds string it
 * always has a zero byte after its content, which Redis's code reads at the edges (the last
 * dense register's neighbour, a truncated XZERO).
 */
import { murmurHash64A, murmurHash64AWord } from '../util/murmur64a.js';

export const HLL_P = 14;
export const HLL_Q = 64 - HLL_P;
export const HLL_REGISTERS = 1 << HLL_P;
const HLL_P_MASK = HLL_REGISTERS - 1;
const HLL_BITS = 6;
const HLL_REGISTER_MAX = (1 << HLL_BITS) - 1;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + ((HLL_REGISTERS * HLL_BITS + 7) >> 3);
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
const HLL_MAX_ENCODING = 1;
const HASH_SEED = 0xadc83b19;

const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;

/** 1/(2 ln 2): the estimator's alpha for m → ∞. */
const HLL_ALPHA_INF = 0.7213475204444817; // the double nearest 0.721347520444481703680

export const INVALID_HLL_ERR = 'INVALIDOBJ Corrupted HLL object detected';
export const NOT_HLL_ERR = 'WRONGTYPE Key is not a valid HyperLogLog string value.';

// ---------------------------------------------------------------------------------------------
// Opcode helpers (b is the opcode's first byte)

const isZero = (b: number): boolean => (b & 0xc0) === 0;
const isXZero = (b: number): boolean => (b & 0xc0) === 0x40;
const isVal = (b: number): boolean => (b & 0x80) !== 0;
const zeroLen = (b: number): number => (b & 0x3f) + 1;
const xzeroLen = (b: number, b2: number): number => (((b & 0x3f) << 8) | b2) + 1;
const valValue = (b: number): number => ((b >> 2) & 0x1f) + 1;
const valLen = (b: number): number => (b & 0x3) + 1;
const valOp = (value: number, len: number): number => (((value - 1) << 2) | (len - 1) | 0x80) & 0xff;

// ---------------------------------------------------------------------------------------------
// Dense registers (p is the offset of the first register byte)

function denseGet(buf: Uint8Array, p: number, regnum: number): number {
  const bit = regnum * HLL_BITS;
  const byte = p + (bit >>> 3);
  const fb = bit & 7;
  return ((buf[byte]! >> fb) | (buf[byte + 1]! << (8 - fb))) & HLL_REGISTER_MAX;
}

function denseSet(buf: Uint8Array, p: number, regnum: number, val: number): void {
  const bit = regnum * HLL_BITS;
  const byte = p + (bit >>> 3);
  const fb = bit & 7;
  const fb8 = 8 - fb;
  buf[byte] = (buf[byte]! & ~(HLL_REGISTER_MAX << fb)) | (val << fb);
  // For the last register this touches the terminating zero byte with no-op masks, as Redis.
  buf[byte + 1] = (buf[byte + 1]! & ~(HLL_REGISTER_MAX >> fb8)) | (val >> fb8);
}

/** Dense registers' histogram: 16 registers per 12 bytes. */
function denseHisto(buf: Uint8Array, p: number, h: Int32Array): void {
  for (let j = 0; j < 1024; j++, p += 12) {
    const r0 = buf[p]!;
    const r1 = buf[p + 1]!;
    const r2 = buf[p + 2]!;
    const r3 = buf[p + 3]!;
    const r4 = buf[p + 4]!;
    const r5 = buf[p + 5]!;
    const r6 = buf[p + 6]!;
    const r7 = buf[p + 7]!;
    const r8 = buf[p + 8]!;
    const r9 = buf[p + 9]!;
    const r10 = buf[p + 10]!;
    const r11 = buf[p + 11]!;
    h[r0 & 63]!++;
    h[((r0 >> 6) | (r1 << 2)) & 63]!++;
    h[((r1 >> 4) | (r2 << 4)) & 63]!++;
    h[(r2 >> 2) & 63]!++;
    h[r3 & 63]!++;
    h[((r3 >> 6) | (r4 << 2)) & 63]!++;
    h[((r4 >> 4) | (r5 << 4)) & 63]!++;
    h[(r5 >> 2) & 63]!++;
    h[r6 & 63]!++;
    h[((r6 >> 6) | (r7 << 2)) & 63]!++;
    h[((r7 >> 4) | (r8 << 4)) & 63]!++;
    h[(r8 >> 2) & 63]!++;
    h[r9 & 63]!++;
    h[((r9 >> 6) | (r10 << 2)) & 63]!++;
    h[((r10 >> 4) | (r11 << 4)) & 63]!++;
    h[(r11 >> 2) & 63]!++;
  }
}

// ---------------------------------------------------------------------------------------------
// Hashing

/** Register index of the last patLen call. */
let patIndex = 0;

/**
 * hllPatLen: the register candidate of an element (1 + the number of zero bits above the index
 * bits, with a sentinel bit at position 64-P so it never exceeds 51); the index is in patIndex.
 */
function patLenOf(hi: number, lo: number): number {
  patIndex = lo & HLL_P_MASK;
  const low = lo >>> HLL_P; // hash bits 14..31 (18 bits)
  if (low !== 0) return 1 + ctz32(low);
  if (hi !== 0) return 1 + (32 - HLL_P) + ctz32(hi);
  return HLL_Q + 1;
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

// ---------------------------------------------------------------------------------------------
// The estimator

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let zPrime: number;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1.0;
  let z = 1 - x;
  let zPrime: number;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrime !== z);
  return z / 3;
}

const TWO_63 = 9223372036854775808;

/**
 * The cardinality of a register histogram, as the uint64 Redis computes: llroundl of the
 * estimate (half away from zero); an estimate that does not fit (only forged registers can get
 * there) becomes llroundl's LLONG_MIN, i.e. 2^63.
 */
export function estimate(h: Int32Array): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - h[HLL_Q + 1]!) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += h[j]!;
    z *= 0.5;
  }
  z += m * sigma(h[0]! / m);
  const e = (HLL_ALPHA_INF * m * m) / z;
  if (!(e < TWO_63)) return TWO_63;
  const f = Math.floor(e);
  return e - f >= 0.5 ? f + 1 : f;
}

/** A uint64 cardinality as an integer reply (Redis replies it as a signed long long). */
export function cardReply(card: number | bigint): number | bigint {
  if (typeof card === 'bigint') return BigInt.asIntN(64, card);
  if (card <= Number.MAX_SAFE_INTEGER) return card;
  return BigInt.asIntN(64, BigInt(card));
}

// ---------------------------------------------------------------------------------------------

/**
 * The checks of isHLLObjectOrReply on a string value: long enough for the header, `HYLL`
 * magic, a known encoding, and a dense HLL of exactly the dense size.
 */
export function isHllString(v: string): boolean {
  if (v.length < HLL_HDR_SIZE) return false;
  if (v.charCodeAt(0) !== 72 || v.charCodeAt(1) !== 89 || v.charCodeAt(2) !== 76 || v.charCodeAt(3) !== 76) return false;
  const enc = v.charCodeAt(4);
  if (enc > HLL_MAX_ENCODING) return false;
  if (enc === HLL_DENSE && v.length !== HLL_DENSE_SIZE) return false;
  return true;
}

/** The cached cardinality of a valid HLL string, or null when the cache is stale. */
export function cachedCard(v: string): number | bigint | null {
  if (v.charCodeAt(15) & 0x80) return null;
  let hi = 0;
  for (let i = 15; i >= 12; i--) hi = hi * 256 + v.charCodeAt(i);
  let lo = 0;
  for (let i = 11; i >= 8; i--) lo = lo * 256 + v.charCodeAt(i);
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** A HyperLogLog being read or modified: the value's bytes in a growable buffer. */
export class Hll {
  private constructor(
    private buf: Buffer,
    private len: number,
  ) {}

  /** createHLLObject: an empty sparse HLL (one XZERO covering every register), cache valid at 0. */
  static empty(): Hll {
    const buf = Buffer.alloc(64);
    buf.write('HYLL', 0, 'latin1');
    buf[4] = HLL_SPARSE;
    const l = HLL_REGISTERS - 1;
    buf[16] = (l >> 8) | 0x40;
    buf[17] = l & 0xff;
    return new Hll(buf, HLL_HDR_SIZE + 2);
  }

  /** The bytes of a string value (checked with isHllString first). */
  static fromString(s: string): Hll {
    const len = s.length;
    // Room for a few sparse edits before the first reallocation, plus the terminating zero.
    const buf = Buffer.allocUnsafe(len + 16);
    buf.latin1Write(s, 0, len);
    buf.fill(0, len);
    return new Hll(buf, len);
  }

  toString(): string {
    return this.buf.latin1Slice(0, this.len);
  }

  get encoding(): number {
    return this.buf[4]!;
  }

  get length(): number {
    return this.len;
  }

  invalidateCache(): void {
    this.buf[15] = this.buf[15]! | 0x80;
  }

  /** Stores a uint64 cardinality in the header (this also validates the cache unless ≥ 2^63). */
  setCachedCard(card: number): void {
    let lo = card % 4294967296;
    let hi = Math.floor(card / 4294967296);
    for (let i = 8; i < 12; i++) {
      this.buf[i] = lo & 0xff;
      lo = Math.floor(lo / 256);
    }
    for (let i = 12; i < 16; i++) {
      this.buf[i] = hi & 0xff;
      hi = Math.floor(hi / 256);
    }
  }

  /** hllAdd: 1 if a register changed, 0 if not, -1 on a corrupted sparse HLL. */
  add(ele: string, sparseMaxBytes: number): number {
    const h = murmurHash64A(ele, HASH_SEED);
    const count = patLenOf(h.hi, h.lo);
    return this.set(patIndex, count, sparseMaxBytes);
  }

  /** hllAdd of a uint64 element given as halves (PFSELFTEST). */
  addWord(hi: number, lo: number, sparseMaxBytes: number): number {
    const h = murmurHash64AWord(hi, lo, HASH_SEED);
    const count = patLenOf(h.hi, h.lo);
    return this.set(patIndex, count, sparseMaxBytes);
  }

  /** Raises register `index` to `count` if lower: hllDenseSet / hllSparseSet. */
  set(index: number, count: number, sparseMaxBytes: number): number {
    const enc = this.buf[4];
    if (enc === HLL_DENSE) {
      if (count > denseGet(this.buf, HLL_HDR_SIZE, index)) {
        denseSet(this.buf, HLL_HDR_SIZE, index, count);
        return 1;
      }
      return 0;
    }
    if (enc === HLL_SPARSE) return this.sparseSet(index, count, sparseMaxBytes);
    return -1;
  }

  /** Dense register `index` (the HLL must be dense). */
  register(index: number): number {
    return denseGet(this.buf, HLL_HDR_SIZE, index);
  }

  /** Makes sure `extra` more bytes (plus the terminating zero) fit. */
  private reserve(extra: number): void {
    if (this.len + extra + 1 <= this.buf.length) return;
    const nb = Buffer.alloc(Math.max(this.buf.length * 2, this.len + extra + 1));
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  /**
   * hllSparseSet: finds the opcode covering `index`; when the register must grow, rewrites that
   * opcode as the sequence [ZERO|XZERO|VAL] VAL [ZERO|XZERO|VAL] and merges adjacent equal VALs.
   */
  private sparseSet(index: number, count: number, sparseMaxBytes: number): number {
    if (count > SPARSE_VAL_MAX_VALUE) return this.promote(index, count);
    this.reserve(3);
    let buf = this.buf;
    const sparse = HLL_HDR_SIZE;
    let end = this.len;
    let p = sparse;
    let first = 0;
    let prev = -1;
    let span = 0;
    // Step 1: locate the opcode covering `index`.
    while (p < end) {
      const b = buf[p]!;
      let oplen = 1;
      if (isZero(b)) span = zeroLen(b);
      else if (isVal(b)) span = valLen(b);
      else {
        span = xzeroLen(b, buf[p + 1]!);
        oplen = 2;
      }
      if (index <= first + span - 1) break;
      prev = p;
      p += oplen;
      first += span;
    }
    if (span === 0 || p >= end) return -1;

    const op = buf[p]!;
    let next = isXZero(op) ? p + 2 : p + 1;
    if (next >= end) next = -1;
    const zero = isZero(op);
    const xzero = isXZero(op);
    const runlen = zero ? zeroLen(op) : xzero ? xzeroLen(op, buf[p + 1]!) : valLen(op);

    // Step 2: the trivial in-place cases.
    let inPlace = false;
    if (!zero && !xzero) {
      if (valValue(op) >= count) return 0;
      if (runlen === 1) inPlace = true;
    } else if (zero && runlen === 1) {
      inPlace = true;
    }
    if (inPlace) {
      buf[p] = valOp(count, 1);
    } else {
      // Step 3: split the opcode into up to three.
      const seq = splitSeq;
      let n = 0;
      const last = first + span - 1;
      if (zero || xzero) {
        if (index !== first) n = putZeroRun(seq, n, index - first);
        seq[n++] = valOp(count, 1);
        if (index !== last) n = putZeroRun(seq, n, last - index);
      } else {
        const curval = valValue(op);
        if (index !== first) seq[n++] = valOp(curval, index - first);
        seq[n++] = valOp(count, 1);
        if (index !== last) seq[n++] = valOp(curval, last - index);
      }
      const oldlen = xzero ? 2 : 1;
      const delta = n - oldlen;
      if (delta > 0 && this.len + delta > sparseMaxBytes) return this.promote(index, count);
      if (delta !== 0 && next !== -1) buf.copyWithin(next + delta, next, end);
      this.len += delta;
      for (let i = 0; i < n; i++) buf[p + i] = seq[i]!;
      end += delta;
      buf[this.len] = 0;
    }

    // Step 4: merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes from prev.
    p = prev !== -1 ? prev : sparse;
    let scanlen = 5;
    buf = this.buf;
    while (p < end && scanlen-- > 0) {
      const b = buf[p]!;
      if (isXZero(b)) {
        p += 2;
        continue;
      }
      if (isZero(b)) {
        p++;
        continue;
      }
      if (p + 1 < end && isVal(buf[p + 1]!)) {
        const v1 = valValue(b);
        const v2 = valValue(buf[p + 1]!);
        if (v1 === v2) {
          const l = valLen(b) + valLen(buf[p + 1]!);
          if (l <= SPARSE_VAL_MAX_LEN) {
            buf[p + 1] = valOp(v1, l);
            buf.copyWithin(p, p + 1, end);
            this.len--;
            end--;
            buf[this.len] = 0;
            // Retry at the same position: the merged VAL may merge with its right neighbour.
            continue;
          }
        }
      }
      p++;
    }
    this.invalidateCache();
    return 1;
  }

  /** Promotes to dense and sets the register there (a promotion always changes a register). */
  private promote(index: number, count: number): number {
    if (!this.toDense()) return -1;
    denseSet(this.buf, HLL_HDR_SIZE, index, count);
    return 1;
  }

  /**
   * hllSparseToDense: the header is copied whole (magic, unused bytes, cached cardinality), the
   * encoding becomes dense. False when the opcodes do not cover exactly 16384 registers.
   */
  toDense(): boolean {
    if (this.buf[4] === HLL_DENSE) return true;
    const src = this.buf;
    const end = this.len;
    const dense = Buffer.alloc(HLL_DENSE_SIZE + 1);
    src.copy(dense, 0, 0, HLL_HDR_SIZE);
    dense[4] = HLL_DENSE;
    let idx = 0;
    let p = HLL_HDR_SIZE;
    while (p < end) {
      const b = src[p]!;
      if (isZero(b)) {
        idx += zeroLen(b);
        p++;
      } else if (isXZero(b)) {
        idx += xzeroLen(b, src[p + 1]!);
        p += 2;
      } else {
        let runlen = valLen(b);
        const regval = valValue(b);
        if (runlen + idx > HLL_REGISTERS) break;
        while (runlen-- > 0) denseSet(dense, HLL_HDR_SIZE, idx++, regval);
        p++;
      }
    }
    if (idx !== HLL_REGISTERS) return false;
    this.buf = dense;
    this.len = HLL_DENSE_SIZE;
    return true;
  }

  /** hllCount: the estimated cardinality (uint64 as a number), or null for a corrupted sparse HLL. */
  count(): number | null {
    const h = new Int32Array(64);
    if (this.buf[4] === HLL_DENSE) {
      denseHisto(this.buf, HLL_HDR_SIZE, h);
    } else {
      const buf = this.buf;
      const end = this.len;
      let idx = 0;
      let p = HLL_HDR_SIZE;
      while (p < end) {
        const b = buf[p]!;
        let runlen: number;
        if (isZero(b)) {
          runlen = zeroLen(b);
          h[0] += runlen;
          p++;
        } else if (isXZero(b)) {
          runlen = xzeroLen(b, buf[p + 1]!);
          h[0] += runlen;
          p += 2;
        } else {
          runlen = valLen(b);
          h[valValue(b)] += runlen;
          p++;
        }
        idx += runlen;
      }
      if (idx !== HLL_REGISTERS) return null;
    }
    return estimate(h);
  }

  /** hllMerge: max[i] = max(max[i], register i). False for a corrupted sparse HLL. */
  mergeInto(max: Uint8Array): boolean {
    const buf = this.buf;
    if (buf[4] === HLL_DENSE) {
      for (let i = 0; i < HLL_REGISTERS; i++) {
        const v = denseGet(buf, HLL_HDR_SIZE, i);
        if (v > max[i]!) max[i] = v;
      }
      return true;
    }
    const end = this.len;
    let i = 0;
    let p = HLL_HDR_SIZE;
    while (p < end) {
      const b = buf[p]!;
      if (isZero(b)) {
        i += zeroLen(b);
        p++;
      } else if (isXZero(b)) {
        i += xzeroLen(b, buf[p + 1]!);
        p += 2;
      } else {
        let runlen = valLen(b);
        const regval = valValue(b);
        if (runlen + i > HLL_REGISTERS) break;
        while (runlen-- > 0) {
          if (regval > max[i]!) max[i] = regval;
          i++;
        }
        p++;
      }
    }
    return i === HLL_REGISTERS;
  }

  /** PFDEBUG DECODE: the sparse opcodes as `z:<len>`, `Z:<len>`, `v:<value>,<len>`. */
  decode(): string {
    const buf = this.buf;
    const parts: string[] = [];
    let p = HLL_HDR_SIZE;
    while (p < this.len) {
      const b = buf[p]!;
      if (isZero(b)) {
        parts.push(`z:${zeroLen(b)}`);
        p++;
      } else if (isXZero(b)) {
        parts.push(`Z:${xzeroLen(b, buf[p + 1]!)}`);
        p += 2;
      } else {
        parts.push(`v:${valValue(b)},${valLen(b)}`);
        p++;
      }
    }
    return parts.join(' ');
  }
}

/** Scratch for a split opcode sequence (at most 5 bytes). */
const splitSeq = new Uint8Array(5);

/** Writes a run of `len` zero registers as ZERO (≤ 64) or XZERO; returns the new position. */
function putZeroRun(seq: Uint8Array, n: number, len: number): number {
  if (len > SPARSE_ZERO_MAX_LEN) {
    const l = len - 1;
    seq[n] = (l >> 8) | 0x40;
    seq[n + 1] = l & 0xff;
    return n + 2;
  }
  seq[n] = len - 1;
  return n + 1;
}

/** The cardinality of merged registers (one byte per register: PFCOUNT of several keys). */
export function countRegisters(max: Uint8Array): number {
  const h = new Int32Array(64);
  for (let i = 0; i < HLL_REGISTERS; i++) h[max[i]!]!++;
  return estimate(h);
}

// ---------------------------------------------------------------------------------------------
// PFSELFTEST

const SELFTEST_CYCLES = 1000;
const SELFTEST_ELEMENTS = 10000000;

/**
 * Redis's PFSELFTEST: (1) 1000 rounds of random values written to and read back from every
 * dense register; (2) 10 million distinct elements added to a dense and a sparse HLL side by
 * side, checking at 1, 10, 100... that small sets stay sparse, that both count the same and that
 * the error stays within 6 standard errors.
 *
 * That is seconds of work in JS, so it runs in steps: `run(budgetMs)` works until the budget is
 * spent and returns 'running', or finishes with null (success) or the TESTFAILED message.
 */
export class HllSelfTest {
  private readonly regs = Buffer.alloc(HLL_DENSE_SIZE + 1);
  private readonly bytes = new Uint8Array(HLL_REGISTERS);
  private cycle = 0;
  private dense: Hll | null = null;
  private readonly sparse = Hll.empty();
  private j = 1;
  private checkpoint = 1;
  private readonly seedHi = (Math.random() * 0x80000000) >>> 0;
  private readonly seedLo = (Math.random() * 0x80000000) >>> 0;
  private readonly relerr = 1.04 / Math.sqrt(HLL_REGISTERS);

  constructor(private readonly sparseMaxBytes: number) {}

  run(budgetMs: number): string | null | 'running' {
    const deadline = performance.now() + budgetMs;
    const regs = this.regs;
    const bytes = this.bytes;
    while (this.cycle < SELFTEST_CYCLES) {
      for (let i = 0; i < HLL_REGISTERS; i++) {
        const r = (Math.random() * 64) | 0;
        bytes[i] = r;
        denseSet(regs, HLL_HDR_SIZE, i, r);
      }
      for (let i = 0; i < HLL_REGISTERS; i++) {
        const val = denseGet(regs, HLL_HDR_SIZE, i);
        if (val !== bytes[i]) return `TESTFAILED Register ${i} should be ${bytes[i]} but is ${val}`;
      }
      this.cycle++;
      if (performance.now() >= deadline) return 'running';
    }
    if (this.dense === null) {
      regs.fill(0);
      this.dense = Hll.fromString(regs.latin1Slice(0, HLL_DENSE_SIZE));
    }
    const dense = this.dense;
    const sparse = this.sparse;
    const maxBytes = this.sparseMaxBytes;
    const seedHi = this.seedHi;
    const seedLo = this.seedLo;
    while (this.j <= SELFTEST_ELEMENTS) {
      const j = this.j;
      const stop = Math.min(SELFTEST_ELEMENTS, this.checkpoint, j + 65535);
      // ele = j ^ seed, hashed as its 8 little-endian bytes (seedHi is the high half).
      for (let k = j; k <= stop; k++) {
        const lo = (k ^ seedLo) >>> 0;
        dense.addWord(seedHi, lo, maxBytes);
        sparse.addWord(seedHi, lo, maxBytes);
      }
      this.j = stop + 1;
      if (stop === this.checkpoint) {
        const failure = this.check(stop);
        if (failure !== null) return failure;
        this.checkpoint *= 10;
      }
      if (performance.now() >= deadline && this.j <= SELFTEST_ELEMENTS) return 'running';
    }
    return null;
  }

  private check(j: number): string | null {
    const checkpoint = this.checkpoint;
    if (j < Math.floor(this.sparseMaxBytes / 2) && this.sparse.encoding !== HLL_SPARSE) return 'TESTFAILED sparse encoding not used';
    const card = this.dense!.count()!;
    if (card !== this.sparse.count()) return 'TESTFAILED dense/sparse disagree';
    let maxerr = Math.ceil(this.relerr * 6 * checkpoint);
    // Cardinality 10 sees much bigger errors from time to time because of collisions.
    if (j === 10) maxerr = 1;
    const abserr = Math.abs(checkpoint - card);
    if (abserr > maxerr) return `TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`;
    return null;
  }
}
