/**
 * The stream value type.
 *
 * ## Contract for persistence (RDB writer/reader, AOF rewrite, DUMP/RESTORE) and DEBUG DIGEST
 *
 * IDs are `StreamId` strings: the 16-byte big-endian encoding of <ms, seq> (stream-id.ts;
 * `formatId`, `idMs`, `idSeq`, `makeId`, `makeIdBig` convert). They compare with < and >.
 *
 * Reading a stream `s`:
 *  - `s.entries()` yields `[id, fields]` for every live entry in ID order, `fields` being the
 *    flat [field1, value1, field2, value2, ...] array (do not mutate it);
 *  - `s.nodes` are the macro nodes Redis would have (see below): `masterId`, `masterFields`,
 *    `ids`, `fields` (live entries only). An RDB writer may write one listpack per node or
 *    re-chunk `entries()` itself; both load the same in Redis;
 *  - `s.length`, `s.lastId`, `s.firstId` (first live entry, 0-0 when empty),
 *    `s.maxDeletedId`, `s.entriesAdded`;
 *  - `s.sortedGroups()` (name order, as Redis's rax): each `StreamGroup` has `name`, `lastId`,
 *    `entriesRead` (-1 when unknown, Redis's SCG_INVALID_ENTRIES_READ), `pel` (a RankTree whose
 *    members are IDs in order and whose values are `StreamNack {deliveryTime, deliveryCount,
 *    consumer}`), and `sortedConsumers()`: each `StreamConsumer` has `name`, `seenTime` and its
 *    own `pel` (the same StreamNack objects, keyed by ID). Iterate a pel with
 *    `pel.forEach((id, _score, nack) => ...)`.
 *
 * Building one (loaders):
 *    const s = new StreamValue();
 *    s.appendLoaded(id, fields);                 // ascending ids, any number of times
 *    s.lastId = ...; s.entriesAdded = ...; s.maxDeletedId = ...;   // after the entries
 *    const g = s.createGroup(name, lastId, entriesRead);
 *    g.addPending(id, deliveryTime, deliveryCount);                // group PEL, no owner yet
 *    const c = g.createConsumer(name, seenTime);
 *    g.assignPending(c, id);                    // false when id is not in the group PEL
 * `firstId` is derived from the entries, so an RDB's recorded first id needs no setter.
 *
 * DEBUG DIGEST hashes `entries()` only (ids as "<ms>.<seq>" text via idMs/idSeq).
 *
 * ## Representation
 *
 * Redis stores a stream as a radix tree of listpack "macro nodes" (at most
 * stream-node-max-entries entries, live or deleted, and about stream-node-max-bytes bytes
 * each). Approximate trimming (MAXLEN ~ / MINID ~) removes only whole nodes, and XINFO reports
 * node counts, so replies depend on where node boundaries fall. Mirra keeps the same nodes:
 * each knows its live entries plus the bookkeeping that decides boundaries exactly as Redis
 * does (the deleted-entry count and the listpack's byte size, computed with listpack's
 * encoding rules) — without storing the listpack bytes themselves.
 */
import { RankTree } from './rank-tree.js';
import { ID_MIN, idMs, idSeq, idMsNumber, idSeqNumber, type StreamId } from './stream-id.js';

export * from './stream-id.js';

/** STREAM_LISTPACK_MAX_SIZE: node byte limits above this are clamped. */
const LISTPACK_MAX_SIZE = 1 << 30;

// ------------------------------------------------------------------------------------------
// listpack size arithmetic (element = encoding + data + backlen)

/** Size of an integer element. */
function lpIntSize(v: number): number {
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= -2147483648 && v <= 2147483647) return 6;
  return 10;
}

function backlenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** Size of a string element: listpack stores canonical int64 texts as integers. */
export function lpStringSize(s: string): number {
  const n = s.length;
  if (n > 0 && n <= 20) {
    const c0 = s.charCodeAt(0);
    if ((c0 >= 48 && c0 <= 57) || c0 === 45) {
      const v = canonicalInt(s);
      if (v !== null) return v;
    }
  }
  const enc = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
  return enc + backlenSize(enc);
}

