/**
 * The AOF loader in-process, against a real Server (command table, keyspace, transactions):
 * replay through the handlers, truncation rules (last file only, MULTI without EXEC reverted,
 * the file cut after the last complete command), and a property test — mutated and truncated
 * AOF files (RESP and RDB bases) never crash or hang the loader: it always ends with a status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Config } from '../../src/config/config.js';
import { Server } from '../../src/server/server.js';
import { encodeCommand } from '../../src/protocol/encode.js';
import { AofManifest } from '../../src/persistence/aof/manifest.js';
import { loadAofFiles, type AofLoadEnv, type AofLoadResult } from '../../src/persistence/aof/loader.js';
import { writeBaseSync } from '../../src/persistence/aof/base-writer.js';
import { datasetDigest } from '../../src/server/digest.js';

function newServer(): Server {
  const s = new Server(new Config());
  s.logger.level = 'nothing';
  return s;
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mirra-aofload-'));
}

function resp(...cmds: string[][]): Buffer {
  return Buffer.concat(cmds.map((c) => encodeCommand(c)));
}

async function load(server: Server, dir: string, files: [string, Buffer][], truncated = true): Promise<AofLoadResult & { error: string }> {
  const am = new AofManifest();
  files.forEach(([name, data], i) => {
    fs.writeFileSync(path.join(dir, name), data);
    if (i === 0 && name.includes('base')) am.base = { name, seq: 1, type: 'b' };
    else am.incr.push({ name, seq: i + 1, type: 'i' });
  });
  const env: AofLoadEnv = { server, dir, appendfilename: 'appendonly.aof', loadTruncated: truncated, progress: null, error: '' };
  const r = await loadAofFiles(env, am);
  return { ...r, error: env.error };
}

const incr1 = resp(
  ['SELECT', '0'],
  ['SET', 'k', 'v'],
  ['RPUSH', 'l', 'a', 'b', 'c'],
  ['SET', 'e', 'x', 'PXAT', '1000'], // long expired: kept during the replay, as in Redis
  ['INCRBY', 'e', '0'], // would fail on a non-integer: the error reply is ignored
  ['MULTI'],
  ['HSET', 'h', 'f', 'v'],
  ['INCRBYFLOAT', 'n', '1.5'],
  ['EXEC'],
  ['SELECT', '3'],
  ['ZADD', 'z', '1', 'm', '2.5', 'n'],
  ['XADD', 's', '1-1', 'f', 'v'],
  ['PUBLISH', 'ch', 'msg'],
);

test('replays commands through the handlers, without propagating them', async () => {
  const s = newServer();
  let fed = 0;
  s.propagator.localSinks.push({ feed: () => void fed++ });
  const dir = tmp();
  const r = await load(s, dir, [['appendonly.aof.1.incr.aof', incr1]]);
  assert.equal(r.status, 'ok', r.error);
  assert.equal(r.totalSize, incr1.length);
  const [db0, , , db3] = s.keyspace.dbs;
  assert.equal(db0!.dict.get('k'), 'v');
  assert.equal(db0!.dict.get('n'), '1.5');
  assert.ok(db0!.dict.has('e'), 'nothing expires while loading');
  assert.equal(db3!.dict.size, 2);
  assert.equal(fed, 0, 'nothing propagated');
  assert.equal(s.propagator.suspended, 0);
  assert.equal(s.keyspace.loading, false);
});

test('a base (RESP or RDB) then incr files', async () => {
  for (const rdb of [false, true]) {
    const src = newServer();
    src.keyspace.dbs[0]!.add('base', 'yes');
    src.keyspace.dbs[1]!.add('other', 'db');
    const dir = tmp();
    const basePath = path.join(dir, 'b');
    const fd = fs.openSync(basePath, 'w');
    writeBaseSync(src, fd, rdb);
    fs.closeSync(fd);
    const base = fs.readFileSync(basePath);
    assert.equal(base.subarray(0, 5).toString() === 'REDIS', rdb);
    const s = newServer();
    // A pre-7.0 AOF: RDB preamble followed by commands in the same file.
    const tail = resp(['SELECT', '0'], ['SET', 'tail', '1']);
    const r = await load(s, dir, [
      [`appendonly.aof.1.base.${rdb ? 'rdb' : 'aof'}`, Buffer.concat([base, tail])],
      ['appendonly.aof.1.incr.aof', incr1],
    ]);
    assert.equal(r.status, 'ok', r.error);
    assert.equal(r.baseSize, base.length + tail.length);
    assert.equal(s.keyspace.dbs[0]!.dict.get('base'), 'yes');
    assert.equal(s.keyspace.dbs[0]!.dict.get('tail'), '1');
    assert.equal(s.keyspace.dbs[1]!.dict.get('other'), 'db');
    assert.equal(s.keyspace.dbs[0]!.dict.get('k'), 'v');
  }
});

test('truncation: the last file is cut after its last complete command; earlier files are fatal', async () => {
  const cut = incr1.length - 5;
  const s = newServer();
  const dir = tmp();
  const r = await load(s, dir, [['appendonly.aof.1.incr.aof', incr1.subarray(0, cut)]]);
  assert.equal(r.status, 'truncated');
  const size = fs.statSync(path.join(dir, 'appendonly.aof.1.incr.aof')).size;
  assert.equal(size, incr1.length - encodeCommand(['PUBLISH', 'ch', 'msg']).length);

  const r2 = await load(newServer(), tmp(), [['appendonly.aof.1.incr.aof', incr1.subarray(0, cut)]], false);
  assert.equal(r2.status, 'failed');
  assert.match(r2.error, /Unexpected end of file reading the append only file appendonly\.aof\.1\.incr\.aof/);

  const r3 = await load(newServer(), tmp(), [
    ['appendonly.aof.1.incr.aof', incr1.subarray(0, cut)],
    ['appendonly.aof.2.incr.aof', incr1],
  ]);
  assert.equal(r3.status, 'failed');
  assert.match(r3.error, /the truncated file is not the last file/);
});

test('a transaction without EXEC is reverted and cut before its MULTI', async () => {
  const head = resp(['SELECT', '0'], ['SET', 'a', '1']);
  const open = Buffer.concat([head, resp(['MULTI'], ['SET', 'b', '2'])]);
  const s = newServer();
  const dir = tmp();
  const r = await load(s, dir, [['appendonly.aof.1.incr.aof', open]]);
  assert.equal(r.status, 'truncated');
  assert.equal(s.keyspace.dbs[0]!.dict.has('b'), false);
  assert.equal(fs.statSync(path.join(dir, 'appendonly.aof.1.incr.aof')).size, head.length);
});

test('fatal content: bad format, unknown and refused commands, broken RDB base', async () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.concat([resp(['SET', 'a', '1']), Buffer.from('garbage\r\n')]), /Bad file format reading the append only file/],
    [resp(['NOSUCHCMD', 'x']), /Unknown command 'NOSUCHCMD' reading the append only file/],
    [resp(['SET', 'a']), /Wrong number of arguments for 'set'/],
    [resp(['CONFIG', 'SET', 'dir', '/']), /Command 'config\|set' can't be replayed/],
    [resp(['SHUTDOWN']), /Command 'shutdown' can't be replayed/],
  ];
  for (const [data, re] of cases) {
    const r = await load(newServer(), tmp(), [['appendonly.aof.1.incr.aof', data]]);
    assert.equal(r.status, 'failed');
    assert.match(r.error, re);
  }
  const src = newServer();
  src.keyspace.dbs[0]!.add('k', 'v'.repeat(100));
  const dir = tmp();
  const fd = fs.openSync(path.join(dir, 'x'), 'w');
  writeBaseSync(src, fd, true);
  fs.closeSync(fd);
  const rdb = fs.readFileSync(path.join(dir, 'x'));
  const r = await load(newServer(), tmp(), [['appendonly.aof.1.base.rdb', rdb.subarray(0, rdb.length - 12)]]);
  assert.equal(r.status, 'failed');
  assert.match(r.error, /Error reading the RDB base file appendonly\.aof\.1\.base\.rdb, AOF loading aborted/);
});

test('a manifest file missing on disk is fatal; empty files are "empty"', async () => {
  const s = newServer();
  const dir = tmp();
  const am = new AofManifest();
  am.incr.push({ name: 'appendonly.aof.1.incr.aof', seq: 1, type: 'i' });
  const env: AofLoadEnv = { server: s, dir, appendfilename: 'appendonly.aof', loadTruncated: true, progress: null, error: '' };
  assert.equal((await loadAofFiles(env, am)).status, 'failed');
  assert.match(env.error, /Unable to obtain the AOF file appendonly\.aof\.1\.incr\.aof length/);
  fs.writeFileSync(path.join(dir, 'appendonly.aof.1.incr.aof'), '');
  assert.equal((await loadAofFiles(env, am)).status, 'empty');
});

test('property: mutated or truncated AOF files never crash or hang the loader', async () => {
  const src = newServer();
  src.keyspace.dbs[0]!.add('s', 'value');
  src.keyspace.dbs[2]!.add('t', 'x'.repeat(50));
  const dir0 = tmp();
  const fd = fs.openSync(path.join(dir0, 'b'), 'w');
  writeBaseSync(src, fd, true);
  fs.closeSync(fd);
  const rdbBase = fs.readFileSync(path.join(dir0, 'b'));
  const respBase = resp(['SELECT', '0'], ['RPUSH', 'l', 'a', 'b'], ['SADD', 'st', '1', '2'], ['PEXPIREAT', 'l', '4102444800000']);
  const statuses = new Set(['ok', 'truncated', 'failed', 'empty']);
  await fc.assert(
    fc.asyncProperty(
      fc.boolean(),
      fc.boolean(),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.option(fc.nat(), { nil: undefined }),
      async (useRdb, mutateBase, muts, cutAt) => {
        const base = Buffer.from(useRdb ? rdbBase : respBase);
        const incr = Buffer.from(incr1);
        const target = mutateBase ? base : incr;
        for (const [i, v] of muts) target[i % target.length] = v;
        const cut = cutAt === undefined ? incr : incr.subarray(0, cutAt % (incr.length + 1));
        const s = newServer();
        const t0 = Date.now();
        const r = await load(s, tmp(), [
          [`appendonly.aof.1.base.${useRdb ? 'rdb' : 'aof'}`, base],
          ['appendonly.aof.1.incr.aof', cut],
        ]);
        assert.ok(statuses.has(r.status), r.status);
        assert.ok(Date.now() - t0 < 5000, 'no hang');
        if (muts.length === 0 && cutAt === undefined) assert.equal(r.status, 'ok', r.error);
        assert.equal(s.propagator.suspended, 0);
        assert.equal(s.keyspace.loading, false);
        datasetDigest(s.keyspace.dbs); // whatever was loaded is a well-formed dataset
      },
    ),
    { numRuns: 150 },
  );
});
