/**
 * Blocking list commands against a running Mirra, through ioredis, node-redis and raw sockets:
 * FIFO serving of several waiters, multi-key waits, timeouts, clients killed while blocked,
 * pushes inside MULTI/EXEC, BLMOVE chains, and pipelined commands resuming after a wake-up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startMirra, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { RawConn } from '../helpers/raw.js';

let srv: ServerHandle;
let admin: Redis;
const opened: Redis[] = [];

before(async () => {
  srv = await startMirra();
  admin = new Redis(srv.port, '127.0.0.1');
});
after(async () => {
  for (const c of opened) c.disconnect();
  admin.disconnect();
  await srv.stop();
});

function conn(): Redis {
  const c = new Redis(srv.port, '127.0.0.1');
  opened.push(c);
  return c;
}

async function blockedCount(): Promise<number> {
  const info = await admin.info('clients');
  return Number(/blocked_clients:(\d+)/.exec(info)![1]);
}

async function waitBlocked(n: number): Promise<void> {
  await waitFor(async () => (await blockedCount()) === n, `${n} blocked clients`);
}

test('several waiters on one key are served in the order they blocked', async () => {
  const cs = [conn(), conn(), conn()];
  const replies: Promise<[string, string] | null>[] = [];
  for (let i = 0; i < cs.length; i++) {
    replies.push(cs[i]!.blpop('fifo', 0));
    await waitBlocked(i + 1);
  }
  assert.equal(await admin.rpush('fifo', 'a', 'b', 'c', 'd'), 4);
  assert.deepEqual(await Promise.all(replies), [
    ['fifo', 'a'],
    ['fifo', 'b'],
    ['fifo', 'c'],
  ]);
  assert.deepEqual(await admin.lrange('fifo', 0, -1), ['d']);
  await waitBlocked(0);
});

test('a waiter on several keys is served from the key that got elements', async () => {
  const c = conn();
  const r = c.brpop('mk1', 'mk2', 'mk3', 0);
  await waitBlocked(1);
  await admin.lpush('mk2', 'x');
  assert.deepEqual(await r, ['mk2', 'x']);
  assert.equal(await admin.exists('mk2'), 0);
});

test('timeouts answer null after the wait, fractional seconds included', async () => {
  const c = conn();
  const t0 = Date.now();
  assert.equal(await c.blpop('tnone', 0.2), null);
  const waited = Date.now() - t0;
  assert.ok(waited >= 150, `waited ${waited} ms`);
  assert.equal(await c.blmove('tnone', 'tdst', 'LEFT', 'RIGHT', 0.05), null);
  assert.equal(await c.call('blmpop', '0.05', '1', 'tnone', 'LEFT'), null);
  await waitBlocked(0);
});

test('a client killed while blocked no longer waits and takes no element', async () => {
  const victim = conn();
  const id = await victim.client('ID');
  victim.blpop('killed', 0).catch(() => {});
  await waitBlocked(1);
  assert.equal(await admin.client('KILL', 'ID', String(id)), 1);
  await waitBlocked(0);
  await admin.rpush('killed', 'v');
  assert.equal(await admin.llen('killed'), 1);
  victim.disconnect();
});

test('pushes inside MULTI wake waiters after EXEC, with the final list state', async () => {
  const c = conn();
  const r = c.blpop('mq', 0);
  await waitBlocked(1);
  const res = await admin.multi().rpush('mq', 'a').lpush('mq', 'b').llen('mq').exec();
  assert.deepEqual(res, [
    [null, 1],
    [null, 2],
    [null, 2],
  ]);
  assert.deepEqual(await r, ['mq', 'b']);
  assert.deepEqual(await admin.lrange('mq', 0, -1), ['a']);
});

test('inside MULTI blocking commands answer at once', async () => {
  const res = await admin.multi().blpop('nothing', 0).brpoplpush('nothing', 'x', 0).exec();
  assert.deepEqual(res, [
    [null, null],
    [null, null],
  ]);
});

test('BLMOVE chains: its push wakes the waiters of the destination', async () => {
  const mover = conn();
  const popper = conn();
  const m = mover.blmove('chain-src', 'chain-mid', 'LEFT', 'RIGHT', 0);
  await waitBlocked(1);
  const p = popper.brpoplpush('chain-mid', 'chain-dst', 0);
  await waitBlocked(2);
  await admin.rpush('chain-src', 'x');
  assert.equal(await m, 'x');
  assert.equal(await p, 'x');
  assert.deepEqual(await admin.lrange('chain-dst', 0, -1), ['x']);
  assert.equal(await admin.exists('chain-src', 'chain-mid'), 0);
});

test('BLMPOP is served with its count; commands pipelined behind a blocked one run after it', async () => {
  const raw = await RawConn.connect(srv.port);
  raw.write('*7\r\n$6\r\nBLMPOP\r\n$1\r\n0\r\n$1\r\n1\r\n$3\r\nbmp\r\n$5\r\nRIGHT\r\n$5\r\nCOUNT\r\n');
  raw.write('$1\r\n2\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nLLEN\r\n$3\r\nbmp\r\n');
  await waitBlocked(1);
  await admin.rpush('bmp', 'a', 'b', 'c');
  const exp = '*2\r\n$3\r\nbmp\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n+PONG\r\n:1\r\n';
  assert.equal(await raw.read(exp.length), exp);
  raw.close();
});

test('a waiter whose key got another type keeps waiting; a wrong-type BLMOVE target errors', async () => {
  const c = conn();
  const r = c.blpop('typed', 0);
  await waitBlocked(1);
  await admin.sadd('typed', 'm');
  assert.equal(await blockedCount(), 1);
  await admin.del('typed');
  await admin.rpush('typed', 'ok');
  assert.deepEqual(await r, ['typed', 'ok']);

  const mv = conn();
  // Settled into a value at once, so the rejection is never unhandled while we push.
  const m = mv.blmove('wsrc', 'wdst', 'LEFT', 'LEFT', 0).then(
    (v) => v,
    (e: Error) => e,
  );
  await waitBlocked(1);
  await admin.set('wdst', 'string');
  await admin.rpush('wsrc', 'x');
  const outcome = await m;
  assert.ok(outcome instanceof Error && /^WRONGTYPE/.test(outcome.message), String(outcome));
  assert.equal(await admin.llen('wsrc'), 1);
});

test('node-redis: BLPOP and BLMOVE', async () => {
  const client = createClient({ socket: { port: srv.port, host: '127.0.0.1' } });
  await client.connect();
  try {
    const waiting = client.blPop('nr', 0);
    await waitBlocked(1);
    await admin.rpush('nr', 'v1', 'v2');
    assert.deepEqual(await waiting, { key: 'nr', element: 'v1' });
    assert.equal(await client.blMove('nr', 'nr2', 'LEFT', 'RIGHT', 0), 'v2');
    assert.equal(await client.blPop('nr-none', 0.05), null);
  } finally {
    await client.quit();
  }
});

test('many waiters on many keys under concurrent pushes: every element delivered once', async () => {
  const keys = ['ca', 'cb', 'cc'];
  const waiters = Array.from({ length: 12 }, () => conn());
  const got = waiters.map((w) => w.blpop(...keys, 5));
  await waitBlocked(12);
  const pushers = keys.map((k, i) => admin.rpush(k, `${k}-1`, `${k}-2`, `${k}-3`, `${k}-${i}-x`));
  await Promise.all(pushers);
  const results = (await Promise.all(got)).map((r) => r![1]).sort();
  const expected = keys.flatMap((k, i) => [`${k}-1`, `${k}-2`, `${k}-3`, `${k}-${i}-x`]).sort();
  assert.deepEqual(results, expected);
  assert.equal(await admin.exists(...keys), 0);
});

test('a list arriving by RENAME wakes the waiters of its new name (Redis signals on dbAdd)', async () => {
  const c = conn();
  const r = c.blpop('renamed', 0);
  await waitBlocked(1);
  await admin.rpush('to-rename', 'v');
  await admin.rename('to-rename', 'renamed');
  assert.deepEqual(await r, ['renamed', 'v']);
});
