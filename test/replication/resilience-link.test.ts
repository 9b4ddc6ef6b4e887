/**
 * What a replication link survives, through real processes with a FaultProxy between master and
 * replica and a client writing throughout (each write followed by WAIT 1, so "acknowledged"
 * means a replica had it):
 *
 *  - the link cut several times        → partial resyncs only (sync_partial_ok grows, sync_full doesn't);
 *  - the link down while more than the backlog is written → one full resync, then convergence;
 *  - a SIGSTOPped replica cut off at its output buffer limit, then SIGCONT → resynced, converged;
 *  - the same cut against a real Redis 7.0 master with a Mirra replica → partial resyncs.
 *
 * Every scenario ends with the same DEBUG DIGEST on all nodes and every acknowledged write present.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { type ServerHandle } from '../helpers/servers.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { cli, info, stat, waitCaughtUp, waitSameDigest, Writer, Resp } from './resilience-helpers.js';
import { replicationNodes } from '../helpers/fixtures.js';

const node = replicationNodes();
const proxies: FaultProxy[] = [];
after(async () => {
  for (const p of proxies) await p.close();
});

/** A Mirra replica of `master` whose link goes through a new FaultProxy. */
async function proxiedReplica(master: ServerHandle, args: string[] = []): Promise<{ r: ServerHandle; proxy: FaultProxy }> {
  const proxy = await FaultProxy.start(master.port);
  proxies.push(proxy);
  const r = await node('mirra', ['--replicaof', '127.0.0.1', String(proxy.port), ...args]);
  await waitCaughtUp(r.port, master.port);
  return { r, proxy };
}

async function cutsArePartial(kind: 'mirra' | 'redis'): Promise<string> {
  const m = await node(kind);
  const { r, proxy } = await proxiedReplica(m);
  const fullBefore = stat(m.port, 'sync_full');
  const partialBefore = stat(m.port, 'sync_partial_ok');
  const writer = new Writer(m.port, `cut-${kind}`, { wait: { replicas: 1, ms: 1000 } });
  const cuts = 3;
  for (let i = 0; i < cuts; i++) {
    const acked = writer.acked.size;
    await waitFor(() => writer.acked.size >= acked + 20, 'writes acknowledged between cuts', 15000);
    const conns = proxy.connections;
    proxy.cut();
    await waitFor(() => proxy.connections > conns && info(r.port).master_link_status === 'up', 'the replica reconnected', 15000);
  }
  await writer.stop();
  await waitCaughtUp(r.port, m.port);
  await waitSameDigest([m.port, r.port]);
  assert.deepEqual(await writer.missingOn(r.port), []);
  assert.deepEqual(await writer.missingOn(m.port), []);
  const partial = stat(m.port, 'sync_partial_ok') - partialBefore;
  assert.equal(stat(m.port, 'sync_full'), fullBefore, 'no full resync');
  assert.equal(partial, cuts);
  return `cuts=${cuts} partial=${partial} full=0 acked=${writer.acked.size} lost=0`;
}

test('a cut link resumes with a partial resync (Mirra master, Mirra replica)', async () => {
  console.log(`cut link, mirra master: ${await cutsArePartial('mirra')}`);
});

test('a cut link resumes with a partial resync (real Redis master, Mirra replica)', async () => {
  console.log(`cut link, redis master: ${await cutsArePartial('redis')}`);
});

