/**
 * The generic (keyspace) command family (Redis db.c, object.c, expire.c): DEL UNLINK EXISTS
 * TYPE RENAME RENAMENX MOVE COPY SWAPDB KEYS SCAN RANDOMKEY DBSIZE FLUSHDB FLUSHALL, the expire
 * commands (keys-expire.ts), SCAN (keys-scan.ts) and OBJECT.
 *
 * Replies, errors, keyspace events and dirty accounting follow Redis 7.0: RENAME/MOVE count one
 * change for two events, FLUSHDB adds the number of removed keys, FLUSHALL that plus one, and
 * FLUSHDB/FLUSHALL/SWAPDB are propagated even when nothing changed.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import type { Db } from '../keyspace/db.js';
import type { Value } from '../types/value.js';
import type { Config } from '../config/config.js';
import { typeOf } from '../types/value.js';
import { Err } from '../protocol/errors.js';
import { globMatch } from '../util/glob.js';
import { parseInt64, parseInteger } from '../util/numbers.js';
import { lookupKeyRead, lookupKeyReadNoTouch } from './keys-lookup.js';
import { scanCommand } from './keys-scan.js';
import { expireCommands } from './keys-expire.js';
import { setStringEncoding, stringEncoding, stringRefcount, swapStringEncodings, type StringEncoding } from '../types/string-encoding.js';

// ---------------------------------------------------------------------------------------------
// DEL UNLINK EXISTS TYPE

function delGeneric(c: Client, argv: string[]): void {
  const db = c.db;
  const ks = c.server.keyspace;
  let deleted = 0;
  for (let j = 1; j < argv.length; j++) {
    const key = argv[j]!;
    // An expired key is removed (and its DEL propagated) by expiry, not counted as deleted.
    if (db.expires.size !== 0) db.expireIfNeeded(key);
    if (db.delete(key)) {
      ks.changed(db, key, 'g', 'del');
      deleted++;
    }
  }
  c.w.int(deleted);
}

function existsCommand(c: Client, argv: string[]): void {
  let n = 0;
  for (let j = 1; j < argv.length; j++) if (lookupKeyReadNoTouch(c, argv[j]!) !== undefined) n++;
  c.w.int(n);
}

function typeCommand(c: Client, argv: string[]): void {
  const v = lookupKeyReadNoTouch(c, argv[1]!);
  c.w.simple(v === undefined ? 'none' : typeOf(v));
}

// ---------------------------------------------------------------------------------------------
// RENAME RENAMENX MOVE COPY

/** The encoding a string keeps when its object moves to another key (RENAME, MOVE). */
function encodingOf(db: Db, key: string, v: Value): StringEncoding | undefined {
  return typeof v === 'string' ? stringEncoding(db, key, v) : undefined;
}

function renameGeneric(c: Client, argv: string[], nx: boolean): void {
  const src = argv[1]!;
  const dst = argv[2]!;
  const db = c.db;
  const v = db.lookupWrite(src);
  if (v === undefined) {
    c.w.error(Err.noSuchKey);
    return;
  }
  if (src === dst) {
    if (nx) c.w.int(0);
    else c.w.ok();
    return;
  }
  const expire = db.getExpire(src);
  if (db.lookupWrite(dst) !== undefined) {
    if (nx) {
      c.w.int(0);
      return;
    }
    db.delete(dst);
  }
  const enc = encodingOf(db, src, v);
  db.add(dst, v);
  if (expire !== undefined) db.setExpire(dst, expire);
  db.delete(src);
  const ks = c.server.keyspace;
  ks.changed(db, src, 'g', 'rename_from');
  ks.changed(db, dst, 'g', 'rename_to', 0);
  if (enc !== undefined) setStringEncoding(ks, db, dst, v as string, enc);
  if (nx) c.w.int(1);
  else c.w.ok();
}

function renameCommand(c: Client, argv: string[]): void {
  renameGeneric(c, argv, false);
}

function renamenxCommand(c: Client, argv: string[]): void {
  renameGeneric(c, argv, true);
}

/**
 * A DB index argument (getIntFromObjectOrReply + selectDb): the Db, or null after replying
 * (not an integer, outside the C int range, or not an existing DB).
 */
function dbArg(c: Client, s: string): Db | null {
  const id = parseInteger(s);
  if (id === null) {
    c.w.error(Err.notInteger);
    return null;
  }
  if (id < -2147483648 || id > 2147483647) {
    c.w.error('ERR value is out of range, value must between -2147483648 and 2147483647');
    return null;
  }
  const db = id >= 0 ? c.server.keyspace.dbs[Number(id)] : undefined;
  if (db === undefined) {
    c.w.error(Err.dbIndexOutOfRange);
    return null;
  }
  return db;
}

