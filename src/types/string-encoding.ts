/**
 * OBJECT ENCODING / OBJECT REFCOUNT for string values.
 *
 * Mirra stores strings as plain latin1 JS strings, so the encoding Redis would report is
 * mostly a function of the bytes, exactly as Redis's `tryObjectEncoding` decides it for every
 * value a command stores (SET, MSET, GETSET, APPEND of a new key, RDB load...):
 *   - `int`    the bytes are a canonical 64-bit integer of at most 20 chars (string2l);
 *   - `embstr` at most 44 bytes (OBJ_ENCODING_EMBSTR_SIZE_LIMIT);
 *   - `raw`    anything longer.
 * A few commands leave a value in another encoding, and Redis keeps reporting it until the value
 * is replaced: APPEND/SETRANGE on an existing key (and SETRANGE creating one) leave `raw`
 * (dbUnshareStringValue), INCRBYFLOAT leaves `embstr` even for "3". Those exceptions are kept
 * in a per-DB side table. The table is tiny (only such keys), each entry remembers the exact
 * value it describes, and a keyspace listener drops an entry as soon as its key is modified,
 * so a later SET of the same key reports the natural encoding again.
 */
import type { Db } from '../keyspace/db.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import type { Config } from '../config/config.js';
import { parseInt64, parseInt64Big } from '../util/numbers.js';

export type StringEncoding = 'int' | 'embstr' | 'raw';

/** OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
const EMBSTR_SIZE_LIMIT = 44;
/** OBJ_SHARED_INTEGERS: integers below this are shared objects with a fixed huge refcount. */
const SHARED_INTEGERS = 10000;
/** OBJ_SHARED_REFCOUNT (INT_MAX). */
const SHARED_REFCOUNT = 2147483647;

/** True when Redis's tryObjectEncoding would store `v` as an integer (string2l + length check). */
export function isIntEncodable(v: string): boolean {
  const len = v.length;
  if (len === 0 || len > 20) return false;
  const c0 = v.charCodeAt(0);
  // Cheap rejection of the common non-numeric case before any parsing.
  if (c0 !== 45 && (c0 < 48 || c0 > 57)) return false;
  return parseInt64(v) !== null || parseInt64Big(v) !== null;
}

/** The encoding tryObjectEncoding picks for a freshly stored value. */
export function naturalEncoding(v: string): StringEncoding {
  if (isIntEncodable(v)) return 'int';
  return v.length <= EMBSTR_SIZE_LIMIT ? 'embstr' : 'raw';
}

interface Override {
  value: string;
  enc: StringEncoding;
}

const overrides = new WeakMap<Db, Map<string, Override>>();
const listening = new WeakSet<Keyspace>();

function tableOf(db: Db): Map<string, Override> | undefined {
  return overrides.get(db);
}

function ensureListener(ks: Keyspace): void {
  if (listening.has(ks)) return;
  listening.add(ks);
  ks.addListener({
    keyModified(db, key) {
      const t = overrides.get(db);
      if (t !== undefined && t.size !== 0) t.delete(key);
    },
    dbsChanged(dbs, replacedWith) {
      // A flush empties the tables; SWAPDB exchanges them itself (swapStringEncodings).
      if (replacedWith !== undefined) return;
      for (const db of dbs) overrides.get(db)?.clear();
    },
  });
}

/**
 * Records that `key` now holds `value` in encoding `enc` although its bytes alone would say
 * otherwise. Call after `Keyspace.changed()` (which clears any previous record).
 */
export function setStringEncoding(ks: Keyspace, db: Db, key: string, value: string, enc: StringEncoding): void {
  if (enc === naturalEncoding(value)) {
    tableOf(db)?.delete(key);
    return;
  }
  ensureListener(ks);
  let t = overrides.get(db);
  if (t === undefined) {
    t = new Map();
    overrides.set(db, t);
  }
  t.set(key, { value, enc });
}

/** The encoding OBJECT ENCODING reports for the string `value` stored at `key`. */
export function stringEncoding(db: Db, key: string, value: string): StringEncoding {
  const t = tableOf(db);
  if (t !== undefined && t.size !== 0) {
    const o = t.get(key);
    if (o !== undefined) {
      if (o.value === value) return o.enc;
      t.delete(key); // the value was replaced without a notification (e.g. a loader)
    }
  }
  return naturalEncoding(value);
}

/** Exchanges the side tables of two databases (SWAPDB). */
export function swapStringEncodings(a: Db, b: Db): void {
  const ta = overrides.get(a);
  const tb = overrides.get(b);
  if (tb !== undefined) overrides.set(a, tb);
  else overrides.delete(a);
  if (ta !== undefined) overrides.set(b, ta);
  else overrides.delete(b);
}

/**
 * OBJECT REFCOUNT of a string: small integers are Redis's shared objects (refcount INT_MAX)
 * unless a maxmemory LRU/LFU policy forbids sharing; everything else has refcount 1.
 */
export function stringRefcount(value: string, enc: StringEncoding, cfg: Config): number {
  if (enc !== 'int') return 1;
  const n = parseInt64(value);
  if (n === null || n < 0 || n >= SHARED_INTEGERS) return 1;
  if (cfg.int('maxmemory') !== 0) {
    const policy = cfg.str('maxmemory-policy');
    if (policy.includes('lru') || policy.includes('lfu')) return 1;
  }
  return SHARED_REFCOUNT;
}
