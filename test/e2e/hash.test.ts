/**
 * The hash commands through real clients. Exact bytes and errors are covered by
 * test/differential/scripts/hashes.txt against redis-server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { type ServerHandle } from '../helpers/servers.js';
import { withMirra } from '../helpers/fixtures.js';

let srv: ServerHandle;
let r: Redis;

withMirra((s, c) => ((srv = s), (r = c)));

test('set, get, delete, lengths', async () => {
  assert.equal(await r.hset('h', 'a', '1', 'b', '2'), 2);
  assert.equal(await r.hmset('h', 'c', '3'), 'OK');
  assert.equal(await r.hsetnx('h', 'a', 'x'), 0);
  assert.equal(await r.hsetnx('h', 'd', '4'), 1);
  assert.equal(await r.hget('h', 'a'), '1');
  assert.deepEqual(await r.hmget('h', 'a', 'nosuch', 'd'), ['1', null, '4']);
  assert.equal(await r.hlen('h'), 4);
  assert.equal(await r.hstrlen('h', 'c'), 1);
  assert.equal(await r.hexists('h', 'b'), 1);
  assert.deepEqual(await r.hkeys('h'), ['a', 'b', 'c', 'd']);
  assert.deepEqual(await r.hvals('h'), ['1', '2', '3', '4']);
  assert.deepEqual(await r.hgetall('h'), { a: '1', b: '2', c: '3', d: '4' });
  assert.equal(await r.object('ENCODING', 'h'), 'listpack');
  assert.equal(await r.hdel('h', 'a', 'b', 'nosuch'), 2);
  assert.equal(await r.hdel('h', 'c', 'd'), 2);
  assert.equal(await r.exists('h'), 0);
});

test('HINCRBY and HINCRBYFLOAT (long double results)', async () => {
  assert.equal(await r.hincrby('n', 'i', 10), 10);
  assert.equal(await r.hincrby('n', 'i', -15), -5);
  await r.hset('n', 'max', '9223372036854775800');
  await assert.rejects(r.hincrby('n', 'max', 100), /ERR increment or decrement would overflow/);
  await r.hincrby('n', 'max', 7);
  assert.equal(await r.hget('n', 'max'), '9223372036854775807');
  assert.equal(await r.hincrbyfloat('n', 'f', '0.1'), '0.1');
  assert.equal(await r.hincrbyfloat('n', 'f', '0.2'), '0.3');
  assert.equal(await r.hincrbyfloat('n', 'f', '10.5'), '10.8');
  await r.hset('n', 's', 'text');
  await assert.rejects(r.hincrby('n', 's', 1), /ERR hash value is not an integer/);
  await assert.rejects(r.hincrbyfloat('n', 's', 1), /ERR hash value is not a float/);
});

test('conversion to hashtable is sticky; HSCAN covers every field under churn', async () => {
  await r.config('SET', 'hash-max-listpack-entries', '16');
  try {
    const fields: string[] = [];
    for (let i = 0; i < 500; i++) fields.push(`f${i}`, `v${i}`);
    await r.hset('big', ...fields);
    assert.equal(await r.object('ENCODING', 'big'), 'hashtable');
    const seen = new Map<string, string>();
    let cursor = '0';
    let round = 0;
    do {
      const [next, items] = await r.hscan('big', cursor, 'COUNT', 20);
      for (let i = 0; i < items.length; i += 2) seen.set(items[i]!, items[i + 1]!);
      // Delete some fields already seen or not, and add new ones, while iterating.
      await r.hdel('big', `f${round * 3}`);
      await r.hset('big', `new${round}`, 'x');
      cursor = next;
      round++;
    } while (cursor !== '0');
    for (let i = 0; i < 500; i++) {
      const deleted = i % 3 === 0 && i / 3 < round;
      if (!deleted) assert.equal(seen.get(`f${i}`), `v${i}`, `f${i} was not returned`);
    }
    await r.hdel('big', ...Array.from({ length: 600 }, (_, i) => `f${i}`));
    assert.equal(await r.object('ENCODING', 'big'), 'hashtable');
    const [c2, small] = await r.hscan('h2-none', '0');
    assert.deepEqual([c2, small], ['0', []]);
  } finally {
    await r.config('SET', 'hash-max-listpack-entries', '512');
  }
});

test('HRANDFIELD counts', async () => {
  await r.hset('rf', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5');
  const one = await r.hrandfield('rf');
  assert.ok(['a', 'b', 'c', 'd', 'e'].includes(one as string));
  const three = (await r.hrandfield('rf', 3)) as string[];
  assert.equal(new Set(three).size, 3);
  const many = (await r.hrandfield('rf', -20)) as string[];
  assert.equal(many.length, 20);
  const wv = (await r.hrandfield('rf', 2, 'WITHVALUES')) as string[];
  assert.equal(wv.length, 4);
  assert.equal(String(Number(wv[1])), wv[1]);
  assert.deepEqual(((await r.hrandfield('rf', 10)) as string[]).sort(), ['a', 'b', 'c', 'd', 'e']);
});

test('node-redis: hash commands, RESP3 map for HGETALL', async () => {
  const c = createClient({ socket: { port: srv.port, host: '127.0.0.1' }, RESP: 3 });
  await c.connect();
  try {
    assert.equal(await c.hSet('nr', { x: '1', y: '2' }), 2);
    assert.deepEqual({ ...(await c.hGetAll('nr')) }, { x: '1', y: '2' });
    assert.equal(await c.hIncrBy('nr', 'x', 5), 6);
  } finally {
    await c.quit();
  }
});
