/**
 * Full resynchronisation, master side (Redis's startBgsaveForReplication, the RDB "child" for
 * replicas and updateSlavesWaitingBgsave), built on the fork-less snapshot (design §4).
 *
 * One `FullSync` is one snapshot serving every replica attached to it:
 *
 *  - socket target (`repl-diskless-sync yes` and every waiting replica said `capa eof`): each
 *    replica gets `$EOF:<mark>\r\n`, the RDB bytes as the snapshot produces them, then the
 *    mark. The slowest socket paces the snapshot (write() returns false → the snapshot waits
 *    for its drain), as Redis's RDB pipe does. Replicas arriving meanwhile wait for the next.
 *  - disk target: the snapshot goes to `temp-<pid>.rdb`, renamed over dir/dbfilename (this is a
 *    normal BGSAVE for the persistence counters); then each replica gets `$<len>\r\n` and the
 *    file, with no trailing CRLF. Replicas arriving meanwhile with the same capabilities join
 *    it: they share the first replica's buffered stream (its position in the shared buffer).
 *
 * `+FULLRESYNC <replid> <offset>` is written when a replica is attached, with the offset at
 * which the snapshot is taken; the stream from offset + 1 on is buffered for it (it simply
 * keeps its position in the shared replication buffer) and sent once the payload is through.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  startSnapshot,
  currentSnapshot,
  fileSink,
  tempRdbPath,
  crc64,
  type Snapshot,
  type SnapshotSink,
} from '../persistence/rdb/index.js';
import { RdbOut } from '../persistence/rdb/out.js';
import { writeRdbHeader } from '../persistence/rdb/writer.js';
import { CAPA_EOF, REQ_RDB_EXCLUDE_DATA, REQ_RDB_EXCLUDE_FUNCTIONS, type ReplicaLink } from './master-link.js';
import type { MasterSide } from './master.js';

/** A replica socket holding this much unsent data makes the snapshot wait for its drain. */
export const SOCKET_HIGH_WATER = 1024 * 1024;

export class FullSync {
  readonly replicas = new Set<ReplicaLink>();
  readonly sinks = new Map<ReplicaLink, ReplicaSink>();
  snapshot: Snapshot | null = null;
  readonly startedAt = Date.now();
  /** Disk target: where the RDB ends up. */
  file = '';
  /** Set once the payload is complete (or failed). */
  finished = false;

  constructor(
    readonly kind: 'socket' | 'disk',
    /** master_repl_offset when the snapshot started (the +FULLRESYNC offset). */
    readonly offset: number,
    /** Capabilities of the replicas that triggered it (others may only join with a superset). */
    readonly capa: number,
    readonly req: number,
  ) {}
}

/**
 * The snapshot sink of one replica in a socket-target sync: the `$EOF:<mark>` framing around
 * the RDB bytes. A replica that goes away turns its sink into a black hole (the snapshot keeps
 * serving the others).
 */
export class ReplicaSink implements SnapshotSink {
  private drainCbs: (() => void)[] = [];
  dead = false;

  constructor(
    private readonly r: ReplicaLink,
    private readonly mark: string,
  ) {
    this.socketWrite(`$EOF:${mark}\r\n`);
  }

