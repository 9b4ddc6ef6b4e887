/**
 * What the sorted-set and SORT commands propagate to replicas and the AOF (replication.md §5.4),
 * checked in-process: a Server that never listens and a sink on the propagator that records
 * every fed command. Blocked clients get a stub socket (socket-less clients never block).
 *
 * The expected streams were captured from redis-server 7.0.15 with a fake replica (PSYNC).
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

test('zset writes pass unchanged; no-ops are not propagated', () => {
  assert.deepEqual(propagated('zadd', 'z', '1', 'a'), [['zadd', 'z', '1', 'a']]);
  assert.deepEqual(propagated('zadd', 'z', '1', 'a'), []);
  assert.deepEqual(propagated('zadd', 'z', 'incr', '1', 'a'), [['zadd', 'z', 'incr', '1', 'a']]);
  assert.deepEqual(propagated('zincrby', 'z', '1', 'a'), [['zincrby', 'z', '1', 'a']]);
  assert.deepEqual(propagated('zadd', 'z', 'nx', '5', 'a'), []);
  assert.deepEqual(propagated('zrangestore', 'd2', 'z', '0', '-1'), [['zrangestore', 'd2', 'z', '0', '-1']]);
  assert.deepEqual(propagated('zunionstore', 'd3', '1', 'z'), [['zunionstore', 'd3', '1', 'z']]);
  assert.deepEqual(propagated('zinterstore', 'd3', '2', 'z', 'nosuch'), [['zinterstore', 'd3', '2', 'z', 'nosuch']]);
  assert.deepEqual(propagated('zinterstore', 'd3', '2', 'z', 'nosuch'), []);
  assert.deepEqual(propagated('zrem', 'z', 'a'), [['zrem', 'z', 'a']]);
  assert.deepEqual(propagated('zrem', 'z', 'a'), []);
  assert.deepEqual(propagated('zremrangebyscore', 'nosuch', '0', '1'), []);
});

test('ZPOPMIN/ZPOPMAX pass unchanged; ZMPOP and BZMPOP become ZPOP* with the count popped', () => {
  run(client, 'zadd', 'z', '1', 'a', '2', 'b');
  assert.deepEqual(propagated('zmpop', '1', 'z', 'min', 'count', '10'), [['ZPOPMIN', 'z', '2']]);
  run(client, 'zadd', 'z', '1', 'a', '2', 'b', '3', 'c');
  assert.deepEqual(propagated('zpopmax', 'z', '10'), [['zpopmax', 'z', '10']]);
  run(client, 'zadd', 'z', '1', 'a', '2', 'b', '3', 'c');
  assert.deepEqual(propagated('bzmpop', '0', '1', 'z', 'max', 'count', '5'), [['ZPOPMAX', 'z', '3']]);
  run(client, 'zadd', 'z', '1', 'a', '2', 'b');
  assert.deepEqual(propagated('bzpopmin', 'nosuch', 'z', '0'), [['ZPOPMIN', 'z']]);
  assert.deepEqual(propagated('zmpop', '1', 'nosuch', 'min'), []);
});

test('clients served after ZADD propagate their pops separately, in blocking order', () => {
  const a = socketClient();
  const b = socketClient();
  const m = socketClient();
  run(a.c, 'bzmpop', '0', '1', 'w', 'min', 'count', '2');
  run(b.c, 'bzpopmax', 'w', '0');
  run(m.c, 'bzpopmin', 'other', 'w', '0');
  assert.equal(server.blocking.blockedClients, 3);
  assert.deepEqual(propagated('zadd', 'w', '1', 'a', '2', 'b', '3', 'c', '4', 'd'), [
    ['zadd', 'w', '1', 'a', '2', 'b', '3', 'c', '4', 'd'],
    ['ZPOPMIN', 'w', '2'],
    ['ZPOPMAX', 'w'],
    ['ZPOPMIN', 'w'],
  ]);
  assert.equal(a.output(), '*2\r\n$1\r\nw\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n');
  assert.equal(b.output(), '*3\r\n$1\r\nw\r\n$1\r\nd\r\n$1\r\n4\r\n');
  assert.equal(m.output(), '*3\r\n$1\r\nw\r\n$1\r\nc\r\n$1\r\n3\r\n');
  assert.equal(run(client, 'exists', 'w'), ':0\r\n');
  assert.equal(server.blocking.blockedClients, 0);
});

test('a zset created by a store wakes its waiters; a wrong type keeps them waiting', () => {
  const a = socketClient();
  run(a.c, 'bzpopmin', 'dst', '0');
  run(client, 'set', 'dst', 'x');
  assert.equal(server.blocking.blockedClients, 1);
  run(client, 'zadd', 'src', '5', 'm');
  assert.deepEqual(propagated('zunionstore', 'dst', '1', 'src'), [['zunionstore', 'dst', '1', 'src'], ['ZPOPMIN', 'dst']]);
  assert.equal(a.output(), '*3\r\n$3\r\ndst\r\n$1\r\nm\r\n$1\r\n5\r\n');
});

test('inside MULTI the blocking pops answer their timeout reply at once', () => {
  const a = socketClient();
  let out = run(a.c, 'multi');
  out += run(a.c, 'bzpopmin', 'nokey', '0');
  out += run(a.c, 'bzmpop', '0', '1', 'nokey', 'max');
  out += run(a.c, 'exec');
  assert.equal(out, '+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n*-1\r\n*-1\r\n');
  assert.equal(server.blocking.blockedClients, 0);
});

test('SORT ... STORE is a write propagated as sent, also when it deletes the destination', () => {
  run(client, 'rpush', 'l', '3', '1', '2');
  assert.deepEqual(propagated('sort', 'l', 'store', 'dst'), [['sort', 'l', 'store', 'dst']]);
  assert.deepEqual(propagated('sort', 'l', 'limit', '5', '5', 'store', 'dst'), [['sort', 'l', 'limit', '5', '5', 'store', 'dst']]);
  assert.deepEqual(propagated('sort', 'l', 'limit', '5', '5', 'store', 'dst'), []);
  assert.deepEqual(propagated('sort', 'l'), []);
});
