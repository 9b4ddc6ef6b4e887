/**
 * One logical database: the key → value dictionary and the key → expire-time dictionary
 * (milliseconds since the epoch), as in Redis's `redisDb`.
 *
 * Every access goes through these methods so that three cross-cutting rules hold everywhere:
 *  - expiry: a logically expired key is never returned; a master deletes it on access and
 *    propagates a DEL, a replica only hides it (its master will send the DEL);
 *  - the snapshot hook: before a key that exists is modified or removed, `hooks.beforeWrite`
 *    runs, so a running fork-less snapshot can serialise the pre-write value first;
 *  - key-count and expire bookkeeping for INFO and RDB RESIZEDB hints.
 * Handlers report a completed modification with `Keyspace.changed()` (dirty counter, WATCH,
 * keyspace notifications).
 */
import type { Value } from '../types/value.js';
import type { Keyspace } from './keyspace.js';

export class Db {
  readonly dict = new Map<string, Value>();
  readonly expires = new Map<string, number>();
  /** Average TTL estimate maintained by the active expire cycle (INFO keyspace avg_ttl). */
  avgTtl = 0;
  /**
   * Redis's per-object LRU clock (robj.lru): seconds mod 2^24, set when a key is stored and on
   * every lookup except NOTOUCH ones (`peek`). OBJECT IDLETIME reads it (`lruOf`). Object values
   * carry it in their own `lru` field (8 bytes instead of a ~36-byte Map entry, and no second
   * Map insert per key when a dataset is loaded); a string value has nowhere to hold it, so
   * string keys keep theirs in this Map. Small integers: updating either allocates nothing.
   */
  readonly lru = new Map<string, number>();
  /**
   * The clock of string keys loaded from an RDB payload and not accessed since (-1: none).
   * Loading skips their Map entries (one Map insert per key is a large part of a load's cost);
   * they read as loaded when the load started, where Redis would stamp each key as it is read
   * — a difference of at most the load's duration, at the LRU clock's one-second resolution.
   */
  lruLoaded = -1;

  constructor(
    readonly id: number,
    private readonly ks: Keyspace,
  ) {}

  get size(): number {
    return this.dict.size;
  }

  /**
   * Returns true when the key is logically expired. On a master (and for the master link on a
   * replica) the key is deleted and the deletion propagated; otherwise it is only hidden.
   */
  expireIfNeeded(key: string): boolean {
    const when = this.expires.get(key);
    if (when === undefined) return false;
    if (when > this.ks.env.now()) return false;
    // Redis's keyIsExpired: nothing expires while the AOF is replayed (see Keyspace.loading).
    if (this.ks.loading) return false;
    if (!this.ks.env.mayExpire()) return this.ks.env.ignoreExpiry?.() !== true;
    this.deleteExpired(key);
    return true;
  }

  /** Deletes an expired key and tells the rest of the server (propagation, notifications). */
  deleteExpired(key: string): void {
    this.delete(key);
    this.ks.env.onExpired(this, key);
  }

  /** Reads a key for a read-only access. */
  lookupRead(key: string): Value | undefined {
    const v = this.dict.get(key);
    if (v === undefined) return undefined;
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return undefined;
    if (typeof v === 'string') this.lru.set(key, this.lruClock());
    else v.lru = this.lruClock();
    return v;
  }

  /** The key's LRU clock (OBJECT IDLETIME, DEBUG OBJECT), or undefined when it has none. */
  lruOf(key: string): number | undefined {
    const v = this.dict.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return v.lru;
    const clock = this.lru.get(key);
    return clock !== undefined ? clock : this.lruLoaded >= 0 ? this.lruLoaded : undefined;
  }

  /** Records the store/access time of `value` under `key`. */
  private touchNew(key: string, value: Value): void {
    if (typeof value === 'string') this.lru.set(key, this.lruClock());
    else {
      value.lru = this.lruClock();
      // The key may have held a string before: drop its clock entry.
      if (this.lru.size !== 0) this.lru.delete(key);
    }
  }

  /** A read that does not count as an access (Redis LOOKUP_NOTOUCH: TYPE, EXISTS, TTL, OBJECT). */
  peek(key: string): Value | undefined {
    const v = this.dict.get(key);
    if (v === undefined) return undefined;
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return undefined;
    return v;
  }

  /** LRU_CLOCK(): the cached time in seconds, 24 bits. */
  lruClock(): number {
    return (this.ks.env.now() / 1000) & 0xffffff;
  }

  /** Reads a key that the caller is about to modify in place. */
  lookupWrite(key: string): Value | undefined {
    const v = this.dict.get(key);
    if (v === undefined) return undefined;
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return undefined;
    const hook = this.ks.beforeWrite;
    if (hook !== null) hook(this, key);
    if (typeof v === 'string') this.lru.set(key, this.lruClock());
    else v.lru = this.lruClock();
    return v;
  }

  /** True if the key exists (and is not logically expired). */
  exists(key: string): boolean {
    return this.lookupRead(key) !== undefined;
  }

