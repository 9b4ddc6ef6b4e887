/**
 * The composition root: owns the configuration, the keyspace, the clients and every subsystem,
 * and wires them together. Networking lives in net/, commands in commands/, and each subsystem
 * in its own module; this file only connects them and runs the periodic cron (`hz` times a
 * second), as Redis's serverCron does.
 */
import net from 'node:net';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Config } from '../config/config.js';
import { Keyspace } from '../keyspace/keyspace.js';
import type { Db } from '../keyspace/db.js';
import { Client } from '../net/client.js';
import { Listeners } from '../net/listener.js';
import { processCommand } from '../commands/dispatch.js';
import { commandTable } from '../commands/table.js';
import type { ParserLimits } from '../protocol/resp-parser.js';
import { Logger } from './logger.js';
import { Clock } from './clock.js';
import { Propagator } from './propagate.js';
import { Replication } from '../replication/replication.js';
import { Persistence } from '../persistence/persistence.js';
import { Transactions } from './transactions.js';
import { PubSub } from './pubsub.js';
import { Blocking } from './blocking.js';
import { Slowlog } from './slowlog.js';
import { activeExpireCycle } from '../keyspace/expire.js';
import type { OutputBufferLimits } from '../config/directives.js';
import type { CommandSpec } from '../commands/spec.js';

/** Why clients are paused: CLIENT PAUSE, SHUTDOWN waiting for replicas, FAILOVER. */
export type PausePurpose = 'client' | 'shutdown' | 'failover';

export const REDIS_VERSION = '7.0.15';
export const MIRRA_VERSION = '0.1.0';

export interface Stats {
  startTime: number;
  connectionsReceived: number;
  rejectedConnections: number;
  commands: number;
  rejectedCalls: number;
  netInputBytes: number;
  netOutputBytes: number;
  expiredKeys: number;
  evictedKeys: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  syncFull: number;
  syncPartialOk: number;
  syncPartialErr: number;
  pubsubChannels: number;
  errorReplies: number;
}

export class Server {
  readonly config: Config;
  readonly logger = new Logger();
  readonly clock = new Clock();
  readonly keyspace: Keyspace;
  readonly propagator = new Propagator();
  readonly repl: Replication;
  readonly persistence: Persistence;
  readonly tx: Transactions;
  readonly pubsub: PubSub;
  readonly blocking: Blocking;
  readonly slowlog = new Slowlog();
  readonly clients = new Map<number, Client>();
  readonly monitors = new Set<Client>();
  readonly listeners: Listeners;
  readonly runId = randomBytes(20).toString('hex');
  readonly stats: Stats;
  readonly parserLimits: ParserLimits = { maxBulkLen: 512 * 1024 * 1024, maxQueryBuffer: 1024 * 1024 * 1024 };
  slowlogThreshold = 10000;
  /** `latency-tracking`, kept in a field: every call() checks it. */
  latencyTracking = true;
  /** Set while SHUTDOWN is in progress. */
  shuttingDown = false;
  /** DEBUG SET-ACTIVE-EXPIRE: when false the cron's active expire cycle does not run. */
  activeExpireEnabled = true;
  /**
   * The pause in force (the union of every purpose's pause), or null. Commands it covers wait
   * (postponed), they are not refused. Read-only: change it with pauseClients/unpauseClients.
   */
  pause: { until: number; writesOnly: boolean } | null = null;
  /** Pauses by purpose, kept apart as in Redis 7.0 (CLIENT UNPAUSE lifts only its own). */
  private readonly pauses = new Map<PausePurpose, { until: number; writesOnly: boolean }>();
  private nextClientId = 1;
  private cronTimer: NodeJS.Timeout | null = null;
  cronLoops = 0;
  /** Called once the process should exit (graceful shutdown finished). */
  onExit: (code: number) => void = (code) => process.exit(code);

