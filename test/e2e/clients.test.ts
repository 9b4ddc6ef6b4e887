/**
 * Networking limits and admission, compared with the real redis-server 7.0 where the bytes can
 * be observed: bind and port (also re-bound by CONFIG SET), protected mode's decision, unix
 * sockets and their permissions, maxclients, idle timeout, tcp-keepalive, requirepass with
 * AUTH / HELLO AUTH and the NOAUTH texts, through raw sockets and real clients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startMirra, startRedis, hasRedis, tempDir, redisCli, canConnect, type ServerHandle } from '../helpers/servers.js';
import { RawConn } from '../helpers/raw.js';
import { freePort } from '../helpers/ports.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { protectedModeRefuses, PROTECTED_MODE_MSG, MAX_CLIENTS_MSG } from '../../src/net/listener.js';

const withRedis = { skip: !hasRedis() };

async function pair(args: string[] = []): Promise<[ServerHandle, ServerHandle]> {
  return Promise.all([startMirra({ args }), startRedis({ args })]);
}

async function stopAll(...s: ServerHandle[]): Promise<void> {
  await Promise.all(s.map((x) => x.stop()));
}

/** Sends a request on a new raw connection and returns what came back before `idleMs` of silence. */
async function rawReply(port: number, request: string, idleMs = 150): Promise<{ data: string; closed: boolean }> {
  const c = await RawConn.connect(port);
  c.write(request);
  const data = await c.drain(idleMs);
  const closed = c.closed;
  c.close();
  return { data, closed };
}

