/**
 * What the list, hash and set commands propagate to replicas and the AOF (replication.md §5.4),
 * checked in-process: a Server that never listens and a sink on the propagator that records
 * every fed command. Blocked clients need a socket (socket-less internal clients never block),
 * so they get a stub one that records what is written to it.
 *
 * The expected streams were captured from redis-server 7.0.15 with a fake replica.
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

/** Runs a command on the plain client and returns what it propagated. */
function propagated(...argv: string[]): string[][] {
  return h.propagated(...argv);
}

function socketClient(): { c: Client; output: () => string } {
  return h.socketClient();
}

test('LPOP/RPOP with count pass unchanged; no-ops are not propagated', () => {
  run(client, 'rpush', 'l', 'a', 'b', 'c', 'd', 'e', 'f');
  assert.deepEqual(propagated('lpop', 'l', '2'), [['lpop', 'l', '2']]);
  assert.deepEqual(propagated('rpop', 'l', '1'), [['rpop', 'l', '1']]);
  assert.deepEqual(propagated('lpop', 'l', '0'), []);
  assert.deepEqual(propagated('lpop', 'nokey', '2'), []);
  assert.deepEqual(propagated('ltrim', 'l', '0', '-1'), []);
  assert.deepEqual(propagated('lrem', 'l', '0', 'zz'), []);
  assert.deepEqual(propagated('linsert', 'l', 'before', 'zz', 'x'), []);
  assert.deepEqual(propagated('lpushx', 'nokey', 'x'), []);
  assert.deepEqual(propagated('lpop', 'l', '100'), [['lpop', 'l', '100']]);
});

