/**
 * The list command family (Redis 7.0 t_list.c): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LINDEX
 * LINSERT LSET LRANGE LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP, plus the blocking forms in
 * list-blocking.ts.
 *
 * Conventions shared by every write here, as in Redis:
 *  - a list key never exists empty: the command that removes the last element deletes the key
 *    (event `del` after the list event);
 *  - creating a list key signals it ready (Redis's dbAdd → signalKeyAsReady), which is what
 *    wakes clients blocked in BLPOP & co.; pushes onto an existing list need not, since nobody
 *    can be waiting on a non-empty list;
 *  - `dirty` grows by the number of elements added/removed, so a no-op is not propagated.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import type { Db } from '../keyspace/db.js';
import { Err } from '../protocol/errors.js';
import { parseInt64, parseInt64Big } from '../util/numbers.js';
import { ListValue } from '../types/list.js';
import { is, readTyped, writeTyped } from './args.js';
import { blmoveCommand, blmpopCommand, blpopCommand, brpopCommand, brpoplpushCommand } from './list-blocking.js';

export type Where = 'left' | 'right';

// ---------------------------------------------------------------------------------------------
// Helpers shared with list-blocking.ts

/** A C `long` argument (full int64 range; beyond 2^53 the value is only approximate, which
 * cannot change the outcome of an index or count). null when not an integer. */
export function parseLong(s: string): number | null {
  const n = parseInt64(s);
  if (n !== null) return n;
  const b = parseInt64Big(s);
  return b === null ? null : Number(b);
}

/** getLongFromObjectOrReply: the number, or null after replying `err`. */
function longArg(c: Client, s: string, err: string = Err.notInteger): number | null {
  const n = parseLong(s);
  if (n === null) c.w.error(err);
  return n;
}

/** getListPositionFromObjectOrReply: LEFT/RIGHT, or null after a syntax error. */
export function whereArg(c: Client, s: string): Where | null {
  if (is(s, 'left')) return 'left';
  if (is(s, 'right')) return 'right';
  c.w.error(Err.syntax);
  return null;
}

/** Creates the list at `key` (dbAdd): also signals it ready for blocked clients. */
export function createList(c: Client, db: Db, key: string): ListValue {
  const l = new ListValue();
  db.add(key, l);
  c.server.keyspace.signalKeyReady(db, key);
  return l;
}

/**
 * listElementsRemoved: the pop event, the key's deletion when the list emptied, WATCH and
 * dirty. Returns whether the key was deleted.
 */
export function elementsRemoved(c: Client, db: Db, key: string, where: Where, l: ListValue, count: number): boolean {
  const ks = c.server.keyspace;
  ks.notify(db, key, 'l', where === 'left' ? 'lpop' : 'rpop');
  let deleted = false;
  if (l.length === 0) {
    db.delete(key);
    ks.notify(db, key, 'g', 'del');
    deleted = true;
  }
  ks.changed(db, key, 'l', '', count);
  return deleted;
}

/**
 * Replies with up to `count` elements popped from the `where` end (tail elements come in tail →
 * head order) and removes them. Returns how many were popped.
 */
export function popRangeReply(c: Client, l: ListValue, where: Where, count: number): number {
  const n = Math.min(count, l.length);
  const w = c.w;
  w.array(n);
  for (let i = 0; i < n; i++) w.bulk(where === 'left' ? l.popHead()! : l.popTail()!);
  return n;
}

/** listPopRangeAndReplyWithKey (LMPOP, BLMPOP): `[key, [elements]]`, then the bookkeeping. */
export function popRangeWithKey(c: Client, db: Db, key: string, l: ListValue, where: Where, count: number): number {
  c.w.array(2);
  c.w.bulk(key);
  const n = popRangeReply(c, l, where, count);
  elementsRemoved(c, db, key, where, l, n);
  return n;
}

/**
 * lmoveHandlePush: pushes `value` onto `dst` (creating it), with the push event and WATCH; the
 * reply is the value. `dstList` is the destination's current value (already type-checked).
 */
