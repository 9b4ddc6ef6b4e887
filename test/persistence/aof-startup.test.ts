/**
 * AOF startup on real processes, Mirra next to redis-server 7.0 on identical copies:
 *  - truncated last incr file: loads what is complete with aof-load-truncated yes (file cut),
 *    refuses to start with no;
 *  - corrupt manifest / corrupt incr content: non-zero exit with Redis's message;
 *  - a pre-7.0 single appendonly.aof (RDB preamble + commands) is upgraded into the directory
 *    layout exactly as Redis does it;
 *  - appendonly yes ignores dump.rdb when there is no AOF yet, as Redis does.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { hasRedis, startMirra, startRedis, tempDir, type ServerHandle } from '../helpers/servers.js';
import { encodeCommand } from '../../src/protocol/encode.js';
import { client, closeClients, copyDir, digest, listDir, writeDataset } from './aof-dataset.js';

const skip = !hasRedis();
const started: ServerHandle[] = [];

after(async () => {
  closeClients();
  await Promise.all(started.map((s) => s.stop()));
});

async function run(kind: 'mirra' | 'redis', dir: string, args: string[] = []): Promise<ServerHandle> {
  const s = await (kind === 'mirra' ? startMirra : startRedis)({ dir, args: ['--appendonly', 'yes', ...args] });
  started.push(s);
  return s;
}

/** Starts a server expected to refuse the directory; returns its exit code and log. */
async function refuses(kind: 'mirra' | 'redis', dir: string, args: string[] = []): Promise<{ code: number | null; log: string }> {
  const s = await (kind === 'mirra' ? startMirra : startRedis)({ dir, args: ['--appendonly', 'yes', ...args], waitReady: false });
  started.push(s);
  const code = await Promise.race([s.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10000))]);
  assert.notEqual(code, 'timeout', `${kind} should have exited:\n${s.log()}`);
  return { code: code as number | null, log: s.log() };
}

