/**
 * Key expiry commands (Redis expire.c): EXPIRE PEXPIRE EXPIREAT PEXPIREAT [NX|XX|GT|LT],
 * TTL PTTL EXPIRETIME PEXPIRETIME PERSIST TOUCH.
 *
 * Every expire is propagated as an absolute `PEXPIREAT` (PEXPIREAT itself passes unchanged),
 * and a time already in the past deletes the key and is propagated as `DEL` (`UNLINK` with
 * lazyfree-lazy-expire), so replicas and the AOF never depend on when they apply the command.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { Err } from '../protocol/errors.js';
import { INT64_MAX, INT64_MIN, parseInteger } from '../util/numbers.js';
import { alreadyExpired, lookupKeyRead, lookupKeyReadNoTouch } from './keys-lookup.js';

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** parseExtendedExpireArgumentsOrReply. Returns the flags or null after replying. */
function parseExpireFlags(c: Client, argv: string[]): number | null {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!;
    const o = opt.toLowerCase();
    if (o === 'nx') flags |= EXPIRE_NX;
    else if (o === 'xx') flags |= EXPIRE_XX;
    else if (o === 'gt') flags |= EXPIRE_GT;
    else if (o === 'lt') flags |= EXPIRE_LT;
    else {
      c.w.error(`ERR Unsupported option ${opt}`);
      return null;
    }
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    c.w.error('ERR NX and XX, GT or LT options at the same time are not compatible');
    return null;
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    c.w.error('ERR GT and LT options at the same time are not compatible');
    return null;
  }
  return flags;
}

/**
 * expireGenericCommand. `relative` adds the current time (EXPIRE/PEXPIRE), `seconds` scales
 * the argument, `isPexpireat` keeps the client's argv for propagation.
 */
function expireGeneric(c: Client, argv: string[], relative: boolean, seconds: boolean, isPexpireat: boolean, cmd: string): void {
  const flags = parseExpireFlags(c, argv);
  if (flags === null) return;
  const raw = parseInteger(argv[2]!);
  if (raw === null) {
    c.w.error(Err.notInteger);
    return;
  }
  // Overflow by unit conversion or by adding the base time is an error (negative is allowed).
  let when: bigint | number = raw;
  if (seconds) {
    const b = BigInt(raw);
    if (b > INT64_MAX / 1000n || b < INT64_MIN / 1000n) {
      c.w.error(Err.invalidExpire(cmd));
      return;
    }
    when = typeof raw === 'number' && Math.abs(raw) < 9007199254740 ? raw * 1000 : b * 1000n;
  }
  if (relative) {
    const base = c.server.clock.ms;
    if (BigInt(when) > INT64_MAX - BigInt(base)) {
      c.w.error(Err.invalidExpire(cmd));
      return;
    }
    when = typeof when === 'number' && Number.isSafeInteger(when + base) ? when + base : BigInt(when) + BigInt(base);
  }
  const key = argv[1]!;
  const db = c.db;
  if (db.lookupWrite(key) === undefined) {
    c.w.int(0);
    return;
  }
  const whenMs = Number(when);
  if (flags !== 0) {
    const current = db.getExpire(key);
    if (flags & EXPIRE_NX && current !== undefined) return c.w.int(0);
    if (flags & EXPIRE_XX && current === undefined) return c.w.int(0);
    // No TTL counts as infinite: GT never passes, LT always does.
    if (flags & EXPIRE_GT && (current === undefined || whenMs <= current)) return c.w.int(0);
    if (flags & EXPIRE_LT && current !== undefined && whenMs >= current) return c.w.int(0);
  }
  const server = c.server;
  if (alreadyExpired(c, whenMs)) {
    db.delete(key);
    server.propagator.rewrite([server.config.bool('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL', key]);
    server.keyspace.changed(db, key, 'g', 'del');
    c.w.int(1);
    return;
  }
  db.setExpire(key, whenMs);
  c.w.int(1);
  if (!isPexpireat) server.propagator.rewrite(['PEXPIREAT', key, String(when)]);
  server.keyspace.changed(db, key, 'g', 'expire');
}

function expireCommand(c: Client, argv: string[]): void {
  expireGeneric(c, argv, true, true, false, 'expire');
}

function pexpireCommand(c: Client, argv: string[]): void {
  expireGeneric(c, argv, true, false, false, 'pexpire');
}

function expireatCommand(c: Client, argv: string[]): void {
  expireGeneric(c, argv, false, true, false, 'expireat');
}

function pexpireatCommand(c: Client, argv: string[]): void {
  expireGeneric(c, argv, false, false, true, 'pexpireat');
}

/** ttlGenericCommand: -2 missing, -1 no TTL, else remaining (or absolute) time. */
function ttlGeneric(c: Client, key: string, ms: boolean, absolute: boolean): void {
  if (lookupKeyReadNoTouch(c, key) === undefined) {
    c.w.int(-2);
    return;
  }
  const expire = c.db.getExpire(key);
  if (expire === undefined) {
    c.w.int(-1);
    return;
  }
  let ttl = absolute ? expire : expire - c.server.clock.ms;
  if (ttl < 0) ttl = 0;
  c.w.int(int64Reply(ms ? ttl : Math.floor((ttl + 500) / 1000)));
}

/**
 * Expire times are kept as JS numbers, exact up to 2^53 ms (year 287396). Beyond that (only
 * absurd PEXPIREAT values reach it) the reply must still be a valid int64: print the double
 * exactly, clamped to INT64_MAX, never in exponent form.
 */
function int64Reply(n: number): number | bigint {
  if (Number.isSafeInteger(n)) return n;
  const b = BigInt(Math.trunc(n));
  return b > INT64_MAX ? INT64_MAX : b < INT64_MIN ? INT64_MIN : b;
}

function ttlCommand(c: Client, argv: string[]): void {
  ttlGeneric(c, argv[1]!, false, false);
}

function pttlCommand(c: Client, argv: string[]): void {
  ttlGeneric(c, argv[1]!, true, false);
}

function expiretimeCommand(c: Client, argv: string[]): void {
  ttlGeneric(c, argv[1]!, false, true);
}

function pexpiretimeCommand(c: Client, argv: string[]): void {
  ttlGeneric(c, argv[1]!, true, true);
}

function persistCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const db = c.db;
  if (db.lookupWrite(key) !== undefined && db.removeExpire(key)) {
    c.server.keyspace.changed(db, key, 'g', 'persist');
    c.w.int(1);
    return;
  }
  c.w.int(0);
}

function touchCommand(c: Client, argv: string[]): void {
  let n = 0;
  for (let j = 1; j < argv.length; j++) if (lookupKeyRead(c, argv[j]!) !== undefined) n++;
  c.w.int(n);
}

export const expireCommands: CommandDef[] = [
  { name: 'expire', handler: expireCommand },
  { name: 'pexpire', handler: pexpireCommand },
  { name: 'expireat', handler: expireatCommand },
  { name: 'pexpireat', handler: pexpireatCommand },
  { name: 'ttl', handler: ttlCommand },
  { name: 'pttl', handler: pttlCommand },
  { name: 'expiretime', handler: expiretimeCommand },
  { name: 'pexpiretime', handler: pexpiretimeCommand },
  { name: 'persist', handler: persistCommand },
  { name: 'touch', handler: touchCommand },
];
