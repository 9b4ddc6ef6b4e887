/**
 * The set command family (Redis 7.0 t_set.c): SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD
 * SPOP SRANDMEMBER SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SMOVE SSCAN.
 *
 * Reply order: an intset answers in ascending integer order exactly as Redis; a hashtable set
 * answers in an order of its own (Redis's dict order depends on its hash seed and table size),
 * so clients — and differential tests — must treat those replies as unordered.
 *
 * Propagation (replication.md §5.4): SPOP → `SREM key member`; SPOP with a count below the size
 * → one `SREM key m` per member (wrapped in MULTI/EXEC by the propagator when more than one);
 * SPOP with a count reaching the size → `DEL key`.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import type { Db } from '../keyspace/db.js';
import { Err } from '../protocol/errors.js';
import { parseInt64Big } from '../util/numbers.js';
import { globMatch } from '../util/glob.js';
import { SetValue } from '../types/set.js';
import { readTyped, writeTyped } from './args.js';
import { parseScanCursor, parseScanOptions } from './keys-scan.js';
import { distinctPositions, emptyScan, scanReply } from './hash.js';
import { parseLong } from './list.js';

// ---------------------------------------------------------------------------------------------
// SADD SREM SMOVE

function saddCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const db = c.db;
  let s = writeTyped<SetValue>(c, key, 'set');
  if (s === null) return;
  if (s === undefined) {
    // setTypeCreate: the first member decides between intset and hashtable.
    s = new SetValue(argv[2]!);
    db.add(key, s);
  }
  const cfg = c.server.config;
  let added = 0;
  for (let j = 2; j < argv.length; j++) if (s.add(argv[j]!, cfg)) added++;
  if (added > 0) c.server.keyspace.changed(db, key, 's', 'sadd', added);
  c.w.int(added);
}

function sremCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const db = c.db;
  const s = writeTyped<SetValue>(c, key, 'set');
  if (s === null) return;
  if (s === undefined) {
    c.w.int(0);
    return;
  }
  let deleted = 0;
  let keyRemoved = false;
  for (let j = 2; j < argv.length; j++) {
    if (!s.delete(argv[j]!)) continue;
    deleted++;
    if (s.size === 0) {
      db.delete(key);
      keyRemoved = true;
      break;
    }
  }
  if (deleted > 0) {
    const ks = c.server.keyspace;
    ks.changed(db, key, 's', 'srem', deleted);
    if (keyRemoved) ks.notify(db, key, 'g', 'del');
  }
  c.w.int(deleted);
}

function smoveCommand(c: Client, argv: string[]): void {
  const srcKey = argv[1]!;
  const dstKey = argv[2]!;
  const ele = argv[3]!;
  const db = c.db;
  const src = db.lookupWrite(srcKey);
  const dst = db.lookupWrite(dstKey);
  if (src === undefined) {
    c.w.int(0);
    return;
  }
  if (!(src instanceof SetValue) || (dst !== undefined && !(dst instanceof SetValue))) {
    c.w.error(Err.wrongType);
    return;
  }
  if (src === dst) {
    c.w.int(src.has(ele) ? 1 : 0);
    return;
  }
  if (!src.delete(ele)) {
    c.w.int(0);
    return;
  }
  const ks = c.server.keyspace;
  ks.notify(db, srcKey, 's', 'srem');
  if (src.size === 0) {
    db.delete(srcKey);
    ks.notify(db, srcKey, 'g', 'del');
  }
  let d = dst;
  if (d === undefined) {
    d = new SetValue(ele);
    db.add(dstKey, d);
  }
  ks.changed(db, srcKey, 's', '');
  if (d.add(ele, c.server.config)) ks.changed(db, dstKey, 's', 'sadd');
  c.w.int(1);
}

// ---------------------------------------------------------------------------------------------
// Membership and size

function sismemberCommand(c: Client, argv: string[]): void {
  const s = readTyped<SetValue>(c, argv[1]!, 'set');
  if (s === null) return;
  c.w.int(s !== undefined && s.has(argv[2]!) ? 1 : 0);
}

function smismemberCommand(c: Client, argv: string[]): void {
  const s = readTyped<SetValue>(c, argv[1]!, 'set');
  if (s === null) return;
  c.w.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) c.w.int(s !== undefined && s.has(argv[j]!) ? 1 : 0);
}

function scardCommand(c: Client, argv: string[]): void {
  const s = readTyped<SetValue>(c, argv[1]!, 'set');
  if (s === null) return;
  c.w.int(s === undefined ? 0 : s.size);
}

// ---------------------------------------------------------------------------------------------
// SPOP SRANDMEMBER

function spopCommand(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    spopWithCount(c, argv);
    return;
  }
  if (argv.length > 3) {
    c.w.error(Err.syntax);
    return;
  }
  const key = argv[1]!;
  const db = c.db;
  const s = writeTyped<SetValue>(c, key, 'set');
  if (s === null) return;
  if (s === undefined) {
    c.w.nullBulk();
    return;
  }
  const m = s.random();
  s.delete(m);
  const ks = c.server.keyspace;
  ks.notify(db, key, 's', 'spop');
  c.server.propagator.rewrite(['SREM', key, m]);
  c.w.bulk(m);
  if (s.size === 0) {
    db.delete(key);
    ks.notify(db, key, 'g', 'del');
  }
  ks.changed(db, key, 's', '');
}

function spopWithCount(c: Client, argv: string[]): void {
  const count = parseLong(argv[2]!);
  if (count === null || count < 0) {
    c.w.error('ERR value is out of range, must be positive');
    return;
  }
  const key = argv[1]!;
  const db = c.db;
  const s = writeTyped<SetValue>(c, key, 'set');
  if (s === null) return;
  if (s === undefined || count === 0) {
    c.w.set(0);
    return;
  }
  const ks = c.server.keyspace;
  const prop = c.server.propagator;
  const size = s.size;
  ks.notify(db, key, 's', 'spop');
  if (count >= size) {
    // The whole set: replied as SUNION of the key would, then deleted; propagated as DEL.
    replyMembers(c, s);
    db.delete(key);
    ks.notify(db, key, 'g', 'del');
    prop.rewrite(['DEL', key]);
    ks.changed(db, key, 's', '', count);
    return;
  }
  const popped = distinctPositions(size, count, false).map((i) => s.at(i));
  s.deleteMany(popped);
  c.w.set(popped.length);
  for (const m of popped) {
    c.w.bulk(m);
    prop.also(db.id, ['SREM', key, m]);
  }
  // The SREMs above are what replicas get; the SPOP itself is not propagated.
  prop.prevent();
  ks.changed(db, key, 's', '', count);
}

function srandmemberCommand(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    srandmemberWithCount(c, argv);
    return;
  }
  if (argv.length > 3) {
    c.w.error(Err.syntax);
    return;
  }
  const s = readTyped<SetValue>(c, argv[1]!, 'set');
  if (s === null) return;
  if (s === undefined) c.w.nullBulk();
  else c.w.bulk(s.random());
}

function srandmemberWithCount(c: Client, argv: string[]): void {
  const big = parseInt64Big(argv[2]!);
  if (big === null) {
    c.w.error(Err.notInteger);
    return;
  }
  if (big < -9223372036854775807n) {
    c.w.error('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
    return;
  }
  const l = Number(big);
  const s = readTyped<SetValue>(c, argv[1]!, 'set');
  if (s === null) return;
  if (s === undefined || l === 0) {
    c.w.array(0);
    return;
  }
  const w = c.w;
  const size = s.size;
  // Negative count: independent draws, repetitions allowed, random order.
  if (l < 0 || l === 1) {
    const count = l < 0 ? -l : 1;
    w.array(count);
    for (let i = 0; i < count && !c.flags.closed; i++) w.bulk(s.random());
    return;
  }
  if (l >= size) {
    w.array(size);
    for (const m of s.members()) w.bulk(m);
    return;
  }
  w.array(l);
  for (const i of distinctPositions(size, l, false)) w.bulk(s.at(i));
}

// ---------------------------------------------------------------------------------------------
// SINTER SINTERCARD SINTERSTORE

/**
 * Looks up every key (all of them, even after a missing one, so WRONGTYPE wins as in Redis).
 * Returns the sets (undefined for missing keys) or null after a WRONGTYPE reply.
 */
