/**
 * Incremental parser for client requests: RESP multibulk (`*<n>\r\n$<len>\r\n...`) and inline
 * commands, with Redis 7.0's limits and exact protocol error texts.
 *
 * The parser owns the bytes that arrived but are not consumed yet. `feed()` appends a chunk;
 * `next()` returns one complete argv (an array of latin1 byte strings), `null` when more bytes
 * are needed, or throws ProtocolError (the caller replies and closes the connection).
 *
 * State survives across chunks (how many elements remain, the argv built so far, the length of
 * the bulk being read), so a command split at any byte costs no re-parsing, and a huge bulk is
 * collected into one dedicated buffer instead of repeated concatenation. That buffer grows
 * (doubling) as the payload arrives rather than being sized from the header alone: a peer that
 * sends `$536870912\r\n` and then nothing must not make us allocate 512 MB up front.
 */
import { ProtocolError } from './errors.js';

export interface ParserLimits {
  /** proto-max-bulk-len (default 512 MB); not enforced on the master link. */
  maxBulkLen: number;
  /** client-query-buffer-limit (default 1 GB). */
  maxQueryBuffer: number;
}

const INLINE_MAX = 64 * 1024;
const MULTIBULK_MAX = 2147483647;
const EMPTY = Buffer.alloc(0);
/** Bulks at least this large are collected in a dedicated buffer (Redis: PROTO_MBULK_BIG_ARG). */
const BIG_ARG = 32 * 1024;
/**
 * Most a big bulk's buffer is allocated ahead of the bytes that arrived. Beyond it the buffer
 * doubles as data comes in (at most ~2x copying in total), so memory follows what the peer
 * actually sent, not what its header claims.
 */
const BIG_PREALLOC = 1024 * 1024;
/** Between commands `argv` points here; every multibulk header installs a fresh array. */
const NO_ARGV: string[] = [];
/** Multibulk counts up to this get an argv array of exactly that size; larger ones grow. */
const PRESIZE_MAX = 1024;

