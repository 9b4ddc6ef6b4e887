/**
 * The replica side: our link to our own master (Redis's replication.c, replica half).
 *
 * State machine (ROLE / INFO words in brackets):
 *
 *   none ──REPLICAOF host port──► connect [connect] ──cron / at once──► SyncLink:
 *     connecting [connecting] → handshake sub-states [handshake] → PSYNC reply →
 *       +CONTINUE  ──────────────────────────────────────────────► connected [connected]
 *       +FULLRESYNC / SYNC → transfer to temp file → load [sync] ─► connected
 *       failure ──► connect (retried every second by the cron, or at once after a transfer error)
 *   connected ──link lost──► master cached ──► connect (reconnects at once, PSYNC from the cache)
 *   any ──REPLICAOF NO ONE──► none (promotion: ids shifted, sub-replicas disconnected)
 *
 * Ids and offsets (PSYNC2, replication.md §8) live on the facade; this side sets them after a
 * sync and builds the "cached master" (replid, processed offset, selected db) from a lost link,
 * from our own history when a master becomes a replica, or from the RDB aux fields at startup.
 */
import fs from 'node:fs';
import type { Client } from '../net/client.js';
import type { Replication } from './replication.js';
import type { Server } from '../server/server.js';
import { clientInfoLine } from '../commands/connection.js';
import { parseInt64 } from '../util/numbers.js';
import { SyncLink, type SyncHost, strerror } from './replica-sync.js';
import { MasterStream } from './replica-stream.js';
import { loadPayload, payloadHasKeys, LoadCancelled } from './replica-load.js';

/** What we know of a master we were synchronised with (Redis `server.cached_master`). */
export interface CachedMaster {
  replid: string;
  /** Offset of the last byte applied: PSYNC asks for offset + 1. */
  offset: number;
  /** DB selected by the stream (-1: unknown, the master starts with SELECT anyway). */
  dbId: number;
}

export class ReplicaSide implements SyncHost {
  /** REPLICAOF target; null when we are a master. */
  masterHost: string | null = null;
  masterPort = 0;
  /** The attempt in progress (connecting, handshake, transfer, loading). */
  private link: SyncLink | null = null;
  /** The synchronised link. */
  private stream: MasterStream | null = null;
  private cached: CachedMaster | null = null;
  /**
   * The cached master discarded at +FULLRESYNC, kept only until the payload is accepted, so
   * that a refused sync (mirra-replica-refuse-empty-master) leaves the replica as it was.
   */
  private stashedCache: CachedMaster | null = null;
  /** When the link went down (ms), 0 when never up since REPLICAOF (INFO shows -1). */
  private downSince = 0;
  private lastCron = 0;
  /** Load in progress: set to true to abandon it. */
  private loadCancel: { cancelled: boolean } | null = null;
  /** Why the last full sync was refused (mirra-replica-refuse-empty-master), shown in INFO. */
  private refusedReason = '';
  /** Set by FAILOVER (master side) to ask the target with `PSYNC … FAILOVER`. */
  psyncFailover = false;
  /**
   * False until startFromConfig: a replica from the config file must not connect while the
   * dataset loads at startup (the cron already runs then), or it would sync from a state the
   * RDB's replication info is about to replace.
   */
  private started = false;

  constructor(readonly repl: Replication) {
    // A replica from the config file is a replica from the first instant (expiry, READONLY),
    // even though it connects only once the dataset is loaded (startFromConfig).
    const conf = repl.server.config.get<{ host: string; port: number } | null>('replicaof');
    if (conf) {
      this.masterHost = conf.host;
      this.masterPort = conf.port;
      repl.server.propagator.feedReplicas = false;
    }
  }

  get server(): Server {
    return this.repl.server;
  }

  /** A master is configured (REPLICAOF host port). */
  get configured(): boolean {
    return this.masterHost !== null;
  }

  /** The link is in the connected state (master_link_status:up). */
  get linkUp(): boolean {
    return this.masterHost !== null && this.stream !== null;
  }

