import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  StreamValue,
  ID_MAX,
  ID_MIN,
  decrId,
  formatId,
  idMs,
  idSeq,
  incrId,
  lpStringSize,
  makeId,
  makeIdBig,
  parseStreamId,
  parseU64,
} from './stream.js';

const LIMITS = { maxBytes: 4096, maxEntries: 100 };

test('IDs: encoding orders like (ms, seq) and formats as Redis prints them', () => {
  const a = makeId(1, 5);
  const b = makeId(2, 0);
  const c = makeIdBig(18446744073709551615n, 18446744073709551615n);
  assert.ok(a < b && b < c);
  assert.equal(c, ID_MAX);
  assert.equal(formatId(a), '1-5');
  assert.equal(formatId(c), '18446744073709551615-18446744073709551615');
  assert.equal(formatId(makeId(1700000000000, 123456)), '1700000000000-123456');
  assert.equal(idMs(c), 18446744073709551615n);
  assert.equal(idSeq(a), 5n);
  assert.equal(incrId(makeId(3, 7)), makeId(3, 8));
  assert.equal(incrId(makeIdBig(3n, 18446744073709551615n)), makeId(4, 0));
  assert.equal(incrId(ID_MAX), null);
  assert.equal(decrId(makeId(4, 0)), makeIdBig(3n, 18446744073709551615n));
  assert.equal(decrId(ID_MIN), null);
});

test('ID parsing follows string2ull', () => {
  assert.equal(parseU64('0'), 0n);
  assert.equal(parseU64('18446744073709551615'), 18446744073709551615n);
  assert.equal(parseU64('18446744073709551616'), null);
  assert.equal(parseU64('-1'), null);
  assert.equal(parseU64('007'), 7n); // strtoull fallback accepts leading zeros
  assert.equal(parseU64('+5'), 5n);
  assert.equal(parseU64(''), null);
  assert.equal(parseU64('1x'), null);
  assert.deepEqual(parseStreamId('5', 9n, false)?.id, makeId(5, 9));
  assert.equal(parseStreamId('5-*', 0n, true)?.seqGiven, false);
  assert.equal(parseStreamId('5-*', 0n, false), null);
  assert.equal(parseStreamId('5-', 0n, false), null);
});

test('listpack element sizes', () => {
  assert.equal(lpStringSize('5'), 2); // 7-bit uint
  assert.equal(lpStringSize('-5'), 3); // 13-bit int
  assert.equal(lpStringSize('100000'), 5); // 24-bit int
  assert.equal(lpStringSize('12345678901'), 10); // 64-bit int
  assert.equal(lpStringSize('007'), 5); // not canonical: a 3-byte string
  assert.equal(lpStringSize('x'.repeat(63)), 65);
  assert.equal(lpStringSize('x'.repeat(64)), 67); // 12-bit string header
});

test('append, get, delete, range in both directions', () => {
  const s = new StreamValue();
  for (let i = 1; i <= 250; i++) s.append(makeId(i, 0), ['f', String(i)], LIMITS);
  assert.equal(s.length, 250);
  assert.equal(s.nodes.length, 3); // 100 entries per node
  assert.equal(s.entriesAdded, 250);
  assert.deepEqual(s.get(makeId(120, 0)), ['f', '120']);
  assert.equal(s.get(makeId(120, 1)), undefined);
  assert.equal(s.delete(makeId(120, 0)), true);
  assert.equal(s.delete(makeId(120, 0)), false);
  const fwd: string[] = [];
  s.range(makeId(118, 0), makeId(122, 0), false, (id) => void fwd.push(formatId(id)));
  assert.deepEqual(fwd, ['118-0', '119-0', '121-0', '122-0']);
  const rev: string[] = [];
  s.range(makeId(98, 0), makeId(102, 5), true, (id) => void rev.push(formatId(id)));
  assert.deepEqual(rev, ['102-0', '101-0', '100-0', '99-0', '98-0']);
  assert.equal(formatId(s.firstId), '1-0');
  assert.equal(formatId(s.lastLiveId()), '250-0');
  // Deleting every entry of a node removes the node.
  for (let i = 201; i <= 250; i++) s.delete(makeId(i, 0));
  assert.equal(s.nodes.length, 2);
  assert.equal(formatId(s.lastLiveId()), '200-0');
  assert.equal(formatId(s.lastId), '250-0');
});

test('trim: exact vs approximate (whole nodes only) and LIMIT', () => {
  const mk = (): StreamValue => {
    const s = new StreamValue();
    for (let i = 1; i <= 250; i++) s.append(makeId(i, 0), ['f', String(i)], LIMITS);
    return s;
  };
  let s = mk();
  assert.equal(s.trim('maxlen', 120, ID_MIN, true, 0), 100); // one whole node
  assert.equal(s.length, 150);
  s = mk();
  assert.equal(s.trim('maxlen', 120, ID_MIN, false, 0), 130);
  assert.equal(s.length, 120);
  assert.equal(formatId(s.firstId), '131-0');
  s = mk();
  assert.equal(s.trim('maxlen', 0, ID_MIN, true, 150), 100); // LIMIT stops before the 2nd node
  s = mk();
  assert.equal(s.trim('minid', 0, makeId(205, 0), false, 0), 204);
  assert.equal(formatId(s.firstId), '205-0');
  s = mk();
  assert.equal(s.trim('minid', 0, makeId(205, 0), true, 0), 200);
});

test('byte-limited nodes and shared field names', () => {
  const s = new StreamValue();
  for (let i = 1; i <= 40; i++) s.append(makeId(i, 0), ['field', 'v'.repeat(300)], LIMITS);
  assert.ok(s.nodes.length > 1);
  for (const n of s.nodes) assert.ok(n.bytes < 4096 + 400);
  // Entries with the master's field names reuse its strings.
  const n0 = s.nodes[0]!;
  assert.equal(n0.fields[1]![0], n0.masterFields[0]);
});

test('groups, PEL and consumers as the RDB loader builds them', () => {
  const s = new StreamValue();
  s.appendLoaded(makeId(1, 0), ['a', '1']);
  s.appendLoaded(makeId(2, 0), ['a', '2']);
  s.lastId = makeId(2, 0);
  s.entriesAdded = 2;
  const g = s.createGroup('g', makeId(2, 0), 2)!;
  assert.equal(s.createGroup('g', ID_MIN, 0), undefined);
  g.addPending(makeId(1, 0), 1000, 3);
  g.addPending(makeId(2, 0), 2000, 1);
  const c = g.createConsumer('alice', 500);
  assert.equal(g.assignPending(c, makeId(1, 0)), true);
  assert.equal(g.assignPending(c, makeId(9, 0)), false);
  assert.equal(c.pel.size, 1);
  assert.equal(g.nack(makeId(1, 0))!.consumer, c);
  assert.equal(g.deleteConsumer('alice'), 1);
  assert.equal(g.pel.size, 1);
  assert.deepEqual(
    s.sortedGroups().map((x) => x.name),
    ['g'],
  );
});

test('radix tree node count of node keys', () => {
  const s = new StreamValue();
  assert.equal(s.raxNodeCount(), 1);
  s.append(makeId(1, 1), ['a', 'b'], LIMITS);
  assert.equal(s.raxNodeCount(), 2);
});
