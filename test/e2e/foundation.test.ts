import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startMirra, redisCli, type ServerHandle } from '../helpers/servers.js';
import { RawConn } from '../helpers/raw.js';

let srv: ServerHandle;
before(async () => {
  srv = await startMirra();
});
after(async () => {
  await srv.stop();
});

test('PING over redis-cli', () => {
  assert.equal(redisCli(srv.port, 'ping'), 'PONG');
});

test('unknown command error text', async () => {
  const c = await RawConn.connect(srv.port);
  const exp = "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n";
  assert.equal(await c.roundtrip('*3\r\n$3\r\nfoo\r\n$1\r\na\r\n$1\r\nb\r\n', exp.length), exp);
  c.close();
});

test('wrong arity error text', async () => {
  const c = await RawConn.connect(srv.port);
  const exp = "-ERR wrong number of arguments for 'echo' command\r\n";
  assert.equal(await c.roundtrip('*1\r\n$4\r\necho\r\n', exp.length), exp);
  c.close();
});

test('inline commands and pipelining', async () => {
  const c = await RawConn.connect(srv.port);
  const exp = '+PONG\r\n$2\r\nhi\r\n+PONG\r\n';
  assert.equal(await c.roundtrip('PING\r\necho "hi"\nPING\r\n', exp.length), exp);
  c.close();
});

test('protocol error closes the connection', async () => {
  const c = await RawConn.connect(srv.port);
  const exp = "-ERR Protocol error: expected '$', got 'x'\r\n";
  assert.equal(await c.roundtrip('*1\r\nx\r\n', exp.length), exp);
  assert.ok(await c.waitClosed());
});
