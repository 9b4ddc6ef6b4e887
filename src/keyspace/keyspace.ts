/**
 * The keyspace: the array of databases and the hooks through which the rest of the server
 * observes changes to it.
 *
 *  - `env` supplies what the keyspace needs from the server: the cached clock, whether this
 *    node may delete expired keys (masters yes, replicas no), and what to do when it does.
 *  - `beforeWrite` is set by a running fork-less snapshot (persistence/snapshot.ts) and is
 *    called before any existing key is modified or deleted.
 *  - `listeners` hear about completed modifications: WATCH invalidation, keyspace
 *    notifications, blocked-client wake-ups. Handlers report them with `changed()`.
 */
import { Db } from './db.js';

export interface KeyspaceEnv {
  /** Cached milliseconds clock (one value per event-loop turn / per command). */
  now(): number;
  /** False on a replica: expired keys are only hidden (the master sends the DEL). */
  mayExpire(): boolean;
  /**
   * True while a command from our master runs: for it no key is ever expired (Redis's
   * expireIfNeeded returns 0 for the master client), so the replica applies the stream
   * exactly as the master did whatever the clocks say.
   */
  ignoreExpiry?(): boolean;
  /** A key was removed because it expired (propagate DEL, notify, count). */
  onExpired(db: Db, key: string): void;
}

/** Receives modification events. Each method is optional. */
export interface KeyspaceListener {
  /** A key's value changed (Redis signalModifiedKey): WATCH, client-side caching. */
  keyModified?(db: Db, key: string): void;
  /** Keyspace notification (Redis notifyKeyspaceEvent); `type` is the class letter. */
  notify?(type: NotifyClass, event: string, key: string, db: Db): void;
  /** A list/zset/stream key received elements (Redis signalKeyAsReady). */
  keyReady?(db: Db, key: string): void;
  /**
   * Whole databases are about to be flushed or swapped (called *before* the change, as Redis
   * calls touchAllWatchedKeysInDb). For SWAPDB pass `replacedWith`: `replacedWith[i]` is the
   * database whose contents will replace `dbs[i]`.
   */
  dbsChanged?(dbs: readonly Db[], replacedWith?: readonly Db[]): void;
}

/** Keyspace notification classes, as the letters of notify-keyspace-events. */
export type NotifyClass = 'g' | '$' | 'l' | 's' | 'h' | 'z' | 'x' | 'e' | 't' | 'm' | 'd' | 'n';

export class Keyspace {
  readonly dbs: Db[] = [];
  beforeWrite: ((db: Db, key: string) => void) | null = null;
  /** Set with beforeWrite by a running snapshot: a key that did not exist was just created. */
  afterCreate: ((db: Db, key: string) => void) | null = null;
  /** Set by a running snapshot: `db` is about to be emptied (Db.clear). */
  beforeClear: ((db: Db) => void) | null = null;
  /** Incremented for every modification, like Redis's server.dirty. */
  dirty = 0;
  /**
   * Set while the AOF replays commands into the dataset: keys are then never expired (Redis's
   * keyIsExpired returns 0 while loading), so the replay reproduces exactly what was logged.
   */
  loading = false;
  private readonly listeners: KeyspaceListener[] = [];

  constructor(
    count: number,
    readonly env: KeyspaceEnv,
  ) {
    for (let i = 0; i < count; i++) this.dbs.push(new Db(i, this));
  }

  addListener(l: KeyspaceListener): void {
    this.listeners.push(l);
  }

  /**
   * Reports a completed modification of `key`: bumps the dirty counter (by `dirty`, default 1),
   * invalidates WATCHers and sends the keyspace event `event` of class `type` (pass an empty
   * event to skip the notification).
   */
  changed(db: Db, key: string, type: NotifyClass, event: string, dirty = 1): void {
    this.dirty += dirty;
    for (const l of this.listeners) {
      l.keyModified?.(db, key);
      if (event !== '') l.notify?.(type, event, key, db);
    }
  }

  /** Sends a keyspace notification without marking the key modified. */
  notify(db: Db, key: string, type: NotifyClass, event: string): void {
    for (const l of this.listeners) l.notify?.(type, event, key, db);
  }

  /** Marks a key modified without a notification (WATCH only). */
  touch(db: Db, key: string): void {
    for (const l of this.listeners) l.keyModified?.(db, key);
  }

  /** A blocking-pop target key got elements. */
  signalKeyReady(db: Db, key: string): void {
    for (const l of this.listeners) l.keyReady?.(db, key);
  }

  /** Databases were flushed/swapped: WATCHers of their keys and blocked clients must know. */
  signalDbsChanged(dbs: readonly Db[], replacedWith?: readonly Db[]): void {
    for (const l of this.listeners) l.dbsChanged?.(dbs, replacedWith);
  }

  get keyCount(): number {
    let n = 0;
    for (const db of this.dbs) n += db.size;
    return n;
  }
}
