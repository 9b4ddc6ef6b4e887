/**
 * Helpers shared by the failover, resilience and chaos tests: INFO parsing, digests, a client
 * that writes continuously and records which writes were acknowledged, and a tiny RESP client
 * that never reconnects behind our back (so an error is an error).
 */
import net from 'node:net';
import { redisCli } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

export function cli(port: number, ...args: string[]): string {
  return redisCli(port, ...args).trimEnd();
}

export function info(port: number, section = 'replication'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of redisCli(port, 'info', section).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trimEnd();
  }
  return out;
}

export function stat(port: number, field: string): number {
  return Number(info(port, 'stats')[field] ?? 'NaN');
}

export function digest(port: number): string {
  return cli(port, 'debug', 'digest');
}

/** Waits until every node reports the same DEBUG DIGEST; returns it. */
export async function waitSameDigest(ports: number[], timeoutMs = 20000): Promise<string> {
  let last: string[] = [];
  try {
    await waitFor(
      () => {
        last = ports.map((p) => digest(p));
        return last.every((d) => d === last[0] && d !== '');
      },
      'the same DEBUG DIGEST on every node',
      timeoutMs,
      100,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${ports.map((p, i) => `${p}=${last[i]}`).join(' ')}`);
  }
  return last[0]!;
}

/** Waits until `port` is a replica with its link up and the same offset as `masterPort`. */
export async function waitCaughtUp(port: number, masterPort: number, timeoutMs = 20000): Promise<void> {
  await waitFor(
    () => {
      const r = info(port);
      const m = info(masterPort);
      return r.master_link_status === 'up' && r.master_repl_offset === m.master_repl_offset;
    },
    `replica :${port} caught up with :${masterPort}`,
    timeoutMs,
    50,
  );
}

/**
 * A RESP connection: commands answered in order, replies parsed; errors become Error values.
 * Used by the tests, the chaos runner and the benchmarks (TCP_NODELAY, for latency samples). A connect that takes longer than 10 s fails, and with
 * `replyTimeoutMs` a command left unanswered that long closes the connection (its promise
 * rejects), so a stopped or unreachable server cannot hang the caller.
 */
export class Resp {
  private buf: Buffer = Buffer.alloc(0);
  private pending: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  closed = false;

  private constructor(
    private readonly sock: net.Socket,
    private readonly replyTimeoutMs: number,
  ) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.drain();
    });
    sock.on('close', () => {
      this.closed = true;
      const e = new Error('connection closed');
      for (const p of this.pending.splice(0)) p.reject(e);
    });
    sock.on('error', () => {});
  }

  static open(port: number, opts: { replyTimeoutMs?: number } = {}): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.setTimeout(0);
        s.setNoDelay(true);
        resolve(new Resp(s, opts.replyTimeoutMs ?? 0));
      });
      s.once('error', reject);
      s.setTimeout(10000, () => s.destroy(new Error('connect timeout')));
    });
  }

  private parse(pos: number): [unknown, number] | null {
    const nl = this.buf.indexOf('\r\n', pos);
    if (nl < 0) return null;
    const t = this.buf[pos]!;
    const line = this.buf.toString('latin1', pos + 1, nl);
    switch (t) {
      case 0x2b: // +
        return [line, nl + 2];
      case 0x3a: // :
        return [Number(line), nl + 2];
      case 0x2d: // -
        return [new Error(line), nl + 2];
      case 0x24: {
        // $
        const n = Number(line);
        if (n < 0) return [null, nl + 2];
        if (this.buf.length < nl + 2 + n + 2) return null;
        return [this.buf.toString('latin1', nl + 2, nl + 2 + n), nl + 4 + n];
      }
      case 0x2a: {
        // *
        const n = Number(line);
        if (n < 0) return [null, nl + 2];
        const out: unknown[] = [];
        let p = nl + 2;
        for (let i = 0; i < n; i++) {
          const r = this.parse(p);
          if (r === null) return null;
          out.push(r[0]);
          p = r[1];
        }
        return [out, p];
      }
      default:
        throw new Error(`unexpected reply type ${String.fromCharCode(t)}`);
    }
  }

  private drain(): void {
    while (this.pending.length > 0) {
      const r = this.parse(0);
      if (r === null) return;
      this.buf = this.buf.subarray(r[1]);
      this.pending.shift()!.resolve(r[0]);
    }
  }

  /** Sends one command; resolves with the reply (an Error object for an error reply). */
  call(...argv: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('connection closed'));
        return;
      }
      if (this.replyTimeoutMs > 0) {
        const timer = setTimeout(() => this.sock.destroy(), this.replyTimeoutMs);
        this.pending.push({
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
      } else this.pending.push({ resolve, reject });
      let s = `*${argv.length}\r\n`;
      for (const a of argv) s += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
      this.sock.write(Buffer.from(s, 'latin1'));
    });
  }

  /** Sends `count` commands already encoded in `payload` at once and waits for all replies. */
  async pipeline(payload: string, count: number): Promise<void> {
    if (this.closed) throw new Error('connection closed');
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) all.push(new Promise((resolve, reject) => this.pending.push({ resolve, reject })));
    this.sock.write(payload);
    await Promise.all(all);
  }

  /** One field of INFO `section` ('' when absent). */
  async infoField(section: string, field: string): Promise<string> {
    const txt = await this.call('INFO', section);
    const m = typeof txt === 'string' ? new RegExp(`^${field}:(.*)$`, 'm').exec(txt) : null;
    return m ? m[1]!.trim() : '';
  }

  close(): void {
    this.sock.destroy();
  }
}

export async function call(port: number, ...argv: string[]): Promise<unknown> {
  const c = await Resp.open(port);
  try {
    return await c.call(...argv);
  } finally {
    c.close();
  }
}

/**
 * Writes `SET <prefix>:<i> <i>` back to back on one connection to `port` (optionally followed
 * by `WAIT n ms`), and records the writes the server acknowledged (+OK, and enough replicas
 * when WAIT is used). Errors (-READONLY after a failover, -NOREPLICAS...) and dropped
 * connections are counted, not thrown; a dropped connection is reopened.
 */
export class Writer {
  readonly acked = new Map<string, string>();
  readonly errors = new Map<string, number>();
  attempts = 0;
  private running = true;
  private done: Promise<void>;

  constructor(
    private port: number,
    private readonly prefix: string,
    private readonly opts: { wait?: { replicas: number; ms: number }; pauseMs?: number } = {},
  ) {
    this.done = this.loop();
  }

  /** Sends the next writes to another node (e.g. the new master). */
  retarget(port: number): void {
    this.port = port;
  }

  private async loop(): Promise<void> {
    let conn: Resp | null = null;
    let connPort = -1;
    for (let i = 0; this.running; i++) {
      const key = `${this.prefix}:${i}`;
      const val = String(i);
      try {
        if (conn === null || conn.closed || connPort !== this.port) {
          conn?.close();
          connPort = this.port;
          conn = await Resp.open(connPort);
        }
        this.attempts++;
        const r = await conn.call('SET', key, val);
        if (r instanceof Error) {
          this.countError(r.message);
        } else if (this.opts.wait) {
          const n = await conn.call('WAIT', String(this.opts.wait.replicas), String(this.opts.wait.ms));
          if (typeof n === 'number' && n >= this.opts.wait.replicas) this.acked.set(key, val);
          else this.countError(n instanceof Error ? n.message : 'WAIT short');
        } else {
          this.acked.set(key, val);
        }
      } catch (e) {
        this.countError((e as Error).message);
        conn = null;
        await new Promise((r) => setTimeout(r, 20));
      }
      // A short breath between writes keeps two cores usable by the servers under test.
      await new Promise((r) => setTimeout(r, this.opts.pauseMs ?? 2));
    }
    conn?.close();
  }

  private countError(msg: string): void {
    const kind = msg.split(' ')[0]!;
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Acknowledged writes missing (or different) on `port`. */
  async missingOn(port: number): Promise<string[]> {
    const conn = await Resp.open(port);
    const missing: string[] = [];
    try {
      for (const [k, v] of this.acked) {
        const got = await conn.call('GET', k);
        if (got !== v) missing.push(k);
      }
    } finally {
      conn.close();
    }
    return missing;
  }
}
