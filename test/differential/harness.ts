/**
 * Differential testing: the same command scripts are sent to a real redis-server and to Mirra
 * over raw sockets, and every reply is compared byte for byte. See README.md beside this file
 * for the script format. This module is the library; differential.test.ts runs every script
 * under node:test, and cli.ts runs chosen scripts and prints the differences.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

// ---------------------------------------------------------------------------------------------
// Script parsing

/** How a reply is compared. */
export type Compare =
  | { kind: 'exact' }
  | { kind: 'sort' } // top-level array/set: compare with elements sorted
  | { kind: 'scan'; pairs: boolean } // iterate a SCAN-like cursor to 0, compare the sorted union
  | { kind: 'approx'; tolerance: number } // integer (or numeric bulk) replies within ± tolerance
  | { kind: 'ignore' }; // run on both, compare nothing

export interface Step {
  line: number;
  /** The command as written in the script (for reports). */
  text: string;
  argv: string[];
  compare: Compare;
  /** Connection name (`@conn`); 'main' by default. */
  conn: string;
  /** `@sleep ms` step: no command. */
  sleepMs?: number;
}

export interface Script {
  file: string;
  name: string;
  steps: Step[];
  /** Protocols to run the script under (`@passes resp2 resp3`); resp2 only by default. */
  passes: (2 | 3)[];
  /** `@disabled reason`: the script is skipped and the reason reported. */
  disabled: string | undefined;
}

/**
 * Splits a line like redis-cli / Redis's sdssplitargs: whitespace separates arguments,
 * "double quotes" understand \n \r \t \b \a \\ \" and \xHH, 'single quotes' only \'.
 * Works on byte strings (latin1); throws on unbalanced quotes.
 */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (ch: string | undefined): boolean => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
  while (true) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    let cur = '';
    let inDq = false;
    let inSq = false;
    let done = false;
    while (!done) {
      const ch = line[i];
      if (inDq) {
        if (ch === undefined) throw new Error('unbalanced quotes');
        if (ch === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (ch === '\\' && i + 1 < n) {
          i++;
          const e = line[i]!;
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (ch === '"') {
          if (i + 1 < n && !isSpace(line[i + 1])) throw new Error('closing quote must be followed by a space');
          done = true;
        } else cur += ch;
      } else if (inSq) {
        if (ch === undefined) throw new Error('unbalanced quotes');
        if (ch === '\\' && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (ch === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) throw new Error('closing quote must be followed by a space');
          done = true;
        } else cur += ch;
      } else if (ch === undefined || isSpace(ch)) done = true;
      else if (ch === '"') inDq = true;
      else if (ch === "'") inSq = true;
      else cur += ch;
      if (i < n) i++;
    }
    out.push(cur);
  }
}