test('LMPOP and the non-blocking paths of the blocking commands are rewritten', () => {
  run(client, 'rpush', 'k', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
  assert.deepEqual(propagated('lmpop', '2', 'nokey', 'k', 'left', 'count', '2'), [['LPOP', 'k', '2']]);
  assert.deepEqual(propagated('blpop', 'k', '0'), [['LPOP', 'k']]);
  assert.deepEqual(propagated('brpop', 'k', '0'), [['RPOP', 'k']]);
  assert.deepEqual(propagated('blmove', 'k', 'd', 'LEFT', 'right', '0'), [['LMOVE', 'k', 'd', 'LEFT', 'right']]);
  assert.deepEqual(propagated('brpoplpush', 'k', 'd', '0'), [['RPOPLPUSH', 'k', 'd']]);
  // The count propagated is what was popped, not what was asked.
  assert.deepEqual(propagated('blmpop', '0', '1', 'k', 'RIGHT', 'COUNT', '10'), [['RPOP', 'k', '2']]);
  assert.deepEqual(propagated('lmove', 'd', 'd2', 'left', 'left'), [['lmove', 'd', 'd2', 'left', 'left']]);
});

test('clients served after a push propagate their pops separately, in blocking order', () => {
  const a = socketClient();
  const b = socketClient();
  const m = socketClient();
  const r = socketClient();
  const p = socketClient();
  run(a.c, 'blpop', 'k', '0');
  run(b.c, 'brpop', 'k', '0');
  run(m.c, 'blmove', 'k', 'dst', 'RIGHT', 'LEFT', '0');
  run(r.c, 'brpoplpush', 'k', 'dst2', '0');
  run(p.c, 'blmpop', '0', '1', 'k', 'right', 'count', '3');
  assert.equal(server.blocking.blockedClients, 5);
  assert.deepEqual(propagated('rpush', 'k', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), [
    ['rpush', 'k', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
    ['LPOP', 'k'],
    ['RPOP', 'k'],
    ['LMOVE', 'k', 'dst', 'right', 'left'],
    ['RPOPLPUSH', 'k', 'dst2'],
    ['RPOP', 'k', '3'],
  ]);
  assert.equal(server.blocking.blockedClients, 0);
  assert.equal(a.output(), '*2\r\n$1\r\nk\r\n$1\r\na\r\n');
  assert.equal(b.output(), '*2\r\n$1\r\nk\r\n$1\r\nh\r\n');
  assert.equal(m.output(), '$1\r\ng\r\n');
  assert.equal(r.output(), '$1\r\nf\r\n');
  assert.equal(p.output(), '*2\r\n$1\r\nk\r\n*3\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n');
  assert.equal(run(client, 'lrange', 'k', '0', '-1'), '*1\r\n$1\r\nb\r\n');
});

test('a push inside MULTI serves waiters after EXEC; BLMOVE targets wake their own waiters', () => {
  const a = socketClient();
  const w = socketClient();
  run(a.c, 'blmove', 'src', 'mid', 'left', 'left', '0');
  run(w.c, 'blpop', 'mid', '0');
  run(client, 'multi');
  run(client, 'rpush', 'src', 'x');
  run(client, 'rpush', 'other', 'y');
  h.fed = [];
  run(client, 'exec');
  assert.deepEqual(h.fed, [
    ['MULTI'],
    ['rpush', 'src', 'x'],
    ['rpush', 'other', 'y'],
    ['EXEC'],
    ['LMOVE', 'src', 'mid', 'left', 'left'],
    ['LPOP', 'mid'],
  ]);
  assert.equal(a.output(), '$1\r\nx\r\n');
  assert.equal(w.output(), '*2\r\n$3\r\nmid\r\n$1\r\nx\r\n');
  assert.equal(run(client, 'exists', 'src', 'mid'), ':0\r\n');
});

test('inside MULTI a blocking command answers its timeout reply at once', () => {
  const a = socketClient();
  let out = run(a.c, 'multi');
  out += run(a.c, 'blpop', 'nokey', '0');
  out += run(a.c, 'blmove', 'nokey', 'x', 'left', 'left', '0');
  out += run(a.c, 'blmpop', '0', '1', 'nokey', 'left');
  out += run(a.c, 'exec');
  assert.equal(out, '+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n*-1\r\n$-1\r\n*-1\r\n');
  assert.equal(server.blocking.blockedClients, 0);
});

test('a closed client stops waiting; the next waiter is served', () => {
  const a = socketClient();
  const b = socketClient();
  run(a.c, 'blpop', 'k', '0');
  run(b.c, 'blpop', 'k', '0');
  a.c.close();
  assert.equal(server.blocking.blockedClients, 1);
  run(client, 'rpush', 'k', 'v');
  assert.equal(b.output(), '*2\r\n$1\r\nk\r\n$1\r\nv\r\n');
  assert.equal(a.output(), '');
});

test('BLMOVE whose destination has the wrong type answers WRONGTYPE when served', () => {
  const a = socketClient();
  run(a.c, 'blmove', 'src', 'dst', 'left', 'left', '0');
  run(client, 'set', 'dst', 'string');
  assert.deepEqual(propagated('rpush', 'src', 'x'), [['rpush', 'src', 'x']]);
  assert.equal(a.output(), '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  assert.equal(run(client, 'llen', 'src'), ':1\r\n');
  assert.equal(server.blocking.blockedClients, 0);
});

test('a waiter of the wrong type keeps waiting; CLIENT UNBLOCK API releases it', () => {
  const a = socketClient();
  run(a.c, 'blpop', 'k', '0');
  run(client, 'sadd', 'k', 'm');
  assert.equal(server.blocking.blockedClients, 1);
  assert.ok(server.blocking.clientUnblock(a.c, false));
  assert.equal(a.output(), '*-1\r\n');
  run(a.c, 'blpop', 'k2', '0');
  assert.ok(server.blocking.clientUnblock(a.c, true));
  assert.equal(a.output(), '-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
  assert.ok(!server.blocking.clientUnblock(a.c, true));
});

test('SPOP becomes SREM; with a count one SREM per member in MULTI/EXEC, or DEL', () => {
  run(client, 'sadd', 's', '1', '2', '3', '4', '5');
  const one = propagated('spop', 's');
  assert.equal(one.length, 1);
  assert.equal(one[0]![0], 'SREM');
  assert.equal(one[0]![1], 's');
  const two = propagated('spop', 's', '2');
  assert.equal(two.length, 4);
  assert.deepEqual(two[0], ['MULTI']);
  assert.deepEqual(two[3], ['EXEC']);
  assert.equal(two[1]![0], 'SREM');
  const single = propagated('spop', 's', '1');
  assert.equal(single.length, 1);
  assert.equal(single[0]![0], 'SREM');
  assert.deepEqual(propagated('spop', 's', '10'), [['DEL', 's']]);
  assert.deepEqual(propagated('spop', 's', '1'), []);
  assert.deepEqual(propagated('srem', 'nokey', 'a'), []);
  run(client, 'sadd', 't', 'a');
  assert.deepEqual(propagated('sadd', 't', 'a'), []);
  assert.deepEqual(propagated('smove', 't', 'u', 'zz'), []);
});

test('HINCRBYFLOAT becomes HSET with the new value; other hash writes pass unchanged', () => {
  run(client, 'hset', 'h', 'f', '1.5');
  assert.deepEqual(propagated('hincrbyfloat', 'h', 'f', '1'), [['HSET', 'h', 'f', '2.5']]);
  assert.deepEqual(propagated('hincrbyfloat', 'h', 'g', '0.1'), [['HSET', 'h', 'g', '0.1']]);
  assert.deepEqual(propagated('hincrby', 'h', 'n', '1'), [['hincrby', 'h', 'n', '1']]);
  assert.deepEqual(propagated('hsetnx', 'h', 'f', 'x'), []);
  assert.deepEqual(propagated('hdel', 'h', 'nosuch'), []);
  assert.deepEqual(propagated('hincrby', 'h', 'f', 'x'), []);
});

test('SWAPDB makes keys waited on ready when the incoming database has them', () => {
  const a = socketClient();
  run(a.c, 'blpop', 'k', '0');
  run(client, 'select', '1');
  run(client, 'rpush', 'k', 'from-db1');
  assert.equal(server.blocking.blockedClients, 1);
  h.fed = [];
  run(client, 'swapdb', '0', '1');
  assert.equal(a.output(), '*2\r\n$1\r\nk\r\n$8\r\nfrom-db1\r\n');
  assert.deepEqual(h.fed.at(-1), ['LPOP', 'k']);
  run(client, 'select', '0');
});
