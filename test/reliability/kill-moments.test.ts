/**
 * kill -9 and SIGSTOP of a Mirra replica at chosen moments of its life, with real processes,
 * each followed by convergence (the same DEBUG DIGEST as the master after restart/reconnect):
 *
 *  - mid-handshake   the link stalled after PING (FaultProxy), the replica killed; restarted
 *                    from the RDB its last full sync left, it resumes with a partial resync;
 *  - mid-transfer    the transfer throttled by the proxy, the replica killed halfway: no partial
 *                    file taken for its dataset, the master drops the transfer and serves on;
 *  - mid-load        killed while the payload loads (-LOADING): the payload is already its RDB,
 *                    so the restarted replica loads it and continues with a partial resync;
 *  - mid-stream      killed under a write load acknowledged with WAIT 1: after restart and
 *                    resync, no acknowledged write is missing;
 *  - SIGSTOP         during the transfer of a payload bigger than the socket buffers, shorter
 *                    than repl-timeout (the same sync completes, the master keeps serving) and
 *                    longer (the master drops it, the replica syncs again after SIGCONT).
 *
 * One master with a hundred thousand keys serves every scenario (so transfers and loads
 * take long enough to hit); each scenario starts its own replica and stops it at the end.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startMirra, type ServerHandle } from '../helpers/servers.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { cli, digest, info, stat, waitCaughtUp, Writer, Resp } from '../replication/resilience-helpers.js';
import { Probe, atMoment, killHard, restartMirra, tempFiles, alive } from './moments.js';

const KEYS = 100000;
const started: ServerHandle[] = [];
const proxies: FaultProxy[] = [];
const probes: Probe[] = [];
let m: ServerHandle;
let mp: Probe;

before(async () => {
  m = await startMirra({ args: ['--repl-diskless-sync-delay', '0', '--repl-backlog-size', '16mb'] });
  started.push(m);
  mp = await Probe.open(m.port);
  probes.push(mp);
  assert.equal(await mp.call('DEBUG', 'POPULATE', String(KEYS), 'key', '24'), 'OK');
});

after(async () => {
  for (const p of probes) p.close();
  for (const p of proxies) await p.close();
  for (const s of started) {
    s.kill('SIGCONT');
    await s.stop();
  }
});

async function replica(masterPort: number, extra: string[] = []): Promise<{ r: ServerHandle; args: string[] }> {
  const args = ['--replicaof', '127.0.0.1', String(masterPort), ...extra];
  const r = await startMirra({ args });
  started.push(r);
  return { r, args };
}

async function restart(r: ServerHandle, args: string[]): Promise<ServerHandle> {
  const again = await restartMirra(r, { args });
  started.push(again);
  return again;
}

async function proxy(): Promise<FaultProxy> {
  const p = await FaultProxy.start(m.port);
  proxies.push(p);
  return p;
}

async function probe(port: number): Promise<Probe> {
  const p = await Probe.open(port);
  probes.push(p);
  return p;
}

async function connectedReplicas(): Promise<number> {
  return Number(await mp.field('replication', 'connected_slaves'));
}

/** Waits for convergence and returns the digest; the replica ends stopped. */
async function converge(r: ServerHandle): Promise<string> {
  // Nothing writes any more: once the offsets match the datasets must too (DEBUG DIGEST over
  // the whole keyspace is slow, so it is taken once per node, not polled).
  await waitCaughtUp(r.port, m.port, 60000);
  const d = digest(m.port);
  assert.equal(digest(r.port), d, 'the replica holds the master\'s dataset');
  await r.stop();
  await waitFor(async () => (await connectedReplicas()) === 0, 'the master dropped the stopped replica', 10000);
  return d;
}

test('killed mid-handshake (PONG stalled): restarted from its RDB, partial resync, converged', async (t) => {
  const px = await proxy();
  const { r, args } = await replica(px.port);
  await waitCaughtUp(r.port, m.port, 60000);
  await mp.call('SET', 'hs:before', '1');
  await waitCaughtUp(r.port, m.port);
  // The link drops; the replica's next PING reaches the master, the PONG does not come back.
  const conns = px.connections;
  px.stall('down', true);
  px.cut();
  const rp = await probe(r.port);
  const moment = await atMoment(
    'replica in handshake on a new link',
    async () => px.connections > conns && ((await rp.call('ROLE')) as unknown[])[3] === 'handshake',
    () => killHard(r),
  );
  t.diagnostic(`killed ${moment.waitedMs} ms after the cut`);
  assert.ok(fs.existsSync(path.join(r.dir, 'dump.rdb')), 'the full sync left an RDB');
  await mp.call('SET', 'hs:while-dead', '2');
  px.heal();
  const partial = stat(m.port, 'sync_partial_ok');
  const full = stat(m.port, 'sync_full');
  const r2 = await restart(r, args);
  await waitCaughtUp(r2.port, m.port, 60000);
  assert.equal(cli(r2.port, 'get', 'hs:while-dead'), '2');
  assert.equal(stat(m.port, 'sync_partial_ok'), partial + 1, 'the restarted replica continued with PSYNC');
  assert.equal(stat(m.port, 'sync_full'), full);
  // The half-done handshake left nothing behind on the master.
  assert.equal(await connectedReplicas(), 1);
  await converge(r2);
});