  private socketWrite(data: string | Buffer): void {
    const sock = this.r.c.socket;
    if (this.dead || sock === null || sock.destroyed) return;
    sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  write(chunk: Buffer): boolean {
    const sock = this.r.c.socket;
    if (this.dead || sock === null || sock.destroyed) return true;
    sock.write(chunk);
    if (sock.writableLength < SOCKET_HIGH_WATER) return true;
    // Stuck since now, unless already stuck (repl-timeout counts from the first stall).
    if (this.r.lastPartialWrite === 0) this.r.lastPartialWrite = Date.now();
    return false;
  }

  onDrain(cb: () => void): void {
    const sock = this.r.c.socket;
    if (this.dead || sock === null || sock.destroyed || sock.writableLength < SOCKET_HIGH_WATER) queueMicrotask(cb);
    else this.drainCbs.push(cb);
  }

  /** The replica's socket drained. */
  drained(): void {
    this.r.lastPartialWrite = 0;
    this.release();
  }

  end(): void {
    this.socketWrite(this.mark);
  }

  /** The replica went away: swallow the rest, never hold the snapshot back. */
  kill(): void {
    this.dead = true;
    this.release();
  }

  private release(): void {
    const cbs = this.drainCbs;
    if (cbs.length === 0) return;
    this.drainCbs = [];
    for (const cb of cbs) cb();
  }
}

/**
 * Starts a snapshot for the replicas waiting with requirements `req` (Redis
 * startBgsaveForReplication). Returns false when it could not start; the waiting replicas
 * were then told and dropped.
 */
export function startBgsaveForReplication(m: MasterSide, mincapa: number, req: number): boolean {
  const server = m.server;
  const log = server.logger;
  const socketTarget = (server.config.bool('repl-diskless-sync') || (req & REQ_RDB_EXCLUDE_DATA) !== 0) && (mincapa & CAPA_EOF) !== 0;
  log.notice(`Starting BGSAVE for SYNC with target: ${socketTarget ? 'replicas sockets' : 'disk'}`);
  const info = m.repl.rdbSaveInfo();
  if (info === null) {
    log.warning("BGSAVE for replication: replication information not available, can't generate the RDB file right now. Try later.");
    m.failWaitingReplicas();
    return false;
  }
  const aux: [string, string][] = [
    ['repl-stream-db', String(info.db)],
    ['repl-id', info.replid],
    ['repl-offset', String(info.offset)],
  ];
  const offset = m.repl.masterReplOffset;
  const waiting = m.replicas.filter((r) => r.state === 'wait_bgsave_start' && r.req === req);
  const sync = new FullSync(socketTarget ? 'socket' : 'disk', offset, mincapa, req);
  try {
    if (socketTarget) startSocketSync(m, sync, waiting, aux);
    else startDiskSync(m, sync, waiting, aux);
  } catch (e) {
    log.warning(`BGSAVE for replication failed: ${(e as Error).message}`);
    m.failWaitingReplicas();
    return false;
  }
  return true;
}

function startSocketSync(m: MasterSide, sync: FullSync, waiting: ReplicaLink[], aux: [string, string][]): void {
  const mark = randomBytes(20).toString('hex');
  const sinks: ReplicaSink[] = [];
  m.beginSync(sync);
  for (const r of waiting) {
    if (!m.setupFullResync(r, sync.offset)) continue;
    const sink = new ReplicaSink(r, mark);
    sync.replicas.add(r);
    sync.sinks.set(r, sink);
    r.sync = sync;
    sinks.push(sink);
  }
  if ((sync.req & REQ_RDB_EXCLUDE_DATA) !== 0) {
    // A filtered RDB (REPLCONF rdb-filter-only): no keys. Mirra has no functions, so the
    // functions-only RDB holds just the header and the AUX fields.
    const rdb = emptyRdb(aux, m.server.config.bool('rdbchecksum'));
    for (const s of sinks) {
      s.write(rdb);
      s.end();
    }
    queueMicrotask(() => m.syncDone(sync, null));
    return;
  }
  const snap = startSnapshot(m.server, sinks, { aux });
  sync.snapshot = snap;
  const log = m.server.logger;
  log.notice(`Background RDB transfer started by pid ${process.pid}`);
  snap.done.then(
    () => {
      log.notice('Background RDB transfer terminated with success');
      m.syncDone(sync, null);
    },
    (e: Error) => {
      log.warning(`Background transfer error: ${e.message}`);
      m.syncDone(sync, e);
    },
  );
}

function startDiskSync(m: MasterSide, sync: FullSync, waiting: ReplicaLink[], aux: [string, string][]): void {
  const server = m.server;
  const p = server.persistence;
  const target = p.rdbPath();
  const tmp = tempRdbPath(target);
  const sink = fileSink(tmp);
  const dirtyAtStart = server.keyspace.dirty;
  const snap = startSnapshot(server, [sink], { aux });
  sync.snapshot = snap;
  sync.file = target;
  server.logger.notice(`Background saving started by pid ${process.pid}`);
  m.beginSync(sync);
  for (const r of waiting) {
    if (!m.setupFullResync(r, sync.offset)) continue;
    sync.replicas.add(r);
    r.sync = sync;
  }
  snap.done
    .then(() => sink.finished)
    .then(() => {
      fs.renameSync(tmp, target);
      // A replication BGSAVE is a BGSAVE: the persistence counters move as for any other.
      server.logger.notice('DB saved on disk');
      server.logger.notice('Background saving terminated with success');
      p.dirtyAtLastSave = dirtyAtStart;
      p.lastSaveTime = Math.floor(Date.now() / 1000);
      p.lastBgsaveOk = true;
      p.rdbSaves++;
      m.syncDone(sync, null);
    })
    .catch((e: Error) => {
      sink.end();
      void sink.finished.catch(() => undefined).finally(() => fs.rm(tmp, { force: true }, () => undefined));
      server.logger.warning(`Background saving error: ${e.message}`);
      m.syncDone(sync, e);
    });
}

/** True when the replication snapshot may start now (no other snapshot: Redis's "no child"). */
export function snapshotSlotFree(m: MasterSide): boolean {
  return currentSnapshot(m.server) === null && m.currentSync === null;
}

/**
 * Disk target, payload ready: `$<len>\r\n` and the file, then the replica goes online and the
 * buffered stream follows at once (no ACK awaited in this mode). The file is opened right away
 * (synchronously): a later snapshot may rename another file over the same path meanwhile.
 */
export function sendBulkFile(m: MasterSide, r: ReplicaLink, file: string): void {
  const log = m.server.logger;
  const sock = r.c.socket;
  if (!r.attached || sock === null || sock.destroyed) return;
  let fd: number;
  let size: number;
  try {
    fd = fs.openSync(file, 'r');
    size = fs.fstatSync(fd).size;
  } catch (e) {
    log.warning(`SYNC failed. Can't open/stat DB after BGSAVE: ${(e as Error).message}`);
    r.c.close();
    return;
  }
  r.state = 'send_bulk';
  sock.write(Buffer.from(`$${size}\r\n`, 'latin1'));
  const rs: Readable = fs.createReadStream('', { fd, highWaterMark: 64 * 1024 });
  r.bulk = rs;
  rs.on('data', (chunk) => {
    if (!sock.write(chunk as Buffer)) rs.pause(); // resumed by the master's drain handler
  });
  rs.on('end', () => {
    r.bulk = null;
    m.bulkSent(r);
  });
  rs.on('error', (e) => {
    r.bulk = null;
    log.warning(`Read error sending DB to replica: ${e.message}`);
    r.c.close();
  });
}

/** An RDB with only the header, the AUX fields and the trailer. */
function emptyRdb(aux: [string, string][], checksum: boolean): Buffer {
  const out = new RdbOut(false);
  writeRdbHeader(out, aux, false);
  out.u8(0xff); // RDB_OPCODE_EOF
  const body = out.take();
  const trailer = Buffer.alloc(8);
  if (checksum) trailer.writeBigUInt64LE(crc64(body));
  return Buffer.concat([body, trailer]);
}

/** Removes the RDB written for replicas when nothing else wants it (rdb-del-sync-files). */
export function removeSyncRdb(m: MasterSide, file: string): void {
  m.server.logger.notice('Removing the RDB file used to feed replicas in a persistence-less instance');
  fs.rm(path.resolve(file), { force: true }, () => undefined);
}

export { REQ_RDB_EXCLUDE_FUNCTIONS };
