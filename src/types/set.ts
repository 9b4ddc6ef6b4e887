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
 *    While a hashtable set is small (PACKED_MAX_MEMBERS, PACKED_MAX_BYTES) the same member
 *    sequence is kept in one packed string (packed.ts) with no Map: membership is a short
 *    linear scan, and a 4-member set costs ~70 bytes instead of ~450. The member order and
 *    the removal rule are the same in both forms, so nothing observable depends on the form.
 * Conversion to 'hashtable' is one-way, as in Redis.
 */
import type { Config } from '../config/config.js';
import { parseInt64Big } from '../util/numbers.js';
import { copyElementAt, elementAt, equalsAt, packed, skip } from './packed.js';

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

/** A small hashtable set stays packed up to this many members … */
const PACKED_MAX_MEMBERS = 32;
/** … and this many bytes of packed string (each add rewrites the string). */
const PACKED_MAX_BYTES = 2048;

/** The big 'hashtable' representation. */
class SetTable {
  constructor(
    readonly slots: Map<string, number>,
    readonly items: string[],
  ) {}
}

/** intset: ascending canonical integers; hashtable: members packed in slot order while small, else SetTable. */
type SetData = string[] | string | SetTable;

export class SetValue {
  private d: SetData;
  /** Member count of the packed form (a walk would be linear). */
  private n = 0;
  /** Redis's robj.lru for this value (see Db.lru); strings keep theirs in Db.lru. */
  lru = 0;

  /** An empty set in the encoding Redis's setTypeCreate picks for its first member. */
  constructor(firstMember?: string) {
    this.d = firstMember === undefined || isIntsetMember(firstMember) ? [] : '';
  }

  get type(): 'set' {
    return 'set';
  }

  get encoding(): SetEncoding {
    return Array.isArray(this.d) ? 'intset' : 'hashtable';
  }

  /** An independent copy with the same encoding (COPY). */
  dup(): SetValue {
    const s = new SetValue();
    const d = this.d;
    if (Array.isArray(d)) s.d = [...d];
    else if (typeof d === 'string') {
      s.d = d;
      s.n = this.n;
    } else s.d = new SetTable(new Map(d.slots), [...d.items]);
    return s;
  }

  /** Builds a set (RDB/AOF loaders, DUMP/RESTORE, SPOP remainder) with Redis's encoding rule. */
  static from(members: Iterable<string>, cfg: Config): SetValue {
    if (Array.isArray(members)) {
      const fast = SetValue.packAll(members as string[]);
      if (fast !== null) return fast;
    }
    const s = new SetValue();
    for (const m of members) s.add(m, cfg);
    return s;
  }