async function backlogOverflow(kind: 'mirra' | 'redis'): Promise<void> {
  const m = await node(kind, ['--repl-backlog-size', '16384']);
  const { r, proxy } = await proxiedReplica(m);
  const fullBefore = stat(m.port, 'sync_full');
  cli(m.port, 'set', 'before', '1');
  await waitCaughtUp(r.port, m.port);
  // The link goes down and stays down (reconnections refused) while ~200 KB are written.
  proxy.refuse(true);
  proxy.cut();
  await waitFor(() => info(r.port).master_link_status === 'down', 'the link is down');
  const c = await Resp.open(m.port);
  const value = 'x'.repeat(1000);
  for (let i = 0; i < 200; i++) assert.equal(await c.call('SET', `big:${i}`, value), 'OK');
  c.close();
  const im = info(m.port);
  assert.ok(Number(im.repl_backlog_first_byte_offset) > Number(info(r.port).slave_repl_offset) + 1, 'the backlog moved past the replica');
  proxy.refuse(false);
  await waitCaughtUp(r.port, m.port);
  await waitSameDigest([m.port, r.port]);
  assert.equal(stat(m.port, 'sync_full'), fullBefore + 1);
  if (kind === 'mirra') assert.equal(info(m.port).mirra_full_sync_reason_offset_out_of_range, '1');
  assert.equal(cli(r.port, 'dbsize'), '201');
}

test('more than the backlog written while the link is down: one full resync, converged (Mirra master)', async () => {
  await backlogOverflow('mirra');
});

test('more than the backlog written while the link is down: one full resync, converged (real Redis master)', async () => {
  await backlogOverflow('redis');
});

/**
 * SIGSTOP the replica, write until the master cuts it off at its output buffer limit, write
 * `afterBytes` more, SIGCONT. Returns the resyncs the master served for it.
 */
async function stoppedAtOutputLimit(kind: 'mirra' | 'redis', afterBytes: number): Promise<{ full: number; partial: number; writtenMb: string }> {
  const m = await node(kind, ['--client-output-buffer-limit', 'replica 1mb 512kb 1']);
  const r = await node('mirra', ['--replicaof', '127.0.0.1', String(m.port)]);
  await waitCaughtUp(r.port, m.port);
  const fullBefore = stat(m.port, 'sync_full');
  const partialBefore = stat(m.port, 'sync_partial_ok');
  r.kill('SIGSTOP');
  // Far more than the limit plus what the kernel's socket buffers absorb.
  const c = await Resp.open(m.port);
  const value = 'y'.repeat(16 * 1024);
  let written = 0;
  for (let i = 0; !/overcoming of output buffer limits/.test(m.log()); i++) {
    assert.equal(await c.call('SET', `stop:${i % 2000}`, value), 'OK');
    written += value.length;
    assert.ok(written < 256 * 1024 * 1024, 'the replica was never disconnected');
  }
  assert.equal(info(m.port).connected_slaves, '0');
  for (let n = 0; n < afterBytes; n += value.length) await c.call('SET', `after:${n % 100}`, value);
  for (let i = 0; i < 100; i++) await c.call('INCR', 'after-cutoff');
  c.close();
  r.kill('SIGCONT');
  await waitCaughtUp(r.port, m.port, 30000);
  await waitSameDigest([m.port, r.port]);
  assert.equal(cli(r.port, 'get', 'after-cutoff'), '100');
  return {
    full: stat(m.port, 'sync_full') - fullBefore,
    partial: stat(m.port, 'sync_partial_ok') - partialBefore,
    writtenMb: (written / 1048576).toFixed(1),
  };
}

for (const kind of ['mirra', 'redis'] as const) {
  test(`a SIGSTOPped replica cut off at its output buffer limit resyncs after SIGCONT (${kind} master)`, async () => {
    // Little written after the cut-off: whether the default 1 MB backlog still reaches the
    // replica's offset depends on how much the kernel buffers held, so either resync is fine.
    const a = await stoppedAtOutputLimit(kind, 0);
    console.log(`sigstop at output limit, ${kind} master, nothing more written: written=${a.writtenMb}MB full=${a.full} partial=${a.partial}`);
    assert.equal(a.full + a.partial, 1);
    // 4 MB more after the cut-off: far past the backlog, a full resync.
    const b = await stoppedAtOutputLimit(kind, 4 * 1024 * 1024);
    console.log(`sigstop at output limit, ${kind} master, 4MB more written: written=${b.writtenMb}MB full=${b.full} partial=${b.partial}`);
    assert.equal(b.full, 1);
    assert.equal(b.partial, 0);
  });
}
