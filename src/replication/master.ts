/**
 * The master side: our replicas (Redis's replication.c, master half).
 *
 *  - Handshake answers: REPLCONF (listening-port, ip-address, capa, rdb-only, rdb-filter-only,
 *    ack, getack), SYNC/PSYNC with every refusal of replication.md §3.1.
 *  - PSYNC: `+CONTINUE [<replid>]` and the backlog tail when the id/offset rules of §3.2 hold,
 *    otherwise a full resynchronisation (master-sync.ts) from the fork-less snapshot.
 *  - The stream: commands this node originates (`feedCommand`, with SELECT insertion) or
 *    forwards from its own master (`feedRaw`) are appended once to the shared replication
 *    buffer (backlog.ts) and every replica's socket is written zero-copy slices of it, once per
 *    event-loop turn (Redis writes replicas in beforeSleep). `master_repl_offset` counts every
 *    byte, and only while a backlog exists (as in Redis).
 *  - Replication cron (once a second): PING every `repl-ping-replica-period`, `\n` keepalives to
 *    replicas waiting for their snapshot, `repl-timeout`, backlog TTL, good-replica count,
 *    soft output limits; pending full syncs start on every tick.
 *  - ACKs, WAIT (REPLCONF GETACK fed before the loop sleeps), min-replicas-to-write, the
 *    SHUTDOWN wait for lagging replicas, ROLE and INFO.
 *
 * Beside it: master-link.ts (per-replica state), master-replconf.ts (REPLCONF), master-sync.ts
 * (full syncs), master-wait.ts (WAIT, SHUTDOWN wait), backlog.ts (the shared buffer),
 * failover.ts (FAILOVER: checked on ACKs before the loop sleeps and on the cron).
 *
 * A replica's socket belongs to this module once the client is flagged replica: its stream,
 * +FULLRESYNC/+CONTINUE, payloads and keepalives are written here, never through the reply
 * writer. A command from a replica that produces a reply gets the replica disconnected, as in
 * Redis 7.0 (`replicaGeneratedReply`, called by the client's flush).
 *
 * Operations for the replica side (replica.ts): `feedRaw`, `createBacklog`, `freeBacklog`,
 * `disconnectReplicas`, `resetStreamDb`, `hasBacklog`.
 */
import type { Client } from '../net/client.js';
import type { Replication } from './replication.js';
import type { Server } from '../server/server.js';
import type { OutputBufferLimits } from '../config/directives.js';
import { encodeCommand } from '../protocol/encode.js';
import { Err } from '../protocol/errors.js';
import { parseInt64 } from '../util/numbers.js';
import { clientInfoLine } from '../commands/connection.js';
import { currentSnapshot } from '../persistence/rdb/index.js';
import { ReplBuffer } from './backlog.js';
import { ReplicaLink, linkOf, attachedLink, REQ_RDB_EXCLUDE_DATA } from './master-link.js';
import { replconfCommand } from './master-replconf.js';
import { AckWaits } from './master-wait.js';
import { Failover, type FailoverState } from './failover.js';
import {
  FullSync,
  SOCKET_HIGH_WATER,
  startBgsaveForReplication,
  sendBulkFile,
  snapshotSlotFree,
  removeSyncRdb,
} from './master-sync.js';

const PING = encodeCommand(['ping']);
const GETACK = encodeCommand(['REPLCONF', 'GETACK', '*']);
const SELECTS: Buffer[] = [];
function selectCommand(db: number): Buffer {
  return (SELECTS[db] ??= encodeCommand(['SELECT', String(db)]));
}

export class MasterSide {
  /** FAILOVER (failover.ts): its state is INFO's master_failover_state. */
  readonly failover = new Failover(this);
  /** Redis `server.slaves`: every client that issued SYNC/PSYNC, in attach order. */
  readonly replicas: ReplicaLink[] = [];
  /** The full sync in progress (Redis: the RDB child serving replicas). */
  currentSync: FullSync | null = null;
  /** The backlog / shared replication buffer; null when there is none. */
  private buffer: ReplBuffer | null = null;
  /** Redis `slaveseldb`: the DB the stream has selected (-1: emit SELECT before the next command). */
  private selDb = -1;
  private noReplicasSince = Date.now();
  private beforeSleepScheduled = false;
  private getAckRequested = false;
  private readonly waits = new AckWaits(this);
  /** Redis `replication_cron_loops` (PING phase). */
  private cronLoops = 0;
  private lastReplCron = 0;
  /** Redis `repl_good_slaves_count`, refreshed by the cron and on replica changes. */
  private goodReplicas = 0;
  /** RDB written for replicas, to delete once sent (rdb-del-sync-files). */
  private syncRdbToRemove: string | null = null;
  /** Mirra observability: full syncs by reason, snapshots started for replicas. */
  private readonly fullSyncReasons = new Map<string, number>();
  private syncSnapshots = 0;

