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

/**
 * The servers a replication test file starts as it goes: the returned `node(kind, args)` starts
 * Mirra or redis-server without the diskless-sync delay (full syncs begin at once); every
 * server it started is stopped in after().
 */
export function replicationNodes(): (kind: 'mirra' | 'redis', args?: string[], where?: { dir: string; port: number }) => Promise<ServerHandle> {
  const started: ServerHandle[] = [];
  after(async () => {
    for (const s of started) await s.stop();
  });
  return async (kind, args = [], where) => {
    const opts = { args: ['--repl-diskless-sync-delay', '0', ...args], ...(where ?? {}) };
    const s = kind === 'mirra' ? await startMirra(opts) : await startRedis(opts);
    started.push(s);
    return s;
  };
}
