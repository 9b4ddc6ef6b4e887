/**
 * Mirra in the middle of a chain of real servers: redis-server master → Mirra replica →
 * redis-server sub-replica. The bytes Mirra applies are forwarded verbatim, so all three share
 * the replid and offsets (§9); local writes on a writable Mirra replica stay local; WAIT on the
 * top master is answered through the chain; promotion of the middle node shifts the ids and
 * the sub-replica continues with a partial resync via replid2 (§8); re-pointing the promoted
 * node to the old master makes it full-resync and its sub-replica resync too. A Mirra replica
 * restarted from the RDB it received continues with PSYNC <id> <offset+1>.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMirra, startRedis, redisCli, tempDir, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

function cli(port: number, ...args: string[]): string {
  return redisCli(port, ...args).trimEnd();
}

function info(port: number, section = 'replication'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of redisCli(port, 'info', section).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

let top: ServerHandle;
let middle: ServerHandle;
let leaf: ServerHandle;

before(async () => {
  top = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
  middle = await startMirra({ args: ['--replicaof', '127.0.0.1', String(top.port), '--replica-read-only', 'no', '--repl-diskless-sync-delay', '0'] });
  leaf = await startRedis({ args: ['--replicaof', '127.0.0.1', String(middle.port)] });
});
after(async () => {
  for (const s of [leaf, middle, top]) await s?.stop();
});

async function converged(nodes: ServerHandle[]): Promise<void> {
  await waitFor(() => {
    const t = info(top.port);
    return nodes.every((n) => {
      const i = info(n.port);
      return i.master_link_status === 'up' && i.master_replid === t.master_replid && i.master_repl_offset === t.master_repl_offset;
    });
  }, 'the chain converges on the top master replid and offset', 20000);
}

test('writes on the top master reach the sub-replica through Mirra, same ids and offsets', async () => {
  await converged([middle, leaf]);
  cli(top.port, 'set', 'k', 'v');
  cli(top.port, 'rpush', 'l', 'a', 'b');
  cli(top.port, '-n', '4', 'set', 'db4', 'x');
  await waitFor(() => cli(leaf.port, '-n', '4', 'get', 'db4') === 'x', 'leaf got the writes');
  assert.equal(cli(leaf.port, 'get', 'k'), 'v');
  await converged([middle, leaf]);
  const m = info(middle.port);
  assert.equal(m.connected_slaves, '1');
  assert.match(m.slave0!, new RegExp(`^ip=127\\.0\\.0\\.1,port=${leaf.port},state=online,offset=\\d+,lag=\\d+$`));
  assert.equal(m.repl_backlog_active, '1');
  // The backlog holds exactly the bytes forwarded since the sync point.
  assert.equal(Number(m.repl_backlog_first_byte_offset) + Number(m.repl_backlog_histlen) - 1, Number(m.master_repl_offset));
});

test('WAIT on the top master counts the Mirra replica (GETACK answered, forwarded down)', async () => {
  cli(top.port, 'set', 'w', '1');
  assert.equal(cli(top.port, 'wait', '1', '5000'), '1');
  await converged([middle, leaf]);
});

test('local writes on a writable Mirra replica are not forwarded', async () => {
  assert.equal(cli(middle.port, 'set', 'local', 'only'), 'OK');
  cli(top.port, 'set', 'marker', '1');
  await waitFor(() => cli(leaf.port, 'get', 'marker') === '1', 'marker reached the leaf');
  assert.equal(cli(leaf.port, 'get', 'local'), '');
  await converged([middle, leaf]);
});

test('promotion: ids shift, the sub-replica continues via replid2 with a partial resync', async () => {
  const before = info(middle.port);
  const okBefore = Number(info(middle.port, 'stats').sync_partial_ok);
  assert.equal(cli(middle.port, 'replicaof', 'no', 'one'), 'OK');
  const after = info(middle.port);
  assert.equal(after.role, 'master');
  assert.equal(after.master_replid2, before.master_replid);
  assert.equal(after.second_repl_offset, String(Number(before.master_repl_offset) + 1));
  await waitFor(() => info(leaf.port).master_replid === after.master_replid && info(leaf.port).master_link_status === 'up', 'leaf follows the new id');
  assert.equal(Number(info(middle.port, 'stats').sync_partial_ok), okBefore + 1);
  assert.equal(info(leaf.port).master_replid2, before.master_replid);
  cli(middle.port, 'set', 'from', 'promoted');
  await waitFor(() => cli(leaf.port, 'get', 'from') === 'promoted', 'the promoted node streams to the leaf');
});

test('re-pointed to the old master: full resync, and the sub-replica resyncs too', async () => {
  cli(top.port, 'set', 'newer', 'on-top');
  assert.equal(cli(middle.port, 'replicaof', '127.0.0.1', String(top.port)), 'OK');
  await waitFor(() => cli(leaf.port, 'get', 'newer') === 'on-top', 'leaf has the top master data again', 20000);
  await converged([middle, leaf]);
  assert.equal(cli(leaf.port, 'get', 'from'), '');
  assert.ok(middle.log().includes(`Trying a partial resynchronization (request`));
});

test('a restarted Mirra replica continues from the RDB it received (PSYNC, no full sync)', async () => {
  const master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
  const dir = tempDir('mirra-replica-restart-');
  let r = await startMirra({ dir, args: ['--replicaof', '127.0.0.1', String(master.port)] });
  try {
    cli(master.port, 'set', 'before', '1');
    await waitFor(() => cli(r.port, 'get', 'before') === '1', 'synced');
    const port = r.port;
    await r.stop(); // SIGKILL: only the RDB received from the master is on disk
    cli(master.port, 'set', 'while', 'down');
    const fullBefore = Number(info(master.port, 'stats').sync_full);
    const okBefore = Number(info(master.port, 'stats').sync_partial_ok);
    r = await startMirra({ dir, port, args: ['--replicaof', '127.0.0.1', String(master.port)] });
    await waitFor(() => cli(r.port, 'get', 'while') === 'down', 'missed write applied after restart');
    assert.equal(Number(info(master.port, 'stats').sync_partial_ok), okBefore + 1, r.log() + master.log());
    assert.equal(Number(info(master.port, 'stats').sync_full), fullBefore);
    assert.equal(cli(r.port, 'get', 'before'), '1');
    assert.equal(info(r.port).master_replid, info(master.port).master_replid);
    assert.ok(r.log().includes('Before turning into a replica, using my own master parameters to synthesize a cached master'));
  } finally {
    await r.stop();
    await master.stop();
  }
});