function lookupSets(c: Client, keys: readonly string[]): (SetValue | undefined)[] | null {
  const out: (SetValue | undefined)[] = [];
  for (const k of keys) {
    const s = readTyped<SetValue>(c, k, 'set');
    if (s === null) return null;
    out.push(s);
  }
  return out;
}

/** Members of the intersection, iterating the smallest set (first among equals). */
function intersect(sets: SetValue[], limit: number): string[] {
  const order = sets.map((s, i) => [s, i] as const).sort((a, b) => a[0].size - b[0].size || a[1] - b[1]);
  const first = order[0]![0];
  const others = order.slice(1).map((p) => p[0]).filter((s) => s !== first);
  const out: string[] = [];
  for (const m of first.members()) {
    let all = true;
    for (const o of others) {
      if (!o.has(m)) {
        all = false;
        break;
      }
    }
    if (!all) continue;
    out.push(m);
    if (limit !== 0 && out.length >= limit) break;
  }
  return out;
}

/** The *STORE commands' end: stores a non-empty result (dropping any TTL) or deletes dst. */
function storeResult(c: Client, db: Db, dst: string, members: Iterable<string>, event: string): void {
  const result = SetValue.from(members, c.server.config);
  const ks = c.server.keyspace;
  if (result.size > 0) {
    db.set(dst, result);
    c.w.int(result.size);
    ks.changed(db, dst, 's', event);
  } else {
    c.w.int(0);
    if (db.delete(dst)) ks.changed(db, dst, 'g', 'del');
  }
}

