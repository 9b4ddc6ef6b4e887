/**
 * The sorted set value type.
 *
 * Contract used by persistence, DEBUG DIGEST, AOF rewrite, DUMP/RESTORE and OBJECT ENCODING
 * (see README.md): `entries()` yields [member, score] ascending by (score, member); `size`;
 * `ZSetValue.from(entries, cfg)` builds a value with the encoding Redis would pick for the
 * same data; `encoding` is 'listpack' | 'skiplist' (sticky state, as in Redis).
 *
 * Two representations, told apart by the one field `d`:
 *
 *  - 'listpack' (at most zset-max-listpack-entries members, each at most zset-max-listpack-value
 *    bytes): `d` is ONE flat latin1 string holding every element, like Redis's listpack. Layout:
 *
 *        count:2   element*        count big-endian, 0xFFFF = "count by scanning" (> 65534)
 *        element = len member score
 *        len     = 1 char (< 255), or 0xFF then 4 chars big-endian
 *        score   = 8 chars: the double as an order-preserving key (see setKey)
 *
 *    kept sorted by (score, member). Every operation is a linear scan, as on a listpack; a
 *    mutation builds the new string once (Array.join of slices, which yields a flat sequential
 *    string, never a cons string), so a small zset costs its bytes plus ~48 B of headers.
 *  - 'skiplist': `d` is a `Skiplist`: a RankTree (an order-statistic B+tree, rank-tree.ts) keyed
 *    by (score, member) plus a member → score Map for O(1) ZSCORE and membership, like the dict
 *    beside Redis's skiplist.
 *
 * Conversion is one-way except for convertToListpackIfSmall (stores). Commands use only the
 * methods below, which work on both representations; ranks are 0-based in ascending order.
 *
 * Scores are JS doubles; NaN is never stored (commands reject it before reaching here). As in
 * Redis, a listpack zset cannot hold -0 (listpacks store integral scores as integers), while a
 * skiplist one can.
 *
 * Members returned by the iteration methods of a listpack zset may be slices of its packed
 * string (V8 SlicedStrings keep their parent alive). They are fine for replies and for values
 * that are packed again; code that keeps them in a long-lived structure of its own should pass
 * them through `ownString` (conversions to skiplist do so).
 */
import type { Config } from '../config/config.js';
import { RankTree, type KeyPredicate } from './rank-tree.js';
import { dataAt, lenAt, packed } from './packed.js';

export type ZSetEncoding = 'listpack' | 'skiplist';

/** Called per element; returning false stops the iteration. */
export type ZSetVisitor = (member: string, score: number) => boolean | void;

export type { KeyPredicate };

const DEFAULT_MAX_ENTRIES = 128;
const DEFAULT_MAX_VALUE = 64;

// ---------------------------------------------------------------------------------------------
// The packed (listpack) form

const HDR = 2;
const COUNT_UNKNOWN = 0xffff;
const EMPTY = '\x00\x00';

const DV = new DataView(new ArrayBuffer(8));
/** The order-preserving key of the last `setKey` (the query of a scan). */
const KEY = new Uint8Array(8);

/**
 * Scores are stored as an order-preserving key: the IEEE-754 bits big-endian, with the sign bit
 * flipped for positive numbers and every bit flipped for negative ones, so that comparing keys
 * byte by byte compares the doubles (scans mostly stop at the first byte). -0 and 0 differ, but
 * a listpack never holds -0 and queries map -0 to 0.
 */
function setKey(s: number): void {
  DV.setFloat64(0, s === 0 ? 0 : s);
  let hi = DV.getUint32(0);
  let lo = DV.getUint32(4);
  if (hi >= 0x80000000) {
    hi = ~hi;
    lo = ~lo;
  } else {
    hi |= 0x80000000;
  }
  KEY[0] = hi >>> 24;
  KEY[1] = hi >>> 16;
  KEY[2] = hi >>> 8;
  KEY[3] = hi;
  KEY[4] = lo >>> 24;
  KEY[5] = lo >>> 16;
  KEY[6] = lo >>> 8;
  KEY[7] = lo;
}

