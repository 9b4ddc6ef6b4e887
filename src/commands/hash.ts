/**
 * The hash command family (Redis 7.0 t_hash.c): HSET HSETNX HMSET HGET HMGET HDEL HLEN HSTRLEN
 * HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
 *
 * Encodings follow the value (types/hash.ts): listpack replies come in insertion order exactly
 * as Redis's; a hashtable-encoded hash answers in an order of its own (Redis's dict order is not
 * reproducible), so clients must not rely on it. A hash never exists empty: HDEL of the last
 * field deletes the key. HINCRBYFLOAT is propagated as `HSET key field <new value>`.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { Err } from '../protocol/errors.js';
import { INT64_MAX, INT64_MIN, parseInt64Big, parseInteger } from '../util/numbers.js';
import { globMatch } from '../util/glob.js';
import { HashValue } from '../types/hash.js';
import { readTyped, writeTyped, is } from './args.js';
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from './string-float.js';
import { parseScanCursor, parseScanOptions } from './keys-scan.js';

/** hashTypeLookupWriteOrCreate: the hash at `key` (created empty if missing), or null after WRONGTYPE. */
function lookupWriteOrCreate(c: Client, key: string): HashValue | null {
  const h = writeTyped<HashValue>(c, key, 'hash');
  if (h === null) return null;
  if (h !== undefined) return h;
  const n = new HashValue();
  c.db.add(key, n);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Writes

function hsetCommand(c: Client, argv: string[]): void {
  if (argv.length % 2 === 1) {
    c.w.error(Err.wrongArity(argv[0]!.toLowerCase() === 'hmset' ? 'hmset' : 'hset'));
    return;
  }
  const key = argv[1]!;
  const h = lookupWriteOrCreate(c, key);
  if (h === null) return;
  const cfg = c.server.config;
  h.tryConversion(argv, 2, argv.length - 1, cfg);
  let created = 0;
  for (let j = 2; j < argv.length; j += 2) if (h.set(argv[j]!, argv[j + 1]!, cfg)) created++;
  // HMSET (deprecated) answers OK; HSET the number of new fields.
  if (is(argv[0]!, 'hmset')) c.w.ok();
  else c.w.int(created);
  c.server.keyspace.changed(c.db, key, 'h', 'hset', (argv.length - 2) / 2);
}

function hsetnxCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const h = lookupWriteOrCreate(c, key);
  if (h === null) return;
  if (h.has(argv[2]!)) {
    c.w.int(0);
    return;
  }
  const cfg = c.server.config;
  h.tryConversion(argv, 2, 3, cfg);
  h.set(argv[2]!, argv[3]!, cfg);
  c.w.int(1);
  c.server.keyspace.changed(c.db, key, 'h', 'hset');
}

function hdelCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const db = c.db;
  const h = writeTyped<HashValue>(c, key, 'hash');
  if (h === null) return;
  if (h === undefined) {
    c.w.int(0);
    return;
  }
  let deleted = 0;
  let keyRemoved = false;
  for (let j = 2; j < argv.length; j++) {
    if (!h.delete(argv[j]!)) continue;
    deleted++;
    if (h.size === 0) {
      db.delete(key);
      keyRemoved = true;
      break;
    }
  }
  if (deleted > 0) {
    const ks = c.server.keyspace;
    ks.changed(db, key, 'h', 'hdel', deleted);
    if (keyRemoved) ks.notify(db, key, 'g', 'del');
  }
  c.w.int(deleted);
}

function hincrbyCommand(c: Client, argv: string[]): void {
  const incr = parseInteger(argv[3]!);
  if (incr === null) {
    c.w.error(Err.notInteger);
    return;
  }
  const key = argv[1]!;
  const field = argv[2]!;
  const h = lookupWriteOrCreate(c, key);
  if (h === null) return;
  const cur = h.get(field);
  let value: number | bigint = 0;
  if (cur !== undefined) {
    const v = parseInteger(cur);
    if (v === null) {
      c.w.error(Err.hashNotInteger);
      return;
    }
    value = v;
  }
  let sum: number | bigint;
  if (typeof value === 'number' && typeof incr === 'number' && Number.isSafeInteger(value + incr)) sum = value + incr;
  else {
    const s = BigInt(value) + BigInt(incr);
    if (s > INT64_MAX || s < INT64_MIN) {
      c.w.error(Err.overflow);
      return;
    }
    sum = s;
  }
  const text = String(sum);
  h.set(field, text, c.server.config);
  c.w.int(sum);
  c.server.keyspace.changed(c.db, key, 'h', 'hincrby');
}

