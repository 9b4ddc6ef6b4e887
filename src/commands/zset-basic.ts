/**
 * Sorted-set point commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT
 * ZLEXCOUNT ZRANDMEMBER ZSCAN (Redis 7.0 t_zset.c semantics and error order).
 */
import type { Client } from '../net/client.js';
import { ZSetValue, type ZSetWriter } from '../types/zset.js';
import { Err } from '../protocol/errors.js';
import { globMatch } from '../util/glob.js';
import { formatG17, parseInt64 } from '../util/numbers.js';
import {
  ERR_MINMAX_FLOAT,
  ERR_MINMAX_LEX,
  ERR_NAN,
  getDouble,
  lexRankSpan,
  parseLexRange,
  parseScoreRange,
  readZset,
  scoreRankSpan,
  writeElement,
  writeElementsHeader,
  writeZset,
} from './zset-common.js';

// ---------------------------------------------------------------------------------------------
// ZADD / ZINCRBY

function zaddGeneric(c: Client, argv: string[], zincrby: boolean): void {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = zincrby;
  let i = 2;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.length < 2 || a.length > 4) break;
    const o = a.toLowerCase();
    if (o === 'nx') nx = true;
    else if (o === 'xx') xx = true;
    else if (o === 'ch') ch = true;
    else if (o === 'incr') incr = true;
    else if (o === 'gt') gt = true;
    else if (o === 'lt') lt = true;
    else break;
  }
  let elements = argv.length - i;
  if (elements % 2 !== 0 || elements === 0) {
    c.w.error(Err.syntax);
    return;
  }
  elements /= 2;
  if (nx && xx) {
    c.w.error('ERR XX and NX options at the same time are not compatible');
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    c.w.error('ERR GT, LT, and/or NX options at the same time are not compatible');
    return;
  }
  if (incr && elements > 1) {
    c.w.error('ERR INCR option supports a single increment-element pair');
    return;
  }
  // Every score is parsed before anything changes: the command applies fully or not at all.
  const scores = new Array<number>(elements);
  for (let j = 0; j < elements; j++) {
    const s = getDouble(argv[i + j * 2]!);
    if (s === null) {
      c.w.error(Err.notFloat);
      return;
    }
    scores[j] = s;
  }
  const key = argv[1]!;
  let z = writeZset(c, key);
  if (z === null) return;
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  let nanErr = false;
  if (z === undefined) {
    if (xx) {
      if (incr) c.w.nullBulk();
      else c.w.int(0);
      return;
    }
    z = ZSetValue.createFor(argv[i + 1]!.length, c.server.config);
    c.db.add(key, z);
  }
  const cfg = c.server.config;
  // Many elements for a listpack zset: applied to a map and packed once.
  const batch = elements >= 8 ? z.startBatch() : null;
  const w: ZSetWriter = batch ?? z;
  for (let j = 0; j < elements; j++) {
    const m = argv[i + j * 2 + 1]!;
    let s = scores[j]!;
    const cur = w.score(m);
    if (cur !== undefined) {
      if (nx) continue;
      if (incr) {
        s += cur;
        if (Number.isNaN(s)) {
          nanErr = true;
          break;
        }
      }
      if ((lt && s >= cur) || (gt && s <= cur)) continue;
      score = s;
      processed++;
      if (s !== cur) {
        w.setScore(m, cur, s);
        updated++;
      }
    } else if (!xx) {
      w.convertForAdd(m.length, cfg);
      w.insert(m, s);
      added++;
      processed++;
      score = s;
    }
  }
  batch?.commit();
  if (z.size === 0) c.db.delete(key); // nothing was added to a key we just created
  if (added > 0 || updated > 0) {
    c.server.keyspace.changed(c.db, key, 'z', incr ? 'zincr' : 'zadd', nanErr ? 0 : added + updated);
    if (added > 0) c.server.keyspace.signalKeyReady(c.db, key);
  }
  if (nanErr) c.w.error(ERR_NAN);
  else if (incr) {
    if (processed > 0) c.w.double(score);
    else c.w.nullBulk();
  } else c.w.int(ch ? added + updated : added);
}

export function zaddCommand(c: Client, argv: string[]): void {
  zaddGeneric(c, argv, false);
}

export function zincrbyCommand(c: Client, argv: string[]): void {
  zaddGeneric(c, argv, true);
}

// ---------------------------------------------------------------------------------------------
// ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK

export function zremCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const z = writeZset(c, key);
  if (z === null) return;
  if (z === undefined) {
    c.w.int(0);
    return;
  }
  const deleted = z.removeMembers(argv, 2);
  let keyRemoved = false;
  if (z.size === 0) {
    c.db.delete(key);
    keyRemoved = true;
  }
  if (deleted > 0) {
    const ks = c.server.keyspace;
    ks.changed(c.db, key, 'z', 'zrem', deleted);
    if (keyRemoved) ks.notify(c.db, key, 'g', 'del');
  }
  c.w.int(deleted);
}