/** Sign of (key at p[o, o+8)) - KEY. */
function cmpKey(p: string, o: number): number {
  for (let k = 0; k < 8; k++) {
    const d = p.charCodeAt(o + k) - KEY[k]!;
    if (d !== 0) return d;
  }
  return 0;
}

function readScore(p: string, o: number): number {
  let hi = (p.charCodeAt(o) << 24) | (p.charCodeAt(o + 1) << 16) | (p.charCodeAt(o + 2) << 8) | p.charCodeAt(o + 3);
  let lo = (p.charCodeAt(o + 4) << 24) | (p.charCodeAt(o + 5) << 16) | (p.charCodeAt(o + 6) << 8) | p.charCodeAt(o + 7);
  if (hi < 0) {
    hi &= 0x7fffffff; // was positive
  } else {
    hi = ~hi;
    lo = ~lo;
  }
  DV.setInt32(0, hi);
  DV.setInt32(4, lo);
  return DV.getFloat64(0);
}

function scoreChars(s: number): string {
  setKey(s);
  return String.fromCharCode(KEY[0]!, KEY[1]!, KEY[2]!, KEY[3]!, KEY[4]!, KEY[5]!, KEY[6]!, KEY[7]!);
}

function countChars(n: number): string {
  return n >= COUNT_UNKNOWN ? '\xff\xff' : String.fromCharCode(n >>> 8, n & 255);
}

// Member length prefixes use packed.ts's layout: lenAt / dataAt read them.
const memberOff = dataAt;
const memberLen = lenAt;

/** Offset of the element after the one at o (its member, then the 8 score chars). */
function skip(p: string, o: number): number {
  return dataAt(p, o) + lenAt(p, o) + 8;
}

function packedCount(p: string): number {
  const n = (p.charCodeAt(0) << 8) | p.charCodeAt(1);
  if (n !== COUNT_UNKNOWN) return n;
  let k = 0;
  for (let o = HDR; o < p.length; o = skip(p, o)) k++;
  return k;
}

/** Offset of the element of rank r (p.length when r is the count). */
function offsetOfRank(p: string, r: number): number {
  let o = HDR;
  for (; r > 0; r--) o = skip(p, o);
  return o;
}

/** Rank of the element found by the last successful `findMember`. */
let foundRank = 0;

/** Offset of the element holding `m`, or -1 (its rank goes to `foundRank`). */
function findMember(p: string, m: string): number {
  const ml = m.length;
  // Members often share a prefix ("user:..."): the last byte tells most apart cheaply.
  const last = ml > 0 ? m.charCodeAt(ml - 1) : -1;
  const end = p.length;
  for (let o = HDR, r = 0; o < end; r++) {
    const len = lenAt(p, o);
    const mo = dataAt(p, o);
    if (len === ml && (ml === 0 || (p.charCodeAt(mo + ml - 1) === last && p.startsWith(m, mo)))) {
      foundRank = r;
      return o;
    }
    o = mo + len + 8;
  }
  return -1;
}

/** Compares the member at p[mo, mo+len) with m by byte value (sign of the difference). */
function cmpMember(p: string, mo: number, len: number, m: string): number {
  const n = len < m.length ? len : m.length;
  for (let i = 0; i < n; i++) {
    const d = p.charCodeAt(mo + i) - m.charCodeAt(i);
    if (d !== 0) return d;
  }
  return len - m.length;
}

/**
 * Offset of the first element ordered after (s, m), ignoring the element at `self` (-1: none).
 * p.length when there is none.
 */
function upperOffset(p: string, s: number, m: string, self: number): number {
  setKey(s);
  const end = p.length;
  for (let o = HDR; o < end; ) {
    const len = lenAt(p, o);
    const mo = dataAt(p, o);
    const so = mo + len;
    if (o !== self) {
      const k = cmpKey(p, so);
      if (k > 0 || (k === 0 && cmpMember(p, mo, len, m) > 0)) return o;
    }
    o = so + 8;
  }
  return end;
}

/** Packs elements sorted by (score, member); -0 must already be normalised to 0. */
function pack(members: readonly string[], scores: readonly number[]): string {
  const n = members.length;
  if (n === 0) return EMPTY;
  const b = packed.begin().raw(countChars(n));
  for (let i = 0; i < n; i++) b.element(members[i]!).raw(scoreChars(scores[i]!));
  return b.finish();
}