  /**
   * Stores `value` under `key`, replacing any previous value. The TTL is removed unless
   * keepTtl is set (SET ... KEEPTTL, INCRBYFLOAT, in-place updates).
   */
  set(key: string, value: Value, keepTtl = false): void {
    const hook = this.ks.beforeWrite;
    if (hook !== null) {
      if (this.dict.has(key)) hook(this, key);
      else this.ks.afterCreate?.(this, key);
    }
    const before = this.dict.size;
    this.dict.set(key, value);
    this.touchNew(key, value);
    if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
    if (this.dict.size !== before) this.ks.notify(this, key, 'n', 'new');
  }

  /** Adds a key known not to exist (callers checked with lookupWrite). */
  add(key: string, value: Value): void {
    const hook = this.ks.beforeWrite;
    if (hook !== null) {
      // A replica may overwrite a logically expired key it only hides: still a write.
      if (this.dict.has(key)) hook(this, key);
      else this.ks.afterCreate?.(this, key);
    }
    const before = this.dict.size;
    this.dict.set(key, value);
    if (this.dict.size === before) this.touchNew(key, value);
    else {
      // A new key has no clock entry to drop (delete() removed any).
      if (typeof value === 'string') this.lru.set(key, this.lruClock());
      else value.lru = this.lruClock();
      this.ks.notify(this, key, 'n', 'new');
    }
  }

  /**
   * RDB loaders: adds a key known to be new without notifications, hooks or a per-key LRU Map
   * entry for strings (see lruLoaded; the caller sets it when the load starts).
   */
  addLoaded(key: string, value: Value): void {
    this.dict.set(key, value);
    if (typeof value !== 'string') value.lru = this.lruLoaded;
  }

  /** Removes a key and its TTL. Returns whether it existed (expired or not). */
  delete(key: string): boolean {
    const v = this.dict.get(key);
    if (v === undefined) return false;
    const hook = this.ks.beforeWrite;
    if (hook !== null) hook(this, key);
    this.dict.delete(key);
    if (typeof v === 'string') this.lru.delete(key);
    if (this.expires.size !== 0) this.expires.delete(key);
    return true;
  }

  getExpire(key: string): number | undefined {
    return this.expires.get(key);
  }

  /** Sets an absolute expire time (ms). The key must exist. */
  setExpire(key: string, whenMs: number): void {
    const hook = this.ks.beforeWrite;
    if (hook !== null) hook(this, key);
    this.expires.set(key, whenMs);
  }

  /** Removes a TTL. Returns whether one existed. */
  removeExpire(key: string): boolean {
    if (!this.expires.has(key)) return false;
    const hook = this.ks.beforeWrite;
    if (hook !== null) hook(this, key);
    this.expires.delete(key);
    return true;
  }

  /** Removes every key. Returns how many there were. A running snapshot is told first. */
  clear(): number {
    const before = this.ks.beforeClear;
    if (before !== null) before(this);
    const n = this.dict.size;
    this.dict.clear();
    this.expires.clear();
    this.lru.clear();
    this.lruLoaded = -1;
    this.avgTtl = 0;
    return n;
  }

  /**
   * SWAPDB: exchanges the whole contents (keys, expires, TTL estimate) with another database.
   * Clients keep their selected DB number and see the other contents, as in Redis. Iterators
   * over the old maps (SCAN sessions, the active expire cursor) notice the map changed.
   */
  swapContents(other: Db): void {
    type Contents = { dict: Map<string, Value>; expires: Map<string, number>; lru: Map<string, number> };
    const a = this as unknown as Contents;
    const b = other as unknown as Contents;
    const { dict, expires, lru } = a;
    a.dict = b.dict;
    a.expires = b.expires;
    a.lru = b.lru;
    b.dict = dict;
    b.expires = expires;
    b.lru = lru;
    const avg = this.avgTtl;
    this.avgTtl = other.avgTtl;
    other.avgTtl = avg;
    const loaded = this.lruLoaded;
    this.lruLoaded = other.lruLoaded;
    other.lruLoaded = loaded;
  }

  /**
   * A random key that is not logically expired, or undefined. Uses reservoir-free sampling:
   * picks a random position and walks to it (O(n) worst case, but bounded by `tries`).
   */
  randomKey(): string | undefined {
    const n = this.dict.size;
    if (n === 0) return undefined;
    for (let tries = 0; tries < 100; tries++) {
      const key = this.keyAt(Math.floor(Math.random() * n));
      if (key === undefined) return undefined;
      if (this.expires.size === 0) return key;
      const when = this.expires.get(key);
      if (when === undefined || when > this.ks.env.now()) return key;
      if (!this.ks.env.mayExpire()) {
        // A replica keeps expired keys; after many tries Redis returns one anyway.
        if (tries === 99) return key;
        continue;
      }
      this.deleteExpired(key);
      if (this.dict.size === 0) return undefined;
    }
    return undefined;
  }

  private keyAt(index: number): string | undefined {
    let i = 0;
    for (const k of this.dict.keys()) {
      if (i++ === index) return k;
    }
    return undefined;
  }
}
