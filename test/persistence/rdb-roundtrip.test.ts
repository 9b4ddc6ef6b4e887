/**
 * RDB writer ↔ reader round trips in-process: every type and encoding, both writer paths
 * (fork-less snapshot and synchronous save), the 209-byte Redis 7.0.15 dump of rdb.md §10,
 * random datasets (fast-check), and corrupt input (mutated/truncated dumps must fail with
 * RdbError, never crash, hang or over-allocate).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { canonical, everyEncoding, fill, loadInto, newServer, snapshotToBuffer } from './dataset.js';
import { RdbLoader, RdbError, writeRdbSync, crc64 } from '../../src/persistence/rdb/index.js';
import { ListValue } from '../../src/types/list.js';
import { HashValue } from '../../src/types/hash.js';
import { SetValue } from '../../src/types/set.js';
import { ZSetValue } from '../../src/types/zset.js';
import type { Value } from '../../src/types/value.js';
import type { Config } from '../../src/config/config.js';

test('every type and encoding round-trips through the snapshot, in any chunking', async () => {
  const s = newServer();
  fill(s.keyspace.dbs[0]!, everyEncoding(s.config));
  s.keyspace.dbs[5]!.add('db5', 'five');
  const want = canonical(s.keyspace.dbs);
  const buf = await snapshotToBuffer(s);
  assert.equal(buf.subarray(0, 9).toString(), 'REDIS0010');
  for (const chunk of [buf.length, 1, 7, 4096]) {
    assert.equal(canonical(loadInto(buf, chunk).keyspace.dbs), want, `chunk ${chunk}`);
  }
});

test('the synchronous writer produces the same dataset', () => {
  const s = newServer();
  fill(s.keyspace.dbs[0]!, everyEncoding(s.config));
  s.keyspace.dbs[1]!.add('x', 'y');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mirra-rdb-')), 'd.rdb');
  const fd = fs.openSync(file, 'w');
  writeRdbSync(s, fd);
  fs.closeSync(fd);
  const buf = fs.readFileSync(file);
  assert.equal(canonical(loadInto(buf).keyspace.dbs), canonical(s.keyspace.dbs));
  // Trailer = CRC64 of everything before it.
  assert.equal(buf.readBigUInt64LE(buf.length - 8), crc64(buf, 0, buf.length - 8));
  fs.rmSync(path.dirname(file), { recursive: true });
});

test('loads the 209-byte dump written by Redis 7.0.15 (rdb.md §10)', () => {
  const dump = Buffer.from(
    '524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa056374696d65c2c464026bfa08757365642d6d656dc230021700fa08616f662d62617365c000fe00fb080110016' +
      '80d0d00000002008166028176' +
      '02fffc00d8c32cbb03000000016501780001730568656c6c6f000163c3093d016161e0300001616100016ec1d2040b01690c0200000002000000010002001201' +
      '6c01020d0d000000020081610281' +
      '6202ff11017a0f0f000000020081' +
      '6d0283312e3504ffff875d3e0ce46f15a3',
    'hex',
  );
  assert.equal(dump.length, 209);
  const s = loadInto(dump, 13);
  const db = s.keyspace.dbs[0]!;
  assert.equal(db.dict.size, 8);
  assert.equal(db.dict.get('s'), 'hello');
  assert.equal(db.dict.get('n'), '1234');
  assert.equal(db.dict.get('c'), 'a'.repeat(61));
  assert.equal(db.expires.get('e'), 4102444800000);
  assert.deepEqual([...(db.dict.get('l') as ListValue).items()], ['a', 'b']);
  assert.deepEqual([...(db.dict.get('i') as SetValue).members()], ['1', '2']);
  assert.deepEqual([...(db.dict.get('h') as HashValue).entries()], [['f', 'v']]);
  assert.deepEqual([...(db.dict.get('z') as ZSetValue).entries()], [['m', 1.5]]);
  // A flipped byte is caught by the checksum.
  const bad = Buffer.from(dump);
  bad[0x7a] ^= 0x20; // inside "hello"
  assert.throws(() => loadInto(bad), /Wrong RDB checksum/);
});

test('header and structural errors are clear RdbErrors', () => {
  const load = (b: Buffer): void => void loadInto(b);
  assert.throws(() => load(Buffer.from('REDIX0010\xff', 'latin1')), /Wrong signature/);
  assert.throws(() => load(Buffer.from('REDIS0013\xff', 'latin1')), /Can't handle RDB format version 13/);
  assert.throws(() => load(Buffer.from('REDIS0010', 'latin1')), /Unexpected EOF/);
  assert.throws(() => load(Buffer.from('REDIS0010\xfe\x00\x08\x01k\x00', 'latin1')), /Unknown RDB encoding type 8/);
  assert.throws(() => load(Buffer.from('REDIS0010\xfe\x40\x10', 'latin1')), /databases/);
  const dup = Buffer.from('REDIS0004\xfe\x00\x00\x01k\x01v\x00\x01k\x01w\xff', 'latin1');
  assert.throws(() => load(dup), /Duplicate key/);
  // Version 4 has no checksum; version 9 with a zero checksum loads (checksum disabled).
  assert.equal(loadInto(Buffer.from('REDIS0004\xfe\x00\x00\x01k\x01v\xff', 'latin1')).keyspace.dbs[0]!.dict.get('k'), 'v');
  const nocrc = Buffer.concat([Buffer.from('REDIS0009\xfe\x00\x00\x01k\x01v\xff', 'latin1'), Buffer.alloc(8)]);
  assert.equal(loadInto(nocrc).keyspace.dbs[0]!.dict.get('k'), 'v');
});

test('expired keys: dropped when loading as a master, kept on a replica', async () => {
  const s = newServer();
  const db = s.keyspace.dbs[0]!;
  db.add('old', 'x');
  db.expires.set('old', 1000);
  db.add('new', 'y');
  const buf = await snapshotToBuffer(s);
  const master = newServer();
  const l = new RdbLoader(master.keyspace.dbs, { isMaster: true, now: () => Date.now(), config: master.config });
  l.feed(buf);
  l.end();
  assert.equal(l.keysLoaded, 1);
  assert.equal(l.keysExpired, 1);
  assert.equal(master.keyspace.dbs[0]!.dict.has('old'), false);
  const replica = loadInto(buf, buf.length, false);
  assert.equal(replica.keyspace.dbs[0]!.expires.get('old'), 1000);
});

// ---------------------------------------------------------------------------------------------
// Property tests

const bytes = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const member = fc.oneof(bytes, fc.integer({ min: -1e6, max: 1e6 }).map(String), fc.constantFrom('0', '-0', '01', '9223372036854775807', 'x'.repeat(70)));
const score = fc.oneof(fc.double({ noNaN: true }), fc.integer().map((n) => n / 4));

type Gen = (cfg: Config) => Value;
const valueArb: fc.Arbitrary<Gen> = fc.oneof(
  member.map((m) => () => m),
  fc.array(member, { minLength: 1, maxLength: 200 }).map((a) => (cfg: Config) => ListValue.from(a, cfg)),
  fc.uniqueArray(member, { minLength: 1, maxLength: 600 }).map((a) => (cfg: Config) => SetValue.from(a, cfg)),
  fc.uniqueArray(fc.tuple(member, member), { minLength: 1, maxLength: 600, selector: (t) => t[0] }).map((a) => (cfg: Config) => HashValue.from(a, cfg)),
  fc.uniqueArray(fc.tuple(member, score), { minLength: 1, maxLength: 200, selector: (t) => t[0] }).map((a) => (cfg: Config) => ZSetValue.from(a, cfg)),
);
const datasetArb = fc.array(fc.tuple(fc.nat({ max: 3 }), bytes, valueArb, fc.option(fc.integer({ min: 4102444800000, max: 4102444900000 }))), { maxLength: 40 });

test('property: random datasets round-trip (snapshot → loader, random chunking)', async () => {
  await fc.assert(
    fc.asyncProperty(datasetArb, fc.integer({ min: 1, max: 5000 }), async (items, chunk) => {
      const s = newServer();
      for (const [dbi, k, gen, exp] of items) {
        const db = s.keyspace.dbs[dbi]!;
        if (db.dict.has(k)) continue;
        db.add(k, gen(s.config));
        if (exp !== null) db.expires.set(k, exp);
      }
      const buf = await snapshotToBuffer(s);
      assert.equal(canonical(loadInto(buf, chunk).keyspace.dbs), canonical(s.keyspace.dbs));
    }),
    { numRuns: 60 },
  );
});

/** Feeds corrupt input; passes when it loads or fails with RdbError (no other exception). */
function feedCorrupt(buf: Buffer, chunk: number, checksum: boolean): void {
  const s = newServer();
  if (!checksum) s.config.set('rdbchecksum', false);
  const l = new RdbLoader(s.keyspace.dbs, { isMaster: true, now: () => Date.now(), config: s.config });
  try {
    for (let i = 0; i < buf.length; i += chunk) l.feed(buf.subarray(i, i + chunk));
    l.end();
  } catch (e) {
    if (!(e instanceof RdbError)) throw e;
  }
}

