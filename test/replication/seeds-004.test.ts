/**
 * Seed 004, literally: one master and three replicas started from config files written the way
 * the post writes them (port, pidfile, logfile, slave-read-only, slaveof), the third chained
 * behind the first. Then: a SET on the master read on all three replicas, READONLY on a
 * replica, the INFO shapes of master / middle / leaf, `redis-cli -p <middle> shutdown` leaving
 * the leaf with master_link_status:down, the leaf re-pointed with SLAVEOF to the other replica,
 * that one shut down too, and the leaf promoted with SLAVEOF NO ONE keeping its data.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { startMirra, redisCli, tempDir, type ServerHandle } from '../helpers/servers.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

function cli(port: number, ...args: string[]): string {
  return redisCli(port, ...args).trimEnd();
}

function info(port: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of redisCli(port, 'info', 'replication').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** The seed's config file for one node. */
function conf(dir: string, port: number, slaveof?: number): string {
  return [
    `pidfile ${path.join(dir, `redis_${port}.pid`)}`,
    `port ${port}`,
    `logfile "${path.join(dir, `node_${port}.log`)}"`,
    'slave-read-only yes',
    ...(slaveof !== undefined ? [`slaveof 127.0.0.1 ${slaveof}`] : []),
    '',
  ].join('\n');
}

let master: ServerHandle;
let slave1: ServerHandle; // "6380": replica of the master, master of slave3
let slave2: ServerHandle; // "6381": replica of the master
let slave3: ServerHandle; // "6383": replica of slave1
const dir = tempDir('mirra-seed004-');

before(async () => {
  const [p0, p1, p2, p3] = [await freePort(), await freePort(), await freePort(), await freePort()];
  master = await startMirra({ port: p0, dir: fs.mkdtempSync(path.join(dir, 'm-')), configText: conf(dir, p0) });
  slave1 = await startMirra({ port: p1, dir: fs.mkdtempSync(path.join(dir, 's1-')), configText: conf(dir, p1, p0) });
  slave2 = await startMirra({ port: p2, dir: fs.mkdtempSync(path.join(dir, 's2-')), configText: conf(dir, p2, p0) });
  slave3 = await startMirra({ port: p3, dir: fs.mkdtempSync(path.join(dir, 's3-')), configText: conf(dir, p3, p1) });
});
after(async () => {
  for (const s of [slave3, slave2, slave1, master]) await s?.stop();
});

test('topology comes up: master with two replicas, chained leaf', async () => {
  for (const s of [slave1, slave2, slave3]) await waitFor(() => info(s.port).master_link_status === 'up', `replica ${s.port} link up`, 20000);
  await waitFor(() => info(master.port).connected_slaves === '2', 'master sees two replicas');
  const mi = info(master.port);
  assert.equal(mi.role, 'master');
  const ports = [mi.slave0, mi.slave1].map((l) => /port=(\d+)/.exec(l!)![1]).sort();
  assert.deepEqual(ports, [String(slave1.port), String(slave2.port)].sort());
  for (const l of [mi.slave0!, mi.slave1!]) assert.match(l, /^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/);
  await waitFor(() => info(slave1.port).connected_slaves === '1', 'middle replica sees the leaf');
  const s1 = info(slave1.port);
  assert.equal(s1.role, 'slave');
  assert.equal(s1.master_port, String(master.port));
  assert.match(s1.slave0!, new RegExp(`^ip=127\\.0\\.0\\.1,port=${slave3.port},state=online,offset=\\d+,lag=\\d+$`));
  const s3 = info(slave3.port);
  assert.equal(s3.master_port, String(slave1.port));
  assert.equal(s3.connected_slaves, '0');
  assert.equal(s3.slave_read_only, '1');
  // Pid files as configured.
  assert.equal(fs.readFileSync(path.join(dir, `redis_${slave3.port}.pid`), 'utf8').trim(), String(slave3.pid));
});

test('SET on the master is read on all three replicas; READONLY on a replica', async () => {
  assert.equal(cli(master.port, 'set', 'hi', 'hello'), 'OK');
  assert.equal(cli(master.port, 'get', 'hi'), 'hello');
  for (const s of [slave1, slave2, slave3]) await waitFor(() => cli(s.port, 'get', 'hi') === 'hello', `hi on ${s.port}`);
  assert.equal(cli(slave1.port, 'set', 'x', 'y'), "READONLY You can't write against a read only replica.");
  assert.equal(cli(slave3.port, 'set', 'x', 'y'), "READONLY You can't write against a read only replica.");
});

test('chained replicas report the same replid and offsets as the top master', async () => {
  await waitFor(() => {
    const m = info(master.port);
    return [slave1, slave2, slave3].every((s) => {
      const r = info(s.port);
      return r.master_replid === m.master_replid && r.master_repl_offset === m.master_repl_offset && r.slave_repl_offset === m.master_repl_offset;
    });
  }, 'all nodes converge on the master replid and offset');
});

test('shutting down the middle replica leaves the leaf with master_link_status:down', async () => {
  cli(slave1.port, 'shutdown');
  await slave1.exited;
  await waitFor(() => info(slave3.port).master_link_status === 'down', 'leaf link down');
  const s3 = info(slave3.port);
  assert.equal(s3.master_port, String(slave1.port));
  assert.equal(s3.role, 'slave');
  assert.ok(Number(s3.master_link_down_since_seconds) >= 0);
  assert.equal(cli(slave3.port, 'get', 'hi'), 'hello');
});

test('the leaf is re-pointed with SLAVEOF to the other replica', async () => {
  assert.equal(cli(slave3.port, 'slaveof', '127.0.0.1', String(slave2.port)), 'OK');
  await waitFor(() => info(slave3.port).master_link_status === 'up', 'leaf up under slave2');
  assert.equal(info(slave3.port).master_port, String(slave2.port));
  cli(master.port, 'set', 'after', 'repoint');
  await waitFor(() => cli(slave3.port, 'get', 'after') === 'repoint', 'stream flows via slave2');
  assert.equal(cli(slave3.port, 'get', 'hi'), 'hello');
});

test('slave2 shut down too; the leaf is promoted with SLAVEOF NO ONE and keeps its data', async () => {
  cli(slave2.port, 'shutdown');
  await slave2.exited;
  await waitFor(() => info(slave3.port).master_link_status === 'down', 'leaf link down again');
  assert.equal(cli(slave3.port, 'slaveof', 'no', 'one'), 'OK');
  const s3 = info(slave3.port);
  assert.equal(s3.role, 'master');
  assert.equal(s3.connected_slaves, '0');
  assert.equal(s3.master_host, undefined);
  assert.equal(cli(slave3.port, 'get', 'hi'), 'hello');
  assert.equal(cli(slave3.port, 'get', 'after'), 'repoint');
  // Now writable.
  assert.equal(cli(slave3.port, 'set', 'x', 'y'), 'OK');
  // (The test harness points logfile at its own file, after the config file's line.)
  assert.ok(slave3.log().includes('MASTER MODE enabled (user request from'));
});
