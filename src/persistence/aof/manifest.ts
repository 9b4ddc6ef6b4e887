/**
 * The AOF manifest (Redis 7.0 multi-part AOF, aof.md §1.1): which base, incr and history files
 * make up the append only file, and how the manifest is read and written.
 *
 * Text form, one file per line, LF-terminated:
 *
 *   file appendonly.aof.2.base.rdb seq 2 type b
 *   file appendonly.aof.1.incr.aof seq 1 type h
 *   file appendonly.aof.2.incr.aof seq 2 type i
 *
 * Parsing follows aofLoadManifestFromFile exactly, because a manifest Redis refuses must be
 * refused here too (and vice versa), with the same messages: lines starting with '#' are
 * skipped; every other line is trimmed, must be non-empty, end with '\n' within 1024 bytes and
 * split (sdssplitargs rules, quoted names allowed) into an even number ≥ 6 of key/value tokens;
 * keys are case-insensitive, unknown keys are ignored, `seq` is read like atoll (0 = missing),
 * `type` is the first character of its value. One base at most, incr seqs strictly increasing,
 * names without path separators. A manifest with no file lines at all is "no AOF".
 *
 * Written base first, then history, then incr files (getAofManifestAsString); names that need
 * it are quoted like sdscatrepr.
 */
import { splitArgs } from '../../protocol/resp-parser.js';

export type AofFileType = 'b' | 'h' | 'i';

export interface AofInfo {
  name: string;
  seq: number;
  type: AofFileType;
}

/** Redis's MANIFEST_MAX_LINE. */
export const MANIFEST_MAX_LINE = 1024;

/** A manifest Redis would refuse; `line`/`lineNo` locate it when the error is about one line. */
export class AofManifestError extends Error {
  constructor(
    message: string,
    readonly lineNo = 0,
    readonly line: string | null = null,
  ) {
    super(message);
  }

  /** The lines Redis logs before exiting. */
  logLines(): string[] {
    const out = ['*** FATAL AOF MANIFEST FILE ERROR ***'];
    if (this.line !== null) out.push(`Reading the manifest file, at line ${this.lineNo}`, `>>> '${this.line}'`);
    out.push(this.message);
    return out;
  }
}

export class AofManifest {
  base: AofInfo | null = null;
  incr: AofInfo[] = [];
  history: AofInfo[] = [];
  /** Sequence of the last base created (the next one is +1). */
  currBaseSeq = 0;
  /** Sequence of the last incr file created (the next one is +1). */
  currIncrSeq = 0;
  /** Changed since it was read or last written (persisting a clean manifest is skipped). */
  dirty = false;

  clone(): AofManifest {
    const m = new AofManifest();
    m.base = this.base === null ? null : { ...this.base };
    m.incr = this.incr.map((i) => ({ ...i }));
    m.history = this.history.map((i) => ({ ...i }));
    m.currBaseSeq = this.currBaseSeq;
    m.currIncrSeq = this.currIncrSeq;
    m.dirty = this.dirty;
    return m;
  }

  get empty(): boolean {
    return this.base === null && this.incr.length === 0;
  }

  /** The file being appended to (last incr), if any. */
  get lastIncr(): AofInfo | null {
    return this.incr.length === 0 ? null : this.incr[this.incr.length - 1]!;
  }

  /**
   * getNewBaseFileNameAndMarkPreAsHistory: the current base (if any) becomes history (at the
   * head of the history list) and a new base with the next sequence is recorded.
   */
  newBase(appendfilename: string, rdbFormat: boolean): AofInfo {
    if (this.base !== null) {
      this.base.type = 'h';
      this.history.unshift(this.base);
    }
    const seq = ++this.currBaseSeq;
    const info: AofInfo = { name: baseFileName(appendfilename, seq, rdbFormat), seq, type: 'b' };
    this.base = info;
    this.dirty = true;
    return info;
  }

  /** getNewIncrAofName: records a new incr file with the next sequence. */
  newIncr(appendfilename: string): AofInfo {
    const seq = ++this.currIncrSeq;
    const info: AofInfo = { name: incrFileName(appendfilename, seq), seq, type: 'i' };
    this.incr.push(info);
    this.dirty = true;
    return info;
  }

  /**
   * markRewrittenIncrAofAsHistory: every incr file becomes history, except the last one when
   * AOF is on (it is the file being appended to).
   */
  markRewrittenIncrAsHistory(keepLast: boolean): void {
    while (this.incr.length > (keepLast ? 1 : 0)) {
      const ai = this.incr.shift()!;
      ai.type = 'h';
      this.history.push(ai);
      this.dirty = true;
    }
  }

