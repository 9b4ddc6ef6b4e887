/**
 * Mirra as a replica of a real redis-server 7.0 master: full sync of a dataset written with
 * Redis's compact encodings and LZF-compressed strings, in both payload framings (diskless EOF
 * mark and disk `$<len>`), then the live stream (expiries, INCRBYFLOAT, SPOP, MULTI, EVAL
 * effects, several DBs), ACK offsets as the master sees them (WAIT), and a cut link that
 * resumes with a partial resync (`sync_partial_ok` grows on the master).
 */
import { test, before, after } from 'node:test';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { startMirra, startRedis, redisCli, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';
import { snapshot, readableTypes } from './replica-dataset.js';

function info(port: number, section = 'replication'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of redisCli(port, 'info', section).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** A client for writing to a master (binary-safe, unlike redis-cli arguments). */
async function client(port: number): Promise<Redis> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  return r;
}

/** A dataset exercising the RDB encodings Redis 7.0 writes. */
async function populate(port: number): Promise<void> {
  const r = await client(port);
  try {
    await r.set('str:small', 'hello');
    await r.set('str:int', '12345');
    await r.set('str:neg', '-987654321');
    await r.set('str:lzf', 'abcdefgh'.repeat(200)); // compressible: stored LZF-compressed
    await r.set('str:ttl', 'soon', 'EX', 1000);
    await r.set('str:bin', Buffer.from('a\r\nb\x00c\xff', 'latin1'));
    await r.rpush('list:small', 'a', 'b', '1', '2');
    await r.rpush('list:lzf', 'x'.repeat(300), 'y'.repeat(300));
    for (let i = 0; i < 3; i++) await r.rpush('list:big', ...Array.from({ length: 100 }, (_, j) => `item-${i}-${j}`));
    await r.hset('hash:small', 'f1', 'v1', 'f2', '2');
    await r.hset('hash:big', ...Array.from({ length: 300 }, (_, j) => [`field${j}`, `value${j}`]).flat());
    await r.sadd('set:int', '1', '2', '3', '100000');
    await r.sadd('set:str', 'a', 'b', 'c');
    await r.sadd('set:big', ...Array.from({ length: 200 }, (_, j) => `m${j}`));
    await r.zadd('zset:small', '1', 'one', '2.5', 'two', '-3', 'three');
    await r.zadd('zset:big', ...Array.from({ length: 200 }, (_, j) => [String(j / 3), `z${j}`]).flat());
    await r.xadd('stream', '1-1', 'a', '1');
    await r.xadd('stream', '2-1', 'b', '2');
    await r.select(3);
    await r.set('db3:key', 'in-db-3');
    await r.hset('db3:hash', 'x', 'y');
  } finally {
    r.disconnect();
  }
}

async function sameData(master: ServerHandle, replica: ServerHandle, what: string): Promise<void> {
  const types = await readableTypes(replica.port);
  let last = '';
  await waitFor(
    async () => {
      const [m, r] = await Promise.all([snapshot(master.port, types), snapshot(replica.port, types)]);
      last = JSON.stringify({ master: m, replica: r }).slice(0, 2000);
      try {
        assert.deepEqual(r, m);
        return true;
      } catch {
        return false;
      }
    },
    `${what}: replica dataset equal to the master's (${last})`,
    10000,
    100,
  );
}

let master: ServerHandle;
let replica: ServerHandle;
let diskMaster: ServerHandle;

before(async () => {
  master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
  await populate(master.port);
  replica = await startMirra({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
});
after(async () => {
  await replica?.stop();
  await master?.stop();
  await diskMaster?.stop();
});

test('full sync from a real 7.0 master (diskless, EOF mark): same dataset, ids and offsets', async () => {
  await waitFor(() => info(replica.port).master_link_status === 'up', 'link up', 15000);
  await sameData(master, replica, 'after full sync');
  const mi = info(master.port);
  const ri = info(replica.port);
  assert.equal(ri.master_replid, mi.master_replid);
  assert.equal(mi.connected_slaves, '1');
  assert.match(mi.slave0!, new RegExp(`^ip=127\\.0\\.0\\.1,port=${replica.port},state=online,offset=\\d+,lag=\\d+$`));
  assert.equal(redisCli(replica.port, 'get', 'str:lzf'), 'abcdefgh'.repeat(200));
  assert.ok(replica.log().includes('MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk'));
  assert.ok(replica.log().includes('Loading RDB produced by version 7.0.15'));
});

test('live stream: expiries, INCRBYFLOAT, SPOP, MULTI, EVAL effects, SELECT; ACKed offsets', async () => {
  const r = await client(master.port);
  try {
    await r.set('live:ex', 'v', 'EX', 500);
    await r.set('live:px', 'v', 'PX', 900000);
    await r.expire('str:small', 700);
    await r.set('live:float', '10.5');
    await r.incrbyfloat('live:float', '0.25');
    await r.spop('set:str');
    await r.spop('set:big', 3);
    await r.eval("redis.call('set', KEYS[1], 'e1'); redis.call('incr', KEYS[2]); return 1", 2, 'live:eval', 'live:counter');
    await r.eval("return redis.call('set', KEYS[1], 'single')", 1, 'live:single');
    await r.del('str:neg');
    await r.lpush('list:small', 'pushed');
    await r.hincrbyfloat('hash:small', 'f2', '1.5');
    await r.zincrby('zset:small', 10, 'one');
    await r.getdel('str:bin');
    await r.publish('chan', 'msg');
    await r.multi().set('live:tx1', 'a').incr('live:tx2').exec();
    // An expired key read on the master becomes a DEL in the stream.
    await r.set('live:gone', 'x', 'PX', 1);
    await new Promise((res) => setTimeout(res, 20));
    await r.get('live:gone');
    await r.select(5);
    await r.set('live:db5', 'five');
    await r.select(0);
    await r.set('live:last', 'done');
  } finally {
    r.disconnect();
  }
  await waitFor(() => redisCli(replica.port, 'get', 'live:last') === 'done', 'stream applied');
  await sameData(master, replica, 'after the live stream');
  assert.equal(redisCli(replica.port, 'get', 'live:float'), '10.75');
  assert.equal(redisCli(replica.port, 'get', 'live:tx1'), 'a');
  assert.equal(redisCli(replica.port, 'exists', 'live:gone'), '0');
  // Every command of the stream applied cleanly.
  assert.ok(!replica.log().includes('Command from master failed'), replica.log());
  // The master sees the replica's ACKs at its own offset.
  assert.equal(redisCli(master.port, 'wait', '1', '5000'), '1');
  const off = info(master.port).master_repl_offset;
  await waitFor(() => info(replica.port).slave_repl_offset === off, 'replica processed offset equals the master offset');
  await waitFor(() => info(master.port).slave0!.includes(`offset=${off},`), 'master sees the ACK');
  assert.equal(info(replica.port).master_repl_offset, off);
});

test('logically expired keys are hidden on the replica until the master deletes them', async () => {
  redisCli(master.port, 'debug', 'set-active-expire', '0');
  try {
    redisCli(master.port, 'set', 'exp:k', 'v', 'PX', '300');
    await waitFor(() => redisCli(replica.port, 'exists', 'exp:k') === '1', 'key replicated');
    const size = Number(redisCli(replica.port, 'dbsize'));
    await new Promise((r) => setTimeout(r, 400));
    // Expired for readers, but only the master deletes it.
    assert.equal(redisCli(replica.port, 'get', 'exp:k'), '');
    assert.equal(redisCli(replica.port, 'exists', 'exp:k'), '0');
    assert.equal(redisCli(replica.port, 'pttl', 'exp:k'), '-2');
    assert.equal(Number(redisCli(replica.port, 'dbsize')), size);
    // The master's lazy expiry propagates a DEL.
    assert.equal(redisCli(master.port, 'get', 'exp:k'), '');
    await waitFor(() => Number(redisCli(replica.port, 'dbsize')) === size - 1, 'DEL from the master applied');
  } finally {
    redisCli(master.port, 'debug', 'set-active-expire', '1');
  }
});

test('a cut link resumes with a partial resync (sync_partial_ok grows on the master)', async () => {
  const before = Number(info(master.port, 'stats').sync_partial_ok);
  const fullBefore = Number(info(master.port, 'stats').sync_full);
  assert.equal(redisCli(replica.port, 'client', 'kill', 'type', 'master'), '1');
  redisCli(master.port, 'set', 'while:down', '1');
  await waitFor(() => Number(info(master.port, 'stats').sync_partial_ok) === before + 1, 'partial resync accepted');
  assert.equal(Number(info(master.port, 'stats').sync_full), fullBefore);
  await waitFor(() => redisCli(replica.port, 'get', 'while:down') === '1', 'missed write applied');
  // Killing from the master side too.
  redisCli(master.port, 'client', 'kill', 'type', 'replica');
  redisCli(master.port, 'set', 'while:down2', '2');
  await waitFor(() => Number(info(master.port, 'stats').sync_partial_ok) === before + 2, 'second partial resync');
  await waitFor(() => redisCli(replica.port, 'get', 'while:down2') === '2', 'second missed write applied');
  await sameData(master, replica, 'after partial resyncs');
  assert.ok(replica.log().includes('Successful partial resynchronization with master.'));
});

test('disk-based sync from a real master ($len framing, stream right after the payload)', async () => {
  diskMaster = await startRedis({ args: ['--repl-diskless-sync', 'no'] });
  await populate(diskMaster.port);
  const r = await startMirra({ args: ['--replicaof', '127.0.0.1', String(diskMaster.port)] });
  try {
    await waitFor(() => info(r.port).master_link_status === 'up', 'link up', 15000);
    redisCli(diskMaster.port, 'set', 'after:sync', 'x');
    await sameData(diskMaster, r, 'disk-based sync');
    assert.match(r.log(), /MASTER <-> REPLICA sync: receiving \d+ bytes from master to disk/);
    assert.equal(info(r.port).master_replid, info(diskMaster.port).master_replid);
  } finally {
    await r.stop();
  }
});
