import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BFOVERFLOW_FAIL,
  BFOVERFLOW_SAT,
  BFOVERFLOW_WRAP,
  BITFIELDOP_GET,
  BITFIELDOP_INCRBY,
  BITFIELDOP_SET,
  ByteOverlay,
  bitfieldExec,
  bitpos,
  popcount,
  type BitfieldOp,
} from './bitops.js';
import { seededRandom } from '../util/seeded-random.js';

function randomBytes(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode((r() * 256) | 0);
  return s;
}

function bitAt(s: string, i: number): number {
  const byte = i >> 3;
  return byte < s.length ? (s.charCodeAt(byte) >> (7 - (i & 7))) & 1 : 0;
}

test('popcount and bitpos agree with a bit-by-bit scan', () => {
  const r = seededRandom(1);
  for (let round = 0; round < 300; round++) {
    const len = 1 + ((r() * 20) | 0);
    // Mostly 0x00 / 0xff bytes so the byte-skipping paths are exercised.
    let s = '';
    for (let i = 0; i < len; i++) {
      const x = r();
      s += String.fromCharCode(x < 0.35 ? 0 : x < 0.7 ? 0xff : (r() * 256) | 0);
    }
    const a = (r() * len * 8) | 0;
    const b = a + ((r() * (len * 8 - a)) | 0);
    for (const bit of [0, 1]) {
      let want = -1;
      for (let i = a; i <= b; i++) {
        if (bitAt(s, i) === bit) {
          want = i;
          break;
        }
      }
      assert.equal(bitpos(s, a, b, bit), want);
    }
    const fa = a >> 3;
    const fb = b >> 3;
    let ones = 0;
    for (let i = fa * 8; i <= fb * 8 + 7; i++) ones += bitAt(s, i);
    assert.equal(popcount(s, fa, fb), ones);
  }
});

test('popcount of long ranges (word-at-a-time path) matches the byte table', () => {
  const r = seededRandom(3);
  const s = randomBytes(r, 200000);
  for (const [a, b] of [
    [0, s.length - 1],
    [1, 64],
    [3, 70000],
    [65535, 131075],
    [199000, 199999],
  ] as const) {
    let want = 0;
    for (let i = a; i <= b; i++) {
      let x = s.charCodeAt(i);
      while (x) {
        want += x & 1;
        x >>= 1;
      }
    }
    assert.equal(popcount(s, a, b), want, `${a}..${b}`);
  }
});

test('ByteOverlay builds the zero-padded string with its modified bytes', () => {
  const ov = new ByteOverlay('abcdef', 10);
  assert.equal(ov.build(), 'abcdef\0\0\0\0');
  ov.set(0, 0x41);
  ov.set(1, 0x42);
  ov.set(5, 0x5a);
  ov.set(8, 0x31);
  assert.equal(ov.get(1), 0x42);
  assert.equal(ov.get(2), 0x63);
  assert.equal(ov.get(9), 0);
  assert.equal(ov.build(), 'ABcdeZ\0\x001\0');
  const same = new ByteOverlay('xyz');
  assert.equal(same.build(), 'xyz');
  const fresh = new ByteOverlay('', 3);
  fresh.set(2, 0xff);
  assert.equal(fresh.build(), '\0\0\xff');
});