test('killed mid-transfer (throttled): no partial dataset kept, the master serves on, converged', async (t) => {
  const px = await proxy();
  px.throttle('down', 3 * 1024 * 1024);
  const { r, args } = await replica(px.port);
  const rp = await probe(r.port);
  let read = 0;
  const moment = await atMoment(
    'transfer at 1 MB',
    async () => {
      const i = await rp.info('replication');
      read = Number(i.master_sync_read_bytes ?? 0);
      return i.master_sync_in_progress === '1' && read > 1024 * 1024;
    },
    () => killHard(r),
    { timeoutMs: 30000 },
  );
  t.diagnostic(`killed after ${moment.waitedMs} ms with ${read} bytes received; temp files left: ${tempFiles(r.dir).join(' ') || 'none'}`);
  // The received part was never taken for a dataset.
  assert.ok(!fs.existsSync(path.join(r.dir, 'dump.rdb')));
  assert.equal(await mp.call('PING'), 'PONG');
  await waitFor(async () => (await connectedReplicas()) === 0, 'the master dropped the dead replica', 15000);
  px.heal();
  const from = r.log().length;
  const r2 = await restart(r, args);
  assert.doesNotMatch(r2.log().slice(from), /DB loaded from disk/, 'the restarted replica had no dataset to load');
  await converge(r2);
});

test('killed mid-load (-LOADING): the received RDB loads at restart, partial resync, converged', async (t) => {
  // An empty replica parses the payload as it arrives (no load phase to be killed in); one that
  // holds data loads it after the transfer. So it gets a key of its own first.
  const args = ['--replicaof', '127.0.0.1', String(m.port)];
  const r = await startMirra();
  started.push(r);
  assert.equal(cli(r.port, 'set', 'own:key', '1'), 'OK');
  assert.equal(cli(r.port, 'replicaof', '127.0.0.1', String(m.port)), 'OK');
  const rp = await probe(r.port);
  const moment = await atMoment('payload loading', async () => (await rp.field('persistence', 'loading')) === '1', () => killHard(r), {
    timeoutMs: 30000,
  });
  t.diagnostic(`killed ${moment.waitedMs} ms after start, during the load`);
  await mp.call('SET', 'load:while-dead', 'x');
  const partial = stat(m.port, 'sync_partial_ok');
  const full = stat(m.port, 'sync_full');
  const t0 = Date.now();
  const from = r.log().length;
  const r2 = await restart(r, args);
  t.diagnostic(`restart (loading ${KEYS} keys at startup) took ${Date.now() - t0} ms`);
  // The payload had become its RDB before the load began.
  await waitFor(() => /DB loaded from disk/.test(r2.log().slice(from)), 'the received RDB loaded at startup');
  await waitCaughtUp(r2.port, m.port, 60000);
  assert.equal(cli(r2.port, 'get', 'load:while-dead'), 'x');
  assert.equal(stat(m.port, 'sync_partial_ok'), partial + 1, 'continued from the RDB it had received');
  assert.equal(stat(m.port, 'sync_full'), full);
  await converge(r2);
});

test('killed mid-stream under WAIT-acknowledged writes: after restart no acknowledged write is missing', async (t) => {
  const { r, args } = await replica(m.port);
  await waitCaughtUp(r.port, m.port, 60000);
  const writer = new Writer(m.port, 'stream', { wait: { replicas: 1, ms: 300 } });
  try {
    await atMoment('150 writes acknowledged by the replica', () => writer.acked.size >= 150, () => killHard(r), { timeoutMs: 30000 });
    const ackedAtKill = writer.acked.size;
    const r2 = await restart(r, args);
    await waitFor(() => writer.acked.size >= ackedAtKill + 100, 'writes acknowledged again after the restart', 60000);
    await writer.stop();
    t.diagnostic(`acked ${writer.acked.size} of ${writer.attempts}; errors ${JSON.stringify([...writer.errors])}`);
    await waitCaughtUp(r2.port, m.port, 30000);
    assert.deepEqual(await writer.missingOn(r2.port), []);
    await converge(r2);
  } finally {
    await writer.stop();
  }
});

