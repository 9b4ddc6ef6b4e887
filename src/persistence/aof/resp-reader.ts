/**
 * Parses the RESP part of an AOF file the way Redis 7.0's loadSingleAppendOnlyFile reads it,
 * one item at a time from a buffer, so the loader can stop at any byte and tell a truncated
 * file (the bytes ran out: MORE at end of file) from a corrupt one (BAD).
 *
 *   #<text>\n                   annotation (e.g. `#TS:<unix time>` with aof-timestamp-enabled)
 *   *<argc>\r\n                 argc ≥ 1, read like atoi
 *   $<len>\r\n<len bytes>\r\n   × argc; len read like strtol; the two bytes after the data are
 *                               skipped without being checked, as Redis does
 *
 * Lines (`*…`, `$…`, `#…`) are at most 1024 bytes including the newline (Redis reads them with
 * fgets into a 1024-byte buffer). A negative length is BAD (Redis would try to allocate it).
 */

/** One command was parsed: `argv`, and `end` is the offset just after it. */
export const ITEM_COMMAND = 0;
/** An annotation line was skipped; `end` is the offset after it. */
export const ITEM_ANNOTATION = 1;
/** The buffer ends inside the item; at least `need` bytes from `pos` are required. */
export const MORE = 2;
/** Not valid AOF syntax (Redis's "Bad file format"). */
export const BAD = 3;

/** Redis's AOF_ANNOTATION_LINE_MAX_LEN (the fgets buffer). */
export const LINE_MAX = 1024;

export class AofRespParser {
  argv: string[] = [];
  end = 0;
  need = 0;

  /** Parses the item starting at buf[pos]. See the ITEM_ / MORE / BAD constants. */
  parse(buf: Buffer, pos: number): number {
    const len = buf.length;
    if (pos >= len) {
      this.need = 1;
      return MORE;
    }
    const first = buf[pos]!;
    if (first === 0x23 /* # */) {
      const nl = lineEnd(buf, pos);
      if (nl < 0) return this.lineShort(nl, buf, pos);
      this.end = nl + 1;
      return ITEM_ANNOTATION;
    }
    if (first !== 0x2a /* * */) return BAD;
    let nl = lineEnd(buf, pos);
    if (nl < 0) return this.lineShort(nl, buf, pos);
    const argc = atoi(buf, pos + 1, nl);
    if (argc < 1) return BAD;
    const argv: string[] = [];
    let p = nl + 1;
    for (let j = 0; j < argc; j++) {
      if (p >= len) {
        this.need = p - pos + 1;
        return MORE;
      }
      if (buf[p] !== 0x24 /* $ */) return BAD;
      nl = lineEnd(buf, p);
      if (nl < 0) return this.lineShort(nl, buf, pos);
      const n = atoi(buf, p + 1, nl);
      if (n < 0) return BAD;
      const start = nl + 1;
      const stop = start + n + 2;
      if (stop > len) {
        this.need = stop - pos;
        return MORE;
      }
      argv.push(buf.toString('latin1', start, start + n));
      p = stop;
    }
    this.argv = argv;
    this.end = p;
    return ITEM_COMMAND;
  }

  /** A line without its newline: MORE while it may still fit in LINE_MAX, else BAD. */
  private lineShort(code: number, buf: Buffer, pos: number): number {
    if (code === LINE_TOO_LONG) return BAD;
    this.need = buf.length - pos + 1;
    return MORE;
  }
}

const LINE_INCOMPLETE = -1;
const LINE_TOO_LONG = -2;

/** Index of the '\n' ending the line that starts at p, or LINE_INCOMPLETE / LINE_TOO_LONG. */
function lineEnd(buf: Buffer, p: number): number {
  const limit = Math.min(buf.length, p + LINE_MAX);
  const nl = buf.indexOf(0x0a, p);
  if (nl !== -1 && nl < limit) return nl;
  return buf.length - p >= LINE_MAX ? LINE_TOO_LONG : LINE_INCOMPLETE;
}

/** C atoi/strtol over buf[from, to): leading blanks, optional sign, digits up to a non-digit. */
function atoi(buf: Buffer, from: number, to: number): number {
  let i = from;
  while (i < to && (buf[i] === 0x20 || (buf[i]! >= 0x09 && buf[i]! <= 0x0d))) i++;
  let neg = false;
  if (i < to && (buf[i] === 0x2d || buf[i] === 0x2b)) {
    neg = buf[i] === 0x2d;
    i++;
  }
  let v = 0;
  for (; i < to; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    // Anything past 2^53 is absurd for an AOF (it cannot be satisfied by the file anyway).
    if (v < 9e15) v = v * 10 + (c - 0x30);
  }
  return neg ? -v : v;
}
