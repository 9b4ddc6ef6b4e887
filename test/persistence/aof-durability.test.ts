/**
 * AOF durability on real Mirra processes:
 *  - appendfsync always: every write acknowledged to a client survives kill -9;
 *  - BGREWRITEAOF (both base forms) while several clients keep writing: after kill -9 and a
 *    restart the dataset is exactly the one acknowledged before the kill (DEBUG DIGEST);
 *  - CONFIG SET appendonly yes at runtime (first rewrite while writes continue), then no;
 *  - automatic rewrite on growth; BGREWRITEAOF replies (already in progress, scheduled
 *    during a BGSAVE and inside MULTI).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startMirra, tempDir, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { client, closeClients, digest, info, listDir, waitRewriteDone, writeDataset } from './aof-dataset.js';

const started: ServerHandle[] = [];

after(async () => {
  closeClients();
  await Promise.all(started.map((s) => s.stop()));
});

async function mirra(dir: string, args: string[]): Promise<ServerHandle> {
  const s = await startMirra({ dir, args });
  started.push(s);
  return s;
}

/** kill -9, then a new process on the same directory and port arguments. */
async function crashAndRestart(s: ServerHandle, args: string[]): Promise<ServerHandle> {
  s.kill('SIGKILL');
  await s.exited;
  return mirra(s.dir, args);
}

test('appendfsync always: no acknowledged write is lost across kill -9', async () => {
  const args = ['--appendonly', 'yes', '--appendfsync', 'always'];
  const s = await mirra(tempDir('mirra-aof-always-'), args);
  const c = client(s.port);
  const n = 250;
  for (let i = 0; i < n; i++) assert.equal(await c.set(`k${i}`, `v${i}`), 'OK');
  await c.incrbyfloat('f', '0.5');
  const s2 = await crashAndRestart(s, args);
  const c2 = client(s2.port);
  assert.equal(await c2.dbsize(), n + 1);
  const vals = await c2.mget(...Array.from({ length: n }, (_, i) => `k${i}`));
  vals.forEach((v, i) => assert.equal(v, `v${i}`));
  assert.equal(await c2.get('f'), '0.5');
  await s2.stop();
});

