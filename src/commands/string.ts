/**
 * The string command family (Redis t_string.c): GET SET SETNX SETEX PSETEX MGET MSET MSETNX
 * GETSET GETDEL GETEX APPEND STRLEN GETRANGE SETRANGE SUBSTR INCR DECR INCRBY DECRBY
 * INCRBYFLOAT LCS.
 *
 * Replies, error texts, the order in which arguments are validated, keyspace events and the
 * propagated form follow Redis 7.0 exactly. Commands whose effect depends on the time or on
 * float formatting are propagated in a deterministic form (replication.md §5.4): relative
 * expires become `SET k v PXAT <abs>` / `PEXPIREAT`, GETDEL becomes DEL, GETSET becomes SET,
 * INCRBYFLOAT becomes `SET k <result> KEEPTTL`.
 *
 * Values are latin1 byte strings. Integers use JS numbers while they are exact and BigInt only
 * beyond 2^53, so counters stay on the fast path.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { Err } from '../protocol/errors.js';
import { INT64_MAX, INT64_MIN, parseInteger } from '../util/numbers.js';
import { is } from './args.js';
import { alreadyExpired, lookupKeyRead, readString, writeString } from './keys-lookup.js';
import { incrByFloatText } from './string-float.js';
import { setStringEncoding } from '../types/string-encoding.js';
import { lcsCommand } from './string-lcs.js';

/** V8 cannot build strings longer than this (String::kMaxLength on 64-bit). */
const MAX_JS_STRING = 536870888;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** Exact int64 addition; null on overflow. */
function addInt64(a: number | bigint, b: number | bigint): number | bigint | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (Number.isSafeInteger(s)) return s;
  }
  const s = BigInt(a) + BigInt(b);
  if (s > INT64_MAX || s < INT64_MIN) return null;
  return s >= -9007199254740991n && s <= 9007199254740991n ? Number(s) : s;
}

/**
 * checkStringLength: refuses a string that would grow beyond proto-max-bulk-len. The master
 * link is exempt (mustObeyClient), as in Redis. Mirra also cannot exceed V8's string limit.
 */
