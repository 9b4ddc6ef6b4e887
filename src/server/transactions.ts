/**
 * MULTI/EXEC/WATCH state, with Redis 7.0's semantics (multi.c).
 *
 *  - Queued commands live in the client's `multiState`; a command rejected while queuing
 *    (the dispatcher sets `c.flags.dirtyExec`) makes EXEC answer EXECABORT; once the
 *    transaction is doomed nothing more is stored, but every command still answers +QUEUED.
 *  - WATCH registers (db, key) → watchers. This object is a keyspace listener: any
 *    modification of a watched key — including its deletion by expiry — marks the watchers
 *    `dirtyCas` and unwatches them (nothing more can change the outcome). FLUSHDB, FLUSHALL and
 *    SWAPDB mark watchers of keys that exist (see `dbsChanged`).
 *  - A watched key that was already logically expired when WATCH ran is remembered as such:
 *    its later deletion is no change, and EXEC only fails for keys that expired *after* WATCH.
 *  - While EXEC runs the queued commands, `c.flags.multi` stays set (as CLIENT_MULTI does in
 *    Redis) and `isExecuting(c)` is true: blocking commands must not block then (BLPOP with an
 *    empty list answers the timeout reply at once), SSUBSCRIBE is refused.
 *
 * Watched keys are registered by db *index*, like Redis's per-db `watched_keys`: after SWAPDB a
 * watcher stays with its database number, not with the data that moved.
 */
import type { Client } from '../net/client.js';
import type { CommandSpec } from '../commands/spec.js';
import type { KeyspaceListener } from '../keyspace/keyspace.js';
import type { Server } from './server.js';
import type { Db } from '../keyspace/db.js';

export interface QueuedCommand {
  spec: CommandSpec;
  argv: string[];
}

interface WatchedKey {
  client: Client;
  db: number;
  key: string;
  /** The key was logically expired (but not yet deleted) when WATCH ran. */
  expired: boolean;
}

/** Per-client transaction state (`c.multiState`). `commands` is read by CLIENT LIST. */
export interface MultiState {
  commands: QueuedCommand[];
  watched: WatchedKey[];
  /** True while EXEC runs the queued commands. */
  executing: boolean;
}

/**
 * True while the client's EXEC is running its queued commands. Blocking commands check this
 * (or `c.flags.multi`, also set then) and behave as their non-blocking form.
 */
export function isExecuting(c: Client): boolean {
  const st = c.multiState as MultiState | null;
  return st !== null && st.executing;
}

export class Transactions implements KeyspaceListener {
  /** db index → key → watchers, in WATCH order. */
  private readonly watchedKeys = new Map<number, Map<string, WatchedKey[]>>();

  constructor(readonly server: Server) {}

  private state(c: Client): MultiState {
    let st = c.multiState as MultiState | null;
    if (st === null) {
      st = { commands: [], watched: [], executing: false };
      c.multiState = st;
    }
    return st;
  }

  // ---------------------------------------------------------------------------------------
  // MULTI / queueing / EXEC / DISCARD

  /** MULTI: enters the transaction state. The caller checked that it was not already in it. */
  begin(c: Client): void {
    this.state(c);
    c.flags.multi = true;
  }

  /** Queues a command inside MULTI and replies +QUEUED. */
  queue(c: Client, spec: CommandSpec, argv: string[]): void {
    // A doomed transaction will not run: no point in keeping its commands.
    if (!c.flags.dirtyCas && !c.flags.dirtyExec) this.state(c).commands.push({ spec, argv });
    c.w.simple('QUEUED');
  }

  /** True when EXEC would run a write command (for READONLY / NOREPLICAS / MISCONF checks). */
  execWillWrite(c: Client): boolean {
    const st = c.multiState as MultiState | null;
    return st !== null && st.commands.some((q) => q.spec.isWrite);
  }

  /** The queued commands (EXEC runs them through the dispatcher's call()). */
  queued(c: Client): readonly QueuedCommand[] {
    return (c.multiState as MultiState | null)?.commands ?? [];
  }

  /**
   * Decides whether EXEC may run: fails the CAS when a key watched while alive has expired
   * since (Redis's isWatchedKeyExpired). Returns 'abort' (EXECABORT), 'cas' (null reply) or
   * 'run'.
   */
  execOutcome(c: Client): 'abort' | 'cas' | 'run' {
    if (!c.flags.dirtyCas && this.watchedKeyExpired(c)) c.flags.dirtyCas = true;
    if (c.flags.dirtyExec) return 'abort';
    if (c.flags.dirtyCas) return 'cas';
    return 'run';
  }

  /** Marks the start/end of running the queued commands (see isExecuting). */
  setExecuting(c: Client, on: boolean): void {
    this.state(c).executing = on;
  }