export function moveHandlePush(c: Client, db: Db, dst: string, dstList: ListValue | undefined, value: string, whereTo: Where): void {
  const l = dstList ?? createList(c, db, dst);
  if (whereTo === 'left') l.pushHead(value);
  else l.pushTail(value);
  c.server.keyspace.changed(db, dst, 'l', whereTo === 'left' ? 'lpush' : 'rpush', 0);
  c.w.bulk(value);
}

// ---------------------------------------------------------------------------------------------
// Pushes

function pushGeneric(c: Client, argv: string[], where: Where, onlyIfExists: boolean): void {
  const key = argv[1]!;
  const db = c.db;
  let l = writeTyped<ListValue>(c, key, 'list');
  if (l === null) return;
  if (l === undefined) {
    if (onlyIfExists) {
      c.w.int(0);
      return;
    }
    l = createList(c, db, key);
  }
  if (where === 'left') for (let j = 2; j < argv.length; j++) l.pushHead(argv[j]!);
  else for (let j = 2; j < argv.length; j++) l.pushTail(argv[j]!);
  c.w.int(l.length);
  c.server.keyspace.changed(db, key, 'l', where === 'left' ? 'lpush' : 'rpush', argv.length - 2);
}

function lpushCommand(c: Client, argv: string[]): void {
  pushGeneric(c, argv, 'left', false);
}
function rpushCommand(c: Client, argv: string[]): void {
  pushGeneric(c, argv, 'right', false);
}
function lpushxCommand(c: Client, argv: string[]): void {
  pushGeneric(c, argv, 'left', true);
}
function rpushxCommand(c: Client, argv: string[]): void {
  pushGeneric(c, argv, 'right', true);
}

function linsertCommand(c: Client, argv: string[]): void {
  let after: boolean;
  if (is(argv[2]!, 'after')) after = true;
  else if (is(argv[2]!, 'before')) after = false;
  else {
    c.w.error(Err.syntax);
    return;
  }
  const key = argv[1]!;
  const l = writeTyped<ListValue>(c, key, 'list');
  if (l === null) return;
  if (l === undefined) {
    c.w.int(0);
    return;
  }
  const pivot = argv[3]!;
  const n = l.length;
  let at = -1;
  for (let i = 0; i < n; i++) {
    if (l.get(i) === pivot) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    c.w.int(-1);
    return;
  }
  l.insertAt(after ? at + 1 : at, argv[4]!);
  c.server.keyspace.changed(c.db, key, 'l', 'linsert');
  c.w.int(l.length);
}

// ---------------------------------------------------------------------------------------------
// Pops

function popGeneric(c: Client, argv: string[], where: Where): void {
  if (argv.length > 3) {
    c.w.error(Err.wrongArity(argv[0]!.toLowerCase()));
    return;
  }
  const hasCount = argv.length === 3;
  let count = 0;
  if (hasCount) {
    const n = parseLong(argv[2]!);
    if (n === null || n < 0) {
      c.w.error('ERR value is out of range, must be positive');
      return;
    }
    count = n;
  }
  const key = argv[1]!;
  const l = writeTyped<ListValue>(c, key, 'list');
  if (l === null) return;
  if (l === undefined) {
    if (hasCount) c.w.nullArray();
    else c.w.nullBulk();
    return;
  }
  if (hasCount && count === 0) {
    c.w.array(0);
    return;
  }
  const db = c.db;
  if (!hasCount) {
    c.w.bulk(where === 'left' ? l.popHead()! : l.popTail()!);
    elementsRemoved(c, db, key, where, l, 1);
    return;
  }
  const n = popRangeReply(c, l, where, count);
  elementsRemoved(c, db, key, where, l, n);
}

function lpopCommand(c: Client, argv: string[]): void {
  popGeneric(c, argv, 'left');
}
function rpopCommand(c: Client, argv: string[]): void {
  popGeneric(c, argv, 'right');
}

