/**
 * INFO: every section Redis 7.0 prints, with its field names, in its order. Values come from
 * the subsystems; sections are joined with CRLF line endings and a blank line between them.
 */
import os from 'node:os';
import type { Server } from './server.js';
import { REDIS_VERSION, MIRRA_VERSION } from './server.js';
import { commandTable } from '../commands/table.js';
import type { CommandSpec } from '../commands/spec.js';

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'errorstats', 'cluster', 'keyspace'];
const ALL_SECTIONS = [...DEFAULT_SECTIONS.slice(0, 7), 'commandstats', 'latencystats', ...DEFAULT_SECTIONS.slice(7)];

export function infoText(server: Server, args: string[]): string {
  const wanted = new Set<string>();
  if (args.length === 0) DEFAULT_SECTIONS.forEach((s) => wanted.add(s));
  for (const a of args) {
    const s = a.toLowerCase();
    if (s === 'all') ALL_SECTIONS.forEach((x) => wanted.add(x));
    else if (s === 'everything') ALL_SECTIONS.forEach((x) => wanted.add(x));
    else if (s === 'default') DEFAULT_SECTIONS.forEach((x) => wanted.add(x));
    else wanted.add(s);
  }
  const out: string[] = [];
  for (const name of ALL_SECTIONS) {
    if (!wanted.has(name)) continue;
    const lines = section(server, name);
    out.push(`# ${name === 'cpu' ? 'CPU' : name[0]!.toUpperCase() + name.slice(1)}\r\n` + lines.map((l) => l + '\r\n').join(''));
  }
  return out.join('\r\n');
}

function section(server: Server, name: string): string[] {
  switch (name) {
    case 'server':
      return serverSection(server);
    case 'clients':
      return clientsSection(server);
    case 'memory':
      return memorySection();
    case 'persistence':
      return server.persistence.info();
    case 'stats':
      return statsSection(server);
    case 'replication':
      return server.repl.info();
    case 'cpu': {
      const u = process.cpuUsage();
      return [
        `used_cpu_sys:${(u.system / 1e6).toFixed(6)}`,
        `used_cpu_user:${(u.user / 1e6).toFixed(6)}`,
        'used_cpu_sys_children:0.000000',
        'used_cpu_user_children:0.000000',
        `used_cpu_sys_main_thread:${(u.system / 1e6).toFixed(6)}`,
        `used_cpu_user_main_thread:${(u.user / 1e6).toFixed(6)}`,
      ];
    }
    case 'modules':
      return [];
    case 'errorstats':
      return [];
    case 'cluster':
      return ['cluster_enabled:0'];
    case 'keyspace': {
      const lines: string[] = [];
      for (const db of server.keyspace.dbs) {
        if (db.size === 0) continue;
        lines.push(`db${db.id}:keys=${db.size},expires=${db.expires.size},avg_ttl=${Math.round(db.avgTtl)}`);
      }
      return lines;
    }
    case 'commandstats':
      return commandStats();
    case 'latencystats':
      return [];
    default:
      return [];
  }
}

function serverSection(server: Server): string[] {
  const up = Math.floor((Date.now() - server.stats.startTime) / 1000);
  const addr = server.listeners.address;
  return [
    `redis_version:${REDIS_VERSION}`,
    'redis_git_sha1:00000000',
    'redis_git_dirty:0',
    `redis_build_id:mirra-${MIRRA_VERSION}`,
    'redis_mode:standalone',
    `os:${os.type()} ${os.release()} ${os.arch()}`,
    `arch_bits:${process.arch.includes('64') ? 64 : 32}`,
    'monotonic_clock:POSIX clock_gettime',
    'multiplexing_api:epoll',
    'atomicvar_api:c11-builtin',
    'gcc_version:0.0.0',
    `process_id:${process.pid}`,
    'process_supervised:no',
    `run_id:${server.runId}`,
    `tcp_port:${addr?.port ?? server.config.int('port')}`,
    `server_time_usec:${Date.now() * 1000}`,
    `uptime_in_seconds:${up}`,
    `uptime_in_days:${Math.floor(up / 86400)}`,
    `hz:${server.config.int('hz')}`,
    `configured_hz:${server.config.int('hz')}`,
    `lru_clock:${Math.floor(Date.now() / 1000) & 0xffffff}`,
    `executable:${process.argv[1] ?? ''}`,
    `config_file:${server.config.configFile}`,
    'io_threads_active:0',
    `mirra_version:${MIRRA_VERSION}`,
    `node_version:${process.version}`,
  ];
}

