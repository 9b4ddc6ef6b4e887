import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Config } from '../config/config.js';
import { RankTree } from './rank-tree.js';
import { ownString, ZSetValue, type ZSetWriter } from './zset.js';
import { seededRandom } from '../util/seeded-random.js';

function cmp(a: [string, number], b: [string, number]): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

test('RankTree matches a sorted-array model under random inserts, updates and deletes', () => {
  for (const seed of [1, 2, 3]) {
    const r = seededRandom(seed);
    const t = new RankTree();
    const model = new Map<string, number>();
    for (let step = 0; step < 20000; step++) {
      const m = 'm' + Math.floor(r() * 3000);
      const s = Math.floor(r() * 50) - 25;
      const op = r();
      const cur = model.get(m);
      if (op < 0.5) {
        if (cur === undefined) {
          t.insert(s, m);
          model.set(m, s);
        } else {
          t.updateScore(cur, m, s);
          model.set(m, s);
        }
      } else if (cur !== undefined) {
        assert.equal(t.delete(cur, m), true);
        model.delete(m);
      } else {
        assert.equal(t.delete(s, m), false);
      }
      if (step % 2000 === 0) t.check();
    }
    t.check();
    const sorted = [...model.entries()].sort(cmp);
    assert.deepEqual([...t.entries()], sorted);
    for (let i = 0; i < sorted.length; i += 97) {
      const [m, s] = sorted[i]!;
      assert.equal(t.rank(s, m), i);
      const p = t.atRank(i);
      assert.equal(p.member, m);
    }
    // lowerBound by score
    for (let x = -26; x <= 26; x += 3) {
      const { rank, pos } = t.lowerBound((s) => s >= x);
      const expect = sorted.findIndex(([, s]) => s >= x);
      assert.equal(rank, expect < 0 ? sorted.length : expect);
      if (expect >= 0) assert.equal(pos.member, sorted[expect]![0]);
      else assert.equal(pos.valid, false);
    }
    // delete everything, checking structure as it shrinks
    let k = 0;
    for (const [m, s] of sorted) {
      assert.equal(t.delete(s, m), true);
      if (++k % 500 === 0) t.check();
    }
    t.check();
    assert.equal(t.size, 0);
  }
});

test('RankTree.fromSorted builds a valid tree and iterates both ways', () => {
  const n = 50000;
  const members: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    members.push('k' + String(i).padStart(6, '0'));
    scores.push(Math.floor(i / 10));
  }
  const t = RankTree.fromSorted(members, scores);
  t.check();
  assert.equal(t.size, n);
  const p = t.last();
  let i = n - 1;
  while (p.valid) {
    assert.equal(p.member, members[i]);
    p.prev();
    i--;
  }
  assert.equal(i, -1);
  for (let j = 0; j < n; j += 7) t.delete(scores[j]!, members[j]!);
  t.check();
});

test('ZSetValue.from sorts, dedupes and picks the encoding by thresholds', () => {
  const z = ZSetValue.from([
    ['b', 2],
    ['a', 2],
    ['c', 1],
    ['a', 0],
  ]);
  assert.deepEqual([...z.entries()], [
    ['a', 0],
    ['c', 1],
    ['b', 2],
  ]);
  assert.equal(z.encoding, 'listpack');
  assert.equal(z.score('c'), 1);
  const big = ZSetValue.from(Array.from({ length: 200 }, (_, i) => ['m' + i, i] as [string, number]));
  assert.equal(big.encoding, 'skiplist');
  assert.equal(big.score('m150'), 150);
  assert.equal(big.rank('m150'), 150);
  const long = ZSetValue.from([['x'.repeat(65), 1]]);
  assert.equal(long.encoding, 'skiplist');
  assert.throws(() => ZSetValue.from([['a', NaN]]));
});

test('ZSetValue listpack → skiplist conversion is one-way and keeps content', () => {
  const z = new ZSetValue('listpack');
  const cfg = { int: (k: string) => (k === 'zset-max-listpack-entries' ? 4 : 64) } as never;
  for (let i = 0; i < 5; i++) {
    z.convertForAdd(2, cfg);
    z.insert('m' + i, 5 - i);
  }
  assert.equal(z.encoding, 'skiplist');
  z.remove('m0');
  z.remove('m1');
  assert.equal(z.encoding, 'skiplist');
  assert.deepEqual(
    [...z.entries()].map((e) => e[0]),
    ['m4', 'm3', 'm2'],
  );
  z.setScore('m4', 1, 10);
  assert.equal(z.rank('m4'), 2);
  assert.equal(z.score('m4'), 10);
});

