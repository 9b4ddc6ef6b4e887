/**
 * Replication state of this node and the facade the rest of the server talks to.
 *
 *  - ids and offsets (replid, replid2, master_repl_offset, second_repl_offset) live here, because
 *    both sides change them (PSYNC2 rules, replication.md §8);
 *  - `master` (master.ts) serves our replicas: handshake answers, PSYNC/SYNC, the backlog, full
 *    syncs from the fork-less snapshot, fan-out of the stream, ACKs, WAIT, min-replicas;
 *  - `replica` (replica.ts) is our link to our own master: REPLICAOF, the handshake, transfer
 *    and load, applying the stream, ACKs, reconnection.
 *
 * The propagator feeds this object with every command this node originates (`feed`); a replica
 * instead forwards the exact bytes it applied from its master with `master.feedRaw`, so that
 * sub-replicas see the same ids and offsets as the top master.
 */
import type { Server } from '../server/server.js';
import type { StreamSink } from '../server/propagate.js';
import { randomBytes } from 'node:crypto';
import type { Client } from '../net/client.js';
import { MasterSide } from './master.js';
import { ReplicaSide } from './replica.js';

export const NULL_REPLID = '0000000000000000000000000000000000000000';

export function newReplid(): string {
  return randomBytes(20).toString('hex');
}

export class Replication implements StreamSink {
  replid = newReplid();
  replid2 = NULL_REPLID;
  masterReplOffset = 0;
  secondReplOffset = -1;
  readonly master: MasterSide;
  readonly replica: ReplicaSide;

  constructor(readonly server: Server) {
    this.master = new MasterSide(this);
    this.replica = new ReplicaSide(this);
  }

  /** True when this node replicates from a master (configured, whatever the link state). */
  get isReplica(): boolean {
    return this.replica.configured;
  }

  /** True when the link with our master is up (state connected). */
  get linkUp(): boolean {
    return this.replica.linkUp;
  }

  /** min-replicas-to-write check for write commands (true when not configured). */
  enoughGoodReplicas(): boolean {
    return this.master.enoughGoodReplicas();
  }

  /** The stream is only recorded while a backlog exists (as in Redis): otherwise skip encoding. */
  get active(): boolean {
    return this.master.hasBacklog;
  }

  /** A command this node originated (never called for commands applied from our master). */
  feed(db: number, argv: readonly string[], encoded: Buffer): void {
    this.master.feedCommand(db, argv, encoded);
  }

  /** Shifts ids as on promotion (REPLICAOF NO ONE, accepted PSYNC FAILOVER): replid2 := replid. */
  shiftReplicationId(): void {
    this.replid2 = this.replid;
    this.secondReplOffset = this.masterReplOffset + 1;
    this.replid = newReplid();
  }

  /** New history: new replid, replid2 cleared (DEBUG CHANGE-REPL-ID, backlog creation/free). */
  changeReplicationId(): void {
    this.replid = newReplid();
    this.clearReplicationId2();
  }

  clearReplicationId2(): void {
    this.replid2 = NULL_REPLID;
    this.secondReplOffset = -1;
  }

  cron(): void {
    this.replica.cron();
    this.master.cron();
  }

  /** Starts replicating from `replicaof` in the config, once the dataset is loaded. */
  startFromConfig(): void {
    this.adoptLoadedHistory();
    this.replica.startFromConfig();
  }

  /**
   * A master restarted from an RDB that carries replication info (repl-id, repl-offset) keeps
   * its new replid but accepts the saved one as replid2 up to repl-offset + 1, with its offset
   * rebased and a backlog ready, so the replicas of its previous life continue with a partial
   * resync (Redis 7.0 loadDataFromDisk, replication.md §8). A replica handles the same info
   * itself (it becomes its cached master).
   */
  private adoptLoadedHistory(): void {
    const info = this.server.persistence.loadedReplInfo;
    if (info === null || this.isReplica) return;
    this.replid2 = info.replid;
    this.secondReplOffset = info.offset + 1;
    this.masterReplOffset = info.offset;
    this.master.createBacklog();
    this.server.logger.notice(`Restarted with replication history ${info.replid}:${info.offset}: replicas may resume partially`);
  }

  onClientClosed(c: Client): void {
    this.master.onClientClosed(c);
    this.replica.onClientClosed(c);
  }

  /**
   * SHUTDOWN: give lagging replicas a chance to catch up (unless `now`). Resolves false when
   * SHUTDOWN ABORT cancelled the wait (the shutdown must not proceed).
   */
  beforeShutdown(now: boolean): Promise<boolean> {
    return this.master.beforeShutdown(now);
  }

  /**
   * Replication AUX fields for a snapshot (Redis rdbPopulateSaveInfo): null when this node is
   * in no replication chain (a master without backlog) or a replica that never synced.
   * `db` is the DB selected in the stream: the master's SELECT state, or on a replica the DB
   * of its master link.
   */
  rdbSaveInfo(): { replid: string; offset: number; db: number } | null {
    let db: number | null = null;
    if (!this.isReplica) {
      db = this.master.streamDbForSave();
    } else {
      const viaReplica = (this.replica as unknown as { streamDb?(): number | null }).streamDb;
      if (viaReplica !== undefined) db = viaReplica.call(this.replica);
      else for (const c of this.server.clients.values()) if (c.flags.master) db = c.db.id;
    }
    return db === null ? null : { replid: this.replid, offset: this.masterReplOffset, db };
  }

  /** Cancels a SHUTDOWN waiting for lagging replicas; false when none is waiting. */
  abortShutdownWait(): boolean {
    return this.master.abortShutdownWait();
  }

  /** Closes the master link and replica links (server stop). */
  stop(): void {
    this.replica.stop();
    this.master.stop();
  }

  /** The `# Replication` INFO section body, in Redis 7.0's field order (replication.md §17). */
  info(): string[] {
    const lines: string[] = [];
    lines.push(`role:${this.isReplica ? 'slave' : 'master'}`);
    if (this.isReplica) lines.push(...this.replica.infoLines());
    lines.push(...this.master.infoReplicaListLines());
    lines.push(`master_failover_state:${this.master.failoverState}`);
    lines.push(`master_replid:${this.replid}`);
    lines.push(`master_replid2:${this.replid2}`);
    lines.push(`master_repl_offset:${this.masterReplOffset}`);
    lines.push(`second_repl_offset:${this.secondReplOffset}`);
    lines.push(...this.master.infoBacklogLines());
    lines.push(...this.master.infoMirraLines());
    return lines;
  }
}