function sinterGeneric(c: Client, keys: readonly string[], dst: string | null, cardinalityOnly: boolean, limit: number): void {
  const found = lookupSets(c, keys);
  if (found === null) return;
  const db = c.db;
  if (found.some((s) => s === undefined)) {
    if (dst !== null) {
      if (db.delete(dst)) c.server.keyspace.changed(db, dst, 'g', 'del');
      c.w.int(0);
    } else if (cardinalityOnly) c.w.int(0);
    else c.w.set(0);
    return;
  }
  if (found.length === 1 && dst === null && !cardinalityOnly) {
    // SMEMBERS and one-key SINTER: the set itself, in its iteration order.
    replyMembers(c, found[0]!);
    return;
  }
  const members = intersect(found as SetValue[], cardinalityOnly ? limit : 0);
  if (cardinalityOnly) c.w.int(members.length);
  else if (dst !== null) storeResult(c, db, dst, members, 'sinterstore');
  else {
    c.w.set(members.length);
    for (const m of members) c.w.bulk(m);
  }
}

function sinterCommand(c: Client, argv: string[]): void {
  sinterGeneric(c, argv.slice(1), null, false, 0);
}

function sinterstoreCommand(c: Client, argv: string[]): void {
  sinterGeneric(c, argv.slice(2), argv[1]!, false, 0);
}