  constructor(readonly repl: Replication) {
    const cfg = repl.server.config;
    cfg.watch('repl-backlog-size', (v) => {
      if (this.buffer === null) return;
      this.buffer.resize(v as number);
      this.trim();
    });
    cfg.watch('min-replicas-to-write', () => this.refreshGoodReplicas());
    cfg.watch('min-replicas-max-lag', () => this.refreshGoodReplicas());
  }

  get server(): Server {
    return this.repl.server;
  }

  get failoverState(): FailoverState {
    return this.failover.state;
  }

  /** FAILOVER waits for an ACK: checked before the event loop sleeps (Redis beforeSleep). */
  scheduleFailoverCheck(): void {
    this.scheduleBeforeSleep();
  }

  // ---------------------------------------------------------------------------------------
  // The stream

  /** A command this node originated: SELECT if needed, append to the backlog, send to replicas. */
  feedCommand(db: number, _argv: readonly string[], encoded: Buffer): void {
    // A replica only forwards what its master sent (feedRaw); local writes stay local (§9).
    if (this.repl.isReplica || this.buffer === null) return;
    if (db !== this.selDb) {
      this.append(selectCommand(db), false);
      this.selDb = db;
    }
    this.append(encoded, true);
  }

  /** Bytes applied from our own master, forwarded verbatim (chained replication). */
  feedRaw(buf: Buffer): void {
    if (this.buffer === null) return;
    this.append(buf, false);
  }

  /** PING and GETACK are fed "for the current DB": they never cause a SELECT. */
  private feedInternal(cmd: Buffer): void {
    if (this.repl.isReplica || this.buffer === null) return;
    this.append(cmd, false);
  }

  private append(buf: Buffer, owned: boolean): void {
    const b = this.buffer!;
    const newBlock = b.append(buf, this.server.clock.ms, owned);
    this.repl.masterReplOffset += buf.length;
    if (newBlock) {
      // Redis checks the replicas' output limits whenever a new shared block is started.
      this.enforceOutputLimits();
      this.trim();
    }
    this.scheduleBeforeSleep();
  }

  private scheduleBeforeSleep(): void {
    if (this.beforeSleepScheduled) return;
    this.beforeSleepScheduled = true;
    setImmediate(() => this.beforeSleep());
  }

  /** Redis's beforeSleep duties: GETACK for WAIT, write the replicas, answer WAITs. */
  private beforeSleep(): void {
    if (this.getAckRequested) {
      this.getAckRequested = false;
      this.feedInternal(GETACK);
    }
    this.beforeSleepScheduled = false;
    for (const r of this.replicas) this.writeStream(r);
    this.trim();
    this.waits.processWaiters();
    // Last: a failover that starts demotes this node (Redis updateFailoverStatus).
    this.failover.update(Date.now());
  }

  /** Writes what an online replica is owed, up to the socket high-water mark. */
  private writeStream(r: ReplicaLink, unlimited = false): void {
    if (r.state !== 'online' || r.holdUntilAck || r.pos < 0) return;
    const b = this.buffer;
    const sock = r.c.socket;
    if (b === null || sock === null || sock.destroyed || r.c.flags.closed) return;
    if (r.pos > b.endOffset) return;
    let corked = false;
    while (r.pos <= b.endOffset) {
      if (!unlimited && sock.writableLength >= SOCKET_HIGH_WATER) {
        r.waitingDrain = true;
        break;
      }
      const chunk = b.slice(r.pos, SOCKET_HIGH_WATER);
      if (!corked) {
        sock.cork();
        corked = true;
      }
      sock.write(chunk);
      r.pos += chunk.length;
    }
    if (corked) sock.uncork();
  }

  private onDrain(r: ReplicaLink): void {
    if (!r.attached) return;
    r.sync?.sinks.get(r)?.drained();
    if (r.bulk !== null && r.bulk.isPaused()) r.bulk.resume();
    if (r.waitingDrain) {
      r.waitingDrain = false;
      this.writeStream(r);
      this.trim();
    }
  }

