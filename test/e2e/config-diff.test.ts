/**
 * CONFIG GET / SET / REWRITE / RESETSTAT, differential against the real redis-server 7.0:
 * every directive Mirra implements must show Redis's default, accept and refuse the same values
 * with the same error text, and normalise accepted values the same way.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startMirra, startRedis, hasRedis, tempDir, type ServerHandle } from '../helpers/servers.js';
import { directives } from '../../src/config/directives.js';

const skip = !hasRedis();
let mirra: ServerHandle;
let redis: ServerHandle;
let m: Redis;
let r: Redis;

function client(port: number): Redis {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => {});
  return c;
}

before(async () => {
  if (skip) return;
  [mirra, redis] = await Promise.all([startMirra(), startRedis()]);
  m = client(mirra.port);
  r = client(redis.port);
});
after(async () => {
  m?.disconnect();
  r?.disconnect();
  await Promise.all([mirra?.stop(), redis?.stop()]);
});

/** Redis replies as comparable text: errors as `E:<message>`. */
async function call(c: Redis, ...args: string[]): Promise<string> {
  try {
    return JSON.stringify(await c.call(args[0]!, ...args.slice(1)));
  } catch (e) {
    return `E:${(e as Error).message}`;
  }
}

async function both(...args: string[]): Promise<[string, string]> {
  return Promise.all([call(m, ...args), call(r, ...args)]);
}

/** Names whose value depends on how the test servers were started. */
const PER_RUN = new Set(['port', 'dir', 'logfile', 'pidfile', 'save', 'enable-debug-command', 'bind']);
/** Changing these would cut the test's own connections or start background work. */
const NOT_SET = new Set(['port', 'bind', 'requirepass', 'appendonly', 'maxclients']);

const implemented = directives.flatMap((d) => [d.name, ...(d.aliases ?? [])]).filter((n) => !n.startsWith('mirra-'));

test('CONFIG GET *: every directive Mirra implements shows the same default as Redis', { skip }, async () => {
  const [mm, rr] = await Promise.all([m.config('GET', '*'), r.config('GET', '*')]);
  const toMap = (flat: unknown) => {
    const a = flat as string[];
    const out = new Map<string, string>();
    for (let i = 0; i < a.length; i += 2) out.set(a[i]!, a[i + 1]!);
    return out;
  };
  const mirraCfg = toMap(mm);
  const redisCfg = toMap(rr);
  // The same set of names (Mirra also reports the Redis directives it only accepts).
  assert.deepEqual([...mirraCfg.keys()].filter((n) => !n.startsWith('mirra-')).sort(), [...redisCfg.keys()].sort());
  const diffs = implemented.filter((n) => !PER_RUN.has(n) && mirraCfg.get(n) !== redisCfg.get(n)).map((n) => `${n}: mirra=${mirraCfg.get(n)} redis=${redisCfg.get(n)}`);
  assert.deepEqual(diffs, []);
});

test('CONFIG SET: the same values accepted, normalised and refused (same texts) for every directive', { skip }, async () => {
  const probes = ['-1', '0', '1', '01', ' 5', '', 'abc', '1.5', 'yes', 'NO', '10kb', '1GB', '-1mb', '100000', '2147483648', '4294967296', '99999999999999999999', '-9223372036854775808', 'everysec', 'allkeys-lru', 'normal 1mb 2mb 3', '3600 1 300 100'];
  const diffs: string[] = [];
  for (const name of implemented) {
    if (NOT_SET.has(name)) continue;
    const [mDefault, rDefault] = await Promise.all([m.config('GET', name), r.config('GET', name)]);
    for (const v of probes) {
      const [a, b] = await both('CONFIG', 'SET', name, v);
      const [ga, gb] = await both('CONFIG', 'GET', name);
      if (a !== b || (a === '"OK"' && ga !== gb)) diffs.push(`${name} ${JSON.stringify(v)}: mirra=${a} ${ga} redis=${b} ${gb}`);
      await Promise.all([
        m.config('SET', name, (mDefault as string[])[1]!).catch(() => undefined),
        r.config('SET', name, (rDefault as string[])[1]!).catch(() => undefined),
      ]);
    }
  }
  assert.deepEqual(diffs, []);
});

test('CONFIG SET of several parameters: atomic, first error wins, as in Redis', { skip }, async () => {
  const cases = [
    ['timeout', '30', 'hz', '20', 'maxmemory-samples', '7'],
    ['timeout', '40', 'hz', 'abc'],
    ['timeout', '40', 'maxmemory', '-1'],
    ['hz', '5', 'hz', '6'],
    ['slave-priority', '1', 'replica-priority', '2'],
    ['hz', 'abc', 'nosuch', '1'],
    ['daemonize', 'yes', 'nosuch', '1'],
    ['nosuch', '1', 'daemonize', 'yes'],
    ['dir', '/tmp', 'hz', '7'],
    ['timeout'],
    ['save', '900 1 300 10', 'client-output-buffer-limit', 'pubsub 1mb 2mb 3 normal 0 0 0'],
    ['save', '1 2 3'],
    ['save', ''],
    ['client-output-buffer-limit', 'master 1 1 1'],
    ['notify-keyspace-events', 'KEA'],
    ['notify-keyspace-events', 'Z!'],
  ];
  for (const args of cases) {
    const [a, b] = await both('CONFIG', 'SET', ...args);
    assert.equal(a, b, `CONFIG SET ${args.join(' ')}`);
    const [ga, gb] = await both('CONFIG', 'GET', 'timeout', 'hz', 'maxmemory-samples', 'save', 'client-output-buffer-limit', 'notify-keyspace-events');
    assert.deepEqual(JSON.parse(ga).sort(), JSON.parse(gb).sort(), `values after CONFIG SET ${args.join(' ')}`);
  }
});

