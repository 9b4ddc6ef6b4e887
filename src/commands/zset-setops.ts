/**
 * ZUNION ZINTER ZDIFF, their STORE forms and ZINTERCARD (Redis 7.0
 * zunionInterDiffGenericCommand): sets are accepted as inputs with score 1, WEIGHTS multiply
 * scores (a NaN product counts as 0), AGGREGATE SUM|MIN|MAX combines them (a NaN sum becomes 0).
 */
import type { Client } from '../net/client.js';
import type { SetValue } from '../types/set.js';
import { ZSetValue } from '../types/zset.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import { lookupKeyRead } from './keys-lookup.js';
import { getDouble, storeZsetResult, writeElement, writeElementsHeader } from './zset-common.js';

type Op = 'union' | 'inter' | 'diff';
type Aggregate = 'sum' | 'min' | 'max';

interface Source {
  z: ZSetValue | null;
  s: SetValue | null;
  weight: number;
}

function srcLength(x: Source): number {
  return x.z !== null ? x.z.size : x.s !== null ? x.s.size : 0;
}

/**
 * Iterates a source like zuiNext: zsets from the highest score down (7.0 walks them in reverse
 * to speed up building new lists), sets in their own order with score 1.
 */
function forEachElement(x: Source, fn: (m: string, score: number) => boolean | void): void {
  if (x.z !== null) {
    x.z.forRange(0, x.z.size, true, fn);
  } else if (x.s !== null) {
    for (const m of x.s.members()) if (fn(m, 1) === false) return;
  }
}

function findScore(x: Source, m: string): number | undefined {
  if (x.z !== null) return x.z.score(m);
  if (x.s !== null) return x.s.has(m) ? 1 : undefined;
  return undefined;
}

function aggregate(target: number, v: number, how: Aggregate): number {
  if (how === 'sum') {
    const r = target + v;
    return Number.isNaN(r) ? 0 : r;
  }
  if (how === 'min') return v < target ? v : target;
  return v > target ? v : target;
}

function zsetOp(c: Client, argv: string[], dst: string | null, numkeysIdx: number, op: Op, cardOnly: boolean): void {
  const setnum = parseInt64(argv[numkeysIdx]!);
  if (setnum === null) {
    c.w.error(Err.notInteger);
    return;
  }
  if (setnum < 1) {
    c.w.error(`ERR at least 1 input key is needed for '${argv[0]!.toLowerCase()}' command`);
    return;
  }
  if (setnum > argv.length - (numkeysIdx + 1)) {
    c.w.error(Err.syntax);
    return;
  }
  const src: Source[] = [];
  let j = numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = lookupKeyRead(c, argv[j]!);
    const x: Source = { z: null, s: null, weight: 1 };
    if (v !== undefined) {
      if (typeof v === 'string' || (v.type !== 'zset' && v.type !== 'set')) {
        c.w.error(Err.wrongType);
        return;
      }
      if (v.type === 'zset') x.z = v;
      else x.s = v;
    }
    src.push(x);
  }
  let how: Aggregate = 'sum';
  let withscores = false;
  let limit = 0;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const opt = argv[j]!.toLowerCase();
    if (op !== 'diff' && !cardOnly && remaining >= setnum + 1 && opt === 'weights') {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = getDouble(argv[j]!);
        if (w === null) {
          c.w.error('ERR weight value is not a float');
          return;
        }
        src[i]!.weight = w;
      }
    } else if (op !== 'diff' && !cardOnly && remaining >= 2 && opt === 'aggregate') {
      const a = argv[j + 1]!.toLowerCase();
      if (a === 'sum' || a === 'min' || a === 'max') how = a;
      else {
        c.w.error(Err.syntax);
        return;
      }
      j += 2;
    } else if (remaining >= 1 && dst === null && !cardOnly && opt === 'withscores') {
      withscores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && opt === 'limit') {
      const l = parseInt64(argv[j + 1]!);
      if (l === null || l < 0) {
        c.w.error("ERR LIMIT can't be negative");
        return;
      }
      limit = l;
      j += 2;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  // Smallest inputs first (a stable sort, like glibc's merge-sort qsort).
  if (op !== 'diff') src.sort((a, b) => srcLength(a) - srcLength(b));

  const result = new Map<string, number>();
  let cardinality = 0;
  if (op === 'inter') {
    const first = src[0]!;
    if (srcLength(first) > 0) {
      forEachElement(first, (m, s0) => {
        let score = first.weight * s0;
        if (Number.isNaN(score)) score = 0;
        let k = 1;
        for (; k < src.length; k++) {
          const other = src[k]!;
          let value: number | undefined;
          // The same object as the one iterated: its score is the current one.
          if ((other.z !== null && other.z === first.z) || (other.s !== null && other.s === first.s)) value = s0;
          else value = findScore(other, m);
          if (value === undefined) break;
          score = aggregate(score, value * other.weight, how);
        }
        if (k < src.length) return true;
        if (cardOnly) {
          cardinality++;
          if (limit > 0 && cardinality >= limit) return false;
        } else result.set(m, score);
        return true;
      });
    }
  } else if (op === 'union') {
    for (const x of src) {
      if (srcLength(x) === 0) continue;
      forEachElement(x, (m, s) => {
        let score = x.weight * s;
        if (Number.isNaN(score)) score = 0;
        const prev = result.get(m);
        result.set(m, prev === undefined ? score : aggregate(prev, score, how));
      });
    }
  } else {
    const first = src[0]!;
    if (srcLength(first) > 0) {
      forEachElement(first, (m, s) => {
        for (let k = 1; k < src.length; k++) if (findScore(src[k]!, m) !== undefined) return;
        result.set(m, s);
      });
    }
  }

  if (cardOnly) {
    c.w.int(cardinality);
    return;
  }
  // Redis builds the result as a skiplist zset (keeping -0 scores) and converts a stored one.
  if (dst !== null) {
    const event = op === 'union' ? 'zunionstore' : op === 'inter' ? 'zinterstore' : 'zdiffstore';
    const fromListpack = src.some((x) => x.z !== null && x.z.encoding === 'listpack');
    storeZsetResult(c, dst, ZSetValue.from(result, c.server.config, undefined, fromListpack), event);
    return;
  }
  const z = ZSetValue.from(result, c.server.config, 'skiplist');
  writeElementsHeader(c, z.size, withscores);
  z.forEach((m, s) => {
    writeElement(c, m, s, withscores);
  });
}

export function zunionstoreCommand(c: Client, argv: string[]): void {
  zsetOp(c, argv, argv[1]!, 2, 'union', false);
}
export function zinterstoreCommand(c: Client, argv: string[]): void {
  zsetOp(c, argv, argv[1]!, 2, 'inter', false);
}
export function zdiffstoreCommand(c: Client, argv: string[]): void {
  zsetOp(c, argv, argv[1]!, 2, 'diff', false);
}
export function zunionCommand(c: Client, argv: string[]): void {
  zsetOp(c, argv, null, 1, 'union', false);
}
export function zinterCommand(c: Client, argv: string[]): void {
  zsetOp(c, argv, null, 1, 'inter', false);
}
export function zdiffCommand(c: Client, argv: string[]): void {
  zsetOp(c, argv, null, 1, 'diff', false);
}
export function zintercardCommand(c: Client, argv: string[]): void {
  zsetOp(c, argv, null, 1, 'inter', true);
}
