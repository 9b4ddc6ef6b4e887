/**
 * FAILOVER with a client writing throughout, through real processes: Mirra → Mirra (with a
 * sibling replica that ends up chained under the old master), Mirra → real Redis 7.0 replica
 * and back (real Redis master → Mirra replica target, which accepts PSYNC … FAILOVER), and a
 * real Redis target that refuses PSYNC (ACL) so the Mirra master aborts. Every write the old
 * master acknowledged is on the new master, every node ends with the same DEBUG DIGEST, and the
 * role swap is a partial resynchronisation (no full sync served by anyone).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { cli, info, stat, waitCaughtUp, waitSameDigest, Writer } from './resilience-helpers.js';
import { replicationNodes } from '../helpers/fixtures.js';

const node = replicationNodes();

/**
 * Runs FAILOVER TO target on `from` while `writer` writes to it; waits for the swap, moves the
 * writer to the new master. Returns the ids before the swap.
 */
async function failoverWithWriter(from: ServerHandle, target: ServerHandle, writer: Writer): Promise<Record<string, string>> {
  // Let the writer get going before the hand-over.
  await waitFor(() => writer.acked.size >= 50, 'writes acknowledged before the failover', 10000);
  const before = info(from.port);
  assert.equal(cli(from.port, 'failover', 'to', '127.0.0.1', String(target.port)), 'OK');
  await waitFor(
    () => {
      const f = info(from.port);
      const t = info(target.port);
      return f.role === 'slave' && f.master_failover_state === 'no-failover' && f.master_link_status === 'up' && t.role === 'master';
    },
    'the roles to swap',
    15000,
  );
  writer.retarget(target.port);
  const acked = writer.acked.size;
  await waitFor(() => writer.acked.size >= acked + 50, 'writes acknowledged by the new master', 10000);
  return before;
}

test('Mirra → Mirra with a writing client: no acknowledged write lost, partial resyncs only', async () => {
  const a = await node('mirra');
  const b = await node('mirra', ['--replicaof', '127.0.0.1', String(a.port)]);
  const c = await node('mirra', ['--replicaof', '127.0.0.1', String(a.port)]);
  await waitCaughtUp(b.port, a.port);
  await waitCaughtUp(c.port, a.port);
  const fullOnA = stat(a.port, 'sync_full');
  const partialOnA = stat(a.port, 'sync_partial_ok');
  const writer = new Writer(a.port, 'mm');
  const before = await failoverWithWriter(a, b, writer);
  await writer.stop();
  // The writes that waited in the pause were answered -READONLY by the demoted master.
  assert.deepEqual(await writer.missingOn(b.port), []);
  const ib = info(b.port);
  assert.equal(ib.master_replid2, before.master_replid);
  assert.ok(Number(ib.second_repl_offset) > Number(before.master_repl_offset));
  // The sibling stays under the old master (now a chained replica) and continues there.
  await waitCaughtUp(a.port, b.port);
  await waitCaughtUp(c.port, a.port);
  assert.equal(info(c.port).master_port, String(a.port));
  await waitSameDigest([a.port, b.port, c.port]);
  // b answered a's PSYNC FAILOVER with +CONTINUE; c reconnected to a through replid2.
  assert.equal(stat(b.port, 'sync_full'), 0);
  assert.ok(stat(b.port, 'sync_partial_ok') >= 1);
  assert.equal(stat(a.port, 'sync_full'), fullOnA);
  assert.ok(stat(a.port, 'sync_partial_ok') > partialOnA);
  console.log(`mirra→mirra: acked=${writer.acked.size} attempts=${writer.attempts} errors=${JSON.stringify([...writer.errors])}`);
});

test('Mirra master → real Redis replica and back: the Redis replica takes over, then hands back to Mirra', async () => {
  const m = await node('mirra');
  const r = await node('redis', ['--replicaof', '127.0.0.1', String(m.port)]);
  await waitCaughtUp(r.port, m.port);
  const writer = new Writer(m.port, 'mr');
  const before = await failoverWithWriter(m, r, writer);
  assert.deepEqual(await writer.missingOn(r.port), []);
  assert.equal(info(r.port).master_replid2, before.master_replid);
  await waitSameDigest([m.port, r.port]);
  assert.equal(stat(r.port, 'sync_full'), 0);
  assert.ok(stat(r.port, 'sync_partial_ok') >= 1);
  // Back: the real Redis master sends PSYNC … FAILOVER to the Mirra replica.
  const before2 = await failoverWithWriter(r, m, writer);
  await writer.stop();
  assert.deepEqual(await writer.missingOn(m.port), []);
  assert.equal(info(m.port).master_replid2, before2.master_replid);
  await waitSameDigest([m.port, r.port]);
  assert.ok(stat(m.port, 'sync_partial_ok') >= 1);
  console.log(`mirra↔redis: acked=${writer.acked.size} attempts=${writer.attempts} errors=${JSON.stringify([...writer.errors])}`);
});

test('a real Redis target refusing PSYNC (ACL -psync) makes the Mirra master abort and stay master', async () => {
  const m = await node('mirra');
  const r = await node('redis', ['--replicaof', '127.0.0.1', String(m.port)]);
  await waitCaughtUp(r.port, m.port);
  cli(r.port, 'acl', 'setuser', 'default', '-psync');
  const before = info(m.port);
  assert.equal(cli(m.port, 'failover', 'to', '127.0.0.1', String(r.port)), 'OK');
  await waitFor(() => /FAILOVER to .* aborted: Failover target rejected psync request/.test(m.log()), 'the abort', 15000);
  const end = info(m.port);
  assert.equal(end.role, 'master');
  assert.equal(end.master_failover_state, 'no-failover');
  assert.equal(end.master_replid2, before.master_replid);
  assert.equal(cli(m.port, 'set', 'after', '1'), 'OK');
  // The Redis replica (never promoted) reconnects and continues through replid2.
  cli(r.port, 'acl', 'setuser', 'default', '+psync');
  await waitCaughtUp(r.port, m.port);
  await waitSameDigest([m.port, r.port]);
  assert.equal(info(r.port).role, 'slave');
});
