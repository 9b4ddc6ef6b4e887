/**
 * The replica side against a scripted master: exact handshake bytes, both payload framings,
 * keepalives, offsets and ACKs (GETACK excluded from its own ACK), partial resync with an id
 * change, retry / legacy SYNC paths, stream corruption, a MULTI cut by a disconnection, the
 * transfer progress fields of INFO, MASTERDOWN / READONLY, and the empty-master safety directive.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMirra, redisCli, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { RawConn } from '../helpers/raw.js';
import { FakeMaster, type FakeConn, resp, buildRdb } from './replica-fake-master.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

async function setup(extra: string[] = []): Promise<{ fm: FakeMaster; srv: ServerHandle }> {
  const fm = await FakeMaster.start();
  const srv = await startMirra({ args: ['--replicaof', '127.0.0.1', String(fm.port), ...extra] });
  cleanups.push(() => srv.stop(), () => fm.close());
  return { fm, srv };
}

/** redis-cli output without trailing newlines (error replies end with an extra one). */
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

/** Full sync with a `$<len>` payload at `offset`; returns the connection, stream not started. */
async function fullSync(fm: FakeMaster, replid: string, offset: number, rdb: Buffer, tail = ''): Promise<FakeConn> {
  const conn = await fm.nextConn();
  const hs = await conn.acceptHandshake();
  assert.deepEqual(hs.psync, ['PSYNC', '?', '-1']);
  conn.write(`+FULLRESYNC ${replid} ${offset}\r\n`);
  conn.write(Buffer.concat([Buffer.from(`$${rdb.length}\r\n`), rdb, Buffer.from(tail, 'latin1')]));
  return conn;
}

test('handshake bytes: PING, AUTH user pass, REPLCONF port/ip/capa pipelined, PSYNC ? -1', async () => {
  const { fm, srv } = await setup(['--masteruser', 'repl', '--masterauth', 'replpass', '--replica-announce-ip', '10.1.2.3', '--replica-announce-port', '7777']);
  const conn = await fm.nextConn();
  assert.equal(await conn.readBytes(14), '*1\r\n$4\r\nPING\r\n');
  // Nothing else is sent before the PING reply.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(conn.pending, '');
  assert.equal(cli(srv.port, 'role'), `slave\n127.0.0.1\n${fm.port}\nhandshake\n-1`);
  conn.write('+PONG\r\n');
  const expected =
    '*3\r\n$4\r\nAUTH\r\n$4\r\nrepl\r\n$8\r\nreplpass\r\n' +
    '*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n7777\r\n' +
    '*3\r\n$8\r\nREPLCONF\r\n$10\r\nip-address\r\n$8\r\n10.1.2.3\r\n' +
    '*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n';
  assert.equal(await conn.readBytes(expected.length), expected);
  conn.write('+OK\r\n+OK\r\n+OK\r\n+OK\r\n');
  const psync = resp('PSYNC', '?', '-1');
  assert.equal(await conn.readBytes(psync.length), psync);
});

