/**
 * The directives Mirra implements: name, aliases, type, default, whether CONFIG SET may change
 * it. One registry serves the config file, the command line, CONFIG GET/SET/REWRITE and INFO.
 * Defaults are Redis 7.0's. Subsystems read values through `Config` and subscribe to changes.
 *
 * Directives Redis 7.0 knows but Mirra does not implement are accepted with a warning
 * (see `redisOnlyDirectives` in registry.ts); anything else is a fatal config error.
 */

export type DirectiveType =
  | { kind: 'bool' }
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'memory'; min?: number; max?: number }
  | { kind: 'string' }
  | { kind: 'enum'; values: readonly string[] }
  /** Parsed by a dedicated function (save, client-output-buffer-limit, replicaof, bind...). */
  | { kind: 'special'; parse: (args: string[]) => unknown; format: (v: unknown) => string };

export interface Directive {
  name: string;
  aliases?: readonly string[];
  type: DirectiveType;
  default: unknown;
  /** CONFIG SET allowed. */
  mutable: boolean;
  /** Hidden from CONFIG GET * (Redis hides a few, e.g. none here). */
  sensitive?: boolean;
  /** Number of arguments; undefined = exactly one. 'any' = one or more. */
  args?: number | 'any';
}

export interface SavePoint {
  seconds: number;
  changes: number;
}

export interface OutputBufferLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}
export type OutputBufferLimits = Record<'normal' | 'replica' | 'pubsub', OutputBufferLimit>;

const bool = { kind: 'bool' } as const;
const str = { kind: 'string' } as const;
const int = (min = -2147483648, max = 2147483647) => ({ kind: 'int', min, max }) as const;
const mem = (min = 0, max = Number.MAX_SAFE_INTEGER) => ({ kind: 'memory', min, max }) as const;
const oneOf = (...values: string[]) => ({ kind: 'enum', values }) as const;

