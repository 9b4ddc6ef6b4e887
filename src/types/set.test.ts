import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SetValue, isIntsetMember } from './set.js';
import { Config } from '../config/config.js';

test('isIntsetMember follows string2ll', () => {
  for (const s of ['0', '-1', '12', '9223372036854775807', '-9223372036854775808']) assert.ok(isIntsetMember(s), s);
  for (const s of ['', '-', '-0', '01', '+1', '1.0', ' 1', '9223372036854775808', '-9223372036854775809', 'a'])
    assert.ok(!isIntsetMember(s), s);
});

test('intset keeps ascending numeric order and converts on a non-integer or size', () => {
  const cfg = new Config();
  const s = SetValue.from(['10', '-5', '3', '9223372036854775807', '-9223372036854775808', '3'], cfg);
  assert.equal(s.encoding, 'intset');
  assert.deepEqual([...s.members()], ['-9223372036854775808', '-5', '3', '10', '9223372036854775807']);
  assert.ok(s.has('3') && !s.has('4') && !s.has('x'));
  assert.ok(s.delete('3'));
  assert.ok(!s.delete('3'));
  s.add('x', cfg);
  assert.equal(s.encoding, 'hashtable');
  assert.equal(s.size, 5);
  s.delete('x');
  assert.equal(s.encoding, 'hashtable', 'no conversion back');
  cfg.apply('set-max-intset-entries', ['2']);
  const t = SetValue.from(['1', '2'], cfg);
  assert.equal(t.encoding, 'intset');
  t.add('3', cfg);
  assert.equal(t.encoding, 'hashtable');
});

test('hashtable scan never misses members present for the whole scan', () => {
  const cfg = new Config();
  const s = new SetValue('a');
  for (let i = 0; i < 1000; i++) s.add('m' + i, cfg);
  const seen = new Set<string>();
  let cursor = 0;
  let round = 0;
  do {
    cursor = s.scan(cursor, 10, (m) => seen.add(m));
    // Churn: remove some members and add new ones during the scan.
    s.delete('m' + round * 7);
    s.add('new' + round, cfg);
    round++;
  } while (cursor !== 0);
  for (let i = 0; i < 1000; i++) {
    if ((i % 7 === 0 && i / 7 < round) || seen.has('m' + i)) continue;
    assert.fail('missed m' + i);
  }
});