  /** getAofManifestAsString. */
  toString(): string {
    let s = '';
    if (this.base !== null) s += formatLine(this.base);
    for (const h of this.history) s += formatLine(h);
    for (const i of this.incr) s += formatLine(i);
    return s;
  }

  /**
   * Parses a manifest (latin1 text). Throws AofManifestError with Redis's message for
   * anything Redis refuses.
   */
  static parse(text: string): AofManifest {
    const am = new AofManifest();
    let maxSeq = 0;
    let lineNo = 0;
    let pos = 0;
    if (text.length === 0) throw new AofManifestError('Found an empty AOF manifest');
    while (pos < text.length) {
      // fgets(buf, MANIFEST_MAX_LINE+1): at most 1024 bytes, up to and including '\n'.
      const nl = text.indexOf('\n', pos);
      const end = nl === -1 || nl - pos + 1 > MANIFEST_MAX_LINE ? Math.min(text.length, pos + MANIFEST_MAX_LINE) : nl + 1;
      const raw = text.slice(pos, end);
      pos = end;
      lineNo++;
      if (raw.charCodeAt(0) === 35 /* # */) continue;
      if (!raw.endsWith('\n')) throw new AofManifestError('The AOF manifest file contains too long line');
      const line = trim(raw);
      if (line.length === 0) throw new AofManifestError('Invalid AOF manifest file format', lineNo, line);
      const argv = splitArgs(line);
      if (argv === null || argv.length < 6 || argv.length % 2 !== 0) {
        throw new AofManifestError('Invalid AOF manifest file format', lineNo, line);
      }
      let name: string | null = null;
      let seq = 0;
      let type = '';
      for (let i = 0; i < argv.length; i += 2) {
        const k = argv[i]!.toLowerCase();
        const v = argv[i + 1]!;
        if (k === 'file') {
          name = v;
          if (v.includes('/') || v.includes('\\')) throw new AofManifestError("File can't be a path, just a filename", lineNo, line);
        } else if (k === 'seq') {
          seq = atoll(v);
        } else if (k === 'type') {
          type = v.charAt(0);
        }
      }
      if (name === null || seq === 0 || type === '') throw new AofManifestError('Invalid AOF manifest file format', lineNo, line);
      if (type === 'b') {
        if (am.base !== null) throw new AofManifestError('Found duplicate base file information', lineNo, line);
        am.base = { name, seq, type: 'b' };
        am.currBaseSeq = seq;
      } else if (type === 'h') {
        am.history.push({ name, seq, type: 'h' });
      } else if (type === 'i') {
        if (seq <= maxSeq) throw new AofManifestError('Found a non-monotonic sequence number', lineNo, line);
        am.incr.push({ name, seq, type: 'i' });
        am.currIncrSeq = seq;
        maxSeq = seq;
      } else {
        throw new AofManifestError('Unknown AOF file type', lineNo, line);
      }
    }
    return am;
  }
}

export function baseFileName(appendfilename: string, seq: number, rdbFormat: boolean): string {
  return `${appendfilename}.${seq}.base${rdbFormat ? '.rdb' : '.aof'}`;
}

export function incrFileName(appendfilename: string, seq: number): string {
  return `${appendfilename}.${seq}.incr.aof`;
}

export function manifestFileName(appendfilename: string): string {
  return `${appendfilename}.manifest`;
}

/** Where the manifest is written before the rename (getTempAofManifestFileName). */
export function tempManifestFileName(appendfilename: string): string {
  return `temp-${appendfilename}.manifest`;
}

/** The incr file used while AOF is being turned on, before the first rewrite ends (getTempIncrAofName). */
export function tempIncrFileName(appendfilename: string): string {
  return `temp-${appendfilename}.incr`;
}

function formatLine(ai: AofInfo): string {
  return `file ${needsRepr(ai.name) ? repr(ai.name) : ai.name} seq ${ai.seq} type ${ai.type}\n`;
}

/** sdsneedsrepr. */
function needsRepr(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 || c === 34 || c <= 32 || c >= 127) return true;
  }
  return false;
}

/** sdscatrepr: a double-quoted string with C escapes. */
export function repr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92) out += '\\\\';
    else if (c === 34) out += '\\"';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c >= 32 && c < 127) out += s[i];
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out + '"';
}

/** sdstrim(line, " \t\r\n"). */
function trim(s: string): string {
  let a = 0;
  let b = s.length;
  const ws = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 10;
  while (a < b && ws(s.charCodeAt(a))) a++;
  while (b > a && ws(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** C atoll: optional leading whitespace and sign, then digits up to the first non-digit. */
function atoll(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m === null ? 0 : Number(m[1]);
}
