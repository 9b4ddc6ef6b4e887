/**
 * What the string and generic commands propagate to replicas and the AOF (replication.md §5.4),
 * checked in-process: a Server that never listens, one client without a socket, and a sink on
 * the propagator that records every fed command. The cached clock is frozen per command so the
 * absolute times of the PXAT/PEXPIREAT rewrites are known exactly.
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

/** Runs a command; returns its raw reply. */
function run(...argv: string[]): string {
  return h.exec(client, argv);
}

/** Runs a command on the plain client and returns what it propagated. */
function propagated(...argv: string[]): string[][] {
  return h.propagated(...argv);
}

function now(): number {
  return server.clock.ms;
}

test('SET with an expire becomes SET k v PXAT <abs>, other options dropped', () => {
  const t = now();
  assert.deepEqual(propagated('set', 'k', 'v', 'EX', '100'), [['SET', 'k', 'v', 'PXAT', String(t + 100000)]]);
  assert.deepEqual(propagated('set', 'k', 'v', 'px', '1500', 'xx'), [['SET', 'k', 'v', 'PXAT', String(t + 1500)]]);
  assert.deepEqual(propagated('set', 'k', 'v', 'exat', '4102444800'), [['SET', 'k', 'v', 'PXAT', '4102444800000']]);
  assert.deepEqual(propagated('set', 'k', 'v', 'PXAT', '4102444800123', 'GET'), [['SET', 'k', 'v', 'PXAT', '4102444800123']]);
});

test('SET ... GET without expire drops every GET token; plain SET passes unchanged', () => {
  assert.deepEqual(propagated('set', 'k5', 'v5', 'nx', 'get'), [['set', 'k5', 'v5', 'nx']]);
  assert.deepEqual(propagated('set', 'k5', 'v6', 'GET', 'get', 'KEEPTTL'), [['set', 'k5', 'v6', 'KEEPTTL']]);
  assert.deepEqual(propagated('set', 'k1', 'v1'), [['set', 'k1', 'v1']]);
  // NX on an existing key changes nothing: nothing is propagated.
  assert.deepEqual(propagated('set', 'k1', 'x', 'NX'), []);
});

test('SETEX / PSETEX become SET PXAT', () => {
  const t = now();
  assert.deepEqual(propagated('setex', 'a', '10', 'v'), [['SET', 'a', 'v', 'PXAT', String(t + 10000)]]);
  assert.deepEqual(propagated('psetex', 'a', '250', 'v'), [['SET', 'a', 'v', 'PXAT', String(t + 250)]]);
});

test('EXPIRE family becomes PEXPIREAT; PEXPIREAT passes unchanged; past times become DEL/UNLINK', () => {
  run('set', 'k', 'v');
  const t = now();
  assert.deepEqual(propagated('expire', 'k', '50'), [['PEXPIREAT', 'k', String(t + 50000)]]);
  assert.deepEqual(propagated('pexpire', 'k', '70000', 'GT'), [['PEXPIREAT', 'k', String(t + 70000)]]);
  assert.deepEqual(propagated('expireat', 'k', '4102444800'), [['PEXPIREAT', 'k', '4102444800000']]);
  assert.deepEqual(propagated('pexpireat', 'k', '4102444800001'), [['pexpireat', 'k', '4102444800001']]);
  assert.deepEqual(propagated('expire', 'k', '10', 'NX'), []);
  assert.deepEqual(propagated('expire', 'missing', '10'), []);
  assert.deepEqual(propagated('expire', 'k', '-1'), [['DEL', 'k']]);
  assert.equal(run('exists', 'k'), ':0\r\n');
  server.config.set('lazyfree-lazy-expire', true);
  run('set', 'k', 'v');
  assert.deepEqual(propagated('pexpireat', 'k', '1'), [['UNLINK', 'k']]);
});

test('GETEX: PEXPIREAT, DEL for a past time, PERSIST only when a TTL was removed', () => {
  run('set', 'g', 'v');
  const t = now();
  assert.deepEqual(propagated('getex', 'g'), []);
  assert.deepEqual(propagated('getex', 'g', 'EX', '20'), [['PEXPIREAT', 'g', String(t + 20000)]]);
  assert.deepEqual(propagated('getex', 'g', 'PERSIST'), [['PERSIST', 'g']]);
  assert.deepEqual(propagated('getex', 'g', 'PERSIST'), []);
  assert.deepEqual(propagated('getex', 'g', 'PXAT', '1'), [['DEL', 'g']]);
  assert.equal(run('exists', 'g'), ':0\r\n');
});

test('GETDEL → DEL (UNLINK with lazyfree-lazy-user-del), GETSET → SET, INCRBYFLOAT → SET KEEPTTL', () => {
  run('set', 'd', 'v');
  assert.deepEqual(propagated('getdel', 'd'), [['DEL', 'd']]);
  assert.deepEqual(propagated('getdel', 'd'), []);
  server.config.set('lazyfree-lazy-user-del', true);
  run('set', 'd', 'v');
  assert.deepEqual(propagated('getdel', 'd'), [['UNLINK', 'd']]);
  assert.deepEqual(propagated('getset', 'gs', 'v1'), [['SET', 'gs', 'v1']]);
  assert.deepEqual(propagated('incrbyfloat', 'f', '1.5'), [['SET', 'f', '1.5', 'KEEPTTL']]);
  assert.deepEqual(propagated('incrbyfloat', 'f', '0.1'), [['SET', 'f', '1.6', 'KEEPTTL']]);
});

test('no-op writes propagate nothing; FLUSHDB, FLUSHALL and SWAPDB always do', () => {
  assert.deepEqual(propagated('del', 'nothing'), []);
  assert.deepEqual(propagated('persist', 'nothing'), []);
  assert.deepEqual(propagated('rename', 'nothing', 'x'), []);
  assert.deepEqual(propagated('append', 'a', ''), [['append', 'a', '']]);
  assert.deepEqual(propagated('setrange', 'missing', '3', ''), []);
  assert.deepEqual(propagated('flushdb'), [['flushdb']]);
  assert.deepEqual(propagated('flushall', 'async'), [['flushall', 'async']]);
  assert.deepEqual(propagated('swapdb', '0', '1'), [['swapdb', '0', '1']]);
  assert.deepEqual(propagated('swapdb', '2', '2'), [['swapdb', '2', '2']]);
});

test('FLUSHALL counts removed keys plus one in the dirty counter, FLUSHDB only the keys', () => {
  run('mset', 'a', '1', 'b', '2', 'c', '3');
  const before = server.keyspace.dirty;
  run('flushdb');
  assert.equal(server.keyspace.dirty - before, 3);
  run('mset', 'a', '1', 'b', '2');
  const before2 = server.keyspace.dirty;
  run('flushall');
  assert.equal(server.keyspace.dirty - before2, 3);
});

test('a write on a lazily expired key propagates its DEL first, wrapped with the write', () => {
  run('set', 'ex1', 'v', 'PXAT', '1');
  assert.deepEqual(propagated('set', 'ex1', 'y'), [['MULTI'], ['DEL', 'ex1'], ['set', 'ex1', 'y'], ['EXEC']]);
});

test('MSET counts one change per pair, RENAME one change for two events', () => {
  const d0 = server.keyspace.dirty;
  run('mset', 'a', '1', 'b', '2', 'c', '3');
  assert.equal(server.keyspace.dirty - d0, 3);
  const d1 = server.keyspace.dirty;
  run('rename', 'a', 'z');
  assert.equal(server.keyspace.dirty - d1, 1);
});
