/**
 * What the stream commands propagate to replicas and the AOF (replication.md §5.4), checked
 * in-process like zset-propagation.test.ts. Times inside XCLAIM (TIME <ms>) vary, so they are
 * masked. The expected streams were captured from redis-server 7.0.15 with a fake replica.
 */
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from '../../src/server/server.js';
import { InProcess } from '../helpers/in-process.js';
import type { Client } from '../../src/net/client.js';

let h: InProcess;
let server: Server;
let client: Client;

beforeEach(() => {
  h = new InProcess();
  server = h.server;
  client = h.client;
});

function run(c: Client, ...argv: string[]): string {
  return h.exec(c, argv);
}

/** The propagated commands, with the TIME argument of XCLAIMs replaced by 'T'. */
function masked(): string[][] {
  return h.takeFed().map((a) => (a[0] === 'XCLAIM' && a[6] === 'TIME' ? [...a.slice(0, 7), 'T', ...a.slice(8)] : a));
}

function propagated(...argv: string[]): string[][] {
  h.fed = [];
  run(client, ...argv);
  return masked();
}

function socketClient(): { c: Client; output: () => string } {
  return h.socketClient();
}

const claim = (k: string, g: string, cons: string, id: string, n: number, last: string): string[] =>
  ['XCLAIM', k, g, cons, '0', id, 'TIME', 'T', 'RETRYCOUNT', String(n), 'FORCE', 'JUSTID', 'LASTID', last];

test('XADD is propagated with the generated ID; approximate trims become exact', () => {
  const p = propagated('xadd', 's', '*', 'f', 'v');
  assert.equal(p.length, 1);
  assert.equal(p[0]![0], 'xadd');
  assert.match(p[0]![2]!, /^\d+-0$/);
  assert.deepEqual(propagated('xadd', 's2', '5-*', 'f', 'v'), [['xadd', 's2', '5-0', 'f', 'v']]);
  assert.deepEqual(propagated('xadd', 's2', '5-*', 'f', 'v'), [['xadd', 's2', '5-1', 'f', 'v']]);
  assert.deepEqual(propagated('xadd', 's2', '6-0', 'f', 'v'), [['xadd', 's2', '6-0', 'f', 'v']]);
  assert.deepEqual(propagated('xadd', 'nos', 'nomkstream', '*', 'f', 'v'), []);
  for (let i = 1; i <= 150; i++) run(client, 'xadd', 't', `${i}-1`, 'f', 'v');
  assert.deepEqual(propagated('xadd', 't', 'MAXLEN', '~', '1', '151-1', 'f', 'v'), [['xadd', 't', 'MAXLEN', '=', '51', '151-1', 'f', 'v']]);
  assert.deepEqual(propagated('xtrim', 't', 'maxlen', '~', '10'), []);
  assert.deepEqual(propagated('xtrim', 't', 'maxlen', '10'), [['xtrim', 't', 'maxlen', '10']]);
  for (let i = 200; i <= 400; i++) run(client, 'xadd', 'u', `${i}-1`, 'f', 'v');
  assert.deepEqual(propagated('xtrim', 'u', 'minid', '~', '350'), [['xtrim', 'u', 'minid', '=', '300-1']]);
  assert.deepEqual(propagated('xdel', 'u', '300-1', '1-1'), [['xdel', 'u', '300-1', '1-1']]);
  assert.deepEqual(propagated('xdel', 'u', '1-1'), []);
});

test('XREADGROUP becomes XCLAIMs; NOACK becomes CREATECONSUMER + SETID; history reads nothing', () => {
  run(client, 'xadd', 's', '1-1', 'a', '1');
  run(client, 'xadd', 's', '2-1', 'a', '2');
  run(client, 'xadd', 's', '3-1', 'a', '3');
  assert.deepEqual(propagated('xgroup', 'create', 's', 'g', '0'), [['xgroup', 'create', 's', 'g', '0']]);
  assert.deepEqual(propagated('xreadgroup', 'group', 'g', 'c', 'count', '2', 'streams', 's', '>'), [
    ['MULTI'],
    claim('s', 'g', 'c', '1-1', 1, '1-1'),
    claim('s', 'g', 'c', '2-1', 1, '2-1'),
    ['EXEC'],
  ]);
  assert.deepEqual(propagated('xreadgroup', 'group', 'g', 'c2', 'noack', 'streams', 's', '>'), [
    ['MULTI'],
    ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c2'],
    ['XGROUP', 'SETID', 's', 'g', '3-1', 'ENTRIESREAD', '3'],
    ['EXEC'],
  ]);
  assert.deepEqual(propagated('xreadgroup', 'group', 'g', 'c3', 'streams', 's', '>'), []);
  assert.deepEqual(propagated('xreadgroup', 'group', 'g', 'c', 'streams', 's', '0'), []);
  // c3 read nothing: Redis 7.0 does not even create it.
  assert.match(run(client, 'xinfo', 'groups', 's'), /consumers\r\n:2\r\n/);
});

