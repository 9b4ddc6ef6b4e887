/**
 * `npm run chaos -- --seed N --cycles M [--quiet] [--rss-limit-mb N]`: a randomized,
 * reproducible fault run.
 *
 * Topology: a master and three replicas — two attached to the master, one chained under the
 * first replica. Every replication link the runner sets up goes through a FaultProxy so faults
 * can be injected per link. Two writers run during each cycle: one that follows each write with
 * `WAIT 1 <ms>` and records the writes acknowledged by at least one replica, and one that writes
 * without WAIT. Each cycle injects one random fault (chosen by the seeded generator), heals it,
 * stops the writers and checks the invariants:
 *   1. every write acknowledged by WAIT is present on the current master;
 *   2. all nodes converge to the same DEBUG DIGEST;
 *   3. no node process crashed (every exit was one we caused);
 *   4. every node's RSS stays under a bound.
 * Faults: cut a link, stall a link, delay a link, throttle a link, kill -9 and restart a
 * replica, SIGSTOP/SIGCONT a replica, a planned promotion (writes paused on the master until
 * the chosen replica caught up, REPLICAOF NO ONE, the others re-pointed to it), a coordinated
 * FAILOVER to a replica, kill -9 the master and promote the most advanced direct replica.
 *
 * Promotions are the planned kind on purpose: promoting a replica that lags behind the master
 * (REPLICAOF NO ONE while writes flow) loses writes another replica acknowledged — that is the
 * documented semantics of WAIT, not a fault of the server, and it would drown real findings.
 *
 * Prints one line per cycle and a final `CHAOS {json}` summary; exits 1 on any violation
 * (including an error of the runner itself, reported as such).
 */
import { spawnSync } from 'node:child_process';
import { startMirra, type ServerHandle } from '../test/helpers/servers.js';
import { FaultProxy } from '../test/helpers/fault-proxy.js';
import { waitFor, sleep } from '../test/helpers/wait.js';
import { seededRandom } from '../src/util/seeded-random.js';
import { Resp } from '../test/replication/resilience-helpers.js';

const args = process.argv.slice(2);
const num = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SEED = num('seed', 1);
const CYCLES = num('cycles', 10);
const QUIET = args.includes('--quiet');
const RSS_LIMIT_MB = num('rss-limit-mb', 1024);

