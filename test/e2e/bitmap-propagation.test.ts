/**
 * What the bitmap commands propagate, compared with redis-server 7.0 through the AOF: both
 * servers run with appendonly/appendfsync always, get the same commands, and their incremental
 * AOF files must be byte-identical. This covers writes that change nothing (not propagated),
 * writes that only grow the string (propagated), BITFIELD with only GETs or only failed writes,
 * BITOP storing or deleting, and transactions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasRedis } from '../helpers/servers.js';
import { AofPair, commandsOf, withAofPair } from '../helpers/aof-compare.js';

const skip = !hasRedis() && 'redis-server is not installed';

let pair: AofPair;
let m: AofPair['m'];
let r: AofPair['r'];

withAofPair((p) => {
  pair = p;
  ({ m, r } = p);
}, skip);

test('SETBIT / BITFIELD / BITOP propagate exactly what redis-server propagates', { skip }, async () => {
  const [am, ar] = await pair.runBoth(
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
