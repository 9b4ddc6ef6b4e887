/**
 * The request parser against Redis 7.0's rules (reference commands.md §3, verified against the
 * real server by test/e2e/protocol.test.ts), plus the property checks of test/props.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser, splitArgs } from './resp-parser.js';
import { ProtocolError } from './errors.js';
import { properties, encodeCommand, parseAll } from '../../test/props/parsers.js';

const limits = () => ({ maxBulkLen: 512 * 1024 * 1024, maxQueryBuffer: 1024 * 1024 * 1024 });

function parse(input: string, unauthenticated = false): (string[] | string)[] {
  const p = new RequestParser(limits());
  p.unauthenticated = unauthenticated;
  p.feed(Buffer.from(input, 'latin1'));
  const out: (string[] | string)[] = [];
  try {
    for (let argv = p.next(); argv !== null; argv = p.next()) out.push(argv);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    out.push(e.message);
  }
  return out;
}

test('multibulk and inline commands, pipelined', () => {
  assert.deepEqual(parse('*2\r\n$4\r\nECHO\r\n$3\r\na b\r\nPING\r\nget "k 1"\n'), [['ECHO', 'a b'], ['PING'], ['get', 'k 1']]);
});

test('empty requests: *0, *-1 and blank lines yield empty argv (no reply)', () => {
  assert.deepEqual(parse('*0\r\n*-1\r\n\r\n   \r\nPING\r\n'), [[], [], [], [], ['PING']]);
});

test('lengths are read like string2ll: no leading zeros, no +, no -0', () => {
  assert.deepEqual(parse('*01\r\n$4\r\nPING\r\n'), ['ERR Protocol error: invalid multibulk length']);
  assert.deepEqual(parse('*+1\r\n'), ['ERR Protocol error: invalid multibulk length']);
  assert.deepEqual(parse('*-0\r\n'), ['ERR Protocol error: invalid multibulk length']);
  assert.deepEqual(parse('*\r\n'), ['ERR Protocol error: invalid multibulk length']);
  assert.deepEqual(parse('*2147483648\r\n'), ['ERR Protocol error: invalid multibulk length']);
  assert.deepEqual(parse('*1\r\n$04\r\nPING\r\n'), ['ERR Protocol error: invalid bulk length']);
  assert.deepEqual(parse('*1\r\n$-1\r\n'), ['ERR Protocol error: invalid bulk length']);
  assert.deepEqual(parse('*1\r\n$536870913\r\n'), ['ERR Protocol error: invalid bulk length']);
  assert.deepEqual(parse('*1\r\n$0\r\n\r\n'), [['']]);
});

test("an element's type byte is checked once its line is complete, as Redis does", () => {
  assert.deepEqual(parse('*1\r\nx'), []);
  assert.deepEqual(parse('*1\r\nx\r\n'), ["ERR Protocol error: expected '$', got 'x'"]);
});

test('the two bytes after a bulk are skipped, not validated', () => {
  assert.deepEqual(parse('*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n'), [['PING'], ['PING']]);
});

test('64 KB limits on inline requests and count lines', () => {
  assert.deepEqual(parse('a'.repeat(64 * 1024)), []);
  assert.deepEqual(parse('a'.repeat(64 * 1024 + 1)), ['ERR Protocol error: too big inline request']);
  assert.deepEqual(parse('*' + '1'.repeat(64 * 1024 + 1)), ['ERR Protocol error: too big mbulk count string']);
  assert.deepEqual(parse('*1\r\n$' + '1'.repeat(64 * 1024 + 1)), ['ERR Protocol error: too big bulk count string']);
});

test('unauthenticated clients: at most 10 elements of at most 16384 bytes', () => {
  assert.deepEqual(parse('*11\r\n', true), ['ERR Protocol error: unauthenticated multibulk length']);
  assert.deepEqual(parse('*1\r\n$16385\r\n', true), ['ERR Protocol error: unauthenticated bulk length']);
  assert.equal((parse(`*1\r\n$16384\r\n${'a'.repeat(16384)}\r\n`, true)[0] as string[])[0]!.length, 16384);
});

test('proto-max-bulk-len is the limit in force', () => {
  const p = new RequestParser({ maxBulkLen: 1024 * 1024, maxQueryBuffer: 1 << 30 });
  p.feed(Buffer.from('*1\r\n$1048577\r\n'));
  assert.throws(() => p.next(), /invalid bulk length/);
});

test('inline splitting: quotes, escapes, unbalanced quotes', () => {
  assert.deepEqual(parse('set "a\\x41\\n" \'b\\\'c\'\r\n'), [['set', 'aA\n', "b'c"]]);
  assert.deepEqual(parse('echo abc"d"\r\n'), [['echo', 'abcd']]);
  assert.deepEqual(parse('echo "\\x4g"\r\n'), [['echo', 'x4g']]);
  assert.deepEqual(parse('echo "a"b\r\n'), ['ERR Protocol error: unbalanced quotes in request']);
  assert.deepEqual(parse('echo "abc\r\n'), ['ERR Protocol error: unbalanced quotes in request']);
  assert.deepEqual(parse("echo 'a\r\n"), ['ERR Protocol error: unbalanced quotes in request']);
});

test('splitArgs matches sdssplitargs', () => {
  assert.deepEqual(splitArgs('  a\tb  '), ['a', 'b']);
  assert.deepEqual(splitArgs('""'), ['']);
  assert.deepEqual(splitArgs('"\\t\\r\\b\\a\\\\\\""'), ['\t\r\b\x07\\"']);
  assert.equal(splitArgs('"a"b'), null);
  assert.equal(splitArgs("'a'b"), null);
  assert.deepEqual(splitArgs(''), []);
});

test('every request split at every byte boundary gives identical commands', () => {
  const small = Buffer.concat([
    encodeCommand(['SET', 'key', 'value with spaces']),
    encodeCommand(['MSET', 'a', '', 'b', '\r\n']),
    Buffer.from('PING\r\necho "x y"\n*0\r\n'),
  ]);
  const big = encodeCommand(['SET', 'big', 'v'.repeat(40 * 1024)]);
  const wire = Buffer.concat([small, big]);
  const expected = parseAll([wire]);
  assert.equal(expected.length, 6);
  // Every boundary of the small requests and of the big one's headers, then a sample inside
  // the big payload (its bytes all take the same path).
  const points: number[] = [];
  for (let i = 0; i <= small.length + 40; i++) points.push(i);
  for (let i = small.length + 40; i < wire.length; i += 997) points.push(i);
  for (let i = wire.length - 10; i <= wire.length; i++) points.push(i);
  for (const i of points) {
    assert.deepEqual(parseAll([wire.subarray(0, i), wire.subarray(i)]), expected, `split at ${i}`);
  }
  // And byte by byte.
  assert.deepEqual(parseAll([...wire].map((b) => Buffer.from([b]))), expected);
});

test('a huge claimed bulk reserves memory only as its bytes arrive', () => {
  const p = new RequestParser(limits());
  p.feed(Buffer.from('*1\r\n$536870912\r\n'));
  assert.equal(p.next(), null);
  assert.ok(p.reservedBytes <= 1024 * 1024, `reserved ${p.reservedBytes}`);
  const chunk = Buffer.alloc(3 * 1024 * 1024, 0x62);
  p.feed(chunk);
  assert.equal(p.next(), null);
  assert.ok(p.reservedBytes <= 2 * chunk.length, `reserved ${p.reservedBytes} after ${chunk.length} bytes`);
});

test('a big bulk delivered in pieces is reassembled exactly', () => {
  const value = Buffer.alloc(5 * 1024 * 1024 + 3);
  for (let i = 0; i < value.length; i++) value[i] = (i * 7) & 0xff;
  const wire = Buffer.concat([Buffer.from(`*2\r\n$3\r\nSET\r\n$${value.length}\r\n`), value, Buffer.from('\r\n*1\r\n$4\r\nPING\r\n')]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < wire.length; i += 65536) chunks.push(wire.subarray(i, i + 65536));
  const cmds = parseAll(chunks);
  assert.equal(cmds.length, 2);
  assert.equal(cmds[0]![1], value.toString('latin1'));
  assert.deepEqual(cmds[1], ['PING']);
});

for (const prop of properties.filter((p) => p.name.startsWith('RESP') || p.name.startsWith('splitArgs'))) {
  test(`property: ${prop.name}`, () => prop.check(150));
}
