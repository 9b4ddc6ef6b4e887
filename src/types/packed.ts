/**
 * Packed strings: a run of byte strings stored in ONE latin1 string, each preceded by its length.
 * This is how the small encodings (listpack hashes, small sets) keep their elements: one V8
 * string per value instead of a Map or array plus a string object per element. On a 64-bit
 * Node a 3-field hash costs ~40 bytes this way instead of ~500 (Map backing store, arrays, one
 * 24-byte string per field and value), which is what keeps small values within reach of Redis's
 * listpack.
 *
 * Layout of one element: a length prefix, then the bytes. The prefix is one char (0..254) or
 * char 255 followed by the length in 4 chars, big-endian (element lengths are limited by the
 * *-max-listpack-value settings, which users may raise well past 254).
 *
 * Scans read lengths with `lenAt`/`skip` and compare in place (`equalsAt`), allocating nothing.
 * New packed strings are assembled in a module scratch buffer and read back with latin1Slice,
 * which always yields a flat sequential string: building them with `+` would leave V8 cons
 * strings (an extra 32-byte object per concatenation, flattened only when read).
 */

const LONG = 255;

/** Length of the element whose prefix starts at `pos`. */
export function lenAt(p: string, pos: number): number {
  const c = p.charCodeAt(pos);
  if (c !== LONG) return c;
  return ((p.charCodeAt(pos + 1) << 24) >>> 0) + (p.charCodeAt(pos + 2) << 16) + (p.charCodeAt(pos + 3) << 8) + p.charCodeAt(pos + 4);
}

/** Size of a length prefix for an element of `len` bytes. */
export function prefixSize(len: number): number {
  return len < LONG ? 1 : 5;
}

/** Offset of the element's bytes, given the offset of its prefix. */
export function dataAt(p: string, pos: number): number {
  return p.charCodeAt(pos) === LONG ? pos + 5 : pos + 1;
}

/** Offset just past the element whose prefix starts at `pos`. */
export function skip(p: string, pos: number): number {
  const c = p.charCodeAt(pos);
  if (c !== LONG) return pos + 1 + c;
  return pos + 5 + lenAt(p, pos);
}

/** The element whose prefix starts at `pos`. */
export function elementAt(p: string, pos: number): string {
  const c = p.charCodeAt(pos);
  if (c !== LONG) return p.slice(pos + 1, pos + 1 + c);
  return p.slice(pos + 5, pos + 5 + lenAt(p, pos));
}

/**
 * The element at `pos` as a string of its own. `elementAt` may return a V8 sliced string that
 * keeps the whole packed string alive (for 13 bytes or more); values that outlive the packed
 * string (conversion to a big encoding) are copied with this instead.
 */
export function copyElementAt(p: string, pos: number): string {
  const len = lenAt(p, pos);
  if (len < 13) return elementAt(p, pos);
  const d = dataAt(p, pos);
  return packed.begin().range(p, d, d + len).finish();
}

/** Whether the element whose prefix starts at `pos` equals `s`, without allocating. */
export function equalsAt(p: string, pos: number, s: string): boolean {
  const n = s.length;
  let d: number;
  const c = p.charCodeAt(pos);
  if (c !== LONG) {
    if (c !== n) return false;
    d = pos + 1;
  } else {
    if (lenAt(p, pos) !== n) return false;
    d = pos + 5;
  }
  for (let i = 0; i < n; i++) if (p.charCodeAt(d + i) !== s.charCodeAt(i)) return false;
  return true;
}

/** Whether the elements whose prefixes start at a and b hold the same bytes. */
export function elementsEqual(p: string, a: number, b: number): boolean {
  const n = lenAt(p, a);
  if (lenAt(p, b) !== n) return false;
  const da = dataAt(p, a);
  const db = dataAt(p, b);
  for (let i = 0; i < n; i++) if (p.charCodeAt(da + i) !== p.charCodeAt(db + i)) return false;
  return true;
}

/** Number of elements in a packed string (a linear walk). */
export function countElements(p: string): number {
  let n = 0;
  for (let pos = 0; pos < p.length; pos = skip(p, pos)) n++;
  return n;
}

/** Assembles packed strings in a reusable buffer. One builder is used at a time. */
class PackedBuilder {
  private buf = Buffer.allocUnsafe(4096);
  private n = 0;

  begin(): this {
    this.n = 0;
    return this;
  }

  private room(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + extra) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.n);
    this.buf = b;
  }

  /** Reserves room for an element of `len` bytes, writes its prefix; returns the data offset. */
  private prefix(len: number): number {
    this.room(len + 5);
    const b = this.buf;
    let o = this.n;
    if (len < LONG) b[o++] = len;
    else {
      b[o++] = LONG;
      b[o++] = len >>> 24;
      b[o++] = (len >>> 16) & 255;
      b[o++] = (len >>> 8) & 255;
      b[o++] = len & 255;
    }
    return o;
  }

  /** Appends one element: its length prefix and bytes. */
  element(s: string): this {
    const len = s.length;
    let o = this.prefix(len);
    const b = this.buf;
    if (len <= 16) for (let i = 0; i < len; i++) b[o++] = s.charCodeAt(i);
    else o += b.latin1Write(s, o, len);
    this.n = o;
    return this;
  }

  /** Appends one element whose bytes are buf[start, end) (loaders reading a binary format). */
  bytes(buf: Uint8Array, start: number, end: number): this {
    const len = end - start;
    let o = this.prefix(len);
    const b = this.buf;
    if (len <= 16) for (let i = start; i < end; i++) b[o++] = buf[i]!;
    else {
      b.set(buf.subarray(start, end), o);
      o += len;
    }
    this.n = o;
    return this;
  }

  /** Appends p[from, to) verbatim (whole elements of another packed string). */
  range(p: string, from: number, to: number): this {
    const len = to - from;
    if (len <= 0) return this;
    this.room(len);
    const b = this.buf;
    if (len <= 16) {
      let o = this.n;
      for (let i = from; i < to; i++) b[o++] = p.charCodeAt(i);
    } else b.latin1Write(from === 0 && to === p.length ? p : p.slice(from, to), this.n, len);
    this.n += len;
    return this;
  }

  /** Appends raw bytes that are not an element (fixed-size fields such as a binary score). */
  raw(s: string): this {
    return this.range(s, 0, s.length);
  }

  finish(): string {
    const s = this.buf.latin1Slice(0, this.n);
    // Do not pin a large buffer after one big value.
    if (this.buf.length > 1 << 20) this.buf = Buffer.allocUnsafe(4096);
    return s;
  }
}

export const packed = new PackedBuilder();