function checkStringLength(c: Client, size: number): boolean {
  if (c.flags.master && size <= MAX_JS_STRING) return true;
  if (size > c.server.config.int('proto-max-bulk-len') || size > MAX_JS_STRING) {
    c.w.error('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
    return false;
  }
  return true;
}

/** Flags of SET / GETEX (parseExtendedStringArgumentsOrReply). */
const NX = 1;
const XX = 2;
const GET = 4;
const KEEPTTL = 8;
const PERSIST = 16;
const EX = 32;
const PX = 64;
const EXAT = 128;
const PXAT = 256;
const ANY_EXPIRE = EX | PX | EXAT | PXAT;

interface ExtendedArgs {
  flags: number;
  expire: string | undefined;
}

/**
 * Parses SET's (isSet) or GETEX's options from argv[3...] / argv[2...]. Mirrors Redis: a
 * repeated compatible option is accepted, an incompatible one is a syntax error.
 */
function parseExtendedArgs(c: Client, argv: string[], start: number, isSet: boolean): ExtendedArgs | null {
  let flags = 0;
  let expire: string | undefined;
  for (let j = start; j < argv.length; j++) {
    const opt = argv[j]!;
    const hasNext = j < argv.length - 1;
    if (opt.length <= 7) {
      const o = opt.toLowerCase();
      if (o === 'nx' && !(flags & XX) && isSet) {
        flags |= NX;
        continue;
      }
      if (o === 'xx' && !(flags & NX) && isSet) {
        flags |= XX;
        continue;
      }
      if (o === 'get' && isSet) {
        flags |= GET;
        continue;
      }
      if (o === 'keepttl' && !(flags & PERSIST) && !(flags & ANY_EXPIRE) && isSet) {
        flags |= KEEPTTL;
        continue;
      }
      if (o === 'persist' && !isSet && !(flags & ANY_EXPIRE) && !(flags & KEEPTTL)) {
        flags |= PERSIST;
        continue;
      }
      if (hasNext && !(flags & KEEPTTL) && !(flags & PERSIST)) {
        const bit = o === 'ex' ? EX : o === 'px' ? PX : o === 'exat' ? EXAT : o === 'pxat' ? PXAT : 0;
        if (bit !== 0 && !(flags & (ANY_EXPIRE & ~bit))) {
          flags |= bit;
          expire = argv[++j]!;
          continue;
        }
      }
    }
    c.w.error(Err.syntax);
    return null;
  }
  return { flags, expire };
}

/**
 * getExpireMillisecondsOrReply: the absolute expire time in ms for an EX/PX/EXAT/PXAT argument,
 * or null after replying. The value can exceed 2^53 (then it is a bigint).
 */
function expireAt(c: Client, arg: string, flags: number, cmd: string): number | bigint | null {
  const v = parseInteger(arg);
  if (v === null) {
    c.w.error(Err.notInteger);
    return null;
  }
  const seconds = (flags & (EX | EXAT)) !== 0;
  if (v <= 0 || (seconds && BigInt(v) > INT64_MAX / 1000n)) {
    c.w.error(Err.invalidExpire(cmd));
    return null;
  }
  let ms: number | bigint | null = seconds ? (typeof v === 'number' && v < 9007199254740 ? v * 1000 : BigInt(v) * 1000n) : v;
  if (flags & (EX | PX)) ms = addInt64(ms, c.server.clock.ms);
  // Redis's signed overflow wraps negative and is reported as an invalid time.
  if (ms === null || ms <= 0) {
    c.w.error(Err.invalidExpire(cmd));
    return null;
  }
  return ms;
}

/** Replies with a string value as GET does (getGenericCommand). Returns false after WRONGTYPE. */
function getGeneric(c: Client, key: string): boolean {
  const v = readString(c, key);
  if (v === null) return false;
  if (v === undefined) c.w.nullBulk();
  else c.w.bulk(v);
  return true;
}

// ---------------------------------------------------------------------------------------------
// GET SET SETNX SETEX PSETEX

function getCommand(c: Client, argv: string[]): void {
  getGeneric(c, argv[1]!);
}

/**
 * setGenericCommand. `okReply`/`abortReply` select SETNX's integer replies; `cmd` names the
 * command in "invalid expire time" errors.
 */
function setGeneric(
  c: Client,
  argv: string[],
  flags: number,
  key: string,
  value: string,
  expire: string | undefined,
  cmd: string,
  integerReplies: boolean,
): void {
  let when: number | bigint = 0;
  if (expire !== undefined) {
    const w = expireAt(c, expire, flags, cmd);
    if (w === null) return;
    when = w;
  }
  if (flags & GET && !getGeneric(c, key)) return;
  const db = c.db;
  const found = db.lookupWrite(key) !== undefined;
  if ((flags & NX && found) || (flags & XX && !found)) {
    if (!(flags & GET)) {
      if (integerReplies) c.w.int(0);
      else c.w.nullBulk();
    }
    return;
  }
  db.set(key, value, (flags & KEEPTTL) !== 0);
  const ks = c.server.keyspace;
  ks.changed(db, key, '$', 'set');
  if (expire !== undefined) {
    db.setExpire(key, Number(when));
    // A relative or absolute expire is propagated as an absolute PXAT so replicas and the AOF
    // expire the key at the same instant.
    c.server.propagator.rewrite(['SET', key, value, 'PXAT', String(when)]);
    ks.notify(db, key, 'g', 'expire');
  } else if (flags & GET) {
    // GET only shapes the reply; replicas get the SET without it.
    const out: string[] = [];
    for (let j = 0; j < argv.length; j++) if (j < 3 || !is(argv[j]!, 'get')) out.push(argv[j]!);
    c.server.propagator.rewrite(out);
  }
  if (!(flags & GET)) {
    if (integerReplies) c.w.int(1);
    else c.w.ok();
  }
}

function setCommand(c: Client, argv: string[]): void {
  // The plain `SET key value` has no options to parse.
  if (argv.length === 3) {
    setGeneric(c, argv, 0, argv[1]!, argv[2]!, undefined, 'set', false);
    return;
  }
  const a = parseExtendedArgs(c, argv, 3, true);
  if (a === null) return;
  setGeneric(c, argv, a.flags, argv[1]!, argv[2]!, a.expire, 'set', false);
}

function setnxCommand(c: Client, argv: string[]): void {
  setGeneric(c, argv, NX, argv[1]!, argv[2]!, undefined, 'setnx', true);
}

function setexCommand(c: Client, argv: string[]): void {
  setGeneric(c, argv, EX, argv[1]!, argv[3]!, argv[2]!, 'setex', false);
}

function psetexCommand(c: Client, argv: string[]): void {
  setGeneric(c, argv, PX, argv[1]!, argv[3]!, argv[2]!, 'psetex', false);
}

// ---------------------------------------------------------------------------------------------
// GETEX GETDEL GETSET

function getexCommand(c: Client, argv: string[]): void {
  const a = parseExtendedArgs(c, argv, 2, false);
  if (a === null) return;
  const key = argv[1]!;
  const v = readString(c, key);
  if (v === null) return;
  if (v === undefined) {
    c.w.nullBulk();
    return;
  }
  let when: number | bigint = 0;
  if (a.expire !== undefined) {
    const w = expireAt(c, a.expire, a.flags, 'getex');
    if (w === null) return;
    when = w;
  }
  c.w.bulk(v);
  const db = c.db;
  const server = c.server;
  const ks = server.keyspace;
  if (a.flags & (EXAT | PXAT) && alreadyExpired(c, Number(when))) {
    db.delete(key);
    const lazy = server.config.bool('lazyfree-lazy-expire');
    server.propagator.rewrite([lazy ? 'UNLINK' : 'DEL', key]);
    ks.changed(db, key, 'g', 'del');
  } else if (a.expire !== undefined) {
    db.setExpire(key, Number(when));
    server.propagator.rewrite(['PEXPIREAT', key, String(when)]);
    ks.changed(db, key, 'g', 'expire');
  } else if (a.flags & PERSIST) {
    if (db.removeExpire(key)) {
      server.propagator.rewrite(['PERSIST', key]);
      ks.changed(db, key, 'g', 'persist');
    }
  }
}

function getdelCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  if (!getGeneric(c, key)) return;
  const db = c.db;
  if (db.delete(key)) {
    const server = c.server;
    server.propagator.rewrite([server.config.bool('lazyfree-lazy-user-del') ? 'UNLINK' : 'DEL', key]);
    server.keyspace.changed(db, key, 'g', 'del');
  }
}

function getsetCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  if (!getGeneric(c, key)) return;
  const value = argv[2]!;
  c.db.set(key, value);
  c.server.keyspace.changed(c.db, key, '$', 'set');
  c.server.propagator.rewrite(['SET', key, value]);
}

// ---------------------------------------------------------------------------------------------
// MGET MSET MSETNX

function mgetCommand(c: Client, argv: string[]): void {
  c.w.array(argv.length - 1);
  for (let j = 1; j < argv.length; j++) {
    const v = lookupKeyRead(c, argv[j]!);
    if (typeof v === 'string') c.w.bulk(v);
    else c.w.nullBulk();
  }
}

function msetGeneric(c: Client, argv: string[], nx: boolean): void {
  if (argv.length % 2 === 0) {
    c.w.error(Err.wrongArity(nx ? 'msetnx' : 'mset'));
    return;
  }
  const db = c.db;
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) {
      if (db.lookupWrite(argv[j]!) !== undefined) {
        c.w.int(0);
        return;
      }
    }
  }
  const ks = c.server.keyspace;
  for (let j = 1; j < argv.length; j += 2) {
    const key = argv[j]!;
    db.set(key, argv[j + 1]!);
    // dirty is counted once per pair, as `server.dirty += (argc-1)/2`.
    ks.changed(db, key, '$', 'set');
  }
  if (nx) c.w.int(1);
  else c.w.ok();
}

