/**
 * CRC-64/Jones as Redis computes it (crc64.c, called as `crc64(0, …)`): reflected polynomial
 * 0x95ac9329ac4bc9b5, initial value 0, no final XOR. Check value for "123456789" is
 * 0xe9c6d914c4b8d9ca (rdb.md §9). It guards RDB files (8-byte LE trailer) and DUMP payloads.
 *
 * The 64-bit state is kept as two unsigned 32-bit halves so the hot loop stays in small-integer
 * arithmetic (BigInt per byte would be two orders of magnitude slower). Slicing-by-8 tables
 * process eight input bytes per step.
 */

const POLY_HI = 0x95ac9329;
const POLY_LO = 0xac4bc9b5;

/** T[k][i] for k = 0..7, split into high and low 32-bit halves. */
const TLO: Uint32Array[] = [];
const THI: Uint32Array[] = [];

(function buildTables() {
  const lo0 = new Uint32Array(256);
  const hi0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let b = 0; b < 8; b++) {
      const bit = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (bit) {
        lo = (lo ^ POLY_LO) >>> 0;
        hi = (hi ^ POLY_HI) >>> 0;
      }
    }
    lo0[i] = lo;
    hi0[i] = hi;
  }
  TLO.push(lo0);
  THI.push(hi0);
  // T[k][i] = T[k-1][i] advanced by one zero byte: (x >> 8) ^ T0[x & 0xff].
  for (let k = 1; k < 8; k++) {
    const plo = TLO[k - 1]!;
    const phi = THI[k - 1]!;
    const lo = new Uint32Array(256);
    const hi = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      const xl = plo[i]!;
      const xh = phi[i]!;
      const idx = xl & 0xff;
      lo[i] = (((xl >>> 8) | ((xh & 0xff) << 24)) ^ lo0[idx]!) >>> 0;
      hi[i] = ((xh >>> 8) ^ hi0[idx]!) >>> 0;
    }
    TLO.push(lo);
    THI.push(hi);
  }
})();

const [L0, L1, L2, L3, L4, L5, L6, L7] = TLO as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
const [H0, H1, H2, H3, H4, H5, H6, H7] = THI as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/** An incremental CRC64 computation. */
export class Crc64 {
  private lo = 0;
  private hi = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    const end8 = end - ((end - start) & 7);
    while (i < end8) {
      const a = (lo ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
      const b = (hi ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24))) >>> 0;
      lo =
        L7[a & 0xff]! ^ L6[(a >>> 8) & 0xff]! ^ L5[(a >>> 16) & 0xff]! ^ L4[a >>> 24]! ^
        L3[b & 0xff]! ^ L2[(b >>> 8) & 0xff]! ^ L1[(b >>> 16) & 0xff]! ^ L0[b >>> 24]!;
      hi =
        H7[a & 0xff]! ^ H6[(a >>> 8) & 0xff]! ^ H5[(a >>> 16) & 0xff]! ^ H4[a >>> 24]! ^
        H3[b & 0xff]! ^ H2[(b >>> 8) & 0xff]! ^ H1[(b >>> 16) & 0xff]! ^ H0[b >>> 24]!;
      i += 8;
    }
    for (; i < end; i++) {
      const idx = (lo ^ buf[i]!) & 0xff;
      lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ L0[idx]!;
      hi = (hi >>> 8) ^ H0[idx]!;
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this;
  }

  /** The CRC as an unsigned 64-bit BigInt. */
  value(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }

  /** The 8-byte little-endian trailer form. */
  bytesLE(): Buffer {
    const b = Buffer.allocUnsafe(8);
    b.writeUInt32LE(this.lo >>> 0, 0);
    b.writeUInt32LE(this.hi >>> 0, 4);
    return b;
  }

  /** True when the 8 bytes at `buf[at]` equal this CRC (little-endian). */
  matchesLE(buf: Uint8Array, at: number): boolean {
    const dv = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    return dv.readUInt32LE(at) === this.lo >>> 0 && dv.readUInt32LE(at + 4) === this.hi >>> 0;
  }
}

/** One-shot CRC64 of a buffer. */
export function crc64(buf: Uint8Array, start = 0, end = buf.length): bigint {
  return new Crc64().update(buf, start, end).value();
}
