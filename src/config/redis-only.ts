/**
 * Types of the Redis 7.0 directives Mirra accepts but does not implement (TLS, cluster,
 * defragmentation, ACL log, OS tuning...). They are checked exactly as redis-server checks them,
 * so a config file that Redis would refuse is refused here too, and CONFIG GET shows the value
 * normalised as Redis shows it. Bounds and enum orders were read from the real 7.0.15 server.
 */
import type { Directive, DirectiveType } from './directives.js';
import { ConfigValueError, INT_MAX, LLONG_MAX, UINT_MAX, ULLONG_MAX, memtoull } from './values.js';

const bool: DirectiveType = { kind: 'bool' };
const str: DirectiveType = { kind: 'string' };
const int = (min: bigint, max: bigint): DirectiveType => ({ kind: 'int', min, max });
const mem = (min: bigint, max: bigint): DirectiveType => ({ kind: 'memory', min, max });
const oneOf = (...values: string[]): DirectiveType => ({ kind: 'enum', values });

function oomScoreAdjValues(args: string[]): string {
  if (args.length !== 3) throw new ConfigValueError('wrong number of arguments');
  for (const a of args) {
    const n = /^-?[0-9]+$/.test(a) ? Number(a) : NaN;
    if (!(n >= -2000 && n <= 2000)) throw new ConfigValueError('Invalid oom-score-adj-values, elements must be between -2000 and 2000.');
  }
  return args.map(Number).join(' ');
}

function latencyPercentiles(args: string[]): string {
  const out: number[] = [];
  for (const a of args) {
    const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(a) ? Number(a) : NaN;
    if (Number.isNaN(n)) throw new ConfigValueError('Invalid latency-tracking-info-percentiles parameters');
    if (n < 0 || n > 100) throw new ConfigValueError('latency-tracking-info-percentiles parameters should sit between [0.0,100.0]');
    out.push(n);
  }
  return out.map(String).join(' ');
}

function memoryOrPercent(args: string[]): string {
  const a = args[0]!;
  if (args.length !== 1) throw new ConfigValueError('wrong number of arguments');
  if (/^[0-9]+%$/.test(a) && a.length > 1) return a;
  const n = memtoull(a);
  if (n === null) throw new ConfigValueError('argument must be a memory or percent value');
  return String(n);
}

function hostname(v: string): void {
  if (!/^[A-Za-z0-9.-]*$/.test(v)) throw new ConfigValueError('Hostnames may only contain alphanumeric characters, hyphens or dots');
}

const special = (parse: (args: string[]) => string): DirectiveType => ({ kind: 'special', parse, format: (v) => v as string });

const table: [string, DirectiveType, ('any' | undefined)?][] = [
  ['acl-pubsub-default', oneOf('allchannels', 'resetchannels')],
  ['aclfile', str],
  ['acllog-max-len', int(0n, LLONG_MAX)],
  ['active-defrag-cycle-max', int(1n, 99n)],
  ['active-defrag-cycle-min', int(1n, 99n)],
  ['active-defrag-ignore-bytes', mem(1n, LLONG_MAX)],
  ['active-defrag-max-scan-fields', int(1n, LLONG_MAX)],
  ['active-defrag-threshold-lower', int(0n, 1000n)],
  ['active-defrag-threshold-upper', int(0n, 1000n)],
  ['activedefrag', bool],
  ['activerehashing', bool],
  ['aof_rewrite_cpulist', str],
  ['bgsave_cpulist', str],
  ['bind-source-addr', str],
  ['bio_cpulist', str],
  ['busy-reply-threshold', int(0n, LLONG_MAX)],
  ['lua-time-limit', int(0n, LLONG_MAX)],
  ['cluster-allow-pubsubshard-when-down', bool],
  ['cluster-allow-reads-when-down', bool],
  ['cluster-allow-replica-migration', bool],
  ['cluster-announce-bus-port', int(0n, 65535n)],
  ['cluster-announce-hostname', { kind: 'string', validate: hostname }],
  ['cluster-announce-ip', str],
  ['cluster-announce-port', int(0n, 65535n)],
  ['cluster-announce-tls-port', int(0n, 65535n)],
  ['cluster-config-file', str],
  ['cluster-enabled', bool],
  ['cluster-link-sendbuf-limit', mem(0n, ULLONG_MAX)],
  ['cluster-migration-barrier', int(0n, INT_MAX)],
  ['cluster-node-timeout', int(0n, LLONG_MAX)],
  ['cluster-port', int(0n, 65535n)],
  ['cluster-preferred-endpoint-type', oneOf('ip', 'hostname', 'unknown-endpoint')],
  ['cluster-replica-no-failover', bool],
  ['cluster-slave-no-failover', bool],
  ['cluster-replica-validity-factor', int(0n, INT_MAX)],
  ['cluster-slave-validity-factor', int(0n, INT_MAX)],
  ['cluster-require-full-coverage', bool],
  ['crash-log-enabled', bool],
  ['crash-memcheck-enabled', bool],
  ['disable-thp', bool],
  ['enable-module-command', oneOf('no', 'yes', 'local')],
  ['ignore-warnings', str],
  ['io-threads', int(1n, 128n)],
  ['io-threads-do-reads', bool],
  ['jemalloc-bg-thread', bool],
  ['latency-tracking-info-percentiles', special(latencyPercentiles), 'any'],
  ['lfu-decay-time', int(0n, INT_MAX)],
  ['lfu-log-factor', int(0n, INT_MAX)],
  ['maxmemory-clients', special(memoryOrPercent)],
  ['maxmemory-eviction-tenacity', int(0n, 100n)],
  ['oom-score-adj', oneOf('no', 'yes', 'relative', 'absolute')],
  ['oom-score-adj-values', special(oomScoreAdjValues), 'any'],
  ['propagation-error-behavior', oneOf('ignore', 'panic', 'panic-on-replicas')],
  ['replica-ignore-disk-write-errors', bool],
  ['server_cpulist', str],
  ['socket-mark-id', int(0n, UINT_MAX)],
  ['syslog-facility', oneOf('user', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7')],
  ['syslog-ident', str],
  ['tls-auth-clients', oneOf('no', 'yes', 'optional')],
  ['tls-ca-cert-dir', str],
  ['tls-ca-cert-file', str],
  ['tls-cert-file', str],
  ['tls-ciphers', str],
  ['tls-ciphersuites', str],
  ['tls-client-cert-file', str],
  ['tls-client-key-file', str],
  ['tls-client-key-file-pass', str],
  ['tls-cluster', bool],
  ['tls-dh-params-file', str],
  ['tls-key-file', str],
  ['tls-key-file-pass', str],
  ['tls-port', int(0n, 65535n)],
  ['tls-prefer-server-ciphers', bool],
  ['tls-protocols', str],
  ['tls-replication', bool],
  ['tls-session-cache-size', int(0n, INT_MAX)],
  ['tls-session-cache-timeout', int(0n, INT_MAX)],
  ['tls-session-caching', bool],
  ['tracking-table-max-keys', int(0n, LLONG_MAX)],
];

/** Directive descriptions (for parsing only) of Redis's directives Mirra does not implement. */
export const redisOnlyDirectives = new Map<string, Directive>(
  table.map(([name, type, args]) => [name, { name, type, default: null, mutable: false, ...(args ? { args } : {}) }]),
);