/** A Mirra-written AOF directory: dataset, then a few last commands in the incr file. */
async function makeAof(): Promise<{ dir: string; incr: string; lastCmd: Buffer }> {
  const s = await run('mirra', tempDir('mirra-aof-src-'));
  await writeDataset(s.port, 'a');
  const c = client(s.port);
  await c.set('last', 'x'.repeat(100));
  s.kill('SIGKILL');
  await s.exited;
  const incr = path.join(s.dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  return { dir: s.dir, incr, lastCmd: encodeCommand(['set', 'last', 'x'.repeat(100)]) };
}

function copyOf(dir: string): string {
  const to = tempDir('mirra-aof-copy-');
  copyDir(path.join(dir, 'appendonlydir'), path.join(to, 'appendonlydir'));
  return to;
}

test('a truncated last incr file: loaded with aof-load-truncated yes, refused with no', { skip }, async () => {
  const { dir, incr, lastCmd } = await makeAof();
  const full = fs.statSync(incr).size;
  fs.truncateSync(incr, full - 30); // cut inside the last SET
  const forRedis = copyOf(dir);
  const forNo = copyOf(dir);

  const m = await run('mirra', dir);
  assert.match(m.log(), /Truncating the AOF appendonly\.aof\.1\.incr\.aof at offset \d+/);
  assert.match(m.log(), /AOF appendonly\.aof\.1\.incr\.aof loaded anyway because aof-load-truncated is enabled/);
  assert.equal(fs.statSync(incr).size, full - lastCmd.length);
  const mc = client(m.port);
  assert.equal(await mc.exists('last'), 0);
  assert.equal(await mc.get('str:a'), 'hello-a');
  const r = await run('redis', forRedis);
  assert.equal(await digest(m.port), await digest(r.port), 'same dataset as redis-server from the same truncated file');

  const no = await refuses('mirra', forNo, ['--aof-load-truncated', 'no']);
  assert.notEqual(no.code, 0);
  assert.match(no.log, /Unexpected end of file reading the append only file appendonly\.aof\.1\.incr\.aof/);
  assert.equal(fs.statSync(path.join(forNo, 'appendonlydir', 'appendonly.aof.1.incr.aof')).size, full - 30, 'untouched');
  const rno = await refuses('redis', copyOf(forNo), ['--aof-load-truncated', 'no']);
  assert.notEqual(rno.code, 0);
});

test('corrupt manifest or incr content: a clear error and a non-zero exit, as redis-server', { skip }, async () => {
  const { dir } = await makeAof();
  const cases: { name: string; mutate: (d: string) => void; message: RegExp }[] = [
    {
      name: 'path in manifest',
      mutate: (d) => fs.appendFileSync(path.join(d, 'appendonlydir', 'appendonly.aof.manifest'), 'file ../x seq 9 type i\n'),
      message: /FATAL AOF MANIFEST FILE ERROR[\s\S]*at line 3[\s\S]*File can't be a path, just a filename/,
    },
    {
      name: 'manifest without final newline',
      mutate: (d) => {
        const f = path.join(d, 'appendonlydir', 'appendonly.aof.manifest');
        fs.writeFileSync(f, fs.readFileSync(f, 'latin1').trimEnd());
      },
      message: /The AOF manifest file contains too long line/,
    },
    {
      name: 'listed file missing',
      mutate: (d) => fs.appendFileSync(path.join(d, 'appendonlydir', 'appendonly.aof.manifest'), 'file appendonly.aof.7.incr.aof seq 7 type i\n'),
      message: /Unable to obtain the AOF file appendonly\.aof\.7\.incr\.aof length/,
    },
    {
      name: 'garbage in the incr file',
      mutate: (d) => {
        const f = path.join(d, 'appendonlydir', 'appendonly.aof.1.incr.aof');
        const b = fs.readFileSync(f);
        fs.writeFileSync(f, Buffer.concat([b.subarray(0, 50), Buffer.from('garbage\r\n'), b.subarray(50)]));
      },
      message: /Bad file format reading the append only file appendonly\.aof\.1\.incr\.aof/,
    },
  ];
  for (const k of cases) {
    const d1 = copyOf(dir);
    k.mutate(d1);
    const d2 = copyOf(d1);
    const m = await refuses('mirra', d1);
    assert.notEqual(m.code, 0, k.name);
    assert.match(m.log, k.message, k.name);
    const r = await refuses('redis', d2);
    assert.notEqual(r.code, 0, `redis refuses too: ${k.name}`);
  }
});

test('a pre-7.0 appendonly.aof is upgraded into the directory layout, as Redis does', { skip }, async () => {
  // Build an old-style file: an RDB preamble (from a SAVE) followed by commands.
  const src = await run('redis', tempDir('mirra-aof-old-'), ['--appendonly', 'no']);
  await writeDataset(src.port, 'a');
  await client(src.port).save();
  const rdb = fs.readFileSync(path.join(src.dir, 'dump.rdb'));
  await src.stop();
  const old = Buffer.concat([rdb, encodeCommand(['SELECT', '0']), encodeCommand(['SET', 'tail', 'yes']), encodeCommand(['INCRBYFLOAT', 'float:a', '1'])]);
  const dm = tempDir('mirra-aof-upg-');
  const dr = tempDir('mirra-aof-upg-');
  fs.writeFileSync(path.join(dm, 'appendonly.aof'), old);
  fs.writeFileSync(path.join(dr, 'appendonly.aof'), old);
  const m = await run('mirra', dm);
  const r = await run('redis', dr);
  assert.match(m.log(), /Successfully migrated an old-style AOF into the AOF directory \(appendonlydir\)/);
  assert.equal(fs.existsSync(path.join(dm, 'appendonly.aof')), false);
  assert.deepEqual(listDir(path.join(dm, 'appendonlydir')), listDir(path.join(dr, 'appendonlydir')));
  assert.equal(
    fs.readFileSync(path.join(dm, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1'),
    fs.readFileSync(path.join(dr, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1'),
  );
  assert.equal(await client(m.port).get('tail'), 'yes');
  assert.equal(await digest(m.port), await digest(r.port));
  // And it restarts from the new layout.
  await client(m.port).set('after', 'upgrade');
  const want = await digest(m.port);
  m.kill('SIGKILL');
  await m.exited;
  const m2 = await run('mirra', dm);
  assert.equal(await digest(m2.port), want);
});

test('appendonly yes with no AOF yet ignores dump.rdb and creates the layout, as Redis', { skip }, async () => {
  const src = await run('mirra', tempDir('mirra-aof-rdb-'), ['--appendonly', 'no']);
  await client(src.port).set('in-rdb', '1');
  await client(src.port).save();
  await src.stop();
  const m = await run('mirra', src.dir);
  assert.equal(await client(m.port).dbsize(), 0);
  assert.deepEqual(listDir(path.join(src.dir, 'appendonlydir')), ['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
  assert.match(m.log(), /Creating AOF base file appendonly\.aof\.1\.base\.rdb on server start/);
});
