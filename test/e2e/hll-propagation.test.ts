/**
 * What the HyperLogLog commands propagate, compared with redis-server 7.0 through the AOF: both
 * servers run with appendonly/appendfsync always, get the same commands, and their incremental
 * AOF files must be byte-identical. This covers PFCOUNT (a read-only command that stores the
 * cached cardinality and is then propagated), PFADD that changes nothing (not propagated),
 * PFMERGE (always propagated) and PFDEBUG conversions.
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

test('PFADD / PFCOUNT / PFMERGE / PFDEBUG propagate exactly what redis-server propagates', { skip }, async () => {
  const many = Array.from({ length: 3000 }, (_, i) => `e${i}`);
  const [am, ar] = await pair.runBoth(
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
