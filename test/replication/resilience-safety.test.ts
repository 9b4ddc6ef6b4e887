/**
 * The write-safety switches under faults (replication.md §10, §11), through real processes
 * with a FaultProxy on one replica link:
 *  - WAIT counts exactly the replicas that acknowledged, drops to the healthy ones while a link
 *    is stalled, and recovers after the heal (a real Redis replica counted beside a Mirra one);
 *  - min-replicas-to-write: writes refused with -NOREPLICAS once the only replica's ACKs stop
 *    for longer than min-replicas-max-lag, accepted again after the heal (Mirra master, and a
 *    real Redis master with a Mirra replica for comparison);
 *  - replica-serve-stale-data no: -MASTERDOWN while the link is down (INFO still answered),
 *    served again after the heal.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { type ServerHandle } from '../helpers/servers.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { cli, info, waitCaughtUp, waitSameDigest, Resp } from './resilience-helpers.js';
import { replicationNodes } from '../helpers/fixtures.js';

const node = replicationNodes();
const proxies: FaultProxy[] = [];
after(async () => {
  for (const p of proxies) await p.close();
});

async function proxy(target: ServerHandle): Promise<FaultProxy> {
  const p = await FaultProxy.start(target.port);
  proxies.push(p);
  return p;
}

test('WAIT counts the replicas that acknowledged, through a stall and its heal', async () => {
  const m = await node('mirra');
  const p = await proxy(m);
  const r1 = await node('mirra', ['--replicaof', '127.0.0.1', String(p.port)]);
  const r2 = await node('redis', ['--replicaof', '127.0.0.1', String(m.port)]);
  await waitCaughtUp(r1.port, m.port);
  await waitCaughtUp(r2.port, m.port);
  // WAIT counts from the offset of this connection's own last command.
  const c = await Resp.open(m.port);
  after(() => c.close());
  assert.equal(await c.call('SET', 'a', '1'), 'OK');
  assert.equal(await c.call('WAIT', '2', '5000'), 2);
  p.stall('both', true);
  assert.equal(await c.call('SET', 'b', '2'), 'OK');
  const t0 = Date.now();
  assert.equal(await c.call('WAIT', '2', '400'), 1);
  assert.ok(Date.now() - t0 >= 390, 'WAIT 2 ran to its timeout');
  assert.equal(await c.call('WAIT', '1', '2000'), 1);
  p.stall('both', false);
  assert.equal(await c.call('WAIT', '2', '5000'), 2);
  await waitSameDigest([m.port, r1.port, r2.port]);
});

async function noReplicas(kind: 'mirra' | 'redis'): Promise<void> {
  const m = await node(kind, ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '1']);
  const p = await proxy(m);
  const r = await node('mirra', ['--replicaof', '127.0.0.1', String(p.port)]);
  await waitCaughtUp(r.port, m.port);
  await waitFor(() => cli(m.port, 'set', 'ok', '1') === 'OK', 'writes accepted with a good replica');
  assert.equal(info(m.port).min_slaves_good_slaves, '1');
  // The replica's ACKs stop reaching the master: after max-lag it is no longer "good".
  p.stall('up', true);
  await waitFor(() => info(m.port).min_slaves_good_slaves === '0', 'the replica to stop counting as good', 10000, 100);
  assert.equal(cli(m.port, 'set', 'refused', '1'), 'NOREPLICAS Not enough good replicas to write.');
  assert.equal(cli(m.port, 'get', 'ok'), '1');
  assert.equal(cli(m.port, 'get', 'refused'), '');
  p.stall('up', false);
  await waitFor(() => cli(m.port, 'set', 'back', '1') === 'OK', 'writes accepted again after the heal', 10000, 100);
  await waitCaughtUp(r.port, m.port);
  await waitSameDigest([m.port, r.port]);
}

test('NOREPLICAS while the only replica’s ACKs are lost (Mirra master)', async () => {
  await noReplicas('mirra');
});

test('NOREPLICAS while the Mirra replica’s ACKs are lost (real Redis master, same behaviour)', async () => {
  await noReplicas('redis');
});

test('MASTERDOWN with replica-serve-stale-data no while the link is down, served again after the heal', async () => {
  const m = await node('mirra');
  const p = await proxy(m);
  const r = await node('mirra', ['--replicaof', '127.0.0.1', String(p.port), '--replica-serve-stale-data', 'no']);
  await waitCaughtUp(r.port, m.port);
  cli(m.port, 'set', 'k', 'v');
  await waitCaughtUp(r.port, m.port);
  assert.equal(cli(r.port, 'get', 'k'), 'v');
  p.refuse(true);
  p.cut();
  await waitFor(() => info(r.port).master_link_status === 'down', 'the link to go down');
  const masterDown = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
  assert.equal(cli(r.port, 'get', 'k'), masterDown);
  assert.equal(cli(r.port, 'ping'), masterDown);
  assert.equal(info(r.port).role, 'slave');
  cli(m.port, 'set', 'k', 'v2');
  p.refuse(false);
  await waitCaughtUp(r.port, m.port);
  assert.equal(cli(r.port, 'get', 'k'), 'v2');
  await waitSameDigest([m.port, r.port]);
});
