/**
 * `npm run bench`: Mirra side by side with the real redis-server 7.0 on this machine.
 *
 * Every measurement interleaves the two servers (A B A B ...) over several rounds and reports
 * medians and per-round paired ratios (Mirra / Redis), because absolute numbers on a small,
 * noisy machine mean little. Parts: throughput (redis-benchmark), memory per key, full sync,
 * partial resync, replication lag. Each part prints a table and a machine-readable line
 * `BENCH <part> <json>`; the whole run is written to docs/benchmarks.md.
 *
 * Options: --rounds N (default 3), --quick (smaller sizes), --parts a,b,c
 *          (throughput,memory,fullsync,psync,lag), --no-write (don't touch docs/benchmarks.md)
 */
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import { startMirra, startRedis, hasRedis, type ServerHandle } from '../test/helpers/servers.js';
import { waitFor, sleep } from '../test/helpers/wait.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : def;
};
const flag = (name: string): boolean => argv.includes(`--${name}`);
const ROUNDS = Number(opt('rounds', '3'));
const QUICK = flag('quick');
const PARTS = opt('parts', 'throughput,memory,fullsync,psync,lag').split(',');
const report: string[] = [];

function out(line = ''): void {
  console.log(line);
  report.push(line);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function geomean(xs: number[]): number {
  const v = xs.filter((x) => x > 0 && Number.isFinite(x));
  return v.length ? Math.exp(v.reduce((a, x) => a + Math.log(x), 0) / v.length) : NaN;
}

function table(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  out('| ' + headers.map((h, i) => h.padEnd(widths[i]!)).join(' | ') + ' |');
  out('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of cells.slice(1)) out('| ' + r.map((c, i) => String(c).padEnd(widths[i]!)).join(' | ') + ' |');
  out();
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

function rssKb(pid: number): number {
  const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  return Number(r.stdout.trim()) || 0;
}

/** Sends commands (already RESP-encoded) over one connection and waits for `count` replies. */
async function pipeline(port: number, payload: Buffer, count: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let seen = 0;
    s.on('data', (d) => {
      for (let i = 0; i < d.length; i++) if (d[i] === 10) seen++;
      if (seen >= count) {
        s.destroy();
        resolve();
      }
    });
    s.on('error', reject);
    s.write(payload);
  });
}

function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/** Loads `n` small strings, or a mix of types, in pipelined batches. */
async function load(port: number, n: number, kind: 'strings' | 'mixed' | 'hashes' | 'sets' | 'zsets'): Promise<void> {
  const batch = 10000;
  for (let start = 0; start < n; start += batch) {
    let s = '';
    let replies = 0;
    for (let i = start; i < Math.min(n, start + batch); i++) {
      const k = `key:${i}`;
      const t = kind === 'mixed' ? (['strings', 'hashes', 'sets', 'zsets', 'list'] as const)[i % 5] : kind;
      if (t === 'strings') s += resp('SET', k, `value:${i}`);
      else if (t === 'hashes') s += resp('HSET', k, 'f1', 'v1', 'f2', 'v2', 'f3', 'v3');
      else if (t === 'sets') s += resp('SADD', k, 'a', 'b', 'c', String(i));
      else if (t === 'zsets') s += resp('ZADD', k, '1', 'a', '2', 'b', '3', 'c');
      else s += resp('RPUSH', k, 'a', 'b', 'c');
      replies++;
    }
    await pipeline(port, Buffer.from(s), replies);
  }
}

function cli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
}

function infoField(port: number, section: string, field: string): string {
  const txt = cli(port, 'info', section);
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(txt);
  return m ? m[1]!.trim() : '';
}

interface BenchResult {
  rps: number;
  p50: number;
  p99: number;
}

