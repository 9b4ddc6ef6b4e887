/**
 * A master restarted from its own RDB (written at SHUTDOWN with repl-id / repl-offset AUX
 * fields) keeps the old history as replid2, so its replica resumes with a partial resync and
 * no write is lost (replication.md §8, restart of a master).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMirra, redisCli, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

const started: ServerHandle[] = [];
after(async () => {
  for (const s of started) await s.stop();
});

function field(port: number, section: string, name: string): string {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(redisCli(port, 'info', section));
  return m ? m[1]!.trim() : '';
}

test('a master restarted from its RDB lets its replica resume partially', async () => {
  const master = await startMirra({ args: ['--save', '3600 1'] });
  started.push(master);
  const replica = await startMirra({ args: ['--replicaof', '127.0.0.1', String(master.port), '--repl-diskless-sync-delay', '0'] });
  started.push(replica);
  await waitFor(() => field(replica.port, 'replication', 'master_link_status') === 'up', 'replica link up', 20000);
  for (let i = 0; i < 50; i++) redisCli(master.port, 'set', `k${i}`, `v${i}`);
  const offset = Number(field(master.port, 'replication', 'master_repl_offset'));
  await waitFor(() => Number(field(replica.port, 'replication', 'slave_repl_offset')) === offset, 'replica caught up');
  const oldReplid = field(master.port, 'replication', 'master_replid');

  redisCli(master.port, 'shutdown');
  assert.equal(await master.exited, 0);
  const again = await startMirra({ port: master.port, dir: master.dir, args: ['--save', '3600 1'] });
  started.push(again);
  await waitFor(() => field(replica.port, 'replication', 'master_link_status') === 'up', 'replica link up again', 20000);

  assert.equal(field(again.port, 'replication', 'master_replid2'), oldReplid);
  // SHUTDOWN may feed a REPLCONF GETACK (37 bytes) before saving: the saved offset is >= offset.
  const second = Number(field(again.port, 'replication', 'second_repl_offset'));
  assert.ok(second === offset + 1 || second === offset + 38, `second_repl_offset ${second} for offset ${offset}`);
  assert.equal(field(again.port, 'stats', 'sync_partial_ok'), '1');
  assert.equal(field(again.port, 'stats', 'sync_full'), '0');
  redisCli(again.port, 'set', 'after', 'restart');
  await waitFor(() => redisCli(replica.port, 'get', 'after') === 'restart', 'new write replicated');
  assert.equal(redisCli(replica.port, 'get', 'k49'), 'v49');
  assert.equal(redisCli(replica.port, 'debug', 'digest'), redisCli(again.port, 'debug', 'digest'));
});
