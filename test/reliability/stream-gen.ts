/**
 * Generators (fast-check) for fuzzing a replica's side of the replication link: valid streams
 * of commands, byte-level splits, mutated streams, and mutated full-sync payloads.
 *
 * Commands keep to absolute times (PXAT / PEXPIREAT far in the future) and type-separated key
 * names, so that a real Redis replaying the same commands as a client reaches exactly the
 * replica's dataset (the test compares DEBUG DIGEST), with only the odd error both share.
 */
import fc from 'fast-check';
import { crc64 } from '../../src/persistence/rdb/crc64.js';

/** A far-future absolute time (ms): 2100-01-01 plus a little. */
const FAR = 4102444800000;

const bytes = (min: number, max: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a).toString('latin1'));

/** Values: short binary, RESP-looking, or past the parser's 32 KB big-bulk threshold. */
const value = fc.oneof(
  { weight: 12, arbitrary: bytes(0, 24) },
  { weight: 3, arbitrary: fc.constantFrom('\r\n', '$3\r\n', '*2\r\n', '\n', '\r', '0', '-1', '*', '$') },
  { weight: 1, arbitrary: fc.integer({ min: 32 * 1024, max: 70 * 1024 }).map((n) => 'ab\r\n$*'.repeat(Math.ceil(n / 6)).slice(0, n)) },
);

const member = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('m1', 'm2', 'm3', '') }, { weight: 1, arbitrary: bytes(1, 10) });
const skey = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('s:a', 's:b', 's:c') }, { weight: 1, arbitrary: bytes(1, 8).map((b) => `s:${b}`) });
const lkey = fc.constantFrom('l:a', 'l:b');
const hkey = fc.constantFrom('h:a', 'h:b');
const setkey = fc.constantFrom('set:a', 'set:b');
const zkey = fc.constantFrom('z:a', 'z:b');
const ckey = fc.constantFrom('c:a', 'c:b');
const anyKey = fc.oneof(skey, lkey, hkey, setkey, zkey, ckey, fc.constant('x:a'));

const simple: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(skey, value).map(([k, v]) => ['SET', k, v]) },
  { weight: 2, arbitrary: fc.tuple(skey, value, fc.nat(1000000)).map(([k, v, t]) => ['SET', k, v, 'PXAT', String(FAR + t)]) },
  { weight: 2, arbitrary: fc.tuple(skey, value).map(([k, v]) => ['APPEND', k, v]) },
  { weight: 2, arbitrary: fc.array(anyKey, { minLength: 1, maxLength: 3 }).map((ks) => ['DEL', ...ks]) },
  { weight: 2, arbitrary: fc.tuple(ckey, fc.integer({ min: -1000, max: 1000 })).map(([k, n]) => ['INCRBY', k, String(n)]) },
  { weight: 3, arbitrary: fc.tuple(lkey, fc.array(value, { minLength: 1, maxLength: 4 })).map(([k, vs]) => ['RPUSH', k, ...vs]) },
  { weight: 1, arbitrary: lkey.map((k) => ['LPOP', k]) },
  { weight: 3, arbitrary: fc.tuple(hkey, member, value).map(([k, f, v]) => ['HSET', k, f, v]) },
  { weight: 2, arbitrary: fc.tuple(setkey, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, ms]) => ['SADD', k, ...ms]) },
  { weight: 1, arbitrary: fc.tuple(setkey, member).map(([k, m]) => ['SREM', k, m]) },
  { weight: 2, arbitrary: fc.tuple(zkey, fc.integer({ min: -50, max: 50 }), member).map(([k, s, m]) => ['ZADD', k, String(s), m]) },
  { weight: 1, arbitrary: fc.tuple(anyKey, fc.nat(1000000)).map(([k, t]) => ['PEXPIREAT', k, String(FAR + t)]) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }).map((d) => ['SELECT', String(d)]) },
  { weight: 1, arbitrary: fc.constant<string[]>(['PING']) },
  // Whole-keyspace and cross-DB commands a master propagates as they are.
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([a, b]) => ['SWAPDB', String(a), String(b)]) },
  { weight: 1, arbitrary: fc.tuple(anyKey, fc.integer({ min: 0, max: 3 })).map(([k, d]) => ['MOVE', k, String(d)]) },
  { weight: 1, arbitrary: fc.tuple(skey, skey).map(([a, b]) => ['RENAME', a, b]) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(1000), fc.nat(3), member, value).map(([ms, seq, f, v]) => ['XADD', 'x:a', `${ms}-${seq}`, f || 'f', v]) },
  { weight: 1, arbitrary: fc.constant<string[]>(['FLUSHDB']) },
  { weight: 1, arbitrary: fc.constant<string[]>(['REPLCONF', 'GETACK', '*']) },
);