function redisBenchmark(port: number, test: string, pipelineDepth: number, requests: number): BenchResult {
  const r = spawnSync('redis-benchmark', ['-p', String(port), '-c', '50', '-n', String(requests), '-P', String(pipelineDepth), '-t', test, '--csv'], {
    encoding: 'utf8',
    timeout: 300000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('"') && !l.startsWith('"test"'));
  if (!line) return { rps: NaN, p50: NaN, p99: NaN };
  const f = line.split(',').map((x) => x.replace(/"/g, ''));
  return { rps: Number(f[1]), p50: Number(f[4]), p99: Number(f[6]) };
}

// ---------------------------------------------------------------------------------------------

async function throughput(): Promise<unknown> {
  const tests = ['ping_inline', 'ping_mbulk', 'set', 'get', 'incr', 'lpush', 'rpop', 'sadd', 'hset', 'zadd', 'lrange_100'];
  const results: Record<string, unknown> = {};
  out('## Throughput (redis-benchmark -c 50)');
  out();
  for (const P of [1, 16]) {
    const requests = QUICK ? (P === 1 ? 20000 : 100000) : P === 1 ? 100000 : 500000;
    const redis = await startRedis({ debug: false });
    const mirra = await startMirra({ debug: false });
    const rows: (string | number)[][] = [];
    const ratios: number[] = [];
    const perTest: Record<string, unknown> = {};
    try {
      for (const t of tests) {
        const r: BenchResult[] = [];
        const m: BenchResult[] = [];
        const paired: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const a = redisBenchmark(redis.port, t, P, requests);
          const b = redisBenchmark(mirra.port, t, P, requests);
          r.push(a);
          m.push(b);
          paired.push(b.rps / a.rps);
        }
        const ratio = median(paired);
        ratios.push(ratio);
        const row = {
          redisRps: median(r.map((x) => x.rps)),
          mirraRps: median(m.map((x) => x.rps)),
          ratio,
          redisP50: median(r.map((x) => x.p50)),
          mirraP50: median(m.map((x) => x.p50)),
          redisP99: median(r.map((x) => x.p99)),
          mirraP99: median(m.map((x) => x.p99)),
        };
        perTest[t] = row;
        rows.push([t, row.redisRps, row.mirraRps, row.ratio, row.redisP50, row.mirraP50, row.redisP99, row.mirraP99]);
      }
    } finally {
      await redis.stop();
      await mirra.stop();
    }
    out(`### -P ${P} (${ROUNDS} interleaved rounds, medians; ratio = median of per-round Mirra/Redis)`);
    out();
    table(['test', 'redis rps', 'mirra rps', 'ratio', 'redis p50 ms', 'mirra p50 ms', 'redis p99 ms', 'mirra p99 ms'], rows);
    out(`geometric mean ratio at -P ${P}: ${fmt(geomean(ratios))}`);
    out();
    results[`P${P}`] = { geomean: geomean(ratios), tests: perTest };
  }
  return results;
}

async function memory(): Promise<unknown> {
  out('## Memory (RSS per key)');
  out();
  const sizes: [string, 'strings' | 'hashes' | 'sets' | 'zsets', number][] = [
    ['small strings', 'strings', QUICK ? 100000 : 1000000],
    ['small hashes (3 fields)', 'hashes', QUICK ? 20000 : 100000],
    ['small sets (4 members)', 'sets', QUICK ? 20000 : 100000],
    ['small zsets (3 members)', 'zsets', QUICK ? 20000 : 100000],
  ];
  const rows: (string | number)[][] = [];
  const result: Record<string, unknown> = {};
  for (const [label, kind, n] of sizes) {
    const per: Record<string, number[]> = { redis: [], mirra: [] };
    for (let round = 0; round < Math.max(1, Math.min(ROUNDS, 2)); round++) {
      for (const kindName of ['redis', 'mirra'] as const) {
        const srv = kindName === 'redis' ? await startRedis() : await startMirra();
        try {
          await sleep(200);
          const before = rssKb(srv.pid);
          await load(srv.port, n, kind);
          if (kindName === 'mirra') await sleep(500);
          const after = rssKb(srv.pid);
          per[kindName]!.push(((after - before) * 1024) / n);
        } finally {
          await srv.stop();
        }
      }
    }
    const r = median(per.redis!);
    const m = median(per.mirra!);
    rows.push([label, n, r, m, m / r]);
    result[kind] = { keys: n, redisBytesPerKey: r, mirraBytesPerKey: m, ratio: m / r };
  }
  table(['dataset', 'keys', 'redis B/key', 'mirra B/key', 'ratio'], rows);
  return result;
}

async function startPair(kind: 'redis' | 'mirra', extra: string[] = []): Promise<[ServerHandle, ServerHandle]> {
  const start = kind === 'redis' ? startRedis : startMirra;
  const master = await start({ args: extra });
  const replica = await start({ args: extra });
  return [master, replica];
}

/** Polls the master's p99-ish latency with PINGs while `busy` is true. */
async function pingLatencies(port: number, until: () => boolean): Promise<number[]> {
  const lat: number[] = [];
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  while (!until()) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      s.once('data', () => resolve());
      s.write('PING\r\n');
    });
    lat.push(performance.now() - t0);
    await sleep(5);
  }
  s.destroy();
  return lat;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

