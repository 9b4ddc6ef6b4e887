/**
 * The hash value type.
 *
 * Two representations, mirroring Redis's two encodings (OBJECT ENCODING reports them):
 *  - 'listpack': one packed string (packed.ts) holding field, value, field, value … in insertion
 *    order. Redis's listpack keeps fields in insertion order and updates/deletes in place, and
 *    so does this, so HGETALL/HKEYS/HSCAN answer in exactly Redis's order while the hash is
 *    small. Lookups are linear scans, as in Redis; a small hash costs one object and one string.
 *  - 'hashtable': dense arrays of fields and values plus a field → slot Map; a delete moves the
 *    last entry into the hole. This gives O(1) random access for HRANDFIELD (a Map has none) and
 *    a stable cursor for HSCAN (see scan()). Order is arbitrary, as in Redis's dict.
 * A hash converts to 'hashtable' when it gets more than hash-max-listpack-entries fields or a
 * field/value longer than hash-max-listpack-value, and never converts back (Redis 7.0).
 */
import type { Config } from '../config/config.js';
import { copyElementAt, elementAt, elementsEqual, equalsAt, lenAt, packed, skip } from './packed.js';

export type HashEncoding = 'listpack' | 'hashtable';

/** The 'hashtable' representation. */
class HashTable {
  constructor(
    readonly slots: Map<string, number>,
    readonly fields: string[],
    readonly vals: string[],
  ) {}
}

export class HashValue {
  /** The listpack as a packed string, or the hashtable. One field keeps small hashes small. */
  private d: string | HashTable = '';
  /** Field count of the listpack (a walk would be linear); unused for the hashtable. */
  private n = 0;
  /** Redis's robj.lru for this value (see Db.lru); strings keep theirs in Db.lru. */
  lru = 0;

  get type(): 'hash' {
    return 'hash';
  }

  get encoding(): HashEncoding {
    return typeof this.d === 'string' ? 'listpack' : 'hashtable';
  }

  /** An independent copy with the same encoding (COPY). */
  dup(): HashValue {
    const h = new HashValue();
    const d = this.d;
    h.d = typeof d === 'string' ? d : new HashTable(new Map(d.slots), [...d.fields], [...d.vals]);
    h.n = this.n;
    return h;
  }

  /** Builds a hash (RDB/AOF loaders, DUMP/RESTORE) with the encoding Redis would pick. */
  static from(entries: Iterable<[string, string]>, cfg: Config): HashValue {
    const h = new HashValue();
    if (Array.isArray(entries) && h.packAll(entries as [string, string][], cfg)) return h;
    for (const [f, v] of entries) h.set(f, v, cfg);
    return h;
  }

  /**
   * Loader fast path for a small listpack read from an RDB: `p` holds field, value, … already
   * packed (`pairs` pairs, no element longer than `maxLen`). Returns null when the hash would
   * not be a listpack, has more than 16 pairs (the repeat check below is quadratic) or repeats
   * a field; the caller then decodes it the general way, which reports a repeat as corrupt.
   */
  static fromPacked(p: string, pairs: number, maxLen: number, cfg: Config): HashValue | null {
    if (pairs === 0 || pairs > 16 || pairs > cfg.int('hash-max-listpack-entries') || maxLen > cfg.int('hash-max-listpack-value')) return null;
    for (let a = 0; a < p.length; a = skip(p, skip(p, a))) {
      for (let b = skip(p, skip(p, a)); b < p.length; b = skip(p, skip(p, b))) if (elementsEqual(p, a, b)) return null;
    }
    const h = new HashValue();
    h.d = p;
    h.n = pairs;
    return h;
  }