/** Distinct elements sorted by (score, member). */
function sortElements(members: string[], scores: number[]): [string[], number[]] {
  const idx = members.map((_, i) => i);
  idx.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    if (sa !== sb) return sa < sb ? -1 : 1;
    const ma = members[a]!;
    const mb = members[b]!;
    return ma < mb ? -1 : ma > mb ? 1 : 0;
  });
  return [idx.map((i) => members[i]!), idx.map((i) => scores[i]!)];
}

/**
 * The content of a zset of sorted distinct elements in the given encoding. Normalises -0 for a
 * listpack; `copyMembers` copies members that may be slices of packed strings into a skiplist.
 */
function build(members: string[], scores: number[], enc: ZSetEncoding, copyMembers: boolean): string | Skiplist {
  if (enc === 'listpack') {
    for (let i = 0; i < scores.length; i++) if (scores[i] === 0) scores[i] = 0;
    return pack(members, scores);
  }
  if (copyMembers) for (let i = 0; i < members.length; i++) members[i] = ownString(members[i]!);
  return Skiplist.of(RankTree.fromSorted(members, scores));
}

// Offsets of the elements of a descending iteration (a stack: visitors may iterate other zsets).
const offsetPool: Int32Array[] = [];
let offsetDepth = 0;

function takeOffsets(n: number): Int32Array {
  let a = offsetPool[offsetDepth];
  if (a === undefined || a.length < n) {
    a = new Int32Array(Math.max(n, 128));
    offsetPool[offsetDepth] = a;
  }
  offsetDepth++;
  return a;
}

let copyBuf = Buffer.allocUnsafe(256);

/**
 * A copy of `s` that shares no memory with any other string: V8 represents slices of 13+
 * characters as views that keep the whole parent string alive.
 */
export function ownString(s: string): string {
  const n = s.length;
  if (n < 13) return s;
  if (n > 65536) return Buffer.from(s, 'latin1').latin1Slice(0, n);
  if (copyBuf.length < n) copyBuf = Buffer.allocUnsafe(Math.max(n, copyBuf.length * 2));
  copyBuf.latin1Write(s, 0, n);
  return copyBuf.latin1Slice(0, n);
}

// ---------------------------------------------------------------------------------------------
// The skiplist form

class Skiplist {
  constructor(
    readonly tree: RankTree,
    readonly dict: Map<string, number>,
  ) {}

  static of(tree: RankTree): Skiplist {
    const d = new Map<string, number>();
    tree.forEach((m, s) => {
      d.set(m, s);
    });
    return new Skiplist(tree, d);
  }
}

// ---------------------------------------------------------------------------------------------

/** The write operations ZADD needs: a ZSetValue, or a ZSetBatch on one. */
export interface ZSetWriter {
  readonly size: number;
  score(member: string): number | undefined;
  insert(member: string, score: number): void;
  setScore(member: string, from: number, to: number): void;
  convertForAdd(memberLen: number, cfg: Config): void;
}

let setContent: (z: ZSetValue, d: string | Skiplist) => void;

export class ZSetValue implements ZSetWriter {
  /** The packed listpack string, or the skiplist structures. */
  private d: string | Skiplist;
  /** Redis's robj.lru for this value (see Db.lru); strings keep theirs in Db.lru. */
  lru = 0;

  static {
    setContent = (z, d) => {
      z.d = d;
    };
  }

  /** An empty zset in the given encoding (commands pick it with `ZSetValue.createFor`). */
  constructor(encoding: ZSetEncoding = 'listpack') {
    this.d = encoding === 'listpack' ? EMPTY : new Skiplist(new RankTree(), new Map());
  }

  get type(): 'zset' {
    return 'zset';
  }

  get encoding(): ZSetEncoding {
    return typeof this.d === 'string' ? 'listpack' : 'skiplist';
  }

  /**
   * The empty zset ZADD creates for its first member (Redis 7.0 zaddGenericCommand): skiplist
   * when listpacks are disabled or the first member is already too long, else listpack.
   */
  static createFor(firstMemberLen: number, cfg: Config): ZSetValue {
    const maxEntries = cfg.int('zset-max-listpack-entries');
    const maxValue = cfg.int('zset-max-listpack-value');
    return new ZSetValue(maxEntries === 0 || firstMemberLen > maxValue ? 'skiplist' : 'listpack');
  }