async function fullSync(): Promise<unknown> {
  out('## Full sync (time until the replica is up; master PING latency during the sync)');
  out();
  const rows: (string | number)[][] = [];
  const result: Record<string, unknown> = {};
  for (const n of QUICK ? [100000] : [100000, 1000000]) {
    for (const kind of ['redis', 'mirra'] as const) {
      const [master, replica] = await startPair(kind, ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0']);
      try {
        await load(master.port, n, 'mixed');
        const idle = await (async () => {
          let stop = false;
          setTimeout(() => (stop = true), 1000);
          return pingLatencies(master.port, () => stop);
        })();
        let synced = false;
        let peakMaster = 0;
        let peakReplica = 0;
        const t0 = performance.now();
        cli(replica.port, 'replicaof', '127.0.0.1', String(master.port));
        const latP = pingLatencies(master.port, () => synced);
        const sampler = setInterval(() => {
          peakMaster = Math.max(peakMaster, rssKb(master.pid));
          peakReplica = Math.max(peakReplica, rssKb(replica.pid));
        }, 100);
        try {
          await waitFor(() => infoField(replica.port, 'replication', 'master_link_status') === 'up', 'replica up', 600000, 50);
        } finally {
          synced = true;
          clearInterval(sampler);
        }
        const secs = (performance.now() - t0) / 1000;
        const during = await latP;
        rows.push([kind, n, secs, pct(idle, 99), pct(during, 99), Math.max(...during), peakMaster / 1024, peakReplica / 1024]);
        result[`${kind}_${n}`] = { seconds: secs, idleP99: pct(idle, 99), syncP99: pct(during, 99), syncMax: Math.max(...during), masterPeakMB: peakMaster / 1024, replicaPeakMB: peakReplica / 1024 };
      } catch (e) {
        rows.push([kind, n, NaN, NaN, NaN, NaN, NaN, NaN]);
        result[`${kind}_${n}`] = { error: (e as Error).message };
      } finally {
        await master.stop();
        await replica.stop();
      }
    }
  }
  table(['server', 'keys', 'sync s', 'idle p99 ms', 'sync p99 ms', 'sync max ms', 'master peak MB', 'replica peak MB'], rows);
  return result;
}

async function partialResync(): Promise<unknown> {
  out('## Partial resync after a cut link');
  out();
  const rows: (string | number)[][] = [];
  const result: Record<string, unknown> = {};
  for (const kind of ['redis', 'mirra'] as const) {
    const [master, replica] = await startPair(kind, ['--repl-diskless-sync-delay', '0']);
    try {
      cli(replica.port, 'replicaof', '127.0.0.1', String(master.port));
      await waitFor(() => infoField(replica.port, 'replication', 'master_link_status') === 'up', 'replica up', 60000);
      const okBefore = Number(infoField(master.port, 'stats', 'sync_partial_ok'));
      const offBefore = Number(infoField(replica.port, 'replication', 'slave_repl_offset'));
      cli(replica.port, 'client', 'kill', 'type', 'master');
      await load(master.port, 10000, 'strings');
      const t0 = performance.now();
      const target = Number(infoField(master.port, 'replication', 'master_repl_offset'));
      await waitFor(() => Number(infoField(replica.port, 'replication', 'slave_repl_offset')) >= target, 'replica caught up', 60000, 10);
      const secs = (performance.now() - t0) / 1000;
      const ok = Number(infoField(master.port, 'stats', 'sync_partial_ok')) - okBefore;
      rows.push([kind, target - offBefore, secs * 1000, ok]);
      result[kind] = { bytes: target - offBefore, ms: secs * 1000, partialSyncs: ok };
    } catch (e) {
      rows.push([kind, NaN, NaN, NaN]);
      result[kind] = { error: (e as Error).message };
    } finally {
      await master.stop();
      await replica.stop();
    }
  }
  table(['server', 'missing bytes', 'catch-up ms', 'partial syncs'], rows);
  return result;
}

async function replicationLag(): Promise<unknown> {
  out('## Replication lag (chained pair, SET -P 16 load on the master)');
  out();
  const rows: (string | number)[][] = [];
  const result: Record<string, unknown> = {};
  for (const kind of ['redis', 'mirra'] as const) {
    const [master, replica] = await startPair(kind, ['--repl-diskless-sync-delay', '0']);
    try {
      cli(replica.port, 'replicaof', '127.0.0.1', String(master.port));
      await waitFor(() => infoField(replica.port, 'replication', 'master_link_status') === 'up', 'replica up', 60000);
      const lags: number[] = [];
      const load = spawn('redis-benchmark', ['-p', String(master.port), '-c', '50', '-n', QUICK ? '300000' : '1000000', '-P', '16', '-t', 'set', '-r', '100000', '-q'], { stdio: 'ignore' });
      let running = true;
      load.on('exit', () => (running = false));
      while (running) {
        const m = Number(infoField(master.port, 'replication', 'master_repl_offset'));
        const r = Number(infoField(replica.port, 'replication', 'slave_repl_offset'));
        if (Number.isFinite(m) && Number.isFinite(r)) lags.push(Math.max(0, m - r));
        await sleep(50);
      }
      const t0 = performance.now();
      const target = Number(infoField(master.port, 'replication', 'master_repl_offset'));
      await waitFor(() => Number(infoField(replica.port, 'replication', 'slave_repl_offset')) >= target, 'converged', 120000, 10);
      const converge = performance.now() - t0;
      rows.push([kind, Math.max(...lags), pct(lags, 99), converge]);
      result[kind] = { maxLagBytes: Math.max(...lags), p99LagBytes: pct(lags, 99), convergeMs: converge };
    } catch (e) {
      rows.push([kind, NaN, NaN, NaN]);
      result[kind] = { error: (e as Error).message };
    } finally {
      await master.stop();
      await replica.stop();
    }
  }
  table(['server', 'max lag bytes', 'p99 lag bytes', 'converge ms'], rows);
  return result;
}

async function main(): Promise<void> {
  if (!hasRedis() || spawnSync('redis-benchmark', ['--version']).status !== 0) {
    console.error('npm run bench needs redis-server and redis-benchmark (apt-get install redis-server redis-tools)');
    process.exit(1);
  }
  const when = new Date().toISOString();
  out(`# Mirra benchmarks`);
  out();
  out(`Run ${when} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ` +
    `${spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ').slice(0, 3).join(' ')}. ` +
    `Command: \`npm run bench -- ${argv.join(' ')}\`.`);
  out();
  const all: Record<string, unknown> = {};
  const parts: Record<string, () => Promise<unknown>> = { throughput, memory, fullsync: fullSync, psync: partialResync, lag: replicationLag };
  for (const p of PARTS) {
    const fn = parts[p];
    if (!fn) continue;
    const r = await fn();
    all[p] = r;
    out('```');
    out(`BENCH ${p} ${JSON.stringify(r)}`);
    out('```');
    out();
  }
  if (!flag('no-write')) {
    fs.mkdirSync('docs', { recursive: true });
    fs.writeFileSync('docs/benchmarks.md', report.join('\n') + '\n');
  }
}

await main();
process.exit(0);
