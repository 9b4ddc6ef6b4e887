/**
 * What the HyperLogLog commands propagate, compared with redis-server 7.0 through the AOF: both
 * servers run with appendonly/appendfsync always, get the same commands, and their incremental
 * AOF files must be byte-identical. This covers PFCOUNT (a read-only command that stores the
 * cached cardinality and is then propagated), PFADD that changes nothing (not propagated),
 * PFMERGE (always propagated) and PFDEBUG conversions.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { hasRedis, startMirra, startRedis, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

const skip = !hasRedis() && 'redis-server is not installed';
const AOF_ARGS = ['--appendonly', 'yes', '--appendfsync', 'always'];

let mirra: ServerHandle;
let redis: ServerHandle;
let m: Redis;
let r: Redis;

before(async () => {
  if (skip) return;
  [mirra, redis] = await Promise.all([startMirra({ args: AOF_ARGS }), startRedis({ args: AOF_ARGS })]);
  m = new Redis(mirra.port, '127.0.0.1');
  r = new Redis(redis.port, '127.0.0.1');
});
after(async () => {
  if (skip) return;
  m.disconnect();
  r.disconnect();
  await Promise.all([mirra.stop(), redis.stop()]);
});

function incrAof(h: ServerHandle): string {
  const file = path.join(h.dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  return fs.existsSync(file) ? fs.readFileSync(file).toString('latin1') : '';
}

/** Runs the commands on both servers (errors are replies too) and returns both AOF streams. */
async function runBoth(commands: (string | Buffer)[][], marker: string): Promise<[string, string]> {
  for (const argv of commands) {
    const [name, ...args] = argv;
    const [a, b] = await Promise.all(
      [m, r].map((c) => c.callBuffer(name as string, ...args).then(String, (e: Error) => `ERR:${e.message}`)),
    );
    assert.equal(a, b, `reply of ${argv.join(' ')}`);
  }
  for (const c of [m, r]) await c.set(marker, '1');
  const end = `$${marker.length}\r\n${marker}\r\n$1\r\n1\r\n`;
  await waitFor(() => incrAof(mirra).endsWith(end) && incrAof(redis).endsWith(end), 'both AOFs flushed');
  return [incrAof(mirra), incrAof(redis)];
}

/** The commands of an AOF stream, as readable lines. */
function commandsOf(aof: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < aof.length) {
    const nl = aof.indexOf('\r\n', i);
    const n = Number(aof.slice(i + 1, nl));
    i = nl + 2;
    const args: string[] = [];
    for (let k = 0; k < n; k++) {
      const l = aof.indexOf('\r\n', i);
      const len = Number(aof.slice(i + 1, l));
      args.push(aof.slice(l + 2, l + 2 + len));
      i = l + 2 + len + 2;
    }
    out.push(args.join(' '));
  }
  return out;
}

test('PFADD / PFCOUNT / PFMERGE / PFDEBUG propagate exactly what redis-server propagates', { skip }, async () => {
  const many = Array.from({ length: 3000 }, (_, i) => `e${i}`);
  const [am, ar] = await runBoth(
    [
      ['PFADD', 'h', 'a', 'b', 'c'],
      ['PFADD', 'h', 'a'],
      ['PFADD', 'h'],
      ['PFCOUNT', 'h'],
      ['PFCOUNT', 'h'],
      ['PFADD', 'h', 'd'],
      ['PFCOUNT', 'h', 'nosuch'],
      ['PFADD', 'fresh'],
      ['PFCOUNT', 'nosuch'],
      ['PFMERGE', 'dst', 'h', 'nosuch'],
      ['PFMERGE', 'dst'],
      ['PFADD', 'big', ...many],
      ['PFCOUNT', 'big'],
      ['PFMERGE', 'dst', 'big'],
      ['PFDEBUG', 'ENCODING', 'h'],
      ['PFDEBUG', 'DECODE', 'h'],
      ['PFDEBUG', 'GETREG', 'h'],
      ['PFDEBUG', 'GETREG', 'h'],
      ['PFDEBUG', 'TODENSE', 'fresh'],
      ['PFDEBUG', 'TODENSE', 'fresh'],
      ['SET', 'bad', Buffer.from('HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xfe', 'latin1')],
      ['PFCOUNT', 'bad'],
      ['PFADD', 'bad', 'x'],
      ['SET', 'notall', 'hello'],
      ['PFADD', 'notall', 'x'],
      ['MULTI'],
      ['PFADD', 'tx', 'a'],
      ['PFCOUNT', 'tx'],
      ['EXEC'],
    ],
    'hll:end',
  );
  assert.equal(am, ar);
  const cmds = commandsOf(am);
  // A cache refresh is propagated once; the second PFCOUNT answered from the cache.
  assert.equal(cmds.filter((c) => c === 'PFCOUNT h').length, 1);
  assert.ok(cmds.includes('PFMERGE dst'));
  assert.ok(!cmds.includes('PFADD h a'));
});

test('both servers end with identical values and digests', { skip }, async () => {
  for (const key of ['h', 'dst', 'big', 'fresh', 'tx']) {
    const [a, b] = await Promise.all([m.getBuffer(key), r.getBuffer(key)]);
    assert.ok(a !== null && b !== null && a.equals(b), key);
  }
  assert.deepEqual(await m.call('DEBUG', 'DIGEST-VALUE', 'h', 'dst', 'big'), await r.call('DEBUG', 'DIGEST-VALUE', 'h', 'dst', 'big'));
});