  constructor(config: Config) {
    this.config = config;
    this.stats = {
      startTime: Date.now(),
      connectionsReceived: 0,
      rejectedConnections: 0,
      commands: 0,
      rejectedCalls: 0,
      netInputBytes: 0,
      netOutputBytes: 0,
      expiredKeys: 0,
      evictedKeys: 0,
      keyspaceHits: 0,
      keyspaceMisses: 0,
      syncFull: 0,
      syncPartialOk: 0,
      syncPartialErr: 0,
      pubsubChannels: 0,
      errorReplies: 0,
    };
    this.keyspace = new Keyspace(config.int('databases'), {
      now: () => this.clock.ms,
      // Nothing expires while clients are paused (Redis 7.0): the dataset must not change.
      mayExpire: () => !this.repl.isReplica && this.pause === null,
      ignoreExpiry: () => this.currentClientIsMaster,
      onExpired: (db, key) => this.onKeyExpired(db, key),
    });
    this.repl = new Replication(this);
    this.persistence = new Persistence(this);
    this.tx = new Transactions(this);
    this.pubsub = new PubSub(this);
    this.blocking = new Blocking(this);
    this.listeners = new Listeners(this);
    this.propagator.sinks.push(this.repl);
    for (const [from, to] of config.renamedCommands) commandTable().rename(from, to);
    this.keyspace.addListener(this.tx);
    config.watch('proto-max-bulk-len', (v) => (this.parserLimits.maxBulkLen = v as number));
    config.watch('client-query-buffer-limit', (v) => (this.parserLimits.maxQueryBuffer = v as number));
    config.watch('slowlog-log-slower-than', (v) => (this.slowlogThreshold = v as number));
    config.watch('maxmemory', (v) => (this.maxmemory = v as number));
    config.watch('latency-tracking', (v) => (this.latencyTracking = v as boolean));
    config.watch('slowlog-max-len', (v) => (this.slowlog.maxLen = v as number));
    config.watch('loglevel', (v) => (this.logger.level = v as Logger['level']));
    config.watch('hz', () => this.restartCron());
  }

  /** True while the command being executed came from our master (it may delete expired keys). */
  currentClientIsMaster = false;

  // ---------------------------------------------------------------------------------------
  // Clients

  createClient(socket: net.Socket | null): Client {
    const c = new Client(this, socket, this.nextClientId++);
    this.clients.set(c.id, c);
    this.stats.connectionsReceived++;
    return c;
  }

  dispatch(c: Client, argv: string[]): void {
    this.currentClientIsMaster = c.flags.master;
    processCommand(c, argv);
    this.currentClientIsMaster = false;
    this.blocking.handleReadyKeys();
  }

  /** An empty request (`*0` or a blank inline line). Replicas use it as a liveness ping. */
  onEmptyRequest(c: Client): void {
    c.lastInteraction = this.clock.ms;
  }

  onClientClosed(c: Client): void {
    if (!this.clients.delete(c.id)) return;
    this.monitors.delete(c);
    this.tx.onClientClosed(c);
    this.pubsub.onClientClosed(c);
    this.blocking.onClientClosed(c);
    this.repl.onClientClosed(c);
  }

  /** Clients whose command waits for the end of a CLIENT PAUSE, in arrival order. */
  private readonly postponed: { c: Client; argv: string[] }[] = [];

  /** Whether a command must wait under the current pause (ALL: every command; WRITE: writes). */
  mustPostpone(spec: CommandSpec, isWrite: boolean): boolean {
    if (this.pause !== null && this.clock.ms >= this.pause.until) this.expirePauses();
    const p = this.pause;
    if (p === null) return false;
    if (!p.writesOnly) return true;
    // Redis 7.0 also holds commands that may replicate (PUBLISH, EVAL...) during a write pause.
    return isWrite || spec.flags.has('may_replicate') || spec.name === 'publish' || spec.name === 'eval' || spec.name === 'evalsha';
  }

  /** Holds the client with its command until unpause; it is blocked meanwhile. */
  postpone(c: Client, argv: string[]): void {
    c.flags.blocked = true;
    this.postponed.push({ c, argv });
  }

  /** Clients waiting on a pause (counted in INFO blocked_clients, as Redis does). */
  get postponedCount(): number {
    return this.postponed.length;
  }