  /**
   * Builds a zset from [member, score] pairs in any order (RDB/AOF loaders, DUMP/RESTORE,
   * stores of ZUNIONSTORE & co). A member given twice keeps its last score. The encoding is the
   * one Redis ends with after loading: listpack when the size and every member length are within
   * zset-max-listpack-entries / -value, else skiplist. Throws on a NaN score (loaders report
   * that as a corrupt payload, as Redis does). `copyMembers`: the members may be slices of
   * listpack zsets (results of commands), to copy with `ownString` when they go into a skiplist.
   */
  static from(entries: Iterable<readonly [string, number]>, cfg?: Config, encoding?: ZSetEncoding, copyMembers = false): ZSetValue {
    const maxEntries = cfg ? cfg.int('zset-max-listpack-entries') : DEFAULT_MAX_ENTRIES;
    const maxValue = cfg ? cfg.int('zset-max-listpack-value') : DEFAULT_MAX_VALUE;
    let members: string[] = [];
    let scores: number[] = [];
    let seen: Map<string, number> | null = null;
    let asc = true;
    let desc = true;
    let maxLen = 0;
    for (const [m, s] of entries) {
      if (Number.isNaN(s)) throw new Error('zset score is NaN');
      if (seen === null && members.length >= 16) {
        seen = new Map();
        for (let i = 0; i < members.length; i++) seen.set(members[i]!, i);
      }
      let dup = -1;
      if (seen !== null) dup = seen.get(m) ?? -1;
      else dup = members.indexOf(m);
      if (dup >= 0) {
        scores[dup] = s;
        asc = desc = false;
        continue;
      }
      const n = members.length;
      if (n > 0) {
        const ps = scores[n - 1]!;
        const pm = members[n - 1]!;
        if (!(ps < s || (ps === s && pm < m))) asc = false;
        if (!(ps > s || (ps === s && pm > m))) desc = false;
      }
      seen?.set(m, n);
      members.push(m);
      scores.push(s);
      if (m.length > maxLen) maxLen = m.length;
    }
    if (!asc) {
      if (desc) {
        members.reverse();
        scores.reverse();
      } else {
        [members, scores] = sortElements(members, scores);
      }
    }
    const enc = encoding ?? (members.length <= maxEntries && maxLen <= maxValue && maxEntries > 0 ? 'listpack' : 'skiplist');
    const z = new ZSetValue('listpack');
    z.d = build(members, scores, enc, copyMembers);
    return z;
  }

  get size(): number {
    const d = this.d;
    return typeof d === 'string' ? packedCount(d) : d.tree.size;
  }

  /** A deep copy in the same encoding (Redis's zsetDup, used by COPY). */
  dup(): ZSetValue {
    const d = this.d;
    const z = new ZSetValue('listpack');
    if (typeof d === 'string') {
      z.d = d; // strings are immutable: sharing is copying
    } else {
      const members: string[] = [];
      const scores: number[] = [];
      d.tree.forEach((m, s) => {
        members.push(m);
        scores.push(s);
      });
      z.d = Skiplist.of(RankTree.fromSorted(members, scores));
    }
    return z;
  }

  /** [member, score] ascending by (score, member). */
  *entries(): IterableIterator<[string, number]> {
    const d = this.d;
    if (typeof d !== 'string') {
      yield* d.tree.entries();
      return;
    }
    for (let o = HDR; o < d.length; ) {
      const mo = memberOff(d, o);
      const so = mo + memberLen(d, o);
      yield [d.slice(mo, so), readScore(d, so)];
      o = so + 8;
    }
  }

  /** The member's score, or undefined when it is not a member. */
  score(member: string): number | undefined {
    const d = this.d;
    if (typeof d !== 'string') return d.dict.get(member);
    const o = findMember(d, member);
    if (o < 0) return undefined;
    return readScore(d, memberOff(d, o) + member.length);
  }