function msetCommand(c: Client, argv: string[]): void {
  msetGeneric(c, argv, false);
}

function msetnxCommand(c: Client, argv: string[]): void {
  msetGeneric(c, argv, true);
}

// ---------------------------------------------------------------------------------------------
// APPEND STRLEN GETRANGE SETRANGE

function appendCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const tail = argv[2]!;
  const db = c.db;
  const o = writeString(c, key);
  if (o === null) return;
  const ks = c.server.keyspace;
  let total: number;
  if (o === undefined) {
    db.add(key, tail);
    total = tail.length;
    ks.changed(db, key, '$', 'append');
  } else {
    if (!checkStringLength(c, o.length + tail.length)) return;
    const v = o + tail;
    db.set(key, v, true);
    total = v.length;
    ks.changed(db, key, '$', 'append');
    // dbUnshareStringValue leaves the value raw whatever its length.
    setStringEncoding(ks, db, key, v, 'raw');
  }
  c.w.int(total);
}

function strlenCommand(c: Client, argv: string[]): void {
  const v = readString(c, argv[1]!);
  if (v === null) return;
  c.w.int(v === undefined ? 0 : v.length);
}

const SAFE = 9007199254740991;

/** An int64 argument as a number; values beyond 2^53 clamp to ±2^53 (string offsets never get there). */
function indexArg(c: Client, s: string): { n: number; big: bigint | null } | null {
  const v = parseInteger(s);
  if (v === null) {
    c.w.error(Err.notInteger);
    return null;
  }
  if (typeof v === 'number') return { n: v, big: null };
  return { n: v > 0n ? SAFE : -SAFE, big: v };
}

function getrangeCommand(c: Client, argv: string[]): void {
  const s = indexArg(c, argv[2]!);
  if (s === null) return;
  const e = indexArg(c, argv[3]!);
  if (e === null) return;
  const v = lookupKeyRead(c, argv[1]!);
  if (v === undefined) {
    c.w.bulk('');
    return;
  }
  if (typeof v !== 'string') {
    c.w.error(Err.wrongType);
    return;
  }
  const len = v.length;
  let start = s.n;
  let end = e.n;
  const startGtEnd = s.big !== null || e.big !== null ? (s.big ?? BigInt(s.n)) > (e.big ?? BigInt(e.n)) : start > end;
  if (start < 0 && end < 0 && startGtEnd) {
    c.w.bulk('');
    return;
  }
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) c.w.bulk('');
  else c.w.bulk(v.slice(start, end + 1));
}

function setrangeCommand(c: Client, argv: string[]): void {
  const off = parseInteger(argv[2]!);
  if (off === null) {
    c.w.error(Err.notInteger);
    return;
  }
  if (off < 0) {
    c.w.error('ERR offset is out of range');
    return;
  }
  const key = argv[1]!;
  const value = argv[3]!;
  const db = c.db;
  const o = writeString(c, key);
  if (o === null) return;
  if (o === undefined) {
    if (value.length === 0) {
      c.w.int(0);
      return;
    }
  } else if (value.length === 0) {
    c.w.int(o.length);
    return;
  }
  const offset = typeof off === 'bigint' ? Number.MAX_SAFE_INTEGER : off;
  if (!checkStringLength(c, offset + value.length)) return;
  const old = o ?? '';
  const base = old.length < offset ? old + '\0'.repeat(offset - old.length) : old;
  const v = base.slice(0, offset) + value + base.slice(offset + value.length);
  if (o === undefined) db.add(key, v);
  else db.set(key, v, true);
  const ks = c.server.keyspace;
  ks.changed(db, key, '$', 'setrange');
  // SETRANGE works on an unshared raw sds (a new key is created raw too).
  setStringEncoding(ks, db, key, v, 'raw');
  c.w.int(v.length);
}

