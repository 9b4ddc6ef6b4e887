/**
 * The set commands through real clients. Exact bytes and errors are covered by
 * test/differential/scripts/sets.txt against redis-server.
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

const sorted = (a: string[]): string[] => [...a].sort();

test('membership, intset order and conversion', async () => {
  assert.equal(await r.sadd('s', '10', '-3', '7', '7'), 3);
  assert.deepEqual(await r.smembers('s'), ['-3', '7', '10']);
  assert.equal(await r.object('ENCODING', 's'), 'intset');
  assert.equal(await r.sismember('s', '7'), 1);
  assert.deepEqual(await r.smismember('s', '7', '8'), [1, 0]);
  assert.equal(await r.scard('s'), 3);
  assert.equal(await r.sadd('s', 'x'), 1);
  assert.equal(await r.object('ENCODING', 's'), 'hashtable');
  assert.equal(await r.srem('s', 'x', 'nosuch'), 1);
  assert.equal(await r.object('ENCODING', 's'), 'hashtable');
  assert.deepEqual(sorted(await r.smembers('s')), ['-3', '10', '7']);
});

test('SMOVE SPOP SRANDMEMBER', async () => {
  await r.sadd('a', '1', '2', '3', '4', '5');
  assert.equal(await r.smove('a', 'b', '1'), 1);
  assert.equal(await r.smove('a', 'b', '1'), 0);
  const popped = await r.spop('a');
  assert.ok(['2', '3', '4', '5'].includes(popped as string));
  const two = await r.spop('a', 2);
  assert.equal(two.length, 2);
  assert.equal(await r.scard('a'), 1);
  assert.equal((await r.spop('a', 10)).length, 1);
  assert.equal(await r.exists('a'), 0);
  await r.sadd('rm', 'a', 'b', 'c');
  assert.equal(new Set((await r.srandmember('rm', 2)) as string[]).size, 2);
  assert.equal(((await r.srandmember('rm', -7)) as string[]).length, 7);
  assert.deepEqual(sorted((await r.srandmember('rm', 5)) as string[]), ['a', 'b', 'c']);
  assert.equal(await r.scard('rm'), 3);
});

test('SINTER SINTERCARD SUNION SDIFF and their STORE forms', async () => {
  await r.sadd('x', '1', '2', '3', '4');
  await r.sadd('y', '3', '4', '5');
  assert.deepEqual(await r.sinter('x', 'y'), ['3', '4']);
  assert.equal(await r.call('SINTERCARD', '2', 'x', 'y', 'LIMIT', '1'), 1);
  assert.deepEqual(await r.sunion('x', 'y'), ['1', '2', '3', '4', '5']);
  assert.deepEqual(await r.sdiff('x', 'y'), ['1', '2']);
  assert.equal(await r.sinterstore('d1', 'x', 'y'), 2);
  assert.equal(await r.sunionstore('d2', 'x', 'y'), 5);
  assert.equal(await r.sdiffstore('d3', 'y', 'x'), 1);
  assert.deepEqual(await r.smembers('d3'), ['5']);
  assert.equal(await r.sdiffstore('d3', 'x', 'x'), 0);
  assert.equal(await r.exists('d3'), 0);
});

test('SSCAN over a hashtable set returns every member present throughout, under churn', async () => {
  const members = Array.from({ length: 800 }, (_, i) => `m${i}`);
  await r.sadd('big', ...members);
  const seen = new Set<string>();
  let cursor = '0';
  let round = 0;
  do {
    const [next, items] = await r.sscan('big', cursor, 'COUNT', 25);
    for (const m of items) seen.add(m);
    await r.srem('big', `m${round * 5}`);
    await r.sadd('big', `n${round}`);
    cursor = next;
    round++;
  } while (cursor !== '0');
  for (let i = 0; i < 800; i++) {
    if (i % 5 === 0 && i / 5 < round) continue;
    assert.ok(seen.has(`m${i}`), `m${i} was not returned`);
  }
  const [c, all] = await r.sscan('x', '0', 'MATCH', '[12]');
  assert.deepEqual([c, all], ['0', ['1', '2']]);
});

test('node-redis: set commands', async () => {
  const c = createClient({ socket: { port: srv.port, host: '127.0.0.1' } });
  await c.connect();
  try {
    assert.equal(await c.sAdd('nr', ['a', 'b']), 2);
    assert.deepEqual(sorted(await c.sMembers('nr')), ['a', 'b']);
    assert.equal(await c.sIsMember('nr', 'a'), 1);
    assert.equal(await c.sCard('nr'), 2);
  } finally {
    await c.quit();
  }
});
