/**
 * MEMORY USAGE | STATS | DOCTOR | MALLOC-STATS | PURGE | HELP (part of the debug family).
 *
 * MEMORY USAGE reports what Redis 7.0 would account for the key (server/memory.ts explains
 * why and how). MEMORY STATS reports the process's real figures (V8 heap and RSS, the same
 * numbers INFO memory shows) in Redis's layout, with the per-database dictionary overheads
 * computed by Redis's formula. Mirra has no jemalloc, so MALLOC-STATS answers what Redis
 * built with another allocator answers, and PURGE has nothing to purge.
 */
import type { Client } from '../net/client.js';
import type { CommandDef } from './spec.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import { DEFAULT_SAMPLES, keyMemoryUsage, quicklistPackedThreshold } from '../server/memory.js';
import { stringEncoding } from '../types/string-encoding.js';

const HELP = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Prints this help.',
];

function help(c: Client): void {
  c.w.array(HELP.length);
  for (const line of HELP) c.w.simple(line);
}

function usage(c: Client, argv: string[]): void {
  let samples = DEFAULT_SAMPLES;
  for (let j = 3; j < argv.length; j++) {
    if (argv[j]!.toLowerCase() === 'samples' && j + 1 < argv.length) {
      const n = parseInt64(argv[j + 1]!);
      if (n === null) {
        c.w.error(Err.notInteger);
        return;
      }
      if (n < 0) {
        c.w.error(Err.syntax);
        return;
      }
      samples = n === 0 ? Number.MAX_SAFE_INTEGER : n;
      j++;
    } else {
      c.w.error(Err.syntax);
      return;
    }
  }
  const key = argv[2]!;
  // Like Redis (dictFind), a logically expired key that is still stored is measured.
  const v = c.db.dict.get(key);
  if (v === undefined) {
    c.w.nullBulk();
    return;
  }
  const cfg = c.server.config;
  c.w.int(
    keyMemoryUsage(key, v, samples, {
      stringEncoding: typeof v === 'string' ? stringEncoding(c.db, key, v) : undefined,
      listFill: cfg.int('list-max-listpack-size'),
      packedThreshold: quicklistPackedThreshold(c.server),
      streamNodeMaxBytes: cfg.int('stream-node-max-bytes'),
    }),
  );
}

/** Highest used-memory figure seen by MEMORY STATS/DOCTOR (V8 keeps no allocation peak). */
let peakSeen = 0;

interface MemoryFigures {
  used: number;
  peak: number;
  active: number;
  rss: number;
  replicaBuffers: number;
  clientBuffers: number;
  replicas: number;
  normalClients: number;
  dbs: { id: number; main: number; expires: number }[];
  keys: number;
}

/** Redis's dictSlots for a dict of n entries (power of two >= n, at least 4; 0 when empty). */
function slots(n: number): number {
  if (n === 0) return 0;
  let s = 4;
  while (s < n) s *= 2;
  return s;
}

function figures(c: Client): MemoryFigures {
  const m = process.memoryUsage();
  const used = m.heapUsed + m.external + m.arrayBuffers;
  peakSeen = Math.max(peakSeen, used);
  let replicaBuffers = 0;
  let clientBuffers = 0;
  let replicas = 0;
  let normalClients = 0;
  for (const cl of c.server.clients.values()) {
    if (cl.flags.replica && !cl.flags.monitor) {
      replicas++;
      replicaBuffers += cl.outputBytes;
    } else if (!cl.flags.master) {
      normalClients++;
      clientBuffers += cl.outputBytes;
    }
  }
  const dbs: MemoryFigures['dbs'] = [];
  let keys = 0;
  for (const db of c.server.keyspace.dbs) {
    const n = db.dict.size;
    if (n === 0) continue;
    keys += n;
    // Redis: entries + bucket array + one robj per value; expires: entries + buckets.
    dbs.push({ id: db.id, main: n * 24 + slots(n) * 8 + n * 16, expires: db.expires.size * 24 + slots(db.expires.size) * 8 });
  }
  return {
    used,
    peak: peakSeen,
    active: m.heapTotal + m.external + m.arrayBuffers,
    rss: m.rss,
    replicaBuffers,
    clientBuffers,
    replicas,
    normalClients,
    dbs,
    keys,
  };
}

/** Ratios are C floats in Redis; printing the float's value keeps the digits alike. */
function ratio(a: number, b: number): number {
  return Math.fround(b === 0 ? 0 : a / b);
}

