/**
 * Bad starts that test/e2e (daemon, config-cli) and test/persistence (rdb-lifecycle,
 * aof-startup) do not already cover:
 *
 *  - dump.rdb whose structure is corrupt (random byte changes with the checksum recomputed or
 *    zeroed, so the parser itself meets them): the server either refuses with exactly one
 *    "Fatal error loading the DB" line and a non-zero exit — never a stack trace — or starts and
 *    reads every loaded value back without harm;
 *  - a mutated AOF manifest, next to redis-server on an identical copy: both refuse, or both
 *    start with the same dataset (DEBUG DIGEST); a refusal is one clear line, no stack trace;
 *  - a corrupt AOF base file, dump.rdb being a directory, appendonlydir being a regular file.
 *
 * MIRRA_FUZZ_RUNS scales the random cases (default a short CI run), MIRRA_FUZZ_SEED fixes them.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { hasRedis, startMirra, startRedis, tempDir, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { Resp } from '../replication/resilience-helpers.js';
import { client, closeClients, copyDir, writeDataset } from '../persistence/aof-dataset.js';
import { readBack, fuzzRuns, fuzzSeed } from './stream-fuzz.js';
import { flipRdb } from './stream-gen.js';

const skip = !hasRedis();
const started: ServerHandle[] = [];
after(async () => {
  closeClients();
  for (const s of started) await s.stop();
});

/** A dump of every type and encoding, made by redis-server. */
let goodRdb: Buffer;
/** An AOF directory (base + incr) made by Mirra. */
let aofSource: string;

before(async () => {
  if (skip) return;
  const r = await startRedis({});
  started.push(r);
  await writeDataset(r.port, 'a');
  const c = client(r.port);
  await c.rpush('big:list', ...Array.from({ length: 300 }, (_, i) => `item-${i}`));
  await c.save();
  goodRdb = fs.readFileSync(path.join(r.dir, 'dump.rdb'));
  await r.stop();
  const m = await startMirra({ args: ['--appendonly', 'yes'] });
  started.push(m);
  await writeDataset(m.port, 'a');
  const mc = client(m.port);
  await mc.call('BGREWRITEAOF');
  await waitFor(async () => /aof_rewrite_in_progress:0/.test(await mc.info('persistence')) && /aof_rewrite_scheduled:0/.test(await mc.info('persistence')), 'rewrite');
  await mc.set('after', 'rewrite');
  await mc.hset('h:after', 'f', 'v');
  closeClients();
  await m.stop();
  aofSource = m.dir;
});

type Outcome = { kind: 'exited'; code: number | null } | { kind: 'ready' };

/** Waits until the server exits or is ready to accept connections. */
async function outcome(s: ServerHandle): Promise<Outcome> {
  let code: number | null | undefined;
  void s.exited.then((c) => (code = c));
  await waitFor(() => code !== undefined || s.log().includes('Ready to accept connections'), `outcome of ${s.kind}`, 20000);
  if (code !== undefined) return { kind: 'exited', code };
  // Loading may still go on after "Ready" (a replica's or a big dataset): wait for the end.
  await waitFor(
    async () => code !== undefined || /loading:0/.test(String(await call(s.port, 'INFO', 'persistence'))),
    'loading finished',
    20000,
  );
  return code !== undefined ? { kind: 'exited', code } : { kind: 'ready' };
}

async function call(port: number, ...argv: string[]): Promise<unknown> {
  const c = await Resp.open(port);
  try {
    return await c.call(...argv);
  } finally {
    c.close();
  }
}

