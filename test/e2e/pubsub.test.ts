/**
 * Pub/Sub and keyspace notifications through real clients (ioredis RESP2, node-redis v5 RESP2
 * and RESP3) and raw sockets for the exact frames.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startMirra, type ServerHandle } from '../helpers/servers.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';

let srv: ServerHandle;
let pub: Redis;
const cleanup: (() => void | Promise<unknown>)[] = [];

function ioClient(): Redis {
  const c = new Redis({ port: srv.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  cleanup.push(() => c.disconnect());
  return c;
}

async function nodeRedis(resp: 2 | 3): Promise<ReturnType<typeof createClient>> {
  const c = createClient({ socket: { host: '127.0.0.1', port: srv.port, reconnectStrategy: false }, RESP: resp });
  c.on('error', () => {});
  await c.connect();
  cleanup.push(() => c.destroy());
  return c;
}

function cmd(...argv: string[]): string {
  return `*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('');
}

before(async () => {
  srv = await startMirra();
  pub = ioClient();
});

after(async () => {
  for (const f of cleanup) await f();
  await srv?.stop();
});

test('ioredis: channel and pattern subscriptions receive messages; PUBLISH counts receivers', async () => {
  const sub = ioClient();
  const got: string[] = [];
  sub.on('message', (ch: string, msg: string) => got.push(`message ${ch} ${msg}`));
  sub.on('pmessage', (p: string, ch: string, msg: string) => got.push(`pmessage ${p} ${ch} ${msg}`));
  assert.equal(await sub.subscribe('news', 'sport'), 2);
  assert.equal(await sub.psubscribe('n*'), 3);
  assert.equal(await pub.publish('news', 'hello'), 2);
  assert.equal(await pub.publish('sport', 'goal'), 1);
  assert.equal(await pub.publish('nothing', 'x'), 1);
  assert.equal(await pub.publish('other', 'x'), 0);
  await waitFor(() => got.length === 4, 'four deliveries');
  assert.deepEqual(got, ['message news hello', 'pmessage n* news hello', 'message sport goal', 'pmessage n* nothing x']);
  assert.deepEqual(await pub.pubsub('NUMSUB', 'news', 'none'), ['news', 1, 'none', 0]);
  assert.equal(await pub.pubsub('NUMPAT'), 1);
  assert.deepEqual(((await pub.pubsub('CHANNELS', 's*')) as string[]).sort(), ['sport']);
  // (ioredis's argument-less unsubscribe waits for a zero count; name the channels.)
  await sub.unsubscribe('news', 'sport');
  await sub.punsubscribe('n*');
  assert.equal(await pub.publish('news', 'again'), 0);
  assert.equal(await pub.pubsub('NUMPAT'), 0);
});

test('ioredis: shard channels are a separate namespace in a standalone server', async () => {
  const sub = ioClient();
  const got: string[] = [];
  sub.on('smessage', (ch: string, msg: string) => got.push(`${ch}:${msg}`));
  assert.equal(await sub.ssubscribe('orders'), 1);
  assert.equal(await pub.spublish('orders', 'o1'), 1);
  assert.equal(await pub.publish('orders', 'plain'), 0);
  await waitFor(() => got.length === 1, 'smessage');
  assert.deepEqual(got, ['orders:o1']);
  assert.deepEqual(await pub.pubsub('SHARDCHANNELS'), ['orders']);
  assert.deepEqual(await pub.pubsub('SHARDNUMSUB', 'orders'), ['orders', 1]);
  assert.deepEqual(await pub.pubsub('CHANNELS'), []);
});

for (const resp of [2, 3] as const) {
  test(`node-redis RESP${resp}: subscribe, pSubscribe, sSubscribe and unsubscribe`, async () => {
    const sub = await nodeRedis(resp);
    const got: string[] = [];
    await sub.subscribe('alpha', (msg, ch) => got.push(`${ch}=${msg}`));
    await sub.pSubscribe('al*', (msg, ch) => got.push(`p:${ch}=${msg}`));
    await sub.sSubscribe('shard1', (msg, ch) => got.push(`s:${ch}=${msg}`));
    assert.equal(await pub.publish('alpha', 'a1'), 2);
    assert.equal(await pub.spublish('shard1', 's1'), 1);
    await waitFor(() => got.length === 3, 'three messages');
    assert.deepEqual(got.sort(), ['alpha=a1', 'p:alpha=a1', 's:shard1=s1']);
    await sub.unsubscribe('alpha');
    await sub.pUnsubscribe('al*');
    await sub.sUnsubscribe('shard1');
    assert.equal(await pub.publish('alpha', 'a2'), 0);
    if (resp === 3) {
      // RESP3 clients may run normal commands while subscribed.
      await sub.subscribe('beta', () => {});
      assert.equal(await sub.set('k', 'v'), 'OK');
    }
  });
}

test('raw RESP2: exact frames, counts, unsubscribe from nothing, subscribed-mode restrictions', async () => {
  const c = await RawConn.connect(srv.port);
  let exp = '*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n';
  assert.equal(await c.roundtrip(cmd('UNSUBSCRIBE'), exp.length), exp);
  exp = '*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n';
  assert.equal(await c.roundtrip(cmd('PUNSUBSCRIBE'), exp.length), exp);
  exp = '*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n';
  assert.equal(await c.roundtrip(cmd('SUBSCRIBE', 'a', 'b', 'a'), exp.length), exp);
  exp = '*3\r\n$10\r\npsubscribe\r\n$2\r\nx*\r\n:3\r\n';
  assert.equal(await c.roundtrip(cmd('PSUBSCRIBE', 'x*'), exp.length), exp);
  exp = '*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n';
  assert.equal(await c.roundtrip(cmd('SSUBSCRIBE', 's1'), exp.length), exp);
  exp = '*2\r\n$4\r\npong\r\n$0\r\n\r\n';
  assert.equal(await c.roundtrip(cmd('PING'), exp.length), exp);
  exp = "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n";
  assert.equal(await c.roundtrip(cmd('GET', 'a'), exp.length), exp);
  assert.equal(await pub.publish('xy', 'hello'), 1);
  exp = '*4\r\n$8\r\npmessage\r\n$2\r\nx*\r\n$2\r\nxy\r\n$5\r\nhello\r\n';
  assert.equal(await c.read(exp.length), exp);
  // Unsubscribing from everything goes through the channels in table order (Redis: hash order).
  const frame = (ch: string, n: number): string => `*3\r\n$11\r\nunsubscribe\r\n$1\r\n${ch}\r\n:${n}\r\n`;
  const all = await c.roundtrip(cmd('UNSUBSCRIBE'), frame('a', 2).length * 2);
  assert.ok(all === frame('a', 2) + frame('b', 1) || all === frame('b', 2) + frame('a', 1), all);
  exp = '*3\r\n$12\r\npunsubscribe\r\n$4\r\nnope\r\n:1\r\n*3\r\n$12\r\npunsubscribe\r\n$2\r\nx*\r\n:0\r\n';
  assert.equal(await c.roundtrip(cmd('PUNSUBSCRIBE', 'nope', 'x*'), exp.length), exp);
  // Still subscribed to a shard channel: still restricted.
  exp = "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n";
  assert.equal(await c.roundtrip(cmd('GET', 'a'), exp.length), exp);
  exp = '*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:0\r\n$-1\r\n';
  assert.equal(await c.roundtrip(cmd('SUNSUBSCRIBE') + cmd('GET', 'a'), exp.length), exp);
  c.close();
});

test('raw RESP3: push frames, PING answers PONG, the publisher sees its own message first', async () => {
  const c = await RawConn.connect(srv.port);
  c.write(cmd('HELLO', '3'));
  await c.drain(150);
  let exp = '>3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n';
  assert.equal(await c.roundtrip(cmd('UNSUBSCRIBE'), exp.length), exp);
  exp = '>3\r\n$9\r\nsubscribe\r\n$2\r\nme\r\n:1\r\n+PONG\r\n';
  assert.equal(await c.roundtrip(cmd('SUBSCRIBE', 'me') + cmd('PING'), exp.length), exp);
  exp = '>3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$3\r\nhi!\r\n:1\r\n';
  assert.equal(await c.roundtrip(cmd('PUBLISH', 'me', 'hi!'), exp.length), exp);
  exp = '>3\r\n$10\r\nssubscribe\r\n$1\r\nq\r\n:1\r\n>3\r\n$8\r\nsmessage\r\n$1\r\nq\r\n$1\r\nm\r\n:1\r\n';
  assert.equal(await c.roundtrip(cmd('SSUBSCRIBE', 'q') + cmd('SPUBLISH', 'q', 'm'), exp.length), exp);
  c.close();
});

test('PUBSUB HELP and argument errors', async () => {
  const c = await RawConn.connect(srv.port);
  let exp = "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n";
  assert.equal(await c.roundtrip(cmd('PUBSUB', 'CHANNELS', 'a', 'b'), exp.length), exp);
  exp = "-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n";
  assert.equal(await c.roundtrip(cmd('PUBSUB', 'FOO'), exp.length), exp);
  exp = '*14\r\n+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n';
  assert.equal(await c.roundtrip(cmd('PUBSUB', 'HELP'), exp.length), exp);
  c.close();
});

test('SUBSCRIBE inside MULTI works, SSUBSCRIBE inside MULTI is refused', async () => {
  const c = await RawConn.connect(srv.port);
  const exp =
    '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n' +
    "-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n" +
    '*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:1\r\n';
  assert.equal(await c.roundtrip(cmd('MULTI') + cmd('SSUBSCRIBE', 'a') + cmd('SUBSCRIBE', 'b') + cmd('EXEC'), exp.length), exp);
  c.close();
});

test('RESET and disconnects drop subscriptions; CLIENT LIST shows the counts', async () => {
  const c = await RawConn.connect(srv.port);
  c.write(cmd('SUBSCRIBE', 'gone1', 'gone2') + cmd('PSUBSCRIBE', 'g*'));
  await waitFor(async () => Number((await pub.pubsub('NUMSUB', 'gone1'))[1]) === 1, 'subscription registered');
  const list = await pub.client('LIST');
  assert.match(String(list), /flags=P db=0 sub=2 psub=1 ssub=0 /);
  c.write(cmd('RESET'));
  await waitFor(async () => Number((await pub.pubsub('NUMSUB', 'gone1'))[1]) === 0, 'RESET unsubscribes');
  assert.equal(await pub.pubsub('NUMPAT'), 0);
  c.write(cmd('SUBSCRIBE', 'gone2'));
  await waitFor(async () => Number((await pub.pubsub('NUMSUB', 'gone2'))[1]) === 1, 'subscribed again');
  c.close();
  await waitFor(async () => Number((await pub.pubsub('NUMSUB', 'gone2'))[1]) === 0, 'disconnect unsubscribes');
});

test('keyspace notifications: CONFIG echo, keyspace/keyevent channels, expired events, db numbers', async () => {
  const admin = ioClient();
  await assert.rejects(admin.config('SET', 'notify-keyspace-events', 'Q'), /Invalid event class character\. Use 'Ag\$lshzxeKEtmdn'\./);
  assert.equal(await admin.config('SET', 'notify-keyspace-events', 'KEA'), 'OK');
  assert.deepEqual(await admin.config('GET', 'notify-keyspace-events'), ['notify-keyspace-events', 'AKE']);
  const sub = ioClient();
  const got: string[] = [];
  sub.on('pmessage', (_p: string, ch: string, msg: string) => got.push(`${ch} ${msg}`));
  await sub.psubscribe('__key*__:*');
  const w = ioClient();
  await w.select(3);
  await w.set('nk', 'v', 'PX', 30);
  await waitFor(() => got.length >= 6, 'set, expire and expired notifications', 5000);
  assert.deepEqual(got.slice(0, 6), [
    '__keyspace@3__:nk set',
    '__keyevent@3__:set nk',
    '__keyspace@3__:nk expire',
    '__keyevent@3__:expire nk',
    '__keyspace@3__:nk expired',
    '__keyevent@3__:expired nk',
  ]);
  got.length = 0;
  assert.equal(await admin.config('SET', 'notify-keyspace-events', 'Eg'), 'OK');
  assert.deepEqual(await admin.config('GET', 'notify-keyspace-events'), ['notify-keyspace-events', 'gE']);
  await w.set('a', '1');
  await w.del('a');
  await waitFor(() => got.length >= 1, 'del event');
  assert.deepEqual(got, ['__keyevent@3__:del a']);
  await admin.config('SET', 'notify-keyspace-events', '');
});
