/**
 * SORT and SORT_RO through real clients. Byte-exact replies are covered by
 * test/differential/scripts/sort.txt; here: out-of-range numbers (which the differential
 * script cannot hold, see its header), BY/GET with hashes, STORE, and key extraction.
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

test('numeric, ALPHA, DESC, LIMIT on lists, sets and sorted sets', async () => {
  await r.rpush('l', '10', '2', '-1.5', '3e2', '2');
  assert.deepEqual(await r.sort('l'), ['-1.5', '2', '2', '10', '3e2']);
  assert.deepEqual(await r.sort('l', 'DESC', 'LIMIT', 0, 2), ['3e2', '10']);
  assert.deepEqual(await r.sort('l', 'ALPHA'), ['-1.5', '10', '2', '2', '3e2']);
  await r.sadd('s', '5', '1', '3');
  assert.deepEqual(await r.sort('s'), ['1', '3', '5']);
  await r.zadd('z', 3, 'c', 1, 'a', 2, 'b');
  assert.deepEqual(await r.sort('z', 'ALPHA', 'DESC'), ['c', 'b', 'a']);
  assert.deepEqual(await r.sort('z', 'BY', 'nosort'), ['a', 'b', 'c']);
  assert.deepEqual(await r.sort_ro('l', 'LIMIT', 1, 1), ['2']);
});

test('scores that do not convert to a double are an error (overflow, underflow, garbage)', async () => {
  await r.rpush('big', '1', '1e400');
  await assert.rejects(r.sort('big'), /ERR One or more scores can't be converted into double/);
  await r.rpush('tiny', '1', '1e-310');
  await assert.rejects(r.sort('tiny'), /ERR One or more scores can't be converted into double/);
  await r.rpush('text', '1', 'abc');
  await assert.rejects(r.sort('text'), /ERR One or more scores can't be converted into double/);
  assert.deepEqual(await r.sort('text', 'ALPHA'), ['1', 'abc']);
  await r.rpush('inf', 'inf', '-inf', '0');
  assert.deepEqual(await r.sort('inf'), ['-inf', '0', 'inf']);
});

test('BY and GET with string keys, hash fields and #; STORE builds a list', async () => {
  await r.rpush('ids', '1', '2', '3');
  await r.mset('w_1', '30', 'w_2', '10', 'w_3', '20', 'name_1', 'one', 'name_2', 'two');
  await r.hset('user:1', 'age', '40', 'nick', 'ann');
  await r.hset('user:2', 'age', '25', 'nick', 'bob');
  await r.hset('user:3', 'age', '33', 'nick', 'cid');
  assert.deepEqual(await r.sort('ids', 'BY', 'w_*', 'GET', '#', 'GET', 'name_*'), ['2', 'two', '3', null, '1', 'one']);
  assert.deepEqual(await r.sort('ids', 'BY', 'user:*->age', 'GET', 'user:*->nick'), ['bob', 'cid', 'ann']);
  assert.equal(await r.sort('ids', 'BY', 'user:*->age', 'DESC', 'GET', 'user:*->nick', 'STORE', 'out'), 3);
  assert.deepEqual(await r.lrange('out', 0, -1), ['ann', 'cid', 'bob']);
  assert.equal(await r.type('out'), 'list');
  assert.equal(await r.sort('ids', 'GET', 'missing_*', 'STORE', 'out'), 3);
  assert.deepEqual(await r.lrange('out', 0, -1), ['', '', '']);
  assert.equal(await r.sort('nosuch', 'STORE', 'out'), 0);
  assert.equal(await r.exists('out'), 0);
});

test('COMMAND GETKEYS reports the sorted key and the STORE destination', async () => {
  assert.deepEqual(await r.call('COMMAND', 'GETKEYS', 'SORT', 'src', 'BY', 'w_*', 'GET', 'x_*', 'STORE', 'dst'), ['src', 'dst']);
  assert.deepEqual(await r.call('COMMAND', 'GETKEYS', 'SORT_RO', 'src', 'BY', 'w_*'), ['src']);
  assert.deepEqual(await r.call('COMMAND', 'GETKEYS', 'ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2'), ['d', 'a', 'b']);
  assert.deepEqual(await r.call('COMMAND', 'GETKEYS', 'XREAD', 'COUNT', '1', 'STREAMS', 'a', 'b', '0', '0'), ['a', 'b']);
});

test('node-redis SORT helpers', async () => {
  const c = createClient({ url: `redis://127.0.0.1:${srv.port}` });
  await c.connect();
  try {
    await c.rPush('nl', ['3', '1', '2']);
    assert.deepEqual(await c.sort('nl'), ['1', '2', '3']);
    assert.deepEqual(await c.sort('nl', { DIRECTION: 'DESC', LIMIT: { offset: 0, count: 2 } }), ['3', '2']);
    assert.equal(await c.sortStore('nl', 'nlout'), 3);
  } finally {
    await c.quit();
  }
});
