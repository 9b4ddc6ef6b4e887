/**
 * Streams through real clients (ioredis, node-redis): entries and trimming, consumer-group
 * workflows (read, ack, pending with IDLE, claim, autoclaim), XINFO with times, and
 * XREAD/XREADGROUP BLOCK with several waiting clients. Exact bytes and every error text are
 * covered by test/differential/scripts/stream.txt against redis-server.
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

test('XADD generates increasing IDs from the clock; XRANGE/XREVRANGE/XLEN/XDEL', async () => {
  const before = Date.now();
  const id1 = (await r.xadd('s', '*', 'f', '1'))!;
  const id2 = (await r.xadd('s', '*', 'f', '2'))!;
  const [ms1, seq1] = id1.split('-').map(Number) as [number, number];
  assert.ok(ms1 >= before - 1 && ms1 <= Date.now());
  assert.ok(id2 > id1 || Number(id2.split('-')[0]) > ms1 || Number(id2.split('-')[1]) > seq1);
  assert.equal(await r.xlen('s'), 2);
  assert.deepEqual(await r.xrange('s', '-', '+'), [
    [id1, ['f', '1']],
    [id2, ['f', '2']],
  ]);
  assert.deepEqual(await r.xrevrange('s', '+', '-', 'COUNT', 1), [[id2, ['f', '2']]]);
  assert.equal(await r.xdel('s', id1, '0-1'), 1);
  assert.equal(await r.xlen('s'), 1);
  assert.equal(await r.xadd('nos', 'NOMKSTREAM', '*', 'a', 'b'), null);
  await assert.rejects(r.xadd('s', '0-1', 'a', 'b'), /ERR The ID specified in XADD is equal or smaller than the target stream top item/);
  await r.set('str', 'x');
  await assert.rejects(r.xadd('str', '*', 'a', 'b'), /WRONGTYPE/);
});

test('trimming: exact and approximate (whole nodes), MINID, LIMIT', async () => {
  const p = r.pipeline();
  for (let i = 1; i <= 300; i++) p.xadd('t', `${i}-0`, 'n', String(i));
  await p.exec();
  assert.equal(await r.xtrim('t', 'MAXLEN', '~', 250), 0); // no whole node can go
  assert.equal(await r.xtrim('t', 'MAXLEN', '~', 150), 100);
  assert.equal(await r.xtrim('t', 'MAXLEN', 150), 50);
  assert.equal(await r.xlen('t'), 150);
  assert.equal(await r.xtrim('t', 'MINID', '280'), 129);
  assert.deepEqual((await r.xrange('t', '-', '+', 'COUNT', 1))[0]![0], '280-0');
  assert.equal(await r.xadd('t', 'MAXLEN', '5', '301-0', 'n', '301'), '301-0');
  assert.equal(await r.xlen('t'), 5);
  await assert.rejects(r.xtrim('t', 'MAXLEN', 1, 'LIMIT', 5), /LIMIT cannot be used without the special ~ option/);
});

test('consumer groups: read, pending, ack, claim, autoclaim, info', async () => {
  await r.del('g');
  for (let i = 1; i <= 5; i++) await r.xadd('g', `${i}-0`, 'job', String(i));
  assert.equal(await r.xgroup('CREATE', 'g', 'workers', '0'), 'OK');
  await assert.rejects(r.xgroup('CREATE', 'g', 'workers', '0'), /BUSYGROUP Consumer Group name already exists/);
  const got = (await r.xreadgroup('GROUP', 'workers', 'alice', 'COUNT', 3, 'STREAMS', 'g', '>')) as [string, [string, string[]][]][];
  assert.deepEqual(
    got[0]![1].map((e) => e[0]),
    ['1-0', '2-0', '3-0'],
  );
  await r.xreadgroup('GROUP', 'workers', 'bob', 'STREAMS', 'g', '>');
  const summary = (await r.xpending('g', 'workers')) as [number, string, string, [string, string][]];
  assert.deepEqual(summary, [5, '1-0', '5-0', [['alice', '3'], ['bob', '2']]]);
  const ext = (await r.xpending('g', 'workers', '-', '+', 10, 'alice')) as [string, string, number, number][];
  assert.deepEqual(
    ext.map((e) => [e[0], e[1], e[3]]),
    [
      ['1-0', 'alice', 1],
      ['2-0', 'alice', 1],
      ['3-0', 'alice', 1],
    ],
  );
  assert.ok(ext.every((e) => e[2] >= 0 && e[2] < 5000));
  // Let some idle time pass, then claim what has been idle long enough.
  await new Promise((res) => setTimeout(res, 60));
  assert.deepEqual(await r.xpending('g', 'workers', 'IDLE', 50, '-', '+', 10, 'bob').then((x) => (x as unknown[]).length), 2);
  assert.equal(await r.xack('g', 'workers', '1-0', '9-9'), 1);
  const claimed = (await r.xclaim('g', 'workers', 'carol', 50, '2-0', '4-0', 'JUSTID')) as string[];
  assert.deepEqual(claimed, ['2-0', '4-0']);
  const auto = (await r.xautoclaim('g', 'workers', 'dave', 0, '0', 'COUNT', 2)) as [string, [string, string[]][], string[]];
  assert.deepEqual(auto[0], '4-0');
  assert.deepEqual(
    auto[1].map((e) => e[0]),
    ['2-0', '3-0'],
  );
  assert.deepEqual(auto[2], []);
  const groups = (await r.xinfo('GROUPS', 'g')) as unknown[][];
  assert.deepEqual(groups[0], ['name', 'workers', 'consumers', 4, 'pending', 4, 'last-delivered-id', '5-0', 'entries-read', 5, 'lag', 0]);
  const consumers = (await r.xinfo('CONSUMERS', 'g', 'workers')) as unknown[][];
  assert.deepEqual(
    consumers.map((c) => [c[1], c[3]]),
    [
      ['alice', 0],
      ['bob', 1],
      ['carol', 1],
      ['dave', 2],
    ],
  );
  for (const c of consumers) assert.ok((c[5] as number) >= 0 && (c[5] as number) < 10000);
  const full = (await r.xinfo('STREAM', 'g', 'FULL')) as unknown[];
  assert.equal(full[0], 'length');
  assert.equal(full[14], 'entries');
  assert.equal(await r.xgroup('DELCONSUMER', 'g', 'workers', 'dave'), 2);
  assert.equal(await r.xgroup('DESTROY', 'g', 'workers'), 1);
  assert.equal(await r.xgroup('CREATE', 'newstream', 'grp', '$', 'MKSTREAM'), 'OK');
  assert.equal(await r.xlen('newstream'), 0);
});

test('node-redis: XADD/XREAD helpers and RESP3 map replies', async () => {
  const c = createClient({ url: `redis://127.0.0.1:${srv.port}` });
  await c.connect();
  try {
    await c.del('nr');
    const id = await c.xAdd('nr', '*', { temp: '21', unit: 'C' });
    const res = await c.xRead({ key: 'nr', id: '0' });
    assert.ok(res !== null);
    assert.deepEqual(JSON.parse(JSON.stringify(res)), [{ name: 'nr', messages: [{ id, message: { temp: '21', unit: 'C' } }] }]);
    assert.equal(await c.xLen('nr'), 1);
  } finally {
    await c.quit();
  }
  const c3 = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP: 3 });
  await c3.connect();
  try {
    const reply = (await c3.sendCommand(['XREAD', 'STREAMS', 'nr', '0'])) as unknown;
    // RESP3 answers a map of stream name → entries.
    assert.ok(reply instanceof Map || (typeof reply === 'object' && reply !== null && 'nr' in (reply as object)));
  } finally {
    await c3.quit();
  }
});

test('XREAD BLOCK: several readers all get the new entry; $ means "after now"; timeouts', async () => {
  await r.del('live');
  await r.xadd('live', '1-0', 'old', '1');
  const readers = [conn(), conn(), conn()];
  const ps = readers.map((c) => c.xread('BLOCK', 0, 'STREAMS', 'live', '$'));
  await waitBlocked(3);
  await r.xadd('live', '2-0', 'new', '1');
  for (const res of await Promise.all(ps)) assert.deepEqual(res, [['live', [['2-0', ['new', '1']]]]]);
  await waitBlocked(0);
  // Multi-key wait, served by the key that got data; the reply holds only that stream.
  const p = conn().xread('BLOCK', 0, 'STREAMS', 'live', 'other', '$', '0');
  await waitBlocked(1);
  await r.xadd('other', '5-0', 'x', 'y');
  assert.deepEqual(await p, [['other', [['5-0', ['x', 'y']]]]]);
  const t0 = Date.now();
  assert.equal(await conn().xread('BLOCK', 100, 'STREAMS', 'live', '$'), null);
  assert.ok(Date.now() - t0 >= 80);
  assert.equal(await conn().xread('BLOCK', 100, 'STREAMS', 'never', '$'), null);
  await assert.rejects(conn().xread('BLOCK', -1, 'STREAMS', 'live', '$'), /ERR timeout is negative/);
  const m = await conn().multi().xread('BLOCK', 0, 'STREAMS', 'never', '$').exec();
  assert.deepEqual(m, [[null, null]]);
});

test('XREADGROUP BLOCK: waiting consumers share new entries, one each', async () => {
  await r.del('jobs');
  await r.xgroup('CREATE', 'jobs', 'g', '$', 'MKSTREAM');
  const workers = [conn(), conn(), conn()];
  const ps: Promise<unknown>[] = [];
  for (let i = 0; i < workers.length; i++) {
    ps.push(workers[i]!.xreadgroup('GROUP', 'g', `w${i}`, 'COUNT', 1, 'BLOCK', 0, 'STREAMS', 'jobs', '>'));
    await waitBlocked(i + 1);
  }
  await r.xadd('jobs', '1-0', 'n', '1');
  await r.xadd('jobs', '2-0', 'n', '2');
  await r.xadd('jobs', '3-0', 'n', '3');
  const got = (await Promise.all(ps)) as [string, [string, string[]][]][][];
  assert.deepEqual(
    got.map((x) => x[0]![1][0]![0]),
    ['1-0', '2-0', '3-0'],
  );
  const pending = (await r.xpending('jobs', 'g')) as [number, string, string, [string, string][]];
  assert.deepEqual(pending[3], [
    ['w0', '1'],
    ['w1', '1'],
    ['w2', '1'],
  ]);
  // A reader blocked on a group that is destroyed gets -NOGROUP.
  const lost = assert.rejects(
    conn().xreadgroup('GROUP', 'g', 'w9', 'BLOCK', 0, 'STREAMS', 'jobs', '>'),
    /NOGROUP the consumer group this client was blocked on no longer exists/,
  );
  await waitBlocked(1);
  await r.xgroup('DESTROY', 'jobs', 'g');
  await lost;
});
