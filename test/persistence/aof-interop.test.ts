/**
 * AOF interoperability with real redis-server 7.0 processes, both ways, compared with
 * DEBUG DIGEST:
 *  - an AOF directory written by Mirra (RDB-preamble base, then a command-form base, each
 *    with incr files holding later writes) loads in redis-server with an identical dataset;
 *  - an AOF directory written by redis-server (both base forms, writes after the rewrite,
 *    several types, expiries, several DBs, INCRBYFLOAT, MULTI) loads in Mirra identically;
 *  - the files and manifests are named and laid out exactly as Redis does.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { hasRedis, startMirra, startRedis, tempDir, type ServerHandle } from '../helpers/servers.js';
import { client, closeClients, copyDir, digest, listDir, waitRewriteDone, writeDataset } from './aof-dataset.js';

const skip = !hasRedis();
const started: ServerHandle[] = [];

after(async () => {
  closeClients();
  await Promise.all(started.map((s) => s.stop()));
});

async function start(kind: 'mirra' | 'redis', dir: string, extra: string[] = []): Promise<ServerHandle> {
  const s = await (kind === 'mirra' ? startMirra : startRedis)({ dir, args: ['--appendonly', 'yes', ...extra] });
  started.push(s);
  return s;
}

/** Starts the other server on a copy of `from`'s AOF directory and returns its digest. */
async function digestElsewhere(kind: 'mirra' | 'redis', from: ServerHandle): Promise<{ digest: string; srv: ServerHandle }> {
  const dir = tempDir('mirra-aof-copy-');
  copyDir(path.join(from.dir, 'appendonlydir'), path.join(dir, 'appendonlydir'));
  const srv = await start(kind, dir);
  return { digest: await digest(srv.port), srv };
}

test('a Mirra AOF directory loads in redis-server 7.0 with the same dataset', { skip }, async () => {
  const m = await start('mirra', tempDir('mirra-aof-m-'));
  const dir = path.join(m.dir, 'appendonlydir');
  // First start: an empty RDB base and an incr file, named as Redis names them.
  assert.deepEqual(listDir(dir), ['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
  await writeDataset(m.port, 'a');
  const c = client(m.port);
  assert.equal(await c.bgrewriteaof(), 'Background append only file rewriting started');
  await waitRewriteDone(m.port, 1);
  await writeDataset(m.port, 'b');
  assert.deepEqual(listDir(dir), ['appendonly.aof.2.base.rdb', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
  assert.equal(
    fs.readFileSync(path.join(dir, 'appendonly.aof.manifest'), 'latin1'),
    'file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
  );
  const want1 = await digest(m.port);
  const r1 = await digestElsewhere('redis', m);
  assert.equal(r1.digest, want1, 'redis loads the RDB-preamble layout');
  await r1.srv.stop();

  // Command-form base (aof-use-rdb-preamble no): 64-item batches, PEXPIREAT, streams via XADD/XSETID/XGROUP/XCLAIM.
  await c.config('SET', 'aof-use-rdb-preamble', 'no');
  await c.bgrewriteaof();
  await waitRewriteDone(m.port, 2);
  await writeDataset(m.port, 'c');
  assert.deepEqual(listDir(dir), ['appendonly.aof.3.base.aof', 'appendonly.aof.3.incr.aof', 'appendonly.aof.manifest']);
  const base = fs.readFileSync(path.join(dir, 'appendonly.aof.3.base.aof'), 'latin1');
  assert.ok(base.startsWith('*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n'), base.slice(0, 40));
  assert.match(base, /\*66\r\n\$5\r\nRPUSH\r\n/);
  assert.match(base, /\$6\r\nXSETID\r\n/);
  const want2 = await digest(m.port);
  const r2 = await digestElsewhere('redis', m);
  assert.equal(r2.digest, want2, 'redis loads the command-form layout');
  await r2.srv.stop();
  await m.stop();
});

test('a redis-server 7.0 AOF directory loads in Mirra with the same dataset', { skip }, async () => {
  const r = await start('redis', tempDir('mirra-aof-r-'));
  const c = client(r.port);
  await writeDataset(r.port, 'a');
  await c.bgrewriteaof();
  await waitRewriteDone(r.port, 1);
  await writeDataset(r.port, 'b');
  const want1 = await digest(r.port);
  const m1 = await digestElsewhere('mirra', r);
  assert.equal(m1.digest, want1, 'Mirra loads the RDB-preamble layout written by Redis');
  // Mirra goes on appending to Redis's incr file, and Redis reads the result back.
  await writeDataset(m1.srv.port, 'm');
  const wantMixed = await digest(m1.srv.port);
  const back = await digestElsewhere('redis', m1.srv);
  assert.equal(back.digest, wantMixed, 'Redis reads the incr file Mirra appended to');
  await back.srv.stop();
  await m1.srv.stop();

  await c.config('SET', 'aof-use-rdb-preamble', 'no');
  await c.bgrewriteaof();
  await waitRewriteDone(r.port, 2);
  await writeDataset(r.port, 'c');
  assert.ok(listDir(path.join(r.dir, 'appendonlydir')).includes('appendonly.aof.3.base.aof'));
  const want2 = await digest(r.port);
  const m2 = await digestElsewhere('mirra', r);
  assert.equal(m2.digest, want2, 'Mirra loads the command-form layout written by Redis');
  await m2.srv.stop();
  await r.stop();
});