function hincrbyfloatCommand(c: Client, argv: string[]): void {
  const incr = parseLongDouble(argv[3]!);
  if (incr === null) {
    c.w.error(Err.notFloat);
    return;
  }
  if (incr.inf) {
    c.w.error('ERR value is NaN or Infinity');
    return;
  }
  const key = argv[1]!;
  const field = argv[2]!;
  const h = lookupWriteOrCreate(c, key);
  if (h === null) return;
  const cur = h.get(field);
  let sumText: string;
  if (cur === undefined) {
    sumText = formatLongDoubleHuman(incr);
  } else {
    const v = parseLongDouble(cur);
    if (v === null) {
      c.w.error(Err.hashNotFloat);
      return;
    }
    const sum = addLongDouble(v, incr);
    if (sum === 'nan' || sum.inf) {
      c.w.error('ERR increment would produce NaN or Infinity');
      return;
    }
    sumText = formatLongDoubleHuman(sum);
  }
  h.set(field, sumText, c.server.config);
  c.w.bulk(sumText);
  c.server.keyspace.changed(c.db, key, 'h', 'hincrbyfloat');
  // Replicas store the same text whatever their float formatting.
  c.server.propagator.rewrite(['HSET', key, field, sumText]);
}

// ---------------------------------------------------------------------------------------------
// Reads

function hgetCommand(c: Client, argv: string[]): void {
  const h = readTyped<HashValue>(c, argv[1]!, 'hash');
  if (h === null) return;
  const v = h?.get(argv[2]!);
  if (v === undefined) c.w.nullBulk();
  else c.w.bulk(v);
}

function hmgetCommand(c: Client, argv: string[]): void {
  const h = readTyped<HashValue>(c, argv[1]!, 'hash');
  if (h === null) return;
  const w = c.w;
  w.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const v = h?.get(argv[j]!);
    if (v === undefined) w.nullBulk();
    else w.bulk(v);
  }
}

function hlenCommand(c: Client, argv: string[]): void {
  const h = readTyped<HashValue>(c, argv[1]!, 'hash');
  if (h === null) return;
  c.w.int(h === undefined ? 0 : h.size);
}

function hstrlenCommand(c: Client, argv: string[]): void {
  const h = readTyped<HashValue>(c, argv[1]!, 'hash');
  if (h === null) return;
  const n = h === undefined ? -1 : h.valueLength(argv[2]!);
  c.w.int(n < 0 ? 0 : n);
}

function hexistsCommand(c: Client, argv: string[]): void {
  const h = readTyped<HashValue>(c, argv[1]!, 'hash');
  if (h === null) return;
  c.w.int(h !== undefined && h.has(argv[2]!) ? 1 : 0);
}

/** genericHgetallCommand: fields, values or both (a map). */
function hgetallGeneric(c: Client, key: string, fields: boolean, values: boolean): void {
  const h = readTyped<HashValue>(c, key, 'hash');
  if (h === null) return;
  const w = c.w;
  const both = fields && values;
  if (h === undefined) {
    if (both) w.map(0);
    else w.array(0);
    return;
  }
  if (both) w.map(h.size);
  else w.array(h.size);
  h.forEach((f, v) => {
    if (fields) w.bulk(f);
    if (values) w.bulk(v);
  });
}

function hkeysCommand(c: Client, argv: string[]): void {
  hgetallGeneric(c, argv[1]!, true, false);
}
function hvalsCommand(c: Client, argv: string[]): void {
  hgetallGeneric(c, argv[1]!, false, true);
}
function hgetallCommand(c: Client, argv: string[]): void {
  hgetallGeneric(c, argv[1]!, true, true);
}

// ---------------------------------------------------------------------------------------------
// HRANDFIELD

function hrandfieldCommand(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    const big = parseInt64Big(argv[2]!);
    if (big === null) {
      c.w.error(Err.notInteger);
      return;
    }
    if (big < -9223372036854775807n) {
      c.w.error('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
      return;
    }
    let withValues = false;
    if (argv.length > 4 || (argv.length === 4 && !is(argv[3]!, 'withvalues'))) {
      c.w.error(Err.syntax);
      return;
    }
    if (argv.length === 4) {
      withValues = true;
      if (big < -4611686018427387903n || big > 4611686018427387903n) {
        c.w.error('ERR value is out of range');
        return;
      }
    }
    hrandfieldWithCount(c, argv[1]!, Number(big), withValues);
    return;
  }
  const h = readTyped<HashValue>(c, argv[1]!, 'hash');
  if (h === null) return;
  if (h === undefined) {
    c.w.nullBulk();
    return;
  }
  c.w.bulk(h.randomEntry()[0]);
}

/** One HRANDFIELD element: field, or field+value (nested pair in RESP3). */
function replyPair(c: Client, f: string, v: string, withValues: boolean): void {
  if (withValues && c.w.proto === 3) c.w.array(2);
  c.w.bulk(f);
  if (withValues) c.w.bulk(v);
}

