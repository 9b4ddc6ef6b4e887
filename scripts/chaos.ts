/**
 * `npm run chaos -- --seed N --cycles M [--quiet]`: a randomized, reproducible fault run.
 *
 * Topology: a master and three replicas — two attached to the master, one chained under the
 * first replica. Every replication link goes through a FaultProxy so faults can be injected
 * per link. Two writers run during each cycle: one that follows each write with `WAIT 1 <ms>`
 * and records the writes acknowledged by at least one replica, and one that writes without
 * WAIT. Each cycle injects one random fault (chosen by the seeded generator), heals it, stops
 * the writers and checks the invariants:
 *   1. every write acknowledged by WAIT is present on the current master;
 *   2. all nodes converge to the same DEBUG DIGEST;
 *   3. no node process crashed (every exit was one we caused);
 *   4. every node's RSS stays under a bound.
 * Faults: cut a link, stall a link, delay a link, throttle a link, kill -9 and restart a
 * replica, SIGSTOP/SIGCONT a replica, promote a replica (REPLICAOF NO ONE) and re-point the
 * others to it, kill -9 the master and promote the most advanced replica.
 *
 * Prints one line per cycle and a final `CHAOS {json}` summary; exits 1 on any violation.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { startMirra, type ServerHandle } from '../test/helpers/servers.js';
import { FaultProxy } from '../test/helpers/fault-proxy.js';
import { waitFor, sleep } from '../test/helpers/wait.js';

const args = process.argv.slice(2);
const num = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SEED = num('seed', 1);
const CYCLES = num('cycles', 10);
const QUIET = args.includes('--quiet');
const RSS_LIMIT_MB = num('rss-limit-mb', 1024);

/** mulberry32: small, fast, seedable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** Minimal RESP client: one command at a time, replies parsed enough for our needs. */
class Conn {
  private buf = Buffer.alloc(0);
  private waiters: ((v: unknown) => void)[] = [];
  private errs: ((e: Error) => void)[] = [];
  private constructor(private sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.drain();
    });
    const fail = () => {
      const e = new Error('connection closed');
      for (const f of this.errs.splice(0)) f(e);
      this.waiters = [];
    };
    sock.on('close', fail);
    sock.on('error', () => {});
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  private parse(pos: number): [unknown, number] | null {
    const nl = this.buf.indexOf('\r\n', pos);
    if (nl < 0) return null;
    const t = String.fromCharCode(this.buf[pos]!);
    const line = this.buf.toString('latin1', pos + 1, nl);
    if (t === '+' || t === ':') return [t === ':' ? Number(line) : line, nl + 2];
    if (t === '-') return [new Error(line), nl + 2];
    if (t === '$') {
      const n = Number(line);
      if (n < 0) return [null, nl + 2];
      if (this.buf.length < nl + 2 + n + 2) return null;
      return [this.buf.toString('latin1', nl + 2, nl + 2 + n), nl + 4 + n];
    }
    if (t === '*') {
      const n = Number(line);
      if (n < 0) return [null, nl + 2];
      const out: unknown[] = [];
      let p = nl + 2;
      for (let i = 0; i < n; i++) {
        const r = this.parse(p);
        if (!r) return null;
        out.push(r[0]);
        p = r[1];
      }
      return [out, p];
    }
    throw new Error(`unexpected reply type ${t}`);
  }
  private drain(): void {
    while (this.waiters.length) {
      const r = this.parse(0);
      if (!r) return;
      this.buf = this.buf.subarray(r[1]);
      this.errs.shift();
      this.waiters.shift()!(r[0]);
    }
  }
  cmd(...a: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiters.push(resolve);
      this.errs.push(reject);
      this.sock.write(`*${a.length}\r\n` + a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join(''));
    });
  }
  close(): void {
    this.sock.destroy();
  }
}

async function cmd(port: number, ...a: string[]): Promise<unknown> {
  const c = await Conn.open(port);
  try {
    return await c.cmd(...a);
  } finally {
    c.close();
  }
}

interface Node {
  name: string;
  srv: ServerHandle;
  /** The proxy in front of this node's upstream link (null for the master). */
  proxy: FaultProxy | null;
  upstream: Node | null;
  expectedExit: boolean;
}

const stats = { cycles: 0, faults: {} as Record<string, number>, ackedWrites: 0, ackedChecked: 0, lostWrites: 0, crashes: 0, unackedWrites: 0, maxRssMb: 0 };
const violations: string[] = [];

