/**
 * Promotion with REPLICAOF NO ONE (PSYNC2, replication.md §8): the promoted replica starts a new
 * history and keeps the old id as replid2, so
 *  - its own sub-replicas (disconnected by the promotion) continue with a partial resync,
 *  - its former siblings re-pointed to it continue with a partial resync,
 *  - the old master re-pointed to it (it synthesises a cached master from its own history)
 *    continues with a partial resync too, when it wrote nothing after the promotion.
 * Once with Mirra everywhere, once in a mixed topology: a real Redis 7.0 master, Mirra
 * replicas, and a real Redis sub-replica under the promoted Mirra node.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMirra, startRedis, type ServerHandle } from '../helpers/servers.js';
import { cli, info, stat, waitCaughtUp, waitSameDigest, Writer } from './resilience-helpers.js';

const started: ServerHandle[] = [];
after(async () => {
  for (const s of started) await s.stop();
});

async function node(kind: 'mirra' | 'redis', replicaOf?: ServerHandle): Promise<ServerHandle> {
  const args = ['--repl-diskless-sync-delay', '0'];
  if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf.port));
  const s = kind === 'mirra' ? await startMirra({ args }) : await startRedis({ args });
  started.push(s);
  return s;
}

async function promotion(kinds: { master: 'mirra' | 'redis'; subReplica: 'mirra' | 'redis' }): Promise<string> {
  const m = await node(kinds.master);
  const r1 = await node('mirra', m);
  const r2 = await node('mirra', m);
  const s1 = await node('mirra', r1);
  const s2 = await node(kinds.subReplica, r1);
  for (const [r, up] of [[r1, m], [r2, m], [s1, r1], [s2, r1]] as const) await waitCaughtUp(r.port, up.port);
  // Writes acknowledged by both direct replicas, then quiet.
  const writer = new Writer(m.port, 'promo', { wait: { replicas: 2, ms: 2000 } });
  while (writer.acked.size < 100) await new Promise((r) => setTimeout(r, 20));
  await writer.stop();
  for (const [r, up] of [[r1, m], [r2, m], [s1, r1], [s2, r1]] as const) await waitCaughtUp(r.port, up.port);
  const old = info(r1.port);
  const fullOnR1 = stat(r1.port, 'sync_full');
  const partialOnR1 = stat(r1.port, 'sync_partial_ok');

  assert.equal(cli(r1.port, 'replicaof', 'no', 'one'), 'OK');
  const promoted = info(r1.port);
  assert.equal(promoted.role, 'master');
  assert.equal(promoted.master_replid2, old.master_replid);
  assert.equal(Number(promoted.second_repl_offset), Number(old.master_repl_offset) + 1);
  // Its sub-replicas come back by themselves, through replid2.
  await waitCaughtUp(s1.port, r1.port);
  await waitCaughtUp(s2.port, r1.port);
  // The sibling and the old master are re-pointed to it.
  assert.equal(cli(r2.port, 'replicaof', '127.0.0.1', String(r1.port)), 'OK');
  assert.equal(cli(m.port, 'replicaof', '127.0.0.1', String(r1.port)), 'OK');
  cli(r1.port, 'set', 'after-promotion', '1');
  for (const r of [s1, s2, r2, m]) await waitCaughtUp(r.port, r1.port);
  await waitSameDigest([m.port, r1.port, r2.port, s1.port, s2.port]);
  for (const r of [m, r1, r2, s1, s2]) assert.deepEqual(await writer.missingOn(r.port), [], `acknowledged writes on :${r.port}`);
  const full = stat(r1.port, 'sync_full') - fullOnR1;
  const partial = stat(r1.port, 'sync_partial_ok') - partialOnR1;
  assert.equal(full, 0, 'no full resync served by the promoted node');
  assert.equal(partial, 4, 'two sub-replicas, the sibling and the old master: four partial resyncs');
  // Everyone now shares the promoted node's history.
  for (const r of [m, r2, s1, s2]) assert.equal(info(r.port).master_replid, promoted.master_replid);
  return `partial=${partial} full=${full} acked=${writer.acked.size} lost=0`;
}

test('promotion in an all-Mirra topology: sub-replicas, sibling and old master all resync partially', async () => {
  console.log(`promotion, mirra only: ${await promotion({ master: 'mirra', subReplica: 'mirra' })}`);
});

test('promotion of a Mirra replica of a real Redis master, with a real Redis sub-replica', async () => {
  console.log(`promotion, redis master + redis sub-replica: ${await promotion({ master: 'redis', subReplica: 'redis' })}`);
});