/** Parses a script file (format in README.md). */
export function parseScript(file: string): Script {
  // Read as bytes (latin1): UTF-8 text in a script becomes its UTF-8 bytes, \xHH one byte.
  const text = fs.readFileSync(file, 'latin1');
  const script: Script = { file, name: path.basename(file, '.txt'), steps: [], passes: [2], disabled: undefined };
  let conn = 'main';
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li]!.replace(/\r$/, '');
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${li + 1}`;
    let compare: Compare = { kind: 'exact' };
    let rest = line;
    if (line.startsWith('@')) {
      const sp = line.indexOf(' ');
      const directive = sp < 0 ? line : line.slice(0, sp);
      rest = sp < 0 ? '' : line.slice(sp + 1).trim();
      switch (directive) {
        case '@passes':
          script.passes = rest.split(/\s+/).map((p) => {
            if (p !== 'resp2' && p !== 'resp3') throw new Error(`${where}: unknown pass '${p}'`);
            return p === 'resp2' ? 2 : 3;
          });
          continue;
        case '@disabled':
          script.disabled = rest || 'disabled';
          continue;
        case '@conn':
          if (!rest) throw new Error(`${where}: @conn needs a name`);
          conn = rest;
          continue;
        case '@sleep':
          script.steps.push({ line: li + 1, text: line, argv: [], compare: { kind: 'ignore' }, conn, sleepMs: Number(rest) });
          continue;
        case '@sort':
          compare = { kind: 'sort' };
          break;
        case '@scan':
          compare = { kind: 'scan', pairs: false };
          break;
        case '@scanpairs':
          compare = { kind: 'scan', pairs: true };
          break;
        case '@ignore':
          compare = { kind: 'ignore' };
          break;
        case '@approx': {
          const sp2 = rest.indexOf(' ');
          const tol = Number(rest.slice(0, sp2));
          if (sp2 < 0 || !Number.isFinite(tol)) throw new Error(`${where}: @approx needs a tolerance and a command`);
          compare = { kind: 'approx', tolerance: tol };
          rest = rest.slice(sp2 + 1).trim();
          break;
        }
        default:
          throw new Error(`${where}: unknown directive ${directive}`);
      }
    }
    let argv: string[];
    try {
      argv = splitArgs(rest);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    if (argv.length === 0) throw new Error(`${where}: empty command`);
    script.steps.push({ line: li + 1, text: line, argv, compare, conn });
  }
  return script;
}

/** Every *.txt script in a directory, sorted by name. */
export function loadScripts(dir: string): Script[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => parseScript(path.join(dir, f)));
}

// ---------------------------------------------------------------------------------------------
// RESP: raw replies and a parsed view for the normalising comparisons

export type Reply =
  | { t: 'simple' | 'error' | 'bulk' | 'verbatim' | 'double' | 'big'; v: string }
  | { t: 'int'; v: bigint }
  | { t: 'null' }
  | { t: 'bool'; v: boolean }
  | { t: 'array' | 'set' | 'push'; v: Reply[] }
  | { t: 'map' | 'attr'; v: Reply[] };

/** Parses one reply at `pos`. Returns it and the end offset, or null when incomplete. */
export function parseReply(buf: Buffer, pos: number): { reply: Reply; end: number } | null {
  const lineEnd = buf.indexOf('\r\n', pos, 'latin1');
  if (lineEnd < 0) return null;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.latin1Slice(pos + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { reply: { t: 'simple', v: line }, end: next };
    case '-':
      return { reply: { t: 'error', v: line }, end: next };
    case ':':
      return { reply: { t: 'int', v: BigInt(line) }, end: next };
    case '_':
      return { reply: { t: 'null' }, end: next };
    case ',':
      return { reply: { t: 'double', v: line }, end: next };
    case '(':
      return { reply: { t: 'big', v: line }, end: next };
    case '#':
      return { reply: { t: 'bool', v: line === 't' }, end: next };
    case '$':
    case '=':
    case '!': {
      const len = Number(line);
      if (len < 0) return { reply: { t: 'null' }, end: next };
      if (buf.length < next + len + 2) return null;
      const v = buf.latin1Slice(next, next + len);
      return { reply: { t: type === '=' ? 'verbatim' : type === '!' ? 'error' : 'bulk', v }, end: next + len + 2 };
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      let count = Number(line);
      if (count < 0) return { reply: { t: 'null' }, end: next };
      if (type === '%' || type === '|') count *= 2;
      const items: Reply[] = [];
      let p = next;
      for (let k = 0; k < count; k++) {
        const r = parseReply(buf, p);
        if (r === null) return null;
        items.push(r.reply);
        p = r.end;
      }
      if (type === '|') {
        // An attribute precedes the real reply; keep it with the reply for the raw comparison.
        const r = parseReply(buf, p);
        if (r === null) return null;
        return { reply: r.reply, end: r.end };
      }
      const t = type === '*' ? 'array' : type === '~' ? 'set' : type === '>' ? 'push' : 'map';
      return { reply: { t, v: items } as Reply, end: p };
    }
    default:
      throw new Error(`unexpected reply byte ${JSON.stringify(type)} in ${JSON.stringify(buf.latin1Slice(pos, pos + 80))}`);
  }
}

/** Encodes a command as a RESP multibulk (argv are latin1 byte strings). */
export function encodeCommand(argv: readonly string[]): Buffer {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return Buffer.from(s, 'latin1');
}

/** A connection that sends one command at a time and returns the raw bytes of its reply. */
export class RespConn {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    sock.on('error', () => {});
  }

  static connect(port: number): Promise<RespConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RespConn(s)));
      s.once('error', reject);
    });
  }

  /** Sends argv and resolves with the reply's raw bytes (latin1) and its parsed form. */
  async call(argv: readonly string[], timeoutMs = 10000): Promise<{ raw: string; reply: Reply }> {
    this.sock.write(encodeCommand(argv));
    const deadline = Date.now() + timeoutMs;
    while (true) {
      if (this.buf.length > 0) {
        const r = parseReply(this.buf, 0);
        if (r !== null) {
          const raw = this.buf.latin1Slice(0, r.end);
          this.buf = this.buf.subarray(r.end);
          return { raw, reply: r.reply };
        }
      }
      if (this.closed) return { raw: '<CLOSED>', reply: { t: 'error', v: '<CLOSED>' } };
      const left = deadline - Date.now();
      if (left <= 0) return { raw: '<TIMEOUT>', reply: { t: 'error', v: '<TIMEOUT>' } };
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** Escapes bytes for a readable, unambiguous report line. */
export function show(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 13) out += '\\r';
    else if (c === 10) out += '\\n';
    else if (c === 9) out += '\\t';
    else if (c === 92) out += '\\\\';
    else if (c < 32 || c > 126) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += raw[i];
  }
  return out;
}

/** Canonical text of a parsed reply (used by the sorting comparisons). */
function canon(r: Reply): string {
  switch (r.t) {
    case 'int':
      return `:${r.v}`;
    case 'null':
      return '_';
    case 'bool':
      return r.v ? '#t' : '#f';
    case 'array':
    case 'set':
    case 'push':
    case 'map':
    case 'attr':
      return `${r.t}[${r.v.map(canon).join(',')}]`;
    default:
      return `${r.t}:${show(r.v)}`;
  }
}

/** The normalised form a comparison kind compares (for 'exact', the raw bytes). */
function normalise(compare: Compare, raw: string, reply: Reply): string {
  if (compare.kind === 'sort' && (reply.t === 'array' || reply.t === 'set')) {
    return `${reply.t}(sorted)[${reply.v.map(canon).sort().join(',')}]`;
  }
  if (compare.kind === 'sort' && reply.t === 'map') {
    const pairs: string[] = [];
    for (let i = 0; i < reply.v.length; i += 2) pairs.push(`${canon(reply.v[i]!)}=>${canon(reply.v[i + 1]!)}`);
    return `map(sorted)[${pairs.sort().join(',')}]`;
  }
  return raw;
}

function numberOf(r: Reply): number | null {
  if (r.t === 'int') return Number(r.v);
  if ((r.t === 'bulk' || r.t === 'double') && /^-?\d+(\.\d+)?$/.test(r.v)) return Number(r.v);
  return null;
}

export interface Difference {
  where: string;
  command: string;
  redis: string;
  mirra: string;
}

export interface Endpoint {
  port: number;
}

/** One server's side of a run: named connections created on first use. */
class Side {
  private conns = new Map<string, RespConn>();
  constructor(
    private readonly port: number,
    private readonly proto: 2 | 3,
  ) {}

  async conn(name: string): Promise<RespConn> {
    let c = this.conns.get(name);
    if (c === undefined) {
      c = await RespConn.connect(this.port);
      if (this.proto === 3) await c.call(['HELLO', '3']);
      this.conns.set(name, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.conns.values()) c.close();
  }
}

/** Runs SCAN-like iteration from cursor "0" until it returns to "0"; returns the sorted union. */
async function scanAll(conn: RespConn, argv: string[], pairs: boolean): Promise<string> {
  const cursorAt = argv[0]!.toLowerCase() === 'scan' ? 1 : 2;
  const seen = new Set<string>();
  let cursor = '0';
  for (let rounds = 0; rounds < 100000; rounds++) {
    const a = [...argv];
    a[cursorAt] = cursor;
    const { raw, reply } = await conn.call(a);
    if (reply.t !== 'array' || reply.v.length !== 2) return `unexpected reply ${show(raw)}`;
    const [cur, items] = reply.v as [Reply, Reply];
    if (cur.t !== 'bulk' || (items.t !== 'array' && items.t !== 'set')) return `unexpected reply ${show(raw)}`;
    const els = items.v;
    if (pairs) for (let i = 0; i + 1 < els.length; i += 2) seen.add(`${canon(els[i]!)}=>${canon(els[i + 1]!)}`);
    else for (const e of els) seen.add(canon(e));
    cursor = cur.v;
    if (cursor === '0') return `scan(union)[${[...seen].sort().join(',')}]`;
  }
  return 'scan did not finish';
}

/**
 * Runs one script against both servers in the given protocol and returns every difference.
 * The databases are flushed first (FLUSHALL on both, not compared).
 */
export async function runScript(script: Script, redis: Endpoint, mirra: Endpoint, proto: 2 | 3): Promise<Difference[]> {
  const diffs: Difference[] = [];
  const r = new Side(redis.port, proto);
  const m = new Side(mirra.port, proto);
  try {
    await Promise.all([(await r.conn('__setup')).call(['FLUSHALL']), (await m.conn('__setup')).call(['FLUSHALL'])]);
    for (const step of script.steps) {
      if (step.sleepMs !== undefined) {
        await new Promise((res) => setTimeout(res, step.sleepMs));
        continue;
      }
      const [rc, mc] = await Promise.all([r.conn(step.conn), m.conn(step.conn)]);
      let rs: string;
      let ms: string;
      if (step.compare.kind === 'scan') {
        [rs, ms] = await Promise.all([scanAll(rc, step.argv, step.compare.pairs), scanAll(mc, step.argv, step.compare.pairs)]);
      } else {
        const [rr, mr] = await Promise.all([rc.call(step.argv), mc.call(step.argv)]);
        if (step.compare.kind === 'ignore') continue;
        if (step.compare.kind === 'approx') {
          const a = numberOf(rr.reply);
          const b = numberOf(mr.reply);
          if (a !== null && b !== null && Math.abs(a - b) <= step.compare.tolerance) continue;
        }
        rs = normalise(step.compare, rr.raw, rr.reply);
        ms = normalise(step.compare, mr.raw, mr.reply);
      }
      if (rs !== ms) {
        diffs.push({ where: `${script.name}.txt:${step.line} (RESP${proto})`, command: clip(step.text), ...describe(step.compare, rs, ms) });
      }
    }
  } finally {
    r.close();
    m.close();
  }
  return diffs;
}

const MAX_SHOWN = 600;

function clip(s: string): string {
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}… (${s.length} chars)` : s;
}