// ---------------------------------------------------------------------------------------------
// The packed listpack form against a reference model

type Cfg = { maxEntries: number; maxValue: number };
const cfgOf = (c: Cfg): Config => ({ int: (k: string) => (k === 'zset-max-listpack-entries' ? c.maxEntries : c.maxValue) }) as unknown as Config;

/** The reference: a member → score map, sorted on demand, and the encoding state Redis would have. */
class Model {
  map = new Map<string, number>();
  enc: 'listpack' | 'skiplist';
  constructor(
    readonly cfg: Cfg,
    firstLen: number,
  ) {
    this.enc = cfg.maxEntries === 0 || firstLen > cfg.maxValue ? 'skiplist' : 'listpack';
  }
  sorted(): [string, number][] {
    return [...this.map.entries()].sort(cmp);
  }
  norm(s: number): number {
    return this.enc === 'listpack' && s === 0 ? 0 : s;
  }
  add(m: string, s: number): void {
    if (this.map.has(m)) {
      this.map.set(m, this.norm(s));
      return;
    }
    if (this.enc === 'listpack' && (this.map.size + 1 > this.cfg.maxEntries || m.length > this.cfg.maxValue)) this.enc = 'skiplist';
    this.map.set(m, this.norm(s));
  }
}

type Op =
  | { t: 'add'; m: string; s: number }
  | { t: 'addMany'; e: [string, number][] }
  | { t: 'rem'; m: string }
  | { t: 'remMany'; ms: string[] }
  | { t: 'remRange'; a: number; b: number }
  | { t: 'pop'; max: boolean; n: number }
  | { t: 'range'; a: number; b: number; rev: boolean; stop: number }
  | { t: 'scoreRank'; x: number; incl: boolean }
  | { t: 'lexRank'; m: string }
  | { t: 'at'; r: number }
  | { t: 'shrink' };

const memberArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'ab', '', '\x00', '\xff', '\xff\xfe', 'a\x00b') },
  { weight: 3, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 300 }).map((n) => 'L'.repeat(n)) },
);
const scoreArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, -0, 1, 2, -1, Infinity, -Infinity, 0.5, Number.MAX_VALUE, -Number.MIN_VALUE) },
  { weight: 2, arbitrary: fc.double({ noNaN: true }) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ t: fc.constant('add' as const), m: memberArb, s: scoreArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('rem' as const), m: memberArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('addMany' as const), e: fc.array(fc.tuple(memberArb, scoreArb), { maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('remMany' as const), ms: fc.array(memberArb, { maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('remRange' as const), a: fc.integer({ min: -2, max: 20 }), b: fc.integer({ min: -2, max: 25 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pop' as const), max: fc.boolean(), n: fc.integer({ min: 1, max: 4 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('range' as const), a: fc.integer({ min: -1, max: 20 }), b: fc.integer({ min: -1, max: 25 }), rev: fc.boolean(), stop: fc.integer({ min: 0, max: 30 }) }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('scoreRank' as const), x: scoreArb, incl: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('lexRank' as const), m: memberArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('at' as const), r: fc.integer({ min: -1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'shrink' as const }) },
);
const cfgArb = fc.oneof(
  fc.constant({ maxEntries: 128, maxValue: 64 }),
  fc.constant({ maxEntries: 6, maxValue: 8 }),
  fc.constant({ maxEntries: 40, maxValue: 400 }),
  fc.constant({ maxEntries: 0, maxValue: 64 }),
);

function checkSame(z: ZSetValue, model: Model): void {
  const exp = model.sorted();
  const got = [...z.entries()];
  assert.equal(got.length, exp.length);
  for (let i = 0; i < exp.length; i++) {
    assert.equal(got[i]![0], exp[i]![0]);
    assert.ok(Object.is(got[i]![1], exp[i]![1]), `score of ${exp[i]![0]}: ${got[i]![1]} vs ${exp[i]![1]}`);
  }
  assert.equal(z.size, exp.length);
  assert.equal(z.encoding, model.enc);
  for (let i = 0; i < exp.length; i++) {
    const [m, s] = exp[i]!;
    assert.ok(Object.is(z.score(m), s));
    assert.equal(z.rank(m), i);
    assert.equal(z.has(m), true);
  }
}

test('property: listpack (packed) and skiplist zsets behave like a sorted reference model', () => {
  fc.assert(
    fc.property(cfgArb, memberArb, fc.array(opArb, { maxLength: 120 }), (c, first, ops) => {
      const cfg = cfgOf(c);
      const z = ZSetValue.createFor(first.length, cfg);
      const model = new Model(c, first.length);
      for (const op of ops) {
        switch (op.t) {
          case 'add': {
            const cur = z.score(op.m);
            assert.ok(Object.is(cur, model.map.get(op.m)));
            if (cur === undefined) {
              z.convertForAdd(op.m.length, cfg);
              z.insert(op.m, op.s);
            } else if (op.s !== cur) z.setScore(op.m, cur, op.s);
            else break; // same score: ZADD changes nothing (not even the sign of zero)
            model.add(op.m, op.s);
            break;
          }
          case 'addMany': {
            // ZADD with many elements: through a batch on a listpack zset.
            const b = z.startBatch();
            assert.equal(b === null, z.encoding === 'skiplist');
            const w: ZSetWriter = b ?? z;
            for (const [m, s] of op.e) {
              const cur = w.score(m);
              assert.ok(Object.is(cur, model.map.get(m)));
              assert.equal(w.size, model.map.size);
              if (cur === undefined) {
                w.convertForAdd(m.length, cfg);
                w.insert(m, s);
              } else if (s !== cur) w.setScore(m, cur, s);
              else continue;
              model.add(m, s);
            }
            b?.commit();
            break;
          }
          case 'rem':
            assert.equal(z.remove(op.m), model.map.delete(op.m));
            break;
          case 'remMany': {
            let k = 0;
            for (const m of op.ms) if (model.map.delete(m)) k++;
            assert.equal(z.removeMembers(['ZREM', 'key', ...op.ms], 2), k);
            break;
          }
          case 'remRange': {
            const sorted = model.sorted();
            for (const [m] of sorted.slice(Math.max(0, op.a), Math.max(0, op.b))) model.map.delete(m);
            z.removeRange(op.a, op.b);
            break;
          }
          case 'pop': {
            const size = z.size;
            const n = Math.min(op.n, size);
            const lo = op.max ? size - n : 0;
            const got: [string, number][] = [];
            z.forRange(lo, lo + n, op.max, (m, s) => void got.push([m, s]));
            z.removeRange(lo, lo + n);
            const sorted = model.sorted();
            const exp = op.max ? sorted.slice(size - n).reverse() : sorted.slice(0, n);
            assert.deepEqual(got, exp);
            for (const [m] of exp) model.map.delete(m);
            break;
          }
          case 'range': {
            const sorted = model.sorted();
            const lo = Math.max(0, op.a);
            const hi = Math.min(sorted.length, op.b);
            let exp = sorted.slice(lo, Math.max(lo, hi));
            if (op.rev) exp.reverse();
            exp = exp.slice(0, op.stop);
            const got: [string, number][] = [];
            z.forRange(op.a, op.b, op.rev, (m, s) => {
              if (got.length >= op.stop) return false;
              got.push([m, s]);
              return true;
            });
            assert.deepEqual(got, exp);
            break;
          }
          case 'scoreRank': {
            const exp = model.sorted().filter(([, s]) => (op.incl ? s <= op.x : s < op.x)).length;
            assert.equal(z.scoreRank(op.x, op.incl), exp);
            break;
          }
          case 'lexRank': {
            const sorted = model.sorted();
            const pred = (s: number, m: string): boolean => s > 0 || (s === 0 && m >= op.m);
            const i = sorted.findIndex(([m, s]) => pred(s, m));
            assert.equal(z.countBefore(pred), i < 0 ? sorted.length : i);
            break;
          }
          case 'at': {
            const e = model.sorted()[op.r];
            assert.deepEqual(z.elementAt(op.r), op.r < 0 ? undefined : e);
            break;
          }
          case 'shrink': {
            // A store's result: built as a skiplist, converted back when small (-0 lost).
            const w = ZSetValue.from(model.sorted(), cfg, 'skiplist');
            w.convertToListpackIfSmall(cfg);
            const fits = model.map.size <= c.maxEntries && [...model.map.keys()].every((m) => m.length <= c.maxValue);
            assert.equal(w.encoding, fits ? 'listpack' : 'skiplist');
            const exp = model.sorted().map(([m, s]) => [m, fits && s === 0 ? 0 : s]);
            assert.deepEqual([...w.entries()], exp);
            break;
          }
        }
      }
      checkSame(z, model);
      const copy = z.dup();
      checkSame(copy, model);
      // from() of the same content picks listpack by the thresholds alone.
      const re = ZSetValue.from(model.sorted().reverse(), cfg);
      const fits = model.map.size <= c.maxEntries && c.maxEntries > 0 && [...model.map.keys()].every((m) => m.length <= c.maxValue);
      assert.equal(re.encoding, fits ? 'listpack' : 'skiplist');
      assert.deepEqual(
        [...re.entries()],
        model.sorted().map(([m, s]) => [m, fits && s === 0 ? 0 : s]),
      );
      // Conversion keeps everything.
      z.convertToSkiplist();
      model.enc = 'skiplist';
      checkSame(z, model);
    }),
    { numRuns: 1000 },
  );
});

test('packed zset: -0 is stored as 0, members of any length and byte value, equal scores by member', () => {
  const cfg = cfgOf({ maxEntries: 128, maxValue: 1000 });
  const z = ZSetValue.createFor(1, cfg);
  const long = 'z'.repeat(254);
  const longer = '\xff'.repeat(255);
  const longest = 'y'.repeat(999);
  for (const [m, s] of [
    ['b', -0],
    ['a', 0],
    [longer, 1],
    [long, 1],
    [longest, -Infinity],
    ['\x00', Infinity],
    ['', 1],
  ] as [string, number][]) {
    z.convertForAdd(m.length, cfg);
    z.insert(m, s);
  }
  assert.equal(z.encoding, 'listpack');
  assert.deepEqual(
    [...z.entries()].map(([m, s]) => [m.length > 5 ? m[0] + m.length : m, s]),
    [
      ['y999', -Infinity],
      ['a', 0],
      ['b', 0],
      ['', 1],
      ['z254', 1],
      ['\xff255', 1],
      ['\x00', Infinity],
    ],
  );
  assert.ok(Object.is(z.score('b'), 0));
  z.setScore('a', 0, -0);
  assert.ok(Object.is(z.score('a'), 0));
  assert.equal(z.score(longer), 1);
  assert.equal(z.rank(longest), 0);
  z.setScore(longer, 1, -5);
  assert.equal(z.rank(longer), 1);
  assert.equal(z.removeMembers([long, 'nope', long, longest], 0), 2);
  assert.deepEqual(
    [...z.entries()].map(([m]) => m.length),
    [255, 1, 1, 0, 1],
  );
  // After conversion -0 can be stored.
  z.convertToSkiplist();
  z.setScore('a', 0, -0);
  assert.ok(Object.is(z.score('a'), -0));
});

test('packed zset: nested descending iterations and mutation during iteration', () => {
  const a = ZSetValue.from(Array.from({ length: 50 }, (_, i) => ['a' + i, i] as [string, number]));
  const b = ZSetValue.from(Array.from({ length: 200 }, (_, i) => ['b' + i, i] as [string, number]), cfgOf({ maxEntries: 500, maxValue: 64 }));
  assert.equal(a.encoding, 'listpack');
  assert.equal(b.encoding, 'listpack');
  const seen: string[] = [];
  a.forRange(0, a.size, true, (m) => {
    let inner = 0;
    b.forRange(0, b.size, true, () => {
      inner++;
    });
    assert.equal(inner, 200);
    seen.push(m);
  });
  assert.equal(seen.length, 50);
  assert.equal(seen[0], 'a49');
  // A listpack iteration goes on over the content it started with.
  const popped: string[] = [];
  a.forRange(0, 5, false, (m) => {
    a.remove(m);
    popped.push(m);
  });
  assert.deepEqual(popped, ['a0', 'a1', 'a2', 'a3', 'a4']);
  assert.equal(a.size, 45);
});

test('packed zset: more than 65534 elements (count kept by scanning)', () => {
  const n = 70000;
  const z = ZSetValue.from(
    Array.from({ length: n }, (_, i) => ['m' + i, i] as [string, number]),
    cfgOf({ maxEntries: 100000, maxValue: 64 }),
  );
  assert.equal(z.encoding, 'listpack');
  assert.equal(z.size, n);
  z.remove('m5');
  assert.equal(z.size, n - 1);
  z.removeRange(0, 10000);
  assert.equal(z.size, n - 10001);
  assert.equal(z.elementAt(0)![0], 'm10001');
});

test('conversion to skiplist copies members out of the packed string', () => {
  const m = 'member-with-a-long-name-';
  const z = ZSetValue.from(Array.from({ length: 10 }, (_, i) => [m + i, i] as [string, number]));
  assert.equal(z.encoding, 'listpack');
  z.convertToSkiplist();
  assert.equal(z.encoding, 'skiplist');
  assert.equal(z.score(m + 3), 3);
  assert.equal(ownString(m + 'x'), m + 'x');
});