/** The same op on the double fast path and on the exact int64 path must agree. */
test('BITFIELD fast path equals the exact int64 path', () => {
  const r = seededRandom(7);
  const edges = [0, 1, -1, 2, -2, 127, 128, -128, -129, 255, 256, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 47, -(2 ** 47), 2 ** 48 - 1, 2 ** 52, -(2 ** 52)];
  for (let round = 0; round < 20000; round++) {
    const signed = r() < 0.5;
    const bits = 1 + ((r() * 48) | 0);
    const opcode = [BITFIELDOP_GET, BITFIELDOP_SET, BITFIELDOP_INCRBY][(r() * 3) | 0]!;
    const owtype = [BFOVERFLOW_WRAP, BFOVERFLOW_SAT, BFOVERFLOW_FAIL][(r() * 3) | 0]!;
    const scale = 2 ** ((r() * 53) | 0);
    let value = r() < 0.3 ? edges[(r() * edges.length) | 0]! : Math.trunc((r() * 2 - 1) * scale);
    if (Math.abs(value) > 2 ** 52) value = 0;
    const offset = (r() * 40) | 0;
    const base = randomBytes(r, 1 + ((r() * 12) | 0));
    const op: BitfieldOp = { opcode, offset, bits, signed, value, owtype };
    const a = new ByteOverlay(base, Math.max(base.length, ((offset + bits - 1) >> 3) + 1));
    const b = new ByteOverlay(base, a.length);
    const ra = bitfieldExec(a, op);
    const fast = { reply: ra.reply, changed: ra.changed };
    const rb = bitfieldExec(b, { ...op, value: BigInt(value) });
    const label = JSON.stringify({ ...op, base: Buffer.from(base, 'latin1').toString('hex') });
    assert.equal(fast.reply === null ? null : BigInt(fast.reply), rb.reply === null ? null : BigInt(rb.reply), label);
    assert.equal(fast.changed, rb.changed, label);
    assert.equal(a.build(), b.build(), label);
  }
});

test('BITFIELD reproduces the int64 wrap-arounds of Redis overflow checks', () => {
  const big = (r: number | bigint | null): bigint | null => (r === null ? null : BigInt(r));
  const run = (op: Partial<BitfieldOp>, base = '\0\0\0\0\0\0\0\0'): bigint | null => {
    const ov = new ByteOverlay(base);
    return big(bitfieldExec(ov, { opcode: BITFIELDOP_SET, offset: 0, bits: 8, signed: true, value: 0, owtype: BFOVERFLOW_SAT, ...op }).reply);
  };
  const get = (ops: Partial<BitfieldOp>[]): (bigint | null)[] => {
    const ov = new ByteOverlay('\0\0\0\0\0\0\0\0');
    return ops.map((o) => big(bitfieldExec(ov, { opcode: BITFIELDOP_SET, offset: 0, bits: 8, signed: true, value: 0, owtype: BFOVERFLOW_SAT, ...o }).reply));
  };
  // SET i8 with INT64_MIN: (uint64)127 - INT64_MIN wraps negative, so Redis saturates to the MAX.
  assert.deepEqual(get([{ value: -9223372036854775808n }, { opcode: BITFIELDOP_GET }]), [0n, 127n]);
  // ...while a merely too small value saturates to the minimum.
  assert.deepEqual(get([{ value: -129 }, { opcode: BITFIELDOP_GET }]), [0n, -128n]);
  // Unsigned SET of a negative value is a huge uint64: saturates to the max, wraps to the low bits.
  assert.deepEqual(get([{ signed: false, value: -5 }, { opcode: BITFIELDOP_GET, signed: false }]), [0n, 255n]);
  assert.deepEqual(get([{ signed: false, value: -5, owtype: BFOVERFLOW_WRAP }, { opcode: BITFIELDOP_GET, signed: false }]), [0n, 251n]);
  // i64 INCRBY wraps like two's complement.
  assert.equal(run({ opcode: BITFIELDOP_INCRBY, bits: 64, value: 1n, owtype: BFOVERFLOW_WRAP }, '\x7f\xff\xff\xff\xff\xff\xff\xff'), -9223372036854775808n);
  assert.equal(run({ opcode: BITFIELDOP_INCRBY, bits: 64, value: 1n, owtype: BFOVERFLOW_FAIL }, '\x7f\xff\xff\xff\xff\xff\xff\xff'), null);
  assert.equal(run({ opcode: BITFIELDOP_INCRBY, bits: 64, value: 1n, owtype: BFOVERFLOW_SAT }, '\x7f\xff\xff\xff\xff\xff\xff\xff'), 9223372036854775807n);
  // u63 GET of all ones.
  assert.equal(run({ opcode: BITFIELDOP_GET, bits: 63, signed: false }, '\xff\xff\xff\xff\xff\xff\xff\xff'), 9223372036854775807n);
});
