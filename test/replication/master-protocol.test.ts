/**
 * Mirra as a master, seen byte by byte from a fake replica on a raw socket (replication.md
 * §3–§6, §11, §16): handshake answers and errors, keepalives, +FULLRESYNC, the `$EOF:` and
 * `$<len>` payload framings (checked by redis-check-rdb), the stream held until the first ACK,
 * SELECT insertion, PINGs every `repl-ping-replica-period`, offsets, +CONTINUE with the exact
 * backlog bytes, WAIT with GETACK, ROLE, INFO, min-replicas, and a replica that replies.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { startMirra, redisCli, hasRedis, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { RawConn } from '../helpers/raw.js';
import { FakeReplica } from './master-fake-replica.js';

let srv: ServerHandle;
let cli: Redis;
const replicas: FakeReplica[] = [];

function info(section = 'replication'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of redisCli(srv.port, 'info', section).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

async function replica(): Promise<FakeReplica> {
  const r = await FakeReplica.connect(srv.port);
  replicas.push(r);
  return r;
}

function checkRdb(rdb: Buffer, name: string): void {
  assert.equal(rdb.subarray(0, 9).toString('latin1'), 'REDIS0010');
  if (!hasRedis()) return;
  const file = path.join(srv.dir, name);
  fs.writeFileSync(file, rdb);
  const r = spawnSync('redis-check-rdb', [file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /RDB looks OK/);
}

before(async () => {
  srv = await startMirra({ args: ['--repl-diskless-sync-delay', '0', '--repl-ping-replica-period', '1000'] });
  cli = new Redis({ port: srv.port, host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: 1 });
});

after(async () => {
  for (const r of replicas) r.close();
  cli.disconnect();
  await srv.stop();
});

test('REPLCONF answers and errors (replication.md §3.1)', async () => {
  const c = await RawConn.connect(srv.port);
  const cases: [string, string][] = [
    ['*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n7777\r\n', '+OK\r\n'],
    ['*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n', '+OK\r\n'],
    ['*3\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$7\r\nunknown\r\n', '+OK\r\n'],
    ['*1\r\n$8\r\nREPLCONF\r\n', '+OK\r\n'],
    ['*2\r\n$8\r\nREPLCONF\r\n$1\r\na\r\n', '-ERR syntax error\r\n'],
    ['*4\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$1\r\n5\r\n$4\r\ncapa\r\n', '-ERR syntax error\r\n'],
    ['*3\r\n$8\r\nREPLCONF\r\n$3\r\nfoo\r\n$3\r\nbar\r\n', '-ERR Unrecognized REPLCONF option: foo\r\n'],
    ['*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$1\r\nx\r\n', '-ERR value is not an integer or out of range\r\n'],
    ['*3\r\n$8\r\nREPLCONF\r\n$8\r\nrdb-only\r\n$1\r\n2\r\n', '-ERR value is out of range, value must between 0 and 1\r\n'],
    ['*3\r\n$8\r\nREPLCONF\r\n$15\r\nrdb-filter-only\r\n$3\r\nfoo\r\n', '-ERR Unsupported rdb-filter-only option: foo\r\n'],
    ['*3\r\n$8\r\nREPLCONF\r\n$15\r\nrdb-filter-only\r\n$2\r\n"a\r\n', '-ERR Missing rdb-filter-only values\r\n'],
    [`*3\r\n$8\r\nREPLCONF\r\n$10\r\nip-address\r\n$256\r\n${'a'.repeat(256)}\r\n`, '-ERR REPLCONF ip-address provided by replica instance is too long: 256 bytes\r\n'],
    // ACK from a client that is not a replica, and GETACK on a master: no reply at all.
    ['*3\r\n$8\r\nREPLCONF\r\n$3\r\nack\r\n$1\r\n5\r\n*3\r\n$8\r\nREPLCONF\r\n$6\r\ngetack\r\n$1\r\n*\r\n*1\r\n$4\r\nPING\r\n', '+PONG\r\n'],
  ];
  for (const [req, exp] of cases) assert.equal(await c.roundtrip(req, exp.length), exp, JSON.stringify(req));
  c.close();
});

test('PSYNC / SYNC refusals', async () => {
  const c = await RawConn.connect(srv.port);
  let exp = '-ERR value is not an integer or out of range\r\n';
  assert.equal(await c.roundtrip('*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$1\r\nx\r\n', exp.length), exp);
  exp = "-ERR PSYNC FAILOVER can't be sent to a master.\r\n";
  assert.equal(await c.roundtrip('*4\r\n$5\r\nPSYNC\r\n$1\r\na\r\n$1\r\n1\r\n$8\r\nFAILOVER\r\n', exp.length), exp);
  exp = "-ERR wrong number of arguments for 'sync' command\r\n";
  assert.equal(await c.roundtrip('*2\r\n$4\r\nSYNC\r\n$1\r\nx\r\n', exp.length), exp);
  // Pipelined after a command whose reply is still pending.
  exp = '+PONG\r\n-ERR SYNC and PSYNC are invalid with pending output\r\n';
  assert.equal(await c.roundtrip('PING\r\nPSYNC ? -1\r\n', exp.length), exp);
  // A filtered RDB needs the EOF capability.
  assert.equal(await c.roundtrip('REPLCONF rdb-filter-only ""\r\n', 5), '+OK\r\n');
  exp = '-ERR Filtered replica requires EOF capability\r\n';
  assert.equal(await c.roundtrip('PSYNC ? -1\r\n', exp.length), exp);
  c.close();
  assert.equal(redisCli(srv.port, 'wait', 'x', '0').trim(), 'ERR value is not an integer or out of range');
  assert.equal(redisCli(srv.port, 'wait', '1', 'x').trim(), 'ERR timeout is not an integer or out of range');
  assert.equal(redisCli(srv.port, 'wait', '1', '-1').trim(), 'ERR timeout is negative');
  assert.equal(redisCli(srv.port, 'wait', '0', '0'), '0');
});

let main: FakeReplica;
let replid = '';
/** Offset of the last stream byte `main` received. */
let mainOffset = 0;
/** Every stream byte `main` received after the payload, to compare with +CONTINUE later. */
let mainStream = '';

