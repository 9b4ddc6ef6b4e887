/**
 * The compact blob formats found inside RDB values (rdb.md §6): listpack (written and read),
 * intset (written and read), and the legacy ziplist and zipmap (read only).
 *
 * Decoders validate every length against the blob's bounds and throw RdbError instead of
 * reading past the end; they never allocate from a count they have not checked against the
 * bytes that are actually there. Elements come back as byte strings (integers as their decimal
 * text, as Redis returns them); `lpDecodeValues` keeps integers as numbers for the stream codec.
 */
import { RdbError } from './errors.js';
import { packed } from '../../types/packed.js';

// ---------------------------------------------------------------------------------------------
// Canonical integers (Redis string2ll): what listpacks and intsets store as integers.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The int64 value of `s` when it is a canonical integer (no '+', no leading zeros, no '-0', no
 * spaces, fits int64), else null. Small values come back as numbers, the rest as bigints.
 */
export function canonicalInt(s: string): number | bigint | null {
  const len = s.length;
  if (len === 0 || len > 20) return null;
  let i = 0;
  if (s.charCodeAt(0) === 45) {
    if (len === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return len === 1 ? 0 : null;
  if (first < 49 || first > 57) return null;
  let v = 0;
  for (let j = i; j < len; j++) {
    const c = s.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return null;
    v = v * 10 + c;
  }
  if (len - i <= 15) return i === 1 ? -v : v;
  const big = BigInt(s);
  if (big < INT64_MIN || big > INT64_MAX) return null;
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

// ---------------------------------------------------------------------------------------------
// Listpack writer

/** Builds one listpack. Reusable: `reset()` then `append()` … `finish()`. */
export class ListpackBuilder {
  private buf = Buffer.allocUnsafe(256);
  private pos = 6;
  private count = 0;

  reset(): void {
    this.pos = 6;
    this.count = 0;
  }

  get entries(): number {
    return this.count;
  }

  /** Bytes the listpack would have if finished now. */
  get bytes(): number {
    return this.pos + 1;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  /** Appends an element, as an integer when it is a canonical int64 (lpAppend's rule). */
  append(s: string): void {
    const iv = s.length <= 20 ? canonicalInt(s) : null;
    if (iv !== null) this.appendInt(iv);
    else this.appendString(s);
  }

  appendInt(v: number | bigint): void {
    this.ensure(10);
    const b = this.buf;
    const start = this.pos;
    let p = start;
    if (typeof v === 'bigint') {
      if (v >= -(2n ** 31n) && v < 2n ** 31n) return this.appendInt(Number(v));
      b[p++] = 0xf4;
      b.writeBigInt64LE(v, p);
      p += 8;
    } else if (v >= 0 && v <= 127) {
      b[p++] = v;
    } else if (v >= -4096 && v <= 4095) {
      const u = v & 0x1fff;
      b[p++] = 0xc0 | (u >> 8);
      b[p++] = u & 0xff;
    } else if (v >= -32768 && v <= 32767) {
      b[p++] = 0xf1;
      b.writeInt16LE(v, p);
      p += 2;
    } else if (v >= -8388608 && v <= 8388607) {
      b[p++] = 0xf2;
      b.writeIntLE(v, p, 3);
      p += 3;
    } else if (v >= -2147483648 && v <= 2147483647) {
      b[p++] = 0xf3;
      b.writeInt32LE(v, p);
      p += 4;
    } else {
      b[p++] = 0xf4;
      b.writeBigInt64LE(BigInt(v), p);
      p += 8;
    }
    this.pos = p;
    this.backlen(p - start);
    this.count++;
  }

  appendString(s: string): void {
    const len = s.length;
    this.ensure(len + 10);
    const b = this.buf;
    const start = this.pos;
    let p = start;
    if (len <= 63) {
      b[p++] = 0x80 | len;
    } else if (len <= 4095) {
      b[p++] = 0xe0 | (len >> 8);
      b[p++] = len & 0xff;
    } else {
      b[p++] = 0xf0;
      b.writeUInt32LE(len, p);
      p += 4;
    }
    p += b.latin1Write(s, p, len);
    this.pos = p;
    this.backlen(p - start);
    this.count++;
  }

  private backlen(l: number): void {
    const b = this.buf;
    let p = this.pos;
    if (l <= 127) {
      b[p++] = l;
    } else if (l < 16383) {
      b[p++] = l >>> 7;
      b[p++] = (l & 127) | 128;
    } else if (l < 2097151) {
      b[p++] = l >>> 14;
      b[p++] = ((l >>> 7) & 127) | 128;
      b[p++] = (l & 127) | 128;
    } else if (l < 268435455) {
      b[p++] = l >>> 21;
      b[p++] = ((l >>> 14) & 127) | 128;
      b[p++] = ((l >>> 7) & 127) | 128;
      b[p++] = (l & 127) | 128;
    } else {
      b[p++] = Math.floor(l / 2 ** 28);
      b[p++] = ((l >>> 21) & 127) | 128;
      b[p++] = ((l >>> 14) & 127) | 128;
      b[p++] = ((l >>> 7) & 127) | 128;
      b[p++] = (l & 127) | 128;
    }
    this.pos = p;
  }

  /** The finished listpack (a view into the builder's buffer: copy or consume before reuse). */
  finish(): Buffer {
    this.ensure(1);
    this.buf[this.pos] = 0xff;
    const total = this.pos + 1;
    this.buf.writeUInt32LE(total, 0);
    this.buf.writeUInt16LE(this.count >= 65535 ? 65535 : this.count, 4);
    return this.buf.subarray(0, total);
  }
}

/** Encodes a whole listpack from a list of elements. */
export function lpEncode(items: Iterable<string>): Buffer {
  const b = new ListpackBuilder();
  for (const s of items) b.append(s);
  return Buffer.from(b.finish());
}

// ---------------------------------------------------------------------------------------------
// Listpack reader

function corrupt(what: string): never {
  throw new RdbError(`Bad ${what} encoding: blob is corrupt`);
}

/**
 * Walks a listpack, calling `onInt` / `onStr` for each element in order, after validating the
 * header, every entry header, every backlen and the terminator. Returns the element count.
 */
function lpWalk(
  b: Buffer,
  onInt: (v: number | bigint) => void,
  onStr: (start: number, end: number) => void,
): number {
  const size = b.length;
  if (size < 7) corrupt('listpack');
  if (b.readUInt32LE(0) !== size) corrupt('listpack');
  const declared = b.readUInt16LE(4);
  if (b[size - 1] !== 0xff) corrupt('listpack');
  let p = 6;
  let n = 0;
  const end = size - 1;
  while (p < end) {
    const start = p;
    const c = b[p]!;
    if (c < 0x80) {
      p += 1;
      onInt(c);
    } else if (c < 0xc0) {
      const len = c & 0x3f;
      p += 1;
      if (p + len > end) corrupt('listpack');
      onStr(p, p + len);
      p += len;
    } else if (c < 0xe0) {
      if (p + 2 > end) corrupt('listpack');
      let v = ((c & 0x1f) << 8) | b[p + 1]!;
      if (v >= 4096) v -= 8192;
      p += 2;
      onInt(v);
    } else if (c < 0xf0) {
      if (p + 2 > end) corrupt('listpack');
      const len = ((c & 0x0f) << 8) | b[p + 1]!;
      p += 2;
      if (p + len > end) corrupt('listpack');
      onStr(p, p + len);
      p += len;
    } else {
      switch (c) {
        case 0xf0: {
          if (p + 5 > end) corrupt('listpack');
          const len = b.readUInt32LE(p + 1);
          p += 5;
          if (len > end - p) corrupt('listpack');
          onStr(p, p + len);
          p += len;
          break;
        }
        case 0xf1:
          if (p + 3 > end) corrupt('listpack');
          onInt(b.readInt16LE(p + 1));
          p += 3;
          break;
        case 0xf2:
          if (p + 4 > end) corrupt('listpack');
          onInt(b.readIntLE(p + 1, 3));
          p += 4;
          break;
        case 0xf3:
          if (p + 5 > end) corrupt('listpack');
          onInt(b.readInt32LE(p + 1));
          p += 5;
          break;
        case 0xf4: {
          if (p + 9 > end) corrupt('listpack');
          const v = b.readBigInt64LE(p + 1);
          onInt(v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v);
          p += 9;
          break;
        }
        default:
          corrupt('listpack');
      }
    }
    // backlen: must encode exactly the entry size (encoding + data).
    const l = p - start;
    const bl = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    if (p + bl > end) corrupt('listpack');
    let v = b[p]! & 127;
    for (let i = 1; i < bl; i++) v = v * 128 + (b[p + i]! & 127);
    if (v !== l) corrupt('listpack');
    p += bl;
    n++;
  }
  if (p !== end) corrupt('listpack');
  if (declared !== 65535 && declared !== n) corrupt('listpack');
  return n;
}

/** The elements of a listpack as byte strings. */
export function lpDecode(b: Buffer): string[] {
  const out: string[] = [];
  lpWalk(
    b,
    (v) => out.push(String(v)),
    (s, e) => out.push(b.latin1Slice(s, e)),
  );
  return out;
}

/**
 * Decodes a listpack straight into a packed string (types/packed.ts) without a string per
 * element: the loaders' path for small hashes. Integers become their decimal text, as in
 * lpDecode. Returns the element count and the longest element's length too.
 */
export function lpToPacked(b: Buffer): { p: string; count: number; maxLen: number } {
  const out = packed.begin();
  let maxLen = 0;
  const count = lpWalk(
    b,
    (v) => {
      const s = String(v);
      if (s.length > maxLen) maxLen = s.length;
      out.element(s);
    },
    (s, e) => {
      if (e - s > maxLen) maxLen = e - s;
      out.bytes(b, s, e);
    },
  );
  return { p: out.finish(), count, maxLen };
}

/** Like lpDecode but integers stay numbers (or bigints beyond 2^53): used by the stream codec. */
export function lpDecodeValues(b: Buffer): (string | number | bigint)[] {
  const out: (string | number | bigint)[] = [];
  lpWalk(
    b,
    (v) => out.push(v),
    (s, e) => out.push(b.latin1Slice(s, e)),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ziplist (legacy, read only)

export function zlDecode(b: Buffer): string[] {
  const size = b.length;
  if (size < 11) corrupt('ziplist');
  if (b.readUInt32LE(0) !== size) corrupt('ziplist');
  const tail = b.readUInt32LE(4);
  const declared = b.readUInt16LE(8);
  if (b[size - 1] !== 0xff) corrupt('ziplist');
  const end = size - 1;
  const out: string[] = [];
  let p = 10;
  let prevLen = 0;
  let lastStart = 10;
  while (p < end) {
    const start = p;
    lastStart = start;
    // prevlen
    let pl: number;
    if (b[p]! < 254) {
      pl = b[p]!;
      p += 1;
    } else {
      if (b[p] !== 254 || p + 5 > end) corrupt('ziplist');
      pl = b.readUInt32LE(p + 1);
      p += 5;
    }
    if (pl !== prevLen) corrupt('ziplist');
    if (p >= end) corrupt('ziplist');
    const c = b[p]!;
    const top = c >> 6;
    if (top === 0) {
      const len = c & 0x3f;
      p += 1;
      if (p + len > end) corrupt('ziplist');
      out.push(b.latin1Slice(p, p + len));
      p += len;
    } else if (top === 1) {
      if (p + 2 > end) corrupt('ziplist');
      const len = ((c & 0x3f) << 8) | b[p + 1]!;
      p += 2;
      if (p + len > end) corrupt('ziplist');
      out.push(b.latin1Slice(p, p + len));
      p += len;
    } else if (top === 2) {
      if (c !== 0x80 || p + 5 > end) corrupt('ziplist');
      const len = b.readUInt32BE(p + 1);
      p += 5;
      if (len > end - p) corrupt('ziplist');
      out.push(b.latin1Slice(p, p + len));
      p += len;
    } else {
      p += 1;
      switch (c) {
        case 0xc0:
          if (p + 2 > end) corrupt('ziplist');
          out.push(String(b.readInt16LE(p)));
          p += 2;
          break;
        case 0xd0:
          if (p + 4 > end) corrupt('ziplist');
          out.push(String(b.readInt32LE(p)));
          p += 4;
          break;
        case 0xe0:
          if (p + 8 > end) corrupt('ziplist');
          out.push(b.readBigInt64LE(p).toString());
          p += 8;
          break;
        case 0xf0:
          if (p + 3 > end) corrupt('ziplist');
          out.push(String(b.readIntLE(p, 3)));
          p += 3;
          break;
        case 0xfe:
          if (p + 1 > end) corrupt('ziplist');
          out.push(String(b.readInt8(p)));
          p += 1;
          break;
        default:
          if (c >= 0xf1 && c <= 0xfd) out.push(String((c & 0x0f) - 1));
          else corrupt('ziplist');
      }
    }
    prevLen = p - start;
  }
  if (p !== end) corrupt('ziplist');
  if (out.length > 0 && tail !== lastStart) corrupt('ziplist');
  if (out.length === 0 && tail !== 10) corrupt('ziplist');
  if (declared !== 65535 && declared !== out.length) corrupt('ziplist');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Intset

/** Encodes sorted unique integers with the smallest width that fits all of them. */
export function intsetEncode(values: (number | bigint)[]): Buffer {
  const sorted = values.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let width = 2;
  for (const v of sorted) {
    if (typeof v === 'bigint' || v < -2147483648 || v > 2147483647) {
      width = 8;
      break;
    }
    if (v < -32768 || v > 32767) width = 4;
  }
  const b = Buffer.allocUnsafe(8 + width * sorted.length);
  b.writeUInt32LE(width, 0);
  b.writeUInt32LE(sorted.length, 4);
  let p = 8;
  for (const v of sorted) {
    if (width === 2) b.writeInt16LE(v as number, p);
    else if (width === 4) b.writeInt32LE(v as number, p);
    else b.writeBigInt64LE(BigInt(v), p);
    p += width;
  }
  return b;
}

export function intsetDecode(b: Buffer): string[] {
  if (b.length < 8) corrupt('intset');
  const width = b.readUInt32LE(0);
  if (width !== 2 && width !== 4 && width !== 8) corrupt('intset');
  const n = b.readUInt32LE(4);
  if (8 + n * width !== b.length) corrupt('intset');
  const out: string[] = new Array<string>(n);
  let prev: bigint | number | null = null;
  for (let i = 0, p = 8; i < n; i++, p += width) {
    const v: number | bigint = width === 2 ? b.readInt16LE(p) : width === 4 ? b.readInt32LE(p) : b.readBigInt64LE(p);
    if (prev !== null && !(v > prev)) corrupt('intset');
    prev = v;
    out[i] = v.toString();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Zipmap (type 9, Redis ≤ 2.4; read only)

export function zipmapDecode(b: Buffer): [string, string][] {
  const end = b.length;
  if (end < 2) corrupt('zipmap');
  let p = 1; // zmlen: informational only
  const out: [string, string][] = [];
  const readLen = (): number => {
    if (p >= end) corrupt('zipmap');
    const c = b[p]!;
    if (c < 254) {
      p += 1;
      return c;
    }
    if (c !== 254 || p + 5 > end) corrupt('zipmap');
    const v = b.readUInt32LE(p + 1);
    p += 5;
    return v;
  };
  for (;;) {
    if (p >= end) corrupt('zipmap');
    if (b[p] === 0xff) {
      p++;
      break;
    }
    const klen = readLen();
    if (klen > end - p) corrupt('zipmap');
    const key = b.latin1Slice(p, p + klen);
    p += klen;
    const vlen = readLen();
    if (p >= end) corrupt('zipmap');
    const free = b[p++]!;
    if (vlen + free > end - p) corrupt('zipmap');
    const val = b.latin1Slice(p, p + vlen);
    p += vlen + free;
    out.push([key, val]);
  }
  if (p !== end) corrupt('zipmap');
  return out;
}
