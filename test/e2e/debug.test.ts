/**
 * DEBUG and MEMORY, compared with a real redis-server where the answer is deterministic:
 * DEBUG DIGEST / DIGEST-VALUE over the same dataset (every value type Mirra implements at the
 * time the test runs, TTLs, several databases), DEBUG PROTOCOL bytes in RESP2 and RESP3,
 * MEMORY USAGE of compact encodings; plus the server-level effects of POPULATE, SLEEP,
 * SET-ACTIVE-EXPIRE, CHANGE-REPL-ID and LOG.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Redis } from 'ioredis';
import { hasRedis, startMirra, startRedis, type ServerHandle } from '../helpers/servers.js';
import { RawConn } from '../helpers/raw.js';
import { sleep, waitFor } from '../helpers/wait.js';

const redisAvailable = hasRedis();
let mirra: ServerHandle;
let redis: ServerHandle | undefined;
let m: Redis;
let r: Redis | undefined;
const cleanup: (() => void)[] = [];

function client(port: number): Redis {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
  cleanup.push(() => c.disconnect());
  return c;
}

function cmd(...argv: string[]): string {
  return `*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('');
}

before(async () => {
  mirra = await startMirra();
  m = client(mirra.port);
  if (redisAvailable) {
    redis = await startRedis();
    r = client(redis.port);
  }
});

after(async () => {
  for (const f of cleanup) f();
  await Promise.all([mirra?.stop(), redis?.stop()]);
});

/** Sends a command to a client and returns its reply or the error text. */
async function send(c: Redis, argv: (string | number)[]): Promise<unknown> {
  try {
    return await c.call(String(argv[0]), ...argv.slice(1).map(String));
  } catch (e) {
    return `ERR:${(e as Error).message}`;
  }
}

/** One group per value type; a group whose first command Mirra does not know yet is skipped. */
const DATASET: { type: string; cmds: (string | number)[][] }[] = [
  {
    type: 'string',
    cmds: [
      ['SET', 's:plain', 'hello world'],
      ['SET', 's:int', '12345'],
      ['SET', 's:empty', ''],
      ['SET', 's:bin', 'a\x00b\xffc\r\n'],
      ['SET', 's:long', 'x'.repeat(5000)],
      ['SET', 's:ttl', 'v', 'EX', 1000],
      ['INCRBYFLOAT', 's:float', '1.5'],
      ['APPEND', 's:app', 'abc'],
      ['SELECT', 3],
      ['SET', 's:db3', 'three'],
      ['SET', 's:int', '-9223372036854775808'],
      ['SELECT', 0],
    ],
  },
  {
    type: 'list',
    cmds: [
      ['RPUSH', 'l:small', 'a', 'b', 'c', '1', '-2', '99999999999'],
      ['LPUSH', 'l:small', 'head'],
      ['RPUSH', 'l:big', ...Array.from({ length: 700 }, (_, i) => `element-${i}`)],
      ['RPUSH', 'l:ttl', 'x'],
      ['EXPIRE', 'l:ttl', 1000],
    ],
  },
  {
    type: 'set',
    cmds: [
      ['SADD', 'set:int', '1', '2', '3', '-100', '99999999999'],
      ['SADD', 'set:str', 'a', 'b', 'c'],
      ['SADD', 'set:big', ...Array.from({ length: 600 }, (_, i) => String(i))],
      ['SELECT', 3],
      ['SADD', 'set:db3', 'x'],
      ['SELECT', 0],
    ],
  },
  {
    type: 'zset',
    cmds: [
      ['ZADD', 'z:small', '1', 'a', '1.5', 'b', '0.1', 'c', '1234567890123456.25', 'e', 'inf', 'f', '-inf', 'g', '1e-300', 'h', '3', '1'],
      ['ZADD', 'z:big', ...Array.from({ length: 300 }, (_, i) => [String(i / 7), `m${i}`]).flat()],
      ['ZINCRBY', 'z:small', '0.3', 'a'],
      ['ZADD', 'z:ttl', '1', 'x'],
      ['PEXPIRE', 'z:ttl', 1000000],
    ],
  },
  {
    type: 'hash',
    cmds: [
      ['HSET', 'h:small', 'f1', 'v1', 'f2', '2', 'f3', ''],
      ['HSET', 'h:big', ...Array.from({ length: 600 }, (_, i) => [`field${i}`, `value${i}`]).flat()],
      ['HINCRBYFLOAT', 'h:small', 'fl', '2.5'],
      ['SELECT', 5],
      ['HSET', 'h:db5', 'a', 'b'],
      ['EXPIRE', 'h:db5', 1000],
      ['SELECT', 0],
    ],
  },
  {
    type: 'stream',
    cmds: [
      ['XADD', 'st', '1-1', 'a', '1', 'b', '2'],
      ['XADD', 'st', '1-2', 'c', '3'],
      ['XADD', 'st', '5-0', 'a', '1', 'b', '2'],
      ['XADD', 'st', '18446744073709551615-18446744073709551615', 'z', '9'],
      ['XGROUP', 'CREATE', 'st', 'g1', '0'],
    ],
  },
];