/** One stream element: a command, or a MULTI … EXEC block as the master propagates it. */
const element: fc.Arbitrary<string[][]> = fc.oneof(
  { weight: 8, arbitrary: simple.map((c) => [c]) },
  {
    weight: 1,
    arbitrary: fc
      .array(simple, { minLength: 1, maxLength: 4 })
      .map((cs) => [['MULTI'], ...cs.filter((c) => c[0] !== 'REPLCONF' && c[0] !== 'SELECT'), ['EXEC']]),
  },
);

/** A valid replication stream: a list of commands (MULTI blocks closed). */
export const stream = (maxElements: number): fc.Arbitrary<string[][]> =>
  fc.array(element, { minLength: 0, maxLength: maxElements }).map((es) => es.flat());

export function encode(argv: string[]): Buffer {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return Buffer.from(s, 'latin1');
}

export function encodeAll(cmds: string[][]): Buffer {
  return Buffer.concat(cmds.map(encode));
}

/**
 * Byte offset (within encodeAll(cmds)) up to which the commands are applied when only the first
 * `have` bytes arrived: the end of the last complete command not inside an open MULTI (commands
 * of a MULTI from the master count at EXEC).
 */
export function appliedPrefix(cmds: string[][], have: number): number {
  let pos = 0;
  let applied = 0;
  let inMulti = false;
  for (const c of cmds) {
    const end = pos + encode(c).length;
    if (end > have) break;
    pos = end;
    const name = c[0]!.toUpperCase();
    if (name === 'MULTI') inMulti = true;
    else if (name === 'EXEC' || name === 'DISCARD') inMulti = false;
    if (!inMulti) applied = pos;
  }
  return applied;
}

/** Cuts `buf` at the given positions (taken modulo its length + 1, sorted, deduplicated). */
export function cut(buf: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  if (prev < buf.length) out.push(buf.subarray(prev));
  return out;
}

export const hex40 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((a) => Buffer.from(a).toString('hex'));

/** String keys for a small generated RDB: db → [key, value, expireMs?]. */
export const rdbStrings = fc.array(
  fc.tuple(
    fc.integer({ min: 0, max: 3 }),
    bytes(1, 10).map((k) => `r:${k}`),
    value,
    fc.option(fc.nat(1000000).map((t) => FAR + t), { nil: undefined }),
  ),
  { minLength: 1, maxLength: 12 },
);

/** One full sync as the fake master sends it. */
export interface SyncPlan {
  replid: string;
  offset: number;
  framing: 'len' | 'eof';
  /** 'strings': built from `strings`; 'rich': the oracle's dump of every type. */
  source: 'strings' | 'rich';
  strings: [number, string, string, number | undefined][];
  /** repl-stream-db AUX field (strings source only); the stream then may start without SELECT. */
  streamDb: number | undefined;
  /** A keepalive newline before +FULLRESYNC and before the payload header. */
  keepalive: boolean;
  commands: string[][];
  cuts: number[];
}

export const syncPlan = (maxElements: number): fc.Arbitrary<SyncPlan> =>
  fc.record({
    replid: hex40,
    offset: fc.oneof(fc.constant(0), fc.nat(1000000), fc.integer({ min: 0, max: 1e12 })),
    framing: fc.constantFrom('len' as const, 'eof' as const),
    source: fc.oneof({ weight: 3, arbitrary: fc.constant('strings' as const) }, { weight: 1, arbitrary: fc.constant('rich' as const) }),
    strings: rdbStrings,
    streamDb: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    keepalive: fc.boolean(),
    commands: stream(maxElements),
    cuts: fc.array(fc.nat(), { maxLength: 24 }),
  });

