/**
 * Builds RESP2/RESP3 replies for one connection into pooled slabs, so a batch of pipelined
 * replies leaves as one socket write.
 *
 * Replies are appended into the current slab; `take()` hands the written part to the caller
 * (to be passed to socket.write) and the slab keeps being used after it, so no byte a socket
 * still references is ever rewritten. Large bulk payloads are referenced, not copied.
 *
 * RESP3-only types degrade to their RESP2 forms as Redis does (map → flat array, double → bulk,
 * null → $-1 or *-1, boolean → integer, verbatim → bulk, push → array).
 */
import { formatDoubleReply } from '../util/numbers.js';

const SLAB_SIZE = 64 * 1024;
/** Payloads at least this large are passed to the socket as their own buffer. */
const LARGE = 16 * 1024;

const CRLF = Buffer.from('\r\n');

/**
 * Copies the latin1 string `s` into `buf` at `p` and returns the end. Replies are mostly a few
 * bytes, and a JS loop copies those faster than a call into the native latin1Write.
 */
function putLatin1(buf: Buffer, s: string, p: number): number {
  const n = s.length;
  if (n > 32) return p + buf.latin1Write(s, p, n);
  for (let i = 0; i < n; i++) buf[p + i] = s.charCodeAt(i);
  return p + n;
}

/** Writes the decimal digits of the non-negative integer `n` at `p`; returns the end. */
function putDecimal(buf: Buffer, n: number, p: number): number {
  if (n < 10) {
    buf[p] = 48 + n;
    return p + 1;
  }
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let q = p + digits;
  if (n <= 0x7fffffff) {
    // Small integer arithmetic where it fits: cheaper than double division.
    for (let x = n | 0; q > p; x = (x / 10) | 0) buf[--q] = 48 + (x % 10);
  } else {
    for (let x = n; q > p; x = Math.floor(x / 10)) buf[--q] = 48 + (x % 10);
  }
  return p + digits;
}

export class ReplyWriter {
  /** 2 or 3; changes with HELLO. */
  proto: 2 | 3 = 2;
  private slab: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  private start = 0; // first byte not yet taken
  private len = 0; // end of written bytes in slab
  private chunks: Buffer[] = [];
  /** Bytes produced but not yet taken. */
  pending = 0;
  /** When false, replies are discarded (CLIENT REPLY OFF/SKIP, master link). */
  enabled = true;
  /** Error replies written (INFO errorstats, failed_calls). */
  errorCount = 0;

  private ensure(n: number): void {
    if (this.slab.length - this.len >= n) return;
    this.flushSlabToChunks();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
    this.start = 0;
    this.len = 0;
  }

  private flushSlabToChunks(): void {
    if (this.len > this.start) {
      this.chunks.push(this.slab.subarray(this.start, this.len));
      this.start = this.len;
    }
  }

