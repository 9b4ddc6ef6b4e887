/**
 * Blocked clients (Redis's blocked.c): clients waiting on keys (BLPOP, BLMOVE, BLMPOP,
 * BZPOPMIN, BZMPOP, XREAD BLOCK, ...) or on something else (WAIT), their timeouts, and serving
 * them when keys become ready.
 *
 * API for command families
 * ------------------------
 *   server.blocking.canBlock(c)
 *       false inside MULTI/EXEC, for the master link and for socket-less internal clients
 *       (scripts, AOF loading): Redis's CLIENT_DENY_BLOCKING. The command must then answer
 *       its timeout reply at once (e.g. BLPOP → null array), as Redis does.
 *
 *   server.blocking.block(c, db, keys, timeoutMs, tryServe, onTimeout)
 *       Blocks `c` on `keys` of `db`. `timeoutMs` is relative; 0 waits forever. The client
 *       stops reading commands (`c.flags.blocked`).
 *       - tryServe(key) runs when `key` was signalled ready (see below) and this client is
 *         next in line for it. It must check the key itself (it may be missing, emptied or of
 *         another type), and either return false (stay blocked) or write the complete reply,
 *         perform the data change, and return true (the client is then unblocked). It runs as
 *         its own propagation unit: ops it adds with `server.propagator.also(db.id, argv)` (e.g.
 *         `LPOP k`) are propagated on their own, after the command that made the key ready.
 *         Keyspace notifications go through `server.keyspace.notify()`; pushes it makes
 *         (BLMOVE's destination) may signal other keys ready and are served in the same pass.
 *       - onTimeout() writes the timeout reply (null array, null bulk, ...); it also serves
 *         CLIENT UNBLOCK ... TIMEOUT.
 *       A key may become ready through any command that creates it: Redis signals every
 *       list/zset/stream key added to a db (dbAdd), so RENAME, MOVE, COPY, RESTORE, SORT STORE
 *       and SWAPDB wake waiters too, not only pushes; here every reported modification of a
 *       waited-on key (keyspace.changed) marks it ready.
 *
 *   server.blocking.blockKeyless(c, timeoutMs, onTimeout)
 *       Blocks on an external condition (WAIT). Whoever decides the wait is over writes the
 *       reply and calls `unblock(c)`; the timeout calls onTimeout() first.
 *
 *   server.blocking.unblock(c)
 *       Releases a blocked client whose reply was already written: flushes it and resumes
 *       its pipelined commands. No-op when the client is not blocked here.
 *
 *   server.blocking.clientUnblock(target, withError)   (CLIENT UNBLOCK)
 *       true if the target was blocked; replies the timeout reply or `-UNBLOCKED ...`.
 *
 *   parseBlockTimeout(c, arg)   (exported function)
 *       The seconds timeout of BLPOP/BLMOVE/BLMPOP/BZPOPMIN/BZMPOP with Redis's exact errors.
 *
 *   keyspace.signalKeyReady(db, key)   (called by pushers: LPUSH, ZADD, XADD, ...)
 *       Marks a key ready when somebody waits on it. `handleReadyKeys()` (run by the server
 *       after every command, and so after EXEC as a whole) then serves the waiters of every
 *       ready key, each key's waiters in the order they blocked (FIFO), until the key can
 *       serve no one more.
 *
 * A served or timed-out client gets its reply flushed at once; its pipelined commands run
 * after the current command batch completes (a microtask), like Redis's processing of
 * unblocked clients in beforeSleep — never re-entrantly inside another client's command.
 */
import type { Client } from '../net/client.js';
import type { Db } from '../keyspace/db.js';
import type { KeyspaceListener } from '../keyspace/keyspace.js';
import type { Server } from './server.js';
import { parseDouble } from '../util/numbers.js';

/**
 * getTimeoutFromObjectOrReply for the seconds-based blocking commands (BLPOP, BLMOVE, BLMPOP,
 * BZPOPMIN, BZMPOP): the relative timeout in ms (0 = forever), or null after replying.
 * Redis reads a long double and truncates `seconds * 1000` to a long long: so -0.0001 is 0
 * (block forever), and values whose product does not fit (1e30, inf) turn into LLONG_MIN and
 * are reported as negative. Verified against 7.0.15.
 */
export function parseBlockTimeout(c: Client, s: string): number | null {
  const v = parseDouble(s);
  if (v === null || Number.isNaN(v)) {
    c.w.error('ERR timeout is not a float or out of range');
    return null;
  }
  const ms = Math.trunc(v * 1000);
  if (!(ms > -9223372036854775808 && ms < 9223372036854775808) || ms < 0) {
    c.w.error('ERR timeout is negative');
    return null;
  }
  return ms === 0 ? 0 : ms;
}

