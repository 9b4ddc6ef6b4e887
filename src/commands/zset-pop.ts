/**
 * Sorted-set pops: ZPOPMIN ZPOPMAX ZMPOP and the blocking BZPOPMIN BZPOPMAX BZMPOP
 * (Redis 7.0 genericZpopCommand / blockingGenericZpopCommand reply shapes and propagation).
 */
import type { Client } from '../net/client.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import type { ZSetValue } from '../types/zset.js';
import { writeZset } from './zset-common.js';

export type Where = 'min' | 'max';

/** The four reply layouts of genericZpopCommand. */
export interface PopShape {
  /** Prefix the reply with the key (BZPOP*, ZMPOP, BZMPOP). */
  emitKey: boolean;
  /** [member, score] pairs instead of a flat list. */
  nested: boolean;
}

/**
 * Pops up to `count` elements (count -1 = the single-pop form) from the zset `z` stored at
 * `key`, replying in the given shape; deletes the key when it empties. Returns the number
 * popped. The zset must be non-empty and `count` != 0. Used by the commands and by the
 * blocking machinery when it serves a waiting client.
 */
export function popAndReply(c: Client, key: string, z: ZSetValue, where: Where, count: number, shape: PopShape): number {
  if (count === -1) count = 1;
  const n = Math.min(count, z.size);
  const w = c.w;
  if (!shape.nested && !shape.emitKey) w.array(n * 2);
  else if (shape.nested && !shape.emitKey) w.array(n);
  else if (!shape.nested && shape.emitKey) {
    w.array(n * 2 + 1);
    w.bulk(key);
  } else {
    w.array(2);
    w.bulk(key);
    w.array(n);
  }
  // Reply with the n lowest (highest) elements, then remove them in one go.
  const nested = shape.nested;
  const size = z.size;
  const lo = where === 'min' ? 0 : size - n;
  z.forRange(lo, lo + n, where === 'max', (m, s) => {
    if (nested) w.array(2);
    w.bulk(m);
    w.double(s);
  });
  z.removeRange(lo, lo + n);
  const ks = c.server.keyspace;
  ks.changed(c.db, key, 'z', where === 'min' ? 'zpopmin' : 'zpopmax', n);
  if (z.size === 0) {
    c.db.delete(key);
    ks.notify(c.db, key, 'g', 'del');
  }
  return n;
}

/**
 * genericZpopCommand over several candidate keys: the first existing one is popped (a wrong
 * type stops the search with an error). Returns the key popped from, or null.
 */
function zpopFromKeys(c: Client, keys: string[], where: Where, count: number, shape: PopShape, nilWhenEmpty: boolean, popped?: { n: number }): string | null {
  let found: ZSetValue | undefined;
  let key = '';
  for (const k of keys) {
    const z = writeZset(c, k);
    if (z === null) return null;
    if (z === undefined) continue;
    found = z;
    key = k;
    break;
  }
  if (found === undefined) {
    if (nilWhenEmpty) c.w.nullArray();
    else c.w.array(0);
    return null;
  }
  if (count === 0) {
    c.w.array(0);
    return null;
  }
  const n = popAndReply(c, key, found, where, count, shape);
  if (popped !== undefined) popped.n = n;
  return key;
}

/** getPositiveLongFromObjectOrReply: one message for both a non-integer and a negative value. */
function positiveLong(c: Client, s: string): number | null {
  const n = parseInt64(s);
  if (n === null && /^[1-9][0-9]*$/.test(s) && BigInt(s) <= 9223372036854775807n) return Number.MAX_SAFE_INTEGER;
  if (n === null || n < 0) {
    c.w.error('ERR value is out of range, must be positive');
    return null;
  }
  return n;
}

function zpopMinMax(c: Client, argv: string[], where: Where): void {
  if (argv.length > 3) {
    c.w.error(Err.syntax);
    return;
  }
  let count = -1;
  if (argv.length === 3) {
    const n = positiveLong(c, argv[2]!);
    if (n === null) return;
    count = n;
  }
  // RESP3 with an explicit count answers nested pairs; otherwise a flat array.
  const nested = c.w.proto === 3 && count !== -1;
  zpopFromKeys(c, [argv[1]!], where, count, { emitKey: false, nested }, false);
}