function log(msg: string): void {
  if (!QUIET) console.log(msg);
}

function rssMb(pid: number): number {
  const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  return (Number(r.stdout.trim()) || 0) / 1024;
}

async function info(port: number, field: string): Promise<string> {
  const txt = String(await cmd(port, 'INFO', 'replication'));
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(txt);
  return m ? m[1]!.trim() : '';
}

const nodes: Node[] = [];
let master: Node;

async function startNode(name: string, dir?: string, port?: number): Promise<ServerHandle> {
  return startMirra({ dir, port, args: ['--repl-diskless-sync-delay', '0', '--repl-timeout', '5', '--repl-ping-replica-period', '1'] });
}

async function attach(node: Node, upstream: Node): Promise<void> {
  if (node.proxy) await node.proxy.close();
  node.proxy = await FaultProxy.start(upstream.srv.port);
  node.upstream = upstream;
  await cmd(node.srv.port, 'REPLICAOF', '127.0.0.1', String(node.proxy.port));
}

function watchExit(node: Node): void {
  void node.srv.exited.then((code) => {
    if (!node.expectedExit) {
      stats.crashes++;
      violations.push(`${node.name} exited unexpectedly (code ${code}):\n${node.srv.log().slice(-2000)}`);
    }
  });
}

async function setup(): Promise<void> {
  for (const name of ['n0', 'n1', 'n2', 'n3']) {
    const srv = await startNode(name);
    const node: Node = { name, srv, proxy: null, upstream: null, expectedExit: false };
    watchExit(node);
    nodes.push(node);
  }
  master = nodes[0]!;
  await attach(nodes[1]!, master);
  await attach(nodes[2]!, master);
  await attach(nodes[3]!, nodes[1]!);
  await waitLinksUp();
}

async function waitLinksUp(timeout = 60000): Promise<void> {
  for (const n of nodes) {
    if (n === master) continue;
    await waitFor(async () => (await info(n.srv.port, 'master_link_status').catch(() => '')) === 'up', `${n.name} link up`, timeout, 50);
  }
}

/** Writers for one cycle. Returns a stop function resolving to the acked keys. */
function startWriters(cycle: number): () => Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  let running = true;
  const withWait = (async () => {
    let i = 0;
    while (running) {
      const key = `acked:${cycle}:${i}`;
      const val = `v${i}`;
      try {
        const c = await Conn.open(master.srv.port);
        try {
          await c.cmd('SET', key, val);
          const n = (await c.cmd('WAIT', '1', '200')) as number;
          if (typeof n === 'number' && n >= 1) acked.set(key, val);
        } finally {
          c.close();
        }
      } catch {
        // The master may be down during a fault: the write simply isn't acknowledged.
      }
      i++;
      await sleep(5);
    }
  })();
  const noWait = (async () => {
    let i = 0;
    while (running) {
      try {
        await cmd(master.srv.port, 'SET', `free:${cycle}:${i % 200}`, String(i));
        stats.unackedWrites++;
      } catch {
        // master down
      }
      i++;
      await sleep(2);
    }
  })();
  return async () => {
    running = false;
    await Promise.all([withWait, noWait]);
    return acked;
  };
}

function replicas(): Node[] {
  return nodes.filter((n) => n !== master);
}

async function restart(node: Node): Promise<void> {
  node.expectedExit = true;
  node.srv.kill('SIGKILL');
  await node.srv.exited;
  const srv = await startNode(node.name, node.srv.dir, node.srv.port);
  node.srv = srv;
  node.expectedExit = false;
  watchExit(node);
}

async function promote(newMaster: Node): Promise<void> {
  await cmd(newMaster.srv.port, 'REPLICAOF', 'NO', 'ONE');
  if (newMaster.proxy) await newMaster.proxy.close();
  newMaster.proxy = null;
  newMaster.upstream = null;
  const old = master;
  master = newMaster;
  for (const n of nodes) {
    if (n === master) continue;
    if (n.upstream === newMaster) continue;
    if (n === old || n.upstream === old || n.upstream === null) await attach(n, master);
  }
}

const FAULTS = ['cut', 'stall', 'delay', 'throttle', 'kill-replica', 'stop-replica', 'promote', 'kill-master'] as const;
type Fault = (typeof FAULTS)[number];