const rand = seededRandom(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** Chaos connections give up on a command after 15 s (a stopped node must not hang the run). */
const openConn = (port: number): Promise<Resp> => Resp.open(port, { replyTimeoutMs: 15000 });

/** One command on a fresh connection; error replies are thrown. */
async function cmd(port: number, ...a: string[]): Promise<unknown> {
  const c = await openConn(port);
  try {
    const r = await c.call(...a);
    if (r instanceof Error) throw new Error(`:${port} ${a.join(' ')} -> ${r.message}`);
    return r;
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
  /** Killed and not restarted yet. */
  down: boolean;
  /** sync_full / sync_partial_ok last read (reset when the process restarts). */
  seen: { full: number; partial: number };
}

const stats = {
  cycles: 0,
  faults: {} as Record<string, number>,
  ackedWrites: 0,
  ackedChecked: 0,
  lostWrites: 0,
  unackedWrites: 0,
  crashes: 0,
  resyncs: { full: 0, partial: 0 },
  failoversAborted: 0,
  maxRssMb: 0,
};
const violations: string[] = [];

function log(msg: string): void {
  if (!QUIET) console.log(msg);
}

function rssMb(pid: number): number {
  const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  return (Number(r.stdout.trim()) || 0) / 1024;
}

async function infoField(port: number, section: string, field: string): Promise<string> {
  const txt = String(await cmd(port, 'INFO', section));
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(txt);
  return m ? m[1]!.trim() : '';
}

const info = (port: number, field: string): Promise<string> => infoField(port, 'replication', field);

const nodes: Node[] = [];
let master: Node;

async function startNode(dir?: string, port?: number): Promise<ServerHandle> {
  return startMirra({ dir, port, args: ['--repl-diskless-sync-delay', '0', '--repl-timeout', '5', '--repl-ping-replica-period', '1'] });
}

async function attach(node: Node, upstream: Node): Promise<void> {
  if (node.proxy) await node.proxy.close();
  node.proxy = await FaultProxy.start(upstream.srv.port);
  node.upstream = upstream;
  await cmd(node.srv.port, 'REPLICAOF', '127.0.0.1', String(node.proxy.port));
}

function watchExit(node: Node): void {
  const srv = node.srv;
  void srv.exited.then((code) => {
    if (!node.expectedExit && node.srv === srv) {
      stats.crashes++;
      violations.push(`${node.name} exited unexpectedly (code ${code}):\n${srv.log().slice(-2000)}`);
    }
  });
}

async function setup(): Promise<void> {
  for (const name of ['n0', 'n1', 'n2', 'n3']) {
    const srv = await startNode();
    const node: Node = { name, srv, proxy: null, upstream: null, expectedExit: false, down: false, seen: { full: 0, partial: 0 } };
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

/** Writers for one cycle, on persistent connections to the current master. Returns a stop function resolving to the acked keys. */
function startWriters(cycle: number): () => Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  let running = true;
  /** Keeps one connection to whichever node is the master now. */
  const connector = () => {
    let conn: Resp | null = null;
    let port = -1;
    return async (): Promise<Resp> => {
      if (conn === null || conn.closed || port !== master.srv.port) {
        conn?.close();
        port = master.srv.port;
        conn = await openConn(port);
      }
      return conn;
    };
  };
  const withWait = (async () => {
    const get = connector();
    for (let i = 0; running; i++) {
      const key = `acked:${cycle}:${i}`;
      const val = `v${i}`;
      try {
        const c = await get();
        if ((await c.call('SET', key, val)) === 'OK') {
          // WAIT counts from this connection's last write: same connection.
          const n = await c.call('WAIT', '1', '200');
          if (typeof n === 'number' && n >= 1) acked.set(key, val);
        }
      } catch {
        // The master may be down or changing during a fault: the write simply isn't acknowledged.
        await sleep(20);
      }
      await sleep(5);
    }
  })();
  const noWait = (async () => {
    const get = connector();
    for (let i = 0; running; i++) {
      try {
        const c = await get();
        if ((await c.call('SET', `free:${cycle}:${i % 200}`, String(i))) === 'OK') stats.unackedWrites++;
      } catch {
        await sleep(20);
      }
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
  node.srv = await startNode(node.srv.dir, node.srv.port);
  // startMirra may return while the dataset still loads: the reused log file already holds the
  // previous process's "Ready to accept connections". Commands get -LOADING until it is done.
  await waitFor(async () => (await cmd(node.srv.port, 'PING').catch(() => '')) === 'PONG', `${node.name} to finish loading`, 30000, 20);
  node.expectedExit = false;
  node.down = false;
  node.seen = { full: 0, partial: 0 };
  watchExit(node);
}

/** REPLICAOF NO ONE on `newMaster`; the old master's direct replicas (alive) are re-pointed to it. */
async function promote(newMaster: Node): Promise<void> {
  await cmd(newMaster.srv.port, 'REPLICAOF', 'NO', 'ONE');
  if (newMaster.proxy) await newMaster.proxy.close();
  newMaster.proxy = null;
  newMaster.upstream = null;
  const old = master;
  master = newMaster;
  for (const n of nodes) {
    if (n === master || n.down) continue;
    if (n.upstream === newMaster) continue;
    if (n === old || n.upstream === old || n.upstream === null) await attach(n, master);
  }
}

/**
 * A planned promotion: writes paused on the master, the target waits until it processed the
 * master's whole stream, then it is promoted and the others re-pointed.
 */
async function plannedPromotion(target: Node): Promise<void> {
  const old = master;
  await cmd(old.srv.port, 'CLIENT', 'PAUSE', '20000', 'WRITE');
  try {
    const off = Number(await info(old.srv.port, 'master_repl_offset'));
    await waitFor(async () => Number(await info(target.srv.port, 'slave_repl_offset')) >= off, `${target.name} to catch up before promotion`, 15000, 20);
    await promote(target);
  } finally {
    // The old master is a replica now: its paused writers get -READONLY.
    await cmd(old.srv.port, 'CLIENT', 'UNPAUSE').catch(() => undefined);
  }
}

/** FAILOVER TO target on the master; on success the old master is re-attached through a proxy. */
async function coordinatedFailover(target: Node): Promise<void> {
  const old = master;
  await cmd(old.srv.port, 'FAILOVER', 'TO', '127.0.0.1', String(target.srv.port), 'TIMEOUT', '5000');
  await waitFor(async () => (await info(old.srv.port, 'master_failover_state')) === 'no-failover', 'the failover to end', 20000, 20);
  if ((await info(target.srv.port, 'role')) !== 'master') {
    stats.failoversAborted++;
    log(`  failover to ${target.name} aborted (${old.name} stays master)`);
    return;
  }
  master = target;
  await target.proxy?.close();
  target.proxy = null;
  target.upstream = null;
  // The old master replicates from the target directly: put a proxy back in between.
  await attach(old, target);
}

const FAULTS = [
  'cut',
  'outage',
  'stall',
  'delay',
  'throttle',
  'kill-replica',
  'stop-replica',
  'repoint',
  'promote',
  'failover',
  'kill-master',
] as const;
type Fault = (typeof FAULTS)[number];

/** The nodes replicating (directly or through others) from `n`. */
function subtree(n: Node): Set<Node> {
  const out = new Set<Node>();
  for (const x of nodes) {
    for (let u = x.upstream; u !== null; u = u.upstream) {
      if (u === n) {
        out.add(x);
        break;
      }
      if (u === x) break;
    }
  }
  return out;
}

/** Writes about `bytes` of large values to the master (past the 1 MB backlog when > 1 MB). */
async function burst(bytes: number): Promise<void> {
  const c = await openConn(master.srv.port);
  try {
    const value = 'z'.repeat(8192);
    for (let n = 0, i = 0; n < bytes; n += value.length, i++) await c.call('SET', `burst:${i % 300}`, value);
  } finally {
    c.close();
  }
}

async function inject(fault: Fault): Promise<void> {
  const linked = replicas().filter((n) => n.proxy);
  const victim = pick(linked.length ? linked : replicas());
  switch (fault) {
    case 'cut':
      victim.proxy?.cut();
      await sleep(200 + rand() * 500);
      break;
    case 'outage':
      // The link is down and stays down (reconnections refused); sometimes more than the
      // backlog is written meanwhile, so that the replica must resync fully under load.
      victim.proxy?.refuse(true);
      victim.proxy?.cut();
      if (rand() < 0.5) await burst(1_500_000 + Math.floor(rand() * 1_500_000));
      await sleep(300 + rand() * 1000);
      victim.proxy?.refuse(false);
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
    case 'repoint': {
      // REPLICAOF another node (a replica switching masters keeps its history: partial resync).
      const r = pick(replicas());
      const below = subtree(r);
      const targets = nodes.filter((n) => n !== r && n !== r.upstream && !below.has(n));
      if (targets.length > 0) await attach(r, pick(targets));
      break;
    }
    case 'promote':
      await plannedPromotion(pick(replicas().filter((n) => n.upstream === master)));
      break;
    case 'failover':
      await coordinatedFailover(pick(replicas().filter((n) => n.upstream === master)));
      break;
    case 'kill-master': {
      const old = master;
      old.expectedExit = true;
      old.down = true;
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
      await restart(old);
      await attach(old, master);
      break;
    }
  }
}

/** Adds the resyncs each node served since the last look (a restarted node starts from zero). */
async function countResyncs(): Promise<void> {
  for (const n of nodes) {
    const full = Number(await infoField(n.srv.port, 'stats', 'sync_full'));
    const partial = Number(await infoField(n.srv.port, 'stats', 'sync_partial_ok'));
    stats.resyncs.full += Math.max(0, full - n.seen.full);
    stats.resyncs.partial += Math.max(0, partial - n.seen.partial);
    n.seen = { full, partial };
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
  const c = await openConn(master.srv.port);
  try {
    for (const [k, v] of acked) {
      stats.ackedChecked++;
      const got = await c.call('GET', k);
      if (got !== v) {
        stats.lostWrites++;
        violations.push(`cycle ${cycle}: acknowledged write ${k}=${v} missing on master ${master.name} (got ${String(got)})`);
      }
    }
  } finally {
    c.close();
  }
  await countResyncs();
  for (const n of nodes) {
    const mb = rssMb(n.srv.pid);
    stats.maxRssMb = Math.max(stats.maxRssMb, Math.round(mb));
    if (mb > RSS_LIMIT_MB) violations.push(`cycle ${cycle}: ${n.name} RSS ${mb.toFixed(0)} MB over ${RSS_LIMIT_MB} MB`);
  }
}

function topology(): string {
  return nodes
    .filter((n) => n !== master)
    .map((n) => `${n.name}<${n.upstream?.name ?? '?'}`)
    .join(',');
}

async function main(): Promise<void> {
  const t0 = Date.now();
  let runnerError: Error | null = null;
  try {
    await setup();
    await countResyncs();
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const fault = pick(FAULTS);
      stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
      const stop = startWriters(cycle);
      try {
        await sleep(200 + rand() * 300);
        await inject(fault);
        await sleep(200);
      } catch (e) {
        // Recorded before the checks run, so a check failing afterwards cannot hide it.
        violations.push(`cycle ${cycle}: injecting ${fault} failed: ${(e as Error).stack ?? String(e)}`);
      }
      const acked = await stop();
      stats.ackedWrites += acked.size;
      await checkCycle(cycle, acked);
      stats.cycles++;
      log(`cycle ${cycle}/${CYCLES} fault=${fault} master=${master.name} ${topology()} acked=${acked.size} violations=${violations.length}`);
      if (violations.length) break;
    }
  } catch (e) {
    runnerError = e as Error;
    violations.push(`runner error: ${runnerError.stack ?? runnerError.message}`);
  } finally {
    if (violations.length > 0) {
      // What each node was doing, for the report.
      for (const n of nodes) {
        const role = await info(n.srv.port, 'role').catch(() => 'unreachable');
        const link = await info(n.srv.port, 'master_link_status').catch(() => '');
        violations.push(`--- ${n.name} (:${n.srv.port}, ${role} ${link}, upstream ${n.upstream?.name ?? '-'}) log tail:\n${n.srv.log().split('\n').slice(-40).join('\n')}`);
      }
    }
    for (const n of nodes) {
      n.expectedExit = true;
      n.srv.kill('SIGCONT');
      await n.proxy?.close();
      await n.srv.stop();
    }
  }
  const summary = { seed: SEED, ...stats, seconds: Math.round((Date.now() - t0) / 1000), violations: violations.length };
  console.log(`CHAOS ${JSON.stringify(summary)}`);
  for (const v of violations) console.error(v);
  process.exit(violations.length ? 1 : 0);
}

// Interrupted (Ctrl-C, a test timeout): exit through process.exit so that the servers we
// started are killed by the helpers' exit hook.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

await main();
