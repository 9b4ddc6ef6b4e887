/**
 * Dataset snapshots for replication tests: every key of every DB with its type, a normalised
 * value and whether it has a TTL, read through commands only, so the same code reads a real
 * Redis master and a Mirra replica and the two snapshots can be compared with deepEqual.
 * Types whose read commands the server does not implement yet are reported as such rather than
 * read (the caller decides what that means for its assertions).
 */
import { Redis } from 'ioredis';

export interface KeySnapshot {
  type: string;
  value: unknown;
  ttl: boolean;
}

const READERS: Record<string, { cmd: string; read: (r: Redis, k: string) => Promise<unknown> }> = {
  string: { cmd: 'get', read: (r, k) => r.call('get', k) },
  list: { cmd: 'lrange', read: (r, k) => r.call('lrange', k, '0', '-1') },
  hash: { cmd: 'hgetall', read: async (r, k) => pairs((await r.call('hgetall', k)) as string[]) },
  set: { cmd: 'smembers', read: async (r, k) => ((await r.call('smembers', k)) as string[]).sort() },
  zset: { cmd: 'zrange', read: (r, k) => r.call('zrange', k, '0', '-1', 'WITHSCORES') },
  stream: { cmd: 'xrange', read: (r, k) => r.call('xrange', k, '-', '+') },
};

function pairs(flat: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}

/** Which value types this server can read back (its read commands exist). */
export async function readableTypes(port: number): Promise<Set<string>> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    const out = new Set<string>();
    for (const [type, { cmd }] of Object.entries(READERS)) {
      const info = (await r.call('command', 'info', cmd)) as unknown[];
      if (Array.isArray(info) && info[0] !== null) out.add(type);
    }
    return out;
  } finally {
    r.disconnect();
  }
}

/** Snapshot of DBs 0..dbs-1; types not in `types` are recorded with value '<unread>'. */
export async function snapshot(port: number, types: Set<string>, dbs = 16): Promise<Record<string, KeySnapshot>> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 1 });
  await r.connect();
  const out: Record<string, KeySnapshot> = {};
  try {
    for (let db = 0; db < dbs; db++) {
      await r.call('select', String(db));
      const keys = ((await r.call('keys', '*')) as string[]).sort();
      for (const k of keys) {
        const type = (await r.call('type', k)) as string;
        if (type === 'none') continue;
        const reader = READERS[type];
        const value = reader !== undefined && types.has(type) ? await reader.read(r, k) : '<unread>';
        const pttl = (await r.call('pttl', k)) as number;
        out[`${db}:${k}`] = { type, value, ttl: pttl > 0 };
      }
    }
  } finally {
    r.disconnect();
  }
  return out;
}