async function readCommand(r: FakeReplica): Promise<string[]> {
  const cmd = await r.command();
  return cmd.argv;
}

test('diskless full sync: keepalives, +FULLRESYNC, $EOF framing, stream held until the first ACK', async () => {
  await cli.set('before', 'sync');
  // Long enough for at least one once-a-second keepalive before the snapshot starts.
  redisCli(srv.port, 'config', 'set', 'repl-diskless-sync-delay', '3');
  const fullBefore = Number(info('stats').sync_full);
  main = await replica();
  await main.handshake({ port: 7777 });
  main.send('PSYNC', '?', '-1');
  const first = await main.lineAfterKeepalives();
  assert.ok(first.keepalives >= 1, `expected keepalives before +FULLRESYNC, got ${first.keepalives}`);
  const m = /^\+FULLRESYNC ([0-9a-f]{40}) (\d+)$/.exec(first.line);
  assert.ok(m, first.line);
  replid = m[1]!;
  mainOffset = Number(m[2]);
  const { rdb } = await main.rdbEof();
  checkRdb(rdb, 'diskless.rdb');
  assert.ok(rdb.includes(Buffer.from('before')), 'the dataset is in the payload');
  assert.ok(rdb.includes(Buffer.from(replid)), 'repl-id aux field');
  redisCli(srv.port, 'config', 'set', 'repl-diskless-sync-delay', '0');
  const r = info();
  assert.equal(r.master_replid, replid);
  assert.equal(r.connected_slaves, '1');
  assert.match(r.slave0!, /^ip=127\.0\.0\.1,port=7777,state=online,offset=0,lag=\d+$/);
  assert.equal(Number(info('stats').sync_full), fullBefore + 1);
  // Writes after the payload wait for the replica's first ACK.
  await cli.set('k1', 'v1');
  await main.nothingFor(300);
  main.send('REPLCONF', 'ACK', String(mainOffset));
  const expected = '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$2\r\nk1\r\n$2\r\nv1\r\n';
  const got = (await main.bytes(expected.length)).toString('latin1');
  assert.equal(got, expected);
  mainOffset += expected.length;
  mainStream += got;
  await waitFor(() => Number(info().master_repl_offset) === mainOffset, 'master_repl_offset to count SELECT + SET');
});

