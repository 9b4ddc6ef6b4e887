import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ListValue } from './list.js';

type Op =
  | { k: 'ph' | 'pt'; v: string }
  | { k: 'oh' | 'ot' }
  | { k: 'ins'; i: number; v: string }
  | { k: 'rm'; i: number }
  | { k: 'rem'; v: string; c: number }
  | { k: 'trim'; a: number; b: number }
  | { k: 'set'; i: number; v: string };

const val = fc.constantFrom('a', 'b', 'c', 'd');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constantFrom('ph' as const, 'pt' as const), v: val }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constantFrom('oh' as const, 'ot' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('ins' as const), i: fc.nat(), v: val }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rm' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rem' as const), v: val, c: fc.integer({ min: -3, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('trim' as const), a: fc.nat(), b: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('set' as const), i: fc.nat(), v: val }) },
);

function apply(l: ListValue, m: string[], o: Op): void {
  switch (o.k) {
    case 'ph':
      l.pushHead(o.v);
      m.unshift(o.v);
      break;
    case 'pt':
      l.pushTail(o.v);
      m.push(o.v);
      break;
    case 'oh':
      assert.equal(l.popHead(), m.shift());
      break;
    case 'ot':
      assert.equal(l.popTail(), m.pop());
      break;
    case 'ins': {
      const i = o.i % (m.length + 1);
      l.insertAt(i, o.v);
      m.splice(i, 0, o.v);
      break;
    }
    case 'rm':
      if (m.length === 0) break;
      l.removeAt(o.i % m.length);
      m.splice(o.i % m.length, 1);
      break;
    case 'rem': {
      let removed = 0;
      const limit = o.c === 0 ? Infinity : Math.abs(o.c);
      if (o.c >= 0) {
        for (let i = 0; i < m.length && removed < limit; ) {
          if (m[i] === o.v) {
            m.splice(i, 1);
            removed++;
          } else i++;
        }
      } else {
        for (let i = m.length - 1; i >= 0 && removed < limit; i--) {
          if (m[i] === o.v) {
            m.splice(i, 1);
            removed++;
          }
        }
      }
      assert.equal(l.remove(o.v, o.c), removed);
      break;
    }
    case 'trim': {
      if (m.length === 0) break;
      const a = o.a % m.length;
      const b = a + (o.b % (m.length - a));
      l.trim(a, b);
      m.splice(b + 1);
      m.splice(0, a);
      break;
    }
    case 'set':
      if (m.length === 0) break;
      l.set(o.i % m.length, o.v);
      m[o.i % m.length] = o.v;
      break;
  }
}

test('ListValue behaves like an array under random operations (crossing chunk boundaries)', () => {
  fc.assert(
    fc.property(fc.nat({ max: 300 }), fc.array(op, { maxLength: 600 }), (prefill, ops) => {
      const l = new ListValue();
      const m: string[] = [];
      for (let i = 0; i < prefill; i++) apply(l, m, { k: i % 3 === 0 ? 'ph' : 'pt', v: String(i % 5) });
      for (const o of ops) apply(l, m, o);
      assert.equal(l.length, m.length);
      assert.deepEqual([...l.items()], m);
      if (m.length > 0) {
        const a = Math.floor(m.length / 3);
        assert.deepEqual(l.range(a, m.length - 1), m.slice(a));
      }
    }),
    { numRuns: 300 },
  );
});

test('ListValue.from keeps order; index() maps negative indexes', () => {
  const l = ListValue.from(['x', 'y', 'z']);
  assert.equal(l.encoding, 'quicklist');
  assert.deepEqual([...l.items()], ['x', 'y', 'z']);
  assert.equal(l.index(-1), 2);
  assert.equal(l.index(-4), -1);
  assert.equal(l.index(3), -1);
});

test('large push/pop at both ends', () => {
  const l = new ListValue();
  for (let i = 0; i < 10000; i++) l.pushHead(String(i));
  for (let i = 0; i < 10000; i++) l.pushTail(String(i));
  assert.equal(l.length, 20000);
  assert.equal(l.get(0), '9999');
  assert.equal(l.get(19999), '9999');
  for (let i = 0; i < 19999; i++) l.popHead();
  assert.equal(l.popTail(), '9999');
  assert.equal(l.length, 0);
  assert.equal(l.popTail(), undefined);
});