/** lpIntSize of a canonical int64 text (lpStringToInt64 accepts it), else null. */
function canonicalInt(s: string): number | null {
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  if (s.length < 16) return lpIntSize(Number(s));
  const v = BigInt(s);
  if (v > 9223372036854775807n || v < -9223372036854775808n) return null;
  return v >= -2147483648n && v <= 2147483647n ? lpIntSize(Number(v)) : 10;
}

/** Size of the integer element holding a u64 difference reinterpreted as int64 (ID deltas). */
function deltaSize(a: StreamId, b: StreamId, part: 0 | 8): number {
  const an = part === 0 ? idMsNumber(a) : idSeqNumber(a);
  const bn = part === 0 ? idMsNumber(b) : idSeqNumber(b);
  if (an !== null && bn !== null) return lpIntSize(an - bn);
  let d = (part === 0 ? idMs(a) - idMs(b) : idSeq(a) - idSeq(b)) & 0xffffffffffffffffn;
  if (d >= 0x8000000000000000n) d -= 0x10000000000000000n;
  return d >= -2147483648n && d <= 2147483647n ? lpIntSize(Number(d)) : 10;
}

// ------------------------------------------------------------------------------------------

/** One macro node: the entries Redis would keep in one listpack. */
export class StreamNode {
  /** Live entry ids, ascending. */
  readonly ids: StreamId[] = [];
  /** Flat field/value arrays of the live entries. */
  readonly fields: string[][] = [];
  /** Entries of this node flagged deleted (they still occupy the Redis listpack). */
  deleted = 0;
  /** Id of the last entry ever appended to this node (deleted or not): MINID trimming reads it. */
  lastId: StreamId;
  /** Listpack bytes except the master entry's count and deleted elements. */
  private baseBytes: number;

  constructor(
    /** Id of the first entry appended (the rax key; it may since have been deleted). */
    readonly masterId: StreamId,
    /** Field names of the first entry: entries with exactly these fields share them. */
    readonly masterFields: string[],
  ) {
    this.lastId = masterId;
    // header (6) + end byte (1) + master entry: num-fields, fields..., 0 terminator.
    let b = 7 + lpIntSize(masterFields.length) + 2;
    for (const f of masterFields) b += lpStringSize(f);
    this.baseBytes = b;
  }

  /** A copy (entry field arrays are immutable once stored, so they are shared). */
  clone(): StreamNode {
    const n = new StreamNode(this.masterId, this.masterFields);
    n.ids.push(...this.ids);
    n.fields.push(...this.fields);
    n.deleted = this.deleted;
    n.lastId = this.lastId;
    n.baseBytes = this.baseBytes;
    return n;
  }

  /** lpBytes() of the node's listpack. */
  get bytes(): number {
    return this.baseBytes + lpIntSize(this.ids.length) + lpIntSize(this.deleted);
  }

  /** Appends an entry; returns nothing. `fields` may be rewritten to share master field names. */
  push(id: StreamId, fields: string[]): void {
    const mf = this.masterFields;
    const nf = fields.length >> 1;
    let same = nf === mf.length;
    if (same) {
      for (let i = 0; i < nf; i++) {
        if (fields[i * 2] !== mf[i]) {
          same = false;
          break;
        }
      }
    }
    // flags, ms delta, seq delta, [num-fields, fields...], values..., lp-count
    let b = 2 + deltaSize(id, this.masterId, 0) + deltaSize(id, this.masterId, 8);
    if (same) {
      for (let i = 0; i < nf; i++) fields[i * 2] = mf[i]!; // share one string per field name
      b += lpIntSize(nf + 3);
    } else {
      b += lpIntSize(nf);
      for (let i = 0; i < nf; i++) b += lpStringSize(fields[i * 2]!);
      b += lpIntSize(2 * nf + 4);
    }
    for (let i = 0; i < nf; i++) b += lpStringSize(fields[i * 2 + 1]!);
    this.baseBytes += b;
    this.ids.push(id);
    this.fields.push(fields);
    this.lastId = id;
  }