  /**
   * Pauses clients for `purpose` until `until` (ms; Infinity = until unpaused). For the same
   * purpose a pause can only be extended or made stricter, as CLIENT PAUSE behaves in Redis.
   */
  pauseClients(purpose: PausePurpose, until: number, writesOnly: boolean): void {
    const cur = this.pauses.get(purpose);
    this.pauses.set(purpose, cur ? { until: Math.max(cur.until, until), writesOnly: cur.writesOnly && writesOnly } : { until, writesOnly });
    this.recomputePause();
  }

  /** Lifts the pause of one purpose; clients run again if no other pause holds them. */
  unpauseClients(purpose: PausePurpose): void {
    if (!this.pauses.delete(purpose)) return;
    this.recomputePause();
    this.resumePostponed();
  }

  /** The CLIENT PAUSE in force, if any (for extending it). */
  pauseOf(purpose: PausePurpose): { until: number; writesOnly: boolean } | undefined {
    return this.pauses.get(purpose);
  }

  private expirePauses(): void {
    let changed = false;
    for (const [k, p] of this.pauses) {
      if (this.clock.ms >= p.until) {
        this.pauses.delete(k);
        changed = true;
      }
    }
    if (!changed) return;
    this.recomputePause();
    this.resumePostponed();
  }

  private recomputePause(): void {
    let until = 0;
    let writesOnly = true;
    for (const p of this.pauses.values()) {
      until = Math.max(until, p.until);
      writesOnly &&= p.writesOnly;
    }
    this.pause = this.pauses.size === 0 ? null : { until, writesOnly };
  }

  /** Re-runs postponed commands in arrival order; those still covered by a pause wait again. */
  private resumePostponed(): void {
    const waiting = this.postponed.splice(0);
    for (const { c, argv } of waiting) {
      if (c.flags.closed) continue;
      c.flags.blocked = false;
      this.dispatch(c, argv);
      c.flush();
      if (!c.flags.blocked) c.processInput();
    }
  }

  /** Enforces client-output-buffer-limit. Returns true if the client was closed. */
  checkOutputLimits(c: Client): boolean {
    const limits = this.config.get<OutputBufferLimits>('client-output-buffer-limit');
    const cls = c.type === 'master' ? null : limits[c.type === 'replica' ? 'replica' : c.type === 'pubsub' ? 'pubsub' : 'normal'];
    if (!cls || (cls.hard === 0 && cls.soft === 0)) return false;
    const used = c.outputBytes;
    const state = c as unknown as { softLimitSince?: number };
    let exceeded = cls.hard > 0 && used >= cls.hard;
    if (!exceeded && cls.soft > 0 && used >= cls.soft) {
      state.softLimitSince ??= this.clock.ms;
      if (this.clock.ms - state.softLimitSince >= cls.softSeconds * 1000) exceeded = true;
    } else if (used < cls.soft) {
      state.softLimitSince = undefined;
    }
    if (!exceeded) return false;
    this.logger.warning(
      `Client ${c.describe()} scheduled to be closed ASAP for overcoming of output buffer limits.`,
    );
    c.close();
    return true;
  }

  feedMonitors(c: Client, argv: string[]): void {
    const t = this.clock.ms;
    const addr = c.flags.unixSocket ? `unix:${this.config.str('unixsocket')}` : c.addr;
    const line =
      `+${Math.floor(t / 1000)}.${String((t % 1000) * 1000).padStart(6, '0')} [${c.db.id} ${c.flags.master ? 'lua' : addr}] ` +
      argv.map((a) => `"${escapeMonitor(a)}"`).join(' ') +
      '\r\n';
    for (const m of this.monitors) {
      if (m === c) continue;
      m.w.rawString(line);
      m.flush();
    }
  }

  debugAllowed(c: Client): boolean {
    const v = this.config.str('enable-debug-command');
    if (v === 'yes') return true;
    if (v === 'local') return c.flags.unixSocket || c.addr.startsWith('127.') || c.addr.startsWith('::1');
    return false;
  }

  execWillWrite(c: Client): boolean {
    return this.tx.execWillWrite(c);
  }

  /** `maxmemory`, kept in a field: the dispatcher checks it before every denyoom command. */
  private maxmemory = 0;

