/**
 * `npm run bench`: Mirra side by side with the real redis-server 7.0 on this machine.
 *
 * Every measurement interleaves the two servers over several rounds (the order alternates each
 * round, so drift in the machine's load hits both alike) and reports medians and per-round
 * paired ratios (Mirra / Redis): absolute numbers on a small, shared machine mean little.
 * Throughput runs also record the CPU time each server process spent per request (from
 * /proc/<pid>/stat), which stays meaningful when other processes compete for the cores.
 *
 * Parts: throughput (redis-benchmark -c 50 at -P 1 and -P 16), memory per key, full sync,
 * partial resync, replication lag. Each part prints a table and a machine-readable line
 * `BENCH <part> <json>`. The run is written into docs/benchmarks.md between the markers
 * `<!-- bench:begin -->` and `<!-- bench:end -->`; the rest of that file (the optimisation log)
 * is kept as it is.
 *
 * Options: --rounds N (default 3), --quick (smaller sizes), --parts a,b,c
 *          (throughput,memory,fullsync,psync,lag), --tests set,get (throughput subset),
 *          --no-write (don't touch docs/benchmarks.md),
 *          --compare <path/to/mirra-server.js>: use another Mirra build as the reference
 *          instead of Redis (before/after measurements of an optimisation),
 *          --mirra <path/to/mirra-server.js>: the build under test (default: this tree's dist).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MIRRA_BIN, SERVER_NODE_FLAGS, tempDir, canConnect } from '../test/helpers/servers.js';
import { Resp } from '../test/replication/resilience-helpers.js';
import { freePort } from '../test/helpers/ports.js';
import { waitFor, sleep } from '../test/helpers/wait.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : def;
};
const flag = (name: string): boolean => argv.includes(`--${name}`);
const ROUNDS = Math.max(1, Number(opt('rounds', '3')));
const QUICK = flag('quick');
const PARTS = opt('parts', 'throughput,memory,fullsync,psync,lag').split(',');
const COMPARE = opt('compare', '');
const MIRRA = opt('mirra', MIRRA_BIN);
/** Extra node options for the measured Mirra and for the --compare build (e.g. GC settings). */
const MIRRA_NODE_FLAGS = opt('mirra-node-flags', SERVER_NODE_FLAGS.join(' ')).split(' ').filter(Boolean);
const COMPARE_NODE_FLAGS = opt('compare-node-flags', SERVER_NODE_FLAGS.join(' ')).split(' ').filter(Boolean);
const REF = COMPARE ? 'before' : 'redis';
const ALL_TESTS = ['ping_inline', 'ping_mbulk', 'set', 'get', 'incr', 'lpush', 'rpop', 'sadd', 'hset', 'zadd', 'lrange_100'];
const TESTS = opt('tests', ALL_TESTS.join(',')).split(',');
const DOC = 'docs/benchmarks.md';
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';
const report: string[] = [];

