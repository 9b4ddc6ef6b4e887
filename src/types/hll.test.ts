import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HLL_DENSE, HLL_DENSE_SIZE, HLL_REGISTERS, HLL_SPARSE, Hll, cachedCard, countRegisters, isHllString } from './hll.js';

const HDR_STALE = 'HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80';

function denseOf(elements: readonly string[]): Hll {
  const h = Hll.empty();
  assert.ok(h.toDense());
  for (const e of elements) h.add(e, 3000);
  return h;
}

test('an empty HLL is one XZERO of 16384 registers with a valid zero cache', () => {
  const h = Hll.empty();
  assert.equal(h.toString(), 'HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff');
  assert.equal(h.count(), 0);
  assert.equal(cachedCard(h.toString()), 0);
});

test('PFADD a b c produces the bytes redis-server 7.0 produces', () => {
  const h = Hll.empty();
  let changed = 0;
  for (const e of ['a', 'b', 'c']) changed += h.add(e, 3000);
  assert.equal(changed, 3);
  h.invalidateCache();
  // Captured from redis-server 7.0.15: PFADD h a b c; GET h
  const expected = HDR_STALE + Buffer.from('60f38050b1844bfb80425a', 'hex').toString('latin1');
  assert.equal(h.toString(), expected);
  assert.equal(h.decode(), 'Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603');
  assert.equal(h.count(), 3);
  assert.equal(h.add('a', 3000), 0);
});

test('sparse and dense agree register by register and on the count', () => {
  for (const n of [1, 10, 100, 700, 3000]) {
    const elements = Array.from({ length: n }, (_, i) => `element:${i}:${n}`);
    const sparse = Hll.empty();
    for (const e of elements) sparse.add(e, 1 << 20);
    const dense = denseOf(elements);
    const sparseCount = sparse.count();
    assert.ok(sparse.toDense());
    assert.equal(sparse.encoding, HLL_DENSE);
    for (let i = 0; i < HLL_REGISTERS; i++) assert.equal(sparse.register(i), dense.register(i), `n=${n} register ${i}`);
    assert.equal(sparseCount, dense.count());
    const max = new Uint8Array(HLL_REGISTERS);
    assert.ok(dense.mergeInto(max));
    assert.equal(countRegisters(max), dense.count());
  }
});

test('the sparse form is promoted past hll-sparse-max-bytes, keeping every register', () => {
  const h = Hll.empty();
  const elements = Array.from({ length: 400 }, (_, i) => `p${i}`);
  for (const e of elements) h.add(e, 200);
  assert.equal(h.encoding, HLL_DENSE);
  assert.equal(h.length, HLL_DENSE_SIZE);
  const ref = denseOf(elements);
  for (let i = 0; i < HLL_REGISTERS; i++) assert.equal(h.register(i), ref.register(i));
});

test('estimates stay within a few standard errors', () => {
  const h = denseOf(Array.from({ length: 50000 }, (_, i) => `x${i}`));
  const c = h.count()!;
  assert.ok(Math.abs(c - 50000) < 50000 * 0.0081 * 4, String(c));
});

test('header checks and corrupted sparse data', () => {
  assert.ok(isHllString(Hll.empty().toString()));
  assert.ok(!isHllString('HYLL'));
  assert.ok(!isHllString('HYLX\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff'));
  assert.ok(!isHllString('HYLL\x02\0\0\0\0\0\0\0\0\0\0\0\x7f\xff'));
  assert.ok(!isHllString('HYLL\x00\0\0\0\0\0\0\0\0\0\0\0\x7f\xff'));
  // XZERO of 16383 registers only: too few.
  const short = Hll.fromString(HDR_STALE + '\x7f\xfe');
  assert.equal(short.count(), null);
  assert.equal(short.mergeInto(new Uint8Array(HLL_REGISTERS)), false);
  assert.equal(short.toDense(), false);
  assert.equal(short.encoding, HLL_SPARSE);
  // A register beyond the last opcode cannot be located.
  assert.equal(short.set(16383, 1, 3000), -1);
});

test('cached cardinality: valid, stale and beyond 2^53', () => {
  assert.equal(cachedCard(HDR_STALE), null);
  assert.equal(cachedCard('HYLL\x01\0\0\0\x39\x30\0\0\0\0\0\0'), 12345);
  assert.equal(cachedCard('HYLL\x01\0\0\0\xff\xff\xff\xff\xff\xff\xff\x7f'), 9223372036854775807n);
  const h = Hll.empty();
  h.add('x', 3000);
  h.setCachedCard(1);
  assert.equal(cachedCard(h.toString()), 1);
});
