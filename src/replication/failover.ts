/**
 * FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: a coordinated hand-over from this
 * master to one of its replicas (Redis 6.2+ failoverCommand / updateFailoverStatus /
 * abortFailover, replication.md §14).
 *
 *   no-failover ──FAILOVER──► waiting-for-sync: +OK, writes paused (they wait, they are not
 *     refused), until the target (given, or the first replica whose ACK equals our
 *     master_repl_offset) has acknowledged every byte we produced — or TIMEOUT expires:
 *       caught up, or timed out with FORCE ──► failover-in-progress: we become a replica of the
 *         target and ask it `PSYNC <replid> <offset+1> FAILOVER` (the replica side sends the
 *         FAILOVER form while `psyncFailover` is set); the target promotes itself (ids shifted
 *         as with REPLICAOF NO ONE) and answers +CONTINUE (or +FULLRESYNC):
 *           accepted ──► no-failover, writes unpaused (paused writers now get -READONLY);
 *           refused (an error other than the transient -NOMASTERLINK / -LOADING) ──► abort;
 *       timed out without FORCE ──► abort.
 *   FAILOVER ABORT: abort in either state.
 *
 * Aborting during failover-in-progress turns us back into a master the way REPLICAOF NO ONE
 * does (new replid, old one kept as replid2), exactly as Redis's abortFailover does.
 * While the link to the target cannot be made (target down, handshake timing out) the state
 * stays failover-in-progress and writes stay paused, as in Redis: the operator decides with
 * FAILOVER ABORT.
 *
 * No GETACK is sent to speed things up (Redis relies on the replicas' once-a-second ACKs: a
 * GETACK would itself move the offset the target has to acknowledge). The replication PING is
 * suppressed while paused for a FAILOVER with a TIMEOUT (replication.md §5.5), so the offset
 * stands still and the target can match it.
 */
import type { Client } from '../net/client.js';
import type { MasterSide } from './master.js';
import type { ReplicaLink } from './master-link.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';

export type FailoverState = 'no-failover' | 'waiting-for-sync' | 'failover-in-progress';


export class Failover {
  state: FailoverState = 'no-failover';
  /** The chosen target (given with TO, or picked once a replica caught up); null = any. */
  private targetHost: string | null = null;
  private targetPort = 0;
  /** When waiting-for-sync gives up (ms since epoch); 0 = no TIMEOUT. */
  private endTime = 0;
  private force = false;

  constructor(private readonly m: MasterSide) {}

  /**
   * Redis skips the replication PING while clients are paused for a FAILOVER that has a
   * TIMEOUT (replicationCron: `failover_end_time && paused`): the offset must stand still for
   * the target to match it before the deadline.
   */
  get suppressesPing(): boolean {
    return this.endTime !== 0 && this.m.server.pause !== null;
  }