  /** Index of the first live entry with id >= `id`. */
  lowerIndex(id: StreamId): number {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Marks the first k live entries deleted (trimming inside a node). */
  dropFirst(k: number): void {
    this.ids.splice(0, k);
    this.fields.splice(0, k);
    this.deleted += k;
  }

  /** Marks the live entry at index i deleted. */
  dropAt(i: number): void {
    this.ids.splice(i, 1);
    this.fields.splice(i, 1);
    this.deleted++;
  }
}

/** A pending entry (Redis streamNACK). */
export interface StreamNack {
  /** Last delivery time, ms. */
  deliveryTime: number;
  deliveryCount: number;
  /** Owner; null only transiently while loading (before consumers are read). */
  consumer: StreamConsumer | null;
}

export class StreamConsumer {
  /** Pending entries owned by this consumer (the same nack objects as the group PEL). */
  readonly pel = new RankTree<StreamNack>(true);
  constructor(
    readonly name: string,
    /** Last time the consumer was seen (ms): XINFO CONSUMERS idle. */
    public seenTime: number,
  ) {}
}

export class StreamGroup {
  /** Every pending entry of the group, ordered by id. */
  readonly pel = new RankTree<StreamNack>(true);
  readonly consumers = new Map<string, StreamConsumer>();

  constructor(
    readonly name: string,
    /** Last delivered id. */
    public lastId: StreamId,
    /** Logical number of entries read (for lag); -1 when unknown. */
    public entriesRead: number,
  ) {}

  /** The pending entry for `id`, if any. */
  nack(id: StreamId): StreamNack | undefined {
    const p = this.pel.find(0, id);
    return p.leaf === null ? undefined : p.value;
  }

  /** Adds a group PEL entry without owner (loaders; assign with assignPending). */
  addPending(id: StreamId, deliveryTime: number, deliveryCount: number): StreamNack {
    const nack: StreamNack = { deliveryTime, deliveryCount, consumer: null };
    this.pel.insert(0, id, nack);
    return nack;
  }

  /** Gives the pending entry `id` to consumer `c` (loaders). False when it is not pending. */
  assignPending(c: StreamConsumer, id: StreamId): boolean {
    const nack = this.nack(id);
    if (nack === undefined) return false;
    if (nack.consumer !== null) nack.consumer.pel.delete(0, id);
    nack.consumer = c;
    c.pel.insert(0, id, nack);
    return true;
  }

  /** Removes a pending entry from the group and its owner. */
  removePending(id: StreamId): boolean {
    const p = this.pel.find(0, id);
    if (p.leaf === null) return false;
    const nack = p.value;
    this.pel.delete(0, id);
    nack.consumer?.pel.delete(0, id);
    return true;
  }

  createConsumer(name: string, seenTime: number): StreamConsumer {
    const c = new StreamConsumer(name, seenTime);
    this.consumers.set(name, c);
    return c;
  }

  /** Deletes a consumer and its pending entries; returns how many were pending. */
  deleteConsumer(name: string): number {
    const c = this.consumers.get(name);
    if (c === undefined) return 0;
    const n = c.pel.size;
    c.pel.forEach((id) => {
      this.pel.delete(0, id);
    });
    this.consumers.delete(name);
    return n;
  }

