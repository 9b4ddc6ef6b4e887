/**
 * RdbOut: an append-only byte builder with the RDB primitive encoders (rdb.md §3–§4) — lengths,
 * strings (INT8/16/32, LZF or raw, chosen exactly as Redis's rdbSaveRawString does), 64-bit
 * little-endian times and doubles. The snapshotter cuts it into chunks with `take()`; DUMP
 * uses it whole.
 */
import { lzfCompressInto } from './lzf.js';

const INITIAL = 64 * 1024;

export class RdbOut {
  private buf: Buffer;
  pos = 0;

  constructor(
    /** rdbcompression: LZF for strings longer than 20 bytes. */
    public compress = true,
    initial = INITIAL,
    /** Where fresh buffers come from after take() (the snapshot recycles released chunks). */
    private readonly alloc: (size: number) => Buffer = (size) => Buffer.allocUnsafe(size),
  ) {
    this.buf = alloc(initial);
  }

  get length(): number {
    return this.pos;
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  /** Hands over the bytes written so far and starts a fresh buffer. */
  take(): Buffer {
    return this.takeWithBacking().chunk;
  }

  /** Like take(), also returning the whole buffer the chunk is a view of (for recycling). */
  takeWithBacking(): { chunk: Buffer; backing: Buffer } {
    const backing = this.buf;
    const chunk = backing.subarray(0, this.pos);
    this.buf = this.alloc(INITIAL);
    this.pos = 0;
    return { chunk, backing };
  }

  /** Overwrites an already written byte (the type byte of a record, known only afterwards). */
  setByte(at: number, v: number): void {
    this.buf[at] = v;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A byte string written verbatim (no length): 16-byte stream ids. */
  rawString(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.latin1Write(s, this.pos, s.length);
  }

  /** Length encoding (§3); accepts values up to 2^64-1 as bigint. */
  len(n: number | bigint): void {
    this.ensure(9);
    const b = this.buf;
    if (typeof n === 'number' && n < 64) {
      b[this.pos++] = n;
    } else if (typeof n === 'number' && n < 16384) {
      b[this.pos++] = 0x40 | (n >> 8);
      b[this.pos++] = n & 0xff;
    } else if (typeof n === 'number' && n <= 0xffffffff) {
      b[this.pos++] = 0x80;
      b.writeUInt32BE(n, this.pos);
      this.pos += 4;
    } else {
      const big = BigInt(n);
      if (big < 64n || big <= 0xffffffffn) return this.len(Number(big));
      b[this.pos++] = 0x81;
      b.writeBigUInt64BE(big, this.pos);
      this.pos += 8;
    }
  }

  /** int64 little-endian milliseconds (EXPIRETIME_MS, PEL delivery times). */
  ms(v: number): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(BigInt(Math.trunc(v)), this.pos);
    this.pos += 8;
  }

  /** binary64 little-endian (ZSET_2 scores). */
  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** A string value: integer form when canonical int32, LZF when it pays, else raw. */
  string(s: string): void {
    const len = s.length;
    if (len <= 11 && len > 0 && this.tryInt(s)) return;
    if (this.compress && len > 20) {
      // Write the raw bytes past the largest possible header, compress them in front.
      this.ensure(2 * len + 32);
      const src = this.pos + 11 + len;
      this.buf.latin1Write(s, src, len);
      if (this.lzfFrom(src, len)) return;
      this.len(len);
      this.buf.copyWithin(this.pos, src, src + len);
      this.pos += len;
      return;
    }
    this.len(len);
    this.ensure(len);
    this.pos += this.buf.latin1Write(s, this.pos, len);
  }

  /** A binary blob (listpack, intset) written as an RDB string: LZF when it pays, else raw. */
  blob(data: Uint8Array): void {
    const len = data.length;
    if (this.compress && len > 20) {
      this.ensure(2 * len + 32);
      const src = this.pos + 11 + len;
      this.buf.set(data, src);
      if (this.lzfFrom(src, len)) return;
    }
    this.len(len);
    this.raw(data);
  }

  /**
   * Compresses buf[src, src+len) and writes the C3 form at pos. False if it would not pay.
   * The compressed bytes go to pos+11 (past the largest header) and are moved down once the
   * header size is known: no allocation per string.
   */
  private lzfFrom(src: number, len: number): boolean {
    const at = this.pos + 11;
    const clen = lzfCompressInto(this.buf, src, src + len, this.buf, at, len - 4);
    if (clen === 0) return false;
    this.buf[this.pos++] = 0xc3;
    this.len(clen);
    this.len(len);
    this.buf.copyWithin(this.pos, at, at + clen);
    this.pos += clen;
    return true;
  }

  private tryInt(s: string): boolean {
    let i = 0;
    const len = s.length;
    if (s.charCodeAt(0) === 45) {
      if (len === 1) return false;
      i = 1;
    }
    const first = s.charCodeAt(i);
    if (first === 48) {
      if (len !== 1) return false;
    } else if (first < 49 || first > 57) {
      return false;
    }
    let v = 0;
    for (let j = i; j < len; j++) {
      const c = s.charCodeAt(j) - 48;
      if (c < 0 || c > 9) return false;
      v = v * 10 + c;
    }
    if (i === 1) v = -v;
    this.ensure(5);
    const b = this.buf;
    if (v >= -128 && v <= 127) {
      b[this.pos++] = 0xc0;
      b.writeInt8(v, this.pos);
      this.pos += 1;
    } else if (v >= -32768 && v <= 32767) {
      b[this.pos++] = 0xc1;
      b.writeInt16LE(v, this.pos);
      this.pos += 2;
    } else if (v >= -2147483648 && v <= 2147483647) {
      b[this.pos++] = 0xc2;
      b.writeInt32LE(v, this.pos);
      this.pos += 4;
    } else {
      return false;
    }
    return true;
  }
}
