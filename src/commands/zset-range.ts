/**
 * Sorted-set range commands: ZRANGE (unified BYSCORE/BYLEX/REV/LIMIT/WITHSCORES), ZRANGESTORE,
 * the legacy ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE, and
 * ZREMRANGEBYRANK / BYSCORE / BYLEX — Redis 7.0's zrangeGenericCommand argument rules.
 */
import type { Client } from '../net/client.js';
import { ZSetValue } from '../types/zset.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import {
  ERR_MINMAX_FLOAT,
  ERR_MINMAX_LEX,
  lexRankSpan,
  parseLexRange,
  parseScoreRange,
  readZset,
  scoreRankSpan,
  storeZsetResult,
  writeElement,
  writeElementsHeader,
  writeZset,
  type LexRange,
  type ScoreRange,
} from './zset-common.js';

type RangeType = 'auto' | 'rank' | 'score' | 'lex';
type Direction = 'auto' | 'forward' | 'reverse';

/** Where range results go: the client, or the destination zset of ZRANGESTORE. */
interface Sink {
  store: boolean;
  withscores: boolean;
  members: string[];
  scores: number[];
}

/** getLongFromObjectOrReply. */
function longArg(c: Client, s: string): number | null {
  const n = parseInt64(s);
  if (n === null) c.w.error(Err.notInteger);
  return n;
}

/**
 * Emits the elements of ranks [lo, hi): ascending, or from hi-1 down when `reverse`.
 */
function emitRanks(c: Client, z: ZSetValue, lo: number, hi: number, reverse: boolean, sink: Sink): void {
  const n = Math.max(0, hi - lo);
  if (!sink.store) writeElementsHeader(c, n, sink.withscores);
  if (n === 0) return;
  if (sink.store) {
    const ms = sink.members;
    const ss = sink.scores;
    z.forRange(lo, hi, reverse, (m, s) => {
      ms.push(m);
      ss.push(s);
    });
  } else {
    const withscores = sink.withscores;
    z.forRange(lo, hi, reverse, (m, s) => {
      writeElement(c, m, s, withscores);
    });
  }
}

/** Applies LIMIT offset/count to a span [a, b) the way Redis's `while (offset--)` loops do. */
function limitSpan(a: number, b: number, size: number, offset: number, limit: number, reverse: boolean): [number, number] {
  if (offset > 0 && offset >= size) return [0, 0];
  if (offset < 0) return [0, 0]; // `while (ln && offset--)` walks off the end
  if (!reverse) {
    const lo = a + offset;
    const hi = limit < 0 ? b : Math.min(b, lo + limit);
    return lo >= b ? [0, 0] : [lo, hi];
  }
  const hi = b - offset;
  const lo = limit < 0 ? a : Math.max(a, hi - limit);
  return hi <= a ? [0, 0] : [lo, hi];
}

/**
 * zrangeGenericCommand: `argStart` is the index of the source key; `store` for ZRANGESTORE.
 */