test('SELECT is emitted when the DB changes; MULTI/EXEC is propagated as such', async () => {
  await cli.select(3);
  await cli.set('k3', 'x');
  await cli.select(0);
  await cli.multi().set('a', '1').incr('n').exec();
  const seen: string[][] = [];
  for (let i = 0; i < 7; i++) seen.push(await readCommand(main));
  assert.deepEqual(seen, [
    ['SELECT', '3'],
    ['set', 'k3', 'x'],
    ['SELECT', '0'],
    ['MULTI'],
    ['set', 'a', '1'],
    ['incr', 'n'],
    ['EXEC'],
  ]);
  const bytes = seen.reduce((n, argv) => n + encodedLength(argv), 0);
  mainStream += seen.map(encode).join('');
  mainOffset += bytes;
  await waitFor(() => Number(info().master_repl_offset) === mainOffset, 'offset');
});

function encode(argv: string[]): string {
  return `*${argv.length}\r\n` + argv.map((a) => `$${a.length}\r\n${a}\r\n`).join('');
}

function encodedLength(argv: string[]): number {
  return encode(argv).length;
}

test('PING every repl-ping-replica-period seconds, lowercase, counted in the offset', async () => {
  redisCli(srv.port, 'config', 'set', 'repl-ping-replica-period', '1');
  const t0 = Date.now();
  const got = (await main.bytes(14, 4000)).toString('latin1');
  assert.equal(got, '*1\r\n$4\r\nping\r\n');
  const got2 = (await main.bytes(14, 4000)).toString('latin1');
  assert.equal(got2, '*1\r\n$4\r\nping\r\n');
  assert.ok(Date.now() - t0 < 3500);
  redisCli(srv.port, 'config', 'set', 'repl-ping-replica-period', '1000');
  mainStream += got + got2;
  mainOffset += 28;
  // A PING may have been fed just before the period changed back.
  await main.nothingFor(200).catch(async () => {
    const extra = (await main.bytes(14)).toString('latin1');
    assert.equal(extra, '*1\r\n$4\r\nping\r\n');
    mainStream += extra;
    mainOffset += 14;
  });
  assert.equal(Number(info().master_repl_offset), mainOffset);
});

test('WAIT: GETACK is fed to replicas, their ACK releases the client', async () => {
  await cli.set('w', '1');
  const waiting = cli.wait(1, 5000);
  const set = await readCommand(main);
  assert.deepEqual(set, ['set', 'w', '1']);
  const getack = await main.command();
  assert.deepEqual(getack.argv, ['REPLCONF', 'GETACK', '*']);
  assert.equal(getack.bytes, 37);
  mainStream += encode(set) + encode(getack.argv);
  mainOffset += encodedLength(set) + 37;
  main.send('REPLCONF', 'ACK', String(mainOffset));
  assert.equal(await waiting, 1);
  // Not enough replicas: the timeout answers with the count.
  const t0 = Date.now();
  assert.equal(await cli.wait(2, 300), 1);
  assert.ok(Date.now() - t0 >= 280);
  const g2 = await main.command();
  assert.deepEqual(g2.argv, ['REPLCONF', 'GETACK', '*']);
  mainStream += encode(g2.argv);
  mainOffset += 37;
  main.send('REPLCONF', 'ACK', String(mainOffset));
  await waitFor(() => /offset=(\d+)/.exec(info().slave0 ?? '')?.[1] === String(mainOffset), 'INFO to show the ACKed offset');
});

test('ROLE lists online replicas with bulk port and offset', async () => {
  const c = await RawConn.connect(srv.port);
  const off = String(mainOffset);
  const exp =
    `*3\r\n$6\r\nmaster\r\n:${off}\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n7777\r\n$${off.length}\r\n${off}\r\n`;
  assert.equal(await c.roundtrip('*1\r\n$4\r\nROLE\r\n', exp.length), exp);
  c.close();
});

