import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RankTree } from './rank-tree.js';
import { ZSetValue } from './zset.js';

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cmp(a: [string, number], b: [string, number]): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

test('RankTree matches a sorted-array model under random inserts, updates and deletes', () => {
  for (const seed of [1, 2, 3]) {
    const r = rng(seed);
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
