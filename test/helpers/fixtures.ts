/**
 * Per-file server fixtures for node:test: the servers start in `before()` with an ioredis
 * client each and stop in `after()`. They reach the file through a callback, so its tests keep
 * plain `srv` / `r` variables.
 */
import { before, after } from 'node:test';
import { Redis } from 'ioredis';
import { startMirra, startRedis, type ServerHandle, type StartOptions } from './servers.js';

/** One Mirra for the whole file, and an ioredis client on it. */
export function withMirra(onReady: (srv: ServerHandle, r: Redis) => void, opts: StartOptions = {}): void {
  let srv: ServerHandle | undefined;
  let r: Redis | undefined;
  before(async () => {
    srv = await startMirra(opts);
    r = new Redis(srv.port, '127.0.0.1');
    onReady(srv, r);
  });
  after(async () => {
    r?.disconnect();
    await srv?.stop();
  });
}

export interface Pair {
  mirra: ServerHandle;
  redis: ServerHandle;
  /** ioredis clients of Mirra and of redis-server. */
  m: Redis;
  r: Redis;
}

/** Mirra and a real redis-server side by side for the whole file (nothing when `skip`). */
export function withMirraAndRedis(onReady: (p: Pair) => void, skip: boolean | string, mirraOpts: StartOptions = {}): void {
  let p: Pair | undefined;
  before(async () => {
    if (skip) return;
    const [mirra, redis] = await Promise.all([startMirra(mirraOpts), startRedis()]);
    p = { mirra, redis, m: new Redis(mirra.port, '127.0.0.1'), r: new Redis(redis.port, '127.0.0.1') };
    onReady(p);
  });
  after(async () => {
    if (p === undefined) return;
    p.m.disconnect();
    p.r.disconnect();
    await Promise.all([p.mirra.stop(), p.redis.stop()]);
  });
}
