/**
 * Types and opcodes Redis 7.0 does not write but loads (rdb.md §2, §5): legacy LIST/ZSET,
 * zipmap, ziplists, quicklist v1, PLAIN quicklist nodes, the 7.2 SET_LISTPACK and
 * STREAM_LISTPACKS_3 (RDB 11/12 headers), EXPIRETIME in seconds, IDLE/FREQ/SLOT_INFO opcodes
 * and unknown AUX fields. The files are assembled with the writer's primitives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RdbOut } from '../../src/persistence/rdb/out.js';
import { lpEncode } from '../../src/persistence/rdb/listpack.js';
import { crc64 } from '../../src/persistence/rdb/index.js';
import { ListValue } from '../../src/types/list.js';
import { SetValue } from '../../src/types/set.js';
import { HashValue } from '../../src/types/hash.js';
import { ZSetValue } from '../../src/types/zset.js';
import { StreamValue, formatId, makeId } from '../../src/types/stream.js';
import { loadInto } from './dataset.js';

/** A ziplist of short strings and small integers (enough for tests). */
function ziplist(items: string[]): Buffer {
  const entries: Buffer[] = [];
  let prev = 0;
  for (const it of items) {
    const n = /^(0|[1-9][0-9]{0,3})$/.test(it) ? Number(it) : null;
    const prevlen = Buffer.from([prev]);
    let body: Buffer;
    if (n !== null && n <= 12) body = Buffer.from([0xf1 + n]);
    else if (n !== null) {
      body = Buffer.alloc(3);
      body[0] = 0xc0;
      body.writeInt16LE(n, 1);
    } else body = Buffer.concat([Buffer.from([it.length]), Buffer.from(it, 'latin1')]);
    const e = Buffer.concat([prevlen, body]);
    entries.push(e);
    prev = e.length;
  }
  const payload = Buffer.concat(entries);
  const zl = Buffer.alloc(10 + payload.length + 1);
  zl.writeUInt32LE(zl.length, 0);
  zl.writeUInt32LE(entries.length ? zl.length - 1 - entries[entries.length - 1]!.length : 10, 4);
  zl.writeUInt16LE(items.length, 8);
  payload.copy(zl, 10);
  zl[zl.length - 1] = 0xff;
  return zl;
}

function finish(out: RdbOut): Buffer {
  out.u8(0xff);
  const body = out.take();
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64(body));
  return Buffer.concat([body, crc]);
}