  /**
   * The DB selected by our master's stream, for the repl-stream-db AUX field of a snapshot
   * (Redis rdbPopulateSaveInfo): the live link's, else the cached master's; null if neither.
   */
  streamDb(): number | null {
    if (this.stream !== null) return this.stream.client.db.id;
    if (this.cached !== null) return Math.max(0, this.cached.dbId);
    return null;
  }

  /** Redis's repl_state as the words ROLE uses (§16). */
  get roleState(): string {
    if (this.masterHost === null) return 'none';
    if (this.stream !== null) return 'connected';
    const l = this.link;
    if (l === null) return 'connect';
    if (l.state === 'connecting') return 'connecting';
    if (l.state === 'transfer') return 'sync';
    return 'handshake';
  }

  // ---------------------------------------------------------------------------------------
  // Startup, REPLICAOF, ROLE

  /** Starts replicating from `replicaof` in the config, once the dataset is loaded. */
  startFromConfig(): void {
    this.started = true;
    if (this.masterHost === null) return;
    this.becomeReplicaRole();
    const info = this.server.persistence.loadedReplInfo;
    if (info && info.replid.length === 40) {
      // Restarted replica: continue the history saved in the RDB (§8), PSYNC <id> <offset+1>.
      this.repl.replid = info.replid;
      this.repl.masterReplOffset = info.offset;
      this.cacheMasterUsingMyself(info.db);
    }
    this.server.logger.notice(`Connecting to MASTER ${this.masterHost}:${this.masterPort}`);
    this.connect();
  }

  /** REPLICAOF / SLAVEOF host port | NO ONE (§13). Replies through c.w. */
  replicaof(c: Client, host: string, port: string): void {
    const log = this.server.logger;
    if (this.repl.master.failoverState !== 'no-failover') {
      c.w.error('ERR REPLICAOF not allowed while failing over.');
      return;
    }
    if (host.toLowerCase() === 'no' && port.toLowerCase() === 'one') {
      if (this.masterHost !== null) {
        this.unsetMaster();
        log.notice(`MASTER MODE enabled (user request from '${clientInfoLine(c)}')`);
      }
      c.w.ok();
      return;
    }
    if (c.flags.replica) {
      // It would have to disconnect every replica, this very client included.
      c.w.error('ERR Command is not valid when client is a replica.');
      return;
    }
    const p = parseInt64(port);
    if (p === null || p < 0 || p > 65535) {
      c.w.error('ERR Invalid master port');
      return;
    }
    if (this.masterHost !== null && this.masterHost.toLowerCase() === host.toLowerCase() && this.masterPort === p) {
      log.notice('REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.');
      c.w.simple('OK Already connected to specified master');
      return;
    }
    this.setMaster(host, p);
    log.notice(`REPLICAOF ${host}:${p} enabled (user request from '${clientInfoLine(c)}')`);
    c.w.ok();
  }

  /** ROLE on a replica: `slave host port(int) state offset(int)` (§16). */
  roleReply(c: Client): void {
    c.w.array(5);
    c.w.bulk('slave');
    c.w.bulk(this.masterHost ?? '');
    c.w.int(this.masterPort);
    c.w.bulk(this.roleState);
    c.w.int(this.stream !== null ? this.stream.reploff : -1);
  }

  /**
   * Makes this node a replica of host:port (Redis replicationSetMaster). A master keeps its
   * replicas and synthesises a cached master from its own history, so the new master may
   * accept a partial resync; a replica caches its current master for the same reason.
   */
  setMaster(host: string, port: number): void {
    this.started = true;
    const wasMaster = this.masterHost === null;
    this.becomeReplicaRole();
    // Cleared first so that dropping the current link does not reconnect to the old master.
    this.masterHost = null;
    if (this.stream !== null) this.stream.client.close();
    this.disconnectAllBlockedClients();
    this.masterHost = host;
    this.masterPort = port;
    this.server.config.set('replicaof', { host, port });
    this.cancelHandshake(false);
    if (wasMaster) {
      this.discardCachedMaster();
      this.cacheMasterUsingMyself(-1);
    }
    this.server.logger.notice(`Connecting to MASTER ${host}:${port}`);
    this.connect();
  }