  /**
   * Loader fast path for a small set that is not an intset (its first member is not an
   * integer, so Redis's setTypeCreate picks a hashtable): packs it in one pass. Returns null
   * when `from` must take the general path (an intset, too big, or a repeated member).
   */
  private static packAll(members: readonly string[]): SetValue | null {
    const n = members.length;
    if (n === 0 || n > PACKED_MAX_MEMBERS || isIntsetMember(members[0]!)) return null;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const m = members[i]!;
      bytes += m.length + 1;
      for (let j = 0; j < i; j++) if (members[j] === m) return null;
    }
    if (bytes >= PACKED_MAX_BYTES) return null;
    const b = packed.begin();
    for (let i = 0; i < n; i++) b.element(members[i]!);
    const s = new SetValue(members[0]);
    s.d = b.finish();
    s.n = n;
    return s;
  }

  get size(): number {
    const d = this.d;
    if (Array.isArray(d)) return d.length;
    return typeof d === 'string' ? this.n : d.items.length;
  }

  /** Members: ascending numeric order for an intset, slot order for a hashtable. */
  members(): Iterable<string> {
    const d = this.d;
    if (Array.isArray(d)) return d;
    return typeof d === 'string' ? packedMembers(d) : d.items;
  }

  /** Members as an array the caller must not modify. */
  memberArray(): readonly string[] {
    const d = this.d;
    if (Array.isArray(d)) return d;
    return typeof d === 'string' ? [...packedMembers(d)] : d.items;
  }

  has(m: string): boolean {
    const d = this.d;
    if (Array.isArray(d)) return intIndex(d, m) >= 0;
    return typeof d === 'string' ? findPacked(d, m) >= 0 : d.slots.has(m);
  }

  /** Adds a member (setTypeAdd); returns true if it was new. */
  add(m: string, cfg: Config): boolean {
    let d = this.d;
    if (Array.isArray(d)) {
      if (isIntsetMember(m)) {
        const i = intIndex(d, m);
        if (i >= 0) return false;
        d.splice(-i - 1, 0, m);
        if (d.length > cfg.int('set-max-intset-entries')) this.convert();
        return true;
      }
      this.convert();
      d = this.d;
    }
    if (typeof d === 'string') {
      if (findPacked(d, m) >= 0) return false;
      if (this.n < PACKED_MAX_MEMBERS && d.length + m.length < PACKED_MAX_BYTES) {
        this.d = packed.begin().range(d, 0, d.length).element(m).finish();
        this.n++;
        return true;
      }
      d = this.unpack(d);
    }
    const t = d as SetTable;
    if (t.slots.has(m)) return false;
    t.slots.set(m, t.items.length);
    t.items.push(m);
    return true;
  }

  /** Removes a member; returns whether it was there. */
  delete(m: string): boolean {
    const d = this.d;
    if (Array.isArray(d)) {
      const i = intIndex(d, m);
      if (i < 0) return false;
      d.splice(i, 1);
      return true;
    }
    if (typeof d === 'string') {
      const pos = findPacked(d, m);
      if (pos < 0) return false;
      this.d = removePacked(d, pos);
      this.n--;
      return true;
    }
    const slots = d.slots;
    const i = slots.get(m);
    if (i === undefined) return false;
    slots.delete(m);
    const items = d.items;
    const last = items.length - 1;
    if (i !== last) {
      const lm = items[last]!;
      items[i] = lm;
      slots.set(lm, i);
    }
    items.pop();
    return true;
  }

  /** Removes several members known to be in the set (SPOP with a count): one pass for an intset. */
  deleteMany(ms: readonly string[]): void {
    const d = this.d;
    if (Array.isArray(d) && ms.length > 8) {
      const drop = new Set(ms);
      this.d = d.filter((m) => !drop.has(m));
      return;
    }
    for (const m of ms) this.delete(m);
  }

  /** The member at position i of the iteration order (0 <= i < size). */
  at(i: number): string {
    const d = this.d;
    if (Array.isArray(d)) return d[i]!;
    if (d instanceof SetTable) return d.items[i]!;
    if (i < 0 || i >= this.n) throw new RangeError('set member index out of range');
    let pos = 0;
    for (let k = 0; k < i; k++) pos = skip(d, pos);
    return elementAt(d, pos);
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

  /** intset → hashtable (packed while it fits). */
  private convert(): void {
    const ints = this.d as string[];
    let total = 0;
    for (const m of ints) total += m.length + 1;
    if (ints.length < PACKED_MAX_MEMBERS && total < PACKED_MAX_BYTES) {
      const b = packed.begin();
      for (const m of ints) b.element(m);
      this.d = b.finish();
      this.n = ints.length;
      return;
    }
    const slots = new Map<string, number>();
    for (let i = 0; i < ints.length; i++) slots.set(ints[i]!, i);
    this.d = new SetTable(slots, ints);
  }

  /** Packed → the big hashtable form, same member order. */
  private unpack(p: string): SetTable {
    const items = new Array<string>(this.n);
    const slots = new Map<string, number>();
    let i = 0;
    for (let pos = 0; pos < p.length; pos = skip(p, pos), i++) {
      const m = copyElementAt(p, pos);
      items[i] = m;
      slots.set(m, i);
    }
    const t = new SetTable(slots, items);
    this.d = t;
    this.n = 0;
    return t;
  }
}

function* packedMembers(p: string): IterableIterator<string> {
  for (let pos = 0; pos < p.length; pos = skip(p, pos)) yield elementAt(p, pos);
}

/** Offset of m's prefix in a packed set, or -1. */
function findPacked(p: string, m: string): number {
  for (let pos = 0; pos < p.length; pos = skip(p, pos)) if (equalsAt(p, pos, m)) return pos;
  return -1;
}

/** Removes the member at `pos` the way the big form does: the last member moves into its place. */
function removePacked(p: string, pos: number): string {
  const end = skip(p, pos);
  if (end === p.length) return packed.begin().range(p, 0, pos).finish();
  let last = end;
  for (let q = end; q < p.length; q = skip(p, q)) last = q;
  return packed.begin().range(p, 0, pos).range(p, last, p.length).range(p, end, last).finish();
}

/** Binary search in an intset: index if found, else -(insertion point) - 1. */
function intIndex(a: readonly string[], m: string): number {
  if (!isIntsetMember(m)) return -1 - 0x7fffffff;
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