  /** The FAILOVER command, every check in Redis 7.0's order (§14). */
  command(c: Client, argv: string[]): void {
    const server = this.m.server;
    const log = server.logger;
    // (Cluster mode is not supported by Mirra: "FAILOVER not allowed in cluster mode" never applies.)
    if (argv.length === 2 && argv[1]!.toLowerCase() === 'abort') {
      if (this.state === 'no-failover') {
        c.w.error('ERR No failover in progress.');
        return;
      }
      this.abort('Failover manually aborted');
      c.w.ok();
      return;
    }
    let timeoutMs = 0;
    let force = false;
    let host: string | null = null;
    let port = 0;
    for (let j = 1; j < argv.length; j++) {
      const opt = argv[j]!.toLowerCase();
      if (opt === 'timeout' && j + 1 < argv.length && timeoutMs === 0) {
        const t = parseInt64(argv[j + 1]!);
        if (t === null) {
          c.w.error(Err.notInteger);
          return;
        }
        if (t <= 0) {
          c.w.error('ERR FAILOVER timeout must be greater than 0');
          return;
        }
        timeoutMs = t;
        j++;
      } else if (opt === 'to' && j + 2 < argv.length && host === null) {
        const p = parseInt64(argv[j + 2]!);
        if (p === null) {
          c.w.error(Err.notInteger);
          return;
        }
        host = argv[j + 1]!;
        port = p;
        j += 2;
      } else if (opt === 'force' && !force) {
        force = true;
      } else {
        c.w.error(Err.syntax);
        return;
      }
    }
    if (this.state !== 'no-failover') {
      c.w.error('ERR FAILOVER already in progress.');
      return;
    }
    if (this.m.repl.isReplica) {
      c.w.error('ERR FAILOVER is not valid when server is a replica.');
      return;
    }
    if (this.m.replicas.length === 0) {
      c.w.error('ERR FAILOVER requires connected replicas.');
      return;
    }
    if (force && (timeoutMs === 0 || host === null)) {
      c.w.error('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
      return;
    }
    if (host !== null) {
      const r = this.findReplica(host, port);
      if (r === null) {
        c.w.error('ERR FAILOVER target HOST and PORT is not a replica.');
        return;
      }
      if (r.state !== 'online') {
        c.w.error('ERR FAILOVER target replica is not online.');
        return;
      }
      this.targetHost = host;
      this.targetPort = port;
      log.notice(`FAILOVER requested to ${host}:${port}.`);
    } else {
      log.notice('FAILOVER requested to any replica.');
    }
    this.endTime = timeoutMs !== 0 ? Date.now() + timeoutMs : 0;
    this.force = force;
    this.state = 'waiting-for-sync';
    this.pauseWrites();
    c.w.ok();
    // The target may already have acknowledged everything: checked before the loop sleeps.
    this.m.scheduleFailoverCheck();
  }

  /**
   * Redis updateFailoverStatus (before every sleep of the event loop and on the cron): the
   * deadline, then whether the target caught up. Only acts in waiting-for-sync.
   */
  update(now: number): void {
    if (this.state !== 'waiting-for-sync') return;
    const log = this.m.server.logger;
    if (this.endTime !== 0 && this.endTime <= now) {
      if (this.force) {
        log.notice(`FAILOVER to ${this.targetHost}:${this.targetPort} time out exceeded, failing over.`);
        this.demote();
      } else {
        this.abort('Replica never caught up before timeout');
      }
      return;
    }
    const offset = this.m.repl.masterReplOffset;
    let r: ReplicaLink | null = null;
    if (this.targetHost !== null) {
      r = this.findReplica(this.targetHost, this.targetPort);
    } else {
      for (const s of this.m.replicas) {
        if (s.ackOff !== offset) continue;
        const ip = s.ip;
        if (ip === '') continue;
        // From now on we fail over to this very node.
        this.targetHost = ip;
        this.targetPort = s.listeningPort;
        r = s;
        break;
      }
    }
    if (r !== null && r.ackOff === offset) {
      log.notice(`Failover target ${this.targetHost}:${this.targetPort} is synced, failing over.`);
      this.demote();
    }
  }

  /** The target answered our PSYNC … FAILOVER with +CONTINUE or +FULLRESYNC: done. */
  targetAccepted(): void {
    if (this.state !== 'failover-in-progress') return;
    this.m.server.logger.notice(`FAILOVER to ${this.targetHost}:${this.targetPort} succeeded.`);
    this.clear();
  }

  /** The target refused our PSYNC … FAILOVER (not a transient error): back to master. */
  targetRefused(reply: string): void {
    if (this.state !== 'failover-in-progress') return;
    this.m.server.logger.warning(`Failover target rejected psync request: ${reply}`);
    this.abort('Failover target rejected psync request');
  }

  /** Redis abortFailover. */
  abort(reason: string): void {
    if (this.state === 'no-failover') return;
    const log = this.m.server.logger;
    if (this.targetHost !== null) log.notice(`FAILOVER to ${this.targetHost}:${this.targetPort} aborted: ${reason}`);
    else log.notice(`FAILOVER to any replica aborted: ${reason}`);
    if (this.state === 'failover-in-progress') {
      // Redis replicationUnsetMaster: a master again, under a new replid (the old one as replid2).
      this.m.repl.replica.unsetMaster();
    }
    this.clear();
  }

  /** Become a replica of the target, asking it to take over (failover-in-progress). */
  private demote(): void {
    this.state = 'failover-in-progress';
    const replica = this.m.repl.replica;
    replica.psyncFailover = true;
    replica.setMaster(this.targetHost!, this.targetPort);
  }

  /** Redis clearFailoverState: forget the target, unpause writes. */
  private clear(): void {
    this.state = 'no-failover';
    this.targetHost = null;
    this.targetPort = 0;
    this.endTime = 0;
    this.force = false;
    this.m.repl.replica.psyncFailover = false;
    this.unpauseWrites();
  }

  /** Redis findReplica: announced (or peer) address, case-insensitive, and listening port. */
  private findReplica(host: string, port: number): ReplicaLink | null {
    const h = host.toLowerCase();
    for (const r of this.m.replicas) {
      const ip = r.ip;
      if (ip !== '' && ip.toLowerCase() === h && r.listeningPort === port) return r;
    }
    return null;
  }

  /**
   * pauseClients(PAUSE_DURING_FAILOVER, forever, WRITE). Mirra has one pause slot: a CLIENT
   * PAUSE in force is remembered and put back when the failover ends (if it has not expired
   * meanwhile); a CLIENT PAUSE ALL in force stays ALL for the duration.
   */
  private pauseWrites(): void {
    this.m.server.pauseClients('failover', Infinity, true);
  }

  private unpauseWrites(): void {
    this.m.server.unpauseClients('failover');
  }
}
