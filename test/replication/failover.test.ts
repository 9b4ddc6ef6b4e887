/**
 * FAILOVER (replication.md §14) on Mirra: every argument and state error in Redis 7.0's order
 * (checked against a real redis-server with the same sequence), the phases as INFO shows them,
 * the write pause (writes wait, reads are served), PING suppression with TIMEOUT, timeout
 * without FORCE, FORCE into failover-in-progress and FAILOVER ABORT from there, and a target
 * that refuses PSYNC … FAILOVER (transient -LOADING retried, then an -ERR aborts).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startMirra, startRedis, type ServerHandle } from '../helpers/servers.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { FakeReplica } from './master-fake-replica.js';
import { cli, info, stat, call, waitCaughtUp, waitSameDigest } from './resilience-helpers.js';

const started: ServerHandle[] = [];
const proxies: FaultProxy[] = [];
after(async () => {
  for (const p of proxies) await p.close();
  for (const s of started) {
    s.kill('SIGCONT');
    await s.stop();
  }
});

async function mirra(args: string[] = []): Promise<ServerHandle> {
  const s = await startMirra({ args: ['--repl-diskless-sync-delay', '0', ...args] });
  started.push(s);
  return s;
}

/** The same FAILOVER misuse sequence, replies collected as text. */
async function errorSequence(kind: 'mirra' | 'redis'): Promise<string[]> {
  const args = ['--repl-diskless-sync-delay', '30'];
  const m = kind === 'mirra' ? await startMirra({ args }) : await startRedis({ args });
  started.push(m);
  const out: string[] = [];
  const r = (...a: string[]): void => {
    out.push(`${a.join(' ')} -> ${cli(m.port, ...a)}`);
  };
  r('failover');
  r('failover', 'force');
  r('failover', 'abort');
  r('failover', 'timeout', '0');
  r('failover', 'timeout', '-1');
  r('failover', 'timeout', 'x');
  r('failover', 'timeout');
  r('failover', 'timeout', '10', 'timeout', '20');
  r('failover', 'to', '127.0.0.1');
  r('failover', 'to', '127.0.0.1', 'x');
  r('failover', 'to', '127.0.0.1', '1', 'to', '127.0.0.1', '2');
  r('failover', 'force', 'force');
  r('failover', 'abort', 'timeout', '5');
  r('failover', 'bogus');
  // A replica that never completes its sync (the diskless delay holds it in wait_bgsave).
  const fake = await FakeReplica.connect(m.port);
  await fake.handshake({ port: 7777 });
  fake.send('PSYNC', '?', '-1');
  await waitFor(() => info(m.port).connected_slaves === '1', 'the fake replica is attached');
  // Move the offset past the fake replica's ACK (0), or it would count as caught up.
  cli(m.port, 'set', 'x', '1');
  r('failover', 'to', '127.0.0.1', '7777');
  r('failover', 'to', '127.0.0.1', '7778');
  r('failover', 'to', '127.0.0.1', '7777', 'force');
  r('failover', 'timeout', '100', 'force');
  r('failover', 'timeout', '60000');
  out.push(`state ${info(m.port).master_failover_state}`);
  r('failover');
  r('failover', 'abort', 'x');
  r('replicaof', '127.0.0.1', '1');
  r('failover', 'abort');
  out.push(`state ${info(m.port).master_failover_state}`);
  r('failover', 'abort');
  fake.close();
  // A replica cannot fail over.
  r('replicaof', '127.0.0.1', '1');
  r('failover');
  r('failover', 'to', '127.0.0.1', '1');
  r('replicaof', 'no', 'one');
  await m.stop();
  return out;
}

test('FAILOVER errors and their order are Redis 7.0’s', async () => {
  const mine = await errorSequence('mirra');
  const real = await errorSequence('redis');
  assert.deepEqual(mine, real);
  // Spot checks of the texts themselves (replication.md §14).
  assert.ok(real.includes('failover -> ERR FAILOVER requires connected replicas.'), real.join('\n'));
  assert.ok(real.includes('failover abort -> ERR No failover in progress.'));
  assert.ok(real.includes('failover timeout 0 -> ERR FAILOVER timeout must be greater than 0'));
  assert.ok(real.includes('failover to 127.0.0.1 7777 -> ERR FAILOVER target replica is not online.'));
  assert.ok(real.includes('failover to 127.0.0.1 7778 -> ERR FAILOVER target HOST and PORT is not a replica.'));
  assert.ok(real.includes('failover timeout 100 force -> ERR FAILOVER with force option requires both a timeout and target HOST and IP.'));
  assert.ok(real.includes('failover -> ERR FAILOVER already in progress.'));
  assert.ok(real.includes('replicaof 127.0.0.1 1 -> ERR REPLICAOF not allowed while failing over.'));
  assert.ok(real.includes('failover -> ERR FAILOVER is not valid when server is a replica.'));
});

