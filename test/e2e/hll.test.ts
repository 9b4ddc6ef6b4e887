/**
 * HyperLogLog interoperability with redis-server 7.0: the same random inputs (1 to 100000
 * elements, binary) must produce the same bytes and the same PFCOUNT on both servers, an HLL
 * must travel both ways (DUMP/RESTORE, plain SET, replication to a Redis replica) and keep
 * counting identically, and PFSELFTEST must not stall other clients. Reply texts and the
 * edge cases are compared by test/differential/scripts/hll.txt; propagation is checked in
 * hll-propagation.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { hasRedis, startRedis, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { seededRandom } from '../../src/util/seeded-random.js';
import { withMirraAndRedis } from '../helpers/fixtures.js';

const skip = !hasRedis() && 'redis-server is not installed';

let mirra: ServerHandle;
let m: Redis;
let r: Redis;

// No diskless-sync delay: the replica test would wait 5 s for its full sync.
withMirraAndRedis((p) => ({ mirra, m, r } = p), skip, { args: ['--repl-diskless-sync-delay', '0'] });

/** `n` random elements: binary strings of 0..24 bytes, some repeated. */
function elements(rand: () => number, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && rand() < 0.05) {
      out.push(out[(rand() * out.length) | 0]!);
      continue;
    }
    const b = Buffer.alloc((rand() * 25) | 0);
    for (let j = 0; j < b.length; j++) b[j] = (rand() * 256) | 0;
    out.push(b);
  }
  return out;
}

/** Runs the same PFADD batches on both servers; returns each server's replies. */
async function addBoth(key: string, els: Buffer[], batch = 1000): Promise<[unknown[], unknown[]]> {
  const pm = m.pipeline();
  const pr = r.pipeline();
  for (let i = 0; i < els.length; i += batch) {
    const chunk = els.slice(i, i + batch);
    pm.pfadd(key, ...chunk);
    pr.pfadd(key, ...chunk);
  }
  const [rm, rr] = await Promise.all([pm.exec(), pr.exec()]);
  return [rm!.map(([e, v]) => e?.message ?? v), rr!.map(([e, v]) => e?.message ?? v)];
}

async function sameValue(key: string): Promise<Buffer> {
  const [vm, vr] = await Promise.all([m.getBuffer(key), r.getBuffer(key)]);
  assert.ok(vr !== null && vm !== null, key);
  assert.ok(vm.equals(vr), `${key}: the bytes differ`);
  return vm;
}

test('random sets of 1..100000 elements: same PFADD replies, bytes and PFCOUNT as redis-server', { skip }, async () => {
  const rand = seededRandom(2024);
  const sizes = [1, 2, 3, 10, 50, 200, 700, 1200, 2000, 3000, 5000, 20000, 100000];
  for (let k = 0; k < 5; k++) sizes.push(1 + ((rand() * 100000) | 0));
  for (const n of sizes) {
    const key = `set:${n}`;
    const els = elements(rand, n);
    const distinct = new Set(els.map((e) => e.toString('latin1'))).size;
    const [am, ar] = await addBoth(key, els, n > 5000 ? 2000 : 97);
    assert.deepEqual(am, ar, `${key}: PFADD replies`);
    await sameValue(key);
    const [cm, cr] = await Promise.all([m.pfcount(key), r.pfcount(key)]);
    assert.equal(cm, cr, `${key}: PFCOUNT`);
    // PFCOUNT stored the cardinality in the header: the bytes still agree.
    await sameValue(key);
    assert.ok(Math.abs(cm - distinct) <= Math.max(3, distinct * 0.05), `${key}: estimate ${cm} of ${distinct}`);
  }
});

test('PFMERGE and the PFCOUNT of several keys agree with redis-server', { skip }, async () => {
  const rand = seededRandom(77);
  const keys = ['u:a', 'u:b', 'u:c', 'u:d'];
  const sizes = [40, 900, 4000, 25000];
  for (let i = 0; i < keys.length; i++) {
    const [am, ar] = await addBoth(keys[i]!, elements(rand, sizes[i]!));
    assert.deepEqual(am, ar);
  }
  const combos = [['u:a', 'u:b'], ['u:a', 'u:nosuch', 'u:c'], keys, ['u:d', 'u:a']];
  for (const ks of combos) {
    const [cm, cr] = await Promise.all([m.pfcount(...ks), r.pfcount(...ks)]);
    assert.equal(cm, cr, `PFCOUNT ${ks.join(' ')}`);
    const dest = `merged:${ks.join(',')}`;
    assert.equal(await m.pfmerge(dest, ...ks), 'OK');
    assert.equal(await r.pfmerge(dest, ...ks), 'OK');
    await sameValue(dest);
    assert.equal(await m.pfcount(dest), await r.pfcount(dest));
  }
  // Merging into an existing sparse destination.
  for (const c of [m, r]) await c.pfmerge('u:a', 'u:b');
  await sameValue('u:a');
});