async function inject(fault: Fault): Promise<void> {
  const linked = replicas().filter((n) => n.proxy);
  const victim = pick(linked.length ? linked : replicas());
  switch (fault) {
    case 'cut':
      victim.proxy?.cut();
      await sleep(200 + rand() * 500);
      break;
    case 'stall':
      victim.proxy?.stall('both', true);
      await sleep(300 + rand() * 1500);
      victim.proxy?.stall('both', false);
      break;
    case 'delay':
      victim.proxy?.delay('down', 50 + Math.floor(rand() * 200));
      await sleep(500 + rand() * 1000);
      victim.proxy?.delay('down', 0);
      break;
    case 'throttle':
      victim.proxy?.throttle('down', 20000 + Math.floor(rand() * 100000));
      await sleep(500 + rand() * 1000);
      victim.proxy?.throttle('down', 0);
      break;
    case 'kill-replica':
      await sleep(rand() * 300);
      await restart(victim);
      if (victim.upstream) await attach(victim, victim.upstream);
      break;
    case 'stop-replica':
      victim.srv.kill('SIGSTOP');
      await sleep(300 + rand() * 1500);
      victim.srv.kill('SIGCONT');
      break;
    case 'promote': {
      const direct = replicas().filter((n) => n.upstream === master);
      await promote(pick(direct));
      // The old master becomes a replica of the new one.
      const old = nodes.find((n) => n !== master && n.upstream === null);
      if (old) await attach(old, master);
      break;
    }
    case 'kill-master': {
      const old = master;
      old.expectedExit = true;
      old.srv.kill('SIGKILL');
      await old.srv.exited;
      // Promote the direct replica with the highest processed offset (it holds every WAIT-acked write).
      const direct = replicas().filter((n) => n.upstream === old);
      let best = direct[0]!;
      let bestOff = -1;
      for (const n of direct) {
        const off = Number(await info(n.srv.port, 'slave_repl_offset').catch(() => '-1'));
        if (off > bestOff) {
          bestOff = off;
          best = n;
        }
      }
      await promote(best);
      old.srv = await startNode(old.name, old.srv.dir, old.srv.port);
      old.expectedExit = false;
      watchExit(old);
      await attach(old, master);
      break;
    }
  }
}

async function checkCycle(cycle: number, acked: Map<string, string>): Promise<void> {
  for (const n of nodes) n.proxy?.heal();
  await waitLinksUp(90000);
  // Converge: every node reports the same digest.
  let digests: string[] = [];
  try {
    await waitFor(
      async () => {
        digests = await Promise.all(nodes.map(async (n) => String(await cmd(n.srv.port, 'DEBUG', 'DIGEST'))));
        return digests.every((d) => d === digests[0]);
      },
      'all digests equal',
      60000,
      100,
    );
  } catch {
    violations.push(`cycle ${cycle}: nodes did not converge: ${nodes.map((n, i) => `${n.name}=${digests[i]}`).join(' ')}`);
  }
  for (const [k, v] of acked) {
    stats.ackedChecked++;
    const got = await cmd(master.srv.port, 'GET', k);
    if (got !== v) {
      stats.lostWrites++;
      violations.push(`cycle ${cycle}: acknowledged write ${k}=${v} missing on master ${master.name} (got ${String(got)})`);
    }
  }
  for (const n of nodes) {
    const mb = rssMb(n.srv.pid);
    stats.maxRssMb = Math.max(stats.maxRssMb, mb);
    if (mb > RSS_LIMIT_MB) violations.push(`cycle ${cycle}: ${n.name} RSS ${mb.toFixed(0)} MB over ${RSS_LIMIT_MB} MB`);
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  await setup();
  try {
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const fault = pick(FAULTS);
      stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
      const stop = startWriters(cycle);
      await sleep(200 + rand() * 300);
      await inject(fault);
      await sleep(200);
      const acked = await stop();
      stats.ackedWrites += acked.size;
      await checkCycle(cycle, acked);
      stats.cycles++;
      log(`cycle ${cycle}/${CYCLES} fault=${fault} master=${master.name} acked=${acked.size} violations=${violations.length}`);
      if (violations.length) break;
    }
  } finally {
    for (const n of nodes) {
      n.expectedExit = true;
      await n.proxy?.close();
      await n.srv.stop();
    }
  }
  const summary = { seed: SEED, ...stats, seconds: Math.round((Date.now() - t0) / 1000), violations: violations.length };
  console.log(`CHAOS ${JSON.stringify(summary)}`);
  for (const v of violations) console.error(v);
  process.exit(violations.length ? 1 : 0);
}

await main();