  overMaxmemory(): boolean {
    const max = this.maxmemory;
    if (max === 0) return false;
    return process.memoryUsage.rss() > max && this.config.str('maxmemory-policy') === 'noeviction';
  }

  /** Called after a command that changed the dataset. */
  afterWrite(): void {}

  // ---------------------------------------------------------------------------------------
  // Expiry

  private onKeyExpired(db: Db, key: string): void {
    this.stats.expiredKeys++;
    this.keyspace.notify(db, key, 'x', 'expired');
    this.keyspace.touch(db, key);
    const cmd = this.config.bool('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL';
    this.propagator.also(db.id, [cmd, key]);
  }

  // ---------------------------------------------------------------------------------------
  // Lifecycle

  async start(): Promise<void> {
    this.clock.update();
    await this.listeners.listen();
    this.restartCron();
  }

  private restartCron(): void {
    if (this.cronTimer) clearInterval(this.cronTimer);
    if (!this.listeners.listening) return;
    const period = Math.max(2, Math.floor(1000 / this.config.int('hz')));
    this.cronTimer = setInterval(() => this.cron(), period);
    this.cronTimer.unref?.();
  }

  private cron(): void {
    this.clock.update();
    this.cronLoops++;
    if (this.activeExpireEnabled && !this.repl.isReplica && !this.persistence.loading && this.pause === null) activeExpireCycle(this);
    this.closeTimedOutClients();
    this.blocking.cron();
    this.repl.cron();
    this.persistence.cron();
    if (this.pause !== null && this.clock.ms >= this.pause.until) this.expirePauses();
  }

  private closeTimedOutClients(): void {
    const timeout = this.config.int('timeout');
    if (timeout === 0 || this.cronLoops % this.config.int('hz') !== 0) return;
    const now = this.clock.ms;
    for (const c of this.clients.values()) {
      if (c.flags.master || c.flags.replica || c.flags.blocked || c.flags.pubsub) continue;
      if (now - c.lastInteraction > timeout * 1000) {
        this.logger.verbose('Closing idle client');
        c.close();
      }
    }
  }

  /**
   * Graceful shutdown (SIGTERM, SHUTDOWN): save if configured, remove the pidfile, close.
   * Returns false (and keeps running) if a required save failed and force was not given.
   */
  async shutdown(opts: { mode: 'default' | 'save' | 'nosave'; force?: boolean; now?: boolean }): Promise<boolean> {
    if (this.shuttingDown) return false;
    this.shuttingDown = true;
    this.logger.warning('User requested shutdown...');
    if (!(await this.repl.beforeShutdown(opts.now === true))) {
      // SHUTDOWN ABORT while waiting for lagging replicas.
      this.shuttingDown = false;
      return false;
    }
    const saved = await this.persistence.beforeShutdown(opts.mode);
    if (!saved && !opts.force) {
      this.logger.warning('Errors trying to shut down the server. Check the logs for more information.');
      this.shuttingDown = false;
      return false;
    }
    const pidfile = this.config.str('pidfile');
    if (pidfile) {
      this.logger.notice('Removing the pid file.');
      try {
        fs.unlinkSync(pidfile);
      } catch {
        // Already gone.
      }
    }
    const sock = this.config.str('unixsocket');
    if (sock) {
      this.logger.notice('Removing the unix socket file.');
      try {
        fs.unlinkSync(sock);
      } catch {
        // Already gone.
      }
    }
    this.stop();
    this.logger.warning('Redis is now ready to exit, bye bye...');
    this.onExit(0);
    return true;
  }

  /** SHUTDOWN ABORT: cancels a shutdown waiting for replicas. Returns false if none. */
  abortShutdown(): boolean {
    return this.repl.abortShutdownWait();
  }

  /** Stops listening, closes every client and timers (used by shutdown and by embedders). */
  stop(): void {
    if (this.cronTimer) clearInterval(this.cronTimer);
    this.cronTimer = null;
    this.listeners.close();
    this.repl.stop();
    for (const c of [...this.clients.values()]) {
      c.flush();
      c.close();
    }
  }
}

function escapeMonitor(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92) out += '\\\\';
    else if (c === 34) out += '\\"';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c < 32 || c > 126) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += s[i];
  }
  return out;
}
