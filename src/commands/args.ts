/**
 * Small helpers handlers use to read arguments and report errors with Redis's texts.
 * Each returns null after writing the error reply, so a handler can `if (x === null) return;`.
 */
import type { Client } from '../net/client.js';
import { Err } from '../protocol/errors.js';
import { parseDouble, parseInt64 } from '../util/numbers.js';
import type { Value, TypeName } from '../types/value.js';
import { typeOf } from '../types/value.js';

export function intArg(c: Client, s: string, err: string = Err.notInteger): number | null {
  const n = parseInt64(s);
  if (n === null) {
    c.w.error(err);
    return null;
  }
  return n;
}

/** Integer that must be >= 0 (e.g. counts); `what` names it in "ERR <what> is out of range". */
export function positiveIntArg(c: Client, s: string, what: string): number | null {
  const n = parseInt64(s);
  if (n === null) {
    c.w.error(Err.notInteger);
    return null;
  }
  if (n < 0) {
    c.w.error(`ERR ${what} is out of range, must be positive`);
    return null;
  }
  return n;
}

export function floatArg(c: Client, s: string, err: string = Err.notFloat): number | null {
  const n = parseDouble(s);
  if (n === null) {
    c.w.error(err);
    return null;
  }
  return n;
}

/**
 * Looks up a key for reading and checks its type. Returns the value, `undefined` when missing,
 * or null after replying WRONGTYPE.
 */
export function readTyped<T extends Value>(c: Client, key: string, type: TypeName): T | undefined | null {
  const v = c.db.lookupRead(key);
  if (v === undefined) {
    c.server.stats.keyspaceMisses++;
    return undefined;
  }
  c.server.stats.keyspaceHits++;
  if (typeOf(v) !== type) {
    c.w.error(Err.wrongType);
    return null;
  }
  return v as T;
}

/** Like readTyped, for a key the handler will modify (runs the snapshot hook). */
export function writeTyped<T extends Value>(c: Client, key: string, type: TypeName): T | undefined | null {
  const v = c.db.lookupWrite(key);
  if (v === undefined) return undefined;
  if (typeOf(v) !== type) {
    c.w.error(Err.wrongType);
    return null;
  }
  return v as T;
}

/** Case-insensitive ASCII keyword comparison (`a` must be given in lowercase). */
export function is(arg: string, lower: string): boolean {
  return arg.length === lower.length && arg.toLowerCase() === lower;
}
