/**
 * Seed 000: `mirra-server --port A` and `--port B`, then `SLAVEOF 127.0.0.1 A` at runtime on B:
 * `OK`, INFO replication on both sides with Redis's shape, a SET on the master read on the
 * replica, READONLY on the replica, REPLICAOF's other replies (§13), ROLE, `SLAVEOF NO ONE`
 * keeping the data, and switching to another master discarding it for the new master's.
 * The replica's INFO field order is compared with a real redis-server replica's.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMirra, startRedis, redisCli, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

function cli(port: number, ...args: string[]): string {
  return redisCli(port, ...args).trimEnd();
}

function infoLines(port: number): string[] {
  return redisCli(port, 'info', 'replication')
    .split(/\r?\n/)
    .filter((l) => l.includes(':'));
}

function info(port: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of infoLines(port)) {
    const i = line.indexOf(':');
    out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

let master: ServerHandle;
let replica: ServerHandle;
let other: ServerHandle;

before(async () => {
  master = await startMirra({ args: ['--repl-diskless-sync-delay', '0'] });
  replica = await startMirra();
});
after(async () => {
  for (const s of [replica, master, other]) await s?.stop();
});

test('SLAVEOF at runtime answers OK and the link comes up (INFO on both sides)', async () => {
  assert.equal(cli(replica.port, 'slaveof', '127.0.0.1', String(master.port)), 'OK');
  await waitFor(() => info(replica.port).master_link_status === 'up', 'link up');
  const r = info(replica.port);
  assert.equal(r.role, 'slave');
  assert.equal(r.master_host, '127.0.0.1');
  assert.equal(r.master_port, String(master.port));
  assert.equal(r.master_sync_in_progress, '0');
  assert.equal(r.slave_priority, '100');
  assert.equal(r.slave_read_only, '1');
  await waitFor(() => info(master.port).connected_slaves === '1', 'master lists the replica');
  const m = info(master.port);
  assert.equal(m.role, 'master');
  assert.match(m.slave0!, new RegExp(`^ip=127\\.0\\.0\\.1,port=${replica.port},state=online,offset=\\d+,lag=\\d+$`));
  assert.equal(r.master_replid, m.master_replid);
  assert.equal(cli(replica.port, 'config', 'get', 'slaveof'), `slaveof\n127.0.0.1 ${master.port}`);
});

test('SET on the master, GET on the replica; SET on the replica is READONLY', async () => {
  assert.equal(cli(master.port, 'set', 'redis', 'master-slave'), 'OK');
  await waitFor(() => cli(replica.port, 'get', 'redis') === 'master-slave', 'replicated');
  assert.equal(cli(replica.port, 'set', 'hello', 'world'), "READONLY You can't write against a read only replica.");
  await waitFor(() => info(replica.port).slave_repl_offset === info(master.port).master_repl_offset, 'offsets converge');
  await waitFor(() => info(master.port).slave0!.includes(`offset=${info(master.port).master_repl_offset},`), 'ACK seen by the master');
});

test('REPLICAOF replies: already connected, invalid port; ROLE on the replica', async () => {
  assert.equal(cli(replica.port, 'replicaof', '127.0.0.1', String(master.port)), 'OK Already connected to specified master');
  assert.equal(cli(replica.port, 'replicaof', '127.0.0.1', '70000'), 'ERR Invalid master port');
  assert.equal(cli(replica.port, 'replicaof', '127.0.0.1', 'abc'), 'ERR Invalid master port');
  assert.equal(cli(replica.port, 'replicaof', 'a'), "ERR wrong number of arguments for 'replicaof' command");
  assert.equal(cli(master.port, 'replicaof', 'no', 'one'), 'OK');
  assert.equal(info(master.port).role, 'master');
  const role = cli(replica.port, 'role').split('\n');
  assert.deepEqual(role.slice(0, 4), ['slave', '127.0.0.1', String(master.port), 'connected']);
  assert.equal(role[4], info(replica.port).slave_repl_offset);
});

test("INFO replication field order matches a real redis-server replica's", async () => {
  const redisReplica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  try {
    await waitFor(() => info(redisReplica.port).master_link_status === 'up', 'real replica up', 20000);
    const keys = (port: number): string[] =>
      infoLines(port)
        .map((l) => l.slice(0, l.indexOf(':')))
        .filter((k) => !k.startsWith('mirra_') && !/^slave\d+$/.test(k));
    assert.deepEqual(keys(replica.port), keys(redisReplica.port));
  } finally {
    await redisReplica.stop();
  }
});

test('SLAVEOF NO ONE: the replica becomes a master and keeps its data', async () => {
  const before = info(replica.port);
  assert.equal(cli(replica.port, 'slaveof', 'no', 'one'), 'OK');
  const r = info(replica.port);
  assert.equal(r.role, 'master');
  assert.equal(r.master_replid2, before.master_replid);
  assert.equal(r.second_repl_offset, String(Number(before.master_repl_offset) + 1));
  assert.notEqual(r.master_replid, before.master_replid);
  assert.equal(cli(replica.port, 'get', 'redis'), 'master-slave');
  assert.equal(cli(replica.port, 'set', 'hello', 'world'), 'OK');
  assert.ok(replica.log().includes('MASTER MODE enabled (user request from'));
  await waitFor(() => info(master.port).connected_slaves === '0', 'old master lost its replica');
});

test('switching to another master discards the data and resyncs from the new master', async () => {
  other = await startMirra({ args: ['--repl-diskless-sync-delay', '0'] });
  assert.equal(cli(other.port, 'set', 'only', 'on-other'), 'OK');
  assert.equal(cli(replica.port, 'slaveof', '127.0.0.1', String(other.port)), 'OK');
  await waitFor(() => info(replica.port).master_link_status === 'up', 'link to the other master up');
  await waitFor(() => cli(replica.port, 'get', 'only') === 'on-other', 'new master data');
  assert.equal(cli(replica.port, 'get', 'redis'), '');
  assert.equal(cli(replica.port, 'get', 'hello'), '');
  assert.equal(info(replica.port).master_replid, info(other.port).master_replid);
  // Its own history was offered first (PSYNC with the synthesized cached master).
  assert.ok(replica.log().includes('Before turning into a replica, using my own master parameters to synthesize a cached master'));
});