// ---------------------------------------------------------------------------------------------
// INCR DECR INCRBY DECRBY INCRBYFLOAT

function incrDecr(c: Client, key: string, incr: number | bigint): void {
  const db = c.db;
  const o = writeString(c, key);
  if (o === null) return;
  let cur: number | bigint = 0;
  if (o !== undefined) {
    const p = parseInteger(o);
    if (p === null) {
      c.w.error(Err.notInteger);
      return;
    }
    cur = p;
  }
  const result = addInt64(cur, incr);
  if (result === null) {
    c.w.error(Err.overflow);
    return;
  }
  const text = typeof result === 'number' ? String(result) : result.toString();
  if (o === undefined) db.add(key, text);
  else db.set(key, text, true);
  c.server.keyspace.changed(db, key, '$', 'incrby');
  c.w.int(result);
}

function incrCommand(c: Client, argv: string[]): void {
  incrDecr(c, argv[1]!, 1);
}

function decrCommand(c: Client, argv: string[]): void {
  incrDecr(c, argv[1]!, -1);
}

function incrbyCommand(c: Client, argv: string[]): void {
  const incr = parseInteger(argv[2]!);
  if (incr === null) {
    c.w.error(Err.notInteger);
    return;
  }
  incrDecr(c, argv[1]!, incr);
}

function decrbyCommand(c: Client, argv: string[]): void {
  const incr = parseInteger(argv[2]!);
  if (incr === null) {
    c.w.error(Err.notInteger);
    return;
  }
  if (incr === INT64_MIN) {
    c.w.error('ERR decrement would overflow');
    return;
  }
  incrDecr(c, argv[1]!, typeof incr === 'number' ? -incr : -incr);
}

function incrbyfloatCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const db = c.db;
  const o = writeString(c, key);
  if (o === null) return;
  const r = incrByFloatText(o ?? '0', argv[2]!);
  if (r === 'notfloat') {
    c.w.error(Err.notFloat);
    return;
  }
  if (r === 'nan') {
    c.w.error('ERR increment would produce NaN or Infinity');
    return;
  }
  if (o === undefined) db.add(key, r);
  else db.set(key, r, true);
  const ks = c.server.keyspace;
  ks.changed(db, key, '$', 'incrbyfloat');
  // createStringObjectFromLongDouble makes an embstr/raw object, never an integer one.
  setStringEncoding(ks, db, key, r, r.length <= 44 ? 'embstr' : 'raw');
  c.w.bulk(r);
  // The float text is computed once here; replicas store the same bytes.
  c.server.propagator.rewrite(['SET', key, r, 'KEEPTTL']);
}

// ---------------------------------------------------------------------------------------------

export const stringCommands: CommandDef[] = [
  { name: 'get', handler: getCommand },
  { name: 'set', handler: setCommand },
  { name: 'setnx', handler: setnxCommand },
  { name: 'setex', handler: setexCommand },
  { name: 'psetex', handler: psetexCommand },
  { name: 'getex', handler: getexCommand },
  { name: 'getdel', handler: getdelCommand },
  { name: 'getset', handler: getsetCommand },
  { name: 'mget', handler: mgetCommand },
  { name: 'mset', handler: msetCommand },
  { name: 'msetnx', handler: msetnxCommand },
  { name: 'append', handler: appendCommand },
  { name: 'strlen', handler: strlenCommand },
  { name: 'getrange', handler: getrangeCommand },
  { name: 'substr', handler: getrangeCommand },
  { name: 'setrange', handler: setrangeCommand },
  { name: 'incr', handler: incrCommand },
  { name: 'decr', handler: decrCommand },
  { name: 'incrby', handler: incrbyCommand },
  { name: 'decrby', handler: decrbyCommand },
  { name: 'incrbyfloat', handler: incrbyfloatCommand },
  { name: 'lcs', handler: lcsCommand },
];