test('error reply to PING aborts; NOAUTH is accepted and AUTH follows', async () => {
  const { fm, srv } = await setup(['--masterauth', 'pw']);
  let conn = await fm.nextConn();
  await conn.readCommand();
  conn.write('-ERR something odd\r\n');
  await conn.waitClosed();
  conn = await fm.nextConn(); // retried by the cron a second later
  await conn.readCommand();
  conn.write('-NOAUTH Authentication required.\r\n');
  assert.deepEqual(await conn.readCommand(), ['AUTH', 'pw']);
  conn.write('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
  await conn.waitClosed();
  await waitFor(() => srv.log().includes('Unable to AUTH to MASTER: -WRONGPASS'), 'AUTH failure logged');
  assert.ok(srv.log().includes("Error reply to PING from master: '-ERR something odd'"));
});

test('full sync ($len framing, keepalives), stream applied, offsets, periodic ACK and GETACK', async () => {
  const { fm, srv } = await setup();
  const rdb = buildRdb({ 0: [['k0', 'v0']], 2: [['d2', 'x']] }, { 'repl-stream-db': '2' });
  const conn = await fm.nextConn();
  await conn.acceptHandshake();
  conn.write('\n\n'); // keepalives before the reply
  conn.write(`+FULLRESYNC ${A} 1000\r\n`);
  conn.write('\n'); // keepalive during a disk BGSAVE
  // The stream starts right after the payload, without CRLF; the master client's DB is the
  // aux repl-stream-db (2) until a SELECT.
  const s1 = resp('set', 'in2', 'yes') + resp('SELECT', '0') + resp('set', 'k1', 'v1');
  conn.write(Buffer.concat([Buffer.from(`$${rdb.length}\r\n`), rdb, Buffer.from(s1, 'latin1')]));
  await waitFor(() => cli(srv.port, 'get', 'k1') === 'v1', 'k1 replicated');
  assert.equal(cli(srv.port, 'get', 'k0'), 'v0');
  assert.equal(cli(srv.port, '-n', '2', 'get', 'in2'), 'yes');
  assert.equal(cli(srv.port, '-n', '2', 'get', 'd2'), 'x');
  let inf = info(srv.port);
  assert.equal(inf.master_link_status, 'up');
  assert.equal(inf.master_sync_in_progress, '0');
  assert.equal(inf.master_replid, A);
  assert.equal(inf.master_replid2, '0'.repeat(40));
  assert.equal(inf.second_repl_offset, '-1');
  assert.equal(inf.slave_repl_offset, String(1000 + s1.length));
  assert.equal(inf.slave_read_repl_offset, String(1000 + s1.length));
  assert.equal(inf.master_repl_offset, String(1000 + s1.length));
  assert.equal(inf.master_link_down_since_seconds, undefined);
  // Periodic ACK with the processed offset.
  const ack = await conn.readUntil((a) => a[0] === 'REPLCONF', 3000);
  assert.deepEqual(ack, ['REPLCONF', 'ACK', String(1000 + s1.length)]);
  // A partial command counts as read, not as processed.
  const partial = resp('set', 'k2', 'v2');
  conn.write(partial.slice(0, 10));
  await waitFor(() => info(srv.port).slave_read_repl_offset === String(1000 + s1.length + 10), 'read offset moved');
  assert.equal(info(srv.port).slave_repl_offset, String(1000 + s1.length));
  // GETACK: immediate ACK excluding the GETACK's own 37 bytes; the next periodic one includes them.
  const before = 1000 + s1.length + partial.length;
  const getack = resp('REPLCONF', 'GETACK', '*');
  assert.equal(getack.length, 37);
  conn.write(partial.slice(10) + getack);
  assert.deepEqual(await conn.readCommand(), ['REPLCONF', 'ACK', String(before)]);
  assert.deepEqual(await conn.readUntil((a) => a[0] === 'REPLCONF', 3000), ['REPLCONF', 'ACK', String(before + 37)]);
  assert.equal(cli(srv.port, 'get', 'k2'), 'v2');
  inf = info(srv.port);
  assert.equal(inf.slave_repl_offset, String(before + 37));
  assert.ok(Number(inf.master_last_io_seconds_ago) >= 0);
  // Writes from normal clients are refused on a read-only replica.
  assert.equal(cli(srv.port, 'set', 'x', 'y'), "READONLY You can't write against a read only replica.");
  assert.ok(srv.log().includes(`Full resync from master: ${A}:1000`));
  assert.ok(srv.log().includes(`MASTER <-> REPLICA sync: receiving ${rdb.length} bytes from master to disk`));
  assert.ok(srv.log().includes('MASTER <-> REPLICA sync: Finished with success'));
});

test('EOF-marked payload: immediate ACK after loading, then the stream', async () => {
  const { fm, srv } = await setup();
  const rdb = buildRdb({ 0: [['e1', 'one']] });
  const conn = await fm.nextConn();
  await conn.acceptHandshake();
  conn.write(`+FULLRESYNC ${A} 2524\r\n`);
  const mark = 'f'.repeat(40);
  // Split the payload so the end mark straddles two writes.
  const full = Buffer.concat([Buffer.from(`$EOF:${mark}\r\n`), rdb, Buffer.from(mark)]);
  conn.write(full.subarray(0, full.length - 20));
  await new Promise((r) => setTimeout(r, 50));
  conn.write(full.subarray(full.length - 20));
  assert.deepEqual(await conn.readCommand(), ['REPLCONF', 'ACK', '2524']);
  conn.write(resp('SELECT', '0') + resp('set', 'e2', 'two'));
  await waitFor(() => cli(srv.port, 'get', 'e2') === 'two', 'e2 replicated');
  assert.equal(cli(srv.port, 'get', 'e1'), 'one');
  assert.ok(srv.log().includes('MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk'));
});

test('transfer progress in INFO, ROLE state sync', async () => {
  const { fm, srv } = await setup();
  const rdb = buildRdb({ 0: [['p', 'q']] });
  const conn = await fm.nextConn();
  await conn.acceptHandshake();
  conn.write(`+FULLRESYNC ${A} 0\r\n$${rdb.length}\r\n`);
  conn.write(rdb.subarray(0, 9));
  await waitFor(() => info(srv.port).master_sync_read_bytes === '9', 'progress visible');
  const inf = info(srv.port);
  assert.equal(inf.master_sync_in_progress, '1');
  assert.equal(inf.master_sync_total_bytes, String(rdb.length));
  assert.equal(inf.master_sync_left_bytes, String(rdb.length - 9));
  assert.equal(inf.master_sync_perc, ((9 / rdb.length) * 100).toFixed(2));
  assert.ok('master_sync_last_io_seconds_ago' in inf);
  assert.equal(inf.master_link_status, 'down');
  assert.equal(cli(srv.port, 'role'), `slave\n127.0.0.1\n${fm.port}\nsync\n-1`);
  // Field order: transfer fields right after slave_repl_offset.
  const keys = cli(srv.port, 'info', 'replication').split(/\r?\n/).map((l) => l.split(':')[0]);
  assert.deepEqual(keys.slice(1, 20), [
    'role', 'master_host', 'master_port', 'master_link_status', 'master_last_io_seconds_ago', 'master_sync_in_progress',
    'slave_read_repl_offset', 'slave_repl_offset', 'master_sync_total_bytes', 'master_sync_read_bytes', 'master_sync_left_bytes',
    'master_sync_perc', 'master_sync_last_io_seconds_ago', 'master_link_down_since_seconds', 'slave_priority', 'slave_read_only',
    'replica_announced', 'connected_slaves', 'master_failover_state',
  ]);
  conn.write(rdb.subarray(9));
  await waitFor(() => info(srv.port).master_link_status === 'up', 'link up');
  assert.equal(cli(srv.port, 'role'), `slave\n127.0.0.1\n${fm.port}\nconnected\n0`);
  conn.close();
  fm.close(); // nothing listens any more: the replica is left in the connect state
  await waitFor(() => cli(srv.port, 'role').endsWith('connect\n-1'), 'ROLE connect');
  assert.equal(info(srv.port).slave_repl_offset, '0'); // from the cached master
});

test('while the payload loads, clients get -LOADING and the loop keeps serving', async () => {
  // A replica that holds data loads the payload after the transfer (the file path): it keeps
  // serving its old data until then, so nothing is held twice.
  const { fm, srv } = await setup(['--replica-read-only', 'no']);
  assert.equal(cli(srv.port, 'set', 'old', 'x'), 'OK');
  const { conn, rdb } = await offerPayload(fm, 200000);
  const c = await RawConn.connect(srv.port);
  conn.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${A} 0\r\n$${rdb.length}\r\n`), rdb]));
  const replies = new Set<string>();
  let loadingSeen = 0;
  // The connection stays usable throughout: each GET gets an answer while the load runs.
  const deadline = Date.now() + 20000;
  while (!replies.has('value') && Date.now() < deadline) {
    const r = await getReply(c, 'key:199');
    replies.add(r);
    if (r.startsWith('-')) loadingSeen++;
  }
  c.close();
  assert.ok(replies.has('-LOADING Redis is loading the dataset in memory'), [...replies].join(' | '));
  assert.ok(replies.has('value'));
  assert.ok(loadingSeen > 1, 'the load spans several turns of the event loop');
  assert.equal(cli(srv.port, 'dbsize'), '200000');
  assert.equal(cli(srv.port, 'get', 'old'), '');
});

test('an empty replica parses the payload while it arrives: no -LOADING, the loop keeps serving', async () => {
  const { fm, srv } = await setup();
  const { conn, rdb } = await offerPayload(fm, 200000);
  const c = await RawConn.connect(srv.port);
  conn.write(`+FULLRESYNC ${A} 0\r\n$${rdb.length}\r\n`);
  // Feed the payload in pieces with pauses: the replica answers in between, from its old
  // (empty) dataset, until the whole new one is in place at once.
  const replies: string[] = [];
  const ask = async (): Promise<void> => void replies.push(await getReply(c, 'key:1999'));
  const piece = Math.ceil(rdb.length / 8);
  for (let off = 0; off < rdb.length; off += piece) {
    conn.write(rdb.subarray(off, off + piece));
    await ask();
  }
  await waitFor(async () => {
    await ask();
    return replies.at(-1) === 'value';
  }, 'the new dataset in place');
  c.close();
  assert.ok(!replies.some((r) => r.startsWith('-')), replies.join(' | '));
  assert.ok(replies.filter((r) => r === 'nil').length >= 7, replies.join(' | '));
  assert.equal(cli(srv.port, 'dbsize'), '200000');
  assert.equal(cli(srv.port, 'get', 'key:199999'), 'value:199999');
  assert.deepEqual(await conn.readCommand(), ['REPLCONF', 'ACK', '0']);
});

test('a payload that fails its checksum while parsed on arrival is refused like one loaded from disk', async () => {
  const { fm, srv } = await setup();
  const rdb = buildRdb({ 0: [['k1', 'v1'], ['k2', 'v2']] });
  // Corrupt the CRC64 trailer: every record parses, only the final check fails.
  rdb[rdb.length - 1] ^= 0xff;
  const conn = await fm.nextConn();
  await conn.acceptHandshake();
  conn.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${A} 0\r\n$${rdb.length}\r\n`), rdb]));
  await waitFor(() => srv.log().includes('Failed trying to load the MASTER synchronization DB from disk'), 'load failure logged');
  assert.match(srv.log(), /checksum/i);
  assert.equal(cli(srv.port, 'dbsize'), '0');
  // It tries again with a new connection.
  const again = await fm.nextConn();
  await again.acceptHandshake();
});