function hrandfieldWithCount(c: Client, key: string, l: number, withValues: boolean): void {
  const h = readTyped<HashValue>(c, key, 'hash');
  if (h === null) return;
  if (h === undefined) {
    c.w.array(0);
    return;
  }
  const size = h.size;
  const unique = l >= 0;
  const count = unique ? l : -l;
  if (count === 0) {
    c.w.array(0);
    return;
  }
  const w = c.w;
  const flat = withValues && w.proto === 2;
  // A listpack hash has no O(1) positional access: take its (small) entry list once.
  const lp = h.encoding === 'listpack' && count > 1 ? [...h.entries()] : null;
  const at = (i: number): [string, string] => (lp !== null ? lp[i]! : h.entryAt(i));
  // CASE 1: negative count — `count` independent draws, repetitions allowed, random order.
  if (!unique || count === 1) {
    w.array(flat ? count * 2 : count);
    for (let i = 0; i < count && !c.flags.closed; i++) {
      const [f, v] = at(Math.floor(Math.random() * size));
      replyPair(c, f, v, withValues);
    }
    return;
  }
  const n = Math.min(count, size);
  w.array(flat ? n * 2 : n);
  // CASE 2: at least the whole hash — everything, in iteration order.
  if (count >= size) {
    for (const [f, v] of h.entries()) replyPair(c, f, v, withValues);
    return;
  }
  // CASES 3/4: `count` distinct entries. Listpack answers them in listpack order (Redis's
  // lpRandomPairsUnique), so pick positions and sort them.
  for (const i of distinctPositions(size, count, lp !== null)) {
    const [f, v] = at(i);
    replyPair(c, f, v, withValues);
  }
}

/** `count` distinct random positions in [0, size), count < size; sorted when asked. */
export function distinctPositions(size: number, count: number, sorted: boolean): number[] {
  let out: number[];
  if (count * 3 > size) {
    // Many of them: a partial Fisher–Yates shuffle of all positions.
    const idx = new Array<number>(size);
    for (let i = 0; i < size; i++) idx[i] = i;
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (size - i));
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    out = idx.slice(0, count);
  } else {
    const seen = new Set<number>();
    while (seen.size < count) seen.add(Math.floor(Math.random() * size));
    out = [...seen];
  }
  if (sorted) out.sort((a, b) => a - b);
  return out;
}

// ---------------------------------------------------------------------------------------------
// HSCAN

function hscanCommand(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[2]!);
  if (cursor === null) return;
  const h = readTyped<HashValue>(c, argv[1]!, 'hash');
  if (h === null) return;
  if (h === undefined) {
    emptyScan(c);
    return;
  }
  const opts = parseScanOptions(c, argv, 3, false);
  if (opts === null) return;
  const pat = opts.pattern;
  const out: string[] = [];
  let next = 0;
  if (h.encoding === 'listpack') {
    // A small encoding is returned whole in one call, cursor 0, COUNT ignored (as Redis).
    for (const [f, v] of h.entries()) {
      if (pat === undefined || globMatch(pat, f)) out.push(f, v);
    }
  } else {
    const start = cursor > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(cursor);
    next = h.scan(start, opts.count, (f, v) => {
      if (pat === undefined || globMatch(pat, f)) out.push(f, v);
    });
  }
  scanReply(c, next, out);
}

/** `[cursor, [elements]]`. */
export function scanReply(c: Client, cursor: number, items: readonly string[]): void {
  c.w.array(2);
  c.w.bulk(String(cursor));
  c.w.bulkArray(items);
}

/** shared.emptyscan: cursor 0 and no elements. */
export function emptyScan(c: Client): void {
  scanReply(c, 0, []);
}

export const hashCommands: CommandDef[] = [
  { name: 'hset', handler: hsetCommand },
  { name: 'hmset', handler: hsetCommand },
  { name: 'hsetnx', handler: hsetnxCommand },
  { name: 'hget', handler: hgetCommand },
  { name: 'hmget', handler: hmgetCommand },
  { name: 'hdel', handler: hdelCommand },
  { name: 'hlen', handler: hlenCommand },
  { name: 'hstrlen', handler: hstrlenCommand },
  { name: 'hexists', handler: hexistsCommand },
  { name: 'hkeys', handler: hkeysCommand },
  { name: 'hvals', handler: hvalsCommand },
  { name: 'hgetall', handler: hgetallCommand },
  { name: 'hincrby', handler: hincrbyCommand },
  { name: 'hincrbyfloat', handler: hincrbyfloatCommand },
  { name: 'hrandfield', handler: hrandfieldCommand },
  { name: 'hscan', handler: hscanCommand },
];
