/**
 * The list commands through real clients (ioredis, node-redis). Exact bytes, errors and RESP3
 * shapes are covered by test/differential/scripts/lists.txt against redis-server; blocking
 * behaviour by blocking.test.ts and list-propagation.test.ts.
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

test('push, pop, length, index and ranges', async () => {
  assert.equal(await r.rpush('l', 'a', 'b', 'c'), 3);
  assert.equal(await r.lpush('l', 'z'), 4);
  assert.equal(await r.lpushx('l', 'y'), 5);
  assert.equal(await r.rpushx('l', 'd'), 6);
  assert.equal(await r.lpushx('none', 'x'), 0);
  assert.equal(await r.rpushx('none', 'x'), 0);
  assert.equal(await r.llen('l'), 6);
  assert.deepEqual(await r.lrange('l', 0, -1), ['y', 'z', 'a', 'b', 'c', 'd']);
  assert.deepEqual(await r.lrange('l', -2, 100), ['c', 'd']);
  assert.equal(await r.lindex('l', -1), 'd');
  assert.equal(await r.lindex('l', 10), null);
  assert.equal(await r.lpop('l'), 'y');
  assert.equal(await r.rpop('l'), 'd');
  assert.deepEqual(await r.lpop('l', 2), ['z', 'a']);
  assert.deepEqual(await r.rpop('l', 5), ['c', 'b']);
  assert.equal(await r.exists('l'), 0);
  assert.equal(await r.lpop('l'), null);
  assert.equal(await r.object('ENCODING', 'l'), null);
});

test('LINSERT LSET LREM LTRIM LPOS', async () => {
  await r.rpush('e', 'a', 'b', 'a', 'c', 'a');
  assert.equal(await r.linsert('e', 'BEFORE', 'b', 'x'), 6);
  assert.equal(await r.linsert('e', 'AFTER', 'nosuch', 'x'), -1);
  assert.equal(await r.lset('e', 0, 'A'), 'OK');
  await assert.rejects(r.lset('e', 100, 'A'), /ERR index out of range/);
  await assert.rejects(r.lset('nokey', 0, 'A'), /ERR no such key/);
  assert.equal(await r.lpos('e', 'a'), 3);
  assert.deepEqual(await r.lpos('e', 'a', 'COUNT', 0), [3, 5]);
  assert.equal(await r.lpos('e', 'a', 'RANK', -1), 5);
  assert.equal(await r.lrem('e', -1, 'a'), 1);
  assert.deepEqual(await r.lrange('e', 0, -1), ['A', 'x', 'b', 'a', 'c']);
  assert.equal(await r.ltrim('e', 1, -2), 'OK');
  assert.deepEqual(await r.lrange('e', 0, -1), ['x', 'b', 'a']);
  assert.equal(await r.ltrim('e', 5, 10), 'OK');
  assert.equal(await r.exists('e'), 0);
});

test('LMOVE RPOPLPUSH LMPOP and OBJECT ENCODING', async () => {
  await r.rpush('src', '1', '2', '3');
  assert.equal(await r.lmove('src', 'dst', 'LEFT', 'RIGHT'), '1');
  assert.equal(await r.rpoplpush('src', 'dst'), '3');
  assert.deepEqual(await r.lrange('dst', 0, -1), ['3', '1']);
  assert.equal(await r.object('ENCODING', 'dst'), 'quicklist');
  assert.deepEqual(await r.call('LMPOP', '2', 'nokey', 'dst', 'RIGHT', 'COUNT', '5'), ['dst', ['1', '3']]);
  assert.equal(await r.call('LMPOP', '1', 'dst', 'LEFT'), null);
  await r.set('str', 'v');
  await assert.rejects(r.lpush('str', 'x'), /^ReplyError: WRONGTYPE/);
});

test('binary-safe elements and a large list across chunk boundaries', async () => {
  const bin = Buffer.from([0, 255, 13, 10, 128]);
  await r.rpush('bin', bin);
  assert.deepEqual(await r.lrangeBuffer('bin', 0, -1), [bin]);
  const items = Array.from({ length: 1000 }, (_, i) => `v${i}`);
  await r.rpush('big', ...items);
  for (let i = 0; i < 300; i++) await r.lpush('big', `h${i}`);
  assert.equal(await r.llen('big'), 1300);
  assert.equal(await r.lindex('big', 0), 'h299');
  assert.equal(await r.lindex('big', 300), 'v0');
  assert.deepEqual(await r.lrange('big', 425, 427), ['v125', 'v126', 'v127']);
  assert.equal(await r.lrem('big', 0, 'v500'), 1);
  assert.equal(await r.lindex('big', 800), 'v501');
});

test('node-redis: list commands', async () => {
  const c = createClient({ socket: { port: srv.port, host: '127.0.0.1' } });
  await c.connect();
  try {
    assert.equal(await c.rPush('nr', ['a', 'b', 'c']), 3);
    assert.deepEqual(await c.lRange('nr', 0, -1), ['a', 'b', 'c']);
    assert.equal(await c.lPos('nr', 'b'), 1);
    assert.deepEqual(await c.lmPop('nr', 'LEFT', { COUNT: 2 }), ['nr', ['a', 'b']]);
    assert.equal(await c.lLen('nr'), 1);
  } finally {
    await c.quit();
  }
});