/** A fake master connection past the handshake, and an RDB of `n` string keys key:i → value:i. */
async function offerPayload(fm: FakeMaster, n: number): Promise<{ conn: FakeConn; rdb: Buffer }> {
  const entries: [string, string][] = [];
  for (let i = 0; i < n; i++) entries.push([`key:${i}`, `value:${i}`]);
  const rdb = buildRdb({ 0: entries });
  const conn = await fm.nextConn();
  await conn.acceptHandshake();
  return { conn, rdb };
}

/** GET over a raw connection: 'value' for a bulk, 'nil', or the error line with its '-'. */
async function getReply(c: RawConn, key: string): Promise<string> {
  c.write(`*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n`);
  const first = await c.read(1);
  const rest = await readLine(c);
  if (first === '-') return `-${rest}`;
  if (first !== '$' || rest === '-1') return 'nil';
  await c.read(Number(rest) + 2);
  return 'value';
}

/** Reads up to CRLF (the CRLF consumed, not returned). */
async function readLine(c: RawConn): Promise<string> {
  let line = '';
  for (;;) {
    const ch = await c.read(1);
    if (ch === '\r') {
      await c.read(1);
      return line;
    }
    line += ch;
  }
}

test('link lost: cached master, PSYNC <id> <offset+1>, +CONTINUE with a new id shifts ids', async () => {
  const { fm, srv } = await setup();
  const rdb = buildRdb({ 0: [['c0', 'v']] });
  const s1 = resp('SELECT', '0') + resp('set', 'c1', 'v1');
  const conn = await fullSync(fm, A, 1000, rdb, s1);
  await waitFor(() => cli(srv.port, 'get', 'c1') === 'v1', 'c1 replicated');
  const off = 1000 + s1.length;
  conn.close();
  const c2 = await fm.nextConn();
  const hs = await c2.acceptHandshake();
  assert.deepEqual(hs.psync, ['PSYNC', A, String(off + 1)]);
  const s2 = resp('set', 'c2', 'v2');
  c2.write(`+CONTINUE ${B}\r\n${s2}`);
  await waitFor(() => cli(srv.port, 'get', 'c2') === 'v2', 'c2 replicated after partial resync');
  const inf = info(srv.port);
  assert.equal(inf.master_replid, B);
  assert.equal(inf.master_replid2, A);
  assert.equal(inf.second_repl_offset, String(off + 1));
  assert.equal(inf.slave_repl_offset, String(off + s2.length));
  assert.equal(inf.master_link_status, 'up');
  const log = srv.log();
  assert.ok(log.includes('Connection with master lost.'));
  assert.ok(log.includes('Caching the disconnected master state.'));
  assert.ok(log.includes(`Trying a partial resynchronization (request ${A}:${off + 1}).`));
  assert.ok(log.includes('Successful partial resynchronization with master.'));
  assert.ok(log.includes(`Master replication ID changed to ${B}`));
  assert.ok(log.includes('MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.'));
  // While down (before the reconnection above) the replica kept serving its data.
  assert.equal(cli(srv.port, 'get', 'c0'), 'v');
});

