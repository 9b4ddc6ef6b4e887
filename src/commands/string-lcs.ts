/**
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] (Redis 7.0 t_string.c lcsCommand).
 *
 * The classic dynamic-programming table, walked back from the end to rebuild the subsequence
 * and the matched ranges. The walk and the range bookkeeping follow Redis step by step, so the
 * ranges (and their order: last match first) are the ones Redis reports. Like Redis, the
 * transient table is limited to proto-max-bulk-len bytes (4 bytes per cell).
 */
import type { Client } from '../net/client.js';
import { Err } from '../protocol/errors.js';
import { parseInteger } from '../util/numbers.js';
import { lookupKeyRead } from './keys-lookup.js';

export function lcsCommand(c: Client, argv: string[]): void {
  const oa = lookupKeyRead(c, argv[1]!);
  const ob = lookupKeyRead(c, argv[2]!);
  if ((oa !== undefined && typeof oa !== 'string') || (ob !== undefined && typeof ob !== 'string')) {
    c.w.error('ERR The specified keys must contain string values');
    return;
  }
  const a = (oa as string | undefined) ?? '';
  const b = (ob as string | undefined) ?? '';
  let getIdx = false;
  let getLen = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const moreArgs = argv.length - 1 - j;
    if (opt === 'idx') getIdx = true;
    else if (opt === 'len') getLen = true;
    else if (opt === 'withmatchlen') withMatchLen = true;
    else if (opt === 'minmatchlen' && moreArgs > 0) {
      const n = parseInteger(argv[j + 1]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      minMatchLen = n < 0 ? 0 : typeof n === 'bigint' ? Number.MAX_SAFE_INTEGER : n;
      j++;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  if (getIdx && getLen) {
    c.w.error('ERR If you want both the length and indexes, please just use IDX.');
    return;
  }
  const alen = a.length;
  const blen = b.length;
  const cells = (alen + 1) * (blen + 1);
  if (cells * 4 > c.server.config.int('proto-max-bulk-len')) {
    c.w.error('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
    return;
  }
  let dp: Uint32Array;
  try {
    dp = new Uint32Array(cells);
  } catch {
    c.w.error('ERR Insufficient memory, failed allocating transient memory for LCS');
    return;
  }
  const w = blen + 1;
  for (let i = 1; i <= alen; i++) {
    const ai = a.charCodeAt(i - 1);
    const row = i * w;
    const prev = row - w;
    for (let j = 1; j <= blen; j++) {
      if (ai === b.charCodeAt(j - 1)) dp[row + j] = dp[prev + j - 1]! + 1;
      else {
        const l1 = dp[prev + j]!;
        const l2 = dp[row + j - 1]!;
        dp[row + j] = l1 > l2 ? l1 : l2;
      }
    }
  }
  const total = dp[alen * w + blen]!;
  if (getLen) {
    c.w.int(total);
    return;
  }
  // Walk back from (alen, blen): collect the subsequence and, for IDX, the contiguous ranges.
  const out: number[] = new Array<number>(total);
  let idx = total;
  const ranges: number[][] = [];
  let aStart = alen; // alen means "no open range"
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      out[idx - 1] = a.charCodeAt(i - 1);
      if (aStart === alen) {
        aStart = i - 1;
        aEnd = i - 1;
        bStart = j - 1;
        bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      const l1 = dp[(i - 1) * w + j]!;
      const l2 = dp[i * w + j - 1]!;
      if (l1 > l2) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (getIdx && (minMatchLen === 0 || matchLen >= minMatchLen)) ranges.push([aStart, aEnd, bStart, bEnd, matchLen]);
      aStart = alen;
    }
  }
  if (!getIdx) {
    c.w.bulk(bytesFrom(out, total));
    return;
  }
  c.w.map(2);
  c.w.bulk('matches');
  c.w.array(ranges.length);
  for (const r of ranges) {
    c.w.array(withMatchLen ? 3 : 2);
    c.w.array(2);
    c.w.int(r[0]!);
    c.w.int(r[1]!);
    c.w.array(2);
    c.w.int(r[2]!);
    c.w.int(r[3]!);
    if (withMatchLen) c.w.int(r[4]!);
  }
  c.w.bulk('len');
  c.w.int(total);
}

/** Builds a byte string from char codes in chunks (fromCharCode.apply has an argument limit). */
function bytesFrom(codes: number[], n: number): string {
  let s = '';
  for (let k = 0; k < n; k += 8192) s += String.fromCharCode.apply(null, codes.slice(k, Math.min(n, k + 8192)));
  return s;
}
