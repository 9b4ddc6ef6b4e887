/**
 * Keyspace notifications of the list, hash and set commands, compared with the real
 * redis-server: the same command sequence runs on both, and the `__keyevent@0__` messages
 * (event name and key, in order) must be identical.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startMirra, startRedis, hasRedis, type ServerHandle } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

const SCRIPT: (string | number)[][] = [
  ['rpush', 'l', 'a', 'b', 'c'],
  ['lpush', 'l', 'z'],
  ['lpushx', 'l', 'y'],
  ['rpushx', 'nolist', 'y'],
  ['linsert', 'l', 'before', 'a', 'x'],
  ['linsert', 'l', 'before', 'nosuch', 'x'],
  ['lset', 'l', '0', 'Y'],
  ['lpop', 'l'],
  ['rpop', 'l', '2'],
  ['lpop', 'l', '0'],
  ['lrem', 'l', '0', 'nosuch'],
  ['lrem', 'l', '1', 'x'],
  ['ltrim', 'l', '0', '-1'],
  ['rpush', 'l', 'p', 'q', 'r'],
  ['ltrim', 'l', '1', '-1'],
  ['lmove', 'l', 'l2', 'left', 'right'],
  ['rpoplpush', 'l2', 'l3'],
  ['lmpop', '2', 'nolist', 'l', 'left', 'count', '10'],
  ['rpush', 'b', '1', '2'],
  ['blpop', 'b', '0'],
  ['blmove', 'b', 'b2', 'left', 'left', '0'],
  ['ltrim', 'b2', '5', '10'],
  ['hset', 'h', 'f', '1', 'g', '2'],
  ['hsetnx', 'h', 'f', '3'],
  ['hsetnx', 'h', 'n', '3'],
  ['hincrby', 'h', 'f', '5'],
  ['hincrbyfloat', 'h', 'g', '0.5'],
  ['hdel', 'h', 'nosuch'],
  ['hdel', 'h', 'f', 'g', 'n'],
  ['sadd', 's', '1', '2', '3'],
  ['sadd', 's', '1'],
  ['srem', 's', 'nosuch'],
  ['srem', 's', '1'],
  ['smove', 's', 's2', '2'],
  ['smove', 's', 's2', '3'],
  ['spop', 's2', '1'],
  ['spop', 's2'],
  ['sadd', 's', 'a', 'b', 'c'],
  ['spop', 's', '0'],
  ['spop', 's', '5'],
  ['sadd', 'i1', '1', '2'],
  ['sadd', 'i2', '2', '3'],
  ['sinterstore', 'd', 'i1', 'i2'],
  ['sunionstore', 'd', 'i1', 'i2'],
  ['sdiffstore', 'd', 'i1', 'i1'],
  ['sinterstore', 'd', 'i1', 'nosuch'],
  ['set', 'marker', 'end'],
];

async function eventsOf(port: number): Promise<string[]> {
  const cmd = new Redis(port, '127.0.0.1');
  const sub = new Redis(port, '127.0.0.1');
  try {
    await cmd.config('SET', 'notify-keyspace-events', 'KEA');
    await cmd.flushall();
    const events: string[] = [];
    sub.on('pmessage', (_p: string, channel: string, key: string) => events.push(`${channel.split(':')[1]} ${key}`));
    await sub.psubscribe('__keyevent@0__:*');
    for (const c of SCRIPT) {
      await cmd.call(String(c[0]), ...c.slice(1).map(String)).catch(() => null);
    }
    await waitFor(() => events.includes('set marker'), 'the marker event');
    return events;
  } finally {
    cmd.disconnect();
    sub.disconnect();
  }
}

let mirra: ServerHandle;
let redis: ServerHandle | undefined;

before(async () => {
  mirra = await startMirra();
  if (hasRedis()) redis = await startRedis();
});
after(async () => {
  await mirra.stop();
  await redis?.stop();
});

test('list, hash and set commands send the same keyspace events as redis-server', { skip: !hasRedis() && 'redis-server not installed' }, async () => {
  const expected = await eventsOf(redis!.port);
  const actual = await eventsOf(mirra.port);
  assert.deepEqual(actual, expected);
});
