/**
 * RankTree: an order-statistic B+tree keyed by (score, member), the ordered half of a sorted set
 * (Redis uses a skiplist with spans for the same job). Streams reuse it with score 0 and the
 * 16-byte binary entry id as member, plus a payload per element.
 *
 * Why a B+tree rather than a skiplist: elements live in leaf arrays (member pointer + unboxed
 * double score per element, no per-element node object), so a 1M-member zset costs a few tens
 * of bytes per element for the ordering instead of ~150; every inner node keeps the element
 * count of each child, which gives O(log n) rank and select like skiplist spans.
 *
 * Order: score ascending (as doubles, so -0 == 0), then member by byte value (latin1 strings
 * compare char codes, which are the bytes: the same order as Redis's memcmp-based sdscmp).
 *
 * Invariants:
 *  - leaves are linked (prev/next) in key order and, except a root leaf, never empty;
 *  - an inner node has >= 2 children except transiently; a root with one child is collapsed;
 *  - inner.sepS/sepM[j] (j >= 1) separate child j-1 from child j: every key in child j-1 is
 *    < sep[j] <= every key in child j (index 0 is unused). Deleting keys never invalidates this,
 *    so separators are only rewritten by splits, merges and redistributions;
 *  - inner.counts[j] is the number of elements under child j.
 *
 * Mutations use a module-level path stack (the server is single-threaded and no mutation
 * re-enters the tree), so inserts and deletes allocate nothing but the occasional split node.
 */

const LEAF_MAX = 128;
const LEAF_MIN = 32;
const INNER_MAX = 64;
const INNER_MIN = 16;

export class Leaf<V> {
  members: string[] = [];
  scores: number[] = [];
  vals: V[] | null;
  next: Leaf<V> | null = null;
  prev: Leaf<V> | null = null;
  readonly isLeaf = true;
  constructor(withVals: boolean) {
    this.vals = withVals ? [] : null;
  }
}

class Inner<V> {
  kids: Node<V>[] = [];
  counts: number[] = [];
  sepS: number[] = [];
  sepM: string[] = [];
  readonly isLeaf = false;
}

type Node<V> = Leaf<V> | Inner<V>;

/** A position in the tree: a leaf and an index in it; `leaf === null` means past either end. */
export class TreePos<V> {
  constructor(
    public leaf: Leaf<V> | null,
    public i: number,
  ) {}
  get valid(): boolean {
    return this.leaf !== null;
  }
  get member(): string {
    return this.leaf!.members[this.i]!;
  }
  get score(): number {
    return this.leaf!.scores[this.i]!;
  }
  get value(): V {
    return this.leaf!.vals![this.i]!;
  }
  next(): void {
    const l = this.leaf!;
    if (++this.i >= l.members.length) {
      this.leaf = l.next;
      this.i = 0;
    }
  }
  prev(): void {
    if (--this.i < 0) {
      const l = this.leaf!.prev;
      this.leaf = l;
      this.i = l === null ? 0 : l.members.length - 1;
    }
  }
}

/** A monotone predicate over keys: false for a prefix of the order, true for the rest. */
export type KeyPredicate = (score: number, member: string) => boolean;

// Shared descent path for mutations (see the header).
const pathNodes: Inner<unknown>[] = [];
const pathIdx: number[] = [];

function insertAt<T>(arr: T[], idx: number, v: T): void {
  let i = arr.length;
  arr.push(v);
  for (; i > idx; i--) arr[i] = arr[i - 1]!;
  arr[idx] = v;
}

function removeAt<T>(arr: T[], idx: number): void {
  const n = arr.length - 1;
  for (let i = idx; i < n; i++) arr[i] = arr[i + 1]!;
  arr.length = n;
}

