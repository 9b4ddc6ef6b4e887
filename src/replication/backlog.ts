/**
 * The replication buffer: the backlog and every replica's pending output in one shared store,
 * as Redis 7.0 keeps them (`repl_buffer_blocks`).
 *
 * The stream is appended once into a list of blocks (16 KB, or one block per large command,
 * taken without copying). Each replica only remembers the offset of the next byte it must be
 * sent; its socket is written zero-copy slices of the blocks. The backlog is simply "all the
 * blocks still held": its first byte is the first byte of the oldest block.
 *
 * Offsets are Redis's replication offsets: byte n of the stream has offset n (the first byte
 * fed after the backlog was created at master_repl_offset = m has offset m + 1).
 *
 * Trimming follows Redis 7.0's incrementalTrimReplicationBacklog: the oldest block is dropped
 * only when (a) it is not the last block, (b) no replica still needs bytes from it, and (c) the
 * history left after dropping it is still larger than `repl-backlog-size`. So `histlen` may
 * exceed the configured size by less than one block, and a lagging replica keeps the history
 * it needs alive (making the backlog larger, which lets more PSYNCs succeed) until the output
 * buffer limit disconnects it.
 *
 * A block is never written again below its `used` mark, so a slice handed to a socket stays
 * valid whatever is appended or trimmed afterwards (a dropped block is freed by the GC once
 * the sockets are done with it).
 */

/** Redis PROTO_REPLY_CHUNK_BYTES: the size of a shared replication block. */
export const BLOCK_SIZE = 16 * 1024;
/** Redis CONFIG_REPL_BACKLOG_MIN_SIZE: smaller `repl-backlog-size` values are raised to it. */
export const MIN_BACKLOG_SIZE = 16 * 1024;

interface Block {
  buf: Buffer;
  /** Bytes of `buf` holding stream data. */
  used: number;
  /** Offset of buf[0]. */
  start: number;
  /** When its first byte was appended (ms), for the backlog's age. */
  at: number;
}

export class ReplBuffer {
  private blocks: Block[] = [];
  /** Index of the oldest live block in `blocks` (dropped ones are compacted lazily). */
  private head = 0;
  /** Offset of the next byte to append (master_repl_offset + 1). */
  private next: number;
  private sizeLimit: number;

  /** @param nextOffset offset the next appended byte will have (master_repl_offset + 1) */
  constructor(nextOffset: number, size: number) {
    this.next = nextOffset;
    this.sizeLimit = Math.max(MIN_BACKLOG_SIZE, size);
  }

  /** repl_backlog_first_byte_offset: the oldest byte held (next offset when empty). */
  get firstOffset(): number {
    return this.head < this.blocks.length ? this.blocks[this.head]!.start : this.next;
  }

  /** Offset of the last byte appended. */
  get endOffset(): number {
    return this.next - 1;
  }

  /** repl_backlog_histlen. */
  get histlen(): number {
    return this.next - this.firstOffset;
  }

  /** The effective `repl-backlog-size`. */
  get size(): number {
    return this.sizeLimit;
  }

  /** Blocks held (for tests and INFO). */
  get blockCount(): number {
    return this.blocks.length - this.head;
  }

  /** When the oldest byte held was appended (ms); 0 when empty. */
  get oldestAt(): number {
    return this.head < this.blocks.length ? this.blocks[this.head]!.at : 0;
  }

  /** A new `repl-backlog-size`; takes effect at the next trim. */
  resize(size: number): void {
    this.sizeLimit = Math.max(MIN_BACKLOG_SIZE, size);
  }

  /**
   * Appends stream bytes. `owned` means the caller gives the buffer away (it will never be
   * changed): a large one then becomes a block of its own without a copy. Returns true when a
   * new block was started (Redis checks replica output limits at that moment).
   */
  append(data: Buffer, now: number, owned: boolean): boolean {
    const n = data.length;
    if (n === 0) return false;
    const blocks = this.blocks;
    let tail = this.head < blocks.length ? blocks[blocks.length - 1]! : null;
    let added = false;
    let p = 0;
    if (tail !== null) {
      const room = tail.buf.length - tail.used;
      if (room > 0 && (n <= room || !owned || n < BLOCK_SIZE)) {
        const take = Math.min(room, n);
        data.copy(tail.buf, tail.used, 0, take);
        tail.used += take;
        p = take;
      }
    }
    if (p < n) {
      added = true;
      const rest = n - p;
      if (owned && p === 0 && rest >= BLOCK_SIZE) {
        tail = { buf: data, used: n, start: this.next, at: now };
        blocks.push(tail);
        p = n;
      } else {
        const buf = Buffer.allocUnsafe(Math.max(BLOCK_SIZE, rest));
        data.copy(buf, 0, p, n);
        blocks.push({ buf, used: rest, start: this.next + p, at: now });
        p = n;
      }
    }
    this.next += n;
    return added;
  }

  /** True when the byte at `offset` is held, or `offset` is the next byte to be appended. */
  holds(offset: number): boolean {
    return offset >= this.firstOffset && offset <= this.next;
  }

  /**
   * A zero-copy view of the bytes from `offset` on, within one block, at most `max` bytes.
   * Empty when `offset` is the next byte to be appended. `offset` must be held.
   */
  slice(offset: number, max: number): Buffer {
    if (offset >= this.next) return EMPTY;
    const i = this.blockIndex(offset);
    const b = this.blocks[i]!;
    const from = offset - b.start;
    const to = Math.min(b.used, from + max);
    return b.buf.subarray(from, to);
  }

  /** Bytes from the start of the block holding `offset` to the end (a replica's share, as Redis counts it). */
  bytesFromBlockOf(offset: number): number {
    if (offset >= this.next) {
      const last = this.head < this.blocks.length ? this.blocks[this.blocks.length - 1]! : null;
      return last !== null && offset === this.next ? this.next - last.start : 0;
    }
    return this.next - this.blocks[this.blockIndex(offset)]!.start;
  }

  /**
   * Drops old blocks per the rule in the module comment. `minNeeded` is the lowest offset a
   * replica still has to be sent (Infinity when none).
   */
  trim(minNeeded: number): void {
    const blocks = this.blocks;
    while (blocks.length - this.head > 1) {
      const b = blocks[this.head]!;
      if (minNeeded < b.start + b.used) break;
      if (this.histlen - b.used <= this.sizeLimit) break;
      blocks[this.head] = undefined as unknown as Block;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > blocks.length) {
      this.blocks = blocks.slice(this.head);
      this.head = 0;
    }
  }

  private blockIndex(offset: number): number {
    const blocks = this.blocks;
    // Readers mostly want the newest data: check the tail first, then binary search.
    const last = blocks.length - 1;
    if (offset >= blocks[last]!.start) return last;
    let lo = this.head;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (blocks[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

const EMPTY = Buffer.alloc(0);
