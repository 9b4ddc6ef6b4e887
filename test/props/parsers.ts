/**
 * Property-based checks (fast-check) of every parser of outside input that this module owns:
 * the RESP request parser, the inline/config argument splitter, and the config line parser.
 *
 * The same properties run in two places: the unit tests (a short run, in CI) and
 * `npm run fuzz -- --iterations N` (scripts/fuzz.ts) for long runs.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { RequestParser, splitArgs } from '../../src/protocol/resp-parser.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { Config } from '../../src/config/config.js';
import { applyLines, textToLines, quoteRepr, FatalConfigError, ConfigFileOpenError } from '../../src/config/parse.js';

export interface Property {
  name: string;
  /** Runs the property with `runs` generated cases; throws on a counterexample. */
  check(runs: number, seed?: number): void;
}

const LIMITS = { maxBulkLen: 512 * 1024 * 1024, maxQueryBuffer: 1024 * 1024 * 1024 };

/** A byte string (latin1) of the given bytes. */
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a).toString('latin1'));

/** Arguments: mostly short, sometimes empty, sometimes past the parser's big-bulk threshold. */
const arg = fc.oneof(
  { weight: 20, arbitrary: bytes(40) },
  { weight: 3, arbitrary: fc.constantFrom('', '\r\n', '$', '*', '\r', '\n', '"', "'") },
  { weight: 1, arbitrary: fc.integer({ min: 32 * 1024, max: 70 * 1024 }).map((n) => 'x'.repeat(n)) },
);
const command = fc.array(arg, { minLength: 1, maxLength: 8 });

export function encodeCommand(argv: string[]): Buffer {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return Buffer.from(s, 'latin1');
}