test('CONFIG GET with globs, several patterns, aliases and case', { skip }, async () => {
  const patterns = [['*max-*-entries*'], ['maxmemory*', 'maxmemory'], ['PORT'], ['port', 'PORT', 'p?rt'], ['slave*'], ['repl-[bd]*'], ['nosuch'], ['hash-max-ziplist-value', 'HASH-MAX-*']];
  for (const p of patterns) {
    const [a, b] = await both('CONFIG', 'GET', ...p);
    const pairs = (s: string) => {
      const flat = JSON.parse(s) as string[];
      const out: string[] = [];
      for (let i = 0; i < flat.length; i += 2) out.push(`${flat[i]}=${PER_RUN.has(flat[i]!.toLowerCase()) ? '*' : flat[i + 1]}`);
      return out.sort();
    };
    assert.deepEqual(pairs(a), pairs(b), `CONFIG GET ${p.join(' ')}`);
  }
  assert.deepEqual(await both('CONFIG', 'GET'), [`E:ERR wrong number of arguments for 'config|get' command`, `E:ERR wrong number of arguments for 'config|get' command`]);
});

/** CONFIG REWRITE output without what differs by design (per-run paths, Redis-only lines). */
function normaliseRewrite(text: string): { kept: string[]; appended: string[] } {
  const lines = text.split('\n').filter((l) => !/^(dir|logfile|pidfile|port|user|latency-tracking-info-percentiles|enable-debug-command|save) /.test(l));
  const at = lines.indexOf('# Generated by CONFIG REWRITE');
  return at === -1 ? { kept: lines, appended: [] } : { kept: lines.slice(0, at), appended: lines.slice(at + 1).sort() };
}

test('CONFIG REWRITE: same file as Redis writes, and it loads back', { skip }, async () => {
  const original = [
    '# Mirra/Redis rewrite test',
    'slave-read-only yes',
    'maxmemory 1mb',
    'client-output-buffer-limit normal 0 0 0',
    'hz 10',
    '',
    '# keep me',
    'timeout 0',
    'activerehashing yes',
    'loglevel notice',
    '',
  ].join('\n');
  const servers: ServerHandle[] = [];
  const outputs: string[] = [];
  try {
    for (const start of [startMirra, startRedis]) {
      const dir = tempDir();
      const srv = await start({ configText: original, dir });
      servers.push(srv);
      const c = client(srv.port);
      await c.call('CONFIG', 'SET', 'replica-read-only', 'no', 'maxmemory', '2mb', 'hz', '20', 'tcp-keepalive', '60', 'notify-keyspace-events', 'KEA', 'client-output-buffer-limit', 'pubsub 1mb 2mb 3', 'maxmemory-policy', 'allkeys-lru');
      assert.equal(await c.call('CONFIG', 'REWRITE'), 'OK');
      c.disconnect();
      outputs.push(fs.readFileSync(path.join(dir, `${srv.kind}-${srv.port}.conf`), 'utf8'));
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  const [mo, ro] = outputs.map(normaliseRewrite);
  assert.deepEqual(mo, ro);
  // Mirra starts from its rewritten file with the values it had.
  const dir = tempDir();
  const again = await startMirra({ configText: outputs[0]!, dir });
  try {
    const c = client(again.port);
    assert.deepEqual(await c.config('GET', 'maxmemory'), ['maxmemory', '2097152']);
    assert.deepEqual(await c.config('GET', 'replica-read-only'), ['replica-read-only', 'no']);
    c.disconnect();
  } finally {
    await again.stop();
  }
});

test('CONFIG REWRITE without a config file, CONFIG RESETSTAT', { skip }, async () => {
  assert.deepEqual(...(await both('CONFIG', 'REWRITE')));
  await both('GET', 'resetstat:missing');
  assert.deepEqual(...(await both('CONFIG', 'RESETSTAT')));
  await both('GET', 'resetstat:missing');
  await both('GET', 'resetstat:missing');
  const stat = (info: string, field: string) => new RegExp(`^${field}:(\\d+)`, 'm').exec(info)?.[1];
  const [mi, ri] = await Promise.all([m.info('stats'), r.info('stats')]);
  for (const f of ['keyspace_misses', 'keyspace_hits', 'expired_keys', 'rejected_connections', 'total_connections_received']) {
    assert.equal(stat(mi, f), stat(ri, f), f);
  }
  assert.equal(stat(mi, 'keyspace_misses'), '2');
});