  has(member: string): boolean {
    const d = this.d;
    return typeof d === 'string' ? findMember(d, member) >= 0 : d.dict.has(member);
  }

  /** 0-based rank by ascending order, or -1 when absent. */
  rank(member: string): number {
    const d = this.d;
    if (typeof d !== 'string') {
      const s = d.dict.get(member);
      return s === undefined ? -1 : d.tree.rank(s, member);
    }
    return findMember(d, member) < 0 ? -1 : foundRank;
  }

  /** Adds a member known to be absent. The caller applies the conversion rule (`convertForAdd`). */
  insert(member: string, score: number): void {
    const d = this.d;
    if (typeof d !== 'string') {
      d.tree.insert(score, member);
      d.dict.set(member, score);
      return;
    }
    // A listpack stores integral scores as integers, so -0 comes back as 0.
    if (score === 0) score = 0;
    const q = upperOffset(d, score, member, -1);
    this.d = packed.begin().raw(countChars(packedCount(d) + 1)).range(d, HDR, q).element(member).raw(scoreChars(score)).range(d, q, d.length).finish();
  }

  /** Changes an existing member's score (`from` is its current score). */
  setScore(member: string, from: number, to: number): void {
    const d = this.d;
    if (typeof d !== 'string') {
      d.tree.updateScore(from, member, to);
      d.dict.set(member, to);
      return;
    }
    if (to === 0) to = 0;
    const o = findMember(d, member);
    if (o < 0) throw new Error('ZSetValue.setScore: not a member');
    const so = memberOff(d, o) + member.length;
    const end = so + 8;
    const q = upperOffset(d, to, member, o);
    const b = packed.begin();
    if (q === end) b.range(d, 0, so).raw(scoreChars(to)).range(d, end, d.length);
    else if (q < o) b.range(d, 0, q).range(d, o, so).raw(scoreChars(to)).range(d, q, o).range(d, end, d.length);
    else b.range(d, 0, o).range(d, end, q).range(d, o, so).raw(scoreChars(to)).range(d, q, d.length);
    this.d = b.finish();
  }

  /** Removes a member. Returns whether it was present. */
  remove(member: string): boolean {
    const d = this.d;
    if (typeof d !== 'string') {
      const s = d.dict.get(member);
      if (s === undefined) return false;
      d.tree.delete(s, member);
      d.dict.delete(member);
      return true;
    }
    const o = findMember(d, member);
    if (o < 0) return false;
    const n = packedCount(d) - 1;
    this.d = n === 0 ? EMPTY : packed.begin().raw(countChars(n)).range(d, HDR, o).range(d, skip(d, o), d.length).finish();
    return true;
  }

  /**
   * Removes every member of members[start..] that is present (ZREM); a listpack zset is rebuilt
   * once. Returns the number removed.
   */
  removeMembers(members: readonly string[], start = 0): number {
    const d = this.d;
    if (typeof d !== 'string' || members.length - start <= 1) {
      let k = 0;
      for (let i = start; i < members.length; i++) if (this.remove(members[i]!)) k++;
      return k;
    }
    const found: number[] = [];
    for (let i = start; i < members.length; i++) {
      const o = findMember(d, members[i]!);
      if (o >= 0 && !found.includes(o)) found.push(o);
    }
    const k = found.length;
    if (k === 0) return 0;
    const n = packedCount(d) - k;
    if (n === 0) {
      this.d = EMPTY;
      return k;
    }
    found.sort((a, b) => a - b);
    const b = packed.begin().raw(countChars(n));
    let from = HDR;
    for (const o of found) {
      b.range(d, from, o);
      from = skip(d, o);
    }
    this.d = b.range(d, from, d.length).finish();
    return k;
  }

  /** Removes the elements of ranks [lo, hi) (pops, ZREMRANGEBY*). */
  removeRange(lo: number, hi: number): void {
    if (lo < 0) lo = 0;
    const d = this.d;
    if (typeof d !== 'string') {
      const t = d.tree;
      if (hi > t.size) hi = t.size;
      for (let k = lo; k < hi; k++) {
        const p = t.atRank(lo);
        const m = p.member;
        t.delete(p.score, m);
        d.dict.delete(m);
      }
      return;
    }
    const count = packedCount(d);
    if (hi > count) hi = count;
    if (hi <= lo) return;
    const n = count - (hi - lo);
    if (n === 0) {
      this.d = EMPTY;
      return;
    }
    const oLo = offsetOfRank(d, lo);
    let oHi = oLo;
    for (let r = lo; r < hi; r++) oHi = skip(d, oHi);
    this.d = packed.begin().raw(countChars(n)).range(d, HDR, oLo).range(d, oHi, d.length).finish();
  }

