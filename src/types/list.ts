/**
 * The list value type.
 *
 * Structure: a chunked deque. Elements live in fixed-size chunks (arrays of CHUNK slots); the
 * chunks are referenced from a directory that is itself a power-of-two ring. So
 *  - push/pop at either end are O(1) and never copy elements (a new chunk is linked in, an
 *    empty one is dropped), unlike one big ring buffer whose doubling copies the whole list;
 *  - element i is found with two array reads (LINDEX, LSET, LRANGE at any offset are O(1) to
 *    locate), because every chunk between the first and the last is full;
 *  - middle insertions/removals (LINSERT, LREM, LTRIM) shift elements, which is O(n) as in
 *    Redis (where finding the position already is O(n)).
 * A list of up to CHUNK elements uses one array sized to its contents (the first chunk grows
 * on demand), so small lists — the common case — stay small.
 *
 * Encoding: Redis 7.0 stores every list as a quicklist (the listpack list encoding arrived in
 * 7.2), so `OBJECT ENCODING` always answers "quicklist"; verified against redis-server 7.0.15.
 * `list-max-listpack-size` only shapes quicklist nodes, which the RDB writer derives itself.
 */
import type { Config } from '../config/config.js';

/** Slots per chunk. A power of two so positions split with a shift and a mask. */
const SHIFT = 7;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;

export class ListValue {
  readonly type = 'list' as const;
  /** What OBJECT ENCODING reports (Redis 7.0: always quicklist). */
  readonly encoding = 'quicklist' as const;
  /** Redis's robj.lru for this value (see Db.lru); strings keep theirs in Db.lru. */
  lru = 0;
  /** Ring of chunks; `dir[(dirHead + k) & dirMask]` is the k-th chunk in use. */
  private dir: string[][];
  private dirMask: number;
  private dirHead = 0;
  private dirCount = 0;
  /** Position of the first element inside the first chunk. */
  private head = 0;
  private len = 0;

  constructor() {
    this.dir = new Array<string[]>(4);
    this.dirMask = 3;
  }

  /** An independent copy (COPY). */
  dup(): ListValue {
    return ListValue.from(this.items());
  }

  /** Builds a list from head→tail items (RDB/AOF loaders, DUMP/RESTORE). */
  static from(items: Iterable<string>, _cfg?: Config): ListValue {
    const l = new ListValue();
    for (const it of items) l.pushTail(it);
    return l;
  }

  get length(): number {
    return this.len;
  }

  /** Head → tail. */
  *items(): IterableIterator<string> {
    for (let i = 0; i < this.len; i++) yield this.get(i);
  }

  /** Element at 0-based index `i` (0 <= i < length). */
  get(i: number): string {
    const p = this.head + i;
    return this.dir[(this.dirHead + (p >>> SHIFT)) & this.dirMask]![p & MASK]!;
  }

  /** Replaces the element at 0-based index `i` (0 <= i < length). */
  set(i: number, v: string): void {
    const p = this.head + i;
    this.dir[(this.dirHead + (p >>> SHIFT)) & this.dirMask]![p & MASK] = v;
  }

  /**
   * Converts a Redis index (negative counts from the tail) to 0-based, or -1 when out of range.
   */
  index(i: number): number {
    if (i < 0) i += this.len;
    return i >= 0 && i < this.len ? i : -1;
  }

  pushTail(v: string): void {
    const p = this.head + this.len;
    const k = p >>> SHIFT;
    if (k >= this.dirCount) this.addChunkAtTail();
    this.dir[(this.dirHead + k) & this.dirMask]![p & MASK] = v;
    this.len++;
  }

  pushHead(v: string): void {
    if (this.head === 0) {
      if (this.dirCount === 0) this.addChunkAtTail();
      if (this.dirCount === 1 && this.len < CHUNK) {
        // A single small chunk: make room at its front rather than link a second chunk.
        const c = this.dir[this.dirHead]!;
        c.length = this.len;
        c.unshift(v);
        if (c.length > CHUNK) this.splitSingleChunk(c);
        this.len++;
        return;
      }
      this.addChunkAtHead();
      this.head = CHUNK;
    }
    this.head--;
    this.dir[this.dirHead]![this.head] = v;
    this.len++;
  }

  popHead(): string | undefined {
    if (this.len === 0) return undefined;
    const c = this.dir[this.dirHead]!;
    const v = c[this.head]!;
    this.len--;
    if (this.len === 0) {
      this.reset();
      return v;
    }
    c[this.head] = '';
    this.head++;
    if (this.head === CHUNK) {
      this.dir[this.dirHead] = undefined as unknown as string[];
      this.dirHead = (this.dirHead + 1) & this.dirMask;
      this.dirCount--;
      this.head = 0;
    }
    return v;
  }

  popTail(): string | undefined {
    if (this.len === 0) return undefined;
    const p = this.head + this.len - 1;
    const k = p >>> SHIFT;
    const slot = (this.dirHead + k) & this.dirMask;
    const c = this.dir[slot]!;
    const v = c[p & MASK]!;
    this.len--;
    if (this.len === 0) {
      this.reset();
      return v;
    }
    if (k === this.dirCount - 1 && c.length === (p & MASK) + 1) c.pop();
    else c[p & MASK] = '';
    if ((p & MASK) === 0 && k > 0) {
      // The last chunk became empty.
      this.dir[slot] = undefined as unknown as string[];
      this.dirCount--;
    }
    return v;
  }

