/**
 * Key lookups with Redis's side effects (db.c lookupKey*): keyspace hit/miss statistics and the
 * `keymiss` keyspace event for reads, nothing for writes. The string and generic families use
 * these so INFO stats and notifications match Redis command by command.
 */
import type { Client } from '../net/client.js';
import type { Value } from '../types/value.js';
import { Err } from '../protocol/errors.js';

/**
 * lookupKeyRead: the value or undefined (missing or logically expired). Counts a keyspace hit or
 * miss and notifies `keymiss`. `notify` false is Redis's LOOKUP_NONOTIFY (OBJECT).
 */
export function lookupKeyRead(c: Client, key: string, notify = true): Value | undefined {
  const v = c.db.lookupRead(key);
  const server = c.server;
  if (v === undefined) {
    server.stats.keyspaceMisses++;
    if (notify) server.keyspace.notify(c.db, key, 'm', 'keymiss');
  } else {
    server.stats.keyspaceHits++;
  }
  return v;
}

/** lookupKeyReadWithFlags(LOOKUP_NOTOUCH): like lookupKeyRead without updating the access time. */
export function lookupKeyReadNoTouch(c: Client, key: string, notify = true): Value | undefined {
  const v = c.db.peek(key);
  const server = c.server;
  if (v === undefined) {
    server.stats.keyspaceMisses++;
    if (notify) server.keyspace.notify(c.db, key, 'm', 'keymiss');
  } else {
    server.stats.keyspaceHits++;
  }
  return v;
}

/**
 * Reads a string value: the string, undefined when missing, or null after replying WRONGTYPE
 * (Redis's lookupKeyRead + checkType).
 */
export function readString(c: Client, key: string): string | undefined | null {
  const v = lookupKeyRead(c, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    c.w.error(Err.wrongType);
    return null;
  }
  return v;
}

/** Like readString for a key about to be modified (lookupKeyWrite: no stats, no keymiss). */
export function writeString(c: Client, key: string): string | undefined | null {
  const v = c.db.lookupWrite(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    c.w.error(Err.wrongType);
    return null;
  }
  return v;
}

/**
 * Whether an absolute expire time is already in the past for a command that sets it. Redis's
 * checkAlreadyExpired: never while loading or on a replica (the master sends the DEL).
 */
export function alreadyExpired(c: Client, whenMs: number): boolean {
  const server = c.server;
  return whenMs <= server.clock.ms && !server.persistence.loading && !server.repl.isReplica;
}