  /**
   * Visits the elements of ranks [lo, hi): ascending from lo, or descending from hi - 1 when
   * `reverse`. Stops when `fn` returns false. The zset may be modified by `fn`; the iteration
   * then goes on over a listpack zset's old content (an iteration over a skiplist one must not
   * be combined with modifications).
   */
  forRange(lo: number, hi: number, reverse: boolean, fn: ZSetVisitor): void {
    if (lo < 0) lo = 0;
    const d = this.d;
    if (typeof d !== 'string') {
      const t = d.tree;
      if (hi > t.size) hi = t.size;
      if (hi <= lo) return;
      const p = t.atRank(reverse ? hi - 1 : lo);
      for (let k = hi - lo; k > 0; k--) {
        if (fn(p.member, p.score) === false) return;
        if (reverse) p.prev();
        else p.next();
      }
      return;
    }
    let o = HDR;
    for (let r = 0; r < lo && o < d.length; r++) o = skip(d, o);
    if (!reverse) {
      for (let r = lo; r < hi && o < d.length; r++) {
        const mo = memberOff(d, o);
        const so = mo + memberLen(d, o);
        o = so + 8;
        if (fn(d.slice(mo, so), readScore(d, so)) === false) return;
      }
      return;
    }
    const count = packedCount(d);
    if (hi > count) hi = count;
    if (hi <= lo) return;
    const offs = takeOffsets(hi - lo);
    try {
      let k = 0;
      for (let r = lo; r < hi && o < d.length; r++) {
        offs[k++] = o;
        o = skip(d, o);
      }
      while (k > 0) {
        const e = offs[--k]!;
        const mo = memberOff(d, e);
        const so = mo + memberLen(d, e);
        if (fn(d.slice(mo, so), readScore(d, so)) === false) return;
      }
    } finally {
      offsetDepth--;
    }
  }

  /** Visits every element in ascending order; stops when `fn` returns false. */
  forEach(fn: ZSetVisitor): void {
    this.forRange(0, Infinity, false, fn);
  }

  /** [member, score] of the element of rank r, or undefined when out of range. */
  elementAt(r: number): [string, number] | undefined {
    const d = this.d;
    if (typeof d !== 'string') {
      const p = d.tree.atRank(r);
      return p.valid ? [p.member, p.score] : undefined;
    }
    if (r < 0) return undefined;
    let o = HDR;
    for (; r > 0 && o < d.length; r--) o = skip(d, o);
    if (o >= d.length) return undefined;
    const mo = memberOff(d, o);
    const so = mo + memberLen(d, o);
    return [d.slice(mo, so), readScore(d, so)];
  }

  /** Number of elements whose score is < x, or <= x when `inclusive` (a rank for score ranges). */
  scoreRank(x: number, inclusive: boolean): number {
    const d = this.d;
    if (typeof d !== 'string') return d.tree.lowerBound(inclusive ? (s) => s > x : (s) => s >= x).rank;
    if (Number.isNaN(x)) return packedCount(d); // no score is >= NaN (as for the tree)
    setKey(x);
    let r = 0;
    for (let o = HDR; o < d.length; r++) {
      const so = memberOff(d, o) + memberLen(d, o);
      const k = cmpKey(d, so);
      if (k > 0 || (k === 0 && !inclusive)) return r;
      o = so + 8;
    }
    return r;
  }

  /** Number of elements before the first one for which the monotone predicate `p` holds. */
  countBefore(p: KeyPredicate): number {
    const d = this.d;
    if (typeof d !== 'string') return d.tree.lowerBound(p).rank;
    let r = 0;
    for (let o = HDR; o < d.length; r++) {
      const mo = memberOff(d, o);
      const so = mo + memberLen(d, o);
      if (p(readScore(d, so), d.slice(mo, so))) return r;
      o = so + 8;
    }
    return r;
  }