function moveCommand(c: Client, argv: string[]): void {
  const src = c.db;
  const dst = dbArg(c, argv[2]!);
  if (dst === null) return;
  if (src === dst) {
    c.w.error('ERR source and destination objects are the same');
    return;
  }
  const key = argv[1]!;
  const v = src.lookupWrite(key);
  if (v === undefined) {
    c.w.int(0);
    return;
  }
  const expire = src.getExpire(key);
  if (dst.lookupWrite(key) !== undefined) {
    c.w.int(0);
    return;
  }
  const enc = encodingOf(src, key, v);
  dst.add(key, v);
  if (expire !== undefined) dst.setExpire(key, expire);
  src.delete(key);
  const ks = c.server.keyspace;
  ks.changed(src, key, 'g', 'move_from');
  ks.changed(dst, key, 'g', 'move_to', 0);
  if (enc !== undefined) setStringEncoding(ks, dst, key, v as string, enc);
  c.w.int(1);
}

/**
 * A deep copy of a value in the same encoding (Redis's *TypeDup). Value classes provide `dup()`;
 * otherwise the copy is rebuilt through the type contract (types/README.md).
 */
/** A deep copy keeping the value's encoding (every value type implements dup()). */
function dupValue(v: Value): Value {
  return typeof v === 'string' ? v : v.dup();
}