  /** Consumers in name order (Redis keeps them in a rax). */
  sortedConsumers(): StreamConsumer[] {
    return [...this.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

export interface NodeLimits {
  /** stream-node-max-bytes (0 = no limit). */
  maxBytes: number;
  /** stream-node-max-entries (0 = no limit). */
  maxEntries: number;
}

const LOADER_LIMITS: NodeLimits = { maxBytes: 4096, maxEntries: 100 };

export class StreamValue {
  readonly type = 'stream' as const;
  readonly encoding = 'stream' as const;
  /** Redis's robj.lru for this value (see Db.lru); strings keep theirs in Db.lru. */
  lru = 0;
  readonly nodes: StreamNode[] = [];
  /** Live entries. */
  length = 0;
  lastId: StreamId = ID_MIN;
  maxDeletedId: StreamId = ID_MIN;
  /** Entries ever added (XADD count, including deleted/trimmed ones). */
  entriesAdded = 0;
  /** Consumer groups (created on demand). */
  groups: Map<string, StreamGroup> | null = null;

  /** First live entry id, 0-0 when empty. */
  get firstId(): StreamId {
    // A node can be left without live entries by an exact MINID trim (Redis keeps it too).
    for (const n of this.nodes) if (n.ids.length > 0) return n.ids[0]!;
    return ID_MIN;
  }

  get size(): number {
    return this.length;
  }

  /**
   * A deep copy with the same node layout, metadata, groups, PELs and consumers (Redis's
   * streamDup, used by COPY).
   */
  dup(): StreamValue {
    const s = new StreamValue();
    for (const n of this.nodes) s.nodes.push(n.clone());
    s.length = this.length;
    s.lastId = this.lastId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    for (const g of this.sortedGroups()) {
      const ng = s.createGroup(g.name, g.lastId, g.entriesRead)!;
      g.pel.forEach((id, _s, nack) => {
        ng.addPending(id, nack.deliveryTime, nack.deliveryCount);
      });
      for (const cons of g.sortedConsumers()) {
        const nc = ng.createConsumer(cons.name, cons.seenTime);
        cons.pel.forEach((id) => {
          ng.assignPending(nc, id);
        });
      }
    }
    return s;
  }

  /** Every live entry in id order. */
  *entries(): IterableIterator<[StreamId, string[]]> {
    for (const n of this.nodes) {
      for (let i = 0; i < n.ids.length; i++) yield [n.ids[i]!, n.fields[i]!];
    }
  }

  /**
   * Appends an entry whose id is greater than lastId (the caller checked). Starts a new node
   * under the same conditions as streamAppendItem. Updates length, lastId, entriesAdded.
   */
  append(id: StreamId, fields: string[], limits: NodeLimits): void {
    let tail = this.nodes.length === 0 ? null : this.nodes[this.nodes.length - 1]!;
    if (tail !== null) {
      let maxBytes = limits.maxBytes;
      if (maxBytes === 0 || maxBytes > LISTPACK_MAX_SIZE) maxBytes = LISTPACK_MAX_SIZE;
      let tot = 0;
      for (let i = 0; i < fields.length; i++) tot += fields[i]!.length;
      if (tail.bytes + tot >= maxBytes) tail = null;
      else if (limits.maxEntries > 0 && tail.ids.length + tail.deleted >= limits.maxEntries) tail = null;
    }
    if (tail === null) {
      const names: string[] = [];
      for (let i = 0; i < fields.length; i += 2) names.push(fields[i]!);
      tail = new StreamNode(id, names);
      this.nodes.push(tail);
    }
    tail.push(id, fields);
    this.length++;
    this.lastId = id;
    this.entriesAdded++;
  }

  /** Loader form of append: default node limits; lastId/entriesAdded are set by the caller after. */
  appendLoaded(id: StreamId, fields: string[], limits: NodeLimits = LOADER_LIMITS): void {
    this.append(id, fields.slice(), limits);
  }

  /** Index of the node that may hold `id` (last node whose masterId <= id), or -1. */
  private nodeIndexFor(id: StreamId): number {
    const nodes = this.nodes;
    let lo = 0;
    let hi = nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nodes[mid]!.masterId <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The entry's fields, or undefined when there is no live entry with this id. */
  get(id: StreamId): string[] | undefined {
    const ni = this.nodeIndexFor(id);
    if (ni < 0) return undefined;
    const n = this.nodes[ni]!;
    const i = n.lowerIndex(id);
    return i < n.ids.length && n.ids[i] === id ? n.fields[i] : undefined;
  }

  /** XDEL of one id. Returns whether a live entry was deleted. Does not touch maxDeletedId. */
  delete(id: StreamId): boolean {
    const ni = this.nodeIndexFor(id);
    if (ni < 0) return false;
    const n = this.nodes[ni]!;
    const i = n.lowerIndex(id);
    if (i >= n.ids.length || n.ids[i] !== id) return false;
    if (n.ids.length === 1) this.nodes.splice(ni, 1);
    else n.dropAt(i);
    this.length--;
    return true;
  }

  /**
   * streamTrim: removes entries from the head until at most `maxlen` remain (strategy
   * 'maxlen') or no id < `minid` remains ('minid'). With `approx` only whole nodes go; `limit`
   * (0 = none) caps the entries removed. Returns how many were removed.
   */
  trim(strategy: 'maxlen' | 'minid', maxlen: number, minid: StreamId, approx: boolean, limit: number): number {
    let deleted = 0;
    const nodes = this.nodes;
    let head = 0;
    while (head < nodes.length) {
      if (strategy === 'maxlen' && this.length <= maxlen) break;
      const node = nodes[head]!;
      const entries = node.ids.length;
      if (limit > 0 && deleted + entries > limit) break;
      const removeNode = strategy === 'maxlen' ? this.length - entries >= maxlen : node.lastId < minid;
      if (removeNode) {
        head++;
        this.length -= entries;
        deleted += entries;
        continue;
      }
      if (approx) break;
      let k = 0;
      while (k < entries) {
        if (strategy === 'maxlen' ? this.length <= maxlen : node.ids[k]! >= minid) break;
        k++;
        this.length--;
      }
      node.dropFirst(k);
      deleted += k;
      break;
    }
    if (head > 0) nodes.splice(0, head);
    return deleted;
  }

  /**
   * Calls fn for each live entry with start <= id <= end, ascending (descending when `rev`),
   * until fn returns false.
   */
  range(start: StreamId, end: StreamId, rev: boolean, fn: (id: StreamId, fields: string[]) => boolean | void): void {
    if (start > end) return;
    const nodes = this.nodes;
    if (!rev) {
      let ni = Math.max(0, this.nodeIndexFor(start));
      if (ni >= nodes.length) return;
      let i = nodes[ni]!.lowerIndex(start);
      for (; ni < nodes.length; ni++, i = 0) {
        const n = nodes[ni]!;
        for (; i < n.ids.length; i++) {
          const id = n.ids[i]!;
          if (id > end) return;
          if (fn(id, n.fields[i]!) === false) return;
        }
      }
    } else {
      let ni = this.nodeIndexFor(end);
      if (ni < 0) return;
      const n0 = nodes[ni]!;
      let i = n0.lowerIndex(end);
      if (i >= n0.ids.length || n0.ids[i] !== end) i--;
      for (; ni >= 0; ni--, i = ni >= 0 ? nodes[ni]!.ids.length - 1 : 0) {
        const n = nodes[ni]!;
        for (; i >= 0; i--) {
          const id = n.ids[i]!;
          if (id < start) return;
          if (fn(id, n.fields[i]!) === false) return;
        }
      }
    }
  }

  /** Id of the last live entry, or 0-0 when empty (streamLastValidID). */
  lastLiveId(): StreamId {
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const ids = this.nodes[k]!.ids;
      if (ids.length > 0) return ids[ids.length - 1]!;
    }
    return ID_MIN;
  }

  // ---------------------------------------------------------------------------------------
  // Consumer groups

  group(name: string): StreamGroup | undefined {
    return this.groups === null ? undefined : this.groups.get(name);
  }

  /** Creates a group; returns undefined when one with this name exists (streamCreateCG). */
  createGroup(name: string, lastId: StreamId, entriesRead: number): StreamGroup | undefined {
    this.groups ??= new Map();
    if (this.groups.has(name)) return undefined;
    const g = new StreamGroup(name, lastId, entriesRead);
    this.groups.set(name, g);
    return g;
  }

  deleteGroup(name: string): boolean {
    return this.groups !== null && this.groups.delete(name);
  }

  /** Groups in name order (Redis keeps them in a rax). */
  sortedGroups(): StreamGroup[] {
    if (this.groups === null) return [];
    return [...this.groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Number of nodes of the radix tree Redis would hold for these node keys (XINFO STREAM
   * radix-tree-nodes): a compressed trie over the 16-byte keys, counting the root, compressed
   * runs, branching nodes and the terminal key nodes.
   */
  raxNodeCount(): number {
    const keys = this.nodes.map((n) => n.masterId);
    if (keys.length === 0) return 1;
    const count = (lo: number, hi: number, depth: number): number => {
      if (hi - lo === 1) return depth < 16 ? 2 : 1;
      const a = keys[lo]!;
      const b = keys[hi - 1]!;
      let p = depth;
      while (p < 16 && a.charCodeAt(p) === b.charCodeAt(p)) p++;
      let n = p > depth ? 1 : 0; // compressed run
      n += 1; // branching node at p
      let i = lo;
      while (i < hi) {
        const c = keys[i]!.charCodeAt(p);
        let j = i + 1;
        while (j < hi && keys[j]!.charCodeAt(p) === c) j++;
        n += count(i, j, p + 1);
        i = j;
      }
      return n;
    };
    return count(0, keys.length, 0);
  }
}