test('-NOMASTERLINK: retry later with the same PSYNC; -ERR: legacy SYNC on the same link', async () => {
  const { fm, srv } = await setup();
  const rdb = buildRdb({ 0: [['n0', 'v']] });
  const conn = await fullSync(fm, A, 50, rdb);
  await waitFor(() => info(srv.port).master_link_status === 'up', 'link up');
  conn.close();
  let c = await fm.nextConn();
  let hs = await c.acceptHandshake();
  assert.deepEqual(hs.psync, ['PSYNC', A, '51']);
  c.write("-NOMASTERLINK Can't SYNC while not connected with my master\r\n");
  await c.waitClosed();
  c = await fm.nextConn();
  hs = await c.acceptHandshake();
  assert.deepEqual(hs.psync, ['PSYNC', A, '51']);
  c.write("-ERR unknown command 'PSYNC'\r\n");
  assert.deepEqual(await c.readCommand(), ['SYNC']);
  const rdb2 = buildRdb({ 0: [['legacy', 'yes']] });
  c.write(Buffer.concat([Buffer.from(`$${rdb2.length}\r\n`), rdb2, Buffer.from(resp('SELECT', '0') + resp('set', 'after', 'sync'))]));
  await waitFor(() => cli(srv.port, 'get', 'after') === 'sync', 'stream after legacy SYNC');
  assert.equal(cli(srv.port, 'get', 'legacy'), 'yes');
  assert.equal(cli(srv.port, 'get', 'n0'), '');
  const log = srv.log();
  assert.ok(log.includes("Master is currently unable to PSYNC but should be in the future: -NOMASTERLINK Can't SYNC while not connected with my master"));
  assert.ok(log.includes("Master does not support PSYNC or is in error state (reply: -ERR unknown command 'PSYNC')"));
  assert.ok(log.includes('Retrying with SYNC...'));
});