  /** REPLICAOF NO ONE (Redis replicationUnsetMaster): keep the data, start a new history. */
  unsetMaster(): void {
    if (this.masterHost === null) return;
    const server = this.server;
    server.logger.role = 'M';
    this.masterHost = null;
    server.config.set('replicaof', null);
    if (this.stream !== null) this.stream.client.close();
    this.discardCachedMaster();
    this.cancelHandshake(false);
    const old = this.repl.replid;
    this.repl.shiftReplicationId();
    server.logger.warning(
      `Setting secondary replication ID to ${old}, valid up to offset: ${this.repl.secondReplOffset}. New replication ID is ${this.repl.replid}`,
    );
    // Sub-replicas must learn the new id: they reconnect and continue via replid2.
    this.repl.master.disconnectReplicas();
    this.repl.master.resetStreamDb();
    this.downSince = 0;
    this.refusedReason = '';
    this.psyncFailover = false;
    server.propagator.feedReplicas = true;
  }

  /**
   * Redis disconnectAllBlockedClients: a client blocked while we were a master (BLPOP, WAIT)
   * could otherwise wait for something a replica never produces.
   */
  private disconnectAllBlockedClients(): void {
    const server = this.server;
    for (const c of [...server.clients.values()]) {
      if (!c.flags.blocked || c.blockState === null) continue;
      c.w.error('UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)');
      c.flags.closeAfterReply = true;
      server.blocking.unblock(c);
    }
  }

  private becomeReplicaRole(): void {
    this.server.logger.role = 'S';
    // Local writes on a writable replica stay local (§9).
    this.server.propagator.feedReplicas = false;
  }

  private cacheMasterUsingMyself(dbId: number): void {
    this.server.logger.notice(
      'Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.',
    );
    this.cached = { replid: this.repl.replid, offset: this.repl.masterReplOffset, dbId };
  }

  private discardCachedMaster(): void {
    if (this.cached === null) return;
    this.server.logger.notice('Discarding previously cached master state.');
    this.cached = null;
  }

  // ---------------------------------------------------------------------------------------
  // The sync attempt (SyncHost)

  private connect(): void {
    if (this.masterHost === null) return;
    // One attempt at a time: a superseded attempt must not sync behind our back.
    if (this.link !== null) this.cancelHandshake(false);
    const link = new SyncLink(this, this.masterHost, this.masterPort);
    this.link = link;
    link.start();
  }

  /** Redis cancelReplicationHandshake: abandons a connect/handshake/transfer/load. */
  private cancelHandshake(reconnect: boolean): boolean {
    const link = this.link;
    if (link === null) return false;
    this.link = null;
    link.abort();
    if (this.loadCancel !== null) {
      this.loadCancel.cancelled = true;
      this.loadCancel = null;
    }
    if (reconnect && this.masterHost !== null) {
      this.server.logger.notice(`Reconnecting to MASTER ${this.masterHost}:${this.masterPort} after failure`);
      this.connect();
    }
    return true;
  }

  psyncTarget(): { replid: string; offset: number } | null {
    return this.cached;
  }

  onFailure(link: SyncLink, reconnectNow: boolean): void {
    if (link !== this.link) return;
    this.link = null;
    this.stashedCache = null;
    if (reconnectNow && this.masterHost !== null) {
      this.server.logger.notice(`Reconnecting to MASTER ${this.masterHost}:${this.masterPort} after failure`);
      this.connect();
    }
  }

  /** +FULLRESYNC: the cached master is of no use any more. */
  onFullResync(_link: SyncLink): void {
    this.stashedCache = this.cached;
    this.discardCachedMaster();
  }

