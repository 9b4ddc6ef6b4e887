import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmurHash64A, murmurHash64ABig, murmurHash64AWord } from './murmur64a.js';

const M = 0xc6a4a7935bd1e995n;
const MASK = (1n << 64n) - 1n;

/** Straightforward BigInt MurmurHash64A (reference for the 32-bit-halves implementation). */
function reference(bytes: Uint8Array, seed: bigint): bigint {
  const len = bytes.length;
  let h = (seed ^ ((BigInt(len) * M) & MASK)) & MASK;
  const blocks = len - (len & 7);
  for (let i = 0; i < blocks; i += 8) {
    let k = 0n;
    for (let j = 7; j >= 0; j--) k = (k << 8n) | BigInt(bytes[i + j]!);
    k = (k * M) & MASK;
    k ^= k >> 47n;
    k = (k * M) & MASK;
    h ^= k;
    h = (h * M) & MASK;
  }
  const tail = len & 7;
  if (tail > 0) {
    for (let j = tail - 1; j >= 0; j--) h ^= BigInt(bytes[blocks + j]!) << BigInt(8 * j);
    h = (h * M) & MASK;
  }
  h ^= h >> 47n;
  h = (h * M) & MASK;
  h ^= h >> 47n;
  return h;
}

/** Deterministic pseudo-random bytes (xorshift32). */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) & 0xff;
  };
}

test('matches a BigInt reference for every tail length and random bytes', () => {
  const next = prng(12345);
  for (let len = 0; len < 300; len++) {
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) bytes[i] = next();
    const s = Buffer.from(bytes).toString('latin1');
    for (const seed of [0xadc83b19n, 0n, 0xffffffffn]) {
      assert.equal(murmurHash64ABig(s, Number(seed)), reference(bytes, seed), `len ${len} seed ${seed}`);
    }
  }
});

test('high bytes (0x80..0xff) and the empty string', () => {
  const s = '\xff\xfe\x80\x81\x00\x7f\xff\xff\xff';
  const bytes = Buffer.from(s, 'latin1');
  assert.equal(murmurHash64ABig(s, 0xadc83b19), reference(bytes, 0xadc83b19n));
  assert.equal(murmurHash64ABig('', 0xadc83b19), reference(new Uint8Array(0), 0xadc83b19n));
});

test('the word variant hashes the 8 little-endian bytes of a uint64', () => {
  for (const [hi, lo] of [
    [0, 0],
    [0x7fffffff, 0xffffffff],
    [0x12345678, 0x9abcdef0],
    [0xffffffff, 1],
  ] as const) {
    const buf = Buffer.alloc(8);
    buf.writeUInt32LE(lo, 0);
    buf.writeUInt32LE(hi, 4);
    const h = murmurHash64AWord(hi, lo, 0xadc83b19);
    const got = (BigInt(h.hi) << 32n) | BigInt(h.lo);
    assert.equal(got, reference(buf, 0xadc83b19n));
    const viaString = murmurHash64A(buf.toString('latin1'), 0xadc83b19);
    assert.equal((BigInt(viaString.hi) << 32n) | BigInt(viaString.lo), got);
  }
});