  /**
   * Loader fast path: packs a whole listpack-sized list of entries in one pass instead of one
   * string rebuild per field. Returns false (and changes nothing) when the entries need the
   * hashtable or repeat a field; `from` then takes the general path, which keeps the last value.
   */
  private packAll(entries: readonly [string, string][], cfg: Config): boolean {
    const n = entries.length;
    if (n > cfg.int('hash-max-listpack-entries')) return false;
    const max = cfg.int('hash-max-listpack-value');
    const seen = n > 16 ? new Set<string>() : null;
    for (let i = 0; i < n; i++) {
      const [f, v] = entries[i]!;
      if (f.length > max || v.length > max) return false;
      if (seen !== null) {
        if (seen.has(f)) return false;
        seen.add(f);
      } else for (let j = 0; j < i; j++) if (entries[j]![0] === f) return false;
    }
    const b = packed.begin();
    for (let i = 0; i < n; i++) b.element(entries[i]![0]).element(entries[i]![1]);
    this.d = b.finish();
    this.n = n;
    return true;
  }

  get size(): number {
    const d = this.d;
    return typeof d === 'string' ? this.n : d.fields.length;
  }

  *entries(): IterableIterator<[string, string]> {
    const d = this.d;
    if (typeof d === 'string') {
      for (let pos = 0; pos < d.length; ) {
        const f = elementAt(d, pos);
        pos = skip(d, pos);
        const v = elementAt(d, pos);
        pos = skip(d, pos);
        yield [f, v];
      }
      return;
    }
    for (let i = 0; i < d.fields.length; i++) yield [d.fields[i]!, d.vals[i]!];
  }

  /** Calls fn for each entry in iteration order (no per-entry tuple, unlike entries()). */
  forEach(fn: (field: string, value: string) => void): void {
    const d = this.d;
    if (typeof d === 'string') {
      for (let pos = 0; pos < d.length; ) {
        const f = elementAt(d, pos);
        pos = skip(d, pos);
        fn(f, elementAt(d, pos));
        pos = skip(d, pos);
      }
      return;
    }
    const fields = d.fields;
    const vals = d.vals;
    for (let i = 0; i < fields.length; i++) fn(fields[i]!, vals[i]!);
  }

  *keys(): IterableIterator<string> {
    for (const [f] of this.entries()) yield f;
  }

  /** Offset of the field's prefix in the listpack, or -1. */
  private find(p: string, field: string): number {
    for (let pos = 0; pos < p.length; pos = skip(p, skip(p, pos))) if (equalsAt(p, pos, field)) return pos;
    return -1;
  }

  get(field: string): string | undefined {
    const d = this.d;
    if (typeof d === 'string') {
      const pos = this.find(d, field);
      return pos < 0 ? undefined : elementAt(d, skip(d, pos));
    }
    const i = d.slots.get(field);
    return i === undefined ? undefined : d.vals[i];
  }

  has(field: string): boolean {
    const d = this.d;
    return typeof d === 'string' ? this.find(d, field) >= 0 : d.slots.has(field);
  }

  /**
   * Redis's hashTypeTryConversion: converts before inserting when any of args[start..end]
   * (fields and values of HSET/HMSET/HSETNX) is longer than hash-max-listpack-value.
   */
  tryConversion(args: readonly string[], start: number, end: number, cfg: Config): void {
    if (typeof this.d !== 'string') return;
    const max = cfg.int('hash-max-listpack-value');
    for (let i = start; i <= end; i++) {
      if (args[i]!.length > max) {
        this.convert();
        return;
      }
    }
  }

  /**
   * Sets a field (hashTypeSet): converts first when the field or value is too long for the
   * listpack, and afterwards when the hash has too many fields. Returns true if it was new.
   */
  set(field: string, value: string, cfg: Config): boolean {
    if (typeof this.d === 'string') {
      const max = cfg.int('hash-max-listpack-value');
      if (field.length > max || value.length > max) this.convert();
    }
    const d = this.d;
    if (typeof d === 'string') {
      const pos = this.find(d, field);
      if (pos >= 0) {
        const vpos = skip(d, pos);
        // Same value: nothing to rebuild (the bytes would be identical).
        if (!equalsAt(d, vpos, value)) this.d = packed.begin().range(d, 0, vpos).element(value).range(d, skip(d, vpos), d.length).finish();
        return false;
      }
      this.d = packed.begin().range(d, 0, d.length).element(field).element(value).finish();
      this.n++;
      if (this.n > cfg.int('hash-max-listpack-entries')) this.convert();
      return true;
    }
    const i = d.slots.get(field);
    if (i !== undefined) {
      d.vals[i] = value;
      return false;
    }
    d.slots.set(field, d.fields.length);
    d.fields.push(field);
    d.vals.push(value);
    return true;
  }

