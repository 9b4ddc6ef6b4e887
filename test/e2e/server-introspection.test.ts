/**
 * Server introspection replies that differential scripts cannot compare byte for byte because
 * they depend on timing or randomness: LATENCY HISTOGRAM (per-command latency distributions),
 * LOLWUT VERSION 5 and 6 (random art). Their deterministic parts are in
 * test/differential/scripts/server.txt and connection.txt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { withMirra } from '../helpers/fixtures.js';

let r: Redis;

withMirra((_srv, c) => (r = c));

type Cdf = [string, number, string, number[]];

test('LATENCY HISTOGRAM: calls and cumulative power-of-two buckets per command', async () => {
  await r.config('RESETSTAT');
  for (let i = 0; i < 50; i++) await r.set(`k${i}`, 'v');
  await r.get('k1');
  await r.config('GET', 'maxmemory');
  const reply = (await r.call('LATENCY', 'HISTOGRAM', 'set', 'get', 'config', 'nosuch')) as (string | Cdf)[];
  const byName = new Map<string, Cdf>();
  for (let i = 0; i < reply.length; i += 2) byName.set(reply[i] as string, reply[i + 1] as Cdf);
  // CONFIG RESETSTAT itself is recorded once it has run, as in Redis.
  assert.deepEqual([...byName.keys()], ['set', 'get', 'config|get', 'config|resetstat']);
  const set = byName.get('set')!;
  assert.equal(set[0], 'calls');
  assert.equal(set[1], 50);
  assert.equal(set[2], 'histogram_usec');
  const buckets = set[3];
  // Bucket labels are HdrHistogram's power-of-two boundaries in µs, counts cumulative.
  const labels = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16909, 33818, 67637, 135274, 270549, 541098, 1082196];
  let prev = 0;
  for (let i = 0; i < buckets.length; i += 2) {
    assert.ok(labels.includes(buckets[i]!), `label ${buckets[i]}`);
    assert.ok(buckets[i + 1]! > prev);
    prev = buckets[i + 1]!;
  }
  assert.equal(prev, 50);
  assert.equal(byName.get('get')![1], 1);
  // All commands, without names; CONFIG RESETSTAT empties them.
  const all = (await r.call('LATENCY', 'HISTOGRAM')) as (string | Cdf)[];
  assert.ok(all.includes('set') && all.includes('latency|histogram'));
  await r.config('RESETSTAT');
  assert.deepEqual(await r.call('LATENCY', 'HISTOGRAM', 'set'), []);
  // latency-tracking no: nothing is recorded.
  await r.config('SET', 'latency-tracking', 'no');
  try {
    await r.set('x', 'y');
    assert.deepEqual(await r.call('LATENCY', 'HISTOGRAM', 'set'), []);
  } finally {
    await r.config('SET', 'latency-tracking', 'yes');
  }
});

test('LOLWUT: VERSION 5 Schotter in Braille, VERSION 6 a skyline, 7.0 the version', async () => {
  const text = ((await r.callBuffer('LOLWUT', 'VERSION', '5', '20', '4', '6')) as Buffer).toString('utf8');
  assert.match(text, /\nGeorg Nees - schotter, plotter on paper, 1968\. Redis ver\. 7\.0\.15\n$/);
  const rows = text.slice(0, text.indexOf('\nGeorg')).split('\n').filter((l) => l !== '');
  assert.ok(rows.length > 1);
  for (const row of rows) {
    assert.equal([...row].length, 20);
    for (const ch of row) assert.ok(ch.codePointAt(0)! >= 0x2800 && ch.codePointAt(0)! <= 0x28ff);
  }
  assert.equal(await r.call('LOLWUT'), 'Redis ver. 7.0.15\n');
  const city = ((await r.callBuffer('LOLWUT', 'VERSION', '6', '30', '8')) as Buffer).toString('latin1');
  const [art6, ...tail] = city.split('\nDedicated');
  assert.equal(tail.join(''), ' to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n');
  const lines = art6!.split('\n');
  assert.equal(lines.length, 8);
  // Every cell is a space in one of four gray levels.
  for (const l of lines) assert.match(l, /^(\x1b\[0;(30;40|90;100|37;47|97;107)m \x1b\[0m){30}$/);
});

test('COMMAND GETKEYSANDFLAGS and CLIENT TRACKINGINFO', async () => {
  assert.deepEqual(await r.call('COMMAND', 'GETKEYSANDFLAGS', 'LMOVE', 'a', 'b', 'LEFT', 'RIGHT'), [
    ['a', ['RW', 'access', 'delete']],
    ['b', ['RW', 'insert']],
  ]);
  assert.deepEqual(await r.call('CLIENT', 'TRACKINGINFO'), ['flags', ['off'], 'redirect', -1, 'prefixes', []]);
  assert.equal(await r.call('CLIENT', 'GETREDIR'), -1);
  await assert.rejects(r.call('CLIENT', 'TRACKING', 'on'), /ERR unknown subcommand 'TRACKING'/);
});