test('inline data from the master drops the link and discards the cached master', async () => {
  const { fm, srv } = await setup();
  const conn = await fullSync(fm, A, 10, buildRdb({}));
  await waitFor(() => info(srv.port).master_link_status === 'up', 'link up');
  conn.write('\n'); // a bare newline is tolerated
  conn.write('set x y\r\n');
  await conn.waitClosed();
  const c2 = await fm.nextConn();
  const hs = await c2.acceptHandshake();
  assert.deepEqual(hs.psync, ['PSYNC', '?', '-1']);
  assert.ok(srv.log().includes('Receiving inline protocol from master'));
});

test('a MULTI cut by a disconnection is asked for again from its start', async () => {
  const { fm, srv } = await setup();
  const s1 = resp('SELECT', '0') + resp('set', 'm0', '0');
  const conn = await fullSync(fm, A, 100, buildRdb({}), s1);
  await waitFor(() => cli(srv.port, 'get', 'm0') === '0', 'm0 replicated');
  const base = 100 + s1.length;
  conn.write(resp('MULTI') + resp('set', 'm1', '1'));
  await waitFor(() => info(srv.port).slave_read_repl_offset === String(base + resp('MULTI').length + resp('set', 'm1', '1').length), 'read');
  assert.equal(info(srv.port).slave_repl_offset, String(base));
  conn.close();
  const c2 = await fm.nextConn();
  const hs = await c2.acceptHandshake();
  assert.deepEqual(hs.psync, ['PSYNC', A, String(base + 1)]);
  const tx = resp('MULTI') + resp('set', 'm1', '1') + resp('set', 'm2', '2') + resp('EXEC');
  c2.write(`+CONTINUE ${A}\r\n${tx}`);
  await waitFor(() => cli(srv.port, 'get', 'm2') === '2', 'transaction applied');
  assert.equal(cli(srv.port, 'get', 'm1'), '1');
  assert.equal(info(srv.port).slave_repl_offset, String(base + tx.length));
});

