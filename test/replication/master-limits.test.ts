/**
 * Master-side limits and lifecycles: client-output-buffer-limit for a replica that stops
 * reading (memory stays bounded), repl-timeout, repl-backlog-ttl, WAIT inside MULTI and on a
 * replica, PSYNC on a replica whose link is down, redis-cli --replica, and SHUTDOWN waiting
 * for lagging replicas (with SHUTDOWN ABORT).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { startMirra, redisCli, hasRedis, type ServerHandle } from '../helpers/servers.js';
import { waitFor, sleep } from '../helpers/wait.js';
import { RawConn } from '../helpers/raw.js';
import { FakeReplica } from './master-fake-replica.js';

let srv: ServerHandle;
let cli: Redis;
const cleanup: (() => void | Promise<void>)[] = [];

function info(port: number, section = 'replication'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of redisCli(port, 'info', section).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** A fake replica taken through a diskless full sync and its first ACK. */
async function onlineReplica(port: number, listeningPort: number): Promise<{ r: FakeReplica; offset: number }> {
  const r = await FakeReplica.connect(port);
  cleanup.push(() => r.close());
  await r.handshake({ port: listeningPort });
  r.send('PSYNC', '?', '-1');
  const m = /^\+FULLRESYNC [0-9a-f]{40} (\d+)$/.exec((await r.lineAfterKeepalives()).line);
  assert.ok(m);
  await r.rdbEof();
  const offset = Number(m[1]);
  r.send('REPLCONF', 'ACK', String(offset));
  await waitFor(
    () => Object.entries(info(port)).some(([k, v]) => /^slave\d+$/.test(k) && v.includes(`port=${listeningPort},state=online`)),
    'replica online',
  );
  return { r, offset };
}

before(async () => {
  srv = await startMirra({ args: ['--repl-diskless-sync-delay', '0', '--repl-ping-replica-period', '1000'] });
  cli = new Redis({ port: srv.port, host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: 1 });
});

after(async () => {
  for (const f of cleanup) await f();
  cli.disconnect();
  await srv.stop();
});

test('a replica that stops reading is disconnected by client-output-buffer-limit; memory stays bounded', async () => {
  redisCli(srv.port, 'config', 'set', 'client-output-buffer-limit', 'replica 2mb 1mb 60');
  const { r } = await onlineReplica(srv.port, 7790);
  r.sock.pause();
  const value = 'v'.repeat(500 * 1024);
  for (let i = 0; i < 80 && !r.closed && info(srv.port).connected_slaves !== '0'; i++) {
    await cli.set(`big${i % 4}`, value);
  }
  await waitFor(() => info(srv.port).connected_slaves === '0', 'the slow replica to be disconnected');
  assert.match(srv.log(), /Client id=\d+ .* scheduled to be closed ASAP for overcoming of output buffer limits\./);
  const i = info(srv.port);
  assert.ok(Number(i.repl_backlog_histlen) < 1024 * 1024 + 600 * 1024, `backlog trimmed (${i.repl_backlog_histlen})`);
  redisCli(srv.port, 'config', 'set', 'client-output-buffer-limit', 'replica 256mb 64mb 60');
});

test('repl-timeout drops a replica that stopped acknowledging', async () => {
  const { r } = await onlineReplica(srv.port, 7791);
  redisCli(srv.port, 'config', 'set', 'repl-timeout', '1');
  try {
    assert.ok(await r.waitClosed(6000), 'replica dropped');
    assert.match(srv.log(), /Disconnecting timedout replica \(streaming sync\): 127\.0\.0\.1:7791/);
  } finally {
    redisCli(srv.port, 'config', 'set', 'repl-timeout', '60');
  }
});

test('repl-backlog-ttl frees the backlog of a master left alone and starts a new history', async () => {
  await waitFor(() => info(srv.port).connected_slaves === '0', 'no replicas');
  const before = info(srv.port);
  assert.equal(before.repl_backlog_active, '1');
  redisCli(srv.port, 'config', 'set', 'repl-backlog-ttl', '1');
  try {
    await waitFor(() => info(srv.port).repl_backlog_active === '0', 'the backlog to be freed', 6000);
    const i = info(srv.port);
    assert.notEqual(i.master_replid, before.master_replid);
    assert.equal(i.master_replid2, '0'.repeat(40));
    assert.equal(i.repl_backlog_first_byte_offset, '0');
    assert.equal(i.repl_backlog_histlen, '0');
    assert.match(srv.log(), /Replication backlog freed after 1 seconds without connected replicas\./);
    // Without a backlog writes do not move the offset.
    const off = i.master_repl_offset;
    await cli.set('no-backlog', '1');
    assert.equal(info(srv.port).master_repl_offset, off);
  } finally {
    redisCli(srv.port, 'config', 'set', 'repl-backlog-ttl', '3600');
  }
});

