/**
 * Protocol edge cases through raw sockets, compared byte for byte with the real redis-server
 * 7.0 (started side by side): protocol errors and the closed connection after them, inline
 * quoting, ignored empty requests, the 64 KB and proto-max-bulk-len limits, unvalidated bulk
 * terminators, requests split at every byte, big pipelines, RESP3 through HELLO 3 and back.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startMirra, startRedis, hasRedis, type ServerHandle } from '../helpers/servers.js';
import { RawConn } from '../helpers/raw.js';
import { sleep } from '../helpers/wait.js';

interface Exchange {
  data: string;
  closed: boolean;
}

/**
 * Sends `payload` (latin1) on a fresh connection and collects the reply until the server closes
 * the connection or nothing more arrives for `idleMs`.
 */
function exchange(port: number, payload: string | Buffer[], idleMs = 150): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), idleMs);
    };
    s.on('data', (d) => {
      chunks.push(d);
      arm();
    });
    s.on('close', () => finish(true));
    s.on('error', (e) => (done ? undefined : reject(e)));
    s.on('connect', async () => {
      s.setNoDelay(true);
      if (typeof payload === 'string') s.write(Buffer.from(payload, 'latin1'));
      else {
        for (const p of payload) {
          s.write(p);
          await sleep(5);
        }
      }
      arm();
    });
  });
}

const skip = !hasRedis();
let mirra: ServerHandle;
let redis: ServerHandle;
let mirraAuth: ServerHandle;
let redisAuth: ServerHandle;

before(async () => {
  if (skip) return;
  [mirra, redis, mirraAuth, redisAuth] = await Promise.all([
    startMirra(),
    startRedis(),
    startMirra({ args: ['--requirepass', 'secret'] }),
    startRedis({ args: ['--requirepass', 'secret'] }),
  ]);
});
after(async () => {
  await Promise.all([mirra, redis, mirraAuth, redisAuth].map((s) => s?.stop()));
});

/** Asserts that Mirra answers `payload` exactly as Redis does (bytes and closed state). */
async function same(payload: string, opts: { auth?: boolean; idleMs?: number; expect?: string } = {}): Promise<Exchange> {
  const [m, r] = opts.auth ? [mirraAuth, redisAuth] : [mirra, redis];
  const [got, want] = await Promise.all([exchange(m.port, payload, opts.idleMs), exchange(r.port, payload, opts.idleMs)]);
  const label = JSON.stringify(payload.length > 80 ? payload.slice(0, 80) + '…' : payload);
  assert.equal(got.data, want.data, `reply to ${label}`);
  assert.equal(got.closed, want.closed, `connection ${want.closed ? 'closed' : 'open'} after ${label}`);
  if (opts.expect !== undefined) assert.equal(got.data, opts.expect);
  return got;
}

const ok = { skip };

