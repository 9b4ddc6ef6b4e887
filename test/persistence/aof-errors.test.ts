/**
 * AOF write errors in-process (a real Server with its AOF in a temp dir; the file descriptor is
 * swapped for a read-only one to make write(2) fail):
 *  - everysec: the failed data stays buffered, aof_last_write_status turns err and write
 *    commands are refused with Redis's MISCONF text; once writing works again (cron retry)
 *    everything buffered is in the file and writes are accepted again;
 *  - always: the process exits, as Redis does (the contract cannot be kept).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Config } from '../../src/config/config.js';
import { Server } from '../../src/server/server.js';
import type { Client } from '../../src/net/client.js';

async function aofServer(policy: string): Promise<{ s: Server; c: Client; incr: string; exits: number[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirra-aoferr-'));
  const config = new Config();
  config.set('dir', dir);
  config.set('appendonly', true);
  config.set('appendfsync', policy);
  const s = new Server(config);
  s.logger.level = 'nothing';
  const exits: number[] = [];
  s.onExit = (code) => void exits.push(code);
  await s.persistence.loadAtStartup();
  const c = s.createClient(null);
  return { s, c, incr: path.join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof'), exits };
}

function run(s: Server, c: Client, ...argv: string[]): string {
  s.dispatch(c, argv);
  const out = c.w.take();
  return out === null ? '' : Buffer.concat(out).toString('latin1');
}

/** Swaps the AOF's file descriptor; returns the previous one. */
function swapFd(s: Server, fd: number): number {
  const w = s.persistence.aof.writer as unknown as { fdValue: number };
  const old = w.fdValue;
  w.fdValue = fd;
  return old;
}

test('everysec: a failing write refuses writes with MISCONF until it succeeds again', async () => {
  const { s, c, incr } = await aofServer('everysec');
  assert.equal(run(s, c, 'SET', 'a', '1'), '+OK\r\n');
  const ro = fs.openSync(incr, 'r');
  const good = swapFd(s, ro);
  assert.equal(run(s, c, 'SET', 'b', '2'), '+OK\r\n'); // executed; its write fails afterwards
  assert.match(run(s, c, 'SET', 'c', '3'), /^-MISCONF Errors writing to the AOF file: Bad file descriptor\r\n$/);
  assert.equal(run(s, c, 'GET', 'a'), '$1\r\n1\r\n', 'reads still work');
  assert.ok(s.persistence.info().includes('aof_last_write_status:err'));
  swapFd(s, good);
  fs.closeSync(ro);
  s.persistence.aof.cron(); // the retry
  assert.ok(s.persistence.info().includes('aof_last_write_status:ok'));
  assert.equal(run(s, c, 'SET', 'c', '3'), '+OK\r\n');
  const text = fs.readFileSync(incr, 'latin1');
  assert.match(text, /\$1\r\na\r\n\$1\r\n1\r\n[\s\S]*\$1\r\nb\r\n\$1\r\n2\r\n[\s\S]*\$1\r\nc\r\n\$1\r\n3\r\n/);
  s.persistence.aof.stop();
  await s.persistence.aof.writer.drainBackground();
});

test('always: a write error stops the server', async () => {
  const { s, c, incr, exits } = await aofServer('always');
  assert.equal(run(s, c, 'SET', 'a', '1'), '+OK\r\n');
  const ro = fs.openSync(incr, 'r');
  const good = swapFd(s, ro);
  run(s, c, 'SET', 'b', '2');
  s.persistence.aof.writer.flush(false); // what the end of the event-loop turn does
  assert.deepEqual(exits, [1]);
  swapFd(s, good);
  fs.closeSync(ro);
  s.persistence.aof.stop();
  await s.persistence.aof.writer.drainBackground();
});