test('PSYNC continue: +CONTINUE <replid> and exactly the missing backlog bytes', async () => {
  const okBefore = Number(info('stats').sync_partial_ok);
  const back = Math.min(mainStream.length, 60);
  const from = mainOffset - back + 1;
  const r2 = await replica();
  await r2.handshake({ port: 7778 });
  r2.send('PSYNC', replid, String(from));
  assert.equal(await r2.line(), `+CONTINUE ${replid}`);
  assert.equal((await r2.bytes(back)).toString('latin1'), mainStream.slice(mainStream.length - back));
  await r2.nothingFor(100);
  assert.equal(Number(info('stats').sync_partial_ok), okBefore + 1);
  // Without capa psync2 the id is not repeated; asking for the next byte is accepted.
  const r3 = await replica();
  await r3.handshake({ port: 7779, capa: ['eof'] });
  r3.send('PSYNC', replid, String(mainOffset + 1));
  assert.equal(await r3.line(), '+CONTINUE');
  await r3.nothingFor(100);
  assert.equal(info().connected_slaves, '3');
  r2.close();
  r3.close();
  await waitFor(() => info().connected_slaves === '1', 'the extra replicas to be gone');
});

test('PSYNC beyond the backlog or with another id falls back to a full resync', async () => {
  const errBefore = Number(info('stats').sync_partial_err);
  const r = await replica();
  await r.handshake({ port: 7780 });
  r.send('PSYNC', replid, String(mainOffset + 2));
  const l = await r.lineAfterKeepalives();
  assert.match(l.line, /^\+FULLRESYNC [0-9a-f]{40} \d+$/);
  await r.rdbEof();
  const r4 = await replica();
  await r4.handshake({ port: 7781 });
  r4.send('PSYNC', 'f'.repeat(40), '1');
  assert.match((await r4.lineAfterKeepalives()).line, /^\+FULLRESYNC /);
  await r4.rdbEof();
  assert.equal(Number(info('stats').sync_partial_err), errBefore + 2);
  const i = info();
  assert.match(i.mirra_full_sync_reason_offset_out_of_range ?? '', /^\d+$/);
  assert.match(i.mirra_full_sync_reason_replid_mismatch ?? '', /^\d+$/);
  r.close();
  r4.close();
  await waitFor(() => info().connected_slaves === '1', 'the extra replicas to be gone');
});

test('disk-based full sync: $<len> payload without CRLF, stream right after it', async () => {
  redisCli(srv.port, 'config', 'set', 'repl-diskless-sync', 'no');
  try {
    const r = await replica();
    await r.handshake({ port: 7782 });
    r.send('PSYNC', '?', '-1');
    const l = await r.lineAfterKeepalives();
    const m = /^\+FULLRESYNC ([0-9a-f]{40}) (\d+)$/.exec(l.line);
    assert.ok(m, l.line);
    const rdb = await r.rdbBulk();
    checkRdb(rdb, 'disk.rdb');
    assert.ok(fs.existsSync(path.join(srv.dir, 'dump.rdb')), 'the dump file was written');
    await cli.set('after-disk', 'v');
    // No ACK needed: the first byte after the payload is the stream.
    const expected = encode(['SELECT', '0']) + encode(['set', 'after-disk', 'v']);
    await waitFor(() => r.buffered >= expected.length, 'the stream after the payload');
    assert.equal((await r.bytes(expected.length)).toString('latin1'), expected);
    r.close();
    // main got the same commands (SELECT again: the stream DB was reset by the new sync).
    assert.deepEqual(await readCommand(main), ['SELECT', '0']);
    assert.deepEqual(await readCommand(main), ['set', 'after-disk', 'v']);
    mainOffset += expected.length;
  } finally {
    redisCli(srv.port, 'config', 'set', 'repl-diskless-sync', 'yes');
  }
});

test('legacy SYNC: no +FULLRESYNC line, $<len> payload', async () => {
  const c = await FakeReplica.connect(srv.port);
  replicas.push(c);
  c.sendRaw('SYNC\r\n');
  const rdb = await c.rdbBulk();
  checkRdb(rdb, 'sync.rdb');
  c.close();
});

