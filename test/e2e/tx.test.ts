/**
 * MULTI / EXEC / DISCARD / WATCH through real clients (ioredis RESP2, node-redis v5 RESP2 and
 * RESP3) and raw sockets, including optimistic-locking races between many clients. The
 * propagation of transactions (MULTI … EXEC around several writes) is covered in-process by
 * src/server/transactions.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient, WatchError } from 'redis';
import { startMirra, type ServerHandle } from '../helpers/servers.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';

let srv: ServerHandle;
let io: Redis;
const cleanup: (() => void)[] = [];

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
  io = ioClient();
});

after(async () => {
  for (const f of cleanup) f();
  await srv?.stop();
});

test('ioredis: MULTI/EXEC returns every reply, runtime errors included', async () => {
  await io.set('str', 'x');
  const res = await io.multi().set('t1', 'a').incr('str').get('t1').exec();
  assert.equal(res!.length, 3);
  assert.deepEqual(res![0], [null, 'OK']);
  assert.match(String(res![1]![0]), /value is not an integer or out of range/);
  assert.deepEqual(res![2], [null, 'a']);
});

test('ioredis: an error while queuing discards the whole transaction', async () => {
  const m = io.multi();
  m.set('t2', 'v');
  (m as unknown as { call: (...a: string[]) => void }).call('SET', 't2');
  await assert.rejects(m.exec(), /EXECABORT Transaction discarded because of previous errors/);
  assert.equal(await io.get('t2'), null);
});

test('ioredis: optimistic locking with WATCH under contention never loses an increment', async () => {
  await io.set('counter', '0');
  const clients = Array.from({ length: 5 }, () => ioClient());
  let retries = 0;
  const worker = async (c: Redis): Promise<void> => {
    for (let i = 0; i < 20; i++) {
      for (;;) {
        await c.watch('counter');
        const v = Number(await c.get('counter'));
        const res = await c.multi().set('counter', String(v + 1)).exec();
        if (res !== null) break;
        retries++;
      }
    }
  };
  await Promise.all(clients.map(worker));
  assert.equal(await io.get('counter'), '100');
  assert.ok(retries > 0, 'the race produced at least one failed EXEC');
});

for (const resp of [2, 3] as const) {
  test(`node-redis RESP${resp}: multi, watch conflicts raise WatchError`, async () => {
    const a = await nodeRedis(resp);
    const b = await nodeRedis(resp);
    assert.deepEqual(await a.multi().set(`n${resp}`, 'v').get(`n${resp}`).exec(), ['OK', 'v']);
    await a.watch(`w${resp}`);
    await b.set(`w${resp}`, 'changed');
    await assert.rejects(a.multi().set(`w${resp}`, 'mine').exec(), WatchError);
    assert.equal(await a.get(`w${resp}`), 'changed');
    await a.watch(`w${resp}`);
    assert.deepEqual(await a.multi().set(`w${resp}`, 'mine').exec(), ['OK']);
  });
}

test('raw: transaction errors and replies, byte for byte', async () => {
  const c = await RawConn.connect(srv.port);
  let exp = '+OK\r\n-ERR MULTI calls can not be nested\r\n+QUEUED\r\n-ERR WATCH inside MULTI is not allowed\r\n*1\r\n+PONG\r\n';
  assert.equal(await c.roundtrip(cmd('MULTI') + cmd('MULTI') + cmd('PING') + cmd('WATCH', 'k') + cmd('EXEC'), exp.length), exp);
  exp = '-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n';
  assert.equal(await c.roundtrip(cmd('EXEC') + cmd('DISCARD'), exp.length), exp);
  exp = "+OK\r\n+QUEUED\r\n-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n-ERR EXEC without MULTI\r\n";
  assert.equal(await c.roundtrip(cmd('MULTI') + cmd('PING') + cmd('EXEC', 'x') + cmd('EXEC'), exp.length), exp);
  exp =
    "+OK\r\n-ERR unknown command 'NOSUCH', with args beginning with: \r\n+QUEUED\r\n" +
    '-EXECABORT Transaction discarded because of previous errors.\r\n';
  assert.equal(await c.roundtrip(cmd('MULTI') + cmd('NOSUCH') + cmd('PING') + cmd('EXEC'), exp.length), exp);
  exp = '+OK\r\n+QUEUED\r\n+OK\r\n$-1\r\n';
  assert.equal(await c.roundtrip(cmd('MULTI') + cmd('SET', 'disc', '1') + cmd('DISCARD') + cmd('GET', 'disc'), exp.length), exp);
  exp = "-ERR wrong number of arguments for 'watch' command\r\n+OK\r\n*0\r\n";
  assert.equal(await c.roundtrip(cmd('WATCH') + cmd('MULTI') + cmd('EXEC'), exp.length), exp);
  c.close();
});

test('raw RESP3: a failed WATCH answers a RESP3 null', async () => {
  const c = await RawConn.connect(srv.port);
  c.write(cmd('HELLO', '3'));
  await c.drain(150);
  await io.set('r3', '1');
  let exp = '+OK\r\n';
  assert.equal(await c.roundtrip(cmd('WATCH', 'r3'), exp.length), exp);
  await io.set('r3', '2');
  exp = '+OK\r\n+QUEUED\r\n_\r\n';
  assert.equal(await c.roundtrip(cmd('MULTI') + cmd('GET', 'r3') + cmd('EXEC'), exp.length), exp);
  c.close();
});

test('WATCH: expiry of the watched key fails EXEC; a key already expired when watched does not', async () => {
  const a = ioClient();
  await a.set('exp1', 'v', 'PX', 50);
  await a.watch('exp1');
  await waitFor(async () => (await io.exists('exp1')) === 0, 'exp1 to expire');
  assert.equal(await a.multi().ping().exec(), null);
  // Watching a missing key: only a later creation invalidates it.
  await a.watch('never');
  assert.deepEqual(await a.multi().ping().exec(), [[null, 'PONG']]);
});

test('WATCH keys are per database, and a client disconnect forgets its watches', async () => {
  const a = ioClient();
  const b = ioClient();
  await a.select(2);
  await a.watch('dbk');
  await b.set('dbk', 'db0 write');
  assert.deepEqual(await a.multi().ping().exec(), [[null, 'PONG']]);
  await b.select(2);
  await a.watch('dbk');
  await b.set('dbk', 'db2 write');
  assert.equal(await a.multi().ping().exec(), null);
  a.disconnect();
  await b.set('dbk', 'after disconnect');
  assert.equal(await b.get('dbk'), 'after disconnect');
});