export function parseMemory(s: string): number | null {
  const m = /^(-?\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mul: Record<string, number> = { b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 * 1024, g: 1e9, gb: 1024 * 1024 * 1024 };
  return n * mul[unit]!;
}

function parseSave(args: string[]): SavePoint[] {
  if (args.length === 1 && args[0] === '') return [];
  const flat = args.length === 1 ? args[0]!.split(/\s+/).filter((x) => x !== '') : args;
  if (flat.length % 2 !== 0) throw new Error('Invalid save parameters');
  const out: SavePoint[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const seconds = Number(flat[i]);
    const changes = Number(flat[i + 1]);
    if (!Number.isInteger(seconds) || !Number.isInteger(changes) || seconds < 1 || changes < 0) {
      throw new Error('Invalid save parameters');
    }
    out.push({ seconds, changes });
  }
  return out;
}

function formatSave(v: unknown): string {
  return (v as SavePoint[]).map((p) => `${p.seconds} ${p.changes}`).join(' ');
}

function parseObl(args: string[]): Partial<OutputBufferLimits> {
  const flat = args.length === 1 ? args[0]!.split(/\s+/).filter((x) => x !== '') : args;
  if (flat.length % 4 !== 0) throw new Error('Wrong number of arguments in buffer limit configuration.');
  const out: Partial<OutputBufferLimits> = {};
  for (let i = 0; i < flat.length; i += 4) {
    let cls = flat[i]!.toLowerCase();
    if (cls === 'slave') cls = 'replica';
    if (cls !== 'normal' && cls !== 'replica' && cls !== 'pubsub') throw new Error('Invalid client class specified in buffer limit configuration.');
    const hard = parseMemory(flat[i + 1]!);
    const soft = parseMemory(flat[i + 2]!);
    const secs = Number(flat[i + 3]);
    if (hard === null || soft === null || !Number.isInteger(secs) || hard < 0 || soft < 0 || secs < 0) {
      throw new Error('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
    }
    out[cls] = { hard, soft, softSeconds: secs };
  }
  return out;
}

function formatObl(v: unknown): string {
  const o = v as OutputBufferLimits;
  return (['normal', 'replica', 'pubsub'] as const)
    .map((c) => `${c === 'replica' ? 'slave' : c} ${o[c].hard} ${o[c].soft} ${o[c].softSeconds}`)
    .join(' ');
}

function parseReplicaof(args: string[]): { host: string; port: number } | null {
  const flat = args.length === 1 ? args[0]!.split(/\s+/).filter((x) => x !== '') : args;
  if (flat.length === 2 && flat[0]!.toLowerCase() === 'no' && flat[1]!.toLowerCase() === 'one') return null;
  if (flat.length !== 2) throw new Error('wrong number of arguments');
  const port = Number(flat[1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('Invalid master port');
  return { host: flat[0]!, port };
}

function parseWords(args: string[]): string[] {
  const flat = args.length === 1 ? args[0]!.split(/\s+/).filter((x) => x !== '') : args;
  return flat;
}

export const directives: Directive[] = [
  // --- General
  { name: 'port', type: int(0, 65535), default: 6379, mutable: true },
  { name: 'bind', type: { kind: 'special', parse: parseWords, format: (v) => (v as string[]).join(' ') }, default: ['*', '-::*'], mutable: true, args: 'any' },
  { name: 'protected-mode', type: bool, default: true, mutable: true },
  { name: 'unixsocket', type: str, default: '', mutable: false },
  { name: 'unixsocketperm', type: int(0, 0o777), default: 0, mutable: false },
  { name: 'tcp-backlog', type: int(0), default: 511, mutable: false },
  { name: 'tcp-keepalive', type: int(0), default: 300, mutable: true },
  { name: 'timeout', type: int(0), default: 0, mutable: true },
  { name: 'daemonize', type: bool, default: false, mutable: false },
  { name: 'supervised', type: oneOf('no', 'upstart', 'systemd', 'auto'), default: 'no', mutable: false },
  { name: 'pidfile', type: str, default: '', mutable: false },
  { name: 'loglevel', type: oneOf('debug', 'verbose', 'notice', 'warning', 'nothing'), default: 'notice', mutable: true },
  { name: 'logfile', type: str, default: '', mutable: false },
  { name: 'syslog-enabled', type: bool, default: false, mutable: false },
  { name: 'databases', type: int(1), default: 16, mutable: false },
  { name: 'always-show-logo', type: bool, default: false, mutable: false },
  { name: 'set-proc-title', type: bool, default: true, mutable: false },
  { name: 'proc-title-template', type: str, default: '{title} {listen-addr} {server-mode}', mutable: true },
  { name: 'maxclients', type: int(1), default: 10000, mutable: true },
  { name: 'hz', type: int(1, 500), default: 10, mutable: true },
  { name: 'dynamic-hz', type: bool, default: true, mutable: true },
  { name: 'enable-debug-command', type: oneOf('yes', 'no', 'local'), default: 'no', mutable: false },
  { name: 'enable-protected-configs', type: oneOf('yes', 'no', 'local'), default: 'no', mutable: false },
  { name: 'requirepass', type: str, default: '', mutable: true, sensitive: true },
  { name: 'proto-max-bulk-len', type: mem(1024 * 1024), default: 512 * 1024 * 1024, mutable: true },
  { name: 'client-query-buffer-limit', type: mem(1024 * 1024), default: 1024 * 1024 * 1024, mutable: true },
  {
    name: 'client-output-buffer-limit',
    type: { kind: 'special', parse: parseObl, format: formatObl },
    default: {
      normal: { hard: 0, soft: 0, softSeconds: 0 },
      replica: { hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, softSeconds: 60 },
      pubsub: { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60 },
    },
    mutable: true,
    args: 'any',
  },
  { name: 'notify-keyspace-events', type: str, default: '', mutable: true },
  { name: 'slowlog-log-slower-than', type: int(-1), default: 10000, mutable: true },
  { name: 'slowlog-max-len', type: int(0), default: 128, mutable: true },
  { name: 'latency-monitor-threshold', type: int(0), default: 0, mutable: true },
  { name: 'latency-tracking', type: bool, default: true, mutable: true },
  { name: 'maxmemory', type: mem(), default: 0, mutable: true },
  {
    name: 'maxmemory-policy',
    type: oneOf('volatile-lru', 'allkeys-lru', 'volatile-lfu', 'allkeys-lfu', 'volatile-random', 'allkeys-random', 'volatile-ttl', 'noeviction'),
    default: 'noeviction',
    mutable: true,
  },
  { name: 'maxmemory-samples', type: int(1, 64), default: 5, mutable: true },
  { name: 'active-expire-effort', type: int(1, 10), default: 1, mutable: true },
  { name: 'lazyfree-lazy-eviction', type: bool, default: false, mutable: true },
  { name: 'lazyfree-lazy-expire', type: bool, default: false, mutable: true },
  { name: 'lazyfree-lazy-server-del', type: bool, default: false, mutable: true },
  { name: 'lazyfree-lazy-user-del', type: bool, default: false, mutable: true },
  { name: 'lazyfree-lazy-user-flush', type: bool, default: false, mutable: true },
  { name: 'shutdown-timeout', type: int(0), default: 10, mutable: true },
  { name: 'shutdown-on-sigint', type: str, default: 'default', mutable: true },
  { name: 'shutdown-on-sigterm', type: str, default: 'default', mutable: true },
  // --- Encodings (OBJECT ENCODING thresholds)
  { name: 'hash-max-listpack-entries', aliases: ['hash-max-ziplist-entries'], type: int(0), default: 512, mutable: true },
  { name: 'hash-max-listpack-value', aliases: ['hash-max-ziplist-value'], type: int(0), default: 64, mutable: true },
  { name: 'zset-max-listpack-entries', aliases: ['zset-max-ziplist-entries'], type: int(0), default: 128, mutable: true },
  { name: 'zset-max-listpack-value', aliases: ['zset-max-ziplist-value'], type: int(0), default: 64, mutable: true },
  { name: 'set-max-intset-entries', type: int(0), default: 512, mutable: true },
  { name: 'list-max-listpack-size', aliases: ['list-max-ziplist-size'], type: int(-5), default: -2, mutable: true },
  { name: 'list-compress-depth', type: int(0), default: 0, mutable: true },
  { name: 'stream-node-max-bytes', type: mem(), default: 4096, mutable: true },
  { name: 'stream-node-max-entries', type: int(0), default: 100, mutable: true },
  // --- Persistence
  { name: 'save', type: { kind: 'special', parse: parseSave, format: formatSave }, default: [{ seconds: 3600, changes: 1 }, { seconds: 300, changes: 100 }, { seconds: 60, changes: 10000 }], mutable: true, args: 'any' },
  { name: 'dbfilename', type: str, default: 'dump.rdb', mutable: true },
  { name: 'dir', type: str, default: '', mutable: true },
  { name: 'rdbcompression', type: bool, default: true, mutable: true },
  { name: 'rdbchecksum', type: bool, default: true, mutable: true },
  { name: 'stop-writes-on-bgsave-error', type: bool, default: true, mutable: true },
  { name: 'rdb-del-sync-files', type: bool, default: false, mutable: true },
  { name: 'rdb-save-incremental-fsync', type: bool, default: true, mutable: true },
  { name: 'sanitize-dump-payload', type: oneOf('no', 'yes', 'clients'), default: 'no', mutable: true },
  { name: 'appendonly', type: bool, default: false, mutable: true },
  { name: 'appendfilename', type: str, default: 'appendonly.aof', mutable: false },
  { name: 'appenddirname', type: str, default: 'appendonlydir', mutable: false },
  { name: 'appendfsync', type: oneOf('always', 'everysec', 'no'), default: 'everysec', mutable: true },
  { name: 'no-appendfsync-on-rewrite', type: bool, default: false, mutable: true },
  { name: 'auto-aof-rewrite-percentage', type: int(0), default: 100, mutable: true },
  { name: 'auto-aof-rewrite-min-size', type: mem(), default: 64 * 1024 * 1024, mutable: true },
  { name: 'aof-load-truncated', type: bool, default: true, mutable: true },
  { name: 'aof-use-rdb-preamble', type: bool, default: true, mutable: true },
  { name: 'aof-timestamp-enabled', type: bool, default: false, mutable: true },
  { name: 'aof-rewrite-incremental-fsync', type: bool, default: true, mutable: true },
  { name: 'aof-disable-auto-gc', type: bool, default: false, mutable: true },
  // --- Replication
  { name: 'replicaof', aliases: ['slaveof'], type: { kind: 'special', parse: parseReplicaof, format: (v) => (v ? `${(v as { host: string }).host} ${(v as { port: number }).port}` : '') }, default: null, mutable: false, args: 'any' },
  { name: 'masterauth', type: str, default: '', mutable: true, sensitive: true },
  { name: 'masteruser', type: str, default: '', mutable: true },
  { name: 'replica-read-only', aliases: ['slave-read-only'], type: bool, default: true, mutable: true },
  { name: 'replica-serve-stale-data', aliases: ['slave-serve-stale-data'], type: bool, default: true, mutable: true },
  { name: 'replica-priority', aliases: ['slave-priority'], type: int(0), default: 100, mutable: true },
  { name: 'replica-announced', type: bool, default: true, mutable: true },
  { name: 'replica-announce-ip', aliases: ['slave-announce-ip'], type: str, default: '', mutable: true },
  { name: 'replica-announce-port', aliases: ['slave-announce-port'], type: int(0, 65535), default: 0, mutable: true },
  { name: 'replica-lazy-flush', aliases: ['slave-lazy-flush'], type: bool, default: false, mutable: true },
  { name: 'replica-ignore-maxmemory', aliases: ['slave-ignore-maxmemory'], type: bool, default: true, mutable: true },
  { name: 'repl-ping-replica-period', aliases: ['repl-ping-slave-period'], type: int(1), default: 10, mutable: true },
  { name: 'repl-timeout', type: int(1), default: 60, mutable: true },
  { name: 'repl-backlog-size', type: mem(1), default: 1024 * 1024, mutable: true },
  { name: 'repl-backlog-ttl', type: int(0), default: 3600, mutable: true },
  { name: 'repl-diskless-sync', type: bool, default: true, mutable: true },
  { name: 'repl-diskless-sync-delay', type: int(0), default: 5, mutable: true },
  { name: 'repl-diskless-sync-max-replicas', type: int(0), default: 0, mutable: true },
  { name: 'repl-diskless-load', type: oneOf('disabled', 'on-empty-db', 'swapdb'), default: 'disabled', mutable: true },
  { name: 'repl-disable-tcp-nodelay', type: bool, default: false, mutable: true },
  { name: 'min-replicas-to-write', aliases: ['min-slaves-to-write'], type: int(0), default: 0, mutable: true },
  { name: 'min-replicas-max-lag', aliases: ['min-slaves-max-lag'], type: int(0), default: 10, mutable: true },
  // --- Mirra-only (documented in the README)
  /** Refuse a full resync from a master that came back with a new replid and an empty dataset. */
  { name: 'mirra-replica-refuse-empty-master', type: bool, default: false, mutable: true },
];
