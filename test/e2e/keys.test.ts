/**
 * Generic key commands through real clients: the SCAN guarantee under concurrent changes
 * (ioredis scanStream, node-redis scanIterator), RENAME/MOVE/COPY/SWAPDB across databases,
 * expiry, and the keyspace events of these commands compared with a real redis-server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { hasRedis, startMirra, startRedis, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

let srv: ServerHandle;
let io: Redis;

before(async () => {
  srv = await startMirra();
  io = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await io.connect();
});

after(async () => {
  io?.disconnect();
  await srv?.stop();
});

test('SCAN returns every key present for the whole scan while keys come and go', async () => {
  await io.flushall();
  const stable: string[] = [];
  const p = io.pipeline();
  for (let i = 0; i < 3000; i++) {
    const key = i % 3 === 0 ? `stable:${i}` : `churn:${i}`;
    if (key.startsWith('stable')) stable.push(key);
    p.set(key, 'v');
  }
  await p.exec();
  const seen = new Set<string>();
  let cursor = '0';
  let round = 0;
  do {
    const [next, keys] = await io.scan(cursor, 'COUNT', 37);
    for (const k of keys) seen.add(k);
    cursor = next;
    // Between calls: delete some churn keys, add new ones, re-add deleted ones, overwrite stable ones.
    const m = io.pipeline();
    for (let j = 0; j < 20; j++) {
      const n = (round * 20 + j) * 3 + 1;
      m.del(`churn:${n}`);
      m.set(`new:${round}:${j}`, 'x');
      m.set(`churn:${n}`, 'again');
    }
    m.set(`stable:${(round * 3) % 3000}`, 'overwritten');
    await m.exec();
    round++;
  } while (cursor !== '0' && round < 10000);
  assert.equal(cursor, '0', 'scan finished');
  const missing = stable.filter((k) => !seen.has(k));
  assert.deepEqual(missing, []);
});

test('SCAN: a retried cursor returns the same batch; unknown cursors restart safely', async () => {
  await io.flushall();
  await io.mset('a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5');
  const [c1, first] = await io.scan('0', 'COUNT', 2);
  const [c2, batch] = await io.scan(c1, 'COUNT', 2);
  // The client lost that reply and asks again with the same cursor.
  const [c2again, batchAgain] = await io.scan(c1, 'COUNT', 2);
  assert.equal(c2again, c2);
  assert.deepEqual(batchAgain, batch);
  const all = new Set([...first, ...batch]);
  let cur = c2;
  while (cur !== '0') {
    const [n, keys] = await io.scan(cur, 'COUNT', 2);
    keys.forEach((k) => all.add(k));
    cur = n;
  }
  assert.deepEqual([...all].sort(), ['a', 'b', 'c', 'd', 'e']);
  // A cursor we never issued starts a full walk rather than skipping keys.
  const got = new Set<string>();
  cur = '123456789';
  do {
    const [n, keys] = await io.scan(cur, 'COUNT', 100);
    keys.forEach((k) => got.add(k));
    cur = n;
  } while (cur !== '0');
  assert.deepEqual([...got].sort(), ['a', 'b', 'c', 'd', 'e']);
});

test('ioredis scanStream and node-redis scanIterator with MATCH/TYPE', async () => {
  await io.flushall();
  const p = io.pipeline();
  for (let i = 0; i < 500; i++) p.set(`user:${i}`, String(i));
  for (let i = 0; i < 100; i++) p.set(`other:${i}`, String(i));
  await p.exec();
  const fromStream = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    const s = io.scanStream({ match: 'user:*', count: 64 });
    s.on('data', (keys: string[]) => keys.forEach((k) => fromStream.add(k)));
    s.on('end', () => resolve());
    s.on('error', reject);
  });
  assert.equal(fromStream.size, 500);
  const nr = createClient({ socket: { host: '127.0.0.1', port: srv.port, reconnectStrategy: false } });
  nr.on('error', () => {});
  await nr.connect();
  try {
    const got = new Set<string>();
    for await (const keys of nr.scanIterator({ MATCH: 'other:*', COUNT: 50, TYPE: 'string' })) keys.forEach((k) => got.add(k));
    assert.equal(got.size, 100);
    const none: string[] = [];
    for await (const keys of nr.scanIterator({ TYPE: 'hash' })) none.push(...keys);
    assert.deepEqual(none, []);
  } finally {
    nr.destroy();
  }
});

test('RENAME, MOVE, COPY and SWAPDB keep values, TTLs and encodings', async () => {
  await io.flushall();
  await io.set('s', 'x', 'EX', 1000);
  await io.append('s', 'y'); // raw encoding
  assert.equal(await io.rename('s', 't'), 'OK');
  assert.equal(await io.object('ENCODING', 't'), 'raw');
  assert.equal(await io.ttl('t'), 1000);
  assert.equal(await io.copy('t', 'u', 'DB', 3), 1);
  assert.equal(await io.move('t', 2), 1);
  const db2 = new Redis({ port: srv.port, host: '127.0.0.1', db: 2, lazyConnect: true });
  await db2.connect();
  try {
    assert.equal(await db2.get('t'), 'xy');
    assert.equal(await db2.ttl('t'), 1000);
    assert.equal(await io.swapdb(0, 2), 'OK');
    // The connection on DB 2 now sees DB 0's old (empty) contents, and vice versa.
    assert.equal(await db2.exists('t'), 0);
    assert.equal(await io.get('t'), 'xy');
    assert.equal(await io.object('ENCODING', 't'), 'raw');
  } finally {
    db2.disconnect();
  }
  await io.select(3);
  assert.equal(await io.get('u'), 'xy');
  assert.equal(await io.ttl('u'), 1000);
  await io.select(0);
});

test('expired keys disappear for readers and from DBSIZE once touched', async () => {
  await io.flushall();
  await io.set('short', 'v', 'PX', 30);
  await io.set('long', 'v', 'EX', 100);
  await waitFor(async () => (await io.exists('short')) === 0, 'short key to expire');
  assert.equal(await io.get('short'), null);
  assert.deepEqual(await io.keys('*'), ['long']);
  assert.equal(await io.persist('long'), 1);
  assert.equal(await io.ttl('long'), -1);
  assert.equal(await io.pexpire('long', 100000, 'GT'), 0);
  assert.equal(await io.pexpire('long', 100000, 'LT'), 1);
  assert.equal(await io.expire('long', -5), 1);
  assert.equal(await io.exists('long'), 0);
});

/** Runs `commands` on a server with keyspace events on, returns the events received. */
async function eventsOf(port: number, commands: string[][]): Promise<string[]> {
  const cmd = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  const sub = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  await cmd.connect();
  await sub.connect();
  const events: string[] = [];
  try {
    await cmd.flushall();
    await cmd.config('SET', 'notify-keyspace-events', 'KEA');
    sub.on('pmessage', (_p: string, channel: string, message: string) => events.push(`${channel} ${message}`));
    await sub.psubscribe('__key*__:*');
    for (const c of commands) await cmd.call(c[0]!, ...c.slice(1)).catch(() => undefined);
    await cmd.publish('__keyevent@0__:end', 'end');
    await waitFor(() => events.includes('__keyevent@0__:end end'), 'events to arrive');
    await cmd.config('SET', 'notify-keyspace-events', '');
  } finally {
    cmd.disconnect();
    sub.disconnect();
  }
  return events;
}

