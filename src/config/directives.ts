/**
 * The directives Mirra implements: name, aliases, type, default, whether CONFIG SET may change
 * it. One registry serves the config file, the command line, CONFIG GET/SET/REWRITE and INFO.
 * Defaults, bounds, enum orders and flags are Redis 7.0.15's (checked against the real server
 * by test/e2e/config-diff.test.ts). Subsystems read values through `Config` and subscribe to
 * changes.
 *
 * Directives Redis 7.0 knows but Mirra does not implement are accepted with a warning (see
 * config.ts); anything else is a fatal config error.
 */

import { parseNotifyDirective, formatNotifyDirective } from '../server/notify.js';
import {
  INT_MAX,
  INT_MIN,
  LLONG_MAX,
  UINT_MAX,
  ULLONG_MAX,
  baseName,
  formatBind,
  formatOutputBufferLimits,
  formatReplicaof,
  formatSave,
  parseBind,
  parseOutputBufferLimits,
  parseReplicaof,
  parseSave,
  parseShutdownFlags,
  validateProcTitle,
  type OutputBufferLimits,
  type SavePoint,
} from './values.js';

export type { OutputBufferLimit, OutputBufferLimits, SavePoint, MasterAddress } from './values.js';

/** What a special parser gets besides the arguments. */
export interface ParseContext {
  /** The directive's value before this line / CONFIG SET. */
  current: unknown;
  /** True when this directive already appeared earlier in the config being loaded. */
  repeated: boolean;
}

export type DirectiveType =
  | { kind: 'bool' }
  /** A number read like string2ll, with inclusive bounds. */
  | { kind: 'int'; min: bigint; max: bigint }
  /** A size read like memtoull (units b k kb m mb g gb). */
  | { kind: 'memory'; min: bigint; max: bigint }
  /** A number read in base 8 (unixsocketperm). */
  | { kind: 'octal'; min: bigint; max: bigint }
  /** `validate` throws ConfigValueError with Redis's text. */
  | { kind: 'string'; validate?: (v: string) => void }
  /** Case-insensitive; `values` in Redis's order (its error message lists them so). */
  | { kind: 'enum'; values: readonly string[] }
  /** Parsed by a dedicated function (save, client-output-buffer-limit, replicaof, bind...). */
  | { kind: 'special'; parse: (args: string[], ctx: ParseContext) => unknown; format: (v: unknown) => string };

export interface Directive {
  name: string;
  aliases?: readonly string[];
  type: DirectiveType;
  default: unknown;
  /** CONFIG SET allowed. */
  mutable: boolean;
  /** CONFIG SET allowed only when enable-protected-configs permits it (dir, dbfilename). */
  protected?: boolean;
  /** A secret: never echoed in logs. */
  sensitive?: boolean;
  /**
   * Takes several arguments ('any'); a single non-empty argument is split at spaces first, so
   * `save "900 1 300 10"` equals `save 900 1 300 10`. Undefined = exactly one argument.
   */
  args?: 'any';
  /** Adjusts a valid value before it is stored (hz is clamped to 1..500 as Redis does). */
  normalize?: (v: unknown) => unknown;
}

const bool = { kind: 'bool' } as const;
const str = { kind: 'string' } as const;
const int = (min: bigint, max: bigint): DirectiveType => ({ kind: 'int', min, max });
const mem = (min: bigint, max: bigint): DirectiveType => ({ kind: 'memory', min, max });
const oneOf = (...values: string[]): DirectiveType => ({ kind: 'enum', values });
const special = (parse: (args: string[], ctx: ParseContext) => unknown, format: (v: unknown) => string): DirectiveType => ({
  kind: 'special',
  parse,
  format,
});

const DEFAULT_SAVE: SavePoint[] = [
  { seconds: 3600, changes: 1 },
  { seconds: 300, changes: 100 },
  { seconds: 60, changes: 10000 },
];