function sintercardCommand(c: Client, argv: string[]): void {
  const numkeys = parseLong(argv[1]!);
  if (numkeys === null || numkeys < 1) {
    c.w.error('ERR numkeys should be greater than 0');
    return;
  }
  if (numkeys > argv.length - 2) {
    c.w.error("ERR Number of keys can't be greater than number of args");
    return;
  }
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    if (argv[j]!.toLowerCase() === 'limit' && j + 1 < argv.length) {
      const n = parseLong(argv[++j]!);
      if (n === null || n < 0) {
        c.w.error("ERR LIMIT can't be negative");
        return;
      }
      limit = n;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  sinterGeneric(c, argv.slice(2, 2 + numkeys), null, true, limit);
}

// ---------------------------------------------------------------------------------------------
// SUNION SDIFF and their STORE forms

function sunionDiffGeneric(c: Client, keys: readonly string[], dst: string | null, op: 'union' | 'diff'): void {
  const found = lookupSets(c, keys);
  if (found === null) return;
  const cfg = c.server.config;
  // The result is built as Redis builds its temporary set (an intset until a member or the
  // size says otherwise), so its iteration order — the reply order — matches for intsets.
  const result = new SetValue();
  if (op === 'union') {
    for (const s of found) if (s !== undefined) for (const m of s.members()) result.add(m, cfg);
  } else {
    const first = found[0];
    const same = found.some((s, i) => i > 0 && s !== undefined && s === first);
    if (first !== undefined && !same) {
      const others = found.slice(1).filter((s): s is SetValue => s !== undefined);
      for (const m of first.members()) {
        if (!others.some((o) => o.has(m))) result.add(m, cfg);
      }
    }
  }
  if (dst === null) {
    replyMembers(c, result);
    return;
  }
  storeResult(c, c.db, dst, result.members(), op === 'union' ? 'sunionstore' : 'sdiffstore');
}

/** A set reply of every member, in iteration order. */
function replyMembers(c: Client, s: SetValue): void {
  c.w.set(s.size);
  for (const m of s.members()) c.w.bulk(m);
}

function sunionCommand(c: Client, argv: string[]): void {
  sunionDiffGeneric(c, argv.slice(1), null, 'union');
}
function sunionstoreCommand(c: Client, argv: string[]): void {
  sunionDiffGeneric(c, argv.slice(2), argv[1]!, 'union');
}
function sdiffCommand(c: Client, argv: string[]): void {
  sunionDiffGeneric(c, argv.slice(1), null, 'diff');
}
function sdiffstoreCommand(c: Client, argv: string[]): void {
  sunionDiffGeneric(c, argv.slice(2), argv[1]!, 'diff');
}

// ---------------------------------------------------------------------------------------------
// SSCAN

function sscanCommand(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[2]!);
  if (cursor === null) return;
  const s = readTyped<SetValue>(c, argv[1]!, 'set');
  if (s === null) return;
  if (s === undefined) {
    emptyScan(c);
    return;
  }
  const opts = parseScanOptions(c, argv, 3, false);
  if (opts === null) return;
  const pat = opts.pattern;
  const out: string[] = [];
  let next = 0;
  if (s.encoding === 'intset') {
    // A small encoding is returned whole in one call with cursor 0, COUNT ignored (Redis).
    for (const m of s.members()) if (pat === undefined || globMatch(pat, m)) out.push(m);
  } else {
    const start = cursor > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(cursor);
    next = s.scan(start, opts.count, (m) => {
      if (pat === undefined || globMatch(pat, m)) out.push(m);
    });
  }
  scanReply(c, next, out);
}

/** SINTERCARD's key positions (movablekeys): `numkeys` keys after argv[1]. */
function sintercardKeys(argv: string[]): number[] {
  const n = parseLong(argv[1] ?? '');
  if (n === null || n < 1 || 1 + n >= argv.length) return [];
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(2 + i);
  return out;
}

export const setCommands: CommandDef[] = [
  { name: 'sadd', handler: saddCommand },
  { name: 'srem', handler: sremCommand },
  { name: 'smove', handler: smoveCommand },
  { name: 'sismember', handler: sismemberCommand },
  { name: 'smismember', handler: smismemberCommand },
  { name: 'scard', handler: scardCommand },
  { name: 'smembers', handler: sinterCommand },
  { name: 'spop', handler: spopCommand },
  { name: 'srandmember', handler: srandmemberCommand },
  { name: 'sinter', handler: sinterCommand },
  { name: 'sintercard', handler: sintercardCommand, getKeys: sintercardKeys },
  { name: 'sinterstore', handler: sinterstoreCommand },
  { name: 'sunion', handler: sunionCommand },
  { name: 'sunionstore', handler: sunionstoreCommand },
  { name: 'sdiff', handler: sdiffCommand },
  { name: 'sdiffstore', handler: sdiffstoreCommand },
  { name: 'sscan', handler: sscanCommand },
];