// ---------------------------------------------------------------------------------------------
// Mutated streams

/**
 * What the replica must do with a mutated stream:
 *  - 'drop'  protocol violation: close the link at once, discard the cached master
 *            (next PSYNC is `? -1`), having applied exactly the first `applied` bytes;
 *  - 'wait'  an incomplete command (lying/huge length, truncation): keep the link, read every
 *            byte, apply exactly `applied` bytes; when the master goes away, PSYNC from there;
 *  - 'any'   anything safe: no crash, bounded memory, a reconnection when the link is closed.
 */
export interface StreamMutation {
  kind: string;
  bytes: Buffer;
  expect: 'drop' | 'wait' | 'any';
  applied: number;
}

const base = stream(5);

function withBase(kind: string, cmds: string[][], tail: Buffer, expect: StreamMutation['expect']): StreamMutation {
  const b = encodeAll(cmds);
  return { kind, bytes: Buffer.concat([b, tail]), expect, applied: b.length };
}

const inlineLine = fc
  .tuple(fc.constantFrom(...'abcxyzSETGgarbage0123$"\''), fc.array(fc.constantFrom(...'abc XYZ 0123 "\'$+-:'), { maxLength: 40 }))
  .map(([first, rest]) => `${first}${rest.join('')}\r\n`);

const badLength = fc.constantFrom(
  '*abc\r\n',
  '*-\r\n',
  '*01\r\n',
  '*99999999999999999999999\r\n',
  '*1\r\n$abc\r\n',
  '*1\r\n$-5\r\n',
  '*1\r\n$01\r\n',
  '*1\r\n$\r\n',
  '*1\r\n$99999999999999999999\r\n',
  '*2\r\n$3\r\nSET\r\n$1x\r\n',
);

const badType = fc.constantFrom('*2\r\n:1\r\n', '*1\r\n+OK\r\n', '*3\r\n$3\r\nSET\r\n-ERR x\r\n', '*1\r\n*1\r\n$4\r\nPING\r\n', '*2\r\n#x\r\n');