export function zcardCommand(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  c.w.int(z === undefined ? 0 : z.size);
}

export function zscoreCommand(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  const s = z === undefined ? undefined : z.score(argv[2]!);
  if (s === undefined) c.w.nullBulk();
  else c.w.double(s);
}

export function zmscoreCommand(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  c.w.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const s = z === undefined ? undefined : z.score(argv[j]!);
    if (s === undefined) c.w.nullBulk();
    else c.w.double(s);
  }
}

function zrankGeneric(c: Client, argv: string[], reverse: boolean): void {
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  const r = z === undefined ? -1 : z.rank(argv[2]!);
  if (r < 0) c.w.nullBulk();
  else c.w.int(reverse ? z!.size - 1 - r : r);
}

export function zrankCommand(c: Client, argv: string[]): void {
  zrankGeneric(c, argv, false);
}

export function zrevrankCommand(c: Client, argv: string[]): void {
  zrankGeneric(c, argv, true);
}

// ---------------------------------------------------------------------------------------------
// ZCOUNT ZLEXCOUNT

export function zcountCommand(c: Client, argv: string[]): void {
  const r = parseScoreRange(argv[2]!, argv[3]!);
  if (r === null) {
    c.w.error(ERR_MINMAX_FLOAT);
    return;
  }
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  if (z === undefined) {
    c.w.int(0);
    return;
  }
  const [a, b] = scoreRankSpan(z, r);
  c.w.int(b - a);
}

export function zlexcountCommand(c: Client, argv: string[]): void {
  const r = parseLexRange(argv[2]!, argv[3]!);
  if (r === null) {
    c.w.error(ERR_MINMAX_LEX);
    return;
  }
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  if (z === undefined) {
    c.w.int(0);
    return;
  }
  const [a, b] = lexRankSpan(z, r);
  c.w.int(b - a);
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER

const LONG_MAX = 9223372036854775807n;

export function zrandmemberCommand(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    let n = parseInt64(argv[2]!);
    let big: bigint | null = null;
    if (n === null) {
      // Beyond 2^53 but maybe still a long: Redis accepts -LONG_MAX..LONG_MAX.
      big = /^-?[1-9][0-9]*$/.test(argv[2]!) ? BigInt(argv[2]!) : null;
      if (big === null || big < -LONG_MAX - 1n || big > LONG_MAX) {
        c.w.error(Err.notInteger);
        return;
      }
      if (big === -LONG_MAX - 1n) {
        c.w.error(`ERR value is out of range, value must between ${-LONG_MAX} and ${LONG_MAX}`);
        return;
      }
      n = Number(big);
    }
    let withscores = false;
    if (argv.length > 4 || (argv.length === 4 && argv[3]!.toLowerCase() !== 'withscores')) {
      c.w.error(Err.syntax);
      return;
    } else if (argv.length === 4) {
      withscores = true;
      if (big !== null && (big < -LONG_MAX / 2n || big > LONG_MAX / 2n)) {
        c.w.error('ERR value is out of range');
        return;
      }
    }
    if (n < -Number.MAX_SAFE_INTEGER) {
      // Redis would try to build a reply of that many elements; refuse honestly instead.
      c.w.error('ERR value is out of range');
      return;
    }
    zrandmemberWithCount(c, argv[1]!, n, withscores);
    return;
  }
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  if (z === undefined) {
    c.w.nullBulk();
    return;
  }
  c.w.bulk(z.elementAt(Math.floor(Math.random() * z.size))![0]);
}

function zrandmemberWithCount(c: Client, key: string, l: number, withscores: boolean): void {
  const z = readZset(c, key);
  if (z === null) return;
  if (z === undefined) {
    c.w.array(0);
    return;
  }
  const uniq = l >= 0;
  const count = Math.abs(l);
  if (count === 0) {
    c.w.array(0);
    return;
  }
  const size = z.size;
  // A listpack zset is read once into arrays (Redis's lpRandomPairs also works on one pass);
  // a skiplist one is read by rank.
  let members: string[] | null = null;
  let scores: number[] | null = null;
  if (z.encoding === 'listpack') {
    const ms: string[] = (members = []);
    const ss: number[] = (scores = []);
    z.forEach((m, s) => {
      ms.push(m);
      ss.push(s);
    });
  }
  const writeRank = (r: number): void => {
    if (members !== null) writeElement(c, members[r]!, scores![r]!, withscores);
    else {
      const e = z.elementAt(r)!;
      writeElement(c, e[0], e[1], withscores);
    }
  };
  // CASE 1: negative count (repetitions allowed) or a single element.
  if (!uniq || count === 1) {
    writeElementsHeader(c, count, withscores);
    for (let k = 0; k < count; k++) writeRank(Math.floor(Math.random() * size));
    return;
  }
  const n = Math.min(count, size);
  writeElementsHeader(c, n, withscores);
  // CASE 2: the whole zset, which Redis walks from the highest score down.
  if (count >= size) {
    z.forRange(0, size, true, (m, s) => {
      writeElement(c, m, s, withscores);
    });
    return;
  }
  // Unique sample of n ranks (partial Fisher-Yates over a sparse permutation).
  const swapped = new Map<number, number>();
  const picked: number[] = [];
  for (let k = 0; k < n; k++) {
    const j = k + Math.floor(Math.random() * (size - k));
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(k) ?? k);
    picked.push(vj);
  }
  // A listpack zset returns its sample in listpack order (lpRandomPairsUnique); a big one in
  // sampling order.
  if (members !== null) picked.sort((a, b) => a - b);
  for (const r of picked) writeRank(r);
}

