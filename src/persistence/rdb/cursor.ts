/**
 * Cursor: reads RDB primitives (rdb.md §3–§4) from a contiguous buffer window.
 *
 * Running out of bytes has two meanings. For a complete input (DUMP payload, final attempt at
 * the end of a file) it is corruption: RdbError. For the incremental loader it only means "not
 * yet": the cursor throws the NEED_MORE sentinel (no stack capture) after recording in
 * `needEnd` how far it wanted to read, and the loader retries the whole record later.
 *
 * Nothing is allocated from a length before checking that the bytes are present.
 */
import { RdbError } from './errors.js';
import { LzfError, lzfDecompress } from './lzf.js';
import { MAX_STRING_LENGTH, RDB_ENC_INT16, RDB_ENC_INT32, RDB_ENC_INT8, RDB_ENC_LZF } from './format.js';

/** Thrown (never escaping the loader) when a record is not complete yet. */
export const NEED_MORE: unique symbol = Symbol('rdb-need-more');

/** liblzf cannot expand input by more than 264 bytes per 3-byte token. */
const LZF_MAX_RATIO = 88;

export class Cursor {
  /** Set with NEED_MORE: the buffer position the failing read wanted to reach. */
  needEnd = 0;

  constructor(
    public buf: Buffer,
    public pos: number,
    public end: number,
    /** True when no more bytes will ever come: short input is a truncation error. */
    public final: boolean,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (this.pos + n <= this.end) return;
    if (this.final) throw new RdbError('Unexpected EOF reading RDB file');
    this.needEnd = this.pos + n;
    throw NEED_MORE;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** int64 little-endian as a number (milliseconds). */
  int64LE(): number {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return Number(v);
  }

  int32LE(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Exactly n raw bytes as a byte string (stream ids). */
  rawString(n: number): string {
    this.need(n);
    const s = this.buf.latin1Slice(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /**
   * A length (§3). Returns -1 - encId for the special `11xxxxxx` form, so callers that expect a
   * plain length can reject it. 64-bit lengths above 2^53 come back as bigint via lenBig only.
   */
  private lenOrEnc(): number {
    this.need(1);
    const b = this.buf[this.pos]!;
    const kind = b >> 6;
    if (kind === 0) {
      this.pos += 1;
      return b & 0x3f;
    }
    if (kind === 1) {
      this.need(2);
      const v = ((b & 0x3f) << 8) | this.buf[this.pos + 1]!;
      this.pos += 2;
      return v;
    }
    if (kind === 3) {
      this.pos += 1;
      return -1 - (b & 0x3f);
    }
    if (b === 0x80) {
      this.need(5);
      const v = this.buf.readUInt32BE(this.pos + 1);
      this.pos += 5;
      return v;
    }
    if (b === 0x81) {
      this.need(9);
      const v = this.buf.readBigUInt64BE(this.pos + 1);
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbError(`Length ${v} is out of range`);
      this.pos += 9;
      return Number(v);
    }
    throw new RdbError(`Unknown length encoding ${b} in rdbLoadLen()`);
  }

  /** A plain length (a count or size). */
  len(): number {
    const v = this.lenOrEnc();
    if (v < 0) throw new RdbError('Unexpected encoded length where a length was expected');
    return v;
  }

  /** A length that may use the full uint64 range (stream ids, entries_read). */
  lenBig(): number | bigint {
    this.need(1);
    if (this.buf[this.pos] === 0x81) {
      this.need(9);
      const v = this.buf.readBigUInt64BE(this.pos + 1);
      this.pos += 9;
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    return this.len();
  }

  /** An RDB string (raw, INT8/16/32 or LZF) as a byte string. */
  str(): string {
    const l = this.lenOrEnc();
    if (l >= 0) {
      if (l > MAX_STRING_LENGTH) throw new RdbError(`String of ${l} bytes is too long to load`);
      this.need(l);
      const s = this.buf.latin1Slice(this.pos, this.pos + l);
      this.pos += l;
      return s;
    }
    const enc = -1 - l;
    switch (enc) {
      case RDB_ENC_INT8:
        this.need(1);
        return String(this.buf.readInt8(this.pos++));
      case RDB_ENC_INT16: {
        this.need(2);
        const v = this.buf.readInt16LE(this.pos);
        this.pos += 2;
        return String(v);
      }
      case RDB_ENC_INT32: {
        this.need(4);
        const v = this.buf.readInt32LE(this.pos);
        this.pos += 4;
        return String(v);
      }
      case RDB_ENC_LZF: {
        const b = this.lzf(MAX_STRING_LENGTH);
        return b.latin1Slice(0, b.length);
      }
      default:
        throw new RdbError(`Unknown RDB string encoding type ${enc}`);
    }
  }

  /** An RDB string holding a binary blob (listpack, intset, ziplist…). */
  blob(): Buffer {
    const l = this.lenOrEnc();
    if (l >= 0) {
      this.need(l);
      const b = this.buf.subarray(this.pos, this.pos + l);
      this.pos += l;
      return b;
    }
    const enc = -1 - l;
    if (enc === RDB_ENC_LZF) return this.lzf(0x7fffffff);
    if (enc <= RDB_ENC_INT32) {
      // An integer-encoded blob is legal in the format (never produced in practice).
      this.pos -= 1;
      return Buffer.from(this.str(), 'latin1');
    }
    throw new RdbError(`Unknown RDB string encoding type ${enc}`);
  }

  private lzf(cap: number): Buffer {
    const clen = this.len();
    const ulen = this.len();
    if (clen === 0 || ulen > cap || ulen > clen * LZF_MAX_RATIO + 32) {
      throw new RdbError(`Invalid LZF compressed string (compressed ${clen}, original ${ulen})`);
    }
    this.need(clen);
    let out: Buffer;
    try {
      out = lzfDecompress(this.buf, this.pos, this.pos + clen, ulen);
    } catch (e) {
      if (e instanceof LzfError) throw new RdbError(`Invalid LZF compressed string: ${e.message}`);
      throw e;
    }
    this.pos += clen;
    return out;
  }
}