  /**
   * Leaves MULTI, dropping queued commands and every WATCHed key (Redis's
   * discardTransaction: DISCARD, EXEC's end, RESET, an aborted EXEC).
   */
  discard(c: Client): void {
    this.unwatchAll(c);
    c.multiState = null;
    c.flags.multi = false;
    c.flags.dirtyExec = false;
    c.flags.dirtyCas = false;
  }

  /**
   * EXEC refused by the dispatcher (wrong arity, READONLY, OOM, MISCONF...): the transaction is
   * discarded and the reason given. Errors the dispatcher formats itself (arity) carry no
   * "ERR " prefix in this reply in Redis, the shared ones keep their code.
   */
  execAbort(c: Client, reason: string): void {
    this.discard(c);
    const text = reason.startsWith('ERR ') ? reason.slice(4) : reason;
    c.w.error(`EXECABORT Transaction discarded because of: ${text}`);
  }

  // ---------------------------------------------------------------------------------------
  // WATCH

  /** WATCH key (in the client's current db). */
  watch(c: Client, key: string): void {
    const st = this.state(c);
    const dbId = c.db.id;
    for (const wk of st.watched) if (wk.db === dbId && wk.key === key) return;
    const wk: WatchedKey = { client: c, db: dbId, key, expired: this.keyIsExpired(c.db, key) };
    st.watched.push(wk);
    let byKey = this.watchedKeys.get(dbId);
    if (byKey === undefined) {
      byKey = new Map();
      this.watchedKeys.set(dbId, byKey);
    }
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [wk]);
    else list.push(wk);
  }

  /** Forgets every WATCHed key of the client (the dirty flag is the caller's business). */
  unwatchAll(c: Client): void {
    const st = c.multiState as MultiState | null;
    if (st === null || st.watched.length === 0) return;
    for (const wk of st.watched) {
      const byKey = this.watchedKeys.get(wk.db);
      const list = byKey?.get(wk.key);
      if (byKey === undefined || list === undefined) continue;
      const i = list.indexOf(wk);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) {
        byKey.delete(wk.key);
        if (byKey.size === 0) this.watchedKeys.delete(wk.db);
      }
    }
    st.watched = [];
  }

  private keyIsExpired(db: Db, key: string): boolean {
    const when = db.expires.get(key);
    return when !== undefined && when <= this.server.clock.ms && db.dict.has(key);
  }

  private watchedKeyExpired(c: Client): boolean {
    const st = c.multiState as MultiState | null;
    if (st === null) return false;
    const dbs = this.server.keyspace.dbs;
    for (const wk of st.watched) {
      if (wk.expired) continue; // already expired when WATCH ran: not a change
      if (this.keyIsExpired(dbs[wk.db]!, wk.key)) return true;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------
  // Keyspace listener

  /** A modified key invalidates every client WATCHing it (Redis's touchWatchedKey). */
  keyModified(db: Db, key: string): void {
    if (this.watchedKeys.size === 0) return;
    const list = this.watchedKeys.get(db.id)?.get(key);
    if (list === undefined) return;
    for (const wk of [...list]) {
      if (wk.expired) {
        // Watched while already expired: its deletion is logically no change.
        if (!db.dict.has(key)) {
          wk.expired = false;
          continue;
        }
        // Redis stops at such a watcher when the key is still present (multi.c does `break`).
        break;
      }
      const c = wk.client;
      c.flags.dirtyCas = true;
      // Once dirty nothing can change the outcome: stop watching (as Redis does).
      this.unwatchAll(c);
    }
  }

  /**
   * FLUSHDB / FLUSHALL / SWAPDB, called *before* the databases change (Redis's
   * touchAllWatchedKeysInDb). `replacedWith[i]`, when given, is the database whose contents
   * are about to replace `dbs[i]` (SWAPDB); otherwise `dbs[i]` is about to be emptied. A
   * watcher is marked when its key exists in the old or the new contents, with the same
   * expired-key exceptions as Redis.
   */
  dbsChanged(dbs: readonly Db[], replacedWith?: readonly Db[]): void {
    if (this.watchedKeys.size === 0) return;
    for (let i = 0; i < dbs.length; i++) {
      const emptied = dbs[i]!;
      const other = replacedWith?.[i];
      const byKey = this.watchedKeys.get(emptied.id);
      if (byKey === undefined) continue;
      for (const [key, list] of [...byKey]) {
        const existsInEmptied = emptied.dict.has(key);
        const existsInOther = other !== undefined && other.dict.has(key);
        if (!existsInEmptied && !existsInOther) continue;
        for (const wk of list) {
          if (wk.expired) {
            if (!existsInOther) {
              wk.expired = false; // expired key now deleted: no logical change
              continue;
            } else if (this.keyIsExpired(other, key)) {
              continue; // expired key replaced by an expired key
            }
          } else if (!existsInEmptied && other !== undefined && this.keyIsExpired(other, key)) {
            wk.expired = true; // missing key replaced by an expired one
            continue;
          }
          wk.client.flags.dirtyCas = true;
        }
      }
    }
  }

  onClientClosed(c: Client): void {
    this.discard(c);
  }
}