/**
 * LMPOP / BLMPOP argument parsing (lmpopGenericCommand): numkeys, keys, LEFT|RIGHT, [COUNT n].
 * Returns null after replying with the error.
 */
export function parseMpop(c: Client, argv: string[], numkeysIdx: number): { keys: string[]; where: Where; count: number } | null {
  const numkeys = parseLong(argv[numkeysIdx]!);
  if (numkeys === null || numkeys < 1) {
    c.w.error('ERR numkeys should be greater than 0');
    return null;
  }
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) {
    c.w.error(Err.syntax);
    return null;
  }
  const where = whereArg(c, argv[whereIdx]!);
  if (where === null) return null;
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (count === -1 && is(argv[j]!, 'count') && j + 1 < argv.length) {
      const n = parseLong(argv[++j]!);
      if (n === null || n < 1) {
        c.w.error('ERR count should be greater than 0');
        return null;
      }
      count = n;
    } else {
      c.w.error(Err.syntax);
      return null;
    }
  }
  return { keys: argv.slice(numkeysIdx + 1, whereIdx), where, count: count === -1 ? 1 : count };
}

/**
 * The first non-empty list among `keys` (a wrong type stops the search with WRONGTYPE):
 * the key and list, null after an error reply, or undefined when none has elements.
 */
export function firstNonEmptyList(c: Client, keys: readonly string[]): { key: string; list: ListValue } | null | undefined {
  for (const key of keys) {
    const l = writeTyped<ListValue>(c, key, 'list');
    if (l === null) return null;
    if (l === undefined || l.length === 0) continue;
    return { key, list: l };
  }
  return undefined;
}

/** Propagated form of an (B)LMPOP that popped: `LPOP|RPOP key <popped>`. */
export function mpopRewrite(key: string, where: Where, popped: number): string[] {
  return [where === 'left' ? 'LPOP' : 'RPOP', key, String(popped)];
}

function lmpopCommand(c: Client, argv: string[]): void {
  const a = parseMpop(c, argv, 1);
  if (a === null) return;
  const found = firstNonEmptyList(c, a.keys);
  if (found === null) return;
  if (found === undefined) {
    c.w.nullArray();
    return;
  }
  const n = popRangeWithKey(c, c.db, found.key, found.list, a.where, a.count);
  c.server.propagator.rewrite(mpopRewrite(found.key, a.where, n));
}

// ---------------------------------------------------------------------------------------------
// Reads

function llenCommand(c: Client, argv: string[]): void {
  const l = readTyped<ListValue>(c, argv[1]!, 'list');
  if (l === null) return;
  c.w.int(l === undefined ? 0 : l.length);
}

function lindexCommand(c: Client, argv: string[]): void {
  const l = readTyped<ListValue>(c, argv[1]!, 'list');
  if (l === null) return;
  if (l === undefined) {
    c.w.nullBulk();
    return;
  }
  const index = longArg(c, argv[2]!);
  if (index === null) return;
  const i = l.index(index);
  if (i < 0) c.w.nullBulk();
  else c.w.bulk(l.get(i));
}

/** Redis's start/end normalisation for LRANGE/LTRIM: [start, end] or null when empty. */
function clampRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

function lrangeCommand(c: Client, argv: string[]): void {
  const start = longArg(c, argv[2]!);
  if (start === null) return;
  const end = longArg(c, argv[3]!);
  if (end === null) return;
  const l = readTyped<ListValue>(c, argv[1]!, 'list');
  if (l === null) return;
  const r = l === undefined ? null : clampRange(start, end, l.length);
  if (r === null) {
    c.w.array(0);
    return;
  }
  const w = c.w;
  w.array(r[1] - r[0] + 1);
  l!.forRange(r[0], r[1], (v) => w.bulk(v));
}