test('a replica arriving during a disk snapshot joins it (one snapshot, same offset, same payload)', async () => {
  assert.equal(redisCli(srv.port, 'debug', 'populate', '200000', 'pop', '20'), 'OK');
  redisCli(srv.port, 'config', 'set', 'repl-diskless-sync', 'no');
  try {
    const snapsBefore = Number(info().mirra_full_sync_snapshots);
    const a = await replica();
    const b = await replica();
    await a.handshake({ port: 7783 });
    await b.handshake({ port: 7784 });
    a.send('PSYNC', '?', '-1');
    const la = (await a.lineAfterKeepalives()).line;
    b.send('PSYNC', '?', '-1');
    const lb = (await b.lineAfterKeepalives()).line;
    assert.match(la, /^\+FULLRESYNC [0-9a-f]{40} \d+$/);
    assert.equal(lb, la, 'the joining replica gets the same replid and offset');
    const [ra, rb] = await Promise.all([a.rdbBulk(30000), b.rdbBulk(30000)]);
    assert.ok(ra.equals(rb), 'same payload');
    assert.equal(Number(info().mirra_full_sync_snapshots), snapsBefore + 1);
    assert.match(srv.log(), /Waiting for end of BGSAVE for SYNC/);
    await cli.set('after-join', '1');
    const expected = encode(['SELECT', '0']) + encode(['set', 'after-join', '1']);
    for (const r of [a, b]) assert.equal((await r.bytes(expected.length)).toString('latin1'), expected);
    a.close();
    b.close();
  } finally {
    redisCli(srv.port, 'config', 'set', 'repl-diskless-sync', 'yes');
    redisCli(srv.port, 'flushall');
  }
});

test('min-replicas-to-write: NOREPLICAS and min_slaves_good_slaves', async () => {
  main.send('REPLCONF', 'ACK', String(mainOffset));
  redisCli(srv.port, 'config', 'set', 'min-replicas-to-write', '2');
  try {
    await waitFor(() => info().min_slaves_good_slaves === '1', `min_slaves_good_slaves: ${JSON.stringify(info())}`);
    const i = redisCli(srv.port, 'info', 'replication').split(/\r?\n/);
    assert.equal(i.indexOf('min_slaves_good_slaves:1'), i.findIndex((l) => l.startsWith('connected_slaves:')) + 1);
    assert.equal(redisCli(srv.port, 'set', 'x', '1').trim(), 'NOREPLICAS Not enough good replicas to write.');
    assert.equal(redisCli(srv.port, 'get', 'x'), '');
    redisCli(srv.port, 'config', 'set', 'min-replicas-to-write', '1');
    await waitFor(() => redisCli(srv.port, 'set', 'x', '1') === 'OK', 'writes accepted with one good replica');
    mainOffset += encodedLength(['set', 'x', '1']);
  } finally {
    redisCli(srv.port, 'config', 'set', 'min-replicas-to-write', '0');
  }
});

test('a replica that triggers a reply is disconnected (Redis 7.0)', async () => {
  main.send('PING');
  assert.ok(await main.waitClosed(), 'replica link closed');
  await waitFor(() => info().connected_slaves === '0', 'no replicas');
  assert.match(srv.log(), /Replica generated a reply to command 'ping', disconnecting it: id=\d+/);
  assert.match(srv.log(), /Connection with replica 127\.0\.0\.1:7777 lost\./);
});

test('redis-cli --rdb (REPLCONF rdb-only) gets a valid RDB and is disconnected', { skip: !hasRedis() }, () => {
  const file = path.join(srv.dir, 'cli.rdb');
  const r = spawnSync('redis-cli', ['-p', String(srv.port), '--rdb', file], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  checkRdb(fs.readFileSync(file), 'cli-copy.rdb');
  const f = path.join(srv.dir, 'functions.rdb');
  const r2 = spawnSync('redis-cli', ['-p', String(srv.port), '--functions-rdb', f], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r2.status, 0, r2.stdout + r2.stderr);
  const rdb = fs.readFileSync(f);
  checkRdb(rdb, 'functions-copy.rdb');
  assert.ok(!rdb.includes(Buffer.from('before')), 'no keys in a functions-only RDB');
});