test('waiting-for-sync: writes wait, reads are served, no PING with TIMEOUT, timeout without FORCE aborts', async () => {
  const m = await mirra(['--repl-ping-replica-period', '1']);
  const r = await mirra();
  const proxy = await FaultProxy.start(m.port);
  proxies.push(proxy);
  cli(r.port, 'replicaof', '127.0.0.1', String(proxy.port));
  cli(m.port, 'set', 'before', '1');
  await waitCaughtUp(r.port, m.port);
  // The replica's ACKs no longer reach the master: it can never look caught up.
  proxy.stall('up', true);
  cli(m.port, 'set', 'unacked', '1');
  const t0 = Date.now();
  assert.equal(cli(m.port, 'failover', 'timeout', '1500'), 'OK');
  const first = info(m.port);
  assert.equal(first.master_failover_state, 'waiting-for-sync');
  assert.equal(first.role, 'master');
  const offset0 = first.master_repl_offset;
  // A write waits (it is postponed, not refused); a read is answered at once.
  const pending = call(m.port, 'SET', 'during', '1');
  // Held like a blocked client (Redis shows it with flags=b in CLIENT LIST).
  await waitFor(() => / flags=b /.test(cli(m.port, 'client', 'list')), 'the write to be postponed');
  assert.equal(cli(m.port, 'get', 'before'), '1');
  assert.equal(cli(m.port, 'get', 'during'), '');
  // With a TIMEOUT the replication PING is suppressed (period 1 s here): the offset stands still.
  const seen = new Set<string>();
  let waitedMs = 0;
  await waitFor(
    () => {
      const i = info(m.port);
      if (i.master_failover_state !== 'waiting-for-sync') return true;
      seen.add(i.master_repl_offset!);
      waitedMs = Date.now() - t0;
      return false;
    },
    'the failover to time out',
    5000,
    100,
  );
  assert.ok(waitedMs >= 1200, `observed waiting-for-sync for ${waitedMs} ms`);
  assert.deepEqual([...seen], [offset0]);
  // Timed out without FORCE: aborted, still a master, the write went through.
  const end = info(m.port);
  assert.equal(end.master_failover_state, 'no-failover');
  assert.equal(end.role, 'master');
  assert.equal(await pending, 'OK');
  assert.equal(cli(m.port, 'get', 'during'), '1');
  assert.match(m.log(), /FAILOVER to any replica aborted: Replica never caught up before timeout/);
  proxy.stall('up', false);
  await waitCaughtUp(r.port, m.port);
  await waitSameDigest([m.port, r.port]);
});

test('FORCE after TIMEOUT enters failover-in-progress; FAILOVER ABORT makes a master again (new replid)', async () => {
  const m = await mirra();
  const r = await mirra();
  const proxy = await FaultProxy.start(m.port);
  proxies.push(proxy);
  cli(r.port, 'replicaof', '127.0.0.1', String(proxy.port));
  cli(m.port, 'set', 'a', '1');
  await waitCaughtUp(r.port, m.port);
  const before = info(m.port);
  const fullBefore = stat(m.port, 'sync_full');
  // A stopped target: the TCP connection is accepted by the kernel, PING is never answered.
  r.kill('SIGSTOP');
  cli(m.port, 'set', 'b', '2');
  assert.equal(cli(m.port, 'failover', 'to', '127.0.0.1', String(r.port), 'timeout', '300', 'force'), 'OK');
  await waitFor(() => info(m.port).master_failover_state === 'failover-in-progress', 'failover-in-progress', 5000);
  const mid = info(m.port);
  assert.equal(mid.role, 'slave');
  assert.equal(mid.master_host, '127.0.0.1');
  assert.equal(mid.master_port, String(r.port));
  assert.equal(mid.master_link_status, 'down');
  // As Redis shows it: never connected, our own history as the cached master.
  assert.equal(mid.master_link_down_since_seconds, '-1');
  assert.equal(mid.slave_repl_offset, mid.master_repl_offset);
  // The old replica is still listed until it goes away, as in Redis.
  assert.equal(mid.connected_slaves, '1');
  // Already a replica: a write is refused with READONLY before the pause is even considered
  // (Redis's processCommand order), a read is served.
  assert.equal(cli(m.port, 'set', 'c', '3'), 'READONLY You can\'t write against a read only replica.');
  assert.equal(cli(m.port, 'get', 'a'), '1');
  assert.equal(cli(m.port, 'failover'), 'ERR FAILOVER already in progress.');
  assert.equal(cli(m.port, 'replicaof', 'no', 'one'), 'ERR REPLICAOF not allowed while failing over.');
  assert.equal(cli(m.port, 'failover', 'abort'), 'OK');
  const back = info(m.port);
  assert.equal(back.role, 'master');
  assert.equal(back.master_failover_state, 'no-failover');
  // replicationUnsetMaster: a new history, the old id kept for PSYNC.
  assert.notEqual(back.master_replid, before.master_replid);
  assert.equal(back.master_replid2, before.master_replid);
  assert.equal(Number(back.second_repl_offset), Number(back.master_repl_offset) + 1);
  assert.equal(cli(m.port, 'set', 'c', '3'), 'OK');
  assert.match(m.log(), new RegExp(`FAILOVER to 127\\.0\\.0\\.1:${r.port} aborted: Failover manually aborted`));
  // The replica wakes up, continues through replid2: a partial resync.
  r.kill('SIGCONT');
  await waitCaughtUp(r.port, m.port);
  await waitSameDigest([m.port, r.port]);
  assert.equal(stat(m.port, 'sync_full'), fullBefore);
  assert.ok(stat(m.port, 'sync_partial_ok') >= 1);
});