  /**
   * Redis's zsetAdd conversion check for adding one member of `memberLen` bytes to a listpack
   * zset: converts when the listpack would exceed zset-max-listpack-entries or the member is
   * longer than zset-max-listpack-value. Call before inserting a new member.
   */
  convertForAdd(memberLen: number, cfg: Config): void {
    const d = this.d;
    if (typeof d !== 'string') return;
    if (packedCount(d) + 1 > cfg.int('zset-max-listpack-entries') || memberLen > cfg.int('zset-max-listpack-value')) {
      this.convertToSkiplist();
    }
  }

  /**
   * Many writes to a listpack zset in one command (a ZADD with many elements) go through a batch
   * that packs the result once instead of rebuilding the string per element; see ZSetBatch.
   * Null for a skiplist zset (its writes are cheap anyway).
   */
  startBatch(): ZSetBatch | null {
    return typeof this.d === 'string' ? new ZSetBatch(this) : null;
  }

  convertToSkiplist(): void {
    const d = this.d;
    if (typeof d !== 'string') return;
    const members: string[] = [];
    const scores: number[] = [];
    for (let o = HDR; o < d.length; ) {
      const mo = memberOff(d, o);
      const so = mo + memberLen(d, o);
      // Copies, so that the members do not keep the packed string alive.
      members.push(ownString(d.slice(mo, so)));
      scores.push(readScore(d, so));
      o = so + 8;
    }
    this.d = Skiplist.of(RankTree.fromSorted(members, scores));
  }

  /**
   * zsetConvertToListpackIfNeeded: stores that build a new zset (ZRANGESTORE, ZUNIONSTORE ...)
   * end in listpack encoding when the result is small enough.
   */
  convertToListpackIfSmall(cfg: Config): void {
    const d = this.d;
    if (typeof d === 'string') return;
    const maxEntries = cfg.int('zset-max-listpack-entries');
    const maxValue = cfg.int('zset-max-listpack-value');
    if (d.tree.size > maxEntries) return;
    const members: string[] = [];
    const scores: number[] = [];
    let fits = true;
    d.tree.forEach((m, s) => {
      if (m.length > maxValue) return (fits = false);
      members.push(m);
      // Scores written into a listpack lose the sign of zero (see insert).
      scores.push(s === 0 ? 0 : s);
      return true;
    });
    if (!fits) return;
    this.d = pack(members, scores);
  }
}

/**
 * Writes to a listpack zset applied to a member -> score Map with exactly the semantics of the
 * ZSetValue methods (-0 stored as 0 while listpack, the conversion rule of convertForAdd, after
 * which -0 is kept), then written back by `commit()` in one go: packed, or built as a skiplist
 * when the writes converted it.
 */
export class ZSetBatch implements ZSetWriter {
  private readonly map = new Map<string, number>();
  private listpack = true;
  private dirty = false;

  constructor(private readonly z: ZSetValue) {
    const map = this.map;
    z.forEach((m, s) => {
      map.set(m, s);
    });
  }

  get size(): number {
    return this.map.size;
  }

  score(member: string): number | undefined {
    return this.map.get(member);
  }

  insert(member: string, score: number): void {
    if (score === 0 && this.listpack) score = 0;
    this.map.set(member, score);
    this.dirty = true;
  }

  setScore(member: string, _from: number, to: number): void {
    this.insert(member, to);
  }

  convertForAdd(memberLen: number, cfg: Config): void {
    if (!this.listpack) return;
    if (this.map.size + 1 > cfg.int('zset-max-listpack-entries') || memberLen > cfg.int('zset-max-listpack-value')) {
      this.listpack = false;
      this.dirty = true;
    }
  }

  /** Writes the result into the zset (nothing when no write happened). */
  commit(): void {
    if (!this.dirty) return;
    const [members, scores] = sortElements([...this.map.keys()], [...this.map.values()]);
    // Members read from the packed string may be slices of it: copied into a skiplist.
    setContent(this.z, build(members, scores, this.listpack ? 'listpack' : 'skiplist', true));
  }
}
