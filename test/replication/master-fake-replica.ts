/**
 * A fake replica over a raw socket, for asserting the exact bytes a master sends: handshake
 * replies, keepalives, +FULLRESYNC / +CONTINUE, the payload framing and the stream.
 */
import net from 'node:net';

export class FakeReplica {
  private buf: Buffer = Buffer.alloc(0);
  closed = false;
  /** Every byte received, for offset bookkeeping in tests. */
  received = 0;
  private waiters: (() => void)[] = [];

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.received += d.length;
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  static connect(port: number): Promise<FakeReplica> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new FakeReplica(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async until(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.closed) throw new Error(`connection closed while waiting for ${what}; have ${JSON.stringify(this.peek())}`);
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}; have ${JSON.stringify(this.peek())}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 25);
      });
    }
  }

  /** Up to 300 buffered bytes as latin1, for error messages. */
  peek(): string {
    return this.buf.subarray(0, 300).toString('latin1');
  }

  get buffered(): number {
    return this.buf.length;
  }

  /** Sends a command as a RESP array. */
  send(...argv: string[]): void {
    let s = `*${argv.length}\r\n`;
    for (const a of argv) s += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
    this.sock.write(Buffer.from(s, 'latin1'));
  }

  sendRaw(s: string): void {
    this.sock.write(Buffer.from(s, 'latin1'));
  }

  /** Exactly n bytes. */
  async bytes(n: number, timeoutMs = 5000): Promise<Buffer> {
    await this.until(() => this.buf.length >= n, `${n} bytes`, timeoutMs);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** One line up to '\n' (CRLF or bare LF), returned without the line ending. */
  async line(timeoutMs = 5000): Promise<string> {
    await this.until(() => this.buf.includes(10), 'a line', timeoutMs);
    const i = this.buf.indexOf(10);
    const raw = this.buf.subarray(0, i).toString('latin1');
    this.buf = this.buf.subarray(i + 1);
    return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  }

  /** Skips keepalive newlines; returns how many, and the first non-empty line. */
  async lineAfterKeepalives(timeoutMs = 15000): Promise<{ keepalives: number; line: string }> {
    let keepalives = 0;
    for (;;) {
      const l = await this.line(timeoutMs);
      if (l !== '') return { keepalives, line: l };
      keepalives++;
    }
  }

  /** Reads `$EOF:<mark>\r\n<rdb><mark>` and returns the RDB bytes. */
  async rdbEof(timeoutMs = 15000): Promise<{ mark: string; rdb: Buffer }> {
    const header = (await this.lineAfterKeepalives(timeoutMs)).line;
    const m = /^\$EOF:([0-9a-f]{40})$/.exec(header);
    if (!m) throw new Error(`expected $EOF:<mark>, got ${JSON.stringify(header)}`);
    const mark = Buffer.from(m[1]!, 'latin1');
    await this.until(
      () => this.buf.length >= 40 && this.buf.indexOf(mark) >= 0,
      'the EOF mark',
      timeoutMs,
    );
    const i = this.buf.indexOf(mark);
    const rdb = this.buf.subarray(0, i);
    this.buf = this.buf.subarray(i + 40);
    return { mark: m[1]!, rdb };
  }

  /** Reads `$<len>\r\n<rdb>` (no trailing CRLF) and returns the RDB bytes. */
  async rdbBulk(timeoutMs = 15000): Promise<Buffer> {
    const header = (await this.lineAfterKeepalives(timeoutMs)).line;
    const m = /^\$(\d+)$/.exec(header);
    if (!m) throw new Error(`expected $<len>, got ${JSON.stringify(header)}`);
    return this.bytes(Number(m[1]), timeoutMs);
  }

  /** One RESP array of bulk strings from the stream, and its size in bytes. */
  async command(timeoutMs = 5000): Promise<{ argv: string[]; bytes: number }> {
    const head = await this.line(timeoutMs);
    if (!head.startsWith('*')) throw new Error(`expected a multibulk, got ${JSON.stringify(head)}`);
    let bytes = head.length + 2;
    const n = Number(head.slice(1));
    const argv: string[] = [];
    for (let i = 0; i < n; i++) {
      const lenLine = await this.line(timeoutMs);
      if (!lenLine.startsWith('$')) throw new Error(`expected a bulk, got ${JSON.stringify(lenLine)}`);
      const len = Number(lenLine.slice(1));
      const body = await this.bytes(len + 2, timeoutMs);
      argv.push(body.subarray(0, len).toString('latin1'));
      bytes += lenLine.length + 2 + len + 2;
    }
    return { argv, bytes };
  }

  /** Asserts that nothing arrives for `ms`. */
  async nothingFor(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.buf.length > 0) throw new Error(`unexpected bytes: ${JSON.stringify(this.peek())}`);
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  /** The usual handshake of a 7.0 replica up to (excluding) PSYNC. */
  async handshake(opts: { port?: number; ip?: string; capa?: string[] } = {}): Promise<void> {
    this.send('PING');
    const pong = await this.line();
    if (pong !== '+PONG') throw new Error(`PING: ${pong}`);
    this.send('REPLCONF', 'listening-port', String(opts.port ?? 7777));
    if (opts.ip !== undefined) this.send('REPLCONF', 'ip-address', opts.ip);
    const capa = opts.capa ?? ['eof', 'psync2'];
    if (capa.length > 0) this.send('REPLCONF', ...capa.flatMap((c) => ['capa', c]));
    const expected = 1 + (opts.ip !== undefined ? 1 : 0) + (capa.length > 0 ? 1 : 0);
    for (let i = 0; i < expected; i++) {
      const ok = await this.line();
      if (ok !== '+OK') throw new Error(`REPLCONF: ${ok}`);
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