test('property: mutated and truncated dumps fail cleanly', async () => {
  const s = newServer();
  fill(s.keyspace.dbs[0]!, everyEncoding(s.config));
  const good = await snapshotToBuffer(s);
  // Also without LZF, so mutations hit listpack/intset bytes directly.
  s.config.set('rdbcompression', false);
  const plain = await snapshotToBuffer(s);
  const t0 = Date.now();
  fc.assert(
    fc.property(
      fc.constantFrom(good, plain),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 1, max: 70000 }),
      fc.boolean(),
      (src, muts, chunk, checksum) => {
        const b = Buffer.from(src);
        for (const [at, v] of muts) b[at % b.length] = v;
        feedCorrupt(b, chunk, checksum);
      },
    ),
    { numRuns: 400 },
  );
  fc.assert(
    fc.property(fc.constantFrom(good, plain), fc.nat(), fc.integer({ min: 1, max: 9000 }), (src, cut, chunk) => {
      const b = src.subarray(0, cut % src.length);
      const srv = newServer();
      const l = new RdbLoader(srv.keyspace.dbs, { isMaster: true, now: () => Date.now(), config: srv.config });
      assert.throws(() => {
        for (let i = 0; i < b.length; i += chunk) l.feed(b.subarray(i, i + chunk));
        l.end();
      }, RdbError);
    }),
    { numRuns: 200 },
  );
  assert.ok(Date.now() - t0 < 60000, 'corrupt input must not make the loader slow');
});
