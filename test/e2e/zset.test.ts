/**
 * Sorted sets through real clients (ioredis, node-redis in RESP2 and RESP3): every command
 * family, encodings, ZSCAN under churn, and BZPOPMIN/BZPOPMAX/BZMPOP with several waiting
 * clients. Exact bytes and every error text are covered by
 * test/differential/scripts/zset.txt against redis-server.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { withMirra } from '../helpers/fixtures.js';

let srv: ServerHandle;
let r: Redis;
const opened: Redis[] = [];

withMirra((s, c) => ((srv = s), (r = c)));
after(() => {
  for (const c of opened) c.disconnect();
});

function conn(): Redis {
  const c = new Redis(srv.port, '127.0.0.1');
  opened.push(c);
  return c;
}

async function waitBlocked(n: number): Promise<void> {
  await waitFor(async () => Number(/blocked_clients:(\d+)/.exec(await r.info('clients'))![1]) === n, `${n} blocked clients`);
}

test('ZADD options, scores and ranks', async () => {
  assert.equal(await r.zadd('z', 1, 'a', 2, 'b', 3, 'c'), 3);
  assert.equal(await r.zadd('z', 'CH', 5, 'a', 2, 'b', 4, 'd'), 2);
  assert.equal(await r.zadd('z', 'NX', 100, 'a', 6, 'e'), 1);
  assert.equal(await r.zadd('z', 'XX', 'GT', 'CH', 1, 'a', 7, 'b'), 1);
  assert.equal(await r.zadd('z', 'INCR', '0.5', 'a'), '5.5');
  assert.equal(await r.zadd('z', 'XX', 'INCR', 1, 'nosuch'), null);
  assert.equal(await r.zincrby('z', '0.1', 'c'), '3.1000000000000001');
  assert.equal(await r.zscore('z', 'c'), '3.1000000000000001');
  assert.deepEqual(await r.zmscore('z', 'a', 'nosuch', 'b'), ['5.5', null, '7']);
  assert.equal(await r.zcard('z'), 5);
  assert.equal(await r.zrank('z', 'd'), 1);
  assert.equal(await r.zrevrank('z', 'd'), 3);
  assert.equal(await r.zrank('z', 'nosuch'), null);
  assert.equal(await r.zcount('z', '(3.1', '+inf'), 4);
  assert.deepEqual(await r.zrange('z', 0, -1, 'WITHSCORES'), ['c', '3.1000000000000001', 'd', '4', 'a', '5.5', 'e', '6', 'b', '7']);
  await assert.rejects(r.zadd('z', 'NX', 'XX', 1, 'a'), /ERR XX and NX options at the same time are not compatible/);
  await assert.rejects(r.zadd('z', 'GT', 'LT', 1, 'a'), /ERR GT, LT, and\/or NX options/);
  await assert.rejects(r.zadd('z', 'nan', 'a'), /ERR value is not a valid float/);
  await assert.rejects(r.zincrby('z', '-inf', 'inf1').then(() => r.zincrby('z', '+inf', 'inf1')), /ERR resulting score is not a number \(NaN\)/);
  await r.set('str', 'x');
  await assert.rejects(r.zadd('str', 1, 'a'), /WRONGTYPE/);
  assert.equal(await r.zrem('z', 'a', 'b', 'nosuch'), 2);
});

test('range commands: rank, score, lex, LIMIT, REV, store', async () => {
  await r.del('r');
  await r.zadd('r', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
  assert.deepEqual(await r.zrange('r', 1, 3), ['b', 'c', 'd']);
  assert.deepEqual(await r.zrange('r', '(1', '4', 'BYSCORE', 'LIMIT', 1, 2), ['c', 'd']);
  assert.deepEqual(await r.zrange('r', '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 2, 'WITHSCORES'), ['e', '5', 'd', '4']);
  assert.deepEqual(await r.zrangebyscore('r', 2, '(4'), ['b', 'c']);
  assert.deepEqual(await r.zrevrangebyscore('r', 4, 2), ['d', 'c', 'b']);
  assert.deepEqual(await r.zrevrange('r', 0, 1), ['e', 'd']);
  await r.zadd('lex', 0, 'alpha', 0, 'beta', 0, 'gamma', 0, 'delta');
  assert.deepEqual(await r.zrangebylex('lex', '[b', '(g'), ['beta', 'delta']);
  assert.deepEqual(await r.zrevrangebylex('lex', '+', '-', 'LIMIT', 1, 2), ['delta', 'beta']);
  assert.equal(await r.zlexcount('lex', '-', '+'), 4);
  assert.equal(await r.zrangestore('dst', 'r', 3, 1, 'BYSCORE', 'REV'), 3);
  assert.deepEqual(await r.zrange('dst', 0, -1), ['a', 'b', 'c']);
  assert.equal(await r.zremrangebyrank('r', 0, 0), 1);
  assert.equal(await r.zremrangebyscore('r', '(4', '+inf'), 1);
  assert.equal(await r.zremrangebylex('lex', '[a', '[b'), 1);
  assert.deepEqual(await r.zrange('r', 0, -1), ['b', 'c', 'd']);
  await assert.rejects(r.zrangebyscore('r', 'x', 1), /ERR min or max is not a float/);
  await assert.rejects(r.zrangebylex('r', 'a', 'b'), /ERR min or max not valid string range item/);
});

test('ZUNION / ZINTER / ZDIFF with weights and aggregates, sets as inputs', async () => {
  await r.del('s1', 's2', 'set');
  await r.zadd('s1', 1, 'a', 2, 'b', 3, 'c');
  await r.zadd('s2', 10, 'b', 20, 'c', 30, 'd');
  await r.sadd('set', 'c', 'd', 'e');
  assert.deepEqual(await r.zunion(3, 's1', 's2', 'set', 'WITHSCORES'), ['a', '1', 'e', '1', 'b', '12', 'c', '24', 'd', '31']);
  assert.deepEqual(await r.zinter(2, 's1', 's2', 'WEIGHTS', 2, 1, 'AGGREGATE', 'MAX', 'WITHSCORES'), ['b', '10', 'c', '20']);
  assert.deepEqual(await r.zdiff(2, 's1', 's2', 'WITHSCORES'), ['a', '1']);
  assert.equal(await r.zunionstore('out', 2, 's1', 's2', 'AGGREGATE', 'MIN'), 4);
  assert.deepEqual(await r.zrange('out', 0, -1, 'WITHSCORES'), ['a', '1', 'b', '2', 'c', '3', 'd', '30']);
  assert.equal(await r.zinterstore('out', 2, 's1', 'nosuch'), 0);
  assert.equal(await r.exists('out'), 0);
  assert.equal(await r.zdiffstore('out', 2, 's2', 'set'), 1);
  assert.equal(await r.zintercard(2, 's1', 's2'), 2);
  assert.equal(await r.zintercard(2, 's1', 's2', 'LIMIT', 1), 1);
  await assert.rejects(r.zunion(0, 's1'), /ERR at least 1 input key is needed for 'zunion' command/);
});

test('pops and ZRANDMEMBER', async () => {
  await r.del('p');
  await r.zadd('p', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
  assert.deepEqual(await r.zpopmin('p'), ['a', '1']);
  assert.deepEqual(await r.zpopmax('p', 2), ['e', '5', 'd', '4']);
  assert.deepEqual(await r.zmpop(2, 'nosuch', 'p', 'MIN', 'COUNT', 5), ['p', [['b', '2'], ['c', '3']]]);
  assert.equal(await r.exists('p'), 0);
  assert.equal(await r.zmpop(1, 'p', 'MAX'), null);
  await r.zadd('rm', 1, 'a', 2, 'b', 3, 'c');
  const one = await r.zrandmember('rm');
  assert.ok(['a', 'b', 'c'].includes(one!));
  const two = (await r.zrandmember('rm', 2)) as string[];
  assert.equal(new Set(two).size, 2);
  const many = (await r.zrandmember('rm', -10)) as string[];
  assert.equal(many.length, 10);
  assert.deepEqual(await r.zrandmember('rm', 5, 'WITHSCORES'), ['c', '3', 'b', '2', 'a', '1']);
});

test('node-redis in RESP3: doubles and [member, score] pairs', async () => {
  const c3 = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP: 3 });
  await c3.connect();
  try {
    await c3.del('n3');
    await c3.zAdd('n3', [
      { score: 1.5, value: 'a' },
      { score: 2, value: 'b' },
    ]);
    assert.equal(await c3.zScore('n3', 'a'), 1.5);
    assert.deepEqual(await c3.zRangeWithScores('n3', 0, -1), [
      { value: 'a', score: 1.5 },
      { value: 'b', score: 2 },
    ]);
    assert.deepEqual(await c3.sendCommand(['ZRANGE', 'n3', '0', '-1', 'WITHSCORES']), [
      ['a', 1.5],
      ['b', 2],
    ]);
    assert.deepEqual(await c3.sendCommand(['ZPOPMIN', 'n3', '1']), [['a', 1.5]]);
    assert.deepEqual(await c3.sendCommand(['ZPOPMIN', 'n3']), ['b', 2]);
  } finally {
    await c3.quit();
  }
  const c2 = createClient({ url: `redis://127.0.0.1:${srv.port}` });
  await c2.connect();
  try {
    await c2.zAdd('n2', { score: 0.1, value: 'x' });
    assert.equal(await c2.zScore('n2', 'x'), 0.1);
    assert.deepEqual(await c2.zRangeWithScores('n2', 0, -1), [{ value: 'x', score: 0.1 }]);
  } finally {
    await c2.quit();
  }
});

test('encodings follow zset-max-listpack-entries/value and are sticky', async () => {
  await r.config('SET', 'zset-max-listpack-entries', '8');
  try {
    await r.del('enc');
    for (let i = 0; i < 8; i++) await r.zadd('enc', i, `m${i}`);
    assert.equal(await r.object('ENCODING', 'enc'), 'listpack');
    await r.zadd('enc', 8, 'm8');
    assert.equal(await r.object('ENCODING', 'enc'), 'skiplist');
    await r.zremrangebyrank('enc', 0, 6);
    assert.equal(await r.object('ENCODING', 'enc'), 'skiplist');
    await r.zadd('long', 1, 'x'.repeat(65));
    assert.equal(await r.object('ENCODING', 'long'), 'skiplist');
    // Stores convert small results back to listpack.
    await r.zunionstore('small', 1, 'enc');
    assert.equal(await r.object('ENCODING', 'small'), 'listpack');
    // SORT converts a listpack zset to a skiplist, as Redis does.
    await r.zadd('sorted', 3, '3', 1, '1');
    await r.sort('sorted');
    assert.equal(await r.object('ENCODING', 'sorted'), 'skiplist');
  } finally {
    await r.config('SET', 'zset-max-listpack-entries', '128');
  }
});

test('ZSCAN returns every member present for the whole scan, under churn', async () => {
  await r.del('big');
  const n = 3000;
  const args: (string | number)[] = [];
  for (let i = 0; i < n; i++) args.push(i % 50, `m${i}`);
  await r.zadd('big', ...args);
  assert.equal(await r.object('ENCODING', 'big'), 'skiplist');
  const seen = new Set<string>();
  let cursor = '0';
  let rounds = 0;
  let added = 0;
  do {
    const [next, items] = await r.zscan('big', cursor, 'COUNT', 100);
    for (let i = 0; i < items.length; i += 2) seen.add(items[i]!);
    cursor = next;
    // Churn between calls: remove members never present for the whole scan, add new ones.
    await r.zadd('big', rounds % 50, `new${rounds}`);
    added++;
    await r.zrem('big', `new${rounds - 1}`);
    rounds++;
  } while (cursor !== '0' && rounds < 1000);
  assert.equal(cursor, '0');
  for (let i = 0; i < n; i++) assert.ok(seen.has(`m${i}`), `m${i} missed`);
  assert.ok(added > 10);
  // A run of equal scores longer than the batch is resumed exactly.
  await r.del('flat');
  const flat: (string | number)[] = [];
  for (let i = 0; i < 2000; i++) flat.push(0, `f${String(i).padStart(4, '0')}`);
  await r.zadd('flat', ...flat);
  const got = new Set<string>();
  cursor = '0';
  do {
    const [next, items] = await r.zscan('flat', cursor, 'COUNT', 10);
    for (let i = 0; i < items.length; i += 2) got.add(items[i]!);
    cursor = next;
  } while (cursor !== '0');
  assert.equal(got.size, 2000);
  const [c1, m1] = await r.zscan('flat', 0, 'MATCH', 'f000*', 'COUNT', 5000);
  assert.equal(c1, '0');
  assert.equal(m1.length, 20);
});

test('BZPOPMIN/BZPOPMAX/BZMPOP: FIFO waiters, multiple keys, timeouts, deny in MULTI', async () => {
  const cs = [conn(), conn(), conn()];
  const replies: Promise<unknown>[] = [];
  replies.push(cs[0]!.bzpopmin('bz', 0));
  await waitBlocked(1);
  replies.push(cs[1]!.bzpopmax('other', 'bz', 0));
  await waitBlocked(2);
  replies.push(cs[2]!.bzmpop(0, 2, 'x', 'bz', 'MIN', 'COUNT', 2));
  await waitBlocked(3);
  assert.equal(await r.zadd('bz', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e'), 5);
  assert.deepEqual(await Promise.all(replies), [
    ['bz', 'a', '1'],
    ['bz', 'e', '5'],
    ['bz', [['b', '2'], ['c', '3']]],
  ]);
  assert.deepEqual(await r.zrange('bz', 0, -1), ['d']);
  await waitBlocked(0);

  // A waiter on several keys is served by whichever gets elements.
  const w = conn();
  const p = w.bzpopmin('k1', 'k2', 'k3', 0);
  await waitBlocked(1);
  await r.zadd('k3', 7, 'z');
  assert.deepEqual(await p, ['k3', 'z', '7']);

  // Timeouts answer nil; fractional seconds are accepted.
  const t0 = Date.now();
  assert.equal(await conn().bzpopmin('never', 0.2), null);
  assert.ok(Date.now() - t0 >= 150);
  assert.equal(await conn().bzmpop(0.1, 1, 'never', 'MAX'), null);
  await assert.rejects(conn().bzpopmin('never', -1), /ERR timeout is negative/);
  await assert.rejects(conn().bzpopmin('never', 'x'), /ERR timeout is not a float or out of range/);

  // Inside MULTI they never block.
  const m = conn();
  const res = await m.multi().bzpopmin('never', 0).bzmpop(0, 1, 'never', 'MIN').exec();
  assert.deepEqual(res, [
    [null, null],
    [null, null],
  ]);

  // A zset created in a transaction serves the waiter after EXEC; a waiter killed is skipped.
  const dead = conn();
  void dead.bzpopmin('tx', 0).catch(() => {});
  await waitBlocked(1);
  const alive = conn();
  const q = alive.bzpopmin('tx', 0);
  await waitBlocked(2);
  dead.disconnect();
  await waitBlocked(1);
  await r.multi().zadd('tx', 1, 'one').zadd('tx', 2, 'two').exec();
  assert.deepEqual(await q, ['tx', 'one', '1']);
  assert.deepEqual(await r.zrange('tx', 0, -1), ['two']);
});

test('many concurrent poppers drain a zset exactly once', async () => {
  const n = 20;
  const clients = Array.from({ length: n }, () => conn());
  const pops = clients.map((c) => c.bzpopmin('drain', 5));
  await waitBlocked(n);
  const args: (string | number)[] = [];
  for (let i = 0; i < n; i++) args.push(i, `m${i}`);
  await r.zadd('drain', ...args);
  const got = (await Promise.all(pops)) as [string, string, string][];
  // Every member went to exactly one client (their blocking order is whatever order their
  // connections happened to send in; FIFO itself is checked above).
  assert.deepEqual(
    got.map((x) => x[1]).sort(),
    Array.from({ length: n }, (_, i) => `m${i}`).sort(),
  );
  assert.equal(await r.exists('drain'), 0);
});