export class RequestParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Remaining elements of the multibulk being read; 0 = at a command boundary. */
  private remaining = 0;
  private argv: string[] = NO_ARGV;
  /** Elements of `argv` filled so far. */
  private argc = 0;
  /** Length of the bulk whose payload is expected next, or -1 while reading its `$` line. */
  private bulkLen = -1;
  /** Dedicated buffer for a big bulk in progress (capacity may be below bigTotal). */
  private big: Buffer | null = null;
  private bigFilled = 0;
  /** Bytes the big bulk needs in all: its payload plus the 2 trailing bytes. */
  private bigTotal = 0;
  /** Set when the request in progress is inline; used by the master link to reject it. */
  lastWasInline = false;
  /** When true (unauthenticated clients), Redis's stricter limits apply. */
  unauthenticated = false;

  constructor(public limits: ParserLimits) {}

  /** Bytes held by the parser: what counts against client-query-buffer-limit. */
  get bufferedBytes(): number {
    return this.buf.length - this.pos + (this.big ? this.bigFilled : 0);
  }

  /** Bytes of memory the parser holds for input (buffers' capacity), for limits and tests. */
  get reservedBytes(): number {
    return this.buf.length + (this.big ? this.big.length : 0);
  }

  feed(chunk: Buffer): void {
    if (this.big !== null) {
      // Fill the big bulk directly; whatever exceeds it becomes the new buffer.
      const need = this.bigTotal - this.bigFilled;
      const n = Math.min(need, chunk.length);
      this.growBig(this.bigFilled + n);
      chunk.copy(this.big, this.bigFilled, 0, n);
      this.bigFilled += n;
      if (n < chunk.length) this.appendBuffer(chunk.subarray(n));
      return;
    }
    this.appendBuffer(chunk);
  }

  /** Makes the big bulk's buffer hold at least `size` bytes, doubling up to bigTotal. */
  private growBig(size: number): void {
    const big = this.big!;
    if (size <= big.length) return;
    const grown = Buffer.allocUnsafe(Math.min(this.bigTotal, Math.max(size, big.length * 2)));
    big.copy(grown, 0, 0, this.bigFilled);
    this.big = grown;
  }

  private appendBuffer(chunk: Buffer): void {
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      const rest = this.buf.length - this.pos;
      const merged = Buffer.allocUnsafe(rest + chunk.length);
      this.buf.copy(merged, 0, this.pos);
      chunk.copy(merged, rest);
      this.buf = merged;
      this.pos = 0;
    }
  }

  /** True when no partial request is pending. */
  get idle(): boolean {
    return this.remaining === 0 && this.pos >= this.buf.length && this.big === null;
  }

  /**
   * Returns the next complete command, or null if more input is needed.
   * An empty multibulk (`*0`) or an empty inline line yields an empty array: no reply is due,
   * but the caller may treat it as a liveness signal (replica links).
   */
  next(): string[] | null {
    if (this.remaining === 0) {
      if (this.pos >= this.buf.length) return null;
      if (this.buf[this.pos] !== 42 /* * */) return this.parseInline();
      const r = this.readMultibulkHeader();
      if (r !== 1) return r === 0 ? null : [];
    }
    return this.readBulks();
  }

  /** Returns 1 when elements follow, 0 when incomplete, -1 for an empty multibulk. */
  private readMultibulkHeader(): 0 | 1 | -1 {
    const buf = this.buf;
    const nl = findCR(buf, this.pos);
    if (nl === -1 || nl + 1 >= buf.length) {
      if (buf.length - this.pos > INLINE_MAX) throw new ProtocolError('ERR Protocol error: too big mbulk count string');
      return 0;
    }
    const n = parseLine(buf, this.pos + 1, nl);
    if (n === null || n > MULTIBULK_MAX) throw new ProtocolError('ERR Protocol error: invalid multibulk length');
    this.pos = nl + 2;
    this.lastWasInline = false;
    if (n <= 0) return -1;
    if (this.unauthenticated && n > 10) throw new ProtocolError('ERR Protocol error: unauthenticated multibulk length');
    this.remaining = n;
    // Sized up front (an array grown by push starts with room for 17), but only as far as a
    // plausible count: the header alone must not make us allocate for 2^31 elements.
    this.argv = n <= PRESIZE_MAX ? new Array<string>(n) : [];
    this.argc = 0;
    this.bulkLen = -1;
    return 1;
  }

  private readBulks(): string[] | null {
    while (this.remaining > 0) {
      if (this.big !== null) {
        if (this.bigFilled < this.bigTotal) return null;
        const big = this.big;
        this.big = null;
        this.argv[this.argc++] = big.latin1Slice(0, this.bigTotal - 2);
        this.bulkLen = -1;
        this.remaining--;
        continue;
      }
      const buf = this.buf;
      if (this.bulkLen === -1) {
        if (this.pos >= buf.length) return null;
        // As in Redis, the element's type byte is checked only once its whole line arrived.
        const nl = findCR(buf, this.pos);
        if (nl === -1 || nl + 1 >= buf.length) {
          if (buf.length - this.pos > INLINE_MAX) throw new ProtocolError('ERR Protocol error: too big bulk count string');
          return null;
        }
        if (buf[this.pos] !== 36 /* $ */) {
          const ch = String.fromCharCode(buf[this.pos]!);
          throw new ProtocolError(`ERR Protocol error: expected '$', got '${ch}'`);
        }
        const len = parseLine(buf, this.pos + 1, nl);
        if (len === null || len < 0 || len > this.limits.maxBulkLen) {
          throw new ProtocolError('ERR Protocol error: invalid bulk length');
        }
        if (this.unauthenticated && len > 16384) throw new ProtocolError('ERR Protocol error: unauthenticated bulk length');
        this.pos = nl + 2;
        this.bulkLen = len;
        if (len >= BIG_ARG && buf.length - this.pos < len + 2) {
          // Move what we have of this bulk into a dedicated buffer and fill it in feed().
          const have = buf.length - this.pos;
          this.bigTotal = len + 2;
          this.big = Buffer.allocUnsafe(Math.min(len + 2, Math.max(have, BIG_PREALLOC)));
          buf.copy(this.big, 0, this.pos);
          this.bigFilled = have;
          this.buf = EMPTY;
          this.pos = 0;
          return null;
        }
      }
      const len = this.bulkLen;
      if (buf.length - this.pos < len + 2) return null;
      // The two bytes after the payload are skipped without validation, as Redis does.
      this.argv[this.argc++] = len <= 8 ? shortLatin1(buf, this.pos, len) : buf.latin1Slice(this.pos, this.pos + len);
      this.pos += len + 2;
      this.bulkLen = -1;
      this.remaining--;
    }
    const argv = this.argv;
    this.argv = NO_ARGV;
    return argv;
  }

  private parseInline(): string[] | null {
    const buf = this.buf;
    const nl = buf.indexOf(10, this.pos);
    if (nl === -1) {
      if (buf.length - this.pos > INLINE_MAX) throw new ProtocolError('ERR Protocol error: too big inline request');
      return null;
    }
    let end = nl;
    if (end > this.pos && buf[end - 1] === 13) end--;
    const start = this.pos;
    this.pos = nl + 1;
    this.lastWasInline = true;
    const argv = splitPlain(buf, start, end) ?? splitArgs(buf.latin1Slice(start, end));
    if (argv === null) throw new ProtocolError('ERR Protocol error: unbalanced quotes in request');
    return argv;
  }
}

/**
 * The common inline request without quotes (`PING`, `GET key`), split on whitespace straight
 * from the buffer; null when the line has a quote, for splitArgs to handle. Without quotes both
 * give the same words, and slicing the buffer gives each word its own string (a substring of
 * the line could keep the whole line alive inside a stored key).
 */
