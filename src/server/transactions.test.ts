/**
 * In-process tests of MULTI/EXEC/WATCH: a Server without sockets, clients without sockets,
 * replies read straight from the reply writer, propagation captured by a local sink.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Config } from '../config/config.js';
import { Server } from './server.js';
import type { Client } from '../net/client.js';
import { isExecuting } from './transactions.js';

function setup(): { server: Server; ops: string[][]; run: (c: Client, ...argv: string[]) => string; client: () => Client } {
  const server = new Server(new Config());
  const ops: string[][] = [];
  server.propagator.localSinks.push({ feed: (db, argv) => ops.push([String(db), ...argv]) });
  const run = (c: Client, ...argv: string[]): string => {
    server.dispatch(c, argv);
    const chunks = c.w.take();
    return chunks === null ? '' : Buffer.concat(chunks).toString('latin1');
  };
  return { server, ops, run, client: () => server.createClient(null) };
}

test('EXEC propagates MULTI … EXEC around several writes, a single write alone, reads not at all', () => {
  const { server, ops, run, client } = setup();
  const c = client();
  run(c, 'MULTI');
  run(c, 'SET', 'a', '1');
  run(c, 'GET', 'a');
  assert.equal(run(c, 'EXEC'), '*2\r\n+OK\r\n$1\r\n1\r\n');
  assert.deepEqual(ops, [['0', 'SET', 'a', '1']]);
  ops.length = 0;
  run(c, 'MULTI');
  run(c, 'SET', 'b', '1');
  run(c, 'SELECT', '2');
  run(c, 'SET', 'c', '1');
  assert.equal(run(c, 'EXEC'), '*3\r\n+OK\r\n+OK\r\n+OK\r\n');
  assert.deepEqual(ops, [
    ['0', 'MULTI'],
    ['0', 'SET', 'b', '1'],
    ['2', 'SET', 'c', '1'],
    ['0', 'EXEC'],
  ]);
  ops.length = 0;
  run(c, 'MULTI');
  run(c, 'GET', 'a');
  run(c, 'EXEC');
  assert.deepEqual(ops, []);
  server.stop();
});

test('PUBLISH inside a transaction is propagated with the writes', () => {
  const { server, ops, run, client } = setup();
  const c = client();
  run(c, 'MULTI');
  run(c, 'PUBLISH', 'ch', 'm');
  run(c, 'SET', 'e', '1');
  assert.equal(run(c, 'EXEC'), '*2\r\n:0\r\n+OK\r\n');
  assert.deepEqual(ops, [
    ['0', 'MULTI'],
    ['0', 'PUBLISH', 'ch', 'm'],
    ['0', 'SET', 'e', '1'],
    ['0', 'EXEC'],
  ]);
  server.stop();
});

test('queue-time errors abort EXEC; runtime errors do not stop the other commands', () => {
  const { server, run, client } = setup();
  const c = client();
  run(c, 'MULTI');
  assert.equal(run(c, 'SET', 'a'), "-ERR wrong number of arguments for 'set' command\r\n");
  assert.equal(run(c, 'SET', 'a', '1'), '+QUEUED\r\n');
  assert.equal(run(c, 'EXEC'), '-EXECABORT Transaction discarded because of previous errors.\r\n');
  assert.equal(run(c, 'GET', 'a'), '$-1\r\n');
  run(c, 'SET', 's', 'x');
  run(c, 'MULTI');
  run(c, 'INCR', 's');
  run(c, 'SET', 'a', '2');
  assert.equal(run(c, 'EXEC'), '*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n');
  assert.equal(run(c, 'EXEC', 'x'), "-ERR wrong number of arguments for 'exec' command\r\n");
  run(c, 'MULTI');
  assert.equal(run(c, 'EXEC', 'x'), "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n");
  assert.equal(c.flags.multi, false);
  server.stop();
});

test('WATCH: a write by anyone, including the watcher, fails EXEC with a null reply', () => {
  const { server, run, client } = setup();
  const a = client();
  const b = client();
  run(a, 'WATCH', 'k');
  run(b, 'SET', 'k', '1');
  run(a, 'MULTI');
  run(a, 'SET', 'x', '1');
  assert.equal(run(a, 'EXEC'), '*-1\r\n');
  assert.equal(run(a, 'GET', 'x'), '$-1\r\n');
  run(a, 'WATCH', 'k');
  run(a, 'SET', 'k', '2');
  run(a, 'MULTI');
  assert.equal(run(a, 'EXEC'), '*-1\r\n');
  // UNWATCH clears a dirty CAS; a watch in another db is not touched.
  run(a, 'WATCH', 'k');
  run(b, 'SET', 'k', '3');
  run(a, 'UNWATCH');
  run(a, 'MULTI');
  assert.equal(run(a, 'EXEC'), '*0\r\n');
  run(a, 'SELECT', '1');
  run(a, 'WATCH', 'k');
  run(b, 'SET', 'k', '4');
  run(a, 'MULTI');
  assert.equal(run(a, 'EXEC'), '*0\r\n');
  server.stop();
});

test('WATCH and expiry: a key that expires after WATCH fails EXEC, one already expired does not', () => {
  const { server, run, client } = setup();
  server.activeExpireEnabled = false;
  const a = client();
  const t0 = server.clock.ms;
  run(a, 'SET', 'k', 'v', 'PX', '100');
  run(a, 'WATCH', 'k');
  server.clock.ms = t0 + 200;
  run(a, 'MULTI');
  run(a, 'PING');
  assert.equal(run(a, 'EXEC'), '*-1\r\n');
  // Already expired when watched: deleting it later is no logical change.
  run(a, 'SET', 'j', 'v', 'PX', '100');
  server.clock.ms = t0 + 400;
  run(a, 'WATCH', 'j');
  assert.equal(run(a, 'GET', 'j'), '$-1\r\n'); // lazy expiry deletes it
  run(a, 'MULTI');
  run(a, 'PING');
  assert.equal(run(a, 'EXEC'), '*1\r\n+PONG\r\n');
  server.stop();
});

test('FLUSH/SWAPDB notifications mark watchers of keys that exist (before the change)', () => {
  const { server, run, client } = setup();
  const a = client();
  const tx = server.tx;
  const [db0, db1] = server.keyspace.dbs as [typeof server.keyspace.dbs[0], typeof server.keyspace.dbs[0]];
  run(a, 'WATCH', 'missing');
  tx.dbsChanged([db0]);
  run(a, 'MULTI');
  assert.equal(run(a, 'EXEC'), '*0\r\n');
  run(a, 'SET', 'k', '1');
  run(a, 'WATCH', 'k');
  tx.dbsChanged([db0]);
  run(a, 'MULTI');
  assert.equal(run(a, 'EXEC'), '*-1\r\n');
  // SWAPDB: the watched key is missing here but exists in the db that replaces this one.
  run(a, 'SELECT', '1');
  run(a, 'SET', 'only1', 'x');
  run(a, 'SELECT', '0');
  run(a, 'WATCH', 'only1');
  tx.dbsChanged([db0, db1], [db1, db0]);
  run(a, 'MULTI');
  assert.equal(run(a, 'EXEC'), '*-1\r\n');
  server.stop();
});

test('nested MULTI and WATCH inside MULTI are errors that do not abort the transaction', () => {
  const { server, run, client } = setup();
  const a = client();
  assert.equal(run(a, 'MULTI'), '+OK\r\n');
  assert.equal(run(a, 'MULTI'), '-ERR MULTI calls can not be nested\r\n');
  assert.equal(run(a, 'WATCH', 'x'), '-ERR WATCH inside MULTI is not allowed\r\n');
  assert.equal(run(a, 'PING'), '+QUEUED\r\n');
  assert.equal(run(a, 'EXEC'), '*1\r\n+PONG\r\n');
  assert.equal(run(a, 'EXEC'), '-ERR EXEC without MULTI\r\n');
  assert.equal(run(a, 'DISCARD'), '-ERR DISCARD without MULTI\r\n');
  run(a, 'MULTI');
  run(a, 'SET', 'z', '1');
  assert.equal(run(a, 'DISCARD'), '+OK\r\n');
  assert.equal(run(a, 'GET', 'z'), '$-1\r\n');
  server.stop();
});

test('isExecuting is true only while EXEC runs the queued commands', () => {
  const { server, run, client } = setup();
  const a = client();
  const seen: boolean[] = [];
  server.keyspace.addListener({ keyModified: () => seen.push(isExecuting(a) && a.flags.multi) });
  run(a, 'SET', 'k', '1');
  run(a, 'MULTI');
  run(a, 'SET', 'k', '2');
  run(a, 'EXEC');
  assert.deepEqual(seen, [false, true]);
  assert.equal(isExecuting(a), false);
  server.stop();
});