test('replica-serve-stale-data no: MASTERDOWN until the link is up', async () => {
  const { fm, srv } = await setup(['--replica-serve-stale-data', 'no']);
  const conn = await fm.nextConn();
  assert.equal(cli(srv.port, 'get', 'a'), "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
  assert.equal(cli(srv.port, 'ping'), "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
  await conn.acceptHandshake();
  const rdb = buildRdb({ 0: [['a', 'b']] });
  conn.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${A} 0\r\n$${rdb.length}\r\n`), rdb]));
  await waitFor(() => cli(srv.port, 'get', 'a') === 'b', 'served once up');
  conn.close();
  await waitFor(() => cli(srv.port, 'get', 'a').startsWith('MASTERDOWN'), 'MASTERDOWN again when down');
  const inf = info(srv.port);
  assert.equal(inf.master_link_status, 'down');
  assert.ok(Number(inf.master_link_down_since_seconds) >= 0);
});

test('mirra-replica-refuse-empty-master: an empty master with a new id does not wipe the replica', async () => {
  const { fm, srv } = await setup(['--mirra-replica-refuse-empty-master', 'yes']);
  const conn = await fullSync(fm, A, 0, buildRdb({ 0: [['keep', 'me']] }));
  await waitFor(() => cli(srv.port, 'get', 'keep') === 'me', 'data synced');
  conn.close();
  // The "restarted" master: new id, empty dataset.
  const c2 = await fm.nextConn();
  const hs = await c2.acceptHandshake();
  assert.deepEqual(hs.psync, ['PSYNC', A, '1']);
  const empty = buildRdb({});
  c2.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${B} 0\r\n$${empty.length}\r\n`), empty]));
  await c2.waitClosed();
  assert.equal(cli(srv.port, 'get', 'keep'), 'me');
  const inf = info(srv.port);
  assert.equal(inf.mirra_sync_refused_reason, 'empty-master-with-new-replid');
  assert.equal(inf.master_replid, A);
  // It keeps trying with its history (a second later).
  const c3 = await fm.nextConn();
  const hs3 = await c3.acceptHandshake();
  assert.deepEqual(hs3.psync, ['PSYNC', A, '1']);
  // A non-empty payload under the new id is accepted.
  const full = buildRdb({ 0: [['new', 'data']] });
  c3.write(Buffer.concat([Buffer.from(`+FULLRESYNC ${B} 0\r\n$${full.length}\r\n`), full]));
  await waitFor(() => cli(srv.port, 'get', 'new') === 'data', 'accepted');
  assert.equal(cli(srv.port, 'get', 'keep'), '');
  assert.equal(info(srv.port).mirra_sync_refused_reason, undefined);
  assert.ok(srv.log().includes('Refusing full resync from MASTER'));
});