/**
 * A failover target that is a fake: attached to the master as an online replica announcing the
 * port of a small server that answers the handshake, then PSYNC … FAILOVER with -LOADING (a
 * transient error: retried) and then with an -ERR (the failover is aborted).
 */
test('a target refusing PSYNC FAILOVER: -LOADING is retried, -ERR aborts the failover', async () => {
  const m = await mirra();
  const psyncs: string[][] = [];
  const targetServer = net.createServer((sock) => {
    let buf = '';
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const parsed = parseCommand(buf);
        if (parsed === null) break;
        buf = buf.slice(parsed.used);
        const name = parsed.argv[0]!.toUpperCase();
        if (name === 'PING') sock.write('+PONG\r\n');
        else if (name === 'PSYNC') {
          psyncs.push(parsed.argv);
          if (psyncs.length === 1) sock.end('-LOADING Redis is loading the dataset in memory\r\n');
          else sock.write('-ERR PSYNC FAILOVER replid must match my replid.\r\n');
        } else sock.write('+OK\r\n');
      }
    });
  });
  await new Promise<void>((res) => targetServer.listen(0, '127.0.0.1', res));
  after(() => targetServer.close());
  const targetPort = (targetServer.address() as net.AddressInfo).port;
  const fake = await FakeReplica.connect(m.port);
  after(() => fake.close());
  await fake.handshake({ port: targetPort });
  fake.send('PSYNC', '?', '-1');
  const full = (await fake.lineAfterKeepalives()).line;
  assert.match(full, /^\+FULLRESYNC [0-9a-f]{40} \d+$/);
  await fake.rdbEof();
  cli(m.port, 'set', 'k', 'v');
  // Like a real replica, the fake acknowledges all it was sent, again and again (the master's
  // PING moves the offset at its own pace).
  const acker = setInterval(() => {
    if (!fake.closed) fake.send('REPLCONF', 'ACK', info(m.port).master_repl_offset!);
  }, 100);
  after(() => clearInterval(acker));
  await waitFor(() => {
    const i = info(m.port);
    return i.slave0?.includes(`offset=${i.master_repl_offset}`) ?? false;
  }, 'the fake replica ACKed');
  const before = info(m.port);
  assert.equal(cli(m.port, 'failover', 'to', '127.0.0.1', String(targetPort)), 'OK');
  await waitFor(() => psyncs.length >= 2, 'two PSYNC FAILOVER attempts', 10000).catch((e: Error) => {
    throw new Error(`${e.message}; PSYNCs ${JSON.stringify(psyncs)}; before ${JSON.stringify(before)} now ${JSON.stringify(info(m.port))}; log:\n${m.log().slice(-3000)}`);
  });
  clearInterval(acker);
  await waitFor(() => info(m.port).master_failover_state === 'no-failover', 'the failover aborted');
  const end = info(m.port);
  // Our whole history is offered: PSYNC <replid> <master_repl_offset + 1> FAILOVER (§2.3).
  const expected = ['PSYNC', before.master_replid!, String(Number(end.second_repl_offset)), 'FAILOVER'];
  assert.deepEqual(psyncs[0], expected);
  assert.deepEqual(psyncs[1], expected);
  assert.equal(end.role, 'master');
  assert.equal(end.master_replid2, before.master_replid);
  assert.notEqual(end.master_replid, before.master_replid);
  assert.match(m.log(), new RegExp(`FAILOVER to 127\\.0\\.0\\.1:${targetPort} aborted: Failover target rejected psync request`));
  // Writes are accepted again; no SYNC was attempted with the refusing target.
  assert.equal(cli(m.port, 'set', 'after', '1'), 'OK');
  assert.doesNotMatch(m.log(), /Retrying with SYNC/);
});

function parseCommand(buf: string): { argv: string[]; used: number } | null {
  if (!buf.startsWith('*')) {
    const nl = buf.indexOf('\n');
    if (nl < 0) return null;
    return { argv: buf.slice(0, nl).trim().split(' '), used: nl + 1 };
  }
  let pos = buf.indexOf('\r\n');
  if (pos < 0) return null;
  const n = Number(buf.slice(1, pos));
  pos += 2;
  const argv: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = buf.indexOf('\r\n', pos);
    if (e < 0) return null;
    const len = Number(buf.slice(pos + 1, e));
    if (buf.length < e + 2 + len + 2) return null;
    argv.push(buf.slice(e + 2, e + 2 + len));
    pos = e + 2 + len + 2;
  }
  return { argv, used: pos };
}