function lposCommand(c: Client, argv: string[]): void {
  const ele = argv[2]!;
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!;
    const more = j + 1 < argv.length;
    if (is(opt, 'rank') && more) {
      const n = longArg(c, argv[++j]!);
      if (n === null) return;
      if (n === 0) {
        c.w.error(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
        return;
      }
      rank = n;
    } else if (is(opt, 'count') && more) {
      const n = parseLong(argv[++j]!);
      if (n === null || n < 0) {
        c.w.error("ERR COUNT can't be negative");
        return;
      }
      count = n;
    } else if (is(opt, 'maxlen') && more) {
      const n = parseLong(argv[++j]!);
      if (n === null || n < 0) {
        c.w.error("ERR MAXLEN can't be negative");
        return;
      }
      maxlen = n;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  const fromTail = rank < 0;
  // Redis negates a C long: LLONG_MIN stays negative, so every match qualifies (rank 1).
  if (fromTail) rank = rank <= -9223372036854775808 ? 1 : -rank;
  const l = readTyped<ListValue>(c, argv[1]!, 'list');
  if (l === null) return;
  if (l === undefined) {
    if (count !== -1) c.w.array(0);
    else c.w.nullBulk();
    return;
  }
  const len = l.length;
  const limit = maxlen === 0 ? len : Math.min(maxlen, len);
  let matches = 0;
  const found: number[] = [];
  for (let k = 0; k < limit; k++) {
    const i = fromTail ? len - 1 - k : k;
    if (l.get(i) !== ele) continue;
    matches++;
    if (matches < rank) continue;
    found.push(i);
    if (count === -1 || (count !== 0 && found.length >= count)) break;
  }
  if (count !== -1) {
    c.w.array(found.length);
    for (const i of found) c.w.int(i);
  } else if (found.length > 0) c.w.int(found[0]!);
  else c.w.nullBulk();
}

// ---------------------------------------------------------------------------------------------
// In-place edits

function lsetCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const l = writeTyped<ListValue>(c, key, 'list');
  if (l === null) return;
  if (l === undefined) {
    c.w.error(Err.noSuchKey);
    return;
  }
  const index = longArg(c, argv[2]!);
  if (index === null) return;
  const i = l.index(index);
  if (i < 0) {
    c.w.error(Err.indexOutOfRange);
    return;
  }
  l.set(i, argv[3]!);
  c.w.ok();
  c.server.keyspace.changed(c.db, key, 'l', 'lset');
}

function lremCommand(c: Client, argv: string[]): void {
  const count = longArg(c, argv[2]!);
  if (count === null) return;
  const key = argv[1]!;
  const l = writeTyped<ListValue>(c, key, 'list');
  if (l === null) return;
  if (l === undefined) {
    c.w.int(0);
    return;
  }
  const removed = l.remove(argv[3]!, count);
  if (removed > 0) {
    const ks = c.server.keyspace;
    ks.notify(c.db, key, 'l', 'lrem');
    if (l.length === 0) {
      c.db.delete(key);
      ks.notify(c.db, key, 'g', 'del');
    }
    ks.changed(c.db, key, 'l', '', removed);
  }
  c.w.int(removed);
}

function ltrimCommand(c: Client, argv: string[]): void {
  const start = longArg(c, argv[2]!);
  if (start === null) return;
  const end = longArg(c, argv[3]!);
  if (end === null) return;
  const key = argv[1]!;
  const l = writeTyped<ListValue>(c, key, 'list');
  if (l === null) return;
  if (l === undefined) {
    c.w.ok();
    return;
  }
  const len = l.length;
  const r = clampRange(start, end, len);
  let removed: number;
  if (r === null) {
    removed = len;
    l.clear();
  } else {
    removed = len - (r[1] - r[0] + 1);
    if (removed > 0) l.trim(r[0], r[1]);
  }
  const ks = c.server.keyspace;
  // Redis sends the event (and touches WATCHers) even when nothing was trimmed.
  ks.notify(c.db, key, 'l', 'ltrim');
  if (l.length === 0) {
    c.db.delete(key);
    ks.notify(c.db, key, 'g', 'del');
  }
  ks.changed(c.db, key, 'l', '', removed);
  c.w.ok();
}

// ---------------------------------------------------------------------------------------------
// LMOVE / RPOPLPUSH

/**
 * lmoveGenericCommand for a source known to be a non-empty list: checks the destination type,
 * pops, pushes, replies with the element. Returns false after a WRONGTYPE reply.
 */
export function moveElement(c: Client, db: Db, src: string, l: ListValue, dst: string, whereFrom: Where, whereTo: Where): boolean {
  const d = db.lookupWrite(dst);
  if (d !== undefined && !(d instanceof ListValue)) {
    c.w.error(Err.wrongType);
    return false;
  }
  const value = whereFrom === 'left' ? l.popHead()! : l.popTail()!;
  moveHandlePush(c, db, dst, d, value, whereTo);
  const ks = c.server.keyspace;
  ks.notify(db, src, 'l', whereFrom === 'left' ? 'lpop' : 'rpop');
  if (l.length === 0) {
    db.delete(src);
    ks.notify(db, src, 'g', 'del');
  }
  ks.changed(db, src, 'l', '', 1);
  return true;
}

/** LMOVE/RPOPLPUSH and the non-blocking path of BLMOVE/BRPOPLPUSH. Returns true if moved. */
export function moveGeneric(c: Client, src: string, dst: string, whereFrom: Where, whereTo: Where): boolean {
  const l = writeTyped<ListValue>(c, src, 'list');
  if (l === null) return false;
  if (l === undefined || l.length === 0) {
    c.w.nullBulk();
    return false;
  }
  return moveElement(c, c.db, src, l, dst, whereFrom, whereTo);
}

function lmoveCommand(c: Client, argv: string[]): void {
  const from = whereArg(c, argv[3]!);
  if (from === null) return;
  const to = whereArg(c, argv[4]!);
  if (to === null) return;
  moveGeneric(c, argv[1]!, argv[2]!, from, to);
}

function rpoplpushCommand(c: Client, argv: string[]): void {
  moveGeneric(c, argv[1]!, argv[2]!, 'right', 'left');
}

/** Key positions of LMPOP/BLMPOP (movablekeys): the `numkeys` keys after argv[numkeysIdx]. */
export function mpopKeys(argv: string[], numkeysIdx: number): number[] {
  const n = parseInt64(argv[numkeysIdx] ?? '');
  if (n === null || n < 1 || numkeysIdx + n >= argv.length) return [];
  const out: number[] = [];
  for (let i = 1; i <= n; i++) out.push(numkeysIdx + i);
  return out;
}

export const listCommands: CommandDef[] = [
  { name: 'lpush', handler: lpushCommand },
  { name: 'rpush', handler: rpushCommand },
  { name: 'lpushx', handler: lpushxCommand },
  { name: 'rpushx', handler: rpushxCommand },
  { name: 'linsert', handler: linsertCommand },
  { name: 'lpop', handler: lpopCommand },
  { name: 'rpop', handler: rpopCommand },
  { name: 'lmpop', handler: lmpopCommand, getKeys: (argv) => mpopKeys(argv, 1) },
  { name: 'llen', handler: llenCommand },
  { name: 'lindex', handler: lindexCommand },
  { name: 'lrange', handler: lrangeCommand },
  { name: 'lpos', handler: lposCommand },
  { name: 'lset', handler: lsetCommand },
  { name: 'lrem', handler: lremCommand },
  { name: 'ltrim', handler: ltrimCommand },
  { name: 'lmove', handler: lmoveCommand },
  { name: 'rpoplpush', handler: rpoplpushCommand },
  { name: 'blpop', handler: blpopCommand },
  { name: 'brpop', handler: brpopCommand },
  { name: 'blmove', handler: blmoveCommand },
  { name: 'brpoplpush', handler: brpoplpushCommand },
  { name: 'blmpop', handler: blmpopCommand, getKeys: (argv) => mpopKeys(argv, 2) },
];
