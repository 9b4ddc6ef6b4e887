/**
 * Write mirrors for large bitmaps.
 *
 * A bitmap is a plain string value, and JS strings are immutable: changing one bit of a 10 MB
 * bitmap by rebuilding the string would copy 10 MB per SETBIT, where Redis edits a byte in
 * place. For values of at least MIN_BYTES that SETBIT/BITFIELD write, a mirror keeps
 *  - `buf`:   the value's bytes in a mutable Buffer (reads and writes are O(1));
 *  - `flat`:  a flat string of the bytes as they were at the last materialization;
 *  - `patches`: the bytes written since then.
 * The value stored in the database is then a rope: slices of `flat` (which V8 makes without
 * copying) joined with the patched bytes, built in O(patches). After enough patches the rope
 * is replaced by a fresh flat copy of `buf`, so a write costs O(sqrt(size)) amortised instead
 * of O(size). Other commands see an ordinary string (V8 flattens a rope the first time it is
 * read as a whole, e.g. by GET).
 *
 * A mirror is only used while the database still holds the very string it produced (an
 * identity check), and it is dropped as soon as the key is modified by anything else (a
 * keyspace listener). The mirrors' buffers are bounded in total; the least recently used ones
 * are dropped first.
 */
import type { Db } from '../keyspace/db.js';
import type { Keyspace } from '../keyspace/keyspace.js';

/** Smaller values are simply rebuilt on every write: that is as cheap as maintaining a rope. */
export const MIN_BYTES = 4096;
/** Total size of the mirrors' buffers. */
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

/** The bytes of one bitmap value, mutable, and the rope representation of its string. */
export class BitmapMirror {
  private buf: Buffer;
  private len: number;
  private flat: string;
  private readonly patches = new Map<number, number>();
  /** The string the database holds for this bitmap (the last value produced or adopted). */
  value: string;

  constructor(value: string) {
    this.len = value.length;
    this.buf = Buffer.alloc(value.length);
    this.buf.latin1Write(value, 0, value.length);
    this.flat = value;
    this.value = value;
  }

  /** Byte `i` of the value (zero past the end). */
  get(i: number): number {
    return i < this.len ? this.buf[i]! : 0;
  }

  get capacity(): number {
    return this.buf.length;
  }

  /** Applies written bytes and growth to `newLen` (zero bytes); returns the new value. */
  commit(writes: ReadonlyMap<number, number>, newLen: number): string {
    if (newLen > this.buf.length) {
      // Room to grow again without reallocating; the new bytes are zero.
      const nb = Buffer.alloc(Math.max(newLen, Math.floor(this.buf.length * 1.5)));
      this.buf.copy(nb, 0, 0, this.len);
      this.buf = nb;
    }
    for (const [i, v] of writes) this.buf[i] = v;
    const grown = newLen !== this.len;
    this.len = newLen;
    if (grown || this.patches.size + writes.size > maxPatches(newLen)) {
      this.flat = this.buf.latin1Slice(0, newLen);
      this.patches.clear();
      this.value = this.flat;
      return this.value;
    }
    for (const [i, v] of writes) this.patches.set(i, v);
    this.value = rope(this.flat, this.patches);
    return this.value;
  }
}

/**
 * Patches allowed before re-materializing: rebuilding the rope costs O(patches) allocations,
 * a fresh flat copy O(size) bytes; about sqrt(size / 256) balances the two.
 */
function maxPatches(len: number): number {
  return Math.min(512, Math.max(16, Math.round(Math.sqrt(len / 256))));
}

/** `flat` with the patched bytes, as a balanced concatenation of slices and patch runs. */
function rope(flat: string, patches: ReadonlyMap<number, number>): string {
  const idx = [...patches.keys()].sort((a, b) => a - b);
  const pieces: string[] = [];
  let pos = 0;
  let k = 0;
  while (k < idx.length) {
    const start = idx[k]!;
    if (start > pos) pieces.push(flat.slice(pos, start));
    let run = '';
    let j = start;
    while (k < idx.length && idx[k] === j) {
      run += String.fromCharCode(patches.get(j)!);
      j++;
      k++;
    }
    pieces.push(run);
    pos = j;
  }
  if (pos < flat.length) pieces.push(flat.slice(pos));
  // Pairwise joins keep the rope shallow (V8 walks it when flattening).
  let level = pieces;
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? level[i]! + level[i + 1]! : level[i]!);
    level = next;
  }
  return level[0] ?? '';
}

/** The mirrors of one keyspace. */
export class BitmapCache {
  private readonly byDb = new Map<Db, Map<string, BitmapMirror>>();
  /** Least recently used first (Map insertion order; a use re-inserts). */
  private readonly lru = new Map<BitmapMirror, { db: Db; key: string; size: number }>();
  private bytes = 0;

  private static readonly caches = new WeakMap<Keyspace, BitmapCache>();

  static of(ks: Keyspace): BitmapCache {
    let c = BitmapCache.caches.get(ks);
    if (c === undefined) {
      const cache = new BitmapCache();
      ks.addListener({
        keyModified: (db, key) => cache.drop(db, key),
        dbsChanged: (dbs) => {
          for (const db of dbs) cache.dropDb(db);
        },
      });
      BitmapCache.caches.set(ks, cache);
      c = cache;
    }
    return c;
  }

  /** The mirror of `value` held at `key`, if there is one and it is current. */
  peek(db: Db, key: string, value: string): BitmapMirror | undefined {
    if (this.lru.size === 0) return undefined;
    const m = this.byDb.get(db)?.get(key);
    if (m === undefined) return undefined;
    if (m.value !== value) {
      this.drop(db, key);
      return undefined;
    }
    return m;
  }

  /** The mirror to write `value` at `key` through, or undefined for a small value. */
  acquire(db: Db, key: string, value: string): BitmapMirror | undefined {
    const m = this.peek(db, key, value);
    if (m !== undefined) return m;
    if (value.length < MIN_BYTES) return undefined;
    const created = new BitmapMirror(value);
    this.store(db, key, created);
    return created;
  }

  /** Records `m` as the mirror of `key` (after the write's keyspace change dropped it). */
  store(db: Db, key: string, m: BitmapMirror): void {
    let t = this.byDb.get(db);
    if (t === undefined) this.byDb.set(db, (t = new Map()));
    const old = t.get(key);
    if (old !== undefined && old !== m) this.forget(old);
    t.set(key, m);
    this.forget(m);
    this.lru.set(m, { db, key, size: m.capacity });
    this.bytes += m.capacity;
    for (const [victim, where] of this.lru) {
      if (this.bytes <= MAX_TOTAL_BYTES || victim === m) break;
      this.drop(where.db, where.key);
    }
  }

  drop(db: Db, key: string): void {
    if (this.lru.size === 0) return;
    const t = this.byDb.get(db);
    const m = t?.get(key);
    if (m === undefined) return;
    t!.delete(key);
    this.forget(m);
  }

  private dropDb(db: Db): void {
    const t = this.byDb.get(db);
    if (t === undefined) return;
    for (const m of t.values()) this.forget(m);
    this.byDb.delete(db);
  }

  private forget(m: BitmapMirror): void {
    const e = this.lru.get(m);
    if (e === undefined) return;
    this.lru.delete(m);
    this.bytes -= e.size;
  }

  /** Total bytes held by the mirrors' buffers (tests, diagnostics). */
  get size(): number {
    return this.bytes;
  }
}