  /** Drops backlog blocks nobody needs any more. */
  private trim(): void {
    const b = this.buffer;
    if (b === null || b.blockCount < 2) return;
    let min = Infinity;
    for (const r of this.replicas) if (r.pos >= 0 && r.pos < min) min = r.pos;
    b.trim(min);
  }

  /** Bytes a replica is owed: its share of the shared buffer plus what its socket holds. */
  private outputBytes(r: ReplicaLink): number {
    const shared = r.pos >= 0 && this.buffer !== null ? this.buffer.bytesFromBlockOf(r.pos) : 0;
    return shared + (r.c.socket?.writableLength ?? 0);
  }

  /** Stream bytes not yet handed to the socket plus what the socket still holds. */
  private pendingBytes(r: ReplicaLink): number {
    const unsent = r.pos >= 0 && this.buffer !== null ? this.buffer.endOffset + 1 - r.pos : 0;
    return unsent + (r.c.socket?.writableLength ?? 0);
  }

  /** client-output-buffer-limit replica: disconnects replicas over the hard or (long enough) soft limit. */
  private enforceOutputLimits(): void {
    const lim = this.server.config.get<OutputBufferLimits>('client-output-buffer-limit').replica;
    if (lim.hard === 0 && lim.soft === 0) return;
    const nowS = Math.floor(Date.now() / 1000);
    let victims: ReplicaLink[] | null = null;
    for (const r of this.replicas) {
      const used = this.outputBytes(r);
      const hard = lim.hard > 0 && used >= lim.hard;
      let soft = lim.soft > 0 && used >= lim.soft;
      if (soft) {
        if (r.softLimitSince === 0) {
          r.softLimitSince = nowS;
          soft = false;
        } else if (nowS - r.softLimitSince <= lim.softSeconds) {
          soft = false;
        }
      } else {
        r.softLimitSince = 0;
      }
      if (hard || soft) (victims ??= []).push(r);
    }
    if (victims === null) return;
    for (const r of victims) {
      this.server.logger.warning(`Client ${clientInfoLine(r.c)} scheduled to be closed ASAP for overcoming of output buffer limits.`);
      r.c.close();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Operations for the replica side and the facade

  get hasBacklog(): boolean {
    return this.buffer !== null;
  }

  /** Redis createReplicationBacklog: starts at master_repl_offset + 1 (no-op when one exists). */
  createBacklog(): void {
    if (this.buffer !== null) return;
    this.buffer = new ReplBuffer(this.repl.masterReplOffset + 1, this.server.config.int('repl-backlog-size'));
  }

  /** Redis freeReplicationBacklog (our replicas must already be gone). */
  freeBacklog(): void {
    if (this.replicas.length > 0) this.disconnectReplicas();
    this.buffer = null;
  }

  /** Redis disconnectSlaves: every replica must resync with us. */
  disconnectReplicas(): void {
    for (const r of [...this.replicas]) r.c.close();
  }

  /** slaveseldb = -1: the next command fed is preceded by SELECT (promotion, new full sync). */
  resetStreamDb(): void {
    this.selDb = -1;
  }

  /** repl-stream-db for a snapshot's AUX fields on a master (rdbPopulateSaveInfo), null without backlog. */
  streamDbForSave(): number | null {
    if (this.buffer === null) return null;
    return this.selDb === -1 ? 0 : this.selDb;
  }

  /** min-replicas-to-write / min-replicas-max-lag (Redis checkGoodReplicasStatus). */
  enoughGoodReplicas(): boolean {
    if (this.repl.isReplica) return true;
    const cfg = this.server.config;
    const min = cfg.int('min-replicas-to-write');
    if (min === 0 || cfg.int('min-replicas-max-lag') === 0) return true;
    return this.goodReplicas >= min;
  }

  private refreshGoodReplicas(): void {
    const maxLag = this.server.config.int('min-replicas-max-lag');
    const nowS = Math.floor(Date.now() / 1000);
    let good = 0;
    for (const r of this.replicas) {
      if (r.state === 'online' && nowS - Math.floor(r.ackTime / 1000) <= maxLag) good++;
    }
    this.goodReplicas = good;
  }

  // ---------------------------------------------------------------------------------------
  // REPLCONF (master-replconf.ts), ACK

  replconfCommand(c: Client, argv: string[]): void {
    replconfCommand(this, c, argv);
  }

  /** REPLCONF ACK <offset>: never answered; only replicas may send it. */
  onAck(c: Client, val: string): void {
    const r = attachedLink(c);
    if (r === null) return;
    const offset = parseInt64(val);
    if (offset === null) return;
    if (offset > r.ackOff) r.ackOff = offset;
    r.ackTime = Date.now();
    // An EOF-framed sync ends silently: the first ACK says the replica loaded it (§4).
    if (r.holdUntilAck && r.state === 'online') this.startCommandStream(r);
    if (this.waits.active || this.failover.state === 'waiting-for-sync') this.scheduleBeforeSleep();
  }

  // ---------------------------------------------------------------------------------------
  // SYNC / PSYNC

  syncCommand(c: Client, argv: string[]): void {
    // Already a replica (or a MONITOR): ignored without a reply.
    if (c.flags.replica) return;
    const server = this.server;
    const log = server.logger;
    const repl = this.repl;
    const psync = argv[0]!.toLowerCase() === 'psync';
    if (psync && argv.length > 3 && argv[3]!.toLowerCase() === 'failover') {
      log.warning(`Failover request received for replid ${argv[1]}.`);
      if (!repl.isReplica) {
        c.w.error("ERR PSYNC FAILOVER can't be sent to a master.");
        return;
      }
      if (argv[1]!.toLowerCase() !== repl.replid) {
        c.w.error('ERR PSYNC FAILOVER replid must match my replid.');
        return;
      }
      repl.replica.unsetMaster();
      log.notice(`MASTER MODE enabled (failover request from '${clientInfoLine(c)}')`);
    }
    if (this.failoverState !== 'no-failover') {
      c.w.error("NOMASTERLINK Can't SYNC while failing over");
      return;
    }
    if (repl.isReplica && !repl.linkUp) {
      c.w.error("NOMASTERLINK Can't SYNC while not connected with my master");
      return;
    }
    // The replies to earlier commands must be out before the stream starts on this socket.
    if (c.outputBytes > 0) {
      c.w.error('ERR SYNC and PSYNC are invalid with pending output');
      return;
    }
    const r = linkOf(c);
    if ((r.req & REQ_RDB_EXCLUDE_DATA) !== 0 && !r.capaEof) {
      c.w.error('ERR Filtered replica requires EOF capability');
      return;
    }
    log.notice(`Replica ${r.name} asks for synchronization`);
    let reason: string;
    if (psync) {
      const offset = parseInt64(argv[2]!);
      if (offset === null) {
        log.warning(`Replica ${r.name} asks for synchronization but with a wrong offset`);
        c.w.error(Err.notInteger);
        return;
      }
      const refused = this.tryPartialResync(r, argv[1]!, offset);
      if (refused === null) {
        server.stats.syncPartialOk++;
        return;
      }
      // "?" is a replica asking for a full resync on purpose: not a failed PSYNC.
      if (argv[1]![0] !== '?') server.stats.syncPartialErr++;
      reason = refused;
    } else {
      // Legacy SYNC (redis-cli --replica, old replicas): no +FULLRESYNC, no ACKs expected.
      r.prePsync = true;
      reason = 'sync_command';
    }
    this.fullSyncReasons.set(reason, (this.fullSyncReasons.get(reason) ?? 0) + 1);
    log.notice(`Full resynchronization needed for replica ${r.name} (reason: ${reason})`);
    server.stats.syncFull++;
    r.state = 'wait_bgsave_start';
    if (server.config.bool('repl-disable-tcp-nodelay')) c.socket?.setNoDelay(false);
    this.attach(r);
    if (this.buffer === null) {
      // A new history: nothing before this point can ever be asked for with PSYNC. (A replica
      // serving sub-replicas always has a backlog while its link is up, and keeps its ids.)
      if (!repl.isReplica) {
        repl.changeReplicationId();
        repl.clearReplicationId2();
      }
      this.createBacklog();
      log.notice(`Replication backlog created, my new replication IDs are '${repl.replid}' and '${repl.replid2}'`);
    }
    this.scheduleFullSync(r);
  }

  /**
   * Redis masterTryPartialResynchronization. Returns null when accepted (the replica is then
   * online), else the reason for a full resync.
   */
  private tryPartialResync(r: ReplicaLink, id: string, offset: number): string | null {
    const repl = this.repl;
    const log = this.server.logger;
    const lid = id.toLowerCase();
    if (lid !== repl.replid && (lid !== repl.replid2 || offset > repl.secondReplOffset)) {
      if (id[0] === '?') {
        log.notice(`Full resync requested by replica ${r.name}`);
        return 'requested';
      }
      if (lid !== repl.replid && lid !== repl.replid2) {
        log.notice(
          `Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${id}', my replication IDs are '${repl.replid}' and '${repl.replid2}')`,
        );
        return 'replid_mismatch';
      }
      log.notice(
        `Partial resynchronization not accepted: Requested offset for second ID was ${offset}, but I can reply up to ${repl.secondReplOffset}`,
      );
      return 'replid2_offset';
    }
    const b = this.buffer;
    if (b === null || offset < b.firstOffset || offset > b.firstOffset + b.histlen) {
      log.notice(`Unable to partial resync with replica ${r.name} for lack of backlog (Replica request was: ${offset}).`);
      if (offset > repl.masterReplOffset) {
        log.warning(`Warning: replica ${r.name} tried to PSYNC with an offset that is greater than the master replication offset.`);
      }
      return b === null ? 'no_backlog' : 'offset_out_of_range';
    }
    this.attach(r);
    r.state = 'online';
    r.ackTime = Date.now();
    r.holdUntilAck = false;
    r.c.socket!.write(Buffer.from(r.capaPsync2 ? `+CONTINUE ${repl.replid}\r\n` : '+CONTINUE\r\n', 'latin1'));
    // The backlog tail from `offset`; no SELECT reset: the replica kept its stream DB.
    r.pos = offset;
    log.notice(
      `Partial resynchronization request from ${r.name} accepted. Sending ${b.endOffset + 1 - offset} bytes of backlog starting from offset ${offset}.`,
    );
    this.refreshGoodReplicas();
    this.scheduleBeforeSleep();
    return null;
  }

  private attach(r: ReplicaLink): void {
    const c = r.c;
    c.flags.replica = true;
    r.attached = true;
    this.replicas.push(r);
    const sock = c.socket;
    if (sock !== null) {
      r.drainListener = () => this.onDrain(r);
      sock.on('drain', r.drainListener);
    }
  }

  /** Redis syncCommand's three cases for a replica that needs a snapshot. */
  private scheduleFullSync(r: ReplicaLink): void {
    const log = this.server.logger;
    const cfg = this.server.config;
    const cur = this.currentSync;
    if (cur !== null && cur.kind === 'disk') {
      // A disk snapshot for replicas runs: join it if a replica attached to it still buffers
      // the stream from its start and asked for nothing we lack.
      let other: ReplicaLink | null = null;
      for (const s of cur.replicas) {
        if (s.state === 'wait_bgsave_end' && (!s.rdbOnly || r.rdbOnly)) {
          other = s;
          break;
        }
      }
      if (other !== null && (r.capa & other.capa) === other.capa && r.req === other.req) {
        if (this.setupFullResync(r, other.initialOffset)) {
          cur.replicas.add(r);
          r.sync = cur;
        }
        log.notice('Waiting for end of BGSAVE for SYNC');
      } else {
        log.notice("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
      }
    } else if (cur !== null) {
      log.notice('Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC');
    } else if (currentSnapshot(this.server) !== null) {
      // A BGSAVE of the persistence side: it buffers nothing for us, wait for the next one.
      log.notice("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
    } else if (cfg.bool('repl-diskless-sync') && r.capaEof && cfg.int('repl-diskless-sync-delay') > 0) {
      // The cron starts it after the delay, so that more replicas can share it.
      log.notice('Delay next BGSAVE for diskless SYNC');
    } else {
      startBgsaveForReplication(this, r.capa, r.req);
    }
  }

  /**
   * Redis replicationSetupSlaveForFullResync: the replica waits for the snapshot taken at
   * `offset`; the stream after it is buffered for it. Returns false if the replica is gone.
   */
  setupFullResync(r: ReplicaLink, offset: number): boolean {
    const sock = r.c.socket;
    if (sock === null || sock.destroyed || r.c.flags.closed) {
      r.c.close();
      return false;
    }
    this.createBacklog();
    r.initialOffset = offset;
    r.state = 'wait_bgsave_end';
    // An rdb-only client gets no stream: it does not hold the buffer.
    r.pos = r.rdbOnly ? -1 : offset + 1;
    this.selDb = -1;
    if (!r.prePsync) sock.write(Buffer.from(`+FULLRESYNC ${this.repl.replid} ${offset}\r\n`, 'latin1'));
    return true;
  }

  /** Called by master-sync when a snapshot for replicas starts. */
  beginSync(sync: FullSync): void {
    this.currentSync = sync;
    this.syncSnapshots++;
  }

  /** The snapshot of `sync` completed (err null) or failed (updateSlavesWaitingBgsave). */
  syncDone(sync: FullSync, err: Error | null): void {
    if (sync.finished) return;
    sync.finished = true;
    if (this.currentSync === sync) this.currentSync = null;
    const log = this.server.logger;
    for (const r of [...sync.replicas]) {
      if (!r.attached || r.sync !== sync || r.state !== 'wait_bgsave_end') continue;
      r.sync = null;
      if (err !== null) {
        log.warning('SYNC failed. BGSAVE child returned an error');
        r.c.close();
        continue;
      }
      if (sync.kind === 'socket') {
        log.notice(`Streamed RDB transfer with replica ${r.name} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming`);
        if (!this.putOnline(r)) {
          this.closeAfterWrites(r);
          continue;
        }
        r.holdUntilAck = true;
      } else {
        sendBulkFile(this, r, sync.file);
      }
    }
    sync.replicas.clear();
    sync.sinks.clear();
    if (sync.kind === 'disk' && err === null && this.syncRdbDeletable()) this.syncRdbToRemove = sync.file;
    // Replicas that arrived meanwhile get the next snapshot.
    this.startPendingSync();
  }

  /** Disk target: the whole file went out. */
  bulkSent(r: ReplicaLink): void {
    if (!r.attached) return;
    if (!this.putOnline(r)) {
      this.closeAfterWrites(r);
      return;
    }
    this.startCommandStream(r);
  }

  /** Redis replicaPutOnline. False for rdb-only clients (to be disconnected). */
  private putOnline(r: ReplicaLink): boolean {
    const log = this.server.logger;
    if (r.rdbOnly) {
      log.notice(`RDB transfer completed, rdb only replica (${r.name}) should be disconnected asap`);
      return false;
    }
    r.state = 'online';
    r.ackTime = Date.now();
    this.refreshGoodReplicas();
    log.notice(`Synchronization with replica ${r.name} succeeded`);
    return true;
  }

  private startCommandStream(r: ReplicaLink): void {
    r.holdUntilAck = false;
    this.writeStream(r);
  }

  private closeAfterWrites(r: ReplicaLink): void {
    const sock = r.c.socket;
    if (sock === null || sock.destroyed) {
      r.c.close();
      return;
    }
    sock.end(() => r.c.close());
  }

  /** Snapshot could not start: the waiting replicas are told and dropped. */
  failWaitingReplicas(): void {
    for (const r of [...this.replicas]) {
      if (r.state !== 'wait_bgsave_start') continue;
      const c = r.c;
      this.detach(r);
      c.flags.replica = false;
      c.w.error("ERR BGSAVE failed, replication can't continue");
      c.flags.closeAfterReply = true;
      c.flush();
    }
  }

  /** Redis replicationStartPendingFork / shouldStartChildReplication. */
  private startPendingSync(): void {
    if (this.replicas.length === 0 || !snapshotSlotFree(this)) return;
    const nowS = Math.floor(Date.now() / 1000);
    let waiting = 0;
    let maxIdle = 0;
    let mincapa = 0;
    let req = 0;
    let first = true;
    for (const r of this.replicas) {
      if (r.state !== 'wait_bgsave_start') continue;
      if (first) req = r.req;
      else if (req !== r.req) continue;
      const idle = nowS - Math.floor(r.c.lastInteraction / 1000);
      if (idle > maxIdle) maxIdle = idle;
      waiting++;
      mincapa = first ? r.capa : mincapa & r.capa;
      first = false;
    }
    if (waiting === 0) return;
    const cfg = this.server.config;
    const maxReplicas = cfg.int('repl-diskless-sync-max-replicas');
    if (
      !cfg.bool('repl-diskless-sync') ||
      (maxReplicas > 0 && waiting >= maxReplicas) ||
      maxIdle >= cfg.int('repl-diskless-sync-delay')
    ) {
      startBgsaveForReplication(this, mincapa, req);
    }
  }

  private syncRdbDeletable(): boolean {
    const cfg = this.server.config;
    return cfg.bool('rdb-del-sync-files') && cfg.get<unknown[]>('save').length === 0 && !cfg.bool('appendonly');
  }

  // ---------------------------------------------------------------------------------------
  // Cron, client lifecycle

  cron(): void {
    this.startPendingSync();
    const now = Date.now();
    this.waits.cron(now);
    this.failover.update(now);
    if (now - this.lastReplCron < 1000) return;
    this.lastReplCron = now;
    this.replicationCron(now);
  }

  /** Redis replicationCron, master half (once a second). */
  private replicationCron(now: number): void {
    const cfg = this.server.config;
    const log = this.server.logger;
    const nowS = Math.floor(now / 1000);
    // PING in the stream, so replicas can detect a dead master (counted in the offsets).
    if (this.cronLoops % cfg.int('repl-ping-replica-period') === 0 && this.replicas.length > 0 && !this.failover.suppressesPing) {
      this.feedInternal(PING);
    }
    // Keepalives for replicas waiting for a snapshot (or for a disk one to finish).
    for (const r of this.replicas) {
      const presync = r.state === 'wait_bgsave_start' || (r.state === 'wait_bgsave_end' && r.sync !== null && r.sync.kind === 'disk');
      if (presync) r.c.socket?.write('\n');
    }
    // repl-timeout. An empty line also counts as a sign of life (a replica loading the
    // payload sends them), hence lastInteraction next to the ACK time.
    const timeout = cfg.int('repl-timeout');
    for (const r of [...this.replicas]) {
      if (r.state === 'online') {
        if (r.prePsync) continue;
        const last = Math.max(r.ackTime, r.c.lastInteraction);
        if (nowS - Math.floor(last / 1000) > timeout) {
          log.warning(`Disconnecting timedout replica (streaming sync): ${r.name}`);
          r.c.close();
          continue;
        }
      }
      if (r.state === 'wait_bgsave_end' && r.sync !== null && r.sync.kind === 'socket') {
        if (r.lastPartialWrite !== 0 && nowS - Math.floor(r.lastPartialWrite / 1000) > timeout) {
          log.warning(`Disconnecting timedout replica (full sync): ${r.name}`);
          r.c.close();
        }
      }
    }
    // A master alone for repl-backlog-ttl frees its backlog and starts a new history.
    const ttl = cfg.int('repl-backlog-ttl');
    if (this.replicas.length === 0 && ttl > 0 && this.buffer !== null && !this.repl.isReplica) {
      if (nowS - Math.floor(this.noReplicasSince / 1000) > ttl) {
        this.repl.changeReplicationId();
        this.repl.clearReplicationId2();
        this.buffer = null;
        log.notice(`Replication backlog freed after ${ttl} seconds without connected replicas.`);
      }
    }
    this.refreshGoodReplicas();
    this.enforceOutputLimits();
    if (this.syncRdbToRemove !== null && !this.replicas.some((r) => r.state === 'wait_bgsave_end' || r.state === 'send_bulk')) {
      removeSyncRdb(this, this.syncRdbToRemove);
      this.syncRdbToRemove = null;
    }
    this.cronLoops++;
  }

  onClientClosed(c: Client): void {
    this.waits.forget(c);
    const r = attachedLink(c);
    if (r === null) return;
    this.server.logger.warning(`Connection with replica ${r.name} lost.`);
    this.detach(r);
  }

  /** Removes a replica from every structure (its client is closing or unflagged). */
  private detach(r: ReplicaLink): void {
    const i = this.replicas.indexOf(r);
    if (i >= 0) this.replicas.splice(i, 1);
    r.attached = false;
    const sync = r.sync;
    if (sync !== null) {
      r.sync = null;
      sync.replicas.delete(r);
      const sink = sync.sinks.get(r);
      if (sink !== undefined) {
        sink.kill();
        sync.sinks.delete(r);
        if (sync.kind === 'socket' && !sync.finished && sync.sinks.size === 0 && sync.snapshot !== null) {
          this.server.logger.warning('Diskless rdb transfer, last replica dropped, killing fork child.');
          sync.snapshot.cancel('last replica dropped');
        }
      }
    }
    if (r.bulk !== null) {
      r.bulk.destroy();
      r.bulk = null;
    }
    if (r.drainListener !== null) {
      r.c.socket?.off('drain', r.drainListener);
      r.drainListener = null;
    }
    r.pos = -1;
    if (this.replicas.length === 0) this.noReplicasSince = Date.now();
    this.refreshGoodReplicas();
    this.trim();
  }

  /**
   * The client's flush found replies for a replica (Redis 7.0 disconnects it: a replica link
   * carries the stream, never replies). Returns true: the replies must not be written.
   */
  replicaGeneratedReply(c: Client): boolean {
    this.server.logger.warning(`Replica generated a reply to command '${c.lastCommand}', disconnecting it: ${clientInfoLine(c)}`);
    c.close();
    return true;
  }

  stop(): void {
    // What replicas are owed leaves before we exit (Redis flushSlavesOutputBuffers).
    for (const r of this.replicas) this.writeStream(r, true);
    const sync = this.currentSync;
    if (sync !== null && sync.snapshot !== null && sync.snapshot.active) sync.snapshot.cancel('server stopping');
    this.currentSync = null;
  }

  // ---------------------------------------------------------------------------------------
  // WAIT, SHUTDOWN (master-wait.ts)

  waitCommand(c: Client, argv: string[]): void {
    this.waits.waitCommand(c, argv);
  }

  /** Online replicas that acknowledged at least `offset` (replicationCountAcksByOffset). */
  countAcks(offset: number): number {
    let n = 0;
    for (const r of this.replicas) if (r.state === 'online' && r.ackOff >= offset) n++;
    return n;
  }

  /** WAIT blocked: every replica is asked for an ACK before the event loop sleeps. */
  requestAcks(): void {
    this.getAckRequested = true;
    this.scheduleBeforeSleep();
  }

  /** SHUTDOWN: replicas are asked for an ACK at once. */
  sendGetack(): void {
    this.feedInternal(GETACK);
  }

  beforeShutdown(now: boolean): Promise<boolean> {
    return this.waits.beforeShutdown(now);
  }

  abortShutdownWait(): boolean {
    return this.waits.abortShutdown();
  }

  // ---------------------------------------------------------------------------------------
  // ROLE, INFO

  /** ROLE on a master: offset, then [ip, port, acked offset] of each online replica (§16). */
  roleReply(c: Client): void {
    const online = this.replicas.filter((r) => r.state === 'online' && r.ip !== '');
    c.w.array(3);
    c.w.bulk('master');
    c.w.int(this.repl.masterReplOffset);
    c.w.array(online.length);
    for (const r of online) {
      c.w.array(3);
      c.w.bulk(r.ip);
      c.w.bulk(String(r.listeningPort));
      c.w.bulk(String(r.ackOff));
    }
  }

  /** `connected_slaves`, `min_slaves_good_slaves`, `slaveN:...` lines. */
  infoReplicaListLines(): string[] {
    const cfg = this.server.config;
    const lines = [`connected_slaves:${this.replicas.length}`];
    if (cfg.int('min-replicas-to-write') !== 0 && cfg.int('min-replicas-max-lag') !== 0) {
      lines.push(`min_slaves_good_slaves:${this.goodReplicas}`);
    }
    const nowS = Math.floor(Date.now() / 1000);
    let i = 0;
    for (const r of this.replicas) {
      const ip = r.ip;
      if (ip === '') continue;
      const lag = r.state === 'online' ? nowS - Math.floor(r.ackTime / 1000) : 0;
      lines.push(`slave${i}:ip=${ip},port=${r.listeningPort},state=${r.infoState},offset=${r.ackOff},lag=${lag}`);
      i++;
    }
    return lines;
  }

  /** `repl_backlog_*` lines. */
  infoBacklogLines(): string[] {
    const b = this.buffer;
    return [
      `repl_backlog_active:${b !== null ? 1 : 0}`,
      `repl_backlog_size:${Math.max(16 * 1024, this.server.config.int('repl-backlog-size'))}`,
      `repl_backlog_first_byte_offset:${b !== null ? b.firstOffset : 0}`,
      `repl_backlog_histlen:${b !== null ? b.histlen : 0}`,
    ];
  }

  /**
   * Mirra-only observability, in lines of their own so that parsers of Redis's `slaveN` lines
   * are not disturbed: per-replica lag in ms and bytes, how many seconds of history the backlog
   * holds, snapshots started for replicas and full resyncs by reason.
   */
  infoMirraLines(): string[] {
    const now = Date.now();
    const lines: string[] = [];
    let i = 0;
    for (const r of this.replicas) {
      if (r.ip === '') continue;
      const lagMs = r.state === 'online' ? now - r.ackTime : 0;
      lines.push(`mirra_slave${i}_lag_ms:${lagMs}`);
      lines.push(`mirra_slave${i}_lag_bytes:${r.state === 'online' ? Math.max(0, this.repl.masterReplOffset - r.ackOff) : 0}`);
      lines.push(`mirra_slave${i}_pending_bytes:${this.pendingBytes(r)}`);
      i++;
    }
    const b = this.buffer;
    const age = b !== null && b.histlen > 0 ? (now - b.oldestAt) / 1000 : 0;
    lines.push(`mirra_backlog_seconds:${age.toFixed(3)}`);
    lines.push(`mirra_full_sync_snapshots:${this.syncSnapshots}`);
    for (const [reason, n] of this.fullSyncReasons) lines.push(`mirra_full_sync_reason_${reason}:${n}`);
    return lines;
  }
}