/**
 * A master whose payload cannot fit in the socket buffers (loopback buffers reach tens of MB):
 * 48 MB of incompressible values, so a stopped replica really holds its transfer back.
 */
let big: { m: ServerHandle; mp: Probe } | null = null;
async function bigMaster(): Promise<{ m: ServerHandle; mp: Probe }> {
  if (big !== null) return big;
  const bm = await startMirra({ args: ['--repl-diskless-sync-delay', '0'] });
  started.push(bm);
  const bp = await probe(bm.port);
  const conn = await Resp.open(bm.port);
  const value = randomBytes(4096).toString('latin1');
  const sets: Promise<unknown>[] = [];
  for (let i = 0; i < 12000; i++) sets.push(conn.call('SET', `big:${i}`, `${i}:${value}`));
  await Promise.all(sets);
  conn.close();
  big = { m: bm, mp: bp };
  return big;
}

/** A fresh replica of the big master caught in the middle of its transfer, then SIGSTOPped. */
async function stopDuringTransfer(bm: ServerHandle): Promise<ServerHandle> {
  const { r } = await replica(bm.port);
  const rp = await probe(r.port);
  await atMoment(
    'transfer in progress',
    async () => {
      const i = await rp.info('replication');
      return i.master_sync_in_progress === '1' && Number(i.master_sync_read_bytes ?? 0) > 0;
    },
    () => r.kill('SIGSTOP'),
    { timeoutMs: 30000, stepMs: 2 },
  );
  return r;
}

/** The worst PING latency of `p` over `ms` (the master must keep serving while a transfer is stuck). */
async function worstPing(p: Probe, ms: number): Promise<number> {
  let worst = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t0 = Date.now();
    assert.equal(await p.call('PING'), 'PONG');
    worst = Math.max(worst, Date.now() - t0);
    await sleep(20);
  }
  return worst;
}

/** Caught up with `master`, the same dataset; the replica ends stopped. */
async function convergeWith(master: ServerHandle, r: ServerHandle): Promise<void> {
  await waitCaughtUp(r.port, master.port, 60000);
  assert.equal(digest(r.port), digest(master.port));
  await r.stop();
}

test('SIGSTOP during the transfer, shorter than repl-timeout: the master serves on; the same sync completes after SIGCONT', async (t) => {
  const { m: bm, mp: bp } = await bigMaster();
  const full = stat(bm.port, 'sync_full');
  const r = await stopDuringTransfer(bm);
  const worst = await worstPing(bp, 3000);
  const sent = await bp.info('replication');
  t.diagnostic(`master PING worst latency while the replica was stopped: ${worst} ms; replica entry: ${sent.slave0 ?? '-'}`);
  assert.ok(worst < 500);
  r.kill('SIGCONT');
  await waitCaughtUp(r.port, bm.port, 60000);
  assert.equal(stat(bm.port, 'sync_full'), full + 1, 'one full sync, not restarted');
  await convergeWith(bm, r);
});

test('SIGSTOP during the transfer, longer than repl-timeout: the master drops it; after SIGCONT it syncs again', async (t) => {
  const { m: bm, mp: bp } = await bigMaster();
  assert.equal(await bp.call('CONFIG', 'SET', 'repl-timeout', '2'), 'OK');
  try {
    const from = bm.log().length;
    const full = stat(bm.port, 'sync_full');
    const r = await stopDuringTransfer(bm);
    const t0 = Date.now();
    await waitFor(() => /Disconnecting timedout replica \(full sync\)/.test(bm.log().slice(from)), 'the master drops the stuck transfer', 15000);
    t.diagnostic(`the master dropped the stuck transfer after ${Date.now() - t0} ms (repl-timeout 2 s)`);
    assert.equal(await bp.call('PING'), 'PONG');
    assert.ok(alive(r));
    r.kill('SIGCONT');
    await waitCaughtUp(r.port, bm.port, 60000);
    assert.equal(stat(bm.port, 'sync_full'), full + 2, 'a second full sync after the drop');
    assert.match(r.log(), /I\/O error trying to sync with MASTER/);
    await convergeWith(bm, r);
  } finally {
    assert.equal(await bp.call('CONFIG', 'SET', 'repl-timeout', '60'), 'OK');
  }
});

test('the master itself stays consistent: every scenario left it serving the whole dataset', async () => {
  assert.ok(Number(info(m.port, 'keyspace').db0?.match(/keys=(\d+)/)?.[1] ?? 0) >= KEYS);
  assert.equal(await connectedReplicas(), 0);
});