test('every protocol error of commands.md §3: same text, connection closed', ok, async () => {
  const cases: [string, string][] = [
    ['*abc\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
    ['*3000000000\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
    ['*01\r\n$4\r\nPING\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
    ['*1\r\n+PING\r\n', "-ERR Protocol error: expected '$', got '+'\r\n"],
    ['*1\r\n$-5\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    ['*1\r\n$x\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    ['*1\r\n$536870913\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    ['*' + '9'.repeat(70000), '-ERR Protocol error: too big mbulk count string\r\n'],
    ['*1\r\n$' + '9'.repeat(70000), '-ERR Protocol error: too big bulk count string\r\n'],
    ['SET a "b\r\n', '-ERR Protocol error: unbalanced quotes in request\r\n'],
    ["SET a 'b'c\r\n", '-ERR Protocol error: unbalanced quotes in request\r\n'],
    ['x'.repeat(70000), '-ERR Protocol error: too big inline request\r\n'],
    // A CR/LF inside an error text becomes a space.
    ['*1\r\r\n$4\r\nPING\r\n', "-ERR Protocol error: expected '$', got ' '\r\n"],
  ];
  for (const [payload, expect] of cases) {
    const r = await same(payload, { expect });
    assert.ok(r.closed);
  }
});

test('replies to commands before a protocol error are sent first', ok, async () => {
  await same('PING\r\n*1\r\n$4\r\nPING\r\n*1\r\nfoo\r\n', { expect: "+PONG\r\n+PONG\r\n-ERR Protocol error: expected '$', got 'f'\r\n" });
});

test('unauthenticated limits: 10 elements, 16384-byte bulks', ok, async () => {
  await same('*11\r\n', { auth: true, expect: '-ERR Protocol error: unauthenticated multibulk length\r\n' });
  await same('*2\r\n$4\r\nAUTH\r\n$16385\r\n', { auth: true, expect: '-ERR Protocol error: unauthenticated bulk length\r\n' });
  await same('*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n', { auth: true, expect: '-NOAUTH Authentication required.\r\n' });
  await same(`*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n*12\r\n${'$1\r\na\r\n'.repeat(12)}`, { auth: true });
  await same('AUTH wrong\r\nAUTH default wrong\r\nAUTH a b c\r\nHELLO 3\r\nHELLO 3 AUTH default nope\r\n', { auth: true });
});

test('inline commands: quotes, escapes, empty lines', ok, async () => {
  await same('ECHO "a\\x41\\n\\t\\"" \r\n');
  await same("ECHO 'it\\'s'\r\n");
  await same('ECHO abc"d e"\r\n');
  await same('ECHO "\\x4g\\q"\r\n');
  await same('PING\n\n   \r\n\r\nPING\r\n');
  await same('ECHO\r\nECHO a b\r\n');
});

test('*0 and *-1 are ignored; bulk terminators are not validated', ok, async () => {
  await same('*0\r\n*-1\r\n*-7\r\nPING\r\n', { expect: '+PONG\r\n' });
  await same('*1\r\n$4\r\nPINGxx*2\r\n$4\r\nECHO\r\n$1\r\nz\n\n', { expect: '+PONG\r\n$1\r\nz\r\n' });
  await same('*1\r\nx', { expect: '' });
});

test('proto-max-bulk-len at runtime', ok, async () => {
  for (const s of [mirra, redis]) {
    const c = await RawConn.connect(s.port);
    const exp = '+OK\r\n';
    assert.equal(await c.roundtrip('CONFIG SET proto-max-bulk-len 1mb\r\n', exp.length), exp);
    c.close();
  }
  try {
    await same('*2\r\n$4\r\nECHO\r\n$1048577\r\n', { expect: '-ERR Protocol error: invalid bulk length\r\n' });
    await same(`*2\r\n$4\r\nECHO\r\n$1048576\r\n${'q'.repeat(1048576)}\r\n`, { idleMs: 400 });
  } finally {
    for (const s of [mirra, redis]) {
      const c = await RawConn.connect(s.port);
      await c.roundtrip('CONFIG SET proto-max-bulk-len 512mb\r\n', 5);
      c.close();
    }
  }
});

test('a request split at every byte boundary gives the same reply', ok, async () => {
  const request = Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$5\r\nv a l\r\nGET split\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n', 'latin1');
  const expected = '+OK\r\n$5\r\nv a l\r\n$0\r\n\r\n';
  for (let i = 1; i < request.length; i++) {
    const r = await exchange(mirra.port, [request.subarray(0, i), request.subarray(i)], 60);
    assert.equal(r.data, expected, `split at ${i}`);
  }
  const r = await exchange(redis.port, [request.subarray(0, 7), request.subarray(7)], 60);
  assert.equal(r.data, expected);
});

test('a pipeline of 20000 commands in one write is answered in order', ok, async () => {
  let payload = '';
  for (let i = 0; i < 20000; i++) payload += `*2\r\n$4\r\nECHO\r\n$${String(i).length}\r\n${i}\r\n`;
  const [m, r] = await Promise.all([exchange(mirra.port, payload, 500), exchange(redis.port, payload, 500)]);
  assert.equal(m.data.length, r.data.length);
  assert.equal(m.data, r.data);
});

/** HELLO replies carry the connection id, which differs between servers. */
function maskIds(s: string): string {
  return s.replace(/\$2\r\nid\r\n:\d+\r\n/g, '$2\r\nid\r\n:N\r\n');
}

test('RESP3 through HELLO 3 and back to RESP2: same bytes as Redis', ok, async () => {
  const script = [
    'HELLO 3',
    'DEL r3:s r3:h r3:z r3:l',
    'PING',
    'ECHO hi',
    'GET r3:missing',
    'SET r3:s v',
    'GET r3:s',
    'HSET r3:h a 1',
    'HGETALL r3:h',
    'HGETALL r3:none',
    'SADD r3:set x',
    'SMEMBERS r3:set',
    'ZADD r3:z 1.5 a',
    'ZSCORE r3:z a',
    'ZRANGE r3:z 0 -1 WITHSCORES',
    'LPOP r3:l',
    'CONFIG GET maxmemory-samples',
    'EXISTS r3:s r3:none',
    'HELLO 2',
    'HGETALL r3:h',
    'ZSCORE r3:z a',
    'GET r3:missing',
    'HELLO 4',
    'HELLO 3 SETNAME a\\ b',
    'HELLO x',
    'DEL r3:s r3:h r3:z r3:set',
  ]
    .map((l) => l + '\r\n')
    .join('');
  const [m, r] = await Promise.all([exchange(mirra.port, script, 300), exchange(redis.port, script, 300)]);
  assert.equal(maskIds(m.data), maskIds(r.data));
});
