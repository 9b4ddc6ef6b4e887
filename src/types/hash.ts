/**
 * The hash value type.
 *
 * Two representations, mirroring Redis's two encodings (OBJECT ENCODING reports them):
 *  - 'listpack': a Map in insertion order. Redis's listpack keeps fields in insertion order and
 *    deletes without reordering, which a Map does too, so HGETALL/HKEYS/HSCAN answer in exactly
 *    Redis's order while the hash is small.
 *  - 'hashtable': dense arrays of fields and values plus a field → slot Map; a delete moves the
 *    last entry into the hole. This gives O(1) random access for HRANDFIELD (a Map has none) and
 *    a stable cursor for HSCAN (see scan()). Order is arbitrary, as in Redis's dict.
 * A hash converts to 'hashtable' when it gets more than hash-max-listpack-entries fields or a
 * field/value longer than hash-max-listpack-value, and never converts back (Redis 7.0).
 */
import type { Config } from '../config/config.js';

export type HashEncoding = 'listpack' | 'hashtable';

export class HashValue {
  readonly type = 'hash' as const;
  encoding: HashEncoding = 'listpack';
  /** listpack representation (null once converted). */
  private lp: Map<string, string> | null = new Map();
  /** hashtable representation. */
  private slots: Map<string, number> | null = null;
  private fields: string[] = [];
  private vals: string[] = [];

  /** An independent copy with the same encoding (COPY). */
  dup(): HashValue {
    const h = new HashValue();
    h.encoding = this.encoding;
    h.lp = this.lp === null ? null : new Map(this.lp);
    h.slots = this.slots === null ? null : new Map(this.slots);
    h.fields = [...this.fields];
    h.vals = [...this.vals];
    return h;
  }

  /** Builds a hash (RDB/AOF loaders, DUMP/RESTORE) with the encoding Redis would pick. */
  static from(entries: Iterable<[string, string]>, cfg: Config): HashValue {
    const h = new HashValue();
    for (const [f, v] of entries) h.set(f, v, cfg);
    return h;
  }

  get size(): number {
    return this.lp !== null ? this.lp.size : this.fields.length;
  }

  *entries(): IterableIterator<[string, string]> {
    if (this.lp !== null) {
      yield* this.lp.entries();
      return;
    }
    for (let i = 0; i < this.fields.length; i++) yield [this.fields[i]!, this.vals[i]!];
  }

  *keys(): IterableIterator<string> {
    for (const [f] of this.entries()) yield f;
  }

  get(field: string): string | undefined {
    if (this.lp !== null) return this.lp.get(field);
    const i = this.slots!.get(field);
    return i === undefined ? undefined : this.vals[i];
  }

  has(field: string): boolean {
    return this.lp !== null ? this.lp.has(field) : this.slots!.has(field);
  }

  /**
   * Redis's hashTypeTryConversion: converts before inserting when any of args[start..end]
   * (fields and values of HSET/HMSET/HSETNX) is longer than hash-max-listpack-value.
   */
  tryConversion(args: readonly string[], start: number, end: number, cfg: Config): void {
    if (this.lp === null) return;
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
    if (this.lp !== null) {
      const max = cfg.int('hash-max-listpack-value');
      if (field.length > max || value.length > max) this.convert();
    }
    if (this.lp !== null) {
      const isNew = !this.lp.has(field);
      this.lp.set(field, value);
      if (isNew && this.lp.size > cfg.int('hash-max-listpack-entries')) this.convert();
      return isNew;
    }
    const i = this.slots!.get(field);
    if (i !== undefined) {
      this.vals[i] = value;
      return false;
    }
    this.slots!.set(field, this.fields.length);
    this.fields.push(field);
    this.vals.push(value);
    return true;
  }

  /** Removes a field; returns whether it existed. */
  delete(field: string): boolean {
    if (this.lp !== null) return this.lp.delete(field);
    const slots = this.slots!;
    const i = slots.get(field);
    if (i === undefined) return false;
    slots.delete(field);
    const last = this.fields.length - 1;
    if (i !== last) {
      const lf = this.fields[last]!;
      this.fields[i] = lf;
      this.vals[i] = this.vals[last]!;
      slots.set(lf, i);
    }
    this.fields.pop();
    this.vals.pop();
    return true;
  }

  /** The entry at position i of the iteration order (0 <= i < size). O(1) for hashtable. */
  entryAt(i: number): [string, string] {
    if (this.lp === null) return [this.fields[i]!, this.vals[i]!];
    let k = 0;
    for (const e of this.lp) if (k++ === i) return e;
    throw new RangeError('hash entry index out of range');
  }

  /** A uniformly random entry (the hash must not be empty). */
  randomEntry(): [string, string] {
    return this.entryAt(Math.floor(Math.random() * this.size));
  }

  /**
   * One HSCAN step over a hashtable-encoded hash (a listpack hash is returned whole by the
   * caller with cursor 0, as Redis does). The cursor walks slots from the last towards the
   * first: a delete only moves the last entry into a lower slot, so an entry present for the
   * whole scan is never skipped (it may be returned twice), and entries added during the scan
   * land above the cursor. Cursor value = next slot + 1; 0 means done.
   */
  scan(cursor: number, count: number, fn: (field: string, value: string) => void): number {
    let p = cursor === 0 ? this.fields.length - 1 : Math.min(cursor - 1, this.fields.length - 1);
    for (let n = 0; n < count && p >= 0; n++, p--) fn(this.fields[p]!, this.vals[p]!);
    return p < 0 ? 0 : p + 1;
  }

  private convert(): void {
    const lp = this.lp!;
    const slots = new Map<string, number>();
    const fields: string[] = new Array<string>(lp.size);
    const vals: string[] = new Array<string>(lp.size);
    let i = 0;
    for (const [f, v] of lp) {
      slots.set(f, i);
      fields[i] = f;
      vals[i] = v;
      i++;
    }
    this.slots = slots;
    this.fields = fields;
    this.vals = vals;
    this.lp = null;
    this.encoding = 'hashtable';
  }
}
