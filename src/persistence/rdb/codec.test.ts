/**
 * Unit tests of the RDB building blocks against the byte examples verified on Redis 7.0.15
 * (rdb.md): CRC64, LZF, listpack, intset, ziplist, zipmap, length/string encodings, DUMP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc64, Crc64 } from './crc64.js';
import { lzfCompress, lzfDecompress, LzfError } from './lzf.js';
import { ListpackBuilder, lpDecode, lpEncode, lpToPacked, intsetEncode, intsetDecode, zlDecode, zipmapDecode, canonicalInt } from './listpack.js';
import { HashValue } from '../../types/hash.js';
import { RdbOut } from './out.js';
import { Cursor } from './cursor.js';
import { RdbError } from './errors.js';
import { createDumpPayload, verifyDumpPayload, parseDumpPayload } from './dump.js';
import { Config } from '../../config/config.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('CRC64 Jones: check value and incremental updates', () => {
  assert.equal(crc64(Buffer.from('123456789')), 0xe9c6d914c4b8d9can);
  const data = Buffer.from('The quick brown fox jumps over the lazy dog, many times over.'.repeat(9));
  const whole = crc64(data);
  for (const cut of [0, 1, 7, 8, 9, 100, data.length]) {
    const c = new Crc64().update(data, 0, cut).update(data, cut);
    assert.equal(c.value(), whole, `split at ${cut}`);
  }
  // The DUMP example of rdb.md §9: CRC of `00 05 hello 0a 00`.
  assert.equal(crc64(hex('0005 68656c6c6f 0a00')), 0x0a20346576df7263n);
});

test('LZF: decodes the verified 61 × "a" example and round-trips', () => {
  const out = lzfDecompress(hex('0161 61e0 3000 0161 61'), 0, 9, 61);
  assert.equal(out.toString(), 'a'.repeat(61));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 6 }), (bytes, alpha) => {
      const b = Buffer.from(bytes.map((x) => (x % 3 === 0 ? x : 97 + (x % alpha))));
      const c = lzfCompress(b, 0, b.length, b.length + 64);
      if (c === null) return b.length < 4;
      return lzfDecompress(c, 0, c.length, b.length).equals(b);
    }),
    { numRuns: 300 },
  );
  // Incompressible input does not fit in len - 4 bytes.
  const rnd = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 7919 + 13) % 251));
  assert.equal(lzfCompress(rnd, 0, rnd.length, rnd.length - 4), null);
});

test('LZF: malformed streams are errors, never overruns', () => {
  assert.throws(() => lzfDecompress(hex('0161'), 0, 2, 2), LzfError); // literal runs past input
  assert.throws(() => lzfDecompress(hex('2005'), 0, 2, 10), LzfError); // back-ref before start
  assert.throws(() => lzfDecompress(hex('0161 61'), 0, 3, 5), LzfError); // short output
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 300 }), (bytes, n) => {
      try {
        const out = lzfDecompress(Buffer.from(bytes), 0, bytes.length, n);
        return out.length === n;
      } catch (e) {
        return e instanceof LzfError;
      }
    }),
  );
});

test('listpack: the verified bytes of rdb.md §6.1 and §10', () => {
  assert.deepEqual(lpEncode(['m', '1.5']), hex('0f000000 0200 816d02 83312e3504 ff'));
  assert.deepEqual(lpEncode(['f', 'v']), hex('0d000000 0200 816602 817602 ff'));
  assert.deepEqual(lpDecode(hex('0f000000 0200 816d02 83312e3504 ff')), ['m', '1.5']);
});

test('listpack: every integer and string width round-trips', () => {
  const items = [
    '0', '127', '128', '-1', '-4096', '4095', '4096', '-32768', '32767', '32768', '-8388608', '8388607',
    '8388608', '-2147483648', '2147483647', '2147483648', '9223372036854775807', '-9223372036854775808',
    '9223372036854775808', '007', '-0', '+1', ' 1', '', 'a'.repeat(63), 'b'.repeat(64), 'c'.repeat(4095), 'd'.repeat(4096),
  ];
  assert.deepEqual(lpDecode(lpEncode(items)), items);
  const b = new ListpackBuilder();
  b.append('200');
  // int13 200: c0|0x00, 0xc8, backlen 2
  assert.deepEqual(Buffer.from(b.finish()), hex('0a000000 0100 c0c802 ff'));
});

test('listpack: corrupt blobs throw RdbError', () => {
  const good = lpEncode(['hello', '12345', 'x'.repeat(200)]);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, v) => {
      const bad = Buffer.from(good);
      bad[at] = v;
      try {
        lpDecode(bad);
        return true;
      } catch (e) {
        return e instanceof RdbError;
      }
    }),
    { numRuns: 500 },
  );
  assert.throws(() => lpDecode(good.subarray(0, good.length - 1)), RdbError);
});

test('intset: example bytes, widths, and ordering checks', () => {
  assert.deepEqual(intsetEncode([2, 1]), hex('02000000 02000000 0100 0200'));
  assert.deepEqual(intsetDecode(hex('02000000 02000000 0100 0200')), ['1', '2']);
  const wide = intsetEncode([1, 70000, -5]);
  assert.equal(wide.readUInt32LE(0), 4);
  assert.deepEqual(intsetDecode(wide), ['-5', '1', '70000']);
  const huge = intsetEncode([9223372036854775807n, 1]);
  assert.deepEqual(intsetDecode(huge), ['1', '9223372036854775807']);
  assert.throws(() => intsetDecode(hex('02000000 02000000 0200 0100')), RdbError); // not ascending
  assert.throws(() => intsetDecode(hex('03000000 01000000 010000')), RdbError); // bad width
  assert.throws(() => intsetDecode(hex('02000000 ffffff7f 0100')), RdbError); // lying length
});

test('ziplist and zipmap (legacy, read only)', () => {
  // zlbytes, zltail, zllen=3, entries: "ab" (str6), 12 (imm 0xfd? no: 12 → f1+12 = 0xfd), 1000 (int16)
  const entries = [
    Buffer.from([0x00, 0x02, 0x61, 0x62]), // prevlen 0, len-2 string "ab"
    Buffer.from([0x04, 0xfd]), // prevlen 4, immediate 12
    Buffer.from([0x02, 0xc0, 0xe8, 0x03]), // prevlen 2, int16 1000
  ];
  const body = Buffer.concat(entries);
  const zl = Buffer.alloc(10 + body.length + 1);
  zl.writeUInt32LE(zl.length, 0);
  zl.writeUInt32LE(10 + 4 + 2, 4);
  zl.writeUInt16LE(3, 8);
  body.copy(zl, 10);
  zl[zl.length - 1] = 0xff;
  assert.deepEqual(zlDecode(zl), ['ab', '12', '1000']);
  const badTail = Buffer.from(zl);
  badTail.writeUInt32LE(11, 4);
  assert.throws(() => zlDecode(badTail), RdbError);
  assert.deepEqual(zipmapDecode(hex('02 03 666f6f 03 00 626172 05 68656c6c6f 05 00 776f726c64 ff')), [
    ['foo', 'bar'],
    ['hello', 'world'],
  ]);
});

test('canonicalInt follows string2ll', () => {
  assert.equal(canonicalInt('0'), 0);
  assert.equal(canonicalInt('-12'), -12);
  assert.equal(canonicalInt('9223372036854775807'), 9223372036854775807n);
  for (const s of ['', '-', '-0', '01', '+1', '1 ', '9223372036854775808', '1e3', 'abc']) assert.equal(canonicalInt(s), null, s);
});

test('strings: INT8/16/32, LZF over 20 bytes, raw; lengths in every width', () => {
  const out = new RdbOut(true);
  out.string('1234');
  out.string('-129');
  out.string('70000');
  out.string('12345678901'); // too long for int32 → raw
  out.string('a'.repeat(61));
  out.string('x');
  out.len(100);
  out.len(20000);
  out.len(5_000_000_000);
  const b = out.take();
  assert.deepEqual(b.subarray(0, 3), hex('c1 d204'));
  assert.deepEqual(b.subarray(3, 6), hex('c1 7fff'));
  assert.deepEqual(b.subarray(6, 11), hex('c2 70110100'));
  const cur = new Cursor(b, 0, b.length, true);
  assert.equal(cur.str(), '1234');
  assert.equal(cur.str(), '-129');
  assert.equal(cur.str(), '70000');
  assert.equal(cur.str(), '12345678901');
  const lzfAt = cur.pos;
  assert.equal(b[lzfAt], 0xc3);
  assert.equal(cur.str(), 'a'.repeat(61));
  assert.equal(cur.str(), 'x');
  assert.equal(cur.len(), 100);
  assert.equal(cur.len(), 20000);
  assert.equal(cur.len(), 5_000_000_000);
  assert.equal(cur.remaining, 0);
  assert.throws(() => cur.u8(), RdbError);
});

test('cursor: lying lengths never allocate, they fail as truncation', () => {
  const lying = hex('80 7fffffff 61'); // 2 GB string with one byte present
  assert.throws(() => new Cursor(lying, 0, lying.length, true).str(), RdbError);
  const lzf = hex('c3 05 c0ffffff 0161 61e0'); // claims a huge original length
  assert.throws(() => new Cursor(lzf, 0, lzf.length, true).str(), RdbError);
  assert.throws(() => new Cursor(hex('bf'), 0, 1, true).len(), RdbError); // 10xxxxxx invalid
});

test('DUMP payload: byte-identical to Redis for a string, verify and parse', () => {
  const cfg = new Config();
  const p = createDumpPayload('hello', cfg);
  assert.deepEqual(p, hex('00 05 68656c6c6f 0a00 6372df766534200a'));
  assert.equal(verifyDumpPayload(p), true);
  assert.equal(parseDumpPayload(p, cfg), 'hello');
  const bad = Buffer.from(p);
  bad[3] ^= 1;
  assert.equal(verifyDumpPayload(bad), false);
  const v11 = Buffer.from(p);
  v11.writeUInt16LE(11, p.length - 10);
  assert.equal(verifyDumpPayload(v11), false);
});

test('property: a hash listpack decoded straight to its packed string equals the element-wise decode', () => {
  const cfg = new Config();
  cfg.apply('hash-max-listpack-value', ['400']);
  // Integers (every listpack int width), short/long/255+-byte strings, binary bytes.
  const bytes = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }).map((a) => String.fromCharCode(...a));
  const elem = fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map(String), fc.constantFrom('0', '-1', '127', '4096', '9223372036854775807'), bytes);
  fc.assert(
    fc.property(fc.array(elem, { maxLength: 40 }), (items) => {
      const blob = lpEncode(items);
      const flat = lpDecode(blob);
      const lp = lpToPacked(blob);
      assert.equal(lp.count, flat.length);
      assert.equal(lp.maxLen, flat.reduce((m, s) => Math.max(m, s.length), 0));
      if (flat.length % 2 !== 0) return;
      const h = HashValue.fromPacked(lp.p, flat.length / 2, lp.maxLen, cfg);
      const fields = flat.filter((_, i) => i % 2 === 0);
      const repeats = new Set(fields).size !== fields.length;
      if (flat.length === 0 || flat.length / 2 > 16 || repeats) {
        assert.equal(h, null);
        return;
      }
      assert.ok(h !== null);
      const pairs: [string, string][] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      assert.deepEqual([...h.entries()], pairs);
      assert.equal(h.size, pairs.length);
      assert.equal(h.encoding, 'listpack');
    }),
    { numRuns: 400 },
  );
});