  /** Removes a field; returns whether it existed. */
  delete(field: string): boolean {
    const d = this.d;
    if (typeof d === 'string') {
      const pos = this.find(d, field);
      if (pos < 0) return false;
      this.d = packed.begin().range(d, 0, pos).range(d, skip(d, skip(d, pos)), d.length).finish();
      this.n--;
      return true;
    }
    const slots = d.slots;
    const i = slots.get(field);
    if (i === undefined) return false;
    slots.delete(field);
    const last = d.fields.length - 1;
    if (i !== last) {
      const lf = d.fields[last]!;
      d.fields[i] = lf;
      d.vals[i] = d.vals[last]!;
      slots.set(lf, i);
    }
    d.fields.pop();
    d.vals.pop();
    return true;
  }

  /** The entry at position i of the iteration order (0 <= i < size). O(1) for hashtable. */
  entryAt(i: number): [string, string] {
    const d = this.d;
    if (typeof d !== 'string') return [d.fields[i]!, d.vals[i]!];
    if (i < 0 || i >= this.n) throw new RangeError('hash entry index out of range');
    let pos = 0;
    for (let k = 0; k < i; k++) pos = skip(d, skip(d, pos));
    return [elementAt(d, pos), elementAt(d, skip(d, pos))];
  }

  /** A uniformly random entry (the hash must not be empty). */
  randomEntry(): [string, string] {
    return this.entryAt(Math.floor(Math.random() * this.size));
  }

  /** Length of a field's value without copying it (HSTRLEN), or -1 when absent. */
  valueLength(field: string): number {
    const d = this.d;
    if (typeof d !== 'string') {
      const i = d.slots.get(field);
      return i === undefined ? -1 : d.vals[i]!.length;
    }
    const pos = this.find(d, field);
    return pos < 0 ? -1 : lenAt(d, skip(d, pos));
  }

  /**
   * One HSCAN step over a hashtable-encoded hash (a listpack hash is returned whole by the
   * caller with cursor 0, as Redis does). The cursor walks slots from the last towards the
   * first: a delete only moves the last entry into a lower slot, so an entry present for the
   * whole scan is never skipped (it may be returned twice), and entries added during the scan
   * land above the cursor. Cursor value = next slot + 1; 0 means done.
   */
  scan(cursor: number, count: number, fn: (field: string, value: string) => void): number {
    const d = this.d;
    if (typeof d === 'string') throw new Error('HSCAN steps only over a hashtable');
    let p = cursor === 0 ? d.fields.length - 1 : Math.min(cursor - 1, d.fields.length - 1);
    for (let n = 0; n < count && p >= 0; n++, p--) fn(d.fields[p]!, d.vals[p]!);
    return p < 0 ? 0 : p + 1;
  }

  private convert(): void {
    const p = this.d as string;
    const slots = new Map<string, number>();
    const fields = new Array<string>(this.n);
    const vals = new Array<string>(this.n);
    let i = 0;
    for (let pos = 0; pos < p.length; i++) {
      const f = copyElementAt(p, pos);
      pos = skip(p, pos);
      const v = copyElementAt(p, pos);
      pos = skip(p, pos);
      slots.set(f, i);
      fields[i] = f;
      vals[i] = v;
    }
    this.d = new HashTable(slots, fields, vals);
    this.n = 0;
  }
}
