/**
 * What the bitmap commands propagate, compared with redis-server 7.0 through the AOF: both
 * servers run with appendonly/appendfsync always, get the same commands, and their incremental
 * AOF files must be byte-identical. This covers writes that change nothing (not propagated),
 * writes that only grow the string (propagated), BITFIELD with only GETs or only failed writes,
 * BITOP storing or deleting, and transactions.
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

test('SETBIT / BITFIELD / BITOP propagate exactly what redis-server propagates', { skip }, async () => {
  const [am, ar] = await runBoth(
    [
      ['SETBIT', 'k', '7', '1'],
      ['SETBIT', 'k', '7', '1'],
      ['SETBIT', 'k', '7', '0'],
      ['SETBIT', 'k', '100', '0'],
      ['SETBIT', 'k', '100', '0'],
      ['SETBIT', 'new', '5', '0'],
      ['SETBIT', 'k', '-1', '1'],
      ['GETBIT', 'k', '7'],
      ['BITCOUNT', 'k'],
      ['BITPOS', 'k', '1'],
      ['BITFIELD', 'k', 'GET', 'u8', '0'],
      ['BITFIELD', 'k', 'SET', 'u8', '0', '255', 'GET', 'u8', '0'],
      ['BITFIELD', 'k', 'SET', 'u8', '0', '255'],
      ['BITFIELD', 'k', 'INCRBY', 'u8', '0', '1', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '300'],
      ['BITFIELD', 'k', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '300'],
      ['BITFIELD', 'k', 'SET', 'u8', '2000', '0'],
      ['BITFIELD', 'k', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '3000', '300'],
      ['BITFIELD', 'failed', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '300'],
      ['BITFIELD', 'k'],
      ['BITFIELD_RO', 'k', 'GET', 'i8', '0'],
      ['BITOP', 'AND', 'd', 'k', 'new'],
      ['BITOP', 'OR', 'd2', 'nosuch'],
      ['SET', 'd3', 'x'],
      ['BITOP', 'AND', 'd3', 'nosuch'],
      ['BITOP', 'NOT', 'd4', 'k'],
      ['MULTI'],
      ['SETBIT', 'tx', '1', '1'],
      ['SETBIT', 'tx', '1', '1'],
      ['BITFIELD', 'tx', 'INCRBY', 'i5', '3', '7'],
      ['EXEC'],
    ],
    'bits:end',
  );
  assert.equal(am, ar);
  const cmds = commandsOf(am);
  assert.equal(cmds.filter((c) => c === 'SETBIT k 100 0').length, 1);
  assert.ok(!cmds.some((c) => c.startsWith('BITFIELD k GET') || c.startsWith('BITFIELD_RO')));
  assert.ok(!cmds.some((c) => c.startsWith('BITFIELD failed')));
});

test('both servers end with identical values', { skip }, async () => {
  for (const key of ['k', 'new', 'failed', 'd', 'd4', 'tx']) {
    const [a, b] = await Promise.all([m.getBuffer(key), r.getBuffer(key)]);
    assert.ok(a !== null && b !== null && a.equals(b), key);
  }
  assert.equal(await m.exists('d2', 'd3'), 0);
  assert.equal(await r.exists('d2', 'd3'), 0);
});
