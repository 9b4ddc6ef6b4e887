/**
 * LZF compression in the liblzf 3.x format Redis uses for RDB strings (rdb.md §4.1).
 *
 * Token grammar (decoder side):
 *   000LLLLL                 literal run of L+1 bytes (1..32) follows
 *   LLLooooo oooooooo        back-reference, length LLL+2 (3..8), distance (o)+1, LLL in 1..6
 *   111ooooo eeeeeeee oooooooo   long back-reference, length e+9 (9..264)
 * Back-references copy byte by byte, so overlapping copies (distance < length) repeat data.
 *
 * The compressor is a greedy single-pass matcher over a 2^14-entry hash table of 3-byte
 * prefixes. It does not need to produce liblzf's exact bytes (any valid stream loads), only to
 * be reasonably good and fast. The table is shared across calls; entries are stamped with a
 * generation offset so no per-call clearing of the table is needed.
 */

const HLOG = 14;
const HSIZE = 1 << HLOG;
const MAX_LIT = 32;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3); // 264

const htab = new Int32Array(HSIZE);
/** Added to positions stored in htab; entries below it belong to earlier calls. */
let gen = 1;

/**
 * Compresses `input[start, end)`. Returns the compressed bytes, or null when the result would
 * not be smaller than `maxOut` bytes (Redis only keeps LZF output that saves at least 4 bytes:
 * it compresses into a buffer of `len - 4` bytes).
 */
export function lzfCompress(input: Uint8Array, start: number, end: number, maxOut: number): Buffer | null {
  if (end - start < 4 || maxOut <= 1) return null;
  const out = Buffer.allocUnsafe(maxOut);
  const n = lzfCompressInto(input, start, end, out, 0, maxOut);
  return n === 0 ? null : out.subarray(0, n);
}

/**
 * Compresses `input[start, end)` into `out[outStart, outStart + maxOut)` (which must not overlap
 * the input). Returns the compressed size, or 0 when it would not fit in `maxOut` bytes.
 */
export function lzfCompressInto(input: Uint8Array, start: number, end: number, target: Uint8Array, outStart: number, maxOut: number): number {
  const n = end - start;
  if (n < 4 || maxOut <= 1) return 0;
  if (gen + n + 1 > 0x3fffffff) {
    htab.fill(0);
    gen = 1;
  }
  const base = gen - start; // stored value = position + base, always >= gen for this call
  gen += n + 1;
  const out = target;
  const limitOut = outStart + maxOut;
  let op = outStart + 1; // out[outStart] is the length byte of the first literal run
  let lit = 0; // bytes in the current literal run
  let ip = start;
  const limit = end - 2;
  while (ip < limit) {
    const h = (((input[ip]! << 16) | (input[ip + 1]! << 8) | input[ip + 2]!) * 2654435761) >>> (32 - HLOG);
    const stored = htab[h]!;
    htab[h] = ip + base;
    const ref = stored - base;
    const off = ip - ref - 1;
    if (
      stored >= base + start &&
      off >= 0 &&
      off < MAX_OFF &&
      input[ref] === input[ip] &&
      input[ref + 1] === input[ip + 1] &&
      input[ref + 2] === input[ip + 2]
    ) {
      let len = 3;
      const maxLen = Math.min(MAX_REF, end - ip);
      while (len < maxLen && input[ref + len] === input[ip + len]) len++;
      // Close the pending literal run (or drop its unused length byte).
      if (lit > 0) {
        out[op - lit - 1] = lit - 1;
      } else {
        op--;
      }
      const l = len - 2;
      if (op + 3 + 1 > limitOut) return 0;
      if (l < 7) {
        out[op++] = (l << 5) | (off >>> 8);
      } else {
        out[op++] = (7 << 5) | (off >>> 8);
        out[op++] = l - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // reserve the next literal run's length byte
      // Index the positions just after the match start so later data can refer into it.
      const stop = Math.min(ip + len, limit);
      for (let p = ip + 1; p < stop && p < ip + 3; p++) {
        htab[(((input[p]! << 16) | (input[p + 1]! << 8) | input[p + 2]!) * 2654435761) >>> (32 - HLOG)] = p + base;
      }
      ip += len;
      continue;
    }
    if (op >= limitOut) return 0;
    out[op++] = input[ip++]!;
    if (++lit === MAX_LIT) {
      out[op - lit - 1] = MAX_LIT - 1;
      lit = 0;
      op++;
    }
  }
  while (ip < end) {
    if (op >= limitOut) return 0;
    out[op++] = input[ip++]!;
    if (++lit === MAX_LIT) {
      out[op - lit - 1] = MAX_LIT - 1;
      lit = 0;
      op++;
    }
  }
  if (lit > 0) out[op - lit - 1] = lit - 1;
  else op--;
  if (op >= limitOut) return 0;
  return op - outStart;
}

export class LzfError extends Error {}

/**
 * Decompresses `src[start, end)` that must expand to exactly `outLen` bytes. Throws LzfError on
 * any malformed token (reference before the output start, overrun, wrong final size).
 */
export function lzfDecompress(src: Uint8Array, start: number, end: number, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  let ip = start;
  let op = 0;
  while (ip < end) {
    const ctrl = src[ip++]!;
    if (ctrl < 32) {
      const len = ctrl + 1;
      if (op + len > outLen) throw new LzfError('LZF output overrun');
      if (ip + len > end) throw new LzfError('LZF input overrun');
      for (let i = 0; i < len; i++) out[op++] = src[ip++]!;
    } else {
      let len = ctrl >>> 5;
      if (len === 7) {
        if (ip >= end) throw new LzfError('LZF input overrun');
        len += src[ip++]!;
      }
      len += 2;
      if (ip >= end) throw new LzfError('LZF input overrun');
      const ref = op - (((ctrl & 0x1f) << 8) | src[ip++]!) - 1;
      if (ref < 0) throw new LzfError('LZF back reference before output start');
      if (op + len > outLen) throw new LzfError('LZF output overrun');
      if (ref + len <= op) {
        out.copyWithin(op, ref, ref + len);
        op += len;
      } else {
        for (let i = 0; i < len; i++) out[op++] = out[ref + i]!;
      }
    }
  }
  if (op !== outLen) throw new LzfError('LZF output length mismatch');
  return out;
}
