import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BitmapCache, BitmapMirror, MIN_BYTES } from './bitmap-cache.js';
import { Keyspace } from '../keyspace/keyspace.js';
import { seededRandom } from '../util/seeded-random.js';

function keyspace(): Keyspace {
  return new Keyspace(2, { now: () => Date.now(), mayExpire: () => true, onExpired: () => {} });
}

test('a mirror produces exactly the bytes of a plain buffer model, through ropes and growth', () => {
  const r = seededRandom(17);
  const model = Buffer.alloc(MIN_BYTES * 2, 0x55);
  let len = model.length;
  const m = new BitmapMirror(model.latin1Slice());
  for (let round = 0; round < 3000; round++) {
    const writes = new Map<number, number>();
    const n = 1 + ((r() * 4) | 0);
    let newLen = len;
    if (r() < 0.01) newLen = len + 1 + ((r() * 5000) | 0);
    for (let k = 0; k < n; k++) writes.set((r() * newLen) | 0, (r() * 256) | 0);
    const ref = Buffer.alloc(newLen);
    const prev = Buffer.from(m.value, 'latin1');
    prev.copy(ref, 0, 0, Math.min(prev.length, newLen));
    for (const [i, v] of writes) ref[i] = v;
    const value = m.commit(writes, newLen);
    len = newLen;
    assert.equal(value.length, newLen);
    assert.ok(Buffer.from(value, 'latin1').equals(ref), `round ${round}`);
    for (let k = 0; k < 5; k++) {
      const i = (r() * (newLen + 10)) | 0;
      assert.equal(m.get(i), i < newLen ? ref[i] : 0);
    }
  }
});

test('the cache serves a mirror only for the exact string it produced', () => {
  const ks = keyspace();
  const db = ks.dbs[0]!;
  const cache = BitmapCache.of(ks);
  const small = 'x'.repeat(MIN_BYTES - 1);
  assert.equal(cache.acquire(db, 'k', small), undefined);
  const v = 'y'.repeat(MIN_BYTES);
  const m = cache.acquire(db, 'k', v)!;
  assert.ok(m !== undefined);
  assert.equal(cache.peek(db, 'k', v), m);
  const v2 = m.commit(new Map([[0, 0x41]]), v.length);
  cache.store(db, 'k', m);
  assert.equal(cache.peek(db, 'k', v2), m);
  // Another value under the key (written by something else) is not served from the mirror.
  assert.equal(cache.peek(db, 'k', 'z'.repeat(MIN_BYTES)), undefined);
  assert.equal(cache.peek(db, 'k', v2), undefined);
  // A change reported for the key drops its mirror.
  const m2 = cache.acquire(db, 'k', v2)!;
  ks.changed(db, 'k', '$', 'set');
  assert.equal(cache.peek(db, 'k', v2), undefined);
  assert.notEqual(m2, undefined);
  // So does a flush.
  cache.acquire(db, 'k', v2);
  ks.signalDbsChanged([db]);
  assert.equal(cache.peek(db, 'k', v2), undefined);
  assert.equal(cache.size, 0);
});