  /** +CONTINUE: resurrect the cached master on this socket (§2.4, §8). */
  onContinue(link: SyncLink, newReplid: string | null, leftover: Buffer): void {
    if (link !== this.link) return;
    this.link = null;
    const log = this.server.logger;
    const cached = this.cached!;
    log.notice('Successful partial resynchronization with master.');
    if (newReplid !== null && newReplid !== cached.replid) {
      log.warning(`Master replication ID changed to ${newReplid}`);
      this.repl.replid2 = cached.replid;
      this.repl.secondReplOffset = this.repl.masterReplOffset + 1;
      this.repl.replid = newReplid;
      cached.replid = newReplid;
      // Our replicas must learn the new id.
      this.repl.master.disconnectReplicas();
    }
    this.cached = null;
    this.startStream(link.socket!, { replid: cached.replid, offset: cached.offset, dbId: cached.dbId, prePsync: false });
    this.repl.master.createBacklog();
    log.notice('MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.');
    this.feedStartOfStream(leftover);
  }

  /** The payload is in the temp file: check it, flush old data, load it in slices. */
  onPayload(link: SyncLink, leftover: Buffer): void {
    if (link !== this.link) return;
    void this.loadAndConnect(link, leftover);
  }

  private async loadAndConnect(link: SyncLink, leftover: Buffer): Promise<void> {
    const server = this.server;
    const log = server.logger;
    const token = { cancelled: false };
    this.loadCancel = token;
    const cancelled = (): boolean => token.cancelled;
    let flushed = false;
    try {
      if (await this.refuseEmptyMaster(link, cancelled)) return;
      if (server.persistence.rdbChildActive) {
        // Its file would overwrite the synced one, and it would serialise a dataset we flush.
        log.notice(
          'Replica is about to load the RDB file received from the master, but there is a pending RDB snapshot running. ' +
            'Stopping it and removing its temp file to avoid any race',
        );
        server.persistence.killSnapshot();
      }
      // Redis replicationAttachToNewMaster: a new history begins for our replicas too.
      this.stashedCache = null;
      this.repl.master.disconnectReplicas();
      this.repl.master.freeBacklog();
      // AOF hook: the AOF stops for the sync and restarts with a rewrite of the new dataset.
      server.persistence.aof.stopForFullSync();
      log.notice('MASTER <-> REPLICA sync: Flushing old data');
      this.flushAll();
      flushed = true;
      // As Redis does, the received file becomes our RDB file (it carries repl-id/offset, so a
      // restart can continue with PSYNC).
      const rdbPath = server.persistence.rdbPath();
      try {
        fs.renameSync(link.tmpPath, rdbPath);
      } catch (e) {
        log.warning(`Failed trying to rename the temp DB into ${server.config.str('dbfilename')} in MASTER <-> REPLICA synchronization: ${strerror(e as NodeJS.ErrnoException)}`);
        this.cancelHandshake(true);
        return;
      }
      link.tmpPath = ''; // our RDB file now: never removed on failure
      log.notice('MASTER <-> REPLICA sync: Loading DB in memory');
      const preloaded = link.takePreloaded();
      const result = preloaded !== null ? preloaded.install() : await loadPayload(server, rdbPath);
      server.persistence.aof.restartAfterFullSync(); // AOF hook: before the stream is applied
      this.logLoad(result.aux, result.keysLoaded, result.keysExpired);
      if (token.cancelled || link !== this.link) return;
      this.loadCancel = null;
      this.link = null;
      this.finishFullSync(link, result.aux, leftover);
    } catch (e) {
      if (e instanceof LoadCancelled || token.cancelled) return;
      log.warning(`${(e as Error).message}`);
      log.warning('Failed trying to load the MASTER synchronization DB from disk, check server logs.');
      // A half-loaded dataset must not be served as if it were the master's.
      if (flushed) this.flushAll();
      if (link === this.link) this.cancelHandshake(true);
    } finally {
      if (this.loadCancel === token) this.loadCancel = null;
      if (flushed) server.persistence.aof.restartAfterFullSync(); // AOF hook (no-op when already on)
    }
  }