function assertNoStackTrace(log: string, what: string): void {
  assert.doesNotMatch(log, /^\s+at .+[(:]\d+/m, `${what}: a stack trace in the output:\n${log.slice(-2000)}`);
  assert.doesNotMatch(log, /\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/, `${what}: a JS exception in the output`);
}

/** One warning line that says why, in the server's log format. */
function assertOneFatalLine(log: string, re: RegExp, what: string): void {
  const lines = log.split('\n').filter((l) => re.test(l));
  assert.equal(lines.length, 1, `${what}: expected one line matching ${re}:\n${log.slice(-2000)}`);
}

/** Every key of every DB read back with its type's commands, then DEBUG DIGEST. */
async function sweep(port: number): Promise<void> {
  const c = await Resp.open(port);
  try {
    const ks = String(await c.call('INFO', 'keyspace'));
    for (const m of ks.matchAll(/^db(\d+):/gm)) {
      await c.call('SELECT', m[1]!);
      let cursor = '0';
      do {
        const r = (await c.call('SCAN', cursor, 'COUNT', '500')) as [string, string[]];
        cursor = r[0];
        for (const k of r[1]) await readBack(c, k);
      } while (cursor !== '0');
    }
    assert.match(String(await c.call('DEBUG', 'DIGEST')), /^[0-9a-f]{40}$/);
  } finally {
    c.close();
  }
}

test('corrupt dump.rdb at startup: one fatal line and a non-zero exit, or a dataset that reads back safely', { skip }, async (t) => {
  const seen = new Map<string, number>();
  const seed = fuzzSeed();
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.constantFrom('fix' as const, 'zero' as const, 'keep' as const),
      async (flips, crc) => {
        const dir = tempDir('mirra-badrdb-');
        fs.writeFileSync(path.join(dir, 'dump.rdb'), flipRdb(goodRdb, flips, crc));
        const s = await startMirra({ dir, waitReady: false });
        started.push(s);
        const o = await outcome(s);
        const log = s.log();
        assertNoStackTrace(log, 'startup');
        if (o.kind === 'exited') {
          assert.notEqual(o.code, 0);
          assertOneFatalLine(log, /Fatal error loading the DB/, 'refused dump');
          const why = /Fatal error loading the DB[^:]*: (.*)/.exec(log)![1]!.replace(/[(:].*$/, '').replace(/\d+/g, 'N').slice(0, 50);
          seen.set(why, (seen.get(why) ?? 0) + 1);
        } else {
          await sweep(s.port);
          seen.set('started', (seen.get('started') ?? 0) + 1);
        }
        await s.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    ),
    { numRuns: fuzzRuns(12), endOnFailure: true, ...(seed !== undefined ? { seed } : {}) },
  );
  t.diagnostic(`outcomes: ${[...seen].map(([k, v]) => `${k} ×${v}`).join('; ')}`);
});

/** Manifest mutations: what a torn write, a bad edit or a disk error could leave. */
const manifestMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.oneof(fc.integer({ min: 32, max: 126 }), fc.constantFrom(0, 10, 13, 9, 255)) }),
  fc.record({ kind: fc.constant('drop-line' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dup-line' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('add-line' as const),
    at: fc.nat(),
    line: fc.constantFrom(
      'file appendonly.aof.1.base.rdb seq 1 type b',
      'file appendonly.aof.9.incr.aof seq 9 type i',
      'file x seq -1 type i',
      'file a b c',
      'seq 2 type i file y',
      '# a comment',
      '',
      'file "quoted name" seq 3 type h',
      'file appendonly.aof.2.incr.aof seq 99999999999999999999 type i',
      'x'.repeat(2000),
    ),
  }),
);

function mutateManifest(text: string, m: { kind: string; at: number; byte?: number; line?: string }): string {
  const lines = text.split('\n');
  const i = m.at % Math.max(1, lines.length - 1);
  switch (m.kind) {
    case 'flip': {
      const b = Buffer.from(text, 'latin1');
      b[m.at % b.length] = m.byte!;
      return b.toString('latin1');
    }
    case 'drop-line':
      lines.splice(i, 1);
      return lines.join('\n');
    case 'dup-line':
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    case 'truncate':
      return text.slice(0, m.at % text.length);
    default:
      lines.splice(i, 0, m.line!);
      return lines.join('\n');
  }
}

