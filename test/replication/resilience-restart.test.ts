/**
 * A replica restart (SHUTDOWN with save points configured, so the replica writes its RDB with
 * repl-id / repl-offset / repl-stream-db; replication.md §8) while a client keeps writing to
 * the master: the restarted replica asks PSYNC <id> <offset+1> and is served a partial resync;
 * no acknowledged write is missing on it. With a Mirra master and a Mirra replica, a real Redis
 * master and a Mirra replica, and a Mirra master and a real Redis replica.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait.js';
import { cli, info, stat, waitCaughtUp, waitSameDigest, Writer } from './resilience-helpers.js';
import { replicationNodes } from '../helpers/fixtures.js';

const node = replicationNodes();

async function restart(masterKind: 'mirra' | 'redis', replicaKind: 'mirra' | 'redis'): Promise<string> {
  const m = await node(masterKind, []);
  const replicaArgs = ['--save', '3600 1', '--replicaof', '127.0.0.1', String(m.port)];
  const r = await node(replicaKind, replicaArgs);
  await waitCaughtUp(r.port, m.port);
  const fullBefore = stat(m.port, 'sync_full');
  const partialBefore = stat(m.port, 'sync_partial_ok');
  const writer = new Writer(m.port, `restart-${masterKind}-${replicaKind}`);
  await waitFor(() => writer.acked.size >= 50, 'writes before the restart', 10000);
  // SHUTDOWN saves (save points configured): the RDB carries the replication id and offset.
  cli(r.port, 'shutdown');
  await r.exited;
  const acked = writer.acked.size;
  await waitFor(() => writer.acked.size >= acked + 50, 'writes while the replica is down', 10000);
  const r2 = await node(replicaKind, replicaArgs, { dir: r.dir, port: r.port });
  await waitFor(() => info(r2.port).master_link_status === 'up', 'the restarted replica to connect', 15000);
  const acked2 = writer.acked.size;
  await waitFor(() => writer.acked.size >= acked2 + 50, 'writes after the restart', 10000);
  await writer.stop();
  await waitCaughtUp(r2.port, m.port);
  await waitSameDigest([m.port, r2.port]);
  assert.deepEqual(await writer.missingOn(r2.port), []);
  const full = stat(m.port, 'sync_full') - fullBefore;
  const partial = stat(m.port, 'sync_partial_ok') - partialBefore;
  assert.match(r2.log(), /Trying a partial resynchronization \(request [0-9a-f]{40}:\d+\)/);
  assert.equal(full, 0, 'no full resync after the restart');
  assert.equal(partial, 1);
  return `partial=${partial} full=${full} acked=${writer.acked.size} lost=0`;
}

test('a Mirra replica restarted from its RDB resyncs partially from a Mirra master', async () => {
  console.log(`restart, mirra→mirra: ${await restart('mirra', 'mirra')}`);
});

test('a Mirra replica restarted from its RDB resyncs partially from a real Redis master', async () => {
  console.log(`restart, redis→mirra: ${await restart('redis', 'mirra')}`);
});

test('a real Redis replica restarted from its RDB resyncs partially from a Mirra master', async () => {
  console.log(`restart, mirra→redis: ${await restart('mirra', 'redis')}`);
});