function clientsSection(server: Server): string[] {
  let maxIn = 0;
  let maxOut = 0;
  let normal = 0;
  for (const c of server.clients.values()) {
    if (!c.flags.replica) normal++;
    maxIn = Math.max(maxIn, c.parser.bufferedBytes);
    maxOut = Math.max(maxOut, c.outputBytes);
  }
  return [
    `connected_clients:${normal}`,
    'cluster_connections:0',
    `maxclients:${server.config.int('maxclients')}`,
    `client_recent_max_input_buffer:${maxIn}`,
    `client_recent_max_output_buffer:${maxOut}`,
    `blocked_clients:${server.blocking.blockedClients + server.postponedCount}`,
    'tracking_clients:0',
    `clients_in_timeout_table:${server.blocking.clientsInTimeoutTable}`,
  ];
}

function human(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(2)}K`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)}M`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)}G`;
}

function memorySection(): string[] {
  const m = process.memoryUsage();
  const used = m.heapUsed + m.external + m.arrayBuffers;
  const total = os.totalmem();
  return [
    `used_memory:${used}`,
    `used_memory_human:${human(used)}`,
    `used_memory_rss:${m.rss}`,
    `used_memory_rss_human:${human(m.rss)}`,
    `used_memory_peak:${used}`,
    `used_memory_peak_human:${human(used)}`,
    'used_memory_peak_perc:100.00%',
    `used_memory_overhead:${m.heapTotal - m.heapUsed}`,
    `used_memory_startup:0`,
    `used_memory_dataset:${m.heapUsed}`,
    `total_system_memory:${total}`,
    `total_system_memory_human:${human(total)}`,
    `maxmemory:0`,
    'maxmemory_human:0B',
    'maxmemory_policy:noeviction',
    `mem_fragmentation_ratio:${(m.rss / Math.max(1, used)).toFixed(2)}`,
    'mem_allocator:v8',
    'lazyfree_pending_objects:0',
    'lazyfreed_objects:0',
  ];
}

function statsSection(server: Server): string[] {
  const s = server.stats;
  return [
    `total_connections_received:${s.connectionsReceived}`,
    `total_commands_processed:${s.commands}`,
    'instantaneous_ops_per_sec:0',
    `total_net_input_bytes:${s.netInputBytes}`,
    `total_net_output_bytes:${s.netOutputBytes}`,
    'total_net_repl_input_bytes:0',
    'total_net_repl_output_bytes:0',
    'instantaneous_input_kbps:0.00',
    'instantaneous_output_kbps:0.00',
    `rejected_connections:${s.rejectedConnections}`,
    `sync_full:${s.syncFull}`,
    `sync_partial_ok:${s.syncPartialOk}`,
    `sync_partial_err:${s.syncPartialErr}`,
    `expired_keys:${s.expiredKeys}`,
    'expired_stale_perc:0.00',
    'expired_time_cap_reached_count:0',
    'expire_cycle_cpu_milliseconds:0',
    `evicted_keys:${s.evictedKeys}`,
    'evicted_clients:0',
    'total_eviction_exceeded_time:0',
    'current_eviction_exceeded_time:0',
    `keyspace_hits:${s.keyspaceHits}`,
    `keyspace_misses:${s.keyspaceMisses}`,
    `pubsub_channels:${server.pubsub.channelCount()}`,
    `pubsub_patterns:${server.pubsub.patternCount()}`,
    `pubsubshard_channels:${server.pubsub.shardChannelCount()}`,
    'latest_fork_usec:0',
    'total_forks:0',
    'migrate_cached_sockets:0',
    'slave_expires_tracked_keys:0',
    'active_defrag_hits:0',
    'active_defrag_misses:0',
    'active_defrag_key_hits:0',
    'active_defrag_key_misses:0',
    'total_active_defrag_time:0',
    'current_active_defrag_time:0',
    'tracking_total_keys:0',
    'tracking_total_items:0',
    'tracking_total_prefixes:0',
    'unexpected_error_replies:0',
    `total_error_replies:${s.errorReplies}`,
    'dump_payload_sanitizations:0',
    `total_reads_processed:0`,
    `total_writes_processed:0`,
    'io_threaded_reads_processed:0',
    'io_threaded_writes_processed:0',
    'reply_buffer_shrinks:0',
    'reply_buffer_expands:0',
  ];
}

function commandStats(): string[] {
  const lines: string[] = [];
  const visit = (spec: CommandSpec) => {
    const st = spec.stats;
    if (st.calls > 0 || st.rejected > 0 || st.failed > 0) {
      lines.push(
        `cmdstat_${spec.fullName}:calls=${st.calls},usec=${st.usec},usec_per_call=${st.calls ? (st.usec / st.calls).toFixed(2) : '0.00'},rejected_calls=${st.rejected},failed_calls=${st.failed}`,
      );
    }
    if (spec.subcommands) for (const s of spec.subcommands.values()) visit(s);
  };
  for (const spec of commandTable().byName.values()) visit(spec);
  return lines;
}