/** Clients writing until stopped; resolves with the number of acknowledged writes. */
function writers(port: number, count: number): { stop: () => Promise<number> } {
  let running = true;
  let acked = 0;
  const loops = Array.from({ length: count }, async (_, w) => {
    const c = client(port, w % 3);
    let i = 0;
    while (running) {
      const p = c.pipeline();
      for (let j = 0; j < 20; j++, i++) {
        p.incr(`ctr:${w}`);
        p.set(`w${w}:${i % 5000}`, `${i}`);
        if (i % 7 === 0) p.del(`w${w}:${(i * 13) % 5000}`);
        if (i % 11 === 0) p.rpush(`wl:${w}`, `${i}`);
        if (i % 13 === 0) p.hset(`big:${i % 2000}`, `f${w}`, `${i}`);
      }
      await p.exec();
      acked += 20;
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return acked;
    },
  };
}

test('BGREWRITEAOF with writes continuing gives the right dataset after kill -9 and restart', async () => {
  const args = ['--appendonly', 'yes'];
  const s = await mirra(tempDir('mirra-aof-rw-'), args);
  const c = client(s.port);
  // Enough data for the snapshot to take a while, so that writes land during the rewrite.
  for (let b = 0; b < 6; b++) {
    const p = c.pipeline();
    for (let i = 0; i < 5000; i++) p.hset(`big:${b * 5000 + i}`, 'f', 'x'.repeat(20), 'g', String(i));
    await p.exec();
  }
  await writeDataset(s.port, 'a');
  const w = writers(s.port, 2);
  let during = 0;
  for (const preamble of ['yes', 'no', 'yes']) {
    await c.config('SET', 'aof-use-rdb-preamble', preamble);
    const before = Number((await info(s.port)).aof_rewrites);
    assert.equal(await c.bgrewriteaof(), 'Background append only file rewriting started');
    // Writes acknowledged while the snapshot runs go to the new incr file.
    while ((await info(s.port)).aof_rewrite_in_progress === '1') {
      await c.incr('during');
      during++;
    }
    await waitRewriteDone(s.port, before + 1);
  }
  const acked = await w.stop();
  assert.ok(acked > 0);
  assert.ok(during > 0, 'some writes were acknowledged while a rewrite ran');
  const dir = path.join(s.dir, 'appendonlydir');
  assert.deepEqual(listDir(dir), ['appendonly.aof.4.base.rdb', 'appendonly.aof.4.incr.aof', 'appendonly.aof.manifest']);
  const want = await digest(s.port);
  const s2 = await crashAndRestart(s, args);
  assert.equal(await digest(s2.port), want);
  assert.equal(await client(s2.port).get('during'), String(during));
  const inf = await info(s2.port);
  assert.equal(inf.aof_base_size, String(fs.statSync(path.join(dir, 'appendonly.aof.4.base.rdb')).size));
  await s2.stop();
});

test('CONFIG SET appendonly yes at runtime starts with a rewrite; no stops appending', async () => {
  const dir = tempDir('mirra-aof-cfg-');
  const s = await mirra(dir, []);
  const c = client(s.port);
  await writeDataset(s.port, 'a');
  assert.deepEqual(listDir(path.join(dir, 'appendonlydir')), []);
  const w = writers(s.port, 2);
  assert.equal(await c.config('SET', 'appendonly', 'yes'), 'OK');
  await waitFor(async () => (await info(s.port)).aof_rewrite_in_progress === '0', 'first rewrite');
  await writeDataset(s.port, 'b');
  await w.stop();
  const inf = await info(s.port);
  assert.equal(inf.aof_enabled, '1');
  assert.equal(inf.aof_last_bgrewrite_status, 'ok');
  const aofDir = path.join(dir, 'appendonlydir');
  assert.deepEqual(listDir(aofDir), ['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
  const want = await digest(s.port);
  const args = ['--appendonly', 'yes'];
  const s2 = await crashAndRestart(s, args);
  assert.equal(await digest(s2.port), want);

  const c2 = client(s2.port);
  assert.equal(await c2.config('SET', 'appendonly', 'no'), 'OK');
  assert.equal((await info(s2.port)).aof_enabled, '0');
  const size = fs.statSync(path.join(aofDir, 'appendonly.aof.1.incr.aof')).size;
  await c2.set('not-logged', '1');
  assert.equal(fs.statSync(path.join(aofDir, 'appendonly.aof.1.incr.aof')).size, size);
  await s2.stop();
});

test('BGREWRITEAOF replies and automatic rewrite on growth', async () => {
  const s = await mirra(tempDir('mirra-aof-cmd-'), ['--appendonly', 'yes', '--auto-aof-rewrite-min-size', '4kb', '--auto-aof-rewrite-percentage', '100']);
  const c = client(s.port);
  // Inside MULTI it is scheduled, then started by cron.
  const res = await c.multi().set('x', '1').bgrewriteaof().exec();
  assert.equal(res?.[1]?.[1], 'Background append only file rewriting scheduled');
  await waitRewriteDone(s.port, 1);
  // A big base to make the rewrite last: a second request meanwhile is refused.
  const p = c.pipeline();
  for (let i = 0; i < 60000; i++) p.set(`key:${i}`, 'v'.repeat(30));
  await p.exec();
  await waitFor(async () => Number((await info(s.port)).aof_rewrites) >= 2, 'an automatic rewrite on growth');
  await c.config('SET', 'auto-aof-rewrite-percentage', '0');
  const n = Number((await waitRewriteDone(s.port, 2)).aof_rewrites);
  // Both in one batch: the second arrives while the first rewrite certainly runs.
  const both = await c.pipeline().bgrewriteaof().bgrewriteaof().exec();
  assert.equal(both?.[0]?.[1], 'Background append only file rewriting started');
  assert.match(String(both?.[1]?.[0]), /ERR Background append only file rewriting already in progress/);
  await waitRewriteDone(s.port, n + 1);
  // While a BGSAVE snapshot runs, the rewrite is scheduled and runs afterwards.
  assert.equal(await c.bgsave(), 'Background saving started');
  const r = await c.bgrewriteaof();
  assert.ok(r === 'Background append only file rewriting scheduled' || r === 'Background append only file rewriting started', r);
  await waitRewriteDone(s.port, n + 2);
  const inf = await info(s.port);
  assert.equal(inf.aof_last_bgrewrite_status, 'ok');
  assert.equal(inf.aof_rewrites_consecutive_failures, '0');
  await s.stop();
});

test('a replica with appendonly yes: AOF rewritten after the full sync, the stream appended', async () => {
  const master = await mirra(tempDir('mirra-aof-master-'), ['--repl-diskless-sync-delay', '0']);
  const rargs = ['--appendonly', 'yes'];
  const replica = await mirra(tempDir('mirra-aof-replica-'), rargs);
  const mc = client(master.port);
  const rc = client(replica.port);
  await rc.set('local-only', 'x'); // in the replica's AOF before the sync: must be gone after it
  await writeDataset(master.port, 'a');
  await rc.replicaof('127.0.0.1', String(master.port));
  await waitFor(async () => (await info(replica.port, 'replication')).master_link_status === 'up', 'replica link up');
  await waitRewriteDone(replica.port, 1);
  await writeDataset(master.port, 'b');
  assert.equal(await mc.wait(1, 5000), 1);
  const want = await digest(master.port);
  assert.equal(await digest(replica.port), want);
  const r2 = await crashAndRestart(replica, rargs);
  assert.equal(await digest(r2.port), want, 'the replica AOF holds exactly the master dataset');
  assert.equal(await client(r2.port).exists('local-only'), 0);
  await r2.stop();
  await master.stop();
});
