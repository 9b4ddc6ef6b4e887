/**
 * SAVE / BGSAVE / LASTSAVE / save points / stop-writes-on-bgsave-error / loading at startup /
 * the shutdown save / crash safety, on a real Mirra process.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startMirra, tempDir, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

const started: ServerHandle[] = [];
const clients: Redis[] = [];

async function mirra(opts: Parameters<typeof startMirra>[0] = {}): Promise<{ srv: ServerHandle; c: Redis }> {
  const srv = await startMirra(opts);
  started.push(srv);
  const c = new Redis({ port: srv.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  clients.push(c);
  return { srv, c };
}

async function info(c: Redis, field: string): Promise<string> {
  const m = new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(await c.info('persistence'));
  return m ? m[1]!.trim() : '';
}

async function bgsaveDone(c: Redis): Promise<void> {
  await waitFor(async () => (await info(c, 'rdb_bgsave_in_progress')) === '0', 'BGSAVE to finish', 30000);
}

after(async () => {
  for (const c of clients) c.disconnect();
  for (const s of started) await s.stop();
});

test('SAVE, BGSAVE, LASTSAVE and INFO persistence', async () => {
  const { srv, c } = await mirra();
  await c.set('a', '1');
  await c.set('b', '2');
  assert.equal(await info(c, 'rdb_changes_since_last_save'), '2');
  assert.equal(await c.save(), 'OK');
  assert.equal(await info(c, 'rdb_changes_since_last_save'), '0');
  assert.equal(await info(c, 'rdb_saves'), '1');
  const last = await c.lastsave();
  assert.ok(Math.abs(last - Date.now() / 1000) < 5);
  assert.ok(fs.existsSync(path.join(srv.dir, 'dump.rdb')));
  await c.set('c', '3');
  assert.equal(await c.bgsave(), 'Background saving started');
  await bgsaveDone(c);
  assert.equal(await info(c, 'rdb_changes_since_last_save'), '0');
  assert.equal(await info(c, 'rdb_last_bgsave_status'), 'ok');
  assert.equal(await info(c, 'rdb_saves'), '2');
  await assert.rejects(c.call('BGSAVE', 'NOW'), /ERR syntax error/);
  const log = srv.log();
  assert.match(log, /DB saved on disk/);
  assert.match(log, /Background saving started by pid \d+/);
  assert.match(log, /Background saving terminated with success/);
  assert.ok(!fs.readdirSync(srv.dir).some((f) => f.startsWith('temp-')), 'no temp file left behind');
});

test('one background save at a time; MULTI schedules it', async () => {
  const { c } = await mirra();
  await c.call('DEBUG', 'POPULATE', '300000');
  assert.equal(await c.bgsave(), 'Background saving started');
  await assert.rejects(c.bgsave(), /ERR Background save already in progress/);
  await assert.rejects(c.call('BGSAVE', 'SCHEDULE'), /ERR Background save already in progress/);
  await assert.rejects(c.save(), /ERR Background save already in progress/);
  assert.equal(await info(c, 'rdb_bgsave_in_progress'), '1');
  assert.equal(await info(c, 'current_save_keys_total'), '300000');
  await bgsaveDone(c);
  const res = await c.multi().bgsave().exec();
  assert.deepEqual(res, [[null, 'Background saving scheduled']]);
  await waitFor(async () => (await info(c, 'rdb_saves')) === '2', 'the scheduled BGSAVE to run', 30000);
});

test('kill -9 during BGSAVE leaves the previous dump intact', async () => {
  const { srv, c } = await mirra();
  await c.set('before', 'crash');
  await c.save();
  const file = path.join(srv.dir, 'dump.rdb');
  const previous = fs.readFileSync(file);
  await c.call('DEBUG', 'POPULATE', '400000');
  assert.equal(await c.bgsave(), 'Background saving started');
  assert.equal(await info(c, 'rdb_bgsave_in_progress'), '1');
  srv.kill('SIGKILL');
  await srv.exited;
  assert.deepEqual(fs.readFileSync(file), previous);
  const again = await mirra({ dir: srv.dir });
  assert.equal(await again.c.dbsize(), 1);
  assert.equal(await again.c.get('before'), 'crash');
});

test('the dataset survives a restart: shutdown save, load at startup, NOSAVE', async () => {
  const { srv, c } = await mirra();
  await c.config('SET', 'save', '3600 1');
  await c.set('k', 'v');
  await c.set('t', 'x', 'PX', 1000000);
  await c.call('SHUTDOWN').catch(() => undefined);
  await srv.exited;
  assert.match(srv.log(), /Saving the final RDB snapshot before exiting/);
  const second = await mirra({ dir: srv.dir });
  assert.equal(await second.c.get('k'), 'v');
  assert.ok((await second.c.pttl('t')) > 0);
  assert.match(second.srv.log(), /DB loaded from disk: [0-9.]+ seconds/);
  assert.equal(await info(second.c, 'rdb_last_load_keys_loaded'), '2');
  await second.c.set('k', 'changed');
  await second.c.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
  await second.srv.exited;
  const third = await mirra({ dir: srv.dir });
  assert.equal(await third.c.get('k'), 'v');
});

test('a corrupt or truncated dump stops startup with one clear log line', async () => {
  const { srv, c } = await mirra();
  await c.call('DEBUG', 'POPULATE', '1000');
  await c.save();
  const good = fs.readFileSync(path.join(srv.dir, 'dump.rdb'));
  const cases: [string, Buffer, RegExp][] = [
    ['checksum', Buffer.concat([good.subarray(0, 200), Buffer.from([good[200]! ^ 0x55]), good.subarray(201)]), /Wrong RDB checksum|Bad|Unknown|Invalid/],
    ['truncated', good.subarray(0, good.length - 100), /Unexpected EOF reading RDB file/],
    ['magic', Buffer.concat([Buffer.from('REDIX'), good.subarray(5)]), /Wrong signature/],
    ['version', Buffer.concat([Buffer.from('REDIS0013'), good.subarray(9)]), /Can't handle RDB format version 13/],
  ];
  for (const [what, bytes, why] of cases) {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'dump.rdb'), bytes);
    const s = await startMirra({ dir, waitReady: false });
    started.push(s);
    const code = await s.exited;
    assert.notEqual(code, 0, what);
    const fatal = s.log().split('\n').filter((l) => /Fatal error loading the DB/.test(l));
    assert.equal(fatal.length, 1, `${what}: ${s.log()}`);
    assert.match(fatal[0]!, why, what);
    assert.doesNotMatch(s.log(), /Ready to accept connections/, what);
  }
});

test('save points trigger a BGSAVE', async () => {
  const { srv, c } = await mirra();
  await c.config('SET', 'save', '1 1');
  await c.set('k', 'v');
  await waitFor(async () => (await info(c, 'rdb_saves')) === '1', 'the save point to fire', 15000);
  assert.match(srv.log(), /1 changes in 1 seconds\. Saving\.\.\./);
  assert.equal(await info(c, 'rdb_changes_since_last_save'), '0');
});

test('stop-writes-on-bgsave-error refuses writes after a failed BGSAVE', async () => {
  const dir = tempDir();
  const sub = path.join(dir, 'data');
  fs.mkdirSync(sub);
  const { c } = await mirra({ dir, args: ['--dir', sub] });
  await c.config('SET', 'save', '3600 1');
  await c.set('k', 'v');
  fs.rmSync(sub, { recursive: true });
  assert.equal(await c.bgsave(), 'Background saving started');
  await bgsaveDone(c);
  assert.equal(await info(c, 'rdb_last_bgsave_status'), 'err');
  await assert.rejects(c.set('k', 'w'), /^ReplyError: MISCONF /);
  assert.equal(await c.get('k'), 'v');
  fs.mkdirSync(sub);
  assert.equal(await c.bgsave(), 'Background saving started');
  await bgsaveDone(c);
  assert.equal(await info(c, 'rdb_last_bgsave_status'), 'ok');
  assert.equal(await c.set('k', 'w'), 'OK');
});

test('DEBUG RELOAD saves, flushes and loads back the same dataset', async () => {
  const { srv, c } = await mirra();
  await c.call('DEBUG', 'POPULATE', '2000', 'k', '40');
  await c.set('e', 'x', 'PX', 1000000);
  const before = await c.call('DEBUG', 'DIGEST');
  assert.equal(await c.call('DEBUG', 'RELOAD'), 'OK');
  assert.equal(await c.call('DEBUG', 'DIGEST'), before);
  assert.ok((await c.pttl('e')) > 0);
  fs.writeFileSync(path.join(srv.dir, 'dump.rdb'), 'REDIS0010garbage');
  await assert.rejects(c.call('DEBUG', 'RELOAD', 'NOSAVE'), /ERR Error trying to load the RDB dump, check server logs\./);
  assert.equal(await c.dbsize(), 0);
});
