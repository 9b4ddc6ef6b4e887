/**
 * The AOF RESP reader: what Redis 7.0's loader accepts, MORE for every proper prefix of a
 * valid file (a truncation, never an error), and no exception or endless loop on any input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AofRespParser, ITEM_COMMAND, ITEM_ANNOTATION, MORE, BAD } from './resp-reader.js';
import { encodeCommand } from '../../protocol/encode.js';

/** Parses a whole buffer; returns the commands and how it ended. */
function parseAll(buf: Buffer): { cmds: string[][]; end: 'ok' | 'more' | 'bad'; pos: number } {
  const p = new AofRespParser();
  const cmds: string[][] = [];
  let pos = 0;
  for (;;) {
    if (pos === buf.length) return { cmds, end: 'ok', pos };
    const r = p.parse(buf, pos);
    if (r === MORE) {
      assert.ok(p.need > buf.length - pos, 'need must exceed what is there');
      return { cmds, end: 'more', pos };
    }
    if (r === BAD) return { cmds, end: 'bad', pos };
    assert.ok(p.end > pos, 'progress');
    if (r === ITEM_COMMAND) cmds.push(p.argv);
    else assert.equal(r, ITEM_ANNOTATION);
    pos = p.end;
  }
}

test('commands, annotations and Redis leniencies', () => {
  const buf = Buffer.concat([
    encodeCommand(['SELECT', '0']),
    Buffer.from('#TS:1700000000\r\n'),
    encodeCommand(['SET', 'k', 'a\r\nb\x00\xff']),
    encodeCommand(['SET', 'empty', '']),
    // atoi-style counts and the two bytes after the data are not checked, as in Redis.
    Buffer.from('*2x\r\n$3\r\nDELXX$1\r\nk\r\n'),
  ]);
  const r = parseAll(buf);
  assert.equal(r.end, 'ok');
  assert.deepEqual(r.cmds, [['SELECT', '0'], ['SET', 'k', 'a\r\nb\x00\xff'], ['SET', 'empty', ''], ['DEL', 'k']]);
});

test('format errors', () => {
  for (const bad of ['xyz\r\n', '*0\r\n', '*-1\r\n', '*1\r\n+OK\r\n', '*1\r\n$-5\r\n', '*' + '1'.repeat(2000) + '\r\n']) {
    assert.equal(parseAll(Buffer.from(bad, 'latin1')).end, 'bad', JSON.stringify(bad.slice(0, 20)));
  }
});

test('every proper prefix of a valid file is a truncation at the last complete command', () => {
  const cmds = [['SELECT', '3'], ['RPUSH', 'l', 'a', 'bb', 'ccc'], ['MULTI'], ['INCR', 'n'], ['EXEC'], ['SET', 'big', 'x'.repeat(300)]];
  const parts = cmds.map((c) => encodeCommand(c));
  const buf = Buffer.concat(parts);
  const ends: number[] = [];
  let acc = 0;
  for (const p of parts) ends.push((acc += p.length));
  for (let n = 0; n < buf.length; n++) {
    const r = parseAll(buf.subarray(0, n));
    const complete = ends.filter((e) => e <= n).length;
    assert.equal(r.cmds.length, complete, `prefix ${n}`);
    assert.equal(r.end, n === (ends[complete - 1] ?? 0) ? 'ok' : 'more', `prefix ${n}`);
  }
});

test('property: arbitrary and mutated input never throws and always terminates', () => {
  const valid = Buffer.concat([
    encodeCommand(['SELECT', '0']),
    encodeCommand(['SET', 'k', 'v']),
    encodeCommand(['HSET', 'h', 'f', 'v', 'g', 'w']),
    encodeCommand(['MULTI']),
    encodeCommand(['INCRBYFLOAT', 'f', '1.5']),
    encodeCommand(['EXEC']),
  ]);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }).map((muts) => {
          const b = Buffer.from(valid);
          for (const [i, v] of muts) b[i] = v;
          return b;
        }),
        fc.nat(valid.length).map((n) => valid.subarray(0, n)),
      ),
      (buf) => {
        const r = parseAll(buf);
        assert.ok(['ok', 'more', 'bad'].includes(r.end));
      },
    ),
    { numRuns: 2000 },
  );
});