test('WAIT inside MULTI answers at once', async () => {
  const res = await cli.multi().set('m', '1').wait(1, 1000).exec();
  assert.deepEqual(res, [
    [null, 'OK'],
    [null, 0],
  ]);
});

test('redis-cli --replica prints the commands of the stream', { skip: !hasRedis() }, async () => {
  const child = spawn('redis-cli', ['-p', String(srv.port), '--replica'], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.push(() => {
    child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('Logging commands from master'), `redis-cli to be synced (${out})`);
  await cli.set('seen-by-cli', 'yes');
  await waitFor(() => out.includes('"set","seen-by-cli","yes"'), 'the command in redis-cli output');
  child.kill('SIGKILL');
  await waitFor(() => info(srv.port).connected_slaves === '0', 'redis-cli gone');
});

test('WAIT on a replica, PSYNC to a replica without its master link', async () => {
  const rep = await startMirra({ args: ['--replicaof', '127.0.0.1', '1'] });
  cleanup.push(() => rep.stop());
  assert.equal(
    redisCli(rep.port, 'wait', '1', '0').trim(),
    'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.',
  );
  const c = await RawConn.connect(rep.port);
  const exp = "-NOMASTERLINK Can't SYNC while not connected with my master\r\n";
  assert.equal(await c.roundtrip('PSYNC ? -1\r\n', exp.length), exp);
  c.close();
  await rep.stop();
});

test('SHUTDOWN waits for lagging replicas; SHUTDOWN ABORT cancels the wait', async () => {
  const { r } = await onlineReplica(srv.port, 7792);
  await cli.set('unacked', '1');
  const s1 = await RawConn.connect(srv.port);
  s1.write('SHUTDOWN NOSAVE\r\n');
  await waitFor(() => srv.log().includes('Waiting for replicas before shutting down.'), 'the shutdown wait');
  // The replica is asked for an ACK.
  await waitFor(() => r.peek().includes('GETACK'), 'GETACK in the stream');
  const s2 = await RawConn.connect(srv.port);
  assert.equal(await s2.roundtrip('SHUTDOWN ABORT\r\n', 5), '+OK\r\n');
  const exp = '-ERR Errors trying to SHUTDOWN. Check logs.\r\n';
  assert.equal(await s1.read(exp.length), exp);
  assert.equal(await s2.roundtrip('SHUTDOWN ABORT\r\n', '-ERR No shutdown in progress.\r\n'.length), '-ERR No shutdown in progress.\r\n');
  assert.equal(await s2.roundtrip('PING\r\n', 7), '+PONG\r\n');
  assert.match(srv.log(), /Shutdown manually aborted\./);
  s1.close();
  s2.close();
  r.close();
  await waitFor(() => info(srv.port).connected_slaves === '0', 'no replicas');
});

test('SHUTDOWN proceeds once the replica acknowledged everything', async () => {
  const { r } = await onlineReplica(srv.port, 7793);
  await cli.set('last-write', '1');
  // Answer GETACKs with the full offset, as a real replica's next ACK would.
  let acked = false;
  const ackLoop = (async () => {
    while (!r.closed && !acked) {
      await sleep(50);
      if (r.peek().includes('GETACK')) {
        r.send('REPLCONF', 'ACK', info(srv.port).master_repl_offset ?? '0');
        acked = true;
      }
    }
  })();
  const s = await RawConn.connect(srv.port);
  const t0 = Date.now();
  s.write('SHUTDOWN NOSAVE\r\n');
  assert.ok(await s.waitClosed(8000), 'server exited');
  await ackLoop;
  assert.ok(acked, 'the replica was asked for an ACK');
  assert.ok(Date.now() - t0 < 5000, 'no need to wait for shutdown-timeout');
  await srv.exited;
  assert.match(srv.log(), /1 of 1 replicas are in sync when shutting down\./);
});
