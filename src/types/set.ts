/**
 * The set value type.
 *
 * Two representations, mirroring Redis 7.0's two set encodings (there is no listpack set
 * before 7.2):
 *  - 'intset': every member is a canonical int64 (string2ll accepts it) and there are at most
 *    set-max-intset-entries of them. Kept as a sorted array of the members' canonical text, so
 *    iteration (SMEMBERS, SSCAN, RDB) is ascending numeric order exactly like Redis's intset.
 *  - 'hashtable': a dense member array plus a member → slot Map; a removal moves the last
 *    member into the hole. O(1) add/remove/random member (SPOP, SRANDMEMBER) and a stable
 *    SSCAN cursor. Iteration order is arbitrary, as in Redis's dict — and differs from it, so
 *    clients (and differential tests) must not rely on the order of a hashtable set's replies.
 * Conversion to 'hashtable' is one-way, as in Redis.
 */
import type { Config } from '../config/config.js';
import { parseInt64Big } from '../util/numbers.js';

export type SetEncoding = 'intset' | 'hashtable';

/** True when Redis would store `s` in an intset (canonical signed 64-bit integer text). */
export function isIntsetMember(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  let i = 0;
  if (s.charCodeAt(0) === 45 /* - */) {
    if (n === 1) return false;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48 /* 0 */) return n === 1;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  if (n - (s.charCodeAt(0) === 45 ? 1 : 0) < 19) return true;
  return parseInt64Big(s) !== null;
}

/** Numeric comparison of two canonical integer texts (no BigInt needed). */
function compareInts(a: string, b: string): number {
  const an = a.charCodeAt(0) === 45;
  const bn = b.charCodeAt(0) === 45;
  if (an !== bn) return an ? -1 : 1;
  let r: number;
  if (a.length !== b.length) r = a.length < b.length ? -1 : 1;
  else r = a < b ? -1 : a > b ? 1 : 0;
  return an ? -r : r;
}

export class SetValue {
  readonly type = 'set' as const;
  encoding: SetEncoding;
  /** intset representation: ascending canonical integers (null once converted). */
  private ints: string[] | null;
  /** hashtable representation. */
  private slots: Map<string, number> | null;
  private items: string[];

  /** An empty set in the encoding Redis's setTypeCreate picks for its first member. */
  constructor(firstMember?: string) {
    if (firstMember === undefined || isIntsetMember(firstMember)) {
      this.encoding = 'intset';
      this.ints = [];
      this.slots = null;
      this.items = [];
    } else {
      this.encoding = 'hashtable';
      this.ints = null;
      this.slots = new Map();
      this.items = [];
    }
  }

  /** An independent copy with the same encoding (COPY). */
  dup(): SetValue {
    const s = new SetValue();
    s.encoding = this.encoding;
    s.ints = this.ints === null ? null : [...this.ints];
    s.slots = this.slots === null ? null : new Map(this.slots);
    s.items = [...this.items];
    return s;
  }

  /** Builds a set (RDB/AOF loaders, DUMP/RESTORE, SPOP remainder) with Redis's encoding rule. */
  static from(members: Iterable<string>, cfg: Config): SetValue {
    const s = new SetValue();
    for (const m of members) s.add(m, cfg);
    return s;
  }

  get size(): number {
    return this.ints !== null ? this.ints.length : this.items.length;
  }

  /** Members: ascending numeric order for an intset, slot order for a hashtable. */
  members(): Iterable<string> {
    return this.ints !== null ? this.ints : this.items;
  }

  /** Members as an array the caller must not modify. */
  memberArray(): readonly string[] {
    return this.ints !== null ? this.ints : this.items;
  }

  has(m: string): boolean {
    if (this.ints !== null) return this.intIndex(m) >= 0;
    return this.slots!.has(m);
  }

  /** Adds a member (setTypeAdd); returns true if it was new. */
  add(m: string, cfg: Config): boolean {
    const ints = this.ints;
    if (ints !== null) {
      if (isIntsetMember(m)) {
        const i = this.intIndex(m);
        if (i >= 0) return false;
        ints.splice(-i - 1, 0, m);
        if (ints.length > cfg.int('set-max-intset-entries')) this.convert();
        return true;
      }
      this.convert();
    }
    const slots = this.slots!;
    if (slots.has(m)) return false;
    slots.set(m, this.items.length);
    this.items.push(m);
    return true;
  }

  /** Removes a member; returns whether it was there. */
  delete(m: string): boolean {
    const ints = this.ints;
    if (ints !== null) {
      const i = this.intIndex(m);
      if (i < 0) return false;
      ints.splice(i, 1);
      return true;
    }
    const slots = this.slots!;
    const i = slots.get(m);
    if (i === undefined) return false;
    slots.delete(m);
    const last = this.items.length - 1;
    if (i !== last) {
      const lm = this.items[last]!;
      this.items[i] = lm;
      slots.set(lm, i);
    }
    this.items.pop();
    return true;
  }

  /** Removes several members known to be in the set (SPOP with a count): one pass for an intset. */
  deleteMany(ms: readonly string[]): void {
    if (this.ints !== null && ms.length > 8) {
      const drop = new Set(ms);
      this.ints = this.ints.filter((m) => !drop.has(m));
      return;
    }
    for (const m of ms) this.delete(m);
  }

  /** The member at position i of the iteration order (0 <= i < size). */
  at(i: number): string {
    return this.ints !== null ? this.ints[i]! : this.items[i]!;
  }

  /** A uniformly random member (the set must not be empty). */
  random(): string {
    return this.at(Math.floor(Math.random() * this.size));
  }

  /**
   * One SSCAN step over a hashtable-encoded set (an intset is returned whole with cursor 0 by
   * the caller, as in Redis). The cursor walks slots downwards; removals only move the last
   * member to a lower slot, so members present for the whole scan are never missed. Cursor
   * value = next slot + 1; 0 means done.
   */
  scan(cursor: number, count: number, fn: (member: string) => void): number {
    const items = this.memberArray();
    let p = cursor === 0 ? items.length - 1 : Math.min(cursor - 1, items.length - 1);
    for (let n = 0; n < count && p >= 0; n++, p--) fn(items[p]!);
    return p < 0 ? 0 : p + 1;
  }

  /** Binary search in the intset: index if found, else -(insertion point) - 1. */
  private intIndex(m: string): number {
    if (!isIntsetMember(m)) return -1 - 0x7fffffff;
    const a = this.ints!;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareInts(a[mid]!, m);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  private convert(): void {
    const ints = this.ints!;
    const slots = new Map<string, number>();
    for (let i = 0; i < ints.length; i++) slots.set(ints[i]!, i);
    this.slots = slots;
    this.items = ints;
    this.ints = null;
    this.encoding = 'hashtable';
  }
}
