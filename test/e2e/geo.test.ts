/**
 * GEO commands through real clients (ioredis in RESP2, node-redis in RESP3, raw bytes), their
 * keyspace events, and a replica fed by a master's GEOADD / STORE searches. Every reply byte and
 * error text is compared with redis-server by test/differential/scripts/geo.txt; propagation is
 * checked in geo-propagation.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startMirra, type ServerHandle } from '../helpers/servers.js';
import { RawConn } from '../helpers/raw.js';
import { waitFor } from '../helpers/wait.js';
import { withMirra } from '../helpers/fixtures.js';

let srv: ServerHandle;
let r: Redis;

withMirra((s, c) => ((srv = s), (r = c)));

test('GEOADD / GEOPOS / GEODIST / GEOHASH with ioredis', async () => {
  assert.equal(await r.geoadd('Sicily', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania'), 2);
  assert.equal(await r.zscore('Sicily', 'Palermo'), '3479099956230698');
  assert.equal(await r.type('Sicily'), 'zset');
  assert.deepEqual(await r.geopos('Sicily', 'Palermo', 'nosuch'), [['13.36138933897018433', '38.11555639549629859'], null]);
  assert.equal(await r.geodist('Sicily', 'Palermo', 'Catania'), '166274.1516');
  assert.equal(await r.geodist('Sicily', 'Palermo', 'Catania', 'KM'), '166.2742');
  assert.equal(await r.geodist('Sicily', 'Palermo', 'Catania', 'MI'), '103.3182');
  assert.equal(await r.geodist('Sicily', 'Palermo', 'nosuch'), null);
  assert.deepEqual(await r.geohash('Sicily', 'Palermo', 'Catania', 'nosuch'), ['sqc8b49rny0', 'sqdtr74hyu0', null]);
  assert.equal(await r.geoadd('Sicily', 'CH', 13.361389, 38.2, 'Palermo'), 1);
  assert.equal(await r.geoadd('Sicily', 'XX', 1, 1, 'new'), 0);
  await assert.rejects(r.geoadd('Sicily', 200, 1, 'x'), /^ReplyError: ERR invalid longitude,latitude pair 200\.000000,1\.000000$/);
  await assert.rejects(r.geoadd('Sicily', 'NX', 'XX', 1, 1, 'x'), /ERR syntax error/);
  await assert.rejects(r.call('GEODIST', 'Sicily', 'a', 'b', 'yards'), /ERR unsupported unit provided. please use M, KM, FT, MI/);
  await r.set('str', 'v');
  await assert.rejects(r.geopos('str', 'a'), /WRONGTYPE/);
});

test('GEOSEARCH / GEORADIUS replies and options', async () => {
  await r.del('s');
  await r.geoadd('s', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania', 12.758489, 38.788135, 'edge1');
  assert.deepEqual(await r.geosearch('s', 'FROMLONLAT', 15, 37, 'BYRADIUS', 200, 'km', 'ASC'), ['Catania', 'Palermo']);
  assert.deepEqual(await r.call('GEOSEARCH', 's', 'FROMLONLAT', 15, 37, 'BYBOX', 350, 400, 'km', 'ASC', 'WITHDIST', 'WITHHASH', 'WITHCOORD'), [
    ['Catania', '56.4413', 3479447370796909, ['15.08726745843887329', '37.50266842333162032']],
    ['Palermo', '190.4424', 3479099956230698, ['13.36138933897018433', '38.11555639549629859']],
  ]);
  assert.deepEqual(await r.georadius('s', 15, 37, 300, 'km', 'DESC', 'COUNT', 2), ['edge1', 'Palermo']);
  assert.deepEqual(await r.call('GEORADIUSBYMEMBER', 's', 'Palermo', 100, 'km', 'WITHDIST', 'ASC'), [
    ['Palermo', '0.0000'],
    ['edge1', '91.4007'],
  ]);
  assert.deepEqual(await r.call('GEORADIUS_RO', 's', 15, 37, 200, 'km', 'ASC'), ['Catania', 'Palermo']);
  assert.equal(await r.geosearchstore('dst', 's', 'FROMMEMBER', 'Palermo', 'BYRADIUS', 200, 'km', 'STOREDIST'), 3);
  assert.deepEqual(await r.zrange('dst', 0, -1), ['Palermo', 'edge1', 'Catania']);
  assert.equal(await r.zscore('dst', 'Palermo'), '0');
  assert.equal(await r.georadius('s', 15, 37, 200, 'km', 'STORE', 'dst2'), 2);
  assert.deepEqual(await r.zrange('dst2', 0, -1, 'WITHSCORES'), ['Palermo', '3479099956230698', 'Catania', '3479447370796909']);
  assert.equal(await r.georadius('s', 50, 50, 1, 'km', 'STORE', 'dst2'), 0);
  assert.equal(await r.exists('dst2'), 0);
  await assert.rejects(r.call('GEOSEARCH', 's', 'BYRADIUS', 1, 'km', 'ASC', 'WITHDIST'), /ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH/);
  await assert.rejects(r.call('GEOSEARCH', 's', 'FROMLONLAT', 1, 1, 'WITHDIST', 'ASC'), /ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH/);
  await assert.rejects(r.geosearch('s', 'FROMMEMBER', 'nosuch', 'BYRADIUS', 1, 'km'), /ERR could not decode requested zset member/);
  await assert.rejects(r.georadius('s', 15, 37, 200, 'km', 'STORE', 'x', 'WITHDIST'), /ERR STORE option in GEORADIUS is not compatible/);
  await assert.rejects(r.georadius('s', 15, 37, 200, 'km', 'ANY'), /ERR the ANY argument requires COUNT argument/);
  await assert.rejects(r.georadius('s', 15, 37, 200, 'km', 'COUNT', 0), /ERR COUNT must be > 0/);
  await assert.rejects(r.call('GEORADIUS_RO', 's', 15, 37, 200, 'km', 'STORE', 'x'), /ERR syntax error/);
});

test('RESP3: coordinates are doubles, distances bulk strings, missing members nulls', async () => {
  await r.del('p');
  await r.geoadd('p', 13.361389, 38.115556, 'Palermo');
  const raw = await RawConn.connect(srv.port);
  try {
    // HELLO's reply varies (client id): send everything at once and compare the tail.
    raw.write('*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n');
    raw.write('*4\r\n$6\r\nGEOPOS\r\n$1\r\np\r\n$7\r\nPalermo\r\n$1\r\nx\r\n');
    raw.write('*4\r\n$7\r\nGEODIST\r\n$1\r\np\r\n$7\r\nPalermo\r\n$1\r\nx\r\n');
    const tail = '*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n' + '_\r\n';
    let got = '';
    await waitFor(async () => (got += await raw.drain(20)).endsWith(tail), `RESP3 GEOPOS/GEODIST replies (got ${JSON.stringify(got)})`);
  } finally {
    raw.close();
  }
  const c3 = createClient({ url: `redis://127.0.0.1:${srv.port}`, RESP: 3 });
  await c3.connect();
  try {
    assert.deepEqual(await c3.sendCommand(['GEOPOS', 'p', 'Palermo']), [[13.361389338970184, 38.1155563954963]]);
    assert.deepEqual(await c3.sendCommand(['GEOSEARCH', 'p', 'FROMLONLAT', '13', '38', 'BYRADIUS', '100', 'km', 'WITHDIST']), [
      ['Palermo', '34.1601'],
    ]);
  } finally {
    await c3.quit();
  }
});

test('keyspace events: zadd for GEOADD, georadiusstore / geosearchstore / del for stores', async () => {
  const sub = new Redis(srv.port, '127.0.0.1');
  const events: string[] = [];
  try {
    await r.config('SET', 'notify-keyspace-events', 'KEA');
    sub.on('pmessage', (_p, channel: string, key: string) => events.push(`${channel.slice(channel.indexOf(':') + 1)} ${key}`));
    // Subscribing before ioredis's ready check (INFO) has run makes that INFO fail in
    // subscriber mode and drops the connection: wait for the connection to be ready first.
    await sub.ping();
    await sub.psubscribe('__keyevent@0__:*');
    await r.del('ev', 'evd', 'evd2');
    await r.geoadd('ev', 1, 1, 'a', 2, 2, 'b');
    await r.georadius('ev', 1, 1, 500, 'km', 'STORE', 'evd');
    await r.geosearchstore('evd2', 'ev', 'FROMLONLAT', 1, 1, 'BYRADIUS', 500, 'km');
    await r.georadius('ev', 50, 50, 1, 'km', 'STORE', 'evd');
    await r.set('done', '1');
    await waitFor(() => events.includes('set done'), 'events delivered');
    assert.deepEqual(
      events.filter((e) => !e.startsWith('del ev ') && e !== 'set done' && !e.startsWith('new')),
      ['zadd ev', 'georadiusstore evd', 'geosearchstore evd2', 'del evd'],
    );
  } finally {
    await r.config('SET', 'notify-keyspace-events', '');
    sub.disconnect();
  }
});

test('a replica receives GEOADD as ZADD and the stored search results', async () => {
  const replica = await startMirra({ args: ['--replicaof', '127.0.0.1', String(srv.port)] });
  const rr = new Redis(replica.port, '127.0.0.1');
  try {
    await waitFor(async () => /master_link_status:up/.test(await rr.info('replication')), 'replica link up');
    await r.geoadd('rep', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania');
    await r.georadius('rep', 15, 37, 200, 'km', 'STOREDIST', 'repd');
    await r.set('repdone', '1');
    await waitFor(async () => (await rr.get('repdone')) === '1', 'replica caught up');
    assert.deepEqual(await rr.zrange('rep', 0, -1, 'WITHSCORES'), await r.zrange('rep', 0, -1, 'WITHSCORES'));
    assert.deepEqual(await rr.zrange('repd', 0, -1, 'WITHSCORES'), await r.zrange('repd', 0, -1, 'WITHSCORES'));
    assert.deepEqual(await rr.geopos('rep', 'Palermo'), [['13.36138933897018433', '38.11555639549629859']]);
    // GEORADIUS is a write command (it may STORE): refused on a read-only replica, unlike _RO.
    await assert.rejects(rr.georadius('rep', 15, 37, 200, 'km'), /READONLY/);
    assert.deepEqual(await rr.call('GEORADIUS_RO', 'rep', 15, 37, 200, 'km', 'ASC'), ['Catania', 'Palermo']);
  } finally {
    rr.disconnect();
    await replica.stop();
  }
});