test('DEBUG DIGEST and DIGEST-VALUE equal redis-server on the same dataset', { skip: !redisAvailable && 'redis-server missing' }, async (t) => {
  await send(m, ['FLUSHALL']);
  await send(r!, ['FLUSHALL']);
  const loaded: string[] = [];
  for (const group of DATASET) {
    const probe = await send(m, group.cmds[0]!);
    if (typeof probe === 'string' && probe.startsWith('ERR:') && /unknown command/.test(probe)) {
      t.diagnostic(`${group.type}: not implemented by Mirra yet, left out of the dataset`);
      continue;
    }
    await send(r!, group.cmds[0]!);
    for (const c of group.cmds.slice(1)) {
      const [a, b] = await Promise.all([send(m, c), send(r!, c)]);
      assert.deepEqual(a, b, `reply to ${String(c[0])}`);
    }
    loaded.push(group.type);
  }
  assert.ok(loaded.includes('string'));
  t.diagnostic(`types in the dataset: ${loaded.join(', ')}`);
  assert.equal(await send(m, ['DEBUG', 'DIGEST']), await send(r!, ['DEBUG', 'DIGEST']));
  for (const db of [0, 3, 5]) {
    await Promise.all([send(m, ['SELECT', db]), send(r!, ['SELECT', db])]);
    const keys = ((await send(r!, ['KEYS', '*'])) as string[]).sort();
    assert.deepEqual(((await send(m, ['KEYS', '*'])) as string[]).sort(), keys);
    const [a, b] = await Promise.all([send(m, ['DEBUG', 'DIGEST-VALUE', ...keys, 'missing']), send(r!, ['DEBUG', 'DIGEST-VALUE', ...keys, 'missing'])]);
    assert.deepEqual(a, b, `db ${db}`);
  }
  await Promise.all([send(m, ['SELECT', 0]), send(r!, ['SELECT', 0])]);
  // POPULATE builds the same keys and values on both; existing keys are left alone.
  for (const c of [['DEBUG', 'POPULATE', 50, 'pop'], ['DEBUG', 'POPULATE', 10, 'pop', 3], ['DEBUG', 'POPULATE', 5, 'sized', 12], ['DEBUG', 'POPULATE', 3]]) {
    assert.deepEqual(await send(m, c), await send(r!, c));
  }
  assert.equal(await send(m, ['DEBUG', 'DIGEST']), await send(r!, ['DEBUG', 'DIGEST']));
  assert.equal(await m.get('pop:1'), 'value:1');
  assert.equal(await m.get('sized:1'), 'value:1\0\0\0\0\0');
});

test('DEBUG PROTOCOL replies are byte-identical in RESP2 and RESP3', { skip: !redisAvailable && 'redis-server missing' }, async () => {
  const types = ['string', 'integer', 'double', 'bignum', 'null', 'array', 'set', 'map', 'attrib', 'push', 'verbatim', 'true', 'false', 'nope'];
  for (const proto of [2, 3]) {
    const out: string[] = [];
    for (const port of [mirra.port, redis!.port]) {
      const c = await RawConn.connect(port);
      if (proto === 3) {
        c.write(cmd('HELLO', '3'));
        await c.drain(150);
      }
      c.write(types.map((t) => cmd('DEBUG', 'PROTOCOL', t)).join('') + cmd('PING'));
      const end = proto === 3 ? '+PONG\r\n' : '+PONG\r\n';
      await waitFor(async () => (out[port === mirra.port ? 0 : 1] = (out[port === mirra.port ? 0 : 1] ?? '') + (await c.drain(20))).endsWith(end), 'replies');
      c.close();
    }
    assert.equal(out[0], out[1], `RESP${proto}`);
  }
});