  /** Calls fn(value, index) for indexes start..end inclusive (already clamped). */
  forRange(start: number, end: number, fn: (v: string, i: number) => void): void {
    let p = this.head + start;
    const last = this.head + end;
    let i = start;
    while (p <= last) {
      const c = this.dir[(this.dirHead + (p >>> SHIFT)) & this.dirMask]!;
      const stop = Math.min(last, p | MASK) & MASK;
      for (let o = p & MASK; o <= stop; o++) fn(c[o]!, i++);
      p = (p | MASK) + 1;
    }
  }

  /** Elements start..end inclusive (already clamped) as an array. */
  range(start: number, end: number): string[] {
    const out: string[] = new Array<string>(end - start + 1);
    let n = 0;
    this.forRange(start, end, (v) => (out[n++] = v));
    return out;
  }

  /** Inserts `v` so that it ends up at 0-based index `i` (0 <= i <= length). */
  insertAt(i: number, v: string): void {
    if (i === 0) return this.pushHead(v);
    if (i === this.len) return this.pushTail(v);
    if (i < this.len / 2) {
      // Shift the front part one step towards the head.
      this.pushHead(this.get(0));
      for (let j = 1; j < i; j++) this.set(j, this.get(j + 1));
      this.set(i, v);
    } else {
      this.pushTail(this.get(this.len - 1));
      for (let j = this.len - 2; j > i; j--) this.set(j, this.get(j - 1));
      this.set(i, v);
    }
  }

  /** Removes the element at 0-based index `i`. */
  removeAt(i: number): void {
    if (i < this.len / 2) {
      for (let j = i; j > 0; j--) this.set(j, this.get(j - 1));
      this.popHead();
    } else {
      for (let j = i; j < this.len - 1; j++) this.set(j, this.get(j + 1));
      this.popTail();
    }
  }

  /**
   * LREM: removes up to `count` occurrences of `v` (count > 0 from the head, < 0 from the tail,
   * 0 all). Returns how many were removed. One compaction pass, O(n).
   */
  remove(v: string, count: number): number {
    const n = this.len;
    const limit = count === 0 ? Infinity : Math.abs(count);
    let removed = 0;
    if (count >= 0) {
      let w = 0;
      for (let r = 0; r < n; r++) {
        const x = this.get(r);
        if (removed < limit && x === v) {
          removed++;
          continue;
        }
        if (w !== r) this.set(w, x);
        w++;
      }
      for (let k = 0; k < removed; k++) this.popTail();
    } else {
      let w = n - 1;
      for (let r = n - 1; r >= 0; r--) {
        const x = this.get(r);
        if (removed < limit && x === v) {
          removed++;
          continue;
        }
        if (w !== r) this.set(w, x);
        w--;
      }
      for (let k = 0; k < removed; k++) this.popHead();
    }
    return removed;
  }

  /** Keeps only indexes start..end inclusive (0-based, start <= end, both in range). */
  trim(start: number, end: number): void {
    const dropTail = this.len - 1 - end;
    if (start + dropTail >= this.len) {
      this.reset();
      return;
    }
    // Dropping whole chunks at a time would be faster for huge trims; pops are O(1) each and
    // LTRIM is O(removed) in Redis too.
    for (let k = 0; k < dropTail; k++) this.popTail();
    for (let k = 0; k < start; k++) this.popHead();
  }

  /** Removes every element. */
  clear(): void {
    this.reset();
  }

  private reset(): void {
    this.dir = new Array<string[]>(4);
    this.dirMask = 3;
    this.dirHead = 0;
    this.dirCount = 0;
    this.head = 0;
    this.len = 0;
  }

  private growDir(): void {
    const old = this.dir;
    const cap = old.length * 2;
    const next = new Array<string[]>(cap);
    for (let k = 0; k < this.dirCount; k++) next[k] = old[(this.dirHead + k) & this.dirMask]!;
    this.dir = next;
    this.dirMask = cap - 1;
    this.dirHead = 0;
  }

  private addChunkAtTail(): void {
    if (this.dirCount === this.dir.length) this.growDir();
    // Starts empty and grows by appends, so a short list holds only what it needs.
    this.dir[(this.dirHead + this.dirCount) & this.dirMask] = [];
    this.dirCount++;
  }

  private addChunkAtHead(): void {
    if (this.dirCount === this.dir.length) this.growDir();
    this.dirHead = (this.dirHead - 1) & this.dirMask;
    this.dir[this.dirHead] = new Array<string>(CHUNK).fill('');
    this.dirCount++;
  }

  /** A single chunk overflowed by one unshift: move its last element into a new tail chunk. */
  private splitSingleChunk(c: string[]): void {
    const last = c.pop()!;
    if (this.dirCount === this.dir.length) this.growDir();
    this.dir[(this.dirHead + 1) & this.dirMask] = [last];
    this.dirCount++;
  }
}
