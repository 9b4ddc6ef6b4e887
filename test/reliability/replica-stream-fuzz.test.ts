/**
 * Property tests of a Mirra replica against a fake master that sends (a) valid streams split at
 * random byte boundaries, (b) mutated streams, (c) mutated full-sync payloads — plus the cases
 * where only the replication timeout can end the wait (a huge claimed length, a payload that
 * never completes). See stream-fuzz.ts for the harness, stream-gen.ts for the generators.
 *
 * Runs: MIRRA_FUZZ_RUNS=<n> per property (default: a short CI run), MIRRA_FUZZ_SEED=<seed>,
 * MIRRA_FUZZ_SHRINK=1 to let fast-check shrink a counterexample (slow with processes).
 *   MIRRA_FUZZ_RUNS=500 node --test dist/test/reliability/replica-stream-fuzz.test.js
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hasRedis, startMirra, redisCli } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { rssKb, tempFiles } from './moments.js';
import { StreamFuzz, fuzzRuns, fuzzSeed, checkProperty } from './stream-fuzz.js';
import { syncPlan, streamMutation, payloadMutation, hex40, encode } from './stream-gen.js';
import { buildRdb } from '../replication/replica-fake-master.js';

const skip = !hasRedis();
let f: StreamFuzz;

before(async () => {
  if (!skip) f = await StreamFuzz.start();
});
after(async () => {
  if (f) await f.stop();
});

function options<T>(ci: number): fc.Parameters<T> {
  const seed = fuzzSeed();
  return { numRuns: fuzzRuns(ci), endOnFailure: process.env.MIRRA_FUZZ_SHRINK !== '1', ...(seed !== undefined ? { seed } : {}) };
}

function report(t: { diagnostic: (s: string) => void }): void {
  t.diagnostic(`RSS: base ${f.rssBaseKb} KB, max ${f.rssMaxKb} KB (+${f.rssMaxKb - f.rssBaseKb} KB)`);
  t.diagnostic(`outcomes: ${[...f.stats].map(([k, v]) => `${k}=${v}`).join(', ')}`);
}

test('(a) valid streams split anywhere: exactly applied (oracle digest), offsets = bytes sent', { skip }, async (t) => {
  const t0 = Date.now();
  await checkProperty(
    fc.asyncProperty(syncPlan(14), async (plan) => {
      const r = await f.takeReady();
      const { conn, end } = await f.validSync(plan, r);
      conn.close();
      const next = await f.nextReady();
      assert.deepEqual(next.psync, ['PSYNC', plan.replid, String(end + 1)]);
      f.ready = next;
      f.count('valid');
      await f.checkHealthy(192 * 1024);
    }),
    options(20),
  );
  t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
  report(t);
});

test('(b) mutated streams: no crash, bounded memory, drop + reconnect on desync, exact offsets', { skip }, async (t) => {
  const t0 = Date.now();
  await checkProperty(
    fc.asyncProperty(syncPlan(4), streamMutation, fc.array(fc.nat(), { maxLength: 8 }), async (plan, m, cuts) => {
      const r = await f.takeReady();
      const { conn, end } = await f.validSync(plan, r);
      await f.mutatedStream(m, conn, plan.replid, end, cuts);
    }),
    options(30),
  );
  t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
  report(t);
});

test('(c) mutated full-sync payloads: logged, temp file removed, retried; the replica keeps serving', { skip }, async (t) => {
  const t0 = Date.now();
  await checkProperty(
    fc.asyncProperty(payloadMutation, hex40, fc.array(fc.nat(), { maxLength: 6 }), async (m, replid, cuts) => {
      const r = await f.takeReady();
      await f.mutatedPayload(m, r, replid, cuts);
    }),
    options(25),
  );
  // And the replica still syncs properly afterwards.
  const plan = fc.sample(syncPlan(6), { numRuns: 1, seed: 7 })[0]!;
  const { conn } = await f.validSync(plan, await f.takeReady());
  conn.close();
  f.ready = await f.nextReady();
  t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
  report(t);
});

test('a bulk claiming 2 GB: memory follows the bytes sent; the link ends by repl-timeout and resumes', { skip }, async (t) => {
  const A = 'a'.repeat(40);
  const r = await f.takeReady();
  const rdb = buildRdb({ 0: [['k', 'v']] });
  r.conn.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${A} 100\r\n$${rdb.length}\r\n`), rdb]));
  await waitFor(async () => (await f.replInfo()).master_link_status === 'up', 'link up');
  assert.equal(await f.probe.call('CONFIG', 'SET', 'repl-timeout', '2'), 'OK');
  const rss0 = rssKb(f.replica.pid);
  const head = encode(['SET', 'ok', '1']);
  r.conn.write(head);
  const claim = Buffer.from('*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$2147483647\r\n');
  r.conn.write(claim);
  // 8 MB of the claimed 2 GB, in 64 KB writes.
  const chunk = Buffer.alloc(64 * 1024, 0x78);
  for (let i = 0; i < 128; i++) r.conn.write(chunk);
  const sent = head.length + claim.length + 128 * chunk.length;
  await waitFor(async () => (await f.replInfo()).slave_read_repl_offset === String(100 + sent), 'all bytes read', 15000);
  const rss1 = rssKb(f.replica.pid);
  t.diagnostic(`RSS before ${rss0} KB, after 8 MB of a 2 GB bulk ${rss1} KB (+${rss1 - rss0} KB)`);
  assert.ok(rss1 - rss0 < 64 * 1024, `RSS grew by ${rss1 - rss0} KB`);
  assert.equal((await f.replInfo()).slave_repl_offset, String(100 + head.length));
  const t0 = Date.now();
  // The master goes silent: the replica gives up after repl-timeout (checked once a second).
  await r.conn.waitClosed(6000);
  const waited = Date.now() - t0;
  t.diagnostic(`link dropped ${waited} ms after the last byte (repl-timeout 2 s)`);
  assert.match(f.replica.log(), /MASTER timeout: no data nor PING received/);
  const next = await f.nextReady();
  // Not a protocol error: the cached master continues after the last complete command.
  assert.deepEqual(next.psync, ['PSYNC', A, String(100 + head.length + 1)]);
  f.ready = next;
  assert.equal(await f.probe.call('CONFIG', 'SET', 'repl-timeout', '60'), 'OK');
  assert.equal(await f.probe.call('GET', 'ok'), '1');
});

test('a payload that never completes ($len too long, EOF mark never seen): repl-timeout, temp file removed', { skip }, async (t) => {
  assert.equal(await f.probe.call('CONFIG', 'SET', 'repl-timeout', '2'), 'OK');
  try {
    const rdb = buildRdb({ 0: [['p', 'q']] });
    for (const header of [`$${rdb.length + 10}\r\n`, `$EOF:${'e'.repeat(40)}\r\n`]) {
      const r = await f.takeReady();
      const from = f.replica.log().length;
      r.conn.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${'b'.repeat(40)} 5\r\n${header}`), rdb]));
      await waitFor(() => tempFiles(f.replica.dir).length === 1, 'the temp file exists');
      const t0 = Date.now();
      await r.conn.waitClosed(6000);
      t.diagnostic(`${header.trim()}: dropped after ${Date.now() - t0} ms`);
      assert.match(f.replica.log().slice(from), /Timeout receiving bulk data from MASTER\.\.\. If the problem persists try to set the 'repl-timeout' parameter in redis\.conf to a larger value\./);
      f.ready = await f.nextReady();
      assert.deepEqual(tempFiles(f.replica.dir), []);
    }
  } finally {
    assert.equal(await f.probe.call('CONFIG', 'SET', 'repl-timeout', '60'), 'OK');
  }
});

test('a negative payload length ($-1, $-5) is refused at once as bad protocol', { skip }, async () => {
  // A payload without any LF byte: a replica that took `$-1` for "no header yet" would read it
  // as lines and wait for a newline until repl-timeout.
  const rdb = Buffer.from('REDIS0010\xfe\x00\x00\x01k\x01v\xff' + '\x00'.repeat(8), 'latin1');
  assert.ok(!rdb.includes(10));
  for (const len of ['-1', '-5']) {
    const r = await f.takeReady();
    const from = f.replica.log().length;
    r.conn.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${'c'.repeat(40)} 0\r\n$${len}\r\n`), rdb]));
    await r.conn.waitClosed(3000);
    assert.match(f.replica.log().slice(from), new RegExp(`Bad protocol from MASTER, the payload length is invalid \\(we received '\\$${len}'\\)`));
    f.ready = await f.nextReady();
    assert.deepEqual(tempFiles(f.replica.dir), []);
  }
});

test('commands applied just before a protocol error still reach our sub-replicas and our offset', { skip }, async () => {
  const r = await f.takeReady();
  const rdb = buildRdb({ 0: [['base', '1']] });
  r.conn.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${'d'.repeat(40)} 0\r\n$${rdb.length}\r\n`), rdb, encode(['SELECT', '0'])]));
  await waitFor(async () => (await f.replInfo()).master_link_status === 'up', 'link up');
  const sub = await startMirra({ args: ['--replicaof', '127.0.0.1', String(f.replica.port)] });
  try {
    await waitFor(() => redisCli(sub.port, 'info', 'replication').includes('master_link_status:up'), 'sub-replica up');
    // One read: a valid command, then bytes no master sends.
    const set = encode(['SET', 'chained', 'yes']);
    r.conn.write(Buffer.concat([set, Buffer.from('this is not RESP\r\n')]));
    await r.conn.waitClosed(3000);
    assert.equal(await f.probe.call('GET', 'chained'), 'yes');
    const off = encode(['SELECT', '0']).length + set.length;
    assert.equal((await f.replInfo()).master_repl_offset, String(off));
    await waitFor(() => redisCli(sub.port, 'get', 'chained') === 'yes', 'the sub-replica has what its master applied');
    await waitFor(() => redisCli(sub.port, 'info', 'replication').includes(`master_repl_offset:${off}`), 'the sub-replica at the same offset');
    f.ready = await f.nextReady();
  } finally {
    await sub.stop();
  }
});