/** Flips bytes of a valid stream. */
const flipped = fc
  .tuple(base.filter((c) => c.length > 0), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
  .map(([cmds, flips]): StreamMutation => {
    const b = Buffer.from(encodeAll(cmds));
    for (const [p, v] of flips) b[p % b.length] = v;
    return { kind: 'flip', bytes: b, expect: 'any', applied: 0 };
  });

/** One bulk header of a valid stream lies about its length by `delta`. */
const lyingBulk = fc
  .tuple(base.filter((c) => c.length > 0), fc.nat(), fc.integer({ min: -20, max: 20 }).filter((d) => d !== 0))
  .map(([cmds, which, delta]): StreamMutation => {
    const text = encodeAll(cmds).toString('latin1');
    const heads = [...text.matchAll(/\$(\d+)\r\n/g)];
    const m = heads[which % heads.length]!;
    const n = Math.max(0, Number(m[1]) + delta);
    const out = text.slice(0, m.index) + `$${n}\r\n` + text.slice(m.index! + m[0].length);
    return { kind: delta < 0 ? 'bulk-short' : 'bulk-long', bytes: Buffer.from(out, 'latin1'), expect: 'any', applied: 0 };
  });

/** A bulk claiming far more bytes than will ever come, then some bytes of it. */
const hugeBulk = fc
  .tuple(base, fc.constantFrom('2147483647', '4294967296', '1073741824', '9007199254740991'), fc.integer({ min: 0, max: 256 * 1024 }))
  .map(([cmds, claim, follow]) => withBase('huge-bulk', cmds, Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${claim}\r\n`), Buffer.alloc(follow, 0x7a)]), 'wait'));

/** A multibulk claiming a huge count, then a few valid elements. */
const hugeMbulk = fc
  .tuple(base, fc.constantFrom('2147483647', '1000000', '65536'), fc.array(value, { maxLength: 6 }))
  .map(([cmds, claim, els]) => {
    let s = `*${claim}\r\n`;
    for (const e of els) s += `$${e.length}\r\n${e}\r\n`;
    return withBase('huge-mbulk', cmds, Buffer.from(s, 'latin1'), 'wait');
  });

/** The stream cut inside a command; the master then goes away. */
const truncated = fc
  .tuple(base.filter((c) => c.length > 0), fc.nat())
  .map(([cmds, at]): StreamMutation => {
    const b = encodeAll(cmds);
    const n = 1 + (at % (b.length - 1));
    return { kind: 'truncate', bytes: b.subarray(0, n), expect: 'wait', applied: appliedPrefix(cmds, n) };
  });

/** Random bytes after valid commands. */
const junk = fc
  .tuple(base, fc.uint8Array({ minLength: 1, maxLength: 300 }))
  .map(([cmds, j]) => withBase('junk', cmds, Buffer.from(j), 'any'));

export const streamMutation: fc.Arbitrary<StreamMutation> = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(base, inlineLine).map(([c, l]) => withBase('inline', c, Buffer.from(l, 'latin1'), 'drop')) },
  { weight: 2, arbitrary: fc.tuple(base, badLength).map(([c, l]) => withBase('bad-length', c, Buffer.from(l, 'latin1'), 'drop')) },
  { weight: 1, arbitrary: fc.tuple(base, badType).map(([c, l]) => withBase('bad-type', c, Buffer.from(l, 'latin1'), 'drop')) },
  { weight: 3, arbitrary: flipped },
  { weight: 2, arbitrary: lyingBulk },
  { weight: 2, arbitrary: hugeBulk },
  { weight: 1, arbitrary: hugeMbulk },
  { weight: 2, arbitrary: truncated },
  { weight: 2, arbitrary: junk },
);

// ---------------------------------------------------------------------------------------------
// Mutated full-sync payloads

export type PayloadKind =
  | 'rdb-flip' // bytes of the RDB changed; checksum kept, zeroed (not checked) or recomputed
  | 'len-short' // `$<len>` smaller than the RDB: the file is truncated
  | 'len-long' // `$<len>` larger: the transfer never completes; the master then drops the link
  | 'eof-mismatch' // EOF framing whose end mark never comes
  | 'truncated' // the link dies in the middle of the transfer
  | 'bad-header' // no `$` line: junk, an error, a bad number
  | 'bad-fullresync'; // +FULLRESYNC with a malformed id/offset

export interface PayloadMutation {
  kind: PayloadKind;
  source: 'strings' | 'rich';
  strings: [number, string, string, number | undefined][];
  flips: [number, number][];
  crc: 'keep' | 'zero' | 'fix';
  delta: number;
  at: number;
  header: string;
  fullresync: string;
}

export const payloadMutation: fc.Arbitrary<PayloadMutation> = fc.record({
  kind: fc.constantFrom<PayloadKind>('rdb-flip', 'rdb-flip', 'rdb-flip', 'len-short', 'len-long', 'eof-mismatch', 'truncated', 'bad-header', 'bad-fullresync'),
  source: fc.constantFrom('strings' as const, 'rich' as const),
  strings: rdbStrings,
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
  crc: fc.constantFrom('keep' as const, 'zero' as const, 'fix' as const),
  delta: fc.integer({ min: 1, max: 2000 }),
  at: fc.nat(),
  header: fc.constantFrom('garbage\r\n', '-ERR no way\r\n', '$abc\r\n', '$-1\r\n', '+OK\r\n', '$\r\n', '\x00\x01\x02\r\n'),
  fullresync: fc.constantFrom('+FULLRESYNC\r\n', '+FULLRESYNC abc 12\r\n', '+FULLRESYNC ' + 'f'.repeat(40) + '\r\n', '+FULLRESYNC ' + 'e'.repeat(40) + ' x\r\n'),
});

/** Applies RDB byte flips to the body and handles the trailing CRC64 as asked. */
export function flipRdb(rdb: Buffer, flips: [number, number][], crc: 'keep' | 'zero' | 'fix'): Buffer {
  const b = Buffer.from(rdb);
  const body = b.length - 8;
  // Flips land anywhere in the body, the 9-byte header included (signature/version errors).
  for (const [p, v] of flips) b[p % body] = v;
  if (crc === 'zero') b.fill(0, body);
  if (crc === 'fix') b.writeBigUInt64LE(crc64(b.subarray(0, body)), body);
  return b;
}
