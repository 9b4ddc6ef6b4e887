/**
 * String commands through real clients (ioredis in RESP2, node-redis v5 in RESP2 and RESP3):
 * binary safety, option encodings the libraries produce, numeric edge cases and the replies the
 * libraries parse. Exact bytes and error texts are covered by the differential scripts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startMirra, type ServerHandle } from '../helpers/servers.js';

let srv: ServerHandle;
let io: Redis;
let nr: ReturnType<typeof createClient>;
let nr3: ReturnType<typeof createClient>;

before(async () => {
  srv = await startMirra();
  io = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await io.connect();
  nr = createClient({ socket: { host: '127.0.0.1', port: srv.port, reconnectStrategy: false } });
  nr3 = createClient({ socket: { host: '127.0.0.1', port: srv.port, reconnectStrategy: false }, RESP: 3 });
  nr.on('error', () => {});
  nr3.on('error', () => {});
  await nr.connect();
  await nr3.connect();
});

after(async () => {
  io?.disconnect();
  nr?.destroy();
  nr3?.destroy();
  await srv?.stop();
});

test('ioredis: binary-safe values round-trip as Buffers', async () => {
  const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10, 0x80, 0x7f]);
  assert.equal(await io.set('bin', bytes), 'OK');
  assert.deepEqual(await io.getBuffer('bin'), bytes);
  assert.equal(await io.strlen('bin'), bytes.length);
  assert.equal(await io.append('bin', Buffer.from([0xc3, 0xa9])), bytes.length + 2);
  assert.deepEqual(await io.getrangeBuffer('bin', -2, -1), Buffer.from([0xc3, 0xa9]));
  // UTF-8 text is stored as its bytes.
  await io.set('utf8', 'héllo wörld ✓');
  assert.equal(await io.get('utf8'), 'héllo wörld ✓');
  assert.equal(await io.strlen('utf8'), Buffer.byteLength('héllo wörld ✓'));
});

test('ioredis: SET options, TTLs and GET flag', async () => {
  assert.equal(await io.set('k', 'v', 'EX', 100), 'OK');
  assert.equal(await io.ttl('k'), 100);
  assert.equal(await io.set('k', 'v2', 'KEEPTTL'), 'OK');
  assert.equal(await io.ttl('k'), 100);
  assert.equal(await io.set('k', 'v3', 'NX'), null);
  assert.equal(await io.set('k', 'v3', 'XX', 'GET'), 'v2');
  assert.equal(await io.set('nokey', 'x', 'XX'), null);
  assert.equal(await io.setnx('k', 'x'), 0);
  assert.equal(await io.setex('e', 5, 'v'), 'OK');
  assert.ok((await io.pttl('e')) > 4000);
  await assert.rejects(io.set('k', 'v', 'EX', 0), /invalid expire time in 'set' command/);
  await assert.rejects(io.setex('e', -1, 'v'), /invalid expire time in 'setex' command/);
});

test('ioredis: GETEX / GETDEL / GETSET', async () => {
  await io.set('g', 'val');
  assert.equal(await io.getex('g', 'PX', 50000), 'val');
  assert.ok((await io.pttl('g')) > 40000);
  assert.equal(await io.getex('g', 'PERSIST'), 'val');
  assert.equal(await io.ttl('g'), -1);
  assert.equal(await io.getset('g', 'new'), 'val');
  assert.equal(await io.getdel('g'), 'new');
  assert.equal(await io.exists('g'), 0);
  assert.equal(await io.getdel('g'), null);
});

test('ioredis: counters keep full 64-bit precision and report overflow', async () => {
  await io.set('cnt', '9007199254740991');
  assert.equal(await io.incr('cnt'), 9007199254740992);
  // ioredis turns integer replies into JS numbers; the stored text shows the exact value.
  await io.incrby('cnt', '9007199254740993' as unknown as number);
  assert.equal(await io.get('cnt'), '18014398509481985');
  await io.set('cnt', '9223372036854775806');
  await io.incr('cnt');
  assert.equal(await io.get('cnt'), '9223372036854775807');
  await assert.rejects(io.incr('cnt'), /increment or decrement would overflow/);
  assert.equal(await io.get('cnt'), '9223372036854775807');
  await assert.rejects(io.decrby('cnt', '-9223372036854775808' as unknown as number), /decrement would overflow/);
  await io.set('s', 'abc');
  await assert.rejects(io.incr('s'), /value is not an integer or out of range/);
});

test('ioredis: INCRBYFLOAT uses long double arithmetic like Redis', async () => {
  assert.equal(await io.incrbyfloat('f', '0.1'), '0.1');
  assert.equal(await io.incrbyfloat('f', '0.2'), '0.3');
  assert.equal(await io.incrbyfloat('f', '10.5'), '10.8');
  assert.equal(await io.incrbyfloat('f', '-10.8'), '0');
  assert.equal(await io.incrbyfloat('f', '5.0e3'), '5000');
  // Long double precision shows in the 17th decimal, exactly as Redis prints it.
  assert.equal(await io.incrbyfloat('f', '1e-3'), '5000.00099999999999989');
  await assert.rejects(io.incrbyfloat('f', 'inf'), /increment would produce NaN or Infinity/);
  await assert.rejects(io.incrbyfloat('f', 'x'), /value is not a valid float/);
});

test('ioredis: MSET/MGET/MSETNX, SETRANGE/GETRANGE, LCS', async () => {
  assert.equal(await io.mset('a', '1', 'b', '2'), 'OK');
  assert.deepEqual(await io.mget('a', 'b', 'zz'), ['1', '2', null]);
  assert.equal(await io.msetnx('b', 'x', 'c', 'y'), 0);
  assert.equal(await io.exists('c'), 0);
  assert.equal(await io.setrange('sr', 3, 'abc'), 6);
  assert.deepEqual(await io.getBuffer('sr'), Buffer.from('\0\0\0abc', 'latin1'));
  assert.equal(await io.getrange('sr', -3, -1), 'abc');
  await io.mset('l1', 'ohmytext', 'l2', 'mynewtext');
  assert.equal(await io.call('lcs', 'l1', 'l2'), 'mytext');
  assert.equal(await io.call('lcs', 'l1', 'l2', 'LEN'), 6);
  assert.deepEqual(await io.call('lcs', 'l1', 'l2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'), [
    'matches',
    [[[4, 7], [5, 8], 4]],
    'len',
    6,
  ]);
});

test('node-redis (RESP2): strings and expiration options', async () => {
  assert.equal(await nr.set('n1', 'v', { expiration: { type: 'PX', value: 60000 } }), 'OK');
  const pttl = await nr.pTTL('n1');
  assert.ok(pttl > 50000 && pttl <= 60000);
  assert.equal(await nr.set('n1', 'w', { condition: 'NX' }), null);
  assert.equal(await nr.get('n1'), 'v');
  assert.equal(await nr.incrBy('n2', 5), 5);
  assert.equal(await nr.decr('n2'), 4);
  assert.equal(await nr.append('n2', '2'), 2);
  assert.equal(await nr.get('n2'), '42');
  assert.deepEqual(await nr.mGet(['n1', 'n2', 'none']), ['v', '42', null]);
  assert.equal(await nr.getEx('n2', { type: 'EXAT', value: 4102444800 }), '42');
  assert.equal(await nr.expireTime('n2'), 4102444800);
  assert.equal(await nr.getDel('n2'), '42');
});

test('node-redis (RESP3): nulls, LCS IDX map, INCRBYFLOAT', async () => {
  assert.equal(await nr3.get('missing'), null);
  assert.deepEqual(await nr3.mGet(['missing']), [null]);
  await nr3.mSet({ r1: 'ohmytext', r2: 'mynewtext' });
  const idx = (await nr3.sendCommand(['LCS', 'r1', 'r2', 'IDX'])) as unknown;
  // RESP3 map → node-redis gives a plain object by default.
  assert.deepEqual(JSON.parse(JSON.stringify(idx)), {
    matches: [
      [
        [4, 7],
        [5, 8],
      ],
      [
        [2, 3],
        [0, 1],
      ],
    ],
    len: 6,
  });
  assert.equal(await nr3.incrByFloat('rf', 2.5), '2.5');
  assert.equal(await nr3.sendCommand(['OBJECT', 'ENCODING', 'rf']), 'embstr');
});
