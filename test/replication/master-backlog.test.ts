/** Unit tests of the shared replication buffer (src/replication/backlog.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplBuffer, BLOCK_SIZE, MIN_BACKLOG_SIZE } from '../../src/replication/backlog.js';

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (seed + i) & 0xff;
  return b;
}

/** Reads [from, end] through slices, as a replica's writer does. */
function readAll(b: ReplBuffer, from: number, max = 1000): Buffer {
  const parts: Buffer[] = [];
  let pos = from;
  while (pos <= b.endOffset) {
    const s = b.slice(pos, max);
    assert.ok(s.length > 0);
    parts.push(Buffer.from(s));
    pos += s.length;
  }
  return Buffer.concat(parts);
}

test('offsets start after master_repl_offset and count every byte', () => {
  const b = new ReplBuffer(101, 1024 * 1024);
  assert.equal(b.firstOffset, 101);
  assert.equal(b.histlen, 0);
  assert.equal(b.endOffset, 100);
  assert.ok(b.holds(101));
  assert.ok(!b.holds(102));
  b.append(Buffer.from('*1\r\n$4\r\nping\r\n'), 0, false);
  assert.equal(b.histlen, 14);
  assert.equal(b.endOffset, 114);
  assert.equal(b.slice(101, 100).toString(), '*1\r\n$4\r\nping\r\n');
  assert.equal(b.slice(109, 4).toString(), 'ping');
  assert.equal(b.slice(115, 10).length, 0);
});

test('data spanning blocks reads back identically, small and large appends mixed', () => {
  const b = new ReplBuffer(1, 10 * 1024 * 1024);
  const all: Buffer[] = [];
  let seed = 0;
  for (const n of [10, BLOCK_SIZE - 5, 7, 3 * BLOCK_SIZE + 1, 1, BLOCK_SIZE, 20]) {
    const d = bytes(n, seed++);
    all.push(Buffer.from(d));
    b.append(d, 0, true);
  }
  const expected = Buffer.concat(all);
  assert.equal(b.histlen, expected.length);
  assert.deepEqual(readAll(b, 1, 777), expected);
  assert.deepEqual(readAll(b, 5000, 4096), expected.subarray(4999));
});

test('an owned large buffer becomes a block without a copy; a borrowed one is copied', () => {
  const b = new ReplBuffer(1, 1024 * 1024);
  const big = bytes(2 * BLOCK_SIZE, 1);
  b.append(big, 0, true);
  assert.equal(b.slice(1, 10).buffer, big.buffer);
  const borrowed = bytes(2 * BLOCK_SIZE, 2);
  b.append(borrowed, 0, false);
  const s = b.slice(1 + 2 * BLOCK_SIZE, 10);
  assert.notEqual(s.buffer, borrowed.buffer);
  assert.deepEqual(Buffer.from(s), borrowed.subarray(0, 10));
});

test('trimming keeps at least repl-backlog-size and less than one extra block', () => {
  const size = 64 * 1024;
  const b = new ReplBuffer(1, size);
  for (let i = 0; i < 200; i++) {
    b.append(bytes(1000, i), 0, true);
    b.trim(Infinity);
  }
  assert.equal(b.endOffset, 200 * 1000);
  assert.ok(b.histlen > size, `histlen ${b.histlen}`);
  assert.ok(b.histlen < size + BLOCK_SIZE + 1000, `histlen ${b.histlen}`);
  assert.equal(b.firstOffset, b.endOffset - b.histlen + 1);
  // What is held is exactly the tail of the stream.
  const tail = readAll(b, b.firstOffset);
  assert.equal(tail.length, b.histlen);
  assert.deepEqual(tail.subarray(tail.length - 1000), bytes(1000, 199));
});

test('a lagging replica keeps the blocks it still needs', () => {
  const b = new ReplBuffer(1, MIN_BACKLOG_SIZE);
  for (let i = 0; i < 100; i++) b.append(bytes(1000, i), 0, true);
  b.trim(1); // a replica still needs offset 1
  assert.equal(b.firstOffset, 1);
  assert.equal(b.histlen, 100 * 1000);
  assert.equal(b.bytesFromBlockOf(1), 100 * 1000);
  b.trim(50_000);
  assert.ok(b.firstOffset <= 50_000);
  assert.ok(b.holds(50_000));
  b.trim(Infinity);
  assert.ok(b.histlen <= MIN_BACKLOG_SIZE + BLOCK_SIZE);
});

test('sizes below 16 KB are raised, resize takes effect at the next trim', () => {
  const b = new ReplBuffer(1, 100);
  assert.equal(b.size, MIN_BACKLOG_SIZE);
  b.resize(1024 * 1024);
  for (let i = 0; i < 300; i++) b.append(bytes(1000, i), 0, true);
  b.trim(Infinity);
  assert.equal(b.histlen, 300 * 1000);
  b.resize(32 * 1024);
  b.trim(Infinity);
  assert.ok(b.histlen > 32 * 1024 && b.histlen <= 32 * 1024 + BLOCK_SIZE + 1000, `histlen ${b.histlen}`);
});

test('slices handed out stay valid after later appends and trims', () => {
  const b = new ReplBuffer(1, MIN_BACKLOG_SIZE);
  b.append(Buffer.from('hello'), 0, false);
  const s = b.slice(1, 100);
  for (let i = 0; i < 100; i++) b.append(bytes(1000, i), 0, true);
  b.trim(Infinity);
  assert.ok(!b.holds(1));
  assert.equal(s.toString(), 'hello');
});