function sum(a: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** First child index whose subtree may contain keys > (s, m): largest j with sep[j] <= key. */
function childUpper<V>(n: Inner<V>, s: number, m: string): number {
  let lo = 1;
  let hi = n.kids.length;
  const ss = n.sepS;
  const sm = n.sepM;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = ss[mid]!;
    if (x > s || (x === s && sm[mid]! > m)) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}

/** First index in a leaf whose key is > (s, m). */
function leafUpper<V>(l: Leaf<V>, s: number, m: string): number {
  let lo = 0;
  let hi = l.members.length;
  const ss = l.scores;
  const sm = l.members;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = ss[mid]!;
    if (x > s || (x === s && sm[mid]! > m)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export class RankTree<V = never> {
  private root: Node<V>;
  private head: Leaf<V>;
  private tail: Leaf<V>;
  size = 0;

  constructor(readonly withVals = false) {
    const l = new Leaf<V>(withVals);
    this.root = l;
    this.head = l;
    this.tail = l;
  }

  /**
   * Builds a tree from elements already sorted by (score, member) without duplicates, filling
   * leaves to 3/4 so that both inserts and deletes have room before splitting or merging.
   */
  static fromSorted<V = never>(members: string[], scores: number[], vals?: V[]): RankTree<V> {
    const t = new RankTree<V>(vals !== undefined);
    const n = members.length;
    if (n === 0) return t;
    if (n <= LEAF_MAX) {
      const l = t.head;
      l.members = members.slice();
      l.scores = scores.slice();
      if (vals) l.vals = vals.slice();
      t.size = n;
      return t;
    }
    const per = (LEAF_MAX * 3) >> 2;
    const nLeaves = Math.ceil(n / per);
    let level: Node<V>[] = [];
    let counts: number[] = [];
    let prev: Leaf<V> | null = null;
    for (let k = 0; k < nLeaves; k++) {
      // Even distribution so no leaf ends up tiny.
      const from = Math.floor((k * n) / nLeaves);
      const to = Math.floor(((k + 1) * n) / nLeaves);
      const l = new Leaf<V>(vals !== undefined);
      l.members = members.slice(from, to);
      l.scores = scores.slice(from, to);
      if (vals) l.vals = vals.slice(from, to);
      l.prev = prev;
      if (prev) prev.next = l;
      else t.head = l;
      prev = l;
      level.push(l);
      counts.push(to - from);
    }
    t.tail = prev!;
    const firstKey = (nd: Node<V>): [number, string] => {
      while (!nd.isLeaf) nd = nd.kids[0]!;
      return [nd.scores[0]!, nd.members[0]!];
    };
    while (level.length > 1) {
      const perInner = (INNER_MAX * 3) >> 2;
      const nInner = Math.ceil(level.length / perInner);
      const up: Node<V>[] = [];
      const upCounts: number[] = [];
      for (let k = 0; k < nInner; k++) {
        const from = Math.floor((k * level.length) / nInner);
        const to = Math.floor(((k + 1) * level.length) / nInner);
        const inner = new Inner<V>();
        for (let j = from; j < to; j++) {
          inner.kids.push(level[j]!);
          inner.counts.push(counts[j]!);
          if (j === from) {
            inner.sepS.push(0);
            inner.sepM.push('');
          } else {
            const [s, m] = firstKey(level[j]!);
            inner.sepS.push(s);
            inner.sepM.push(m);
          }
        }
        up.push(inner);
        upCounts.push(sum(inner.counts));
      }
      level = up;
      counts = upCounts;
    }
    t.root = level[0]!;
    t.size = n;
    return t;
  }

  // ---------------------------------------------------------------------------------------
  // Queries

  /** Position of the first element, or an invalid position when empty. */
  first(): TreePos<V> {
    return new TreePos(this.size === 0 ? null : this.head, 0);
  }

  /** Position of the last element, or an invalid position when empty. */
  last(): TreePos<V> {
    return new TreePos(this.size === 0 ? null : this.tail, this.tail.members.length - 1);
  }

  /** Position of the element of 0-based rank r (invalid when out of range). */
  atRank(r: number): TreePos<V> {
    if (r < 0 || r >= this.size) return new TreePos<V>(null, 0);
    let node = this.root;
    while (!node.isLeaf) {
      const counts = node.counts;
      let i = 0;
      while (r >= counts[i]!) r -= counts[i++]!;
      node = node.kids[i]!;
    }
    return new TreePos(node, r);
  }

  /** Exact lookup: the element's position (invalid when absent). */
  find(s: number, m: string): TreePos<V> {
    let node = this.root;
    while (!node.isLeaf) node = node.kids[childUpper(node, s, m)]!;
    const idx = leafUpper(node, s, m) - 1;
    if (idx >= 0 && node.scores[idx] === s && node.members[idx] === m) return new TreePos(node, idx);
    return new TreePos<V>(null, 0);
  }

  /** 0-based rank of (s, m), or -1 when absent. */
  rank(s: number, m: string): number {
    let node = this.root;
    let r = 0;
    while (!node.isLeaf) {
      const i = childUpper(node, s, m);
      const counts = node.counts;
      for (let j = 0; j < i; j++) r += counts[j]!;
      node = node.kids[i]!;
    }
    const idx = leafUpper(node, s, m) - 1;
    if (idx >= 0 && node.scores[idx] === s && node.members[idx] === m) return r + idx;
    return -1;
  }

  /**
   * The first element for which the monotone predicate `p` holds, and its rank
   * (rank === size and an invalid position when there is none).
   */
  lowerBound(p: KeyPredicate): { pos: TreePos<V>; rank: number } {
    let node = this.root;
    let r = 0;
    while (!node.isLeaf) {
      let lo = 1;
      let hi = node.kids.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (p(node.sepS[mid]!, node.sepM[mid]!)) hi = mid;
        else lo = mid + 1;
      }
      const i = lo - 1;
      const counts = node.counts;
      for (let j = 0; j < i; j++) r += counts[j]!;
      node = node.kids[i]!;
    }
    let lo = 0;
    let hi = node.members.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p(node.scores[mid]!, node.members[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    r += lo;
    if (lo < node.members.length) return { pos: new TreePos(node, lo), rank: r };
    return { pos: new TreePos(node.next, 0), rank: r };
  }

  /** Number of elements for which the monotone predicate `p` is false. */
  countBefore(p: KeyPredicate): number {
    return this.lowerBound(p).rank;
  }

  /** Every element in order (allocates one array per element: for loaders and tests). */
  *entries(): IterableIterator<[string, number]> {
    for (let l: Leaf<V> | null = this.head; l !== null; l = l.next) {
      const ms = l.members;
      const ss = l.scores;
      for (let i = 0; i < ms.length; i++) yield [ms[i]!, ss[i]!];
    }
  }

  /** Calls fn for every element in order; stops early when fn returns false. */
  forEach(fn: (member: string, score: number, value: V) => boolean | void): void {
    for (let l: Leaf<V> | null = this.head; l !== null; l = l.next) {
      const ms = l.members;
      const ss = l.scores;
      const vs = l.vals;
      for (let i = 0; i < ms.length; i++) {
        if (fn(ms[i]!, ss[i]!, (vs === null ? undefined : vs[i]) as V) === false) return;
      }
    }
  }

  /** Number of leaves and inner nodes (for introspection such as XINFO's radix-tree counters). */
  nodeCounts(): { leaves: number; nodes: number } {
    let leaves = 0;
    let nodes = 0;
    const walk = (n: Node<V>): void => {
      nodes++;
      if (n.isLeaf) leaves++;
      else for (const k of n.kids) walk(k);
    };
    walk(this.root);
    return { leaves, nodes };
  }

  // ---------------------------------------------------------------------------------------
  // Mutations

  /** Inserts (s, m) which must not be present. */
  insert(s: number, m: string, v?: V): void {
    let node = this.root;
    let depth = 0;
    while (!node.isLeaf) {
      const i = childUpper(node, s, m);
      pathNodes[depth] = node as Inner<unknown>;
      pathIdx[depth] = i;
      depth++;
      node.counts[i]!++;
      node = node.kids[i]!;
    }
    const idx = leafUpper(node, s, m);
    insertAt(node.members, idx, m);
    insertAt(node.scores, idx, s);
    if (node.vals !== null) insertAt(node.vals, idx, v as V);
    this.size++;
    if (node.members.length > LEAF_MAX) this.splitLeaf(node, depth);
  }

  /** Removes (s, m). Returns false (tree unchanged) when absent. */
  delete(s: number, m: string): boolean {
    let node = this.root;
    let depth = 0;
    while (!node.isLeaf) {
      const i = childUpper(node, s, m);
      pathNodes[depth] = node as Inner<unknown>;
      pathIdx[depth] = i;
      depth++;
      node = node.kids[i]!;
    }
    const idx = leafUpper(node, s, m) - 1;
    if (idx < 0 || node.scores[idx] !== s || node.members[idx] !== m) return false;
    this.removeFromLeaf(node, idx, depth);
    return true;
  }

  /**
   * Changes the score of member m from `from` to `to` (m must be present with `from`). Updates
   * in place when the element keeps its position inside its leaf, as Redis's zslUpdateScore
   * does for its skiplist node.
   */
  updateScore(from: number, m: string, to: number): void {
    let node = this.root;
    while (!node.isLeaf) node = node.kids[childUpper(node, from, m)]!;
    const idx = leafUpper(node, from, m) - 1;
    const ss = node.scores;
    const ms = node.members;
    const last = ms.length - 1;
    if (idx >= 0 && ss[idx] === from && ms[idx] === m) {
      // Staying inside the leaf keeps separators valid, except when the first element moves
      // down (it may cross the leaf's separator) or the last moves up (the next leaf's).
      const up = to > from;
      const okLow = idx > 0 ? ss[idx - 1]! < to || (ss[idx - 1] === to && ms[idx - 1]! < m) : up || to === from;
      const okHigh = idx < last ? to < ss[idx + 1]! || (to === ss[idx + 1] && m < ms[idx + 1]!) : !up;
      if (okLow && okHigh) {
        ss[idx] = to;
        return;
      }
      const v = node.vals === null ? undefined : node.vals[idx];
      this.delete(from, m);
      this.insert(to, m, v);
      return;
    }
    throw new Error('RankTree.updateScore: element not found');
  }

  /** Removes the element at a position obtained from this tree (the position becomes stale). */
  deleteAt(pos: TreePos<V>): void {
    this.delete(pos.score, pos.member);
  }

  /** Removes every element. */
  clear(): void {
    const l = new Leaf<V>(this.withVals);
    this.root = l;
    this.head = l;
    this.tail = l;
    this.size = 0;
  }

  private removeFromLeaf(leaf: Leaf<V>, idx: number, depth: number): void {
    removeAt(leaf.members, idx);
    removeAt(leaf.scores, idx);
    if (leaf.vals !== null) removeAt(leaf.vals, idx);
    for (let d = 0; d < depth; d++) pathNodes[d]!.counts[pathIdx[d]!]!--;
    this.size--;
    if (depth > 0 && leaf.members.length < LEAF_MIN) this.rebalanceLeaf(depth);
  }

  private splitLeaf(leaf: Leaf<V>, depth: number): void {
    const len = leaf.members.length;
    const mid = len >>> 1;
    const right = new Leaf<V>(leaf.vals !== null);
    right.members = leaf.members.slice(mid);
    right.scores = leaf.scores.slice(mid);
    leaf.members.length = mid;
    leaf.scores.length = mid;
    if (leaf.vals !== null) {
      right.vals = leaf.vals.slice(mid);
      leaf.vals.length = mid;
    }
    right.next = leaf.next;
    if (right.next !== null) right.next.prev = right;
    else this.tail = right;
    leaf.next = right;
    right.prev = leaf;
    this.insertIntoParent(depth, leaf, right, right.scores[0]!, right.members[0]!, mid, len - mid);
  }

  /** Links `right` after `left` (the node at path depth `depth`) in its parent. */
  private insertIntoParent(depth: number, left: Node<V>, right: Node<V>, s: number, m: string, lc: number, rc: number): void {
    if (depth === 0) {
      const r = new Inner<V>();
      r.kids = [left, right];
      r.counts = [lc, rc];
      r.sepS = [0, s];
      r.sepM = ['', m];
      this.root = r;
      return;
    }
    const parent = pathNodes[depth - 1] as Inner<V>;
    const i = pathIdx[depth - 1]!;
    insertAt(parent.kids, i + 1, right);
    parent.counts[i] = lc;
    insertAt(parent.counts, i + 1, rc);
    insertAt(parent.sepS, i + 1, s);
    insertAt(parent.sepM, i + 1, m);
    if (parent.kids.length > INNER_MAX) this.splitInner(parent, depth - 1);
  }

  private splitInner(node: Inner<V>, d: number): void {
    const n = node.kids.length;
    const mid = n >>> 1;
    const right = new Inner<V>();
    right.kids = node.kids.slice(mid);
    right.counts = node.counts.slice(mid);
    right.sepS = node.sepS.slice(mid);
    right.sepM = node.sepM.slice(mid);
    const upS = node.sepS[mid]!;
    const upM = node.sepM[mid]!;
    node.kids.length = mid;
    node.counts.length = mid;
    node.sepS.length = mid;
    node.sepM.length = mid;
    this.insertIntoParent(d, node, right, upS, upM, sum(node.counts), sum(right.counts));
  }

  /** The leaf at path depth `depth` is under-full: merge it with a sibling or borrow from one. */
  private rebalanceLeaf(depth: number): void {
    const parent = pathNodes[depth - 1] as Inner<V>;
    const i = pathIdx[depth - 1]!;
    if (parent.kids.length < 2) return;
    const li = i > 0 ? i - 1 : 0;
    const left = parent.kids[li] as Leaf<V>;
    const right = parent.kids[li + 1] as Leaf<V>;
    const total = left.members.length + right.members.length;
    if (total <= LEAF_MAX) {
      for (let k = 0; k < right.members.length; k++) {
        left.members.push(right.members[k]!);
        left.scores.push(right.scores[k]!);
        if (left.vals !== null) left.vals.push(right.vals![k]!);
      }
      left.next = right.next;
      if (right.next !== null) right.next.prev = left;
      else this.tail = left;
      this.removeChild(parent, li + 1);
      parent.counts[li] = total;
      this.afterInnerShrink(depth - 1);
      return;
    }
    // Redistribute so both halves hold about total/2.
    const want = total >>> 1;
    if (left.members.length > want) {
      const k = left.members.length - want;
      right.members.unshift(...left.members.splice(want, k));
      right.scores.unshift(...left.scores.splice(want, k));
      if (left.vals !== null) right.vals!.unshift(...left.vals.splice(want, k));
    } else {
      const k = want - left.members.length;
      left.members.push(...right.members.splice(0, k));
      left.scores.push(...right.scores.splice(0, k));
      if (left.vals !== null) left.vals.push(...right.vals!.splice(0, k));
    }
    parent.counts[li] = left.members.length;
    parent.counts[li + 1] = right.members.length;
    parent.sepS[li + 1] = right.scores[0]!;
    parent.sepM[li + 1] = right.members[0]!;
  }

  private removeChild(parent: Inner<V>, j: number): void {
    removeAt(parent.kids, j);
    removeAt(parent.counts, j);
    removeAt(parent.sepS, j);
    removeAt(parent.sepM, j);
  }

  /** The inner node at path depth d lost a child: collapse the root or rebalance. */
  private afterInnerShrink(d: number): void {
    const node = pathNodes[d] as Inner<V>;
    if (d === 0) {
      if (node.kids.length === 1) this.root = node.kids[0]!;
      return;
    }
    if (node.kids.length >= INNER_MIN) return;
    const parent = pathNodes[d - 1] as Inner<V>;
    const i = pathIdx[d - 1]!;
    if (parent.kids.length < 2) return;
    const li = i > 0 ? i - 1 : 0;
    const left = parent.kids[li] as Inner<V>;
    const right = parent.kids[li + 1] as Inner<V>;
    if (left.kids.length + right.kids.length <= INNER_MAX) {
      left.sepS.push(parent.sepS[li + 1]!);
      left.sepM.push(parent.sepM[li + 1]!);
      for (let k = 0; k < right.kids.length; k++) {
        left.kids.push(right.kids[k]!);
        left.counts.push(right.counts[k]!);
        if (k > 0) {
          left.sepS.push(right.sepS[k]!);
          left.sepM.push(right.sepM[k]!);
        }
      }
      parent.counts[li]! += parent.counts[li + 1]!;
      this.removeChild(parent, li + 1);
      this.afterInnerShrink(d - 1);
      return;
    }
    // Rotate children through the parent's separator until both sides are balanced.
    while (left.kids.length > right.kids.length + 1) {
      const kid = left.kids.pop()!;
      const cnt = left.counts.pop()!;
      const ks = left.sepS.pop()!;
      const km = left.sepM.pop()!;
      right.kids.unshift(kid);
      right.counts.unshift(cnt);
      right.sepS[0] = parent.sepS[li + 1]!;
      right.sepM[0] = parent.sepM[li + 1]!;
      right.sepS.unshift(0);
      right.sepM.unshift('');
      parent.sepS[li + 1] = ks;
      parent.sepM[li + 1] = km;
      parent.counts[li]! -= cnt;
      parent.counts[li + 1]! += cnt;
    }
    while (right.kids.length > left.kids.length + 1) {
      const kid = right.kids.shift()!;
      const cnt = right.counts.shift()!;
      right.sepS.shift();
      right.sepM.shift();
      left.kids.push(kid);
      left.counts.push(cnt);
      left.sepS.push(parent.sepS[li + 1]!);
      left.sepM.push(parent.sepM[li + 1]!);
      parent.sepS[li + 1] = right.sepS[0]!;
      parent.sepM[li + 1] = right.sepM[0]!;
      parent.counts[li]! += cnt;
      parent.counts[li + 1]! -= cnt;
    }
  }

  /** Checks every invariant (tests only). Throws on the first violation. */
  check(): void {
    const leaves: Leaf<V>[] = [];
    const lt = (s1: number, m1: string, s2: number, m2: string): boolean => s1 < s2 || (s1 === s2 && m1 < m2);
    const walk = (n: Node<V>, lo: [number, string] | null, hi: [number, string] | null, isRoot: boolean): number => {
      if (n.isLeaf) {
        if (!isRoot && n.members.length === 0) throw new Error('empty non-root leaf');
        for (let i = 0; i < n.members.length; i++) {
          const s = n.scores[i]!;
          const m = n.members[i]!;
          if (i > 0 && !lt(n.scores[i - 1]!, n.members[i - 1]!, s, m)) throw new Error('leaf order');
          if (lo && lt(s, m, lo[0], lo[1])) throw new Error('below separator');
          if (hi && !lt(s, m, hi[0], hi[1])) throw new Error('above separator');
        }
        leaves.push(n);
        return n.members.length;
      }
      if (!isRoot && n.kids.length < 2) throw new Error('inner with < 2 kids');
      if (isRoot && n.kids.length < 2) throw new Error('root inner with < 2 kids');
      let total = 0;
      for (let j = 0; j < n.kids.length; j++) {
        const clo: [number, string] | null = j === 0 ? lo : [n.sepS[j]!, n.sepM[j]!];
        const chi: [number, string] | null = j === n.kids.length - 1 ? hi : [n.sepS[j + 1]!, n.sepM[j + 1]!];
        const c = walk(n.kids[j]!, clo, chi, false);
        if (c !== n.counts[j]) throw new Error(`count mismatch ${c} != ${n.counts[j]}`);
        total += c;
      }
      return total;
    };
    const total = walk(this.root, null, null, true);
    if (total !== this.size) throw new Error('size mismatch');
    for (let i = 0; i < leaves.length; i++) {
      if (leaves[i]!.prev !== (i === 0 ? null : leaves[i - 1])) throw new Error('prev link');
      if (leaves[i]!.next !== (i === leaves.length - 1 ? null : leaves[i + 1])) throw new Error('next link');
    }
    if (this.head !== leaves[0] || this.tail !== leaves[leaves.length - 1]) throw new Error('head/tail');
  }
}