test('DEBUG and MEMORY argument errors match redis-server', { skip: !redisAvailable && 'redis-server missing' }, async () => {
  const cases: string[][] = [
    ['DEBUG', 'jmap'],
    ['DEBUG', 'DIGEST', 'x'],
    ['DEBUG', 'OBJECT'],
    ['DEBUG', 'OBJECT', 'nokey'],
    ['DEBUG', 'POPULATE', '-1'],
    ['DEBUG', 'POPULATE', 'x'],
    ['DEBUG', 'POPULATE', '1', 'p', '-5'],
    ['DEBUG', 'SLEEP'],
    ['DEBUG', 'help', 'x'],
    ['DEBUG', 'ERROR', 'custom message'],
    ['DEBUG', 'ERROR', '-X y'],
    ['DEBUG', 'PROTOCOL'],
    ['DEBUG', 'SET-ACTIVE-EXPIRE'],
    ['DEBUG', 'QUICKLIST-PACKED-THRESHOLD', 'x'],
    ['DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '5000000000'],
    ['DEBUG', 'RELOAD', 'BOGUS'],
    ['DEBUG'],
    ['MEMORY'],
    ['MEMORY', 'HELP'],
    ['MEMORY', 'FOO'],
    ['MEMORY', 'USAGE', 'nokey'],
    ['MEMORY', 'USAGE', 'k', 'SAMPLES'],
    ['MEMORY', 'USAGE', 'k', 'SAMPLES', 'x'],
    ['MEMORY', 'USAGE', 'k', 'SAMPLES', '-1'],
    ['MEMORY', 'USAGE', 'k', 'FOO', '1'],
  ];
  for (const port of [mirra.port, redis!.port]) {
    const c = await RawConn.connect(port);
    await c.roundtrip(cmd('SET', 'k', 'v'), 5);
    c.close();
  }
  for (const argv of cases) {
    const replies: string[] = [];
    for (const port of [mirra.port, redis!.port]) {
      const c = await RawConn.connect(port);
      c.write(cmd(...argv) + cmd('PING'));
      let got = '';
      await waitFor(async () => (got += await c.drain(10)).endsWith('+PONG\r\n'), argv.join(' '));
      replies.push(got);
      c.close();
    }
    assert.equal(replies[0], replies[1], argv.join(' '));
  }
});

test('MEMORY USAGE equals redis-server for compact encodings and stays close for large ones', { skip: !redisAvailable && 'redis-server missing' }, async () => {
  const exact = ['s:plain', 's:int', 's:empty', 's:long', 's:ttl', 's:app', 'l:small', 'l:big', 'set:int', 'z:small', 'h:small', 'pop:1', 'sized:1'];
  const close = ['set:str', 'set:big', 'z:big', 'h:big', 'st'];
  for (const key of exact) {
    const [a, b] = await Promise.all([send(m, ['MEMORY', 'USAGE', key]), send(r!, ['MEMORY', 'USAGE', key])]);
    if (a === null && b !== null) continue; // type not implemented by Mirra yet
    assert.equal(a, b, key);
  }
  for (const key of close) {
    const [a, b] = await Promise.all([send(m, ['MEMORY', 'USAGE', key, 'SAMPLES', '0']), send(r!, ['MEMORY', 'USAGE', key, 'SAMPLES', '0'])]);
    if (a === null) continue;
    const ratio = Number(a) / Number(b);
    assert.ok(ratio > 0.75 && ratio < 1.25, `${key}: mirra ${String(a)} redis ${String(b)}`);
  }
});

test('DEBUG OBJECT: Redis line format, encodings, quicklist details', async () => {
  await m.set('obj:s', 'hello world');
  await m.set('obj:n', '12');
  const s = String(await m.call('DEBUG', 'OBJECT', 'obj:s'));
  assert.match(s, /^Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:12 lru:\d+ lru_seconds_idle:\d+$/);
  const n = String(await m.call('DEBUG', 'OBJECT', 'obj:n'));
  assert.match(n, /refcount:2147483647 encoding:int serializedlength:2 /);
  const l = await send(m, ['RPUSH', 'obj:l', 'a', 'b']);
  if (l === 2) {
    assert.match(
      String(await m.call('DEBUG', 'OBJECT', 'obj:l')),
      / encoding:quicklist serializedlength:16 lru:\d+ lru_seconds_idle:\d+ ql_nodes:1 ql_avg_node:2\.00 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:13$/,
    );
  }
});

test('DEBUG SLEEP stops the whole server for the given time', async () => {
  const other = client(mirra.port);
  await other.ping();
  const t0 = Date.now();
  const sleeping = m.call('DEBUG', 'SLEEP', '0.3');
  await sleep(20);
  assert.equal(await other.ping(), 'PONG');
  assert.ok(Date.now() - t0 >= 250, 'PING waited for the sleep to end');
  assert.equal(await sleeping, 'OK');
  assert.equal(await m.call('DEBUG', 'SLEEP', '0'), 'OK');
});

test('DEBUG SET-ACTIVE-EXPIRE 0 keeps expired keys stored until accessed', async () => {
  const c = client(mirra.port);
  await c.select(9);
  assert.equal(await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0'), 'OK');
  await c.set('ae', 'v', 'PX', 10);
  await sleep(350); // several cron periods at hz 10
  assert.equal(await c.dbsize(), 1, 'the expired key is still stored');
  assert.equal(await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1'), 'OK');
  await waitFor(async () => (await c.dbsize()) === 0, 'active expiry to delete the key');
});

test('DEBUG CHANGE-REPL-ID, LOG, ERROR', async () => {
  const before = String(await m.info('replication'));
  assert.equal(await m.call('DEBUG', 'CHANGE-REPL-ID'), 'OK');
  const after = String(await m.info('replication'));
  const id = (s: string, f: string): string => new RegExp(`${f}:([0-9a-f]{40})`).exec(s)![1]!;
  assert.notEqual(id(after, 'master_replid'), id(before, 'master_replid'));
  assert.equal(id(after, 'master_replid2'), '0'.repeat(40));
  assert.equal(await m.call('DEBUG', 'LOG', 'hello from the debug test'), 'OK');
  await waitFor(() => fs.readFileSync(mirra.logfile, 'utf8').includes('DEBUG LOG: hello from the debug test'), 'log line');
  await assert.rejects(m.call('DEBUG', 'ERROR', 'MYCODE something failed'), /^ReplyError: MYCODE something failed$/);
});

test('MEMORY STATS, DOCTOR, MALLOC-STATS, PURGE', async () => {
  const stats = (await m.call('MEMORY', 'STATS')) as unknown[];
  const names = stats.filter((_, i) => i % 2 === 0);
  for (const k of ['peak.allocated', 'total.allocated', 'keys.count', 'dataset.bytes', 'fragmentation']) assert.ok(names.includes(k), k);
  assert.equal(stats.length % 2, 0);
  const keys = Number(stats[names.indexOf('keys.count') * 2 + 1]);
  assert.equal(keys, Number(await m.dbsize()) + (await countOtherDbs()));
  const c = client(mirra.port);
  await c.select(15);
  assert.match(String(await c.call('MEMORY', 'DOCTOR')), /^(Hi Sam|Sam, I detected)/);
  assert.equal(await m.call('MEMORY', 'MALLOC-STATS'), 'Stats not supported for the current allocator');
  assert.equal(await m.call('MEMORY', 'PURGE'), 'OK');
});

async function countOtherDbs(): Promise<number> {
  const info = String(await m.info('keyspace'));
  let total = 0;
  for (const mm of info.matchAll(/^db(\d+):keys=(\d+)/gm)) if (mm[1] !== '0') total += Number(mm[2]);
  return total;
}

test('DEBUG RELOAD keeps the dataset and its digest', async () => {
  const digest = await m.call('DEBUG', 'DIGEST');
  assert.equal(await m.call('DEBUG', 'RELOAD'), 'OK');
  assert.equal(await m.call('DEBUG', 'DIGEST'), digest);
  await waitFor(() => fs.readFileSync(mirra.logfile, 'utf8').includes('DB reloaded by DEBUG RELOAD'), 'log line');
});