function splitPlain(buf: Buffer, start: number, end: number): string[] | null {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 34 || c === 39) return null;
  }
  const out: string[] = [];
  let i = start;
  for (;;) {
    while (i < end && isSpace(buf[i]!)) i++;
    if (i >= end) return out;
    const from = i;
    while (i < end && !isSpace(buf[i]!)) i++;
    const len = i - from;
    out.push(len <= 8 ? shortLatin1(buf, from, len) : buf.latin1Slice(from, i));
  }
}

/**
 * Position of the first CR at or after `from`, or -1. Every well-formed `*<n>` / `$<len>` line is
 * shorter than 24 bytes, and scanning that in JS costs less than a call into native indexOf;
 * anything longer (a malformed or huge line) falls back to indexOf.
 */
function findCR(buf: Buffer, from: number): number {
  const end = Math.min(buf.length, from + 24);
  for (let i = from; i < end; i++) if (buf[i] === 13) return i;
  return end === buf.length ? -1 : buf.indexOf(13, end);
}

/**
 * A latin1 string of `len` (at most 8) bytes at `p`. Command names, small fields and values
 * are mostly this short, and String.fromCharCode with explicit arguments is several times
 * cheaper than a native latin1Slice call for them; the result is the same flat one-byte string.
 */
function shortLatin1(buf: Buffer, p: number, len: number): string {
  switch (len) {
    case 0:
      return '';
    case 1:
      return String.fromCharCode(buf[p]!);
    case 2:
      return String.fromCharCode(buf[p]!, buf[p + 1]!);
    case 3:
      return String.fromCharCode(buf[p]!, buf[p + 1]!, buf[p + 2]!);
    case 4:
      return String.fromCharCode(buf[p]!, buf[p + 1]!, buf[p + 2]!, buf[p + 3]!);
    case 5:
      return String.fromCharCode(buf[p]!, buf[p + 1]!, buf[p + 2]!, buf[p + 3]!, buf[p + 4]!);
    case 6:
      return String.fromCharCode(buf[p]!, buf[p + 1]!, buf[p + 2]!, buf[p + 3]!, buf[p + 4]!, buf[p + 5]!);
    case 7:
      return String.fromCharCode(buf[p]!, buf[p + 1]!, buf[p + 2]!, buf[p + 3]!, buf[p + 4]!, buf[p + 5]!, buf[p + 6]!);
    default:
      return String.fromCharCode(buf[p]!, buf[p + 1]!, buf[p + 2]!, buf[p + 3]!, buf[p + 4]!, buf[p + 5]!, buf[p + 6]!, buf[p + 7]!);
  }
}

/**
 * Parse the decimal integer between start and end (exclusive) with Redis's string2ll rules:
 * no sign but '-', no leading zeros ("01", "-0" are malformed), at most 20 characters.
 * Returns null when malformed.
 */
function parseLine(buf: Buffer, start: number, end: number): number | null {
  if (start >= end || end - start > 20) return null;
  if (end - start === 1 && buf[start] === 48) return 0;
  let i = start;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
    if (i === end) return null;
  }
  if (buf[i] === 48) return null;
  let v = 0;
  for (; i < end; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return null;
    v = v * 10 + c;
  }
  if (v > Number.MAX_SAFE_INTEGER) return null;
  return neg ? -v : v;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function hexVal(c: number): number {
  if (c <= 57) return c - 48;
  if (c >= 97) return c - 87;
  return c - 55;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

/**
 * Split a line into arguments like Redis's `sdssplitargs`: whitespace separates, double quotes
 * allow escapes (\n \r \t \b \a \\ \" \xHH), single quotes allow only \'. A closing quote must be
 * followed by whitespace or the end. Returns null for unbalanced quotes.
 */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (true) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) return out;
    let inq = false;
    let insq = false;
    let done = false;
    let cur = '';
    while (!done) {
      if (inq) {
        if (i >= n) return null;
        const c = line.charCodeAt(i);
        if (c === 92 && i + 3 < n && line.charCodeAt(i + 1) === 120 && isHex(line.charCodeAt(i + 2)) && isHex(line.charCodeAt(i + 3))) {
          cur += String.fromCharCode(hexVal(line.charCodeAt(i + 2)) * 16 + hexVal(line.charCodeAt(i + 3)));
          i += 3;
        } else if (c === 92 && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === 34) {
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          done = true;
        } else {
          cur += line[i];
        }
      } else if (insq) {
        if (i >= n) return null;
        const c = line.charCodeAt(i);
        if (c === 92 && i + 1 < n && line.charCodeAt(i + 1) === 39) {
          i++;
          cur += "'";
        } else if (c === 39) {
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          done = true;
        } else {
          cur += line[i];
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        const c = line.charCodeAt(i);
        if (isSpace(c)) done = true;
        else if (c === 34) inq = true;
        else if (c === 39) insq = true;
        else cur += line[i];
      }
      if (i < n) i++;
    }
    out.push(cur);
  }
}