const DEFAULT_OBL: OutputBufferLimits = {
  normal: { hard: 0, soft: 0, softSeconds: 0 },
  replica: { hard: 256 * 1024 * 1024, soft: 64 * 1024 * 1024, softSeconds: 60 },
  pubsub: { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60 },
};

export const directives: Directive[] = [
  // --- Network
  { name: 'port', type: int(0n, 65535n), default: 6379, mutable: true },
  { name: 'bind', type: special(parseBind, formatBind), default: ['*', '-::*'], mutable: true, args: 'any' },
  { name: 'protected-mode', type: bool, default: true, mutable: true },
  { name: 'unixsocket', type: str, default: '', mutable: false },
  { name: 'unixsocketperm', type: { kind: 'octal', min: 0n, max: 0o777n }, default: 0, mutable: false },
  { name: 'tcp-backlog', type: int(0n, INT_MAX), default: 511, mutable: false },
  { name: 'tcp-keepalive', type: int(0n, INT_MAX), default: 300, mutable: true },
  { name: 'timeout', type: int(0n, INT_MAX), default: 0, mutable: true },
  { name: 'maxclients', type: int(1n, UINT_MAX), default: 10000, mutable: true },
  { name: 'requirepass', type: str, default: '', mutable: true, sensitive: true },
  { name: 'proto-max-bulk-len', type: mem(1024n * 1024n, LLONG_MAX), default: 512 * 1024 * 1024, mutable: true },
  { name: 'client-query-buffer-limit', type: mem(1024n * 1024n, LLONG_MAX), default: 1024 * 1024 * 1024, mutable: true },
  {
    name: 'client-output-buffer-limit',
    type: special((args, ctx) => parseOutputBufferLimits(args, ctx.current as OutputBufferLimits), formatOutputBufferLimits),
    default: DEFAULT_OBL,
    mutable: true,
    args: 'any',
  },
  // --- Process
  { name: 'daemonize', type: bool, default: false, mutable: false },
  { name: 'supervised', type: oneOf('upstart', 'systemd', 'auto', 'no'), default: 'no', mutable: false },
  { name: 'pidfile', type: str, default: '', mutable: false },
  { name: 'loglevel', type: oneOf('debug', 'verbose', 'notice', 'warning'), default: 'notice', mutable: true },
  { name: 'logfile', type: str, default: '', mutable: false },
  { name: 'syslog-enabled', type: bool, default: false, mutable: false },
  { name: 'databases', type: int(1n, INT_MAX), default: 16, mutable: false },
  { name: 'always-show-logo', type: bool, default: false, mutable: false },
  { name: 'set-proc-title', type: bool, default: true, mutable: false },
  { name: 'proc-title-template', type: { kind: 'string', validate: validateProcTitle }, default: '{title} {listen-addr} {server-mode}', mutable: true },
  {
    name: 'hz',
    type: int(0n, INT_MAX),
    default: 10,
    mutable: true,
    normalize: (v) => Math.min(500, Math.max(1, v as number)),
  },
  { name: 'dynamic-hz', type: bool, default: true, mutable: true },
  { name: 'enable-debug-command', type: oneOf('no', 'yes', 'local'), default: 'no', mutable: false },
  { name: 'enable-protected-configs', type: oneOf('no', 'yes', 'local'), default: 'no', mutable: false },
  { name: 'shutdown-timeout', type: int(0n, INT_MAX), default: 10, mutable: true },
  { name: 'shutdown-on-sigint', type: special(parseShutdownFlags, (v) => v as string), default: 'default', mutable: true, args: 'any' },
  { name: 'shutdown-on-sigterm', type: special(parseShutdownFlags, (v) => v as string), default: 'default', mutable: true, args: 'any' },
  // --- Monitoring
  { name: 'notify-keyspace-events', type: special(parseNotifyDirective, formatNotifyDirective), default: 0, mutable: true },
  { name: 'slowlog-log-slower-than', type: int(-1n, LLONG_MAX), default: 10000, mutable: true },
  { name: 'slowlog-max-len', type: int(0n, LLONG_MAX), default: 128, mutable: true },
  { name: 'latency-monitor-threshold', type: int(0n, LLONG_MAX), default: 0, mutable: true },
  { name: 'latency-tracking', type: bool, default: true, mutable: true },
  // --- Memory
  { name: 'maxmemory', type: mem(0n, ULLONG_MAX), default: 0, mutable: true },
  {
    name: 'maxmemory-policy',
    type: oneOf('volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'),
    default: 'noeviction',
    mutable: true,
  },
  { name: 'maxmemory-samples', type: int(1n, INT_MAX), default: 5, mutable: true },
  { name: 'active-expire-effort', type: int(1n, 10n), default: 1, mutable: true },
  { name: 'lazyfree-lazy-eviction', type: bool, default: false, mutable: true },
  { name: 'lazyfree-lazy-expire', type: bool, default: false, mutable: true },
  { name: 'lazyfree-lazy-server-del', type: bool, default: false, mutable: true },
  { name: 'lazyfree-lazy-user-del', type: bool, default: false, mutable: true },
  { name: 'lazyfree-lazy-user-flush', type: bool, default: false, mutable: true },
  // --- Encodings (OBJECT ENCODING thresholds)
  { name: 'hash-max-listpack-entries', aliases: ['hash-max-ziplist-entries'], type: int(0n, LLONG_MAX), default: 512, mutable: true },
  { name: 'hash-max-listpack-value', aliases: ['hash-max-ziplist-value'], type: mem(0n, LLONG_MAX), default: 64, mutable: true },
  { name: 'zset-max-listpack-entries', aliases: ['zset-max-ziplist-entries'], type: int(0n, LLONG_MAX), default: 128, mutable: true },
  { name: 'zset-max-listpack-value', aliases: ['zset-max-ziplist-value'], type: mem(0n, LLONG_MAX), default: 64, mutable: true },
  { name: 'set-max-intset-entries', type: int(0n, LLONG_MAX), default: 512, mutable: true },
  { name: 'list-max-listpack-size', aliases: ['list-max-ziplist-size'], type: int(INT_MIN, INT_MAX), default: -2, mutable: true },
  { name: 'list-compress-depth', type: int(0n, INT_MAX), default: 0, mutable: true },
  { name: 'stream-node-max-bytes', type: mem(0n, LLONG_MAX), default: 4096, mutable: true },
  { name: 'stream-node-max-entries', type: int(0n, LLONG_MAX), default: 100, mutable: true },
  { name: 'hll-sparse-max-bytes', type: mem(0n, LLONG_MAX), default: 3000, mutable: true },
  // --- Persistence
  {
    name: 'save',
    type: special((args, ctx) => parseSave(args, ctx.current as SavePoint[], ctx.repeated), formatSave),
    default: DEFAULT_SAVE,
    mutable: true,
    args: 'any',
  },
  { name: 'dbfilename', type: { kind: 'string', validate: baseName('dbfilename') }, default: 'dump.rdb', mutable: true, protected: true },
  { name: 'dir', type: str, default: '', mutable: true, protected: true },
  { name: 'rdbcompression', type: bool, default: true, mutable: true },
  { name: 'rdbchecksum', type: bool, default: true, mutable: false },
  { name: 'stop-writes-on-bgsave-error', type: bool, default: true, mutable: true },
  { name: 'rdb-del-sync-files', type: bool, default: false, mutable: true },
  { name: 'rdb-save-incremental-fsync', type: bool, default: true, mutable: true },
  { name: 'sanitize-dump-payload', type: oneOf('no', 'yes', 'clients'), default: 'no', mutable: true },
  { name: 'appendonly', type: bool, default: false, mutable: true },
  { name: 'appendfilename', type: { kind: 'string', validate: baseName('appendfilename') }, default: 'appendonly.aof', mutable: false },
  { name: 'appenddirname', type: { kind: 'string', validate: baseName('appenddirname') }, default: 'appendonlydir', mutable: false },
  { name: 'appendfsync', type: oneOf('everysec', 'always', 'no'), default: 'everysec', mutable: true },
  { name: 'no-appendfsync-on-rewrite', type: bool, default: false, mutable: true },
  { name: 'auto-aof-rewrite-percentage', type: int(0n, INT_MAX), default: 100, mutable: true },
  { name: 'auto-aof-rewrite-min-size', type: mem(0n, LLONG_MAX), default: 64 * 1024 * 1024, mutable: true },
  { name: 'aof-load-truncated', type: bool, default: true, mutable: true },
  { name: 'aof-use-rdb-preamble', type: bool, default: true, mutable: true },
  { name: 'aof-timestamp-enabled', type: bool, default: false, mutable: true },
  { name: 'aof-rewrite-incremental-fsync', type: bool, default: true, mutable: true },
  { name: 'aof-disable-auto-gc', type: bool, default: false, mutable: true },
  // --- Replication
  { name: 'replicaof', aliases: ['slaveof'], type: special(parseReplicaof, formatReplicaof), default: null, mutable: false, args: 'any' },
  { name: 'masterauth', type: str, default: '', mutable: true, sensitive: true },
  { name: 'masteruser', type: str, default: '', mutable: true },
  { name: 'replica-read-only', aliases: ['slave-read-only'], type: bool, default: true, mutable: true },
  { name: 'replica-serve-stale-data', aliases: ['slave-serve-stale-data'], type: bool, default: true, mutable: true },
  { name: 'replica-priority', aliases: ['slave-priority'], type: int(0n, INT_MAX), default: 100, mutable: true },
  { name: 'replica-announced', type: bool, default: true, mutable: true },
  { name: 'replica-announce-ip', aliases: ['slave-announce-ip'], type: str, default: '', mutable: true },
  { name: 'replica-announce-port', aliases: ['slave-announce-port'], type: int(0n, 65535n), default: 0, mutable: true },
  { name: 'replica-lazy-flush', aliases: ['slave-lazy-flush'], type: bool, default: false, mutable: true },
  { name: 'replica-ignore-maxmemory', aliases: ['slave-ignore-maxmemory'], type: bool, default: true, mutable: true },
  { name: 'repl-ping-replica-period', aliases: ['repl-ping-slave-period'], type: int(1n, INT_MAX), default: 10, mutable: true },
  { name: 'repl-timeout', type: int(1n, INT_MAX), default: 60, mutable: true },
  // Redis raises any smaller backlog to CONFIG_REPL_BACKLOG_MIN_SIZE (16 KB).
  { name: 'repl-backlog-size', type: mem(1n, LLONG_MAX), default: 1024 * 1024, mutable: true, normalize: (v) => Math.max(16 * 1024, v as number) },
  { name: 'repl-backlog-ttl', type: int(0n, LLONG_MAX), default: 3600, mutable: true },
  { name: 'repl-diskless-sync', type: bool, default: true, mutable: true },
  { name: 'repl-diskless-sync-delay', type: int(0n, INT_MAX), default: 5, mutable: true },
  { name: 'repl-diskless-sync-max-replicas', type: int(0n, INT_MAX), default: 0, mutable: true },
  { name: 'repl-diskless-load', type: oneOf('disabled', 'on-empty-db', 'swapdb'), default: 'disabled', mutable: true },
  { name: 'repl-disable-tcp-nodelay', type: bool, default: false, mutable: true },
  { name: 'min-replicas-to-write', aliases: ['min-slaves-to-write'], type: int(0n, INT_MAX), default: 0, mutable: true },
  { name: 'min-replicas-max-lag', aliases: ['min-slaves-max-lag'], type: int(0n, INT_MAX), default: 10, mutable: true },
  // --- Mirra-only (documented in the README)
  /** Refuse a full resync from a master that came back with a new replid and an empty dataset. */
  { name: 'mirra-replica-refuse-empty-master', type: bool, default: false, mutable: true },
];
