import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SetValue, isIntsetMember } from './set.js';
import { Config } from '../config/config.js';
import fc from 'fast-check';

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

test('property: packed and big hashtable forms keep the same member order and answers', () => {
  // The model is the big form's rule: append on add, the last member moves into a removed
  // member's slot. Members cover intset ones (conversion), binary bytes and long strings.
  const bytes = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }).map((a) => String.fromCharCode(...a));
  const member = fc.oneof(fc.constantFrom('1', '2', '-7', 'a', 'b', '', '\u00ff'), fc.integer().map(String), bytes);
  const op = fc.tuple(fc.boolean(), member);
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      const cfg = new Config();
      cfg.apply('set-max-intset-entries', ['4']);
      const s = new SetValue();
      let model: string[] | null = null; // null while the set is an intset
      const ints = new Set<string>();
      for (const [add, m] of ops) {
        if (model === null) {
          const before = s.size;
          if (add) s.add(m, cfg);
          else s.delete(m);
          if (s.encoding === 'intset') {
            if (add) ints.add(m);
            else ints.delete(m);
            assert.equal(s.size, ints.size);
            continue;
          }
          // Converted by this add: a 5th integer is inserted in order first (Redis converts
          // after intsetAdd); a non-integer comes after the intset members.
          const asInt = isIntsetMember(m);
          if (asInt) ints.add(m);
          model = [...ints].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
          if (!asInt) model.push(m);
          assert.equal(s.size, before + 1);
          assert.deepEqual([...s.members()], model);
          continue;
        }
        const i = model.indexOf(m);
        if (add) {
          assert.equal(s.add(m, cfg), i < 0);
          if (i < 0) model.push(m);
        } else {
          assert.equal(s.delete(m), i >= 0);
          if (i >= 0) {
            const last = model.pop()!;
            if (i < model.length) model[i] = last;
          }
        }
        assert.equal(s.size, model.length);
      }
      if (model === null) return;
      assert.deepEqual([...s.members()], model);
      assert.deepEqual([...s.memberArray()], model);
      for (let i = 0; i < model.length; i++) assert.equal(s.at(i), model[i]);
      for (const m of model) assert.ok(s.has(m));
      assert.deepEqual([...s.dup().members()], model);
      const seen: string[] = [];
      let cur = 0;
      do cur = s.scan(cur, 3, (m) => seen.push(m));
      while (cur !== 0);
      assert.deepEqual(seen.sort(), [...model].sort());
    }),
    { numRuns: 300 },
  );
});

test('from: one-pass packing keeps Redis order rules; repeats and intsets take the general path', () => {
  const cfg = new Config();
  assert.deepEqual([...SetValue.from(['b', '3', 'a', '1'], cfg).members()], ['b', '3', 'a', '1']);
  assert.deepEqual([...SetValue.from(['3', '2', 'b', '1'], cfg).members()], ['2', '3', 'b', '1']);
  const d = SetValue.from(['x', 'y', 'x'], cfg);
  assert.equal(d.size, 2);
  assert.equal(SetValue.from(['7', '5'], cfg).encoding, 'intset');
  const big = Array.from({ length: 100 }, (_, i) => `m${i}`);
  assert.deepEqual([...SetValue.from(big, cfg).members()], big);
});