function zrangeGeneric(c: Client, argv: string[], argStart: number, store: boolean, rangeType: RangeType, direction: Direction): void {
  const key = argv[argStart]!;
  let minIdx = argStart + 1;
  let maxIdx = argStart + 2;
  let withscores = false;
  let offset = 0;
  let limit = -1;
  for (let j = argStart + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j]!.toLowerCase();
    if (!store && opt === 'withscores') withscores = true;
    else if (opt === 'limit' && left >= 2) {
      const o = longArg(c, argv[j + 1]!);
      if (o === null) return;
      const l = longArg(c, argv[j + 2]!);
      if (l === null) return;
      offset = o;
      limit = l;
      j += 2;
    } else if (direction === 'auto' && opt === 'rev') direction = 'reverse';
    else if (rangeType === 'auto' && opt === 'bylex') rangeType = 'lex';
    else if (rangeType === 'auto' && opt === 'byscore') rangeType = 'score';
    else {
      c.w.error(Err.syntax);
      return;
    }
  }
  if (direction === 'auto') direction = 'forward';
  if (rangeType === 'auto') rangeType = 'rank';
  if (limit !== -1 && rangeType === 'rank') {
    c.w.error('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
    return;
  }
  if (withscores && rangeType === 'lex') {
    c.w.error('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
    return;
  }
  const reverse = direction === 'reverse';
  if (reverse && rangeType !== 'rank') {
    // The range is given as max, min.
    const t = maxIdx;
    maxIdx = minIdx;
    minIdx = t;
  }
  let start = 0;
  let end = 0;
  let srange: ScoreRange | null = null;
  let lrange: LexRange | null = null;
  if (rangeType === 'rank') {
    const s = longArg(c, argv[minIdx]!);
    if (s === null) return;
    const e = longArg(c, argv[maxIdx]!);
    if (e === null) return;
    start = s;
    end = e;
  } else if (rangeType === 'score') {
    srange = parseScoreRange(argv[minIdx]!, argv[maxIdx]!);
    if (srange === null) {
      c.w.error(ERR_MINMAX_FLOAT);
      return;
    }
  } else {
    lrange = parseLexRange(argv[minIdx]!, argv[maxIdx]!);
    if (lrange === null) {
      c.w.error(ERR_MINMAX_LEX);
      return;
    }
  }
  const sink: Sink = { store, withscores, members: [], scores: [] };
  const z = readZset(c, key);
  if (z === null) return;
  if (z === undefined) {
    if (store) storeRange(c, argv[1]!, sink, false);
    else c.w.array(0);
    return;
  }
  const size = z.size;
  if (rangeType === 'rank') {
    if (start < 0) start = size + start;
    if (end < 0) end = size + end;
    if (start < 0) start = 0;
    if (start > end || start >= size) emitRanks(c, z, 0, 0, false, sink);
    else {
      if (end >= size) end = size - 1;
      if (reverse) emitRanks(c, z, size - 1 - end, size - start, true, sink);
      else emitRanks(c, z, start, end + 1, false, sink);
    }
  } else {
    const [a, b] = srange !== null ? scoreRankSpan(z, srange) : lexRankSpan(z, lrange!);
    const [lo, hi] = limitSpan(a, b, size, offset, limit, reverse);
    emitRanks(c, z, lo, hi, reverse, sink);
  }
  if (store) storeRange(c, argv[1]!, sink, z.encoding === 'listpack');
}

/** `fromListpack`: the members may be slices of a listpack zset (see ZSetValue.from). */
function storeRange(c: Client, dst: string, sink: Sink, fromListpack: boolean): void {
  const pairs: [string, number][] = new Array(sink.members.length);
  for (let i = 0; i < pairs.length; i++) pairs[i] = [sink.members[i]!, sink.scores[i]!];
  storeZsetResult(c, dst, ZSetValue.from(pairs, c.server.config, undefined, fromListpack), 'zrangestore');
}

export function zrangeCommand(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, 'auto', 'auto');
}

export function zrangestoreCommand(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 2, true, 'auto', 'auto');
}

export function zrevrangeCommand(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, 'rank', 'reverse');
}

export function zrangebyscoreCommand(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, 'score', 'forward');
}

export function zrevrangebyscoreCommand(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, 'score', 'reverse');
}

export function zrangebylexCommand(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, 'lex', 'forward');
}

export function zrevrangebylexCommand(c: Client, argv: string[]): void {
  zrangeGeneric(c, argv, 1, false, 'lex', 'reverse');
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBY*

function zremrangeGeneric(c: Client, argv: string[], type: 'rank' | 'score' | 'lex'): void {
  const key = argv[1]!;
  let start = 0;
  let end = 0;
  let srange: ScoreRange | null = null;
  let lrange: LexRange | null = null;
  if (type === 'rank') {
    const s = longArg(c, argv[2]!);
    if (s === null) return;
    const e = longArg(c, argv[3]!);
    if (e === null) return;
    start = s;
    end = e;
  } else if (type === 'score') {
    srange = parseScoreRange(argv[2]!, argv[3]!);
    if (srange === null) {
      c.w.error(ERR_MINMAX_FLOAT);
      return;
    }
  } else {
    lrange = parseLexRange(argv[2]!, argv[3]!);
    if (lrange === null) {
      c.w.error(ERR_MINMAX_LEX);
      return;
    }
  }
  const z = writeZset(c, key);
  if (z === null) return;
  if (z === undefined) {
    c.w.int(0);
    return;
  }
  let lo: number;
  let hi: number;
  if (type === 'rank') {
    const size = z.size;
    if (start < 0) start = size + start;
    if (end < 0) end = size + end;
    if (start < 0) start = 0;
    if (start > end || start >= size) {
      c.w.int(0);
      return;
    }
    if (end >= size) end = size - 1;
    lo = start;
    hi = end + 1;
  } else {
    [lo, hi] = srange !== null ? scoreRankSpan(z, srange) : lexRankSpan(z, lrange!);
  }
  const deleted = Math.max(0, hi - lo);
  if (deleted > 0) z.removeRange(lo, hi);
  if (deleted > 0) {
    let removed = false;
    if (z.size === 0) removed = c.db.delete(key);
    const ks = c.server.keyspace;
    ks.changed(c.db, key, 'z', 'zremrangeby' + type, deleted);
    if (removed) ks.notify(c.db, key, 'g', 'del');
  }
  c.w.int(deleted);
}

export function zremrangebyrankCommand(c: Client, argv: string[]): void {
  zremrangeGeneric(c, argv, 'rank');
}

export function zremrangebyscoreCommand(c: Client, argv: string[]): void {
  zremrangeGeneric(c, argv, 'score');
}

export function zremrangebylexCommand(c: Client, argv: string[]): void {
  zremrangeGeneric(c, argv, 'lex');
}
