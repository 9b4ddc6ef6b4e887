/**
 * A raw TCP peer for protocol tests: send exact bytes, read exact bytes back, observe close.
 */
import net from 'node:net';

export class RawConn {
  private buf = Buffer.alloc(0);
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  static connect(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(data: string | Buffer): void {
    this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits until `n` bytes arrived (or the connection closed) and returns them as latin1. */
  async read(n: number, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n && !this.closed) {
      if (Date.now() > deadline) throw new Error(`timeout reading ${n} bytes, have ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    const out = this.buf.subarray(0, n).toString('latin1');
    this.buf = this.buf.subarray(Math.min(n, this.buf.length));
    return out;
  }

  /** Sends `data` and reads exactly the length of `expected` (convenient for exact-reply tests). */
  async roundtrip(data: string, expectedLength: number): Promise<string> {
    this.write(data);
    return this.read(expectedLength);
  }

  /** Waits for whatever arrives within `ms` and returns it. */
  async drain(ms = 100): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    const out = this.buf.toString('latin1');
    this.buf = Buffer.alloc(0);
    return out;
  }

  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}