export function zpopminCommand(c: Client, argv: string[]): void {
  zpopMinMax(c, argv, 'min');
}

export function zpopmaxCommand(c: Client, argv: string[]): void {
  zpopMinMax(c, argv, 'max');
}

/** Parsed ZMPOP/BZMPOP arguments (after numkeys). */
export interface MpopArgs {
  keys: string[];
  where: Where;
  count: number;
}

/** getRangeLongFromObjectOrReply(1, LONG_MAX, msg): `msg` is also the non-integer error. */
function rangeLong(c: Client, s: string, msg: string): number | null {
  const n = parseInt64(s);
  if (n === null && /^[1-9][0-9]*$/.test(s) && BigInt(s) <= 9223372036854775807n) return Number.MAX_SAFE_INTEGER;
  if (n === null || n < 1) {
    c.w.error('ERR ' + msg);
    return null;
  }
  return n;
}

/** zmpopGenericCommand's parser; `numkeysIdx` is 1 for ZMPOP, 2 for BZMPOP. */
export function parseMpop(c: Client, argv: string[], numkeysIdx: number): MpopArgs | null {
  const numkeys = rangeLong(c, argv[numkeysIdx]!, 'numkeys should be greater than 0');
  if (numkeys === null) return null;
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) {
    c.w.error(Err.syntax);
    return null;
  }
  const w = argv[whereIdx]!.toLowerCase();
  let where: Where;
  if (w === 'min') where = 'min';
  else if (w === 'max') where = 'max';
  else {
    c.w.error(Err.syntax);
    return null;
  }
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && argv[j]!.toLowerCase() === 'count' && more > 0) {
      j++;
      const n = rangeLong(c, argv[j]!, 'count should be greater than 0');
      if (n === null) return null;
      count = n;
    } else {
      c.w.error(Err.syntax);
      return null;
    }
  }
  if (count === -1) count = 1;
  return { keys: argv.slice(numkeysIdx + 1, whereIdx), where, count };
}

export function zmpopCommand(c: Client, argv: string[]): void {
  const a = parseMpop(c, argv, 1);
  if (a === null) return;
  const popped = { n: 0 };
  const key = zpopFromKeys(c, a.keys, a.where, a.count, { emitKey: true, nested: true }, true, popped);
  // Replicated as ZPOP[MIN|MAX] with the number of elements actually popped (verified 7.0.15).
  if (key !== null) c.server.propagator.rewrite([a.where === 'min' ? 'ZPOPMIN' : 'ZPOPMAX', key, String(popped.n)]);
}

/**
 * How a blocking pop is replicated: `ZPOPMIN k` for BZPOPMIN, `ZPOPMIN k <popped>` for BZMPOP
 * (the count actually popped, as 7.0.15 does).
 */
export function popPropagation(where: Where, key: string, count: number, popped: number): string[] {
  const cmd = where === 'min' ? 'ZPOPMIN' : 'ZPOPMAX';
  return count === -1 ? [cmd, key] : [cmd, key, String(popped)];
}

/**
 * The non-blocking part of BZPOPMIN/BZPOPMAX/BZMPOP: pops from the first non-empty key and
 * rewrites the propagated command like Redis. Returns false when every key is empty (the
 * caller then blocks or times out). Replies WRONGTYPE and returns true on a wrong type.
 */
export function tryServeBlockingZpop(c: Client, keys: string[], where: Where, count: number, shape: PopShape): boolean {
  for (const k of keys) {
    const z = writeZset(c, k);
    if (z === null) return true;
    if (z === undefined || z.size === 0) continue;
    const n = popAndReply(c, k, z, where, count, shape);
    c.server.propagator.rewrite(popPropagation(where, k, count, n));
    return true;
  }
  return false;
}
