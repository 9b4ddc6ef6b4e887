/**
 * Measures what a BGSAVE costs the clients of a server with a large dataset: the largest PING
 * round trip while the background save runs, and the extra memory (peak RSS during the save
 * minus RSS before it).
 *
 *   node dist/scripts/bgsave-latency.js [--keys 1000000] [--size 0] [--redis] [--port N]
 *   MIRRA_NODE_ARGS='--trace-gc' node dist/scripts/bgsave-latency.js   (node flags for Mirra)
 *
 * Starts a fresh Mirra (or, with --redis, a real redis-server for comparison) in a temp dir,
 * fills it with DEBUG POPULATE, then BGSAVEs while one client PINGs back to back.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../src/cli/node-flags.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
};
const KEYS = Number(opt('keys', '1000000'));
const SIZE = Number(opt('size', '0'));
const USE_REDIS = args.includes('--redis');
const here = path.dirname(fileURLToPath(import.meta.url));
const MIRRA = path.resolve(here, '../src/cli/mirra-server.js');

/** A minimal RESP client: one request at a time. */
class Conn {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      const w = this.waiter;
      this.waiter = null;
      w?.();
    });
  }
  static open(port: number): Promise<Conn> {
    return new Promise((res, rej) => {
      const s = net.connect(port, '127.0.0.1', () => res(new Conn(s)));
      s.setNoDelay(true);
      s.once('error', rej);
    });
  }
  private parse(): { v: string; end: number } | null {
    const b = this.buf;
    const nl = b.indexOf('\r\n');
    if (nl < 0) return null;
    const line = b.latin1Slice(1, nl);
    if (b[0] === 0x24) {
      const n = Number(line);
      if (n < 0) return { v: '', end: nl + 2 };
      if (b.length < nl + 2 + n + 2) return null;
      return { v: b.latin1Slice(nl + 2, nl + 2 + n), end: nl + 4 + n };
    }
    if (b[0] === 0x2d) throw new Error(line);
    return { v: line, end: nl + 2 };
  }
  async cmd(...argv: string[]): Promise<string> {
    let req = `*${argv.length}\r\n`;
    for (const a of argv) req += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    this.sock.write(req);
    for (;;) {
      const r = this.parse();
      if (r !== null) {
        this.buf = this.buf.subarray(r.end);
        return r.v;
      }
      await new Promise<void>((res) => (this.waiter = res));
    }
  }
  close(): void {
    this.sock.destroy();
  }
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function infoField(info: string, name: string): string {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(info);
  return m ? m[1]!.trim() : '';
}

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => res(p));
    });
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bgsave-latency-'));
  const port = Number(opt('port', String(await freePort())));
  const common = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--enable-debug-command', 'yes', '--logfile', path.join(dir, 'server.log')];
  const proc = USE_REDIS ? spawn('redis-server', common, { stdio: 'ignore' }) : spawn(process.execPath, [...(process.env.MIRRA_NODE_ARGS ?? SERVER_NODE_FLAGS.join(' ')).split(' ').filter(Boolean), MIRRA, ...common], {
        stdio: ['ignore', process.env.MIRRA_NODE_ARGS ? 'inherit' : 'ignore', 'ignore'],
      });
  const pid = proc.pid!;
  try {
    let c: Conn | null = null;
    for (let i = 0; i < 200 && c === null; i++) {
      try {
        c = await Conn.open(port);
        await c.cmd('PING');
      } catch {
        c = null;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (c === null) throw new Error('server did not start');
    const t0 = Date.now();
    await c.cmd('DEBUG', 'POPULATE', String(KEYS), 'key', ...(SIZE > 0 ? [String(SIZE)] : []));
    const populateMs = Date.now() - t0;
    // Let the server settle: idle PINGs (their small garbage also flushes what DEBUG POPULATE
    // left in the young generation, so the first BGSAVE does not pay for it).
    await new Promise((r) => setTimeout(r, 500));
    let idleMax = 0;
    for (let i = 0; i < 20000; i++) {
      const t = performance.now();
      await c.cmd('PING');
      idleMax = Math.max(idleMax, performance.now() - t);
    }
    const pinger = await Conn.open(port);
    const info = await Conn.open(port);
    const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
    console.log(`server: ${USE_REDIS ? 'redis-server' : 'mirra'}  keys: ${KEYS}${SIZE ? ` (values ${SIZE} B)` : ''}  (DEBUG POPULATE ${populateMs} ms; idle PING max ${idleMax.toFixed(2)} ms over 20000)`);
    for (let run = 1; run <= 2; run++) {
      const rssBefore = rssBytes(pid);
      const rtts: number[] = [];
      let peakRss = rssBefore;
      const start = performance.now();
      const reply = await c.cmd('BGSAVE');
      let running = true;
      const poll = (async () => {
        while (running) {
          peakRss = Math.max(peakRss, rssBytes(pid));
          const txt = await info.cmd('INFO', 'persistence');
          if (infoField(txt, 'rdb_bgsave_in_progress') === '0') running = false;
          else await new Promise((r) => setTimeout(r, 20));
        }
      })();
      while (running) {
        const t = performance.now();
        await pinger.cmd('PING');
        rtts.push(performance.now() - t);
      }
      await poll;
      const totalMs = performance.now() - start;
      const status = infoField(await info.cmd('INFO', 'persistence'), 'rdb_last_bgsave_status');
      rtts.sort((a, b) => a - b);
      const pct = (p: number): number => rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * p))] ?? 0;
      const size = fs.existsSync(path.join(dir, 'dump.rdb')) ? fs.statSync(path.join(dir, 'dump.rdb')).size : 0;
      console.log(`BGSAVE #${run}: ${reply}; done in ${totalMs.toFixed(0)} ms, status ${status}, dump.rdb ${mb(size)} MB`);
      console.log(`  PING while saving: ${rtts.length} pings, max ${pct(1).toFixed(2)} ms, p99.9 ${pct(0.999).toFixed(2)} ms, p99 ${pct(0.99).toFixed(2)} ms, median ${pct(0.5).toFixed(3)} ms`);
      console.log(`  memory: RSS before ${mb(rssBefore)} MB, peak during BGSAVE ${mb(peakRss)} MB, extra ${mb(peakRss - rssBefore)} MB${USE_REDIS ? ' (parent only; the forked child is not counted)' : ''}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    pinger.close();
    info.close();
    c.close();
  } finally {
    process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
