/**
 * kill -9 of a Mirra master at chosen persistence moments, with real processes:
 *
 *  - during the BGSAVE a disk-based full sync runs for its replica: the previous dump is
 *    byte-for-byte intact and loads; the replica keeps serving, then syncs with the restarted
 *    master and holds the same dataset;
 *  - during BGREWRITEAOF with appendfsync always and a client writing: after restart every
 *    acknowledged write is there, the AOF directory is usable (another rewrite, another restart,
 *    the same dataset).
 *
 * (A kill during a plain BGSAVE, and a kill after a rewrite, are in test/persistence.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startMirra, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { cli, digest, info, waitCaughtUp, Writer } from '../replication/resilience-helpers.js';
import { Probe, atMoment, killHard, restartMirra } from './moments.js';

const started: ServerHandle[] = [];
const probes: Probe[] = [];
after(async () => {
  for (const p of probes) p.close();
  for (const s of started) await s.stop();
});

async function mirra(args: string[]): Promise<ServerHandle> {
  const s = await startMirra({ args });
  started.push(s);
  return s;
}

async function probe(port: number): Promise<Probe> {
  const p = await Probe.open(port);
  probes.push(p);
  return p;
}

test('master killed during the BGSAVE of a disk-based full sync: previous dump intact and loaded; the replica resyncs', async (t) => {
  const args = ['--repl-diskless-sync', 'no', '--appendonly', 'no'];
  const m = await mirra(args);
  const mp = await probe(m.port);
  assert.equal(await mp.call('DEBUG', 'POPULATE', '200000', 'key', '24'), 'OK');
  assert.equal(await mp.call('SET', 'saved', 'yes'), 'OK');
  assert.equal(await mp.call('SAVE'), 'OK');
  const dump = path.join(m.dir, 'dump.rdb');
  const previous = fs.readFileSync(dump);
  assert.equal(await mp.call('SET', 'not-saved', 'lost on restart'), 'OK');
  const r = await mirra(['--replicaof', '127.0.0.1', String(m.port)]);
  const moment = await atMoment('the BGSAVE for the replica runs', async () => (await mp.field('persistence', 'rdb_bgsave_in_progress')) === '1', () =>
    killHard(m),
  );
  t.diagnostic(`killed ${moment.waitedMs} ms into the sync`);
  assert.ok(fs.readFileSync(dump).equals(previous), 'the previous dump is untouched');
  // The replica keeps answering while its master is gone.
  assert.equal(cli(r.port, 'ping'), 'PONG');
  const m2 = await restartMirra(m, { args });
  started.push(m2);
  assert.equal(cli(m2.port, 'get', 'saved'), 'yes');
  assert.equal(cli(m2.port, 'get', 'not-saved'), '');
  assert.equal(cli(m2.port, 'dbsize'), '200001');
  await waitCaughtUp(r.port, m2.port, 60000);
  assert.equal(digest(r.port), digest(m2.port));
});

test('kill -9 during BGREWRITEAOF (appendfsync always, writes going on): no acknowledged write lost, AOF usable', async (t) => {
  const args = ['--appendonly', 'yes', '--appendfsync', 'always'];
  const m = await mirra(args);
  const mp = await probe(m.port);
  // DEBUG POPULATE is not propagated: a first rewrite puts those keys into the base.
  assert.equal(await mp.call('DEBUG', 'POPULATE', '150000', 'key', '24'), 'OK');
  assert.equal(await mp.call('BGREWRITEAOF'), 'Background append only file rewriting started');
  await waitFor(async () => (await mp.field('persistence', 'aof_rewrite_in_progress')) === '0', 'the first rewrite', 60000);
  const writer = new Writer(m.port, 'aof');
  await waitFor(() => writer.acked.size >= 100, 'writes acknowledged', 30000);
  const from = m.log().length;
  assert.equal(await mp.call('BGREWRITEAOF'), 'Background append only file rewriting started');
  const moment = await atMoment(
    'the rewrite runs',
    async () => (await mp.field('persistence', 'aof_rewrite_in_progress')) === '1',
    () => killHard(m),
    { stepMs: 1 },
  );
  await writer.stop();
  t.diagnostic(`killed ${moment.waitedMs} ms into the rewrite; ${writer.acked.size} writes acknowledged of ${writer.attempts}`);
  assert.doesNotMatch(m.log().slice(from), /Background AOF rewrite finished successfully/, 'the kill came before the rewrite finished');
  t.diagnostic(`appendonlydir after the kill: ${fs.readdirSync(path.join(m.dir, 'appendonlydir')).join(' ')}`);
  const m2 = await restartMirra(m, { args });
  started.push(m2);
  assert.deepEqual(await writer.missingOn(m2.port), []);
  assert.ok(Number(cli(m2.port, 'dbsize')) >= 150000 + writer.acked.size);
  // The directory the crash left is a sound starting point: rewrite, restart, same dataset.
  const want = digest(m2.port);
  assert.equal(cli(m2.port, 'bgrewriteaof'), 'Background append only file rewriting started');
  await waitFor(() => info(m2.port, 'persistence').aof_rewrite_in_progress === '0', 'the rewrite after recovery', 60000);
  assert.equal(info(m2.port, 'persistence').aof_last_bgrewrite_status, 'ok');
  await killHard(m2);
  const m3 = await restartMirra(m2, { args });
  started.push(m3);
  assert.equal(digest(m3.port), want);
  t.diagnostic(`appendonlydir after recovery and a rewrite: ${fs.readdirSync(path.join(m.dir, 'appendonlydir')).join(' ')}`);
});