test('XCLAIM / XAUTOCLAIM become idempotent XCLAIMs; a moved LASTID alone becomes SETID', () => {
  run(client, 'xadd', 's', '1-1', 'a', '1');
  run(client, 'xadd', 's', '2-1', 'a', '2');
  run(client, 'xadd', 's', '3-1', 'a', '3');
  run(client, 'xgroup', 'create', 's', 'g', '0');
  run(client, 'xreadgroup', 'group', 'g', 'c', 'streams', 's', '>');
  assert.deepEqual(propagated('xclaim', 's', 'g', 'd', '0', '1', '2-1'), [claim('s', 'g', 'd', '2-1', 2, '3-1')]);
  assert.deepEqual(propagated('xclaim', 's', 'g', 'd', '0', '9-9', 'lastid', '5-5'), [['XGROUP', 'SETID', 's', 'g', '5-5', 'ENTRIESREAD', '3']]);
  run(client, 'xdel', 's', '3-1');
  assert.deepEqual(propagated('xautoclaim', 's', 'g', 'e', '0', '0'), [
    ['MULTI'],
    claim('s', 'g', 'e', '1-1', 2, '5-5'),
    claim('s', 'g', 'e', '2-1', 3, '5-5'),
    claim('s', 'g', 'c', '3-1', 1, '5-5'),
    ['EXEC'],
  ]);
  assert.deepEqual(propagated('xack', 's', 'g', '1-1', '9-9'), [['xack', 's', 'g', '1-1', '9-9']]);
  assert.deepEqual(propagated('xack', 's', 'g', '9-9'), []);
});

test('XGROUP and XSETID pass unchanged', () => {
  for (const argv of [
    ['xgroup', 'create', 's2', 'g', '$', 'mkstream'],
    ['xgroup', 'createconsumer', 's2', 'g', 'x'],
    ['xgroup', 'delconsumer', 's2', 'g', 'x'],
    ['xgroup', 'setid', 's2', 'g', '0'],
    ['xsetid', 's2', '5-5'],
    ['xgroup', 'destroy', 's2', 'g'],
  ]) {
    assert.deepEqual(propagated(...argv), [argv]);
  }
  assert.deepEqual(propagated('xgroup', 'destroy', 's2', 'g'), []);
});

test('blocked XREADGROUP readers served by XADD propagate their deliveries after it', () => {
  run(client, 'xgroup', 'create', 's', 'g', '$', 'mkstream');
  const a = socketClient();
  const b = socketClient();
  const x = socketClient();
  run(a.c, 'xreadgroup', 'group', 'g', 'c1', 'block', '0', 'streams', 's', '>');
  run(b.c, 'xreadgroup', 'group', 'g', 'c2', 'noack', 'block', '0', 'streams', 's', '>');
  run(x.c, 'xread', 'block', '0', 'streams', 's', '$');
  assert.equal(server.blocking.blockedClients, 3);
  assert.deepEqual(propagated('xadd', 's', '1-1', 'a', '1'), [['xadd', 's', '1-1', 'a', '1'], claim('s', 'g', 'c1', '1-1', 1, '1-1')]);
  assert.equal(a.output(), '*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n');
  assert.equal(x.output(), '*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n');
  assert.equal(b.output(), '');
  assert.deepEqual(propagated('xadd', 's', '2-1', 'a', '2'), [
    ['xadd', 's', '2-1', 'a', '2'],
    ['MULTI'],
    ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c2'],
    ['XGROUP', 'SETID', 's', 'g', '2-1', 'ENTRIESREAD', '2'],
    ['EXEC'],
  ]);
  assert.equal(b.output(), '*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n');
  assert.equal(server.blocking.blockedClients, 0);
});

test('destroying the group wakes its blocked readers with -NOGROUP', () => {
  run(client, 'xgroup', 'create', 's', 'g', '$', 'mkstream');
  const a = socketClient();
  run(a.c, 'xreadgroup', 'group', 'g', 'c', 'block', '0', 'streams', 's', '>');
  run(client, 'xgroup', 'destroy', 's', 'g');
  assert.equal(a.output(), '-NOGROUP the consumer group this client was blocked on no longer exists\r\n');
  assert.equal(server.blocking.blockedClients, 0);
});
