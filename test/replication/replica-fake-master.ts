/**
 * A scripted master for replica-side protocol tests: accepts the replica's connections and lets
 * a test read each command the replica sends and answer with exact bytes (replication.md §2–§6).
 * Also builds small valid RDB payloads (strings only) to send as the full-sync snapshot.
 */
import net from 'node:net';
import { crc64 } from '../../src/persistence/rdb/crc64.js';

export class FakeConn {
  private buf = Buffer.alloc(0);
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async waitData(deadline: number, what: string): Promise<void> {
    if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}; have ${JSON.stringify(this.buf.toString('latin1'))}`);
    await new Promise<void>((r) => {
      this.waiters.push(r);
      setTimeout(r, 50);
    });
  }

  /** Raw bytes received and not consumed yet. */
  get pending(): string {
    return this.buf.toString('latin1');
  }

  /** Reads one command (RESP array of bulks, or an inline line) as an argv. */
  async readCommand(timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.tryParse();
      if (r !== null) return r;
      await this.waitData(deadline, 'a command');
    }
  }

  /** Reads commands until one satisfies `pred` (skipping e.g. periodic ACKs), returns it. */
  async readUntil(pred: (argv: string[]) => boolean, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const argv = await this.readCommand(Math.max(1, deadline - Date.now()));
      if (pred(argv)) return argv;
    }
  }

  /** Reads exactly n raw bytes. */
  async readBytes(n: number, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) await this.waitData(deadline, `${n} bytes`);
    const out = this.buf.subarray(0, n).toString('latin1');
    this.buf = this.buf.subarray(n);
    return out;
  }

  private tryParse(): string[] | null {
    const b = this.buf;
    if (b.length === 0) return null;
    if (b[0] !== 42) {
      const nl = b.indexOf(10);
      if (nl === -1) return null;
      const line = b.subarray(0, nl).toString('latin1').replace(/\r$/, '');
      this.buf = b.subarray(nl + 1);
      return line === '' ? [''] : line.split(' ');
    }
    let p = 0;
    const lineAt = (at: number): [string, number] | null => {
      const nl = b.indexOf('\r\n', at);
      if (nl === -1) return null;
      return [b.subarray(at, nl).toString('latin1'), nl + 2];
    };
    const head = lineAt(p);
    if (head === null) return null;
    const n = Number(head[0].slice(1));
    p = head[1];
    const argv: string[] = [];
    for (let i = 0; i < n; i++) {
      const l = lineAt(p);
      if (l === null) return null;
      const len = Number(l[0].slice(1));
      if (b.length < l[1] + len + 2) return null;
      argv.push(b.subarray(l[1], l[1] + len).toString('latin1'));
      p = l[1] + len + 2;
    }
    this.buf = b.subarray(p);
    return argv;
  }

  write(data: string | Buffer): void {
    this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  close(): void {
    this.sock.destroy();
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('timeout waiting for the replica to close the link');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /**
   * Answers the handshake the way a plain master does: +PONG, then +OK for each pipelined
   * command up to PSYNC/SYNC, which is returned (argv) for the test to answer.
   */
  async acceptHandshake(): Promise<{ commands: string[][]; psync: string[] }> {
    const commands: string[][] = [];
    for (;;) {
      const argv = await this.readCommand();
      commands.push(argv);
      const name = argv[0]!.toUpperCase();
      if (name === 'PSYNC' || name === 'SYNC') return { commands, psync: argv };
      this.write(name === 'PING' ? '+PONG\r\n' : '+OK\r\n');
    }
  }
}

export class FakeMaster {
  readonly conns: FakeConn[] = [];
  private waiters: (() => void)[] = [];
  private taken = 0;

  private constructor(
    readonly server: net.Server,
    readonly port: number,
  ) {}

  static start(): Promise<FakeMaster> {
    return new Promise((resolve) => {
      const srv = net.createServer();
      srv.listen(0, '127.0.0.1', () => {
        const fm = new FakeMaster(srv, (srv.address() as net.AddressInfo).port);
        srv.on('connection', (s) => {
          fm.conns.push(new FakeConn(s));
          const w = fm.waiters;
          fm.waiters = [];
          for (const f of w) f();
        });
        resolve(fm);
      });
    });
  }

  /** The next connection the replica opens (in order). */
  async nextConn(timeoutMs = 5000): Promise<FakeConn> {
    const deadline = Date.now() + timeoutMs;
    while (this.conns.length <= this.taken) {
      if (Date.now() > deadline) throw new Error('timeout waiting for the replica to connect');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.conns[this.taken++]!;
  }

  private closed = false;

  /** Stops listening and drops every connection (idempotent). */
  close(): void {
    for (const c of this.conns) c.close();
    if (this.closed) return;
    this.closed = true;
    this.server.close();
  }
}

/** Encodes a command as the replication stream does. */
export function resp(...argv: string[]): string {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
  return s;
}

function rdbLength(n: number): Buffer {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0x80;
  b.writeUInt32BE(n, 1);
  return b;
}

function rdbString(s: string): Buffer {
  const data = Buffer.from(s, 'latin1');
  return Buffer.concat([rdbLength(data.length), data]);
}

/**
 * A version-10 RDB with aux fields and string keys: `dbs` maps db number → [key, value, expireMs?].
 * `aux` adds fields such as repl-stream-db / repl-id / repl-offset.
 */
export function buildRdb(dbs: Record<number, [string, string, number?][]>, aux: Record<string, string> = {}): Buffer {
  const parts: Buffer[] = [Buffer.from('REDIS0010', 'latin1')];
  const allAux: Record<string, string> = { 'redis-ver': '7.0.15', 'redis-bits': '64', ctime: String(Math.floor(Date.now() / 1000)), 'used-mem': '1048576', ...aux };
  for (const [k, v] of Object.entries(allAux)) parts.push(Buffer.from([0xfa]), rdbString(k), rdbString(v));
  for (const [dbStr, entries] of Object.entries(dbs)) {
    if (entries.length === 0) continue;
    parts.push(Buffer.from([0xfe]), rdbLength(Number(dbStr)));
    const expires = entries.filter((e) => e[2] !== undefined).length;
    parts.push(Buffer.from([0xfb]), rdbLength(entries.length), rdbLength(expires));
    for (const [k, v, exp] of entries) {
      if (exp !== undefined) {
        const e = Buffer.alloc(9);
        e[0] = 0xfc;
        e.writeBigUInt64LE(BigInt(exp), 1);
        parts.push(e);
      }
      parts.push(Buffer.from([0]), rdbString(k), rdbString(v));
    }
  }
  parts.push(Buffer.from([0xff]));
  const body = Buffer.concat(parts);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64(body), 0);
  return Buffer.concat([body, crc]);
}