/** Cuts `buf` at the given (sorted, deduplicated) positions. */
function cut(buf: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** Feeds chunks and collects commands until the input is used up; ProtocolError propagates. */
export function parseAll(chunks: Buffer[], parser = new RequestParser({ ...LIMITS })): string[][] {
  const out: string[][] = [];
  for (const c of chunks) {
    parser.feed(c);
    for (let argv = parser.next(); argv !== null; argv = parser.next()) out.push(argv);
  }
  return out;
}

const run = (runs: number, seed: number | undefined) => ({ numRuns: runs, ...(seed !== undefined ? { seed } : {}) });

export const properties: Property[] = [
  {
    name: 'RESP: valid commands split anywhere parse to the same argv',
    check(runs, seed) {
      fc.assert(
        fc.property(fc.array(command, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), (cmds, points) => {
          const wire = Buffer.concat(cmds.map(encodeCommand));
          assert.deepEqual(parseAll(cut(wire, points)), cmds);
        }),
        run(runs, seed),
      );
    },
  },
  {
    name: 'RESP: inline commands (quoted like sdscatrepr) parse to the same argv',
    check(runs, seed) {
      const inlineArg = bytes(30);
      fc.assert(
        fc.property(fc.array(fc.array(inlineArg, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (cmds, points) => {
          // The first byte must not be '*' (that makes it multibulk): quoting guarantees '"'.
          const wire = Buffer.from(cmds.map((c) => c.map(quoteRepr).join(' ') + '\r\n').join(''), 'latin1');
          assert.deepEqual(parseAll(cut(wire, points)), cmds);
        }),
        run(runs, seed),
      );
    },
  },
  {
    name: 'RESP: garbage gives commands, "need more" or a ProtocolError, never another exception',
    check(runs, seed) {
      const garbage = fc.oneof(
        fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
        // Plausible-looking frames with random lengths and bodies.
        fc
          .array(
            fc.oneof(
              fc.constantFrom('*', '$', '\r\n', '\r', '\n', '-', '0', '"', "'", '\\x', ' '),
              fc.integer({ min: -5, max: 3000000000 }).map(String),
              bytes(10),
            ),
            { maxLength: 30 },
          )
          .map((parts) => Buffer.from(parts.join(''), 'latin1')),
      );
      fc.assert(
        fc.property(garbage, fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (wire, points, unauth) => {
          const p = new RequestParser({ ...LIMITS });
          p.unauthenticated = unauth;
          try {
            for (const argv of parseAll(cut(wire, points), p)) {
              assert.ok(Array.isArray(argv));
              for (const a of argv) assert.equal(typeof a, 'string');
            }
          } catch (e) {
            if (!(e instanceof ProtocolError)) throw e;
            assert.match(e.message, /^ERR Protocol error: /);
          }
          // What the parser holds never exceeds what it was given plus its fixed preallocation.
          assert.ok(p.reservedBytes <= wire.length + 1024 * 1024 + 2, `reserved ${p.reservedBytes} for ${wire.length} bytes`);
        }),
        run(runs, seed),
      );
    },
  },
  {
    name: 'RESP: lying lengths never reserve memory for bytes that did not arrive',
    check(runs, seed) {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 2147483647 }),
          fc.integer({ min: 0, max: 512 * 1024 * 1024 }),
          fc.integer({ min: 0, max: 64 * 1024 }),
          (count, len, sent) => {
            const p = new RequestParser({ ...LIMITS });
            p.feed(Buffer.from(`*${count}\r\n$${len}\r\n`, 'latin1'));
            assert.equal(p.next(), null);
            p.feed(Buffer.alloc(Math.min(sent, len), 0x61));
            // The two bytes after the payload never arrived: the command cannot be complete.
            assert.equal(p.next(), null);
            assert.ok(p.reservedBytes <= 1024 * 1024 + sent + 64, `reserved ${p.reservedBytes} after ${sent} bytes of a ${len}-byte bulk`);
          },
        ),
        run(runs, seed),
      );
    },
  },
  {
    name: 'splitArgs: never throws; quoted arguments round-trip',
    check(runs, seed) {
      fc.assert(
        fc.property(bytes(80), (line) => {
          const r = splitArgs(line);
          assert.ok(r === null || Array.isArray(r));
        }),
        run(runs, seed),
      );
      fc.assert(
        fc.property(fc.array(bytes(30), { maxLength: 6 }), fc.constantFrom(' ', '\t', '  '), (args, sep) => {
          assert.deepEqual(splitArgs(args.map(quoteRepr).join(sep)), args);
        }),
        run(runs, seed),
      );
    },
  },
  {
    name: 'config lines: any line gives a value, a warning or a FatalConfigError, never a crash',
    check(runs, seed) {
      const names = new Config().getMatching(['*']).map(([n]) => n);
      const word = fc.oneof(
        fc.constantFrom(...names, 'include', 'rename-command', 'user', 'sentinel', 'loadmodule', 'list-max-ziplist-entries', 'bogus-directive'),
        fc.constantFrom('yes', 'no', '0', '-1', '1gb', '100mb', '""', "''", '"a b"', '#', '# c', '\u201cx\u201d', '*', '-::*', '127.0.0.1', 'normal', '1 2 3 4'),
        fc.integer().map(String),
        bytes(12),
      );
      const line = fc.array(word, { maxLength: 6 }).map((w) => Buffer.from(w.join(' '), 'utf8').toString('latin1'));
      fc.assert(
        fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), (lines) => {
          const config = new Config();
          try {
            const warnings = applyLines(config, textToLines(lines.join('\n'), '(fuzz)'));
            assert.ok(Array.isArray(warnings));
            // Whatever was accepted can be shown by CONFIG GET.
            for (const [, v] of config.getMatching(['*'])) assert.equal(typeof v, 'string');
          } catch (e) {
            if (!(e instanceof FatalConfigError) && !(e instanceof ConfigFileOpenError)) throw e;
            if (e instanceof FatalConfigError) assert.ok(e.render('7.0.15').includes('*** FATAL CONFIG FILE ERROR'));
          }
        }),
        run(runs, seed),
      );
    },
  },
];
