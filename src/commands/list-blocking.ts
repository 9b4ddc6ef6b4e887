/**
 * Blocking list commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP (Redis 7.0 t_list.c
 * blockingPopGenericCommand / blmoveGenericCommand and blocked.c serveClientBlockedOnList).
 *
 * When a key already has elements the command behaves as its non-blocking form and is
 * propagated as that form (`LPOP k`, `LMOVE ...`, `LPOP k <n>`). Otherwise the client blocks
 * (server/blocking.ts); when a push makes one of its keys ready it is served from that key and
 * the serve is propagated on its own, after the pusher's command:
 *   BLPOP/BRPOP → `LPOP k` / `RPOP k`;  BLMPOP → `LPOP|RPOP k <popped>`;
 *   BLMOVE → `LMOVE src dst <from> <to>` (lowercase directions, as Redis's shared objects);
 *   BRPOPLPUSH → `RPOPLPUSH src dst`.
 * Inside MULTI (and for the master link / scripts) nothing blocks: the timeout reply is given
 * at once, as with CLIENT_DENY_BLOCKING.
 */
import type { Client } from '../net/client.js';
import type { Db } from '../keyspace/db.js';
import { ListValue } from '../types/list.js';
import { Err } from '../protocol/errors.js';
import { parseBlockTimeout } from '../server/blocking.js';
import {
  elementsRemoved,
  firstNonEmptyList,
  moveElement,
  moveGeneric,
  mpopRewrite,
  parseMpop,
  popRangeWithKey,
  whereArg,
  type Where,
} from './list.js';

/** The list at `key` when it can serve a waiter (exists, is a list, has elements). */
function servableList(db: Db, key: string): ListValue | null {
  const v = db.lookupWrite(key);
  return v instanceof ListValue && v.length > 0 ? v : null;
}

// ---------------------------------------------------------------------------------------------
// BLPOP / BRPOP / BLMPOP

/**
 * `count` -1 is BLPOP/BRPOP (reply `[key, element]`), otherwise BLMPOP (reply
 * `[key, [elements]]`).
 */
function blockingPop(c: Client, keys: string[], where: Where, timeoutArg: string, count: number): void {
  const timeout = parseBlockTimeout(c, timeoutArg);
  if (timeout === null) return;
  const found = firstNonEmptyList(c, keys);
  if (found === null) return;
  const prop = c.server.propagator;
  if (found !== undefined) {
    if (count !== -1) {
      const n = popRangeWithKey(c, c.db, found.key, found.list, where, count);
      prop.rewrite(mpopRewrite(found.key, where, n));
    } else {
      popOne(c, c.db, found.key, found.list, where);
      prop.rewrite([where === 'left' ? 'LPOP' : 'RPOP', found.key]);
    }
    return;
  }
  const blocking = c.server.blocking;
  if (!blocking.canBlock(c)) {
    c.w.nullArray();
    return;
  }
  const db = c.db;
  blocking.block(
    c,
    db,
    keys,
    timeout,
    (key) => {
      const l = servableList(db, key);
      if (l === null) return false;
      const prop2 = c.server.propagator;
      if (count !== -1) {
        const n = popRangeWithKey(c, db, key, l, where, count);
        prop2.also(db.id, mpopRewrite(key, where, n));
      } else {
        popOne(c, db, key, l, where);
        prop2.also(db.id, [where === 'left' ? 'LPOP' : 'RPOP', key]);
      }
      return true;
    },
    () => c.w.nullArray(),
  );
}

/** BLPOP's `[key, element]` reply and bookkeeping. */
function popOne(c: Client, db: Db, key: string, l: ListValue, where: Where): void {
  c.w.array(2);
  c.w.bulk(key);
  c.w.bulk(where === 'left' ? l.popHead()! : l.popTail()!);
  elementsRemoved(c, db, key, where, l, 1);
}

export function blpopCommand(c: Client, argv: string[]): void {
  blockingPop(c, argv.slice(1, -1), 'left', argv[argv.length - 1]!, -1);
}

export function brpopCommand(c: Client, argv: string[]): void {
  blockingPop(c, argv.slice(1, -1), 'right', argv[argv.length - 1]!, -1);
}

export function blmpopCommand(c: Client, argv: string[]): void {
  // Redis 7.0 parses numkeys, direction and COUNT before the timeout.
  const a = parseMpop(c, argv, 2);
  if (a === null) return;
  blockingPop(c, a.keys, a.where, argv[1]!, a.count);
}

// ---------------------------------------------------------------------------------------------
// BLMOVE / BRPOPLPUSH

/**
 * `tokens` are BLMOVE's direction arguments as the client sent them (kept when propagated as
 * LMOVE); null for BRPOPLPUSH.
 */
function blockingMove(c: Client, src: string, dst: string, from: Where, to: Where, timeoutArg: string, tokens: [string, string] | null): void {
  const rpoplpush = tokens === null;
  const timeout = parseBlockTimeout(c, timeoutArg);
  if (timeout === null) return;
  const v = c.db.lookupWrite(src);
  if (v !== undefined) {
    if (!(v instanceof ListValue)) {
      c.w.error(Err.wrongType);
      return;
    }
    if (v.length > 0) {
      // The list has elements: exactly LMOVE / RPOPLPUSH, and propagated as such.
      if (moveGeneric(c, src, dst, from, to)) {
        c.server.propagator.rewrite(tokens === null ? ['RPOPLPUSH', src, dst] : ['LMOVE', src, dst, tokens[0], tokens[1]]);
      }
      return;
    }
  }
  const blocking = c.server.blocking;
  if (!blocking.canBlock(c)) {
    c.w.nullBulk();
    return;
  }
  const db = c.db;
  blocking.block(
    c,
    db,
    [src],
    timeout,
    (key) => {
      const l = servableList(db, key);
      if (l === null) return false;
      // A destination of the wrong type answers WRONGTYPE and still ends the wait (Redis).
      if (moveElement(c, db, key, l, dst, from, to)) {
        c.server.propagator.also(db.id, rpoplpush ? ['RPOPLPUSH', key, dst] : ['LMOVE', key, dst, from, to]);
      }
      return true;
    },
    // Redis answers every timed-out list wait with a null array, BLMOVE included (although its
    // immediate non-blocking answers are null bulks).
    () => c.w.nullArray(),
  );
}

export function blmoveCommand(c: Client, argv: string[]): void {
  const from = whereArg(c, argv[3]!);
  if (from === null) return;
  const to = whereArg(c, argv[4]!);
  if (to === null) return;
  blockingMove(c, argv[1]!, argv[2]!, from, to, argv[5]!, [argv[3]!, argv[4]!]);
}

export function brpoplpushCommand(c: Client, argv: string[]): void {
  blockingMove(c, argv[1]!, argv[2]!, 'right', 'left', argv[3]!, null);
}