test('mutated AOF manifest: Mirra refuses exactly when redis-server does, with one clear line; else the same dataset', { skip }, async (t) => {
  const manifestPath = (d: string) => path.join(d, 'appendonlydir', 'appendonly.aof.manifest');
  const original = fs.readFileSync(manifestPath(aofSource), 'latin1');
  const seen = new Map<string, number>();
  const seed = fuzzSeed();
  await fc.assert(
    fc.asyncProperty(manifestMutation, async (mut) => {
      const text = mutateManifest(original, mut);
      const dirs = [tempDir('mirra-badman-'), tempDir('redis-badman-')];
      for (const d of dirs) {
        copyDir(path.join(aofSource, 'appendonlydir'), path.join(d, 'appendonlydir'));
        fs.writeFileSync(manifestPath(d), text, 'latin1');
      }
      const m = await startMirra({ dir: dirs[0]!, args: ['--appendonly', 'yes'], waitReady: false });
      const r = await startRedis({ dir: dirs[1]!, args: ['--appendonly', 'yes'], waitReady: false });
      started.push(m, r);
      const [mo, ro] = await Promise.all([outcome(m), outcome(r)]);
      const what = `${mut.kind} → ${JSON.stringify(text)}`;
      assertNoStackTrace(m.log(), what);
      assert.equal(mo.kind, ro.kind, `${what}: mirra ${mo.kind}, redis ${ro.kind}\nmirra:\n${m.log().slice(-1500)}\nredis:\n${r.log().slice(-1500)}`);
      if (mo.kind === 'exited') {
        assert.notEqual(mo.code, 0);
        // The reason is a warning line (or Redis's FATAL AOF MANIFEST block).
        assert.match(m.log(), / # .*(AOF|append only|manifest)/i, what);
        seen.set('both refused', (seen.get('both refused') ?? 0) + 1);
      } else {
        assert.equal(String(await call(m.port, 'DEBUG', 'DIGEST')), String(await call(r.port, 'DEBUG', 'DIGEST')), `${what}: same dataset`);
        seen.set('both started', (seen.get('both started') ?? 0) + 1);
      }
      await m.stop();
      await r.stop();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }),
    { numRuns: fuzzRuns(12), endOnFailure: true, ...(seed !== undefined ? { seed } : {}) },
  );
  t.diagnostic(`outcomes: ${[...seen].map(([k, v]) => `${k} ×${v}`).join('; ')}`);
});

test('a corrupt AOF base file: non-zero exit, one clear line, no stack trace (as redis-server)', { skip }, async () => {
  const dirs = [tempDir('mirra-badbase-'), tempDir('redis-badbase-')];
  for (const d of dirs) {
    copyDir(path.join(aofSource, 'appendonlydir'), path.join(d, 'appendonlydir'));
    const base = fs.readdirSync(path.join(d, 'appendonlydir')).find((f) => f.includes('.base.'))!;
    const file = path.join(d, 'appendonlydir', base);
    const b = fs.readFileSync(file);
    fs.writeFileSync(file, b.subarray(0, Math.floor(b.length / 2)));
  }
  const m = await startMirra({ dir: dirs[0]!, args: ['--appendonly', 'yes'], waitReady: false });
  const r = await startRedis({ dir: dirs[1]!, args: ['--appendonly', 'yes'], waitReady: false });
  started.push(m, r);
  const [mo, ro] = await Promise.all([outcome(m), outcome(r)]);
  assert.equal(ro.kind, 'exited');
  assert.equal(mo.kind, 'exited', m.log().slice(-1500));
  assert.notEqual((mo as { code: number | null }).code, 0);
  assertNoStackTrace(m.log(), 'corrupt base');
  assert.match(m.log(), / # .*(Unexpected EOF|Bad file format|Fatal error|Unrecoverable)/);
});

test('dump.rdb that is a directory, appendonlydir that is a file: one line, exit 1, no stack trace (as redis-server)', { skip }, async () => {
  const cases: { name: string; prepare: (d: string) => void; args: string[]; line: RegExp }[] = [
    { name: 'dump.rdb is a directory', prepare: (d) => fs.mkdirSync(path.join(d, 'dump.rdb')), args: [], line: /Fatal error loading the DB/ },
    {
      name: 'appendonlydir is a file',
      prepare: (d) => fs.writeFileSync(path.join(d, 'appendonlydir'), 'x'),
      args: ['--appendonly', 'yes'],
      line: /Can't open or create append-only dir appendonlydir: /,
    },
  ];
  for (const k of cases) {
    const outs: Outcome[] = [];
    let mlog = '';
    for (const kind of ['mirra', 'redis'] as const) {
      const d = tempDir(`${kind}-badstart-`);
      k.prepare(d);
      const s = await (kind === 'mirra' ? startMirra : startRedis)({ dir: d, args: k.args, waitReady: false });
      started.push(s);
      outs.push(await outcome(s));
      if (kind === 'mirra') mlog = s.log();
    }
    assert.deepEqual(outs[0], { kind: 'exited', code: 1 }, `${k.name}: ${mlog.slice(-1500)}`);
    assert.equal(outs[1]!.kind, 'exited', `${k.name}: redis refuses too`);
    assertNoStackTrace(mlog, k.name);
    assertOneFatalLine(mlog, k.line, k.name);
  }
});