test('HLLs cross between the servers (DUMP/RESTORE, SET) and keep counting identically', { skip }, async () => {
  const rand = seededRandom(5);
  for (const [from, to] of [
    [r, m],
    [m, r],
  ] as const) {
    for (const n of [30, 6000]) {
      const key = `x:${n}:${from === r ? 'r' : 'm'}`;
      await from.pfadd(key, ...elements(rand, n));
      const dump = await from.dumpBuffer(key);
      assert.equal(await to.restore(key, 0, dump), 'OK');
      // The other server reads the foreign bytes: same count, and adding more stays in step.
      assert.equal(await to.pfcount(key), await from.pfcount(key));
      const more = elements(rand, 3000);
      assert.equal(await to.pfadd(key, ...more), await from.pfadd(key, ...more));
      const [a, b] = await Promise.all([m.getBuffer(key), r.getBuffer(key)]);
      assert.ok(a!.equals(b!), `${key} differs after crossing`);
      assert.equal(await to.pfcount(key), await from.pfcount(key));
      // A plain SET of the bytes is an HLL too.
      await to.set(`${key}:copy`, (await from.getBuffer(key))!);
      assert.equal(await to.pfcount(`${key}:copy`), await from.pfcount(key));
    }
  }
});

test('a redis-server replica of Mirra receives identical HLL bytes', { skip }, async () => {
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(mirra.port)] });
  const rr = new Redis(replica.port, '127.0.0.1');
  try {
    await waitFor(async () => /master_link_status:up/.test(await rr.info('replication')), 'replica link up', 20000);
    const rand = seededRandom(11);
    await m.pfadd('rep:h', ...elements(rand, 500));
    await m.pfcount('rep:h');
    await m.pfadd('rep:h', ...elements(rand, 5000));
    await m.pfadd('rep:s', ...elements(rand, 50));
    await m.pfmerge('rep:m', 'rep:h', 'rep:s');
    await m.pfcount('rep:m');
    await m.pfcount('rep:s');
    await m.set('rep:done', '1');
    await waitFor(async () => (await rr.get('rep:done')) === '1', 'replica caught up');
    for (const key of ['rep:h', 'rep:s', 'rep:m']) {
      const [a, b] = await Promise.all([m.getBuffer(key), rr.getBuffer(key)]);
      assert.ok(a!.equals(b!), `${key} differs on the replica`);
    }
    assert.equal(await rr.pfcount('rep:m'), await m.pfcount('rep:m'));
  } finally {
    rr.disconnect();
    await replica.stop();
  }
});

test('PFSELFTEST passes without stalling other clients', { skip }, async () => {
  const tester = new Redis(mirra.port, '127.0.0.1');
  try {
    let done = false;
    // The next pipelined command of the same client waits for PFSELFTEST's reply.
    const p = Promise.all([tester.call('PFSELFTEST'), tester.ping('after')]).then((v) => {
      done = true;
      return v;
    });
    await waitFor(async () => /blocked_clients:1/.test(await m.info('clients')), 'PFSELFTEST running');
    // Meanwhile other clients are served.
    assert.equal(await m.ping(), 'PONG');
    assert.equal(done, false);
    assert.deepEqual(await p, ['OK', 'after']);
  } finally {
    tester.disconnect();
  }
});

test('CLIENT UNBLOCK abandons a running PFSELFTEST; its client carries on normally', { skip }, async () => {
  const tester = new Redis(mirra.port, '127.0.0.1');
  try {
    const id = await tester.client('ID');
    const p = tester.call('PFSELFTEST').then(String, (e: Error) => e.message);
    await waitFor(async () => /blocked_clients:1/.test(await m.info('clients')), 'PFSELFTEST running');
    assert.equal(await m.client('UNBLOCK', id, 'ERROR'), 1);
    assert.equal(await p, 'UNBLOCKED client unblocked via CLIENT UNBLOCK');
    assert.equal(await tester.ping('next'), 'next');
    assert.match(await m.info('clients'), /blocked_clients:0/);
  } finally {
    tester.disconnect();
  }
});