test('legacy and newer types, opcodes and headers load', () => {
  const out = new RdbOut(false);
  out.rawString('REDIS0012');
  out.u8(0xfa);
  out.string('some-future-aux');
  out.string('ignored');
  out.u8(0xfe);
  out.len(0);
  out.u8(0xf4); // SLOT_INFO (7.4): slot, size, expires size
  out.len(1);
  out.len(2);
  out.len(0);
  out.u8(0xfb);
  out.len(12);
  out.len(1);
  // type 1 LIST, with IDLE and an EXPIRETIME in seconds (far future)
  out.u8(0xf8);
  out.len(100);
  out.u8(0xfd);
  out.raw(Buffer.from([0x00, 0x00, 0x00, 0x7f])); // int32 LE: 0x7f000000 seconds
  out.u8(1);
  out.string('l1');
  out.len(3);
  for (const s of ['a', 'b', '7']) out.string(s);
  // type 3 ZSET (ASCII scores, 254 = +inf), with FREQ
  out.u8(0xf9);
  out.u8(5);
  out.u8(3);
  out.string('z3');
  out.len(2);
  out.string('m');
  out.u8(3);
  out.rawString('1.5');
  out.string('top');
  out.u8(254);
  // type 9 zipmap
  out.u8(9);
  out.string('h9');
  out.blob(Buffer.from('02036f6e6503006f6e650374776f03007477 6fff'.replace(/ /g, ''), 'hex'));
  // type 10 list ziplist, 12 zset ziplist, 13 hash ziplist
  out.u8(10);
  out.string('l10');
  out.blob(ziplist(['x', '5', 'y', '1000']));
  out.u8(12);
  out.string('z12');
  out.blob(ziplist(['a', '1', 'b', '2.5']));
  out.u8(13);
  out.string('h13');
  out.blob(ziplist(['f', 'v', 'n', '12']));
  // type 14 quicklist v1 (ziplist nodes)
  out.u8(14);
  out.string('l14');
  out.len(2);
  out.blob(ziplist(['p', 'q']));
  out.blob(ziplist(['r']));
  // type 18 with a PLAIN node
  out.u8(18);
  out.string('l18');
  out.len(2);
  out.len(2);
  out.blob(lpEncode(['s1', 's2']));
  out.len(1);
  out.string('plain-element');
  // type 20 SET_LISTPACK (7.2)
  out.u8(20);
  out.string('s20');
  out.blob(lpEncode(['a', 'b', '3']));
  // type 2 SET of integers only → intset
  out.u8(2);
  out.string('s2');
  out.len(2);
  out.string('10');
  out.string('20');
  // type 4 HASH, small → listpack
  out.u8(4);
  out.string('h4');
  out.len(1);
  out.string('k');
  out.string('v');
  // type 21 STREAM_LISTPACKS_3: one entry, a group with one consumer (seen + active time)
  out.u8(21);
  out.string('x21');
  out.len(1);
  out.string(makeId(5, 0));
  out.blob(lpEncode(['1', '0', '1', 'f', '0', '2', '0', '0', 'v', '4']));
  out.len(1);
  out.len(5);
  out.len(0);
  out.len(5);
  out.len(0);
  out.len(0);
  out.len(0);
  out.len(1);
  out.len(1);
  out.string('grp');
  out.len(5);
  out.len(0);
  out.len(1);
  out.len(1);
  out.rawString(makeId(5, 0));
  out.ms(1234);
  out.len(3);
  out.len(1);
  out.string('alice');
  out.ms(777);
  out.ms(888);
  out.len(1);
  out.rawString(makeId(5, 0));
  const file = finish(out);

  const db = loadInto(file, 11).keyspace.dbs[0]!;
  assert.deepEqual([...(db.dict.get('l1') as ListValue).items()], ['a', 'b', '7']);
  assert.equal(db.expires.get('l1'), 0x7f000000 * 1000);
  assert.deepEqual([...(db.dict.get('z3') as ZSetValue).entries()], [['m', 1.5], ['top', Infinity]]);
  assert.deepEqual([...(db.dict.get('h9') as HashValue).entries()], [['one', 'one'], ['two', 'two']]);
  assert.deepEqual([...(db.dict.get('l10') as ListValue).items()], ['x', '5', 'y', '1000']);
  assert.deepEqual([...(db.dict.get('z12') as ZSetValue).entries()], [['a', 1], ['b', 2.5]]);
  assert.equal((db.dict.get('z12') as ZSetValue).encoding, 'listpack');
  assert.deepEqual([...(db.dict.get('h13') as HashValue).entries()], [['f', 'v'], ['n', '12']]);
  assert.deepEqual([...(db.dict.get('l14') as ListValue).items()], ['p', 'q', 'r']);
  assert.deepEqual([...(db.dict.get('l18') as ListValue).items()], ['s1', 's2', 'plain-element']);
  const s20 = db.dict.get('s20') as SetValue;
  assert.deepEqual([...s20.members()].sort(), ['3', 'a', 'b']);
  assert.equal(s20.encoding, 'hashtable');
  assert.equal((db.dict.get('s2') as SetValue).encoding, 'intset');
  assert.equal((db.dict.get('h4') as HashValue).encoding, 'listpack');
  const st = db.dict.get('x21') as StreamValue;
  assert.deepEqual([...st.entries()].map(([id, f]) => [formatId(id), f]), [['5-0', ['f', 'v']]]);
  const g = st.sortedGroups()[0]!;
  assert.equal(g.name, 'grp');
  assert.equal(g.nack(makeId(5, 0))?.consumer?.name, 'alice');
  assert.equal(g.sortedConsumers()[0]!.seenTime, 777);
  assert.equal(db.dict.size, 12);
});

test('module values, functions and unknown types are refused clearly', () => {
  const make = (body: (o: RdbOut) => void): Buffer => {
    const o = new RdbOut(false);
    o.rawString('REDIS0010');
    o.u8(0xfe);
    o.len(0);
    body(o);
    return finish(o);
  };
  assert.throws(() => loadInto(make((o) => (o.u8(7), o.string('k')))), /module/);
  assert.throws(() => loadInto(make((o) => o.u8(0xf7))), /module/);
  assert.throws(() => loadInto(make((o) => (o.u8(0xf5), o.string('#!lua name=x\n')))), /Functions/);
  assert.throws(() => loadInto(make((o) => (o.u8(22), o.string('k')))), /Unknown RDB encoding type 22/);
  assert.throws(() => loadInto(make((o) => (o.u8(18), o.string('k'), o.len(1), o.len(3)))), /container/);
  assert.throws(() => loadInto(make((o) => (o.u8(2), o.string('k'), o.len(2), o.string('a'), o.string('a')))), /Duplicate set members/);
  assert.throws(() => loadInto(make((o) => (o.u8(16), o.string('k'), o.blob(lpEncode(['f']))))), /odd number/);
});