function out(line = ''): void {
  console.log(line);
  report.push(line);
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function geomean(xs: number[]): number {
  const v = xs.filter((x) => x > 0 && Number.isFinite(x));
  return v.length ? Math.exp(v.reduce((a, x) => a + Math.log(x), 0) / v.length) : NaN;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function table(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  out('| ' + headers.map((h, i) => h.padEnd(widths[i]!)).join(' | ') + ' |');
  out('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of cells.slice(1)) out('| ' + r.map((c, i) => String(c).padEnd(widths[i]!)).join(' | ') + ' |');
  out();
}

function loadAvg(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

// ---------------------------------------------------------------------------------------------
// Processes: start, /proc readings

interface Srv {
  kind: 'redis' | 'mirra' | 'before';
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) {
    try {
      process.kill(p.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Starts redis-server, this Mirra build, or the --compare build, on a free port in a temp dir. */
async function launch(kind: Srv['kind'], extra: string[] = []): Promise<Srv> {
  const port = await freePort();
  const dir = tempDir('mirra-bench-');
  const logfile = path.join(dir, 'server.log');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', logfile, '--save', '', ...extra];
  const proc =
    kind === 'redis' ? spawn('redis-server', args, { stdio: 'ignore' }) : spawn(process.execPath, kind === 'before' ? [...COMPARE_NODE_FLAGS, COMPARE, ...args] : [...MIRRA_NODE_FLAGS, MIRRA, ...args], { stdio: 'ignore' });
  live.add(proc);
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const log = (): string => (fs.existsSync(logfile) ? fs.readFileSync(logfile, 'utf8') : '');
  await waitFor(async () => (await canConnect(port)) && log().includes('Ready to accept connections'), `${kind} ready`, 20000);
  return {
    kind,
    port,
    pid: proc.pid!,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      live.delete(proc);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const refKind = (): Srv['kind'] => (COMPARE ? 'before' : 'redis');

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** A field of /proc/<pid>/status in kB (VmRSS: resident now, VmHWM: peak resident). */
function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// Load generation: commands encoded once, sent as pipelines over a Resp connection (an async
// client, so the bench never blocks its event loop on redis-cli while it measures latencies)

function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

type Kind = 'strings' | 'hashes' | 'sets' | 'zsets' | 'lists';

/** Loads `n` small keys of one kind, or a mix of all five ('mixed'), in pipelined batches. */
async function load(port: number, n: number, kind: Kind | 'mixed'): Promise<void> {
  const c = await Resp.open(port);
  const kinds: Kind[] = ['strings', 'hashes', 'sets', 'zsets', 'lists'];
  for (let start = 0; start < n; start += 10000) {
    let s = '';
    const end = Math.min(n, start + 10000);
    for (let i = start; i < end; i++) {
      const k = `key:${i}`;
      const t = kind === 'mixed' ? kinds[i % 5] : kind;
      if (t === 'strings') s += resp('SET', k, `value:${i}`);
      else if (t === 'hashes') s += resp('HSET', k, 'f1', 'v1', 'f2', 'v2', 'f3', 'v3');
      else if (t === 'sets') s += resp('SADD', k, 'a', 'b', 'c', String(i));
      else if (t === 'zsets') s += resp('ZADD', k, '1', 'a', '2', 'b', '3', 'c');
      else s += resp('RPUSH', k, 'a', 'b', 'c');
    }
    await c.pipeline(s, end - start);
  }
  c.close();
}

// ---------------------------------------------------------------------------------------------
// Throughput

interface BenchResult {
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU time (user + system) per request, microseconds. */
  cpuUs: number;
}

/** The CSV line of `test`: redis-benchmark also prints helper runs (LPUSH before LRANGE). */
function csvLine(stdout: string, test: string): string | undefined {
  const want = `"${test.toUpperCase()}`;
  return stdout.split('\n').find((l) => l.startsWith(want + '"') || l.startsWith(want + ' '));
}

function runBenchmark(srv: Srv, test: string, pipelineDepth: number, requests: number): Promise<BenchResult> {
  return new Promise((resolve) => {
    const cpu0 = cpuSeconds(srv.pid);
    const child = spawn('redis-benchmark', ['-p', String(srv.port), '-c', '50', '-n', String(requests), '-P', String(pipelineDepth), '-t', test, '--csv'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300000);
    child.on('exit', () => {
      clearTimeout(timer);
      const cpu = cpuSeconds(srv.pid) - cpu0;
      const line = csvLine(stdout, test);
      if (!line) return resolve({ rps: NaN, p50: NaN, p99: NaN, cpuUs: NaN });
      const f = line.split(',').map((x) => x.replace(/"/g, ''));
      // redis-benchmark counts the helper LPUSH of lrange tests too: per-request CPU is then
      // over both runs (the same for both servers).
      const served = test.startsWith('lrange') ? requests * 2 : requests;
      resolve({ rps: Number(f[1]), p50: Number(f[4]), p99: Number(f[6]), cpuUs: (cpu * 1e6) / served });
    });
  });
}

async function throughput(): Promise<unknown> {
  const results: Record<string, unknown> = {};
  out(`## Throughput (redis-benchmark -c 50; ${ROUNDS} interleaved rounds)`);
  out();
  out(
    `Ratios are medians of per-round Mirra/${REF} pairs (rps: higher is better for Mirra above 1; p99 and CPU µs/request: ` +
      `Mirra/${REF}, lower is better). CPU µs/request is the server process's user+system time divided by the requests.`,
  );
  out();
  for (const P of [1, 16]) {
    const requests = QUICK ? (P === 1 ? 30000 : 200000) : P === 1 ? 100000 : 1000000;
    const ref = await launch(refKind());
    const mirra = await launch('mirra');
    const rows: (string | number)[][] = [];
    const ratios: number[] = [];
    const p99Ratios: number[] = [];
    const cpuRatios: number[] = [];
    const perTest: Record<string, unknown> = {};
    try {
      // Warm-up: lets V8 optimise every command's path before anything is measured.
      for (const srv of [ref, mirra]) await runBenchmark(srv, TESTS.join(','), P, Math.ceil(requests / 10));
      for (const t of TESTS) {
        const r: BenchResult[] = [];
        const m: BenchResult[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const order = round % 2 === 0 ? [ref, mirra] : [mirra, ref];
          for (const srv of order) (srv === ref ? r : m).push(await runBenchmark(srv, t, P, requests));
        }
        const paired = (f: (x: BenchResult) => number): number => median(m.map((x, i) => f(x) / f(r[i]!)));
        const row = {
          refRps: median(r.map((x) => x.rps)),
          mirraRps: median(m.map((x) => x.rps)),
          ratio: paired((x) => x.rps),
          refP99: median(r.map((x) => x.p99)),
          mirraP99: median(m.map((x) => x.p99)),
          p99Ratio: paired((x) => x.p99),
          refCpuUs: median(r.map((x) => x.cpuUs)),
          mirraCpuUs: median(m.map((x) => x.cpuUs)),
          cpuRatio: paired((x) => x.cpuUs),
        };
        ratios.push(row.ratio);
        p99Ratios.push(row.p99Ratio);
        cpuRatios.push(row.cpuRatio);
        perTest[t] = row;
        rows.push([t, row.refRps, row.mirraRps, row.ratio, row.refP99, row.mirraP99, row.p99Ratio, row.refCpuUs, row.mirraCpuUs, row.cpuRatio]);
        console.error(`  -P ${P} ${t}: ratio ${fmt(row.ratio)} cpu ${fmt(row.cpuRatio)} (load ${loadAvg()})`);
      }
    } finally {
      await ref.stop();
      await mirra.stop();
    }
    out(`### -P ${P} (${requests} requests per run)`);
    out();
    table(
      ['test', `${REF} rps`, 'mirra rps', 'ratio', `${REF} p99 ms`, 'mirra p99 ms', 'p99 ratio', `${REF} CPU µs/req`, 'mirra CPU µs/req', 'CPU ratio'],
      rows,
    );
    const summary = {
      geomean: geomean(ratios),
      min: Math.min(...ratios),
      p99RatioGeomean: geomean(p99Ratios),
      p99RatioMax: Math.max(...p99Ratios),
      cpuRatioGeomean: geomean(cpuRatios),
    };
    out(
      `-P ${P}: throughput ratio geomean ${fmt(summary.geomean)}, lowest ${fmt(summary.min)}; p99 ratio geomean ${fmt(summary.p99RatioGeomean)}, ` +
        `highest ${fmt(summary.p99RatioMax)}; CPU per request ratio geomean ${fmt(summary.cpuRatioGeomean)}.`,
    );
    out();
    results[`P${P}`] = { ...summary, requests, tests: perTest };
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Memory

async function usedMemory(port: number): Promise<number> {
  const c = await Resp.open(port);
  const v = Number(await c.infoField('memory', 'used_memory'));
  c.close();
  return v;
}

async function memory(): Promise<unknown> {
  out('## Memory per key');
  out();
  out(
    'RSS growth of the server process (/proc VmRSS) while the keys are loaded, divided by the key count; `used_memory` ' +
      "growth from INFO as a second view (Redis: allocator bytes; Mirra: V8 heap used, garbage included).",
  );
  out();
  const sizes: [string, Kind, number][] = [
    ['small strings', 'strings', QUICK ? 200000 : 1000000],
    ['small hashes (3 fields)', 'hashes', QUICK ? 20000 : 100000],
    ['small sets (4 members)', 'sets', QUICK ? 20000 : 100000],
    ['small zsets (3 members)', 'zsets', QUICK ? 20000 : 100000],
  ];
  const rows: (string | number)[][] = [];
  const result: Record<string, unknown> = {};
  for (const [label, kind, n] of sizes) {
    const rss: Record<string, number[]> = { ref: [], mirra: [] };
    const used: Record<string, number[]> = { ref: [], mirra: [] };
    for (let round = 0; round < Math.min(ROUNDS, 2); round++) {
      const order = round % 2 === 0 ? (['ref', 'mirra'] as const) : (['mirra', 'ref'] as const);
      for (const who of order) {
        const srv = await launch(who === 'ref' ? refKind() : 'mirra');
        try {
          await sleep(300);
          const rss0 = statusKb(srv.pid, 'VmRSS');
          const used0 = await usedMemory(srv.port);
          await load(srv.port, n, kind);
          await sleep(1000);
          rss[who]!.push(((statusKb(srv.pid, 'VmRSS') - rss0) * 1024) / n);
          used[who]!.push(((await usedMemory(srv.port)) - used0) / n);
        } finally {
          await srv.stop();
        }
      }
    }
    const r = median(rss.ref!);
    const m = median(rss.mirra!);
    const ur = median(used.ref!);
    const um = median(used.mirra!);
    rows.push([label, n, r, m, m / r, ur, um, um / ur]);
    result[kind] = { keys: n, refRssBytesPerKey: r, mirraRssBytesPerKey: m, ratio: m / r, refUsedBytesPerKey: ur, mirraUsedBytesPerKey: um, usedRatio: um / ur };
  }
  table(['dataset', 'keys', `${REF} RSS B/key`, 'mirra RSS B/key', 'ratio', `${REF} used B/key`, 'mirra used B/key', 'used ratio'], rows);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Replication

async function startPair(kind: 'redis' | 'mirra', extra: string[] = []): Promise<[Srv, Srv]> {
  const master = await launch(kind, extra);
  const replica = await launch(kind, extra);
  return [master, replica];
}

/** A master and a replica already in sync (no diskless delay), with a connection to each. */
async function syncedPair(kind: 'redis' | 'mirra'): Promise<{ master: Srv; replica: Srv; mc: Resp; rc: Resp }> {
  const [master, replica] = await startPair(kind, ['--repl-diskless-sync-delay', '0']);
  const mc = await Resp.open(master.port);
  const rc = await Resp.open(replica.port);
  await rc.call('REPLICAOF', '127.0.0.1', String(master.port));
  await waitFor(async () => (await rc.infoField('replication', 'master_link_status')) === 'up', 'replica up', 60000);
  return { master, replica, mc, rc };
}

/** PINGs `port` on its own connection every `gapMs` until `stop()`; returns round-trip times in ms. */
async function pingLatencies(port: number, stop: () => boolean, gapMs = 2): Promise<number[]> {
  const c = await Resp.open(port);
  const lat: number[] = [];
  while (!stop()) {
    const t0 = performance.now();
    await c.call('PING');
    lat.push(performance.now() - t0);
    await sleep(gapMs);
  }
  c.close();
  return lat;
}

async function idleLatencies(port: number, ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  return pingLatencies(port, () => Date.now() >= until);
}

async function fullSync(): Promise<unknown> {
  out('## Full sync');
  out();
  out(
    'Diskless sync (repl-diskless-sync yes, delay 0) of a mixed dataset (strings, 3-field hashes, 4-member sets, 3-member ' +
      'zsets, 3-element lists in equal parts). "sync s": REPLICAOF until the replica reports master_link_status:up. The ' +
      "master's latency is sampled with a PING every 2 ms on its own connection: idle (2 s before the sync) and during the sync.",
  );
  out();
  const rows: (string | number)[][] = [];
  const result: Record<string, unknown> = {};
  const sizes = QUICK ? [100000] : [1000000];
  for (const n of sizes) {
    const per: Record<string, Record<string, number>[]> = { redis: [], mirra: [] };
    for (let round = 0; round < Math.min(ROUNDS, 2); round++) {
      const order = round % 2 === 0 ? (['redis', 'mirra'] as const) : (['mirra', 'redis'] as const);
      for (const kind of order) {
        const [master, replica] = await startPair(kind, ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0']);
        const rc = await Resp.open(replica.port);
        try {
          await load(master.port, n, 'mixed');
          await sleep(500);
          const idle = await idleLatencies(master.port, 2000);
          const masterRss0 = statusKb(master.pid, 'VmRSS');
          let synced = false;
          let peakMaster = masterRss0;
          let peakReplica = statusKb(replica.pid, 'VmRSS');
          const sampler = setInterval(() => {
            peakMaster = Math.max(peakMaster, statusKb(master.pid, 'VmRSS'));
            peakReplica = Math.max(peakReplica, statusKb(replica.pid, 'VmRSS'));
          }, 50);
          const t0 = performance.now();
          await rc.call('REPLICAOF', '127.0.0.1', String(master.port));
          const during = pingLatencies(master.port, () => synced);
          try {
            await waitFor(async () => (await rc.infoField('replication', 'master_link_status')) === 'up', 'replica up', 600000, 20);
          } finally {
            synced = true;
            clearInterval(sampler);
          }
          const secs = (performance.now() - t0) / 1000;
          const lat = await during;
          per[kind]!.push({
            seconds: secs,
            idleP99: pct(idle, 99),
            syncP99: pct(lat, 99),
            syncMax: Math.max(...lat),
            masterRssMB: masterRss0 / 1024,
            masterPeakMB: peakMaster / 1024,
            replicaPeakMB: peakReplica / 1024,
          });
        } finally {
          rc.close();
          await master.stop();
          await replica.stop();
        }
      }
    }
    for (const kind of ['redis', 'mirra'] as const) {
      const runs = per[kind]!;
      const med = (k: string): number => median(runs.map((x) => x[k]!));
      const row = {
        seconds: med('seconds'),
        idleP99: med('idleP99'),
        syncP99: med('syncP99'),
        syncMax: med('syncMax'),
        masterRssMB: med('masterRssMB'),
        masterPeakMB: med('masterPeakMB'),
        replicaPeakMB: med('replicaPeakMB'),
      };
      result[`${kind}_${n}`] = row;
      rows.push([kind, n, row.seconds, row.idleP99, row.syncP99, row.syncP99 / row.idleP99, row.syncMax, row.masterRssMB, row.masterPeakMB, row.replicaPeakMB]);
    }
    const r = result[`redis_${n}`] as { seconds: number };
    const m = result[`mirra_${n}`] as { seconds: number };
    result[`ratio_${n}`] = m.seconds / r.seconds;
  }
  table(['server', 'keys', 'sync s', 'idle p99 ms', 'sync p99 ms', 'sync/idle p99', 'sync max ms', 'master RSS MB', 'master peak MB', 'replica peak MB'], rows);
  for (const n of sizes) out(`Full sync of ${n} keys: Mirra takes ${fmt(result[`ratio_${n}`] as number)}× Redis's time.`);
  out();
  return result;
}

async function partialResync(): Promise<unknown> {
  out('## Partial resync after a cut link');
  out();
  out(
    'The replica drops its master link (CLIENT KILL TYPE MASTER), 10000 SETs reach the master, and the time from the end of ' +
      "those writes until the replica's offset matches is measured; it includes the replica's reconnect delay (cron).",
  );
  out();
  const rows: (string | number)[][] = [];
  const result: Record<string, unknown> = {};
  const per: Record<string, { bytes: number; ms: number; partial: number }[]> = { redis: [], mirra: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['redis', 'mirra'] as const) : (['mirra', 'redis'] as const);
    for (const kind of order) {
      const { master, replica, mc, rc } = await syncedPair(kind);
      try {
        const okBefore = Number(await mc.infoField('stats', 'sync_partial_ok'));
        const offBefore = Number(await rc.infoField('replication', 'slave_repl_offset'));
        await rc.call('CLIENT', 'KILL', 'TYPE', 'MASTER');
        await load(master.port, 10000, 'strings');
        const t0 = performance.now();
        const target = Number(await mc.infoField('replication', 'master_repl_offset'));
        await waitFor(async () => Number(await rc.infoField('replication', 'slave_repl_offset')) >= target, 'replica caught up', 60000, 5);
        per[kind]!.push({
          bytes: target - offBefore,
          ms: performance.now() - t0,
          partial: Number(await mc.infoField('stats', 'sync_partial_ok')) - okBefore,
        });
      } finally {
        mc.close();
        rc.close();
        await master.stop();
        await replica.stop();
      }
    }
  }
  for (const kind of ['redis', 'mirra'] as const) {
    const runs = per[kind]!;
    const row = { bytes: median(runs.map((x) => x.bytes)), ms: median(runs.map((x) => x.ms)), partialSyncs: runs.map((x) => x.partial).join('/') };
    result[kind] = row;
    rows.push([kind, row.bytes, row.ms, row.partialSyncs]);
  }
  table(['server', 'missing bytes', 'catch-up ms (median)', 'partial syncs per round'], rows);
  return result;
}

async function replicationLag(): Promise<unknown> {
  out('## Replication lag under write load');
  out();
  out(
    'redis-benchmark SET -P 16 -c 50 on the master (random keys out of 100000) while master_repl_offset minus the ' +
      "replica's slave_repl_offset is sampled every 20 ms; then the time until the replica converges.",
  );
  out();
  const rows: (string | number)[][] = [];
  const result: Record<string, unknown> = {};
  for (const kind of ['redis', 'mirra'] as const) {
    const { master, replica, mc, rc } = await syncedPair(kind);
    try {
      const lags: number[] = [];
      const requests = QUICK ? 300000 : 1000000;
      const bench = spawn('redis-benchmark', ['-p', String(master.port), '-c', '50', '-n', String(requests), '-P', '16', '-t', 'set', '-r', '100000', '-q'], {
        stdio: 'ignore',
      });
      let running = true;
      const t0 = performance.now();
      bench.on('exit', () => (running = false));
      while (running) {
        const [m, r] = await Promise.all([mc.infoField('replication', 'master_repl_offset'), rc.infoField('replication', 'slave_repl_offset')]);
        if (m !== '' && r !== '') lags.push(Math.max(0, Number(m) - Number(r)));
        await sleep(20);
      }
      const loadSecs = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const target = Number(await mc.infoField('replication', 'master_repl_offset'));
      await waitFor(async () => Number(await rc.infoField('replication', 'slave_repl_offset')) >= target, 'converged', 120000, 5);
      const converge = performance.now() - t1;
      const row = { writesPerSec: requests / loadSecs, samples: lags.length, maxLagBytes: Math.max(...lags), p99LagBytes: pct(lags, 99), medianLagBytes: median(lags), convergeMs: converge };
      result[kind] = row;
      rows.push([kind, row.writesPerSec, row.samples, row.medianLagBytes, row.p99LagBytes, row.maxLagBytes, converge]);
    } catch (e) {
      rows.push([kind, NaN, NaN, NaN, NaN, NaN, NaN]);
      result[kind] = { error: (e as Error).message };
    } finally {
      mc.close();
      rc.close();
      await master.stop();
      await replica.stop();
    }
  }
  table(['server', 'SET/s', 'samples', 'median lag bytes', 'p99 lag bytes', 'max lag bytes', 'converge ms'], rows);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Targets (the performance issue's), judged from this run

function targets(all: Record<string, unknown>): void {
  const rows: string[][] = [];
  const mark = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const t = all.throughput as Record<string, { geomean: number; min: number; p99RatioMax: number; p99RatioGeomean: number }> | undefined;
  if (t?.P1 && t.P16) {
    rows.push(['throughput geomean -P 1 ≥ 0.9', fmt(t.P1.geomean), mark(t.P1.geomean >= 0.9)]);
    rows.push(['throughput geomean -P 16 ≥ 0.6', fmt(t.P16.geomean), mark(t.P16.geomean >= 0.6)]);
    const low = Math.min(t.P1.min, t.P16.min);
    rows.push(['no test below 0.5', fmt(low), mark(low >= 0.5)]);
    rows.push(['p99 at -P 1 within 2× (highest test ratio)', fmt(t.P1.p99RatioMax), mark(t.P1.p99RatioMax <= 2)]);
  }
  const m = all.memory as Record<string, { ratio: number }> | undefined;
  if (m) for (const [k, v] of Object.entries(m)) rows.push([`memory per key within 2×: ${k}`, fmt(v.ratio), mark(v.ratio <= 2)]);
  const f = all.fullsync as Record<string, unknown> | undefined;
  if (f) {
    for (const [k, v] of Object.entries(f)) {
      if (k.startsWith('ratio_')) rows.push([`full sync of ${k.slice(6)} keys ≤ 1.5× Redis`, fmt(v as number), mark((v as number) <= 1.5)]);
      if (k.startsWith('mirra_')) {
        const x = v as { syncP99: number; idleP99: number };
        const r = x.syncP99 / x.idleP99;
        rows.push([`master p99 during sync ≤ 1.5× idle p99 (${k.slice(6)} keys)`, fmt(r), mark(r <= 1.5)]);
      }
    }
  }
  if (rows.length === 0 || COMPARE) return;
  out('## Targets');
  out();
  table(['target', 'this run', ''], rows);
}

async function main(): Promise<void> {
  if (spawnSync('redis-server', ['--version']).status !== 0 || spawnSync('redis-benchmark', ['--version']).status !== 0) {
    console.error('npm run bench needs redis-server and redis-benchmark (apt-get install redis-server redis-tools)');
    process.exit(1);
  }
  const cpus = os.cpus();
  out(`## Run of ${new Date().toISOString()}`);
  out();
  out(
    `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${os.release()}; ` +
      `Node ${process.version}; ${spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ').slice(0, 3).join(' ')}` +
      `${COMPARE ? `; reference: Mirra build ${COMPARE}` : ''}${MIRRA !== MIRRA_BIN ? `; Mirra build under test: ${MIRRA}` : ''}. Command: \`npm run bench -- ${argv.join(' ')}\`. Load average at start: ${loadAvg()}.`,
  );
  out();
  const all: Record<string, unknown> = {};
  const parts: Record<string, () => Promise<unknown>> = { throughput, memory, fullsync: fullSync, psync: partialResync, lag: replicationLag };
  for (const p of PARTS) {
    const fn = parts[p];
    if (!fn) {
      console.error(`unknown part ${p}`);
      continue;
    }
    try {
      all[p] = await fn();
    } catch (e) {
      out(`Part ${p} failed: ${(e as Error).message}`);
      out();
      all[p] = { error: (e as Error).message };
    }
    out(`Load average after ${p}: ${loadAvg()}.`);
    out();
  }
  targets(all);
  out('```');
  for (const [p, r] of Object.entries(all)) out(`BENCH ${p} ${JSON.stringify(r)}`);
  out('```');
  if (!flag('no-write')) writeDoc(report.join('\n'));
}

/** Replaces the generated part of docs/benchmarks.md, keeping what is written around it. */
function writeDoc(body: string): void {
  fs.mkdirSync(path.dirname(DOC), { recursive: true });
  const old = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '';
  const b = old.indexOf(BEGIN);
  const e = old.indexOf(END);
  const generated = `${BEGIN}\n${body}\n${END}`;
  const text = b >= 0 && e > b ? old.slice(0, b) + generated + old.slice(e + END.length) : `# Mirra benchmarks\n\n${generated}\n`;
  fs.writeFileSync(DOC, text);
}

await main();
process.exit(0);