/** One blocked client. Stored in `c.blockState`. */
interface BlockEntry {
  client: Client;
  db: Db;
  keys: readonly string[];
  /** Absolute deadline in ms, or 0 for none. */
  deadline: number;
  timer: NodeJS.Timeout | null;
  tryServe: ((key: string) => boolean) | null;
  onTimeout: () => void;
}

interface ReadyKey {
  db: Db;
  key: string;
}

export class Blocking implements KeyspaceListener {
  /** db → key → clients blocked on it, in blocking order (a Set keeps insertion order). */
  private readonly waiting = new Map<Db, Map<string, Set<BlockEntry>>>();
  private ready: ReadyKey[] = [];
  /** db → keys already in `ready` (Redis's db->ready_keys dedup). */
  private readonly readySet = new Map<Db, Set<string>>();
  private serving = false;
  /** Clients blocked (keys or keyless), for INFO blocked_clients. */
  private count = 0;
  /** How many of them have a timeout (INFO clients_in_timeout_table). */
  private timed = 0;
  private resumeQueue: Client[] = [];
  private resumeScheduled = false;

  constructor(readonly server: Server) {
    server.keyspace.addListener(this);
  }

  get blockedClients(): number {
    return this.count;
  }

  get clientsInTimeoutTable(): number {
    return this.timed;
  }

  canBlock(c: Client): boolean {
    return !c.flags.multi && !c.flags.master && c.socket !== null;
  }

  block(
    c: Client,
    db: Db,
    keys: readonly string[],
    timeoutMs: number,
    tryServe: (key: string) => boolean,
    onTimeout: () => void,
  ): void {
    const e = this.enter(c, db, keys, timeoutMs, tryServe, onTimeout);
    for (const key of keys) {
      let byKey = this.waiting.get(db);
      if (byKey === undefined) this.waiting.set(db, (byKey = new Map()));
      let set = byKey.get(key);
      if (set === undefined) byKey.set(key, (set = new Set()));
      set.add(e);
    }
  }

  blockKeyless(c: Client, timeoutMs: number, onTimeout: () => void): void {
    this.enter(c, c.db, [], timeoutMs, null, onTimeout);
  }

  /** Releases `c` (reply already written). */
  unblock(c: Client): void {
    const e = c.blockState as BlockEntry | null;
    if (e === null || e === undefined || e.client !== c) return;
    this.leave(e);
    this.resume(c);
  }