// ---------------------------------------------------------------------------------------------
// ZSCAN

/**
 * ZSCAN cursors. A listpack zset is returned whole with cursor 0, as Redis does. A big one is
 * walked in (score, member) order, and the cursor encodes where to resume:
 *  - normally the score of the next element, mapped to an order-preserving u64 (a call only
 *    stops between two different scores), so the cursor is stateless and survives any change
 *    to the zset: every element present for the whole scan is returned, as SCAN guarantees;
 *  - when a run of equal scores is too long to return at once, the exact resume point is kept
 *    in a bounded registry and the cursor is its id, drawn from the u64 values that encode a
 *    NaN (which no score can be). An id that left the registry restarts the scan from the
 *    beginning: elements may repeat, none is skipped.
 */
const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);
const SIGN = 1n << 63n;
const NAN_SPACE = 0xfff0000000000001n;
const REGISTRY_MAX = 16384;
const registry = new Map<bigint, { score: number; member: string }>();
let nextRegistryId = 0n;

function scoreToCursor(s: number): bigint {
  F64[0] = s === 0 ? 0 : s; // -0 sorts with 0
  const b = U64[0]!;
  return b & SIGN ? ~b & 0xffffffffffffffffn : b | SIGN;
}

function cursorToScore(cur: bigint): number {
  U64[0] = cur & SIGN ? cur & ~SIGN : ~cur & 0xffffffffffffffffn;
  return F64[0]!;
}

/** parseScanCursorOrReply: strtoul over the whole string, no leading space. */
export function parseScanCursor(s: string): bigint | null {
  if (s.length === 0) return 0n;
  const m = /^([+-]?)([0-9]+)$/.exec(s);
  if (m === null) return null;
  const v = BigInt(m[2]!);
  if (v > 0xffffffffffffffffn) return null;
  return m[1] === '-' ? (0x10000000000000000n - v) & 0xffffffffffffffffn : v;
}

export function zscanCommand(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(argv[2]!);
  if (cursor === null) {
    c.w.error('ERR invalid cursor');
    return;
  }
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  let count = 10;
  let pattern: string | null = null;
  for (let i = 3; i < argv.length; ) {
    const left = argv.length - i;
    const opt = argv[i]!.toLowerCase();
    if (opt === 'count' && left >= 2) {
      const n = parseInt64(argv[i + 1]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      if (n < 1) {
        c.w.error(Err.syntax);
        return;
      }
      count = n;
      i += 2;
    } else if (opt === 'match' && left >= 2) {
      const p = argv[i + 1]!;
      pattern = p === '*' ? null : p;
      i += 2;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  if (z === undefined) {
    c.w.array(2);
    c.w.bulk('0');
    c.w.array(0);
    return;
  }
  const out: string[] = [];
  const take = (m: string, s: number): void => {
    if (pattern !== null && !globMatch(pattern, m)) return;
    out.push(m, formatScore(s));
  };
  let next = 0n;
  if (z.encoding === 'listpack') {
    z.forEach(take);
  } else {
    let start = 0;
    if (cursor >= NAN_SPACE) {
      const at = registry.get(cursor);
      if (at !== undefined) start = z.countBefore((s, m) => s > at.score || (s === at.score && m >= at.member));
    } else if (cursor !== 0n) {
      start = z.scoreRank(cursorToScore(cursor), false);
    }
    let visited = 0;
    let lastScore = NaN;
    // Stop between different scores once `count` elements were visited; inside a long run of
    // equal scores give up after 10x and remember the exact position.
    z.forRange(start, z.size, false, (m, s) => {
      if (visited >= count && s !== lastScore) {
        next = scoreToCursor(s);
        return false;
      }
      if (visited >= count * 10) {
        next = NAN_SPACE + (nextRegistryId++ % (1n << 51n));
        registry.set(next, { score: s, member: m });
        if (registry.size > REGISTRY_MAX) registry.delete(registry.keys().next().value!);
        return false;
      }
      take(m, s);
      lastScore = s;
      visited++;
      return true;
    });
  }
  c.w.array(2);
  c.w.bulk(next.toString());
  c.w.bulkArray(out);
}

/** Scores in ZSCAN replies are bulk strings formatted like RESP2 doubles (%.17g). */
const formatScore = formatG17;