  /**
   * Mirra safety directive: a master that restarted empty (new replid) must not wipe a replica
   * that still holds the data. Returns true when the sync was refused (retried later).
   */
  private async refuseEmptyMaster(link: SyncLink, cancelled: () => boolean): Promise<boolean> {
    const server = this.server;
    if (!server.config.bool('mirra-replica-refuse-empty-master')) return false;
    if (link.masterReplid === this.repl.replid || server.keyspace.keyCount === 0) return false;
    if (await payloadHasKeys(server, link.tmpPath, cancelled)) return false;
    if (cancelled() || link !== this.link) return true;
    server.logger.warning(
      `Refusing full resync from MASTER ${link.masterHost}:${link.masterPort}: it offers an empty dataset under a new replication ID ` +
        `(${link.masterReplid || '?'}, ours is ${this.repl.replid}) and we hold ${server.keyspace.keyCount} keys ` +
        '(mirra-replica-refuse-empty-master yes). Keeping our data; retrying later.',
    );
    this.refusedReason = 'empty-master-with-new-replid';
    this.cached = this.stashedCache;
    this.stashedCache = null;
    // Not a reconnect-now failure: the cron retries in a second.
    this.link = null;
    link.abort();
    return true;
  }

  private flushAll(): void {
    const ks = this.server.keyspace;
    for (const db of ks.dbs) db.clear();
    ks.signalDbsChanged(ks.dbs);
  }

  /** The lines Redis's rdbLoad prints. */
  private logLoad(aux: Map<string, string>, loaded: number, expired: number): void {
    const log = this.server.logger;
    const ver = aux.get('redis-ver');
    if (ver !== undefined) log.notice(`Loading RDB produced by version ${ver}`);
    const ctime = aux.get('ctime');
    if (ctime !== undefined) {
      const age = Math.floor(Date.now() / 1000) - Number(ctime);
      log.notice(`RDB age ${age} seconds`);
    }
    const mem = aux.get('used-mem');
    if (mem !== undefined) log.notice(`RDB memory usage when created ${(Number(mem) / 1024 / 1024).toFixed(2)} Mb`);
    log.notice(`Done loading RDB, keys loaded: ${loaded}, keys expired: ${expired}.`);
  }

  /** §4.1: the master client, ids and offsets, backlog, the first ACK. */
  private finishFullSync(link: SyncLink, aux: Map<string, string>, leftover: Buffer): void {
    const dbAux = aux.get('repl-stream-db');
    const dbId = dbAux !== undefined ? (parseInt64(dbAux) ?? -1) : -1;
    const offset = link.initialOffset;
    this.startStream(link.socket!, { replid: link.masterReplid, offset, dbId, prePsync: offset === -1 });
    this.repl.replid = link.masterReplid;
    this.repl.masterReplOffset = offset;
    this.repl.clearReplicationId2();
    // Replicas keep a backlog even without sub-replicas, to serve PSYNC after a promotion.
    this.repl.master.createBacklog();
    this.server.logger.notice('MASTER <-> REPLICA sync: Finished with success');
    // A diskless master holds the stream until this first ACK (§4).
    if (link.eofMark !== null) this.stream?.sendAck();
    this.feedStartOfStream(Buffer.concat([leftover, link.takeBuffered()]));
  }

  private startStream(socket: import('node:net').Socket, o: { replid: string; offset: number; dbId: number; prePsync: boolean }): void {
    // Detach the sync attempt's listeners before the client attaches its own.
    socket.removeAllListeners('data');
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    socket.removeAllListeners('connect');
    this.stream = new MasterStream(this.server, socket, {
      ...o,
      onApplied: (bytes) => this.onApplied(bytes),
    });
    this.downSince = 0;
    this.refusedReason = '';
  }

  /** First bytes of the stream (left over from the sync), then live reading. */
  private feedStartOfStream(leftover: Buffer): void {
    const s = this.stream;
    if (s === null) return;
    const sock = s.socket;
    if (sock.destroyed) {
      // The master went away while we were loading: the link is lost right after the sync.
      s.client.close();
      return;
    }
    s.feed(leftover);
    if (!s.client.flags.closed) sock.resume();
  }

  /** Applied stream bytes go to our own replicas unchanged (§9); the offset follows them. */
  private onApplied(bytes: Buffer): void {
    this.repl.master.feedRaw(bytes);
    const s = this.stream;
    if (s !== null) this.repl.masterReplOffset = s.reploff;
  }

  // ---------------------------------------------------------------------------------------
  // Cron, link loss, shutdown