  private ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    this.len = putLatin1(this.slab, s, this.len);
    this.pending += n;
  }

  /** Appends raw bytes already in RESP form. */
  raw(b: Buffer): void {
    if (!this.enabled) return;
    if (b.length >= LARGE) {
      this.flushSlabToChunks();
      this.chunks.push(b);
      this.pending += b.length;
      return;
    }
    const n = b.length;
    this.ensure(n);
    const slab = this.slab;
    // Short pieces (CRLF, cached replies) are copied in JS: cheaper than a native copy call.
    if (n <= 32) for (let i = 0; i < n; i++) slab[this.len + i] = b[i]!;
    else b.copy(slab, this.len);
    this.len += n;
    this.pending += n;
  }

  /** Appends a RESP string of bytes (latin1) verbatim. */
  rawString(s: string): void {
    if (!this.enabled) return;
    this.ascii(s);
  }

  ok(): void {
    if (!this.enabled) return;
    this.ascii('+OK\r\n');
  }

  simple(s: string): void {
    if (!this.enabled) return;
    this.ascii('+' + s + '\r\n');
  }

  /** An error reply; `msg` carries its code (e.g. "ERR syntax error"). CR/LF become spaces. */
  error(msg: string): void {
    if (!this.enabled) return;
    this.errorCount++;
    if (msg.includes('\r') || msg.includes('\n')) msg = msg.replace(/[\r\n]/g, ' ');
    this.ascii('-' + msg + '\r\n');
  }

  int(n: number | bigint): void {
    if (!this.enabled) return;
    if (typeof n === 'number' && n >= 0 && Number.isSafeInteger(n)) {
      this.ensure(20);
      const slab = this.slab;
      let p = this.len;
      slab[p++] = 58;
      p = putDecimal(slab, n, p);
      slab[p++] = 13;
      slab[p++] = 10;
      this.pending += p - this.len;
      this.len = p;
      return;
    }
    this.ascii(':' + n + '\r\n');
  }

  /** Bulk string from a latin1 byte string. */
  bulk(s: string): void {
    if (!this.enabled) return;
    const n = s.length;
    if (n >= LARGE) {
      this.ascii('$' + n + '\r\n');
      this.flushSlabToChunks();
      this.chunks.push(Buffer.from(s, 'latin1'));
      this.pending += n;
      this.ascii('\r\n');
      return;
    }
    // `$<n>\r\n<payload>\r\n`; n < LARGE has at most 5 digits.
    this.ensure(n + 10);
    const slab = this.slab;
    let p = this.len;
    slab[p++] = 36;
    p = putDecimal(slab, n, p);
    slab[p++] = 13;
    slab[p++] = 10;
    p = putLatin1(slab, s, p);
    slab[p++] = 13;
    slab[p++] = 10;
    this.pending += p - this.len;
    this.len = p;
  }

  bulkBuffer(b: Buffer): void {
    if (!this.enabled) return;
    this.ascii('$' + b.length + '\r\n');
    this.raw(b);
    this.raw(CRLF);
  }

  /** Null bulk: `$-1` in RESP2, `_` in RESP3. */
  nullBulk(): void {
    if (!this.enabled) return;
    this.ascii(this.proto === 3 ? '_\r\n' : '$-1\r\n');
  }

  /** Null array: `*-1` in RESP2, `_` in RESP3. */
  nullArray(): void {
    if (!this.enabled) return;
    this.ascii(this.proto === 3 ? '_\r\n' : '*-1\r\n');
  }

  array(n: number): void {
    if (!this.enabled) return;
    this.ascii('*' + n + '\r\n');
  }

  /** A map of n pairs: `%n` in RESP3, a flat array of 2n in RESP2. */
  map(n: number): void {
    if (!this.enabled) return;
    this.ascii(this.proto === 3 ? '%' + n + '\r\n' : '*' + n * 2 + '\r\n');
  }

  /** A set reply: `~n` in RESP3, an array in RESP2. */
  set(n: number): void {
    if (!this.enabled) return;
    this.ascii(this.proto === 3 ? '~' + n + '\r\n' : '*' + n + '\r\n');
  }

  /** A push frame (pub/sub): `>n` in RESP3, an array in RESP2. */
  push(n: number): void {
    if (!this.enabled) return;
    this.ascii(this.proto === 3 ? '>' + n + '\r\n' : '*' + n + '\r\n');
  }

  /** A double: `,<v>` in RESP3, a bulk string in RESP2; text as Redis formats it. */
  double(v: number): void {
    if (!this.enabled) return;
    const s = formatDoubleReply(v);
    if (this.proto === 3) this.ascii(',' + s + '\r\n');
    else this.bulk(s);
  }

  /** A double already formatted (e.g. with a human format). */
  doubleText(s: string): void {
    if (!this.enabled) return;
    if (this.proto === 3) this.ascii(',' + s + '\r\n');
    else this.bulk(s);
  }

  bool(b: boolean): void {
    if (!this.enabled) return;
    if (this.proto === 3) this.ascii(b ? '#t\r\n' : '#f\r\n');
    else this.int(b ? 1 : 0);
  }

  bigNumber(s: string): void {
    if (!this.enabled) return;
    if (this.proto === 3) this.ascii('(' + s + '\r\n');
    else this.bulk(s);
  }

  /** Verbatim string (`=len\r\ntxt:...`) in RESP3; plain bulk in RESP2. */
  verbatim(s: string, format = 'txt'): void {
    if (!this.enabled) return;
    if (this.proto === 3) {
      this.ascii('=' + (s.length + 4) + '\r\n' + format + ':');
      this.rawStringBody(s);
      this.ascii('\r\n');
    } else this.bulk(s);
  }

  private rawStringBody(s: string): void {
    if (s.length >= LARGE) {
      this.flushSlabToChunks();
      this.chunks.push(Buffer.from(s, 'latin1'));
      this.pending += s.length;
    } else this.ascii(s);
  }

  /** Array of bulk strings. */
  bulkArray(items: readonly string[]): void {
    if (!this.enabled) return;
    this.array(items.length);
    for (let i = 0; i < items.length; i++) this.bulk(items[i]!);
  }

  /** Bulk or null for each item. */
  bulkOrNullArray(items: readonly (string | null | undefined)[]): void {
    if (!this.enabled) return;
    this.array(items.length);
    for (let i = 0; i < items.length; i++) {
      const v = items[i];
      if (v === null || v === undefined) this.nullBulk();
      else this.bulk(v);
    }
  }

  /**
   * Removes and returns everything written since the last take, as buffers for socket.write.
   * Returns null when nothing is pending.
   */
  take(): Buffer[] | null {
    if (this.pending === 0) return null;
    this.flushSlabToChunks();
    const out = this.chunks;
    this.chunks = [];
    this.pending = 0;
    // Start a fresh slab when little room is left, so the next batch is not split.
    if (this.slab.length - this.len < 1024) {
      this.slab = Buffer.allocUnsafe(SLAB_SIZE);
      this.start = 0;
      this.len = 0;
    }
    return out;
  }

  /** Drops everything not yet taken (used when a client is being closed). */
  discard(): void {
    this.chunks = [];
    this.start = this.len;
    this.pending = 0;
  }

  /**
   * Begins a deferred-length array: returns a token for `endDeferred`. Used where the element
   * count is known only after producing the elements (Redis's addReplyDeferredLen).
   */
  beginDeferred(): DeferredReply {
    this.flushSlabToChunks();
    const token: DeferredReply = { before: this.chunks, pendingBefore: this.pending };
    this.chunks = [];
    this.pending = 0;
    return token;
  }

  /** Ends a deferred array/map/set with its real length; `kind` picks the header type. */
  endDeferred(token: DeferredReply, count: number, kind: 'array' | 'map' | 'set' = 'array'): void {
    this.flushSlabToChunks();
    const body = this.chunks;
    const bodyPending = this.pending;
    this.chunks = token.before;
    this.pending = token.pendingBefore;
    if (this.enabled) {
      if (kind === 'map') this.map(count);
      else if (kind === 'set') this.set(count);
      else this.array(count);
      this.flushSlabToChunks();
    }
    for (const b of body) this.chunks.push(b);
    this.pending += bodyPending;
  }
}

export interface DeferredReply {
  before: Buffer[];
  pendingBefore: number;
}