test('protected mode: refuses non-loopback peers when no password is set (Redis 7: whatever bind says)', () => {
  const base = { protectedMode: true, requirepass: '', unix: false };
  assert.equal(protectedModeRefuses({ ...base, remoteAddress: '10.1.2.3' }), true);
  assert.equal(protectedModeRefuses({ ...base, remoteAddress: '::ffff:192.168.0.7' }), true);
  assert.equal(protectedModeRefuses({ ...base, remoteAddress: '2001:db8::1' }), true);
  assert.equal(protectedModeRefuses({ ...base, remoteAddress: '127.0.0.1' }), false);
  assert.equal(protectedModeRefuses({ ...base, remoteAddress: '127.3.4.5' }), false);
  assert.equal(protectedModeRefuses({ ...base, remoteAddress: '::1' }), false);
  assert.equal(protectedModeRefuses({ ...base, remoteAddress: '::ffff:127.0.0.1' }), false);
  assert.equal(protectedModeRefuses({ ...base, unix: true, remoteAddress: undefined }), false);
  assert.equal(protectedModeRefuses({ ...base, requirepass: 'x', remoteAddress: '10.1.2.3' }), false);
  assert.equal(protectedModeRefuses({ ...base, protectedMode: false, remoteAddress: '10.1.2.3' }), false);
  assert.match(PROTECTED_MODE_MSG, /^-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user\. /);
  assert.ok(PROTECTED_MODE_MSG.endsWith('NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n'));
  // The exact text is the one compiled into the real redis-server 7.0.15 binary (typo included).
  const bin = spawnSync('sh', ['-c', 'strings -n 100 "$(readlink -f "$(command -v redis-server)")"'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const real = bin.status === 0 ? bin.stdout.split('\n').find((l) => l.startsWith('-DENIED Redis is running in protected mode')) : undefined;
  if (real !== undefined) assert.equal(PROTECTED_MODE_MSG, real + '\r\n');
});

test('bind: default "* -::*"; CONFIG SET bind and port re-bind at runtime, errors as Redis', withRedis, async () => {
  const [m, r] = await pair();
  const cm = await RawConn.connect(m.port);
  try {
    for (const s of [m, r]) {
      assert.equal(redisCli(s.port, 'config', 'set', 'bind', '127.0.0.1 -::1'), 'OK');
      assert.equal(redisCli(s.port, 'config', 'get', 'bind'), 'bind\n127.0.0.1 -::1');
      assert.ok(await canConnect(s.port));
    }
    // An address this host does not have.
    assert.equal(redisCli(m.port, 'config', 'set', 'bind', '192.0.2.1').trim(), redisCli(r.port, 'config', 'set', 'bind', '192.0.2.1').trim());
    assert.equal(redisCli(m.port, 'config', 'get', 'bind'), 'bind\n127.0.0.1 -::1');
    assert.ok(await canConnect(m.port), 'still listening after a refused re-bind');
    // A port in use.
    const busy = net.createServer().listen(0, '127.0.0.1');
    await new Promise((res) => busy.once('listening', res));
    const busyPort = String((busy.address() as net.AddressInfo).port);
    assert.equal(redisCli(m.port, 'config', 'set', 'port', busyPort).trim(), redisCli(r.port, 'config', 'set', 'port', busyPort).trim());
    busy.close();
    assert.ok(await canConnect(m.port));
    // A new port: the old one closes, the new one serves, existing connections stay.
    const newPort = await freePort();
    assert.equal(redisCli(m.port, 'config', 'set', 'port', String(newPort)), 'OK');
    assert.equal(redisCli(newPort, 'ping'), 'PONG');
    assert.equal(await canConnect(m.port), false);
    assert.equal(await cm.roundtrip('PING\r\n', 7), '+PONG\r\n');
    assert.equal(redisCli(newPort, 'config', 'get', 'port'), `port\n${newPort}`);
  } finally {
    cm.close();
    await stopAll(m, r);
  }
});

test('the default bind listens on every IPv4 and IPv6 address', async () => {
  const port = await freePort();
  const dir = tempDir();
  const { spawn } = await import('node:child_process');
  const { MIRRA_BIN, SERVER_NODE_FLAGS } = await import('../helpers/servers.js');
  const p = spawn(process.execPath, [...SERVER_NODE_FLAGS, MIRRA_BIN, '--port', String(port), '--dir', dir, '--save', '', '--logfile', path.join(dir, 'l')], { stdio: 'ignore' });
  try {
    await waitFor(() => canConnect(port), 'listening');
    assert.equal(redisCli(port, 'config', 'get', 'bind'), 'bind\n* -::*');
    const v6 = await new Promise<boolean>((res) => {
      const s = net.connect(port, '::1');
      s.on('connect', () => (s.destroy(), res(true)));
      s.on('error', () => res(false));
    });
    const hasV6 = await new Promise<boolean>((res) => {
      const probe = net.createServer().listen(0, '::1');
      probe.on('listening', () => (probe.close(), res(true)));
      probe.on('error', () => res(false));
    });
    assert.equal(v6, hasV6, 'IPv6 loopback served exactly when the host has IPv6');
  } finally {
    p.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('unixsocket and unixsocketperm (octal, as Redis reads it)', withRedis, async () => {
  const dir = tempDir();
  const msock = path.join(dir, 'mirra.sock');
  const rsock = path.join(dir, 'redis.sock');
  const [m, r] = await Promise.all([
    startMirra({ args: ['--unixsocket', msock, '--unixsocketperm', '700'] }),
    startRedis({ args: ['--unixsocket', rsock, '--unixsocketperm', '700'] }),
  ]);
  try {
    for (const sock of [msock, rsock]) {
      const st = fs.statSync(sock);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o700);
      assert.equal(spawnSync('redis-cli', ['-s', sock, 'ping'], { encoding: 'utf8' }).stdout, 'PONG\n');
    }
    assert.equal(redisCli(m.port, 'config', 'get', 'unixsocketperm'), redisCli(r.port, 'config', 'get', 'unixsocketperm'));
    const io = new Redis({ path: msock, maxRetriesPerRequest: 0, retryStrategy: () => null });
    assert.equal(await io.set('via-unix', '1'), 'OK');
    assert.equal(await io.get('via-unix'), '1');
    io.disconnect();
    redisCli(m.port, 'shutdown', 'nosave');
    await m.exited;
    assert.ok(!fs.existsSync(msock), 'socket file removed at shutdown');
  } finally {
    await stopAll(m, r);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('maxclients: the next connection gets Redis\'s error and is closed', withRedis, async () => {
  const [m, r] = await pair(['--maxclients', '3']);
  const held: RawConn[] = [];
  try {
    for (const s of [m, r]) {
      const mine: RawConn[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await RawConn.connect(s.port);
        assert.equal(await c.roundtrip('PING\r\n', 7), '+PONG\r\n');
        mine.push(c);
      }
      held.push(...mine);
      const over = await rawReply(s.port, 'PING\r\n');
      assert.deepEqual(over, { data: MAX_CLIENTS_MSG, closed: true });
      const info = await mine[2]!.roundtrip('INFO stats\r\n', 1);
      void info;
      const stats = (await mine[2]!.drain(100)) + info;
      assert.match(stats, /rejected_connections:[1-9]/);
      // Once a slot frees up, a new client is served again.
      mine[0]!.close();
      await waitFor(async () => (await rawReply(s.port, 'PING\r\n', 100)).data === '+PONG\r\n', 'a free slot');
    }
  } finally {
    for (const c of held) c.close();
    await stopAll(m, r);
  }
});

test('timeout: idle clients are closed; busy, subscribed and blocked clients are not', async () => {
  const srv = await startMirra({ args: ['--timeout', '1'] });
  try {
    const idle = await RawConn.connect(srv.port);
    const busy = await RawConn.connect(srv.port);
    const sub = await RawConn.connect(srv.port);
    const blocked = await RawConn.connect(srv.port);
    sub.write('SUBSCRIBE ch\r\n');
    const subscribed = '*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n';
    assert.equal(await sub.read(subscribed.length), subscribed);
    blocked.write('BLPOP timeout:list 0\r\n');
    const t0 = Date.now();
    let pings = 0;
    while (!idle.closed && Date.now() - t0 < 6000) {
      assert.equal(await busy.roundtrip('PING\r\n', 7), '+PONG\r\n');
      pings++;
      await sleep(200);
    }
    assert.ok(idle.closed, 'idle client closed');
    const waited = Date.now() - t0;
    assert.ok(waited >= 1000, `closed after ${waited} ms`);
    assert.ok(!busy.closed && !sub.closed && !blocked.closed);
    assert.ok(pings > 3);
    // The blocked client is still served when its key arrives.
    assert.equal(redisCli(srv.port, 'rpush', 'timeout:list', 'x'), '1');
    assert.equal(await blocked.read('*2\r\n$12\r\ntimeout:list\r\n$1\r\nx\r\n'.length), '*2\r\n$12\r\ntimeout:list\r\n$1\r\nx\r\n');
    for (const c of [busy, sub, blocked]) c.close();
  } finally {
    await srv.stop();
  }
});

test('tcp-keepalive: accepted sockets carry a keepalive timer of that many seconds', async () => {
  const srv = await startMirra({ args: ['--tcp-keepalive', '77'] });
  const c = await RawConn.connect(srv.port);
  try {
    assert.equal(await c.roundtrip('PING\r\n', 7), '+PONG\r\n');
    const ss = spawnSync('ss', ['-tno', 'state', 'established', `( sport = :${srv.port} )`], { encoding: 'utf8' });
    if (ss.status !== 0) return; // no ss on this host
    assert.match(ss.stdout, /timer:\(keepalive,1min(1[0-7]|[0-9])sec/);
  } finally {
    c.close();
    await srv.stop();
  }
});

test('requirepass: AUTH, HELLO AUTH and NOAUTH texts byte for byte as Redis', withRedis, async () => {
  const [m, r] = await pair(['--requirepass', 'pw']);
  try {
    const script = [
      'PING',
      'GET k',
      'HELLO',
      'HELLO 3',
      'AUTH',
      'AUTH nope',
      'AUTH default nope',
      'AUTH someone pw',
      'AUTH a b c',
      'HELLO 2 AUTH default nope',
      'HELLO 2 AUTH default pw SETNAME n',
      'PING',
      'CLIENT GETNAME',
      'AUTH pw',
      'RESET',
      'GET k',
      'QUIT',
    ];
    const req = script.map((l) => l + '\r\n').join('');
    const [a, b] = await Promise.all([rawReply(m.port, req, 300), rawReply(r.port, req, 300)]);
    const mask = (s: string) => s.replace(/\$2\r\nid\r\n:\d+\r\n/g, '$2\r\nid\r\n:N\r\n');
    assert.equal(mask(a.data), mask(b.data));
    assert.equal(a.closed, b.closed);
    // CONFIG SET requirepass: existing sessions stay authenticated, new ones must AUTH.
    const io = new Redis({ port: m.port, password: 'pw', maxRetriesPerRequest: 0, retryStrategy: () => null });
    assert.equal(await io.config('SET', 'requirepass', 'pw2'), 'OK');
    assert.equal(await io.ping(), 'PONG');
    assert.equal((await rawReply(m.port, 'PING\r\n')).data, '-NOAUTH Authentication required.\r\n');
    const nr = createClient({ socket: { port: m.port, host: '127.0.0.1', reconnectStrategy: false }, password: 'pw2' });
    await nr.connect();
    assert.equal(await nr.ping(), 'PONG');
    await nr.quit();
    assert.equal(await io.config('SET', 'requirepass', ''), 'OK');
    assert.equal((await rawReply(m.port, 'PING\r\n')).data, '+PONG\r\n');
    const [x, y] = await Promise.all([rawReply(m.port, 'AUTH pw\r\n'), rawReply(r.port, 'AUTH pw\r\nCONFIG SET requirepass ""\r\nAUTH pw\r\n')]);
    assert.equal(x.data, '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n');
    assert.ok(y.data.endsWith(x.data));
    io.disconnect();
  } finally {
    await stopAll(m, r);
  }
});