  /** Redis replicationCron, replica half, once a second. */
  cron(): void {
    const now = Date.now();
    if (now - this.lastCron < 1000) return;
    this.lastCron = now;
    if (this.masterHost === null || !this.started) return;
    const log = this.server.logger;
    const timeout = this.server.config.int('repl-timeout') * 1000;
    const link = this.link;
    if (link !== null && !link.received && now - link.lastIo > timeout) {
      if (link.state === 'transfer') {
        log.warning(
          "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.",
        );
      } else {
        log.warning('Timeout connecting to the MASTER...');
      }
      this.cancelHandshake(true);
    }
    const s = this.stream;
    if (s !== null && now - s.lastIo > timeout) {
      log.warning('MASTER timeout: no data nor PING received...');
      s.client.close();
    }
    if (this.masterHost !== null && this.link === null && this.stream === null) {
      log.notice(`Connecting to MASTER ${this.masterHost}:${this.masterPort}`);
      this.connect();
    }
    if (this.stream !== null) this.stream.sendAck();
    // While a payload loads, a newline a second tells the master we are alive.
    if (this.link !== null && this.link.received && this.link.socket && !this.link.socket.destroyed) this.link.socket.write('\n');
  }

  onClientClosed(c: Client): void {
    const s = this.stream;
    if (s === null || c !== s.client) return;
    this.stream = null;
    const log = this.server.logger;
    log.warning('Connection with master lost.');
    if (!s.protocolError) {
      log.notice('Caching the disconnected master state.');
      this.cached = { replid: s.replid, offset: s.reploff, dbId: c.db.id };
    }
    this.downSince = Date.now();
    if (this.masterHost !== null) {
      // At once rather than at the next cron: waiting risks the backlog moving past us.
      log.notice(`Reconnecting to MASTER ${this.masterHost}:${this.masterPort}`);
      this.connect();
    }
  }

  stop(): void {
    this.cancelHandshake(false);
    const s = this.stream;
    if (s !== null) {
      this.stream = null;
      s.client.close();
    }
  }

  // ---------------------------------------------------------------------------------------
  // INFO

  /** Replica-only INFO lines, from master_host to replica_announced (replication.md §17). */
  infoLines(): string[] {
    const cfg = this.server.config;
    const nowS = Math.floor(Date.now() / 1000);
    const s = this.stream;
    const link = this.link;
    const lines = [
      `master_host:${this.masterHost ?? ''}`,
      `master_port:${this.masterPort}`,
      `master_link_status:${s !== null ? 'up' : 'down'}`,
      `master_last_io_seconds_ago:${s !== null ? nowS - Math.floor(s.lastIo / 1000) : -1}`,
      `master_sync_in_progress:${link !== null && link.state === 'transfer' ? 1 : 0}`,
      `slave_read_repl_offset:${s !== null ? s.readReploff : this.cached !== null ? this.cached.offset : 1}`,
      `slave_repl_offset:${s !== null ? s.reploff : this.cached !== null ? this.cached.offset : 1}`,
    ];
    if (link !== null && link.state === 'transfer') {
      const total = link.transferSize;
      const read = link.transferRead;
      const perc = total !== 0 ? (read / total) * 100 : 0;
      lines.push(
        `master_sync_total_bytes:${total}`,
        `master_sync_read_bytes:${read}`,
        `master_sync_left_bytes:${total - read}`,
        `master_sync_perc:${perc.toFixed(2)}`,
        `master_sync_last_io_seconds_ago:${nowS - Math.floor(link.lastIo / 1000)}`,
      );
    }
    if (s === null) lines.push(`master_link_down_since_seconds:${this.downSince !== 0 ? nowS - Math.floor(this.downSince / 1000) : -1}`);
    lines.push(
      `slave_priority:${cfg.int('replica-priority')}`,
      `slave_read_only:${cfg.bool('replica-read-only') ? 1 : 0}`,
      `replica_announced:${cfg.bool('replica-announced') ? 1 : 0}`,
    );
    if (this.refusedReason !== '') lines.push(`mirra_sync_refused_reason:${this.refusedReason}`);
    return lines;
  }
}