function copyCommand(c: Client, argv: string[]): void {
  const src = c.db;
  let dst = c.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    if (opt === 'replace') replace = true;
    else if (opt === 'db' && j + 1 < argv.length) {
      const d = dbArg(c, argv[j + 1]!);
      if (d === null) return;
      dst = d;
      j++;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  const key = argv[1]!;
  const newKey = argv[2]!;
  if (src === dst && key === newKey) {
    c.w.error('ERR source and destination objects are the same');
    return;
  }
  const v = lookupKeyRead(c, key);
  if (v === undefined) {
    c.w.int(0);
    return;
  }
  const expire = src.getExpire(key);
  let del = false;
  if (dst.lookupWrite(newKey) !== undefined) {
    if (!replace) {
      c.w.int(0);
      return;
    }
    del = true;
  }
  let copy: Value;
  try {
    copy = dupValue(v);
  } catch (e) {
    c.w.error(`ERR ${(e as Error).message}`);
    return;
  }
  const enc = encodingOf(src, key, v);
  if (del) dst.delete(newKey);
  dst.add(newKey, copy);
  if (expire !== undefined) dst.setExpire(newKey, expire);
  const ks = c.server.keyspace;
  ks.changed(dst, newKey, 'g', 'copy_to');
  if (enc !== undefined) setStringEncoding(ks, dst, newKey, copy as string, enc);
  c.w.int(1);
}

// ---------------------------------------------------------------------------------------------
// SWAPDB FLUSHDB FLUSHALL DBSIZE RANDOMKEY KEYS

function swapdbCommand(c: Client, argv: string[]): void {
  const id1 = parseInt64(argv[1]!);
  if (id1 === null || id1 < -2147483648 || id1 > 2147483647) {
    c.w.error('ERR invalid first DB index');
    return;
  }
  const id2 = parseInt64(argv[2]!);
  if (id2 === null || id2 < -2147483648 || id2 > 2147483647) {
    c.w.error('ERR invalid second DB index');
    return;
  }
  const ks = c.server.keyspace;
  const a = id1 >= 0 ? ks.dbs[id1] : undefined;
  const b = id2 >= 0 ? ks.dbs[id2] : undefined;
  if (a === undefined || b === undefined) {
    c.w.error(Err.dbIndexOutOfRange);
    return;
  }
  if (a !== b) {
    // WATCHers and blocked clients are told first, with what each DB is replaced by.
    ks.signalDbsChanged([a, b], [b, a]);
    a.swapContents(b);
    swapStringEncodings(a, b);
  }
  ks.dirty++;
  c.w.ok();
}

/** FLUSHDB/FLUSHALL's optional argument: SYNC, ASYNC or nothing. Returns false after replying. */
function flushArgsOk(c: Client, argv: string[]): boolean {
  if (argv.length === 1) return true;
  if (argv.length === 2) {
    const a = argv[1]!.toLowerCase();
    if (a === 'sync' || a === 'async') return true;
  }
  c.w.error(Err.syntax);
  return false;
}

/**
 * Empties databases (Redis emptyData): WATCHers and blocked clients are told first, then each
 * map is cleared (Db.clear lets a running snapshot keep what it still needs). Clearing a Map
 * drops its backing store wholesale, so SYNC and ASYNC cost the same here. Returns the number
 * of keys removed.
 */
function emptyDbs(c: Client, dbs: readonly Db[]): number {
  c.server.keyspace.signalDbsChanged(dbs);
  let removed = 0;
  for (const db of dbs) if (db.size !== 0) removed += db.clear();
  return removed;
}

function flushdbCommand(c: Client, argv: string[]): void {
  if (!flushArgsOk(c, argv)) return;
  const ks = c.server.keyspace;
  ks.dirty += emptyDbs(c, [c.db]);
  // Propagated even when the DB was already empty.
  c.server.propagator.force();
  c.w.ok();
}

function flushallCommand(c: Client, argv: string[]): void {
  if (!flushArgsOk(c, argv)) return;
  const server = c.server;
  const ks = server.keyspace;
  ks.dirty += emptyDbs(c, ks.dbs);
  // Redis also kills a running RDB child and, when save points are configured, saves the now
  // empty dataset here (keeping dirty, so FLUSHALL is still propagated). Persistence has no
  // hook for that yet (afterFlushAll); until it does, FLUSHALL only empties the data.
  ks.dirty++;
  server.propagator.force();
  c.w.ok();
}

function dbsizeCommand(c: Client): void {
  c.w.int(c.db.size);
}

function randomkeyCommand(c: Client): void {
  const key = c.db.randomKey();
  if (key === undefined) c.w.nullBulk();
  else c.w.bulk(key);
}

function keysCommand(c: Client, argv: string[]): void {
  const pattern = argv[1]!;
  const all = pattern === '*';
  const db = c.db;
  const server = c.server;
  // keyIsExpired: nothing is expired while loading; otherwise strictly past its time.
  const checkExpire = db.expires.size !== 0 && !server.persistence.loading;
  const now = server.clock.ms;
  const out: string[] = [];
  for (const key of db.dict.keys()) {
    if (!all && !globMatch(pattern, key)) continue;
    if (checkExpire) {
      const when = db.expires.get(key);
      if (when !== undefined && now > when) continue;
    }
    out.push(key);
  }
  c.w.bulkArray(out);
}

// ---------------------------------------------------------------------------------------------
// OBJECT

const OBJECT_HELP = [
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
];

function objectHelp(c: Client, argv: string[]): void {
  c.w.array(OBJECT_HELP.length + 3);
  c.w.simple(`${argv[0]!.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const line of OBJECT_HELP) c.w.simple(line);
  c.w.simple('HELP');
  c.w.simple('    Prints this help.');
}

/** objectCommandLookupOrReply: no keymiss event; replies null when missing. */
function objectLookup(c: Client, key: string): Value | undefined {
  const v = lookupKeyReadNoTouch(c, key, false);
  if (v === undefined) c.w.nullBulk();
  return v;
}

function objectEncoding(c: Client, argv: string[]): void {
  const key = argv[2]!;
  const v = objectLookup(c, key);
  if (v === undefined) return;
  if (typeof v === 'string') {
    c.w.bulk(stringEncoding(c.db, key, v));
    return;
  }
  const enc = (v as unknown as { encoding: string | ((cfg: Config) => string) }).encoding;
  c.w.bulk(typeof enc === 'function' ? enc.call(v, c.server.config) : enc);
}

function objectRefcount(c: Client, argv: string[]): void {
  const key = argv[2]!;
  const v = objectLookup(c, key);
  if (v === undefined) return;
  c.w.int(typeof v === 'string' ? stringRefcount(v, stringEncoding(c.db, key, v), c.server.config) : 1);
}

const POLICY_NOTE = 'Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

function lfuPolicy(c: Client): boolean {
  return c.server.config.str('maxmemory-policy').includes('lfu');
}

function objectIdletime(c: Client, argv: string[]): void {
  const key = argv[2]!;
  const v = objectLookup(c, key);
  if (v === undefined) return;
  if (lfuPolicy(c)) {
    c.w.error(`ERR An LFU maxmemory policy is selected, idle time not tracked. ${POLICY_NOTE}`);
    return;
  }
  // estimateObjectIdleTime: LRU clock difference, with the 24-bit clock's wrap-around.
  const db = c.db;
  const last = db.lruOf(key) ?? db.lruClock();
  const now = db.lruClock();
  c.w.int(now >= last ? now - last : now + (0xffffff - last));
}

function objectFreq(c: Client, argv: string[]): void {
  const v = objectLookup(c, argv[2]!);
  if (v === undefined) return;
  if (!lfuPolicy(c)) {
    c.w.error(`ERR An LFU maxmemory policy is not selected, access frequency not tracked. ${POLICY_NOTE}`);
    return;
  }
  // Mirra evicts nothing by LFU and so keeps no access-frequency counters to report.
  c.w.error('ERR Mirra does not track access frequency (OBJECT FREQ)');
}

// ---------------------------------------------------------------------------------------------

export const keysCommands: CommandDef[] = [
  { name: 'del', handler: delGeneric },
  { name: 'unlink', handler: delGeneric },
  { name: 'exists', handler: existsCommand },
  { name: 'type', handler: typeCommand },
  { name: 'rename', handler: renameCommand },
  { name: 'renamenx', handler: renamenxCommand },
  { name: 'move', handler: moveCommand },
  { name: 'copy', handler: copyCommand },
  { name: 'swapdb', handler: swapdbCommand },
  { name: 'flushdb', handler: flushdbCommand },
  { name: 'flushall', handler: flushallCommand },
  { name: 'dbsize', handler: dbsizeCommand },
  { name: 'randomkey', handler: randomkeyCommand },
  { name: 'keys', handler: keysCommand },
  { name: 'scan', handler: scanCommand },
  ...expireCommands,
  {
    name: 'object',
    subcommands: [
      { name: 'help', handler: objectHelp },
      { name: 'encoding', handler: objectEncoding },
      { name: 'refcount', handler: objectRefcount },
      { name: 'idletime', handler: objectIdletime },
      { name: 'freq', handler: objectFreq },
    ],
  },
];
