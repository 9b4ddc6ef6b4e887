/**
 * The sorted set value type.
 *
 * Contract used by persistence, DEBUG DIGEST, AOF rewrite, DUMP/RESTORE and OBJECT ENCODING
 * (see README.md): `entries()` yields [member, score] ascending by (score, member); `size`;
 * `ZSetValue.from(entries, cfg)` builds a value with the encoding Redis would pick for the
 * same data; `encoding` is 'listpack' | 'skiplist' (sticky state, as in Redis).
 *
 * Representation: the ordered part is a RankTree (an order-statistic B+tree, rank-tree.ts)
 * keyed by (score, member). In 'skiplist' encoding a member → score Map gives O(1) ZSCORE and
 * membership, like the dict beside Redis's skiplist. In 'listpack' encoding (at most
 * zset-max-listpack-entries members, each at most zset-max-listpack-value bytes) there is no
 * Map: member lookups scan the (single-leaf) tree, as Redis scans its listpack. Small zsets
 * therefore cost little more than their strings, and conversion is one-way.
 *
 * Scores are JS doubles; NaN is never stored (commands reject it before reaching here). As in
 * Redis, a listpack zset cannot hold -0 (listpacks store integral scores as integers), while a
 * skiplist one can.
 */
import type { Config } from '../config/config.js';
import { RankTree, TreePos } from './rank-tree.js';

export type ZSetEncoding = 'listpack' | 'skiplist';

const DEFAULT_MAX_ENTRIES = 128;
const DEFAULT_MAX_VALUE = 64;

export class ZSetValue {
  readonly type = 'zset' as const;
  /** Redis's robj.lru for this value (see Db.lru); strings keep theirs in Db.lru. */
  lru = 0;
  encoding: ZSetEncoding;
  /** Elements ordered by (score, member). Commands iterate it directly for ranges. */
  readonly tree: RankTree;
  private dict: Map<string, number> | null;

  /** An empty zset in the given encoding (commands pick it with `ZSetValue.createFor`). */
  constructor(encoding: ZSetEncoding = 'listpack', tree?: RankTree) {
    this.encoding = encoding;
    this.tree = tree ?? new RankTree();
    this.dict = null;
    if (encoding === 'skiplist') this.buildDict();
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
   * that as a corrupt payload, as Redis does).
   */
  static from(entries: Iterable<readonly [string, number]>, cfg?: Config, encoding?: ZSetEncoding): ZSetValue {
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
        const idx = members.map((_, i) => i);
        idx.sort((a, b) => {
          const sa = scores[a]!;
          const sb = scores[b]!;
          if (sa !== sb) return sa < sb ? -1 : 1;
          const ma = members[a]!;
          const mb = members[b]!;
          return ma < mb ? -1 : ma > mb ? 1 : 0;
        });
        members = idx.map((i) => members[i]!);
        scores = idx.map((i) => scores[i]!);
      }
    }
    const enc = encoding ?? (members.length <= maxEntries && maxLen <= maxValue && maxEntries > 0 ? 'listpack' : 'skiplist');
    if (enc === 'listpack') for (let i = 0; i < scores.length; i++) if (scores[i] === 0) scores[i] = 0;
    return new ZSetValue(enc, RankTree.fromSorted(members, scores));
  }

  get size(): number {
    return this.tree.size;
  }

  /** A deep copy in the same encoding (Redis's zsetDup, used by COPY). */
  dup(): ZSetValue {
    const members: string[] = [];
    const scores: number[] = [];
    this.tree.forEach((m, s) => {
      members.push(m);
      scores.push(s);
    });
    return new ZSetValue(this.encoding, RankTree.fromSorted(members, scores));
  }

  /** [member, score] ascending by (score, member). */
  entries(): IterableIterator<[string, number]> {
    return this.tree.entries();
  }

  /** The member's score, or undefined when it is not a member. */
  score(member: string): number | undefined {
    if (this.dict !== null) return this.dict.get(member);
    const pos = this.tree.findMember(member);
    return pos.leaf === null ? undefined : pos.score;
  }

  has(member: string): boolean {
    return this.score(member) !== undefined;
  }

  /** Adds a member known to be absent. The caller applies the conversion rule (`convertForAdd`). */
  insert(member: string, score: number): void {
    // A listpack stores integral scores as integers, so -0 comes back as 0.
    if (score === 0 && this.encoding === 'listpack') score = 0;
    this.tree.insert(score, member);
    if (this.dict !== null) this.dict.set(member, score);
  }

  /** Changes an existing member's score (`from` is its current score). */
  setScore(member: string, from: number, to: number): void {
    if (to === 0 && this.encoding === 'listpack') to = 0;
    this.tree.updateScore(from, member, to);
    if (this.dict !== null) this.dict.set(member, to);
  }

  /** Removes a member. Returns whether it was present. */
  remove(member: string): boolean {
    const s = this.score(member);
    if (s === undefined) return false;
    this.tree.delete(s, member);
    if (this.dict !== null) this.dict.delete(member);
    return true;
  }

  /** Removes the element at a tree position (pop, range removals). */
  removeAt(pos: TreePos<never>): void {
    const m = pos.member;
    this.tree.delete(pos.score, m);
    if (this.dict !== null) this.dict.delete(m);
  }

  /** 0-based rank by ascending order, or -1 when absent. */
  rank(member: string): number {
    const s = this.score(member);
    if (s === undefined) return -1;
    return this.tree.rank(s, member);
  }

  /**
   * Redis's zsetAdd conversion check for adding one member of `memberLen` bytes to a listpack
   * zset: converts when the listpack would exceed zset-max-listpack-entries or the member is
   * longer than zset-max-listpack-value. Call before inserting a new member.
   */
  convertForAdd(memberLen: number, cfg: Config): void {
    if (this.encoding !== 'listpack') return;
    if (this.tree.size + 1 > cfg.int('zset-max-listpack-entries') || memberLen > cfg.int('zset-max-listpack-value')) {
      this.convertToSkiplist();
    }
  }

  convertToSkiplist(): void {
    if (this.encoding === 'skiplist') return;
    this.encoding = 'skiplist';
    this.buildDict();
  }

  /**
   * zsetConvertToListpackIfNeeded: stores that build a new zset (ZRANGESTORE, ZUNIONSTORE ...)
   * end in listpack encoding when the result is small enough.
   */
  convertToListpackIfSmall(cfg: Config): void {
    if (this.encoding !== 'skiplist') return;
    const maxEntries = cfg.int('zset-max-listpack-entries');
    const maxValue = cfg.int('zset-max-listpack-value');
    if (this.size > maxEntries) return;
    let fits = true;
    this.tree.forEach((m) => {
      if (m.length > maxValue) return (fits = false);
      return true;
    });
    if (!fits) return;
    this.encoding = 'listpack';
    this.dict = null;
    // Scores written into a listpack lose the sign of zero (see insert).
    const negZero: string[] = [];
    this.tree.forEach((m, s) => {
      if (Object.is(s, -0)) negZero.push(m);
    });
    for (const m of negZero) this.tree.updateScore(-0, m, 0);
  }

  private buildDict(): void {
    const d = new Map<string, number>();
    this.tree.forEach((m, s) => {
      d.set(m, s);
    });
    this.dict = d;
  }
}
