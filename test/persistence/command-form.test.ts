/**
 * The command-form snapshot (AOF base with aof-use-rdb-preamble no): replayed into a real
 * redis-server it must build the same dataset — digest, TTLs, stream groups and PELs — as the
 * RDB form of the same snapshot loaded by another redis-server.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { everyEncoding, fill, newServer } from './dataset.js';
import { startSnapshot, memorySink } from '../../src/persistence/rdb/index.js';
import { hasRedis, startRedis, tempDir, type ServerHandle } from '../helpers/servers.js';

const skip = !hasRedis();
const started: ServerHandle[] = [];
const clients: Redis[] = [];
after(async () => {
  for (const c of clients) c.disconnect();
  for (const s of started) await s.stop();
});

test('command form replays into Redis as the same dataset as the RDB form', { skip }, async () => {
  const s = newServer();
  fill(s.keyspace.dbs[0]!, everyEncoding(s.config));
  s.keyspace.dbs[3]!.add('in3', 'x');
  s.keyspace.dbs[3]!.expires.set('in3', 4102444800000);
  const cmds = memorySink();
  await startSnapshot(s, [cmds], { format: 'commands' }).done;
  const text = cmds.buffer().toString('latin1');
  assert.ok(text.startsWith('*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n'));
  assert.match(text, /\$9\r\nPEXPIREAT\r\n\$8\r\nexpiring\r\n\$13\r\n4102444800000\r\n/);
  const rdb = memorySink();
  await startSnapshot(s, [rdb], {}).done;

  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'dump.rdb'), rdb.buffer());
  const fromRdb = await startRedis({ dir });
  const fromCmds = await startRedis();
  started.push(fromRdb, fromCmds);
  const pipe = spawnSync('redis-cli', ['-p', String(fromCmds.port), '--pipe'], { input: cmds.buffer(), encoding: 'latin1' });
  assert.equal(pipe.status, 0, pipe.stdout + pipe.stderr);
  assert.match(pipe.stdout, /errors: 0, replies: \d+/);
  const a = new Redis({ port: fromRdb.port, host: '127.0.0.1' });
  const b = new Redis({ port: fromCmds.port, host: '127.0.0.1' });
  clients.push(a, b);
  assert.equal(await b.call('DEBUG', 'DIGEST'), await a.call('DEBUG', 'DIGEST'));
  // Consumers re-created by commands are "seen" now (as in Redis's own rewrite): mask that.
  const norm = (x: unknown): unknown => {
    if (!Array.isArray(x)) return x;
    return x.map((e, i) => (i > 0 && (x[i - 1] === 'seen-time' || x[i - 1] === 'idle') ? 0 : norm(e)));
  };
  for (const k of ['stream', 'stream-empty', 'stream-big-ids']) {
    assert.deepEqual(norm(await b.call('XINFO', 'STREAM', k, 'FULL')), norm(await a.call('XINFO', 'STREAM', k, 'FULL')), k);
  }
  await b.select(3);
  assert.ok((await b.pttl('in3')) > 0);
});
