/**
 * End to end, the fork-less BGSAVE is point-in-time: writers hammer every type (and FLUSHDB,
 * SWAPDB) while it runs, yet the dump, loaded by a real redis-server, has exactly the DEBUG
 * DIGEST the dataset had when the BGSAVE started. The start is pinned with CLIENT PAUSE WRITE:
 * writes are held while DEBUG DIGEST and BGSAVE run (the pause is long so that a slow DIGEST
 * cannot outlive it), then released into the running snapshot.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { hasRedis, startMirra, startRedis, tempDir, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

const skip = !hasRedis();
const started: ServerHandle[] = [];
const clients: Redis[] = [];
after(async () => {
  for (const c of clients) c.disconnect();
  for (const s of started) await s.stop();
});

function client(port: number): Redis {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

async function writer(c: Redis, id: number, stop: () => boolean): Promise<number> {
  let n = 0;
  while (!stop()) {
    const p = c.pipeline();
    for (let j = 0; j < 50; j++, n++) {
      const k = (n * 7919 + id * 104729) % 60000;
      switch (n % 12) {
        case 0: p.set(`key:${k}`, `w${id}-${n}`); break;
        case 1: p.del(`key:${k}`); break;
        case 2: p.rpush(`list:${k % 500}`, `e${n}`); break;
        case 3: p.hset(`hash:${k % 500}`, `f${n % 70}`, `v${n}`); break;
        case 4: p.sadd(`set:${k % 500}`, String(n)); break;
        case 5: p.zadd(`zset:${k % 500}`, n / 3, `m${n % 300}`); break;
        case 6: p.xadd(`stream:${k % 50}`, '*', 'f', String(n)); break;
        case 7: p.pexpire(`key:${k}`, 1000000); break;
        case 8: p.persist(`key:${k}`); break;
        case 9: p.lpop(`list:${k % 500}`); break;
        case 10: p.incr(`counter:${k % 100}`); break;
        case 11: p.set(`fresh:${id}:${n}`, 'new'); break;
      }
    }
    if (id === 0 && n % 2000 < 50) {
      p.select(3).flushdb().set('after-flush', String(n)).select(0);
      p.swapdb(4, 5);
    }
    await p.exec();
  }
  return n;
}

test('BGSAVE under concurrent writes of every type saves the dataset of its start', { skip }, async () => {
  const m = await startMirra();
  started.push(m);
  const c = client(m.port);
  await c.call('DEBUG', 'POPULATE', '100000', 'key', '20');
  const setup = c.pipeline();
  for (let i = 0; i < 500; i++) {
    setup.rpush(`list:${i}`, 'a', 'b', String(i)).hset(`hash:${i}`, 'f', String(i)).sadd(`set:${i}`, String(i), 'x').zadd(`zset:${i}`, i, 'm');
  }
  await setup.exec();
  for (const db of [3, 4, 5]) {
    await c.select(db);
    await c.call('DEBUG', 'POPULATE', '20000', `db${db}`);
  }
  await c.select(0);
  let stop = false;
  const writers = [0, 1, 2].map((id) => writer(client(m.port), id, () => stop));
  await waitFor(async () => (await c.dbsize()) > 102000, 'writers to start');
  // Pin the start: hold other clients' writes, digest, start the BGSAVE, release them.
  await c.call('CLIENT', 'PAUSE', '60000', 'WRITE');
  const digest = await c.call('DEBUG', 'DIGEST');
  assert.equal(await c.bgsave(), 'Background saving started');
  await c.call('CLIENT', 'UNPAUSE');
  await waitFor(async () => /rdb_bgsave_in_progress:0/.test(await c.info('persistence')), 'BGSAVE to finish', 60000);
  stop = true;
  const ops = (await Promise.all(writers)).reduce((a, b) => a + b, 0);
  assert.match(await c.info('persistence'), /rdb_last_bgsave_status:ok/);
  assert.notEqual(await c.call('DEBUG', 'DIGEST'), digest, `the writers changed the dataset (${ops} ops)`);
  const dir = tempDir();
  fs.copyFileSync(path.join(m.dir, 'dump.rdb'), path.join(dir, 'dump.rdb'));
  const r = await startRedis({ dir });
  started.push(r);
  assert.equal(await client(r.port).call('DEBUG', 'DIGEST'), digest);
});