test('keyspace events of string and generic commands match redis-server', { skip: !hasRedis() }, async () => {
  const commands = [
    ['SET', 'a', '1'],
    ['SET', 'a', '2', 'EX', '100'],
    ['INCR', 'a'],
    ['INCRBYFLOAT', 'a', '1.5'],
    ['APPEND', 'a', 'x'],
    ['SETRANGE', 'a', '0', 'y'],
    ['GETEX', 'a', 'PERSIST'],
    ['GETEX', 'a', 'EX', '50'],
    ['EXPIRE', 'a', '100'],
    ['PERSIST', 'a'],
    ['GET', 'missing'],
    ['MSET', 'b', '1', 'c', '2'],
    ['RENAME', 'b', 'd'],
    ['COPY', 'd', 'e'],
    ['MOVE', 'e', '1'],
    ['GETDEL', 'd'],
    ['GETSET', 'c', '3'],
    ['DEL', 'c', 'a', 'missing'],
    ['SET', 'p', 'v', 'PXAT', '1'],
    ['GET', 'p'],
    ['SET', 'q', 'v'],
    ['EXPIRE', 'q', '-1'],
    ['SWAPDB', '0', '1'],
    ['FLUSHALL'],
  ];
  const redis = await startRedis();
  try {
    const [fromRedis, fromMirra] = await Promise.all([eventsOf(redis.port, commands), eventsOf(srv.port, commands)]);
    assert.deepEqual(fromMirra, fromRedis);
  } finally {
    await redis.stop();
  }
});

test('OBJECT IDLETIME of every type: set on store and access, not by NOTOUCH reads', async () => {
  await io.flushall();
  await io.set('str', 'v');
  await io.rpush('list', 'a');
  await io.hset('hash', 'f', 'v');
  await io.sadd('set', 'a');
  await io.zadd('zset', 1, 'a');
  await io.xadd('stream', '*', 'f', 'v');
  await io.set('was-string', 'v');
  const keys = ['str', 'list', 'hash', 'set', 'zset', 'stream'];
  // Keys loaded from an RDB start with the load's clock (strings without a per-key entry).
  assert.equal(await io.call('DEBUG', 'RELOAD'), 'OK');
  // The LRU clock has a resolution of one second.
  await new Promise((r) => setTimeout(r, 2100));
  for (const k of keys) assert.ok((await io.object('IDLETIME', k)) as number >= 2, k);
  // TYPE, EXISTS and OBJECT do not count as accesses.
  for (const k of keys) await io.type(k);
  for (const k of keys) assert.ok((await io.object('IDLETIME', k)) as number >= 2, k);
  await io.get('str');
  await io.lrange('list', 0, -1);
  await io.hget('hash', 'f');
  await io.sismember('set', 'a');
  await io.zscore('zset', 'a');
  await io.xlen('stream');
  for (const k of keys) assert.equal(await io.object('IDLETIME', k), 0, k);
  // A key that changes type keeps one clock: the new value's.
  await io.del('was-string');
  await io.hset('was-string', 'f', 'v');
  assert.equal(await io.object('IDLETIME', 'was-string'), 0);
  assert.equal(await io.object('IDLETIME', 'missing'), null);
});