  /** CLIENT UNBLOCK <id> [TIMEOUT|ERROR]. Returns false when the client is not blocked here. */
  clientUnblock(target: Client, withError: boolean): boolean {
    const e = target.blockState as BlockEntry | null;
    if (e === null || e === undefined || e.client !== target) return false;
    if (withError) target.w.error('UNBLOCKED client unblocked via CLIENT UNBLOCK');
    else e.onTimeout();
    this.leave(e);
    this.resume(target);
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Keyspace listener

  keyReady(db: Db, key: string): void {
    const byKey = this.waiting.get(db);
    if (byKey === undefined || !byKey.has(key)) return;
    let seen = this.readySet.get(db);
    if (seen === undefined) this.readySet.set(db, (seen = new Set()));
    if (seen.has(key)) return;
    seen.add(key);
    this.ready.push({ db, key });
  }

  /**
   * Any modification of a key somebody waits on makes it worth a look: Redis signals every
   * list/zset/stream key added to a db (dbAdd), which covers RENAME, MOVE, COPY, RESTORE and
   * SORT ... STORE as well as pushes. Waiters check the type and contents themselves, so a
   * signal that serves nobody is harmless (and costs one lookup when nobody waits).
   */
  keyModified(db: Db, key: string): void {
    if (this.waiting.size !== 0) this.keyReady(db, key);
  }

  /**
   * FLUSHDB/FLUSHALL/SWAPDB: keys waited on that exist after the change are ready (Redis's
   * scanDatabaseForReadyKeys on SWAPDB); flushed keys simply do not exist any more.
   */
  dbsChanged(dbs: readonly Db[], replacedWith?: readonly Db[]): void {
    if (replacedWith === undefined) return;
    for (let i = 0; i < dbs.length; i++) {
      const db = dbs[i]!;
      const incoming = replacedWith[i]!;
      const byKey = this.waiting.get(db);
      if (byKey === undefined) continue;
      for (const key of byKey.keys()) {
        // Called before the swap: the keys that will be in `db` are those now in `incoming`.
        if (incoming.dict.has(key)) this.keyReady(db, key);
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Serving

  /** Serves clients blocked on keys that became ready during the last command. */
  handleReadyKeys(): void {
    if (this.ready.length === 0 || this.serving) return;
    this.serving = true;
    try {
      while (this.ready.length > 0) {
        const batch = this.ready;
        this.ready = [];
        this.readySet.clear();
        for (const rk of batch) this.serveKey(rk.db, rk.key);
      }
    } finally {
      this.serving = false;
    }
  }

  private serveKey(db: Db, key: string): void {
    const set = this.waiting.get(db)?.get(key);
    if (set === undefined) return;
    const server = this.server;
    const prop = server.propagator;
    // Iterate a snapshot: serving removes entries (and may add new waiters, which wait for
    // the next signal, as in Redis).
    for (const e of [...set]) {
      if (e.client.blockState !== e || e.tryServe === null) continue;
      const frame = prop.begin();
      let served: boolean;
      try {
        served = e.tryServe(key);
      } finally {
        prop.end(frame, db.id, [], false);
      }
      if (!served) continue;
      // WAIT after this command must wait for what its serve propagated.
      e.client.woff = server.repl.masterReplOffset;
      this.leave(e);
      this.resume(e.client);
      if (!db.dict.has(key)) break;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Timeouts

  /** Times out blocked clients whose deadline passed (backstop for the per-client timers). */
  cron(): void {
    if (this.timed === 0) return;
    const now = Date.now();
    for (const c of this.server.clients.values()) {
      const e = c.blockState as BlockEntry | null;
      if (e && e.client === c && e.deadline !== 0 && e.deadline <= now) this.timeout(e);
    }
  }

  private timeout(e: BlockEntry): void {
    if (e.client.blockState !== e) return;
    this.server.clock.update();
    e.onTimeout();
    this.leave(e);
    this.resume(e.client);
  }

  onClientClosed(c: Client): void {
    const e = c.blockState as BlockEntry | null;
    if (e && e.client === c) this.leave(e);
  }

  // ---------------------------------------------------------------------------------------
  // Bookkeeping

  private enter(
    c: Client,
    db: Db,
    keys: readonly string[],
    timeoutMs: number,
    tryServe: ((key: string) => boolean) | null,
    onTimeout: () => void,
  ): BlockEntry {
    const e: BlockEntry = { client: c, db, keys, deadline: 0, timer: null, tryServe, onTimeout };
    if (timeoutMs > 0) {
      e.deadline = this.server.clock.ms + timeoutMs;
      // setTimeout's limit is 2^31-1 ms; longer waits are re-armed by timer() or the cron.
      e.timer = this.armTimer(e);
      this.timed++;
    }
    c.blockState = e;
    c.flags.blocked = true;
    this.count++;
    return e;
  }

  private armTimer(e: BlockEntry): NodeJS.Timeout {
    const delay = Math.max(0, Math.min(e.deadline - Date.now(), 0x7fffffff));
    return setTimeout(() => {
      if (e.client.blockState !== e) return;
      if (Date.now() < e.deadline) {
        e.timer = this.armTimer(e);
        return;
      }
      this.timeout(e);
    }, delay);
  }

  private leave(e: BlockEntry): void {
    const c = e.client;
    if (c.blockState !== e) return;
    if (e.timer !== null) clearTimeout(e.timer);
    if (e.deadline !== 0) this.timed--;
    e.timer = null;
    const byKey = this.waiting.get(e.db);
    if (byKey !== undefined) {
      for (const key of e.keys) {
        const set = byKey.get(key);
        if (set === undefined) continue;
        set.delete(e);
        if (set.size === 0) byKey.delete(key);
      }
      if (byKey.size === 0) this.waiting.delete(e.db);
    }
    c.blockState = null;
    c.flags.blocked = false;
    this.count--;
  }

  /** Flushes the reply now; runs the client's pipelined commands once the current work ends. */
  private resume(c: Client): void {
    c.flush();
    this.resumeQueue.push(c);
    if (this.resumeScheduled) return;
    this.resumeScheduled = true;
    queueMicrotask(() => {
      this.resumeScheduled = false;
      const q = this.resumeQueue;
      this.resumeQueue = [];
      for (const x of q) if (!x.flags.closed && !x.flags.blocked) x.processInput();
    });
  }
}