function stats(c: Client): void {
  const f = figures(c);
  const w = c.w;
  let overhead = f.replicaBuffers + f.clientBuffers;
  for (const d of f.dbs) overhead += d.main + d.expires;
  const dataset = f.used > overhead ? f.used - overhead : 0;
  w.map(27 + f.dbs.length);
  const int = (k: string, v: number): void => {
    w.bulk(k);
    w.int(Math.max(0, Math.round(v)));
  };
  const dbl = (k: string, v: number): void => {
    w.bulk(k);
    w.double(v);
  };
  int('peak.allocated', f.peak);
  int('total.allocated', f.used);
  int('startup.allocated', 0);
  int('replication.backlog', 0);
  int('clients.slaves', f.replicaBuffers);
  int('clients.normal', f.clientBuffers);
  int('cluster.links', 0);
  int('aof.buffer', 0);
  int('lua.caches', 0);
  int('functions.caches', 0);
  for (const d of f.dbs) {
    w.bulk(`db.${d.id}`);
    w.map(3);
    int('overhead.hashtable.main', d.main);
    int('overhead.hashtable.expires', d.expires);
    int('overhead.hashtable.slot-to-keys', 0);
  }
  int('overhead.total', overhead);
  int('keys.count', f.keys);
  int('keys.bytes-per-key', f.keys === 0 ? 0 : Math.floor(f.used / f.keys));
  int('dataset.bytes', dataset);
  dbl('dataset.percentage', ratio(dataset * 100, f.used));
  dbl('peak.percentage', ratio(f.used * 100, f.peak));
  int('allocator.allocated', f.used);
  int('allocator.active', f.active);
  int('allocator.resident', f.rss);
  dbl('allocator-fragmentation.ratio', ratio(f.active, f.used));
  int('allocator-fragmentation.bytes', f.active - f.used);
  dbl('allocator-rss.ratio', ratio(f.rss, f.active));
  int('allocator-rss.bytes', f.rss - f.active);
  dbl('rss-overhead.ratio', 1);
  int('rss-overhead.bytes', 0);
  dbl('fragmentation', ratio(f.rss, f.used));
  int('fragmentation.bytes', f.rss - f.used);
}

/**
 * MEMORY DOCTOR: Redis's report, limited to the checks that mean something for a V8 heap
 * (allocator fragmentation ratios do not: V8 reserves and compacts on its own terms).
 * "Empty" is judged by the dataset (no keys) since the runtime alone uses several MB.
 */
function doctor(c: Client): void {
  const f = figures(c);
  let report: string;
  if (f.keys === 0) {
    report =
      'Hi Sam, this instance is empty or is using very little memory, my issues detector can\'t be used in these conditions. ' +
      'Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n';
  } else {
    const issues: string[] = [];
    if (f.peak > (f.used * 3) / 2) {
      issues.push(
        ' * Peak memory: In the past this instance used more than 150% the memory that is currently using. ' +
          'The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, ' +
          'however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) ' +
          'is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. ' +
          'If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, ' +
          'otherwise the only other option is to shutdown and restart the instance.\n\n',
      );
    }
    if (f.replicas > 0 && f.replicaBuffers / f.replicas > 10 * 1024 * 1024) {
      issues.push(
        ' * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). ' +
          'This likely means that there is some replica instance that is struggling receiving data, either because it is too slow ' +
          'or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what ' +
          'replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and ' +
          'the CLIENT LIST command to check the output buffers of each replica.\n\n',
      );
    }
    if (f.normalClients > 0 && f.clientBuffers / f.normalClients > 200 * 1024) {
      issues.push(
        ' * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). ' +
          'This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, ' +
          'so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large ' +
          'sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it ' +
          'causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n',
      );
    }
    report =
      issues.length === 0
        ? "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
        : "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + issues.join('') + "I'm here to keep you safe, Sam. I want to help you.\n";
  }
  c.w.verbatim(report, 'txt');
}

function mallocStats(c: Client): void {
  c.w.simple('Stats not supported for the current allocator');
}

function purge(c: Client): void {
  c.w.ok();
}

export const memoryCommand: CommandDef = {
  name: 'memory',
  subcommands: [
    { name: 'usage', handler: usage },
    { name: 'stats', handler: stats },
    { name: 'doctor', handler: doctor },
    { name: 'malloc-stats', handler: mallocStats },
    { name: 'purge', handler: purge },
    { name: 'help', handler: help },
  ],
};