/**
 * The two sides of a difference as shown in reports. Sorted and scanned collections show only
 * the elements one side has and the other lacks.
 */
function describe(compare: Compare, rs: string, ms: string): { redis: string; mirra: string } {
  const m = /^[a-z]+\((?:sorted|union)\)\[(.*)\]$/s;
  const rm = m.exec(rs);
  const mm = m.exec(ms);
  if ((compare.kind === 'scan' || compare.kind === 'sort') && rm && mm) {
    const a = new Set(rm[1] === '' ? [] : rm[1]!.split(','));
    const b = new Set(mm[1] === '' ? [] : mm[1]!.split(','));
    const onlyR = [...a].filter((x) => !b.has(x));
    const onlyM = [...b].filter((x) => !a.has(x));
    if (onlyR.length + onlyM.length > 0) {
      return { redis: clip(`only here: [${onlyR.join(',')}]`), mirra: clip(`only here: [${onlyM.join(',')}]`) };
    }
  }
  return { redis: clip(show(rs)), mirra: clip(show(ms)) };
}

/** A readable report of differences. */
export function formatDiffs(diffs: readonly Difference[]): string {
  return diffs.map((d) => `${d.where}\n  > ${d.command}\n  redis: ${d.redis}\n  mirra: ${d.mirra}`).join('\n');
}
