/**
 * Persistence facade: dataset loading state, RDB snapshots (SAVE, BGSAVE, save points,
 * shutdown save, DEBUG RELOAD) and INFO persistence. The codec and the fork-less snapshotter
 * live in rdb/; this file is the scheduler around them, mirroring Redis's rdb.c/server.c parts:
 *
 *  - BGSAVE runs a fork-less snapshot into `temp-<pid>.rdb`, fsyncs and renames it over
 *    dir/dbfilename. It is Redis's "RDB child": while any RDB snapshot runs (also one feeding
 *    replicas) another BGSAVE answers "Background save already in progress".
 *  - SAVE, the shutdown save and DEBUG RELOAD are synchronous, as in Redis (they block).
 *  - Save points (`save`) are checked in cron() against the changes since the last successful
 *    save. keyspace.dirty only ever grows (the dispatcher compares it around each command), so
 *    "changes since last save" is `keyspace.dirty - dirtyAtLastSave`.
 *  - `loadedReplInfo` keeps the replication AUX fields of the RDB loaded at startup (repl-id,
 *    repl-offset, repl-stream-db) for the replication code (rdb.md §8): null unless all three
 *    were present and the id has 40 characters.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from '../server/server.js';
import type { SavePoint } from '../config/directives.js';
import {
  startSnapshot,
  currentSnapshot,
  fileSink,
  tempRdbPath,
  saveRdbFileSync,
  loadRdbFileDetailed,
  loadRdbFileSync,
  type Snapshot,
  type LoadProgress,
  type DebugReloadOptions,
} from './rdb/index.js';
import { fsyncDir } from './rdb/files.js';
import { Aof } from './aof/index.js';

/** Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save points wait this long. */
const BGSAVE_RETRY_DELAY_S = 5;

export interface LoadedReplInfo {
  replid: string;
  offset: number;
  db: number;
}

/** What the replication code may expose for the AUX fields of a save (rdbPopulateSaveInfo). */
interface ReplSaveInfoSource {
  rdbSaveInfo?(): { replid: string; offset: number; db: number } | null;
}

export type BgsaveReply = 'started' | 'scheduled' | 'in-progress' | 'other-child' | 'error';

export class Persistence {
  /** True while a dataset is being loaded: commands without the loading flag get -LOADING. */
  loading = false;
  /** Progress of the load in course (INFO loading_* fields). */
  loadProgress: LoadProgress | null = null;
  /** Unix seconds of the last successful save (LASTSAVE). */
  lastSaveTime = Math.floor(Date.now() / 1000);
  lastBgsaveOk = true;
  /** keyspace.dirty at the last successful save. */
  dirtyAtLastSave = 0;
  /** Successful saves since startup (rdb_saves). */
  rdbSaves = 0;
  lastBgsaveTimeSec = -1;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  /** Replication AUX of the RDB loaded at startup (see the module comment). */
  loadedReplInfo: LoadedReplInfo | null = null;
  /** A BGSAVE was requested while another snapshot ran (BGSAVE SCHEDULE). */
  bgsaveScheduled = false;

  /** The BGSAVE in course (its snapshot is also currentSnapshot()). */
  private bgsave: { snap: Snapshot; dirtyAtStart: number; startedAt: number; tmp: string } | null = null;
  /** Unix seconds of the last BGSAVE attempt (retry delay after a failure). */
  private lastBgsaveTry = 0;

  /** The append only file (aof/): hooked into loading, cron, shutdown, BGSAVE and INFO below. */
  readonly aof: Aof;

  constructor(readonly server: Server) {
    this.aof = new Aof(server);
  }

  /** stop-writes-on-bgsave-error: refuse writes after a failed background save. */
  writesRefused(): boolean {
    return !this.lastBgsaveOk && this.server.config.bool('stop-writes-on-bgsave-error') && this.savePoints().length > 0;
  }

  private savePoints(): SavePoint[] {
    return this.server.config.get<SavePoint[]>('save');
  }

  /** dir/dbfilename. `dir` is the working directory the server chdir'ed to. */
  rdbPath(): string {
    const dir = this.server.config.str('dir') || process.cwd();
    return path.resolve(dir, this.server.config.str('dbfilename'));
  }

  get changesSinceLastSave(): number {
    return this.server.keyspace.dirty - this.dirtyAtLastSave;
  }

  /**
   * True while an RDB snapshot runs (BGSAVE or a full sync to replicas) or a BGSAVE is still
   * syncing/renaming its file: Redis's "RDB child". An AOF rewrite is not one (SAVE is allowed
   * during it, BGSAVE answers "other child").
   */
  get rdbChildActive(): boolean {
    return this.bgsave !== null || (currentSnapshot(this.server) !== null && !this.aof.rewriteInProgress);
  }

  /** Any snapshot (RDB or AOF rewrite) or pending BGSAVE: Redis's hasActiveChildProcess(). */
  get childActive(): boolean {
    return this.bgsave !== null || currentSnapshot(this.server) !== null;
  }

  /** AUX fields with the replication info, when the replication side provides it. */
  private saveAux(): [string, string][] {
    const src = this.server.repl as unknown as ReplSaveInfoSource;
    const info = src.rdbSaveInfo?.() ?? null;
    if (info === null) return [];
    return [
      ['repl-stream-db', String(info.db)],
      ['repl-id', info.replid],
      ['repl-offset', String(info.offset)],
    ];
  }

  // -------------------------------------------------------------------------------------------
  // Loading

  /** Loads dir/dbfilename at startup, if it exists. Throws (after logging) when it is corrupt. */
  async loadAtStartup(): Promise<void> {
    // AOF hook: with appendonly yes the AOF is loaded instead of the RDB (Redis's rule).
    if (await this.aof.loadAtStartup()) return;
    const file = this.rdbPath();
    if (!fs.existsSync(file)) return;
    const log = this.server.logger;
    const t0 = performance.now();
    this.loadProgress = { startTime: Math.floor(Date.now() / 1000), totalBytes: 0, loadedBytes: 0, rdbUsedMem: 0 };
    try {
      const r = await loadRdbFileDetailed(this.server, file, this.loadProgress);
      this.afterLoad(r.aux, r.keys, r.expired);
      log.notice(`DB loaded from disk: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
    } catch (e) {
      log.warning(`Fatal error loading the DB (${file}): ${(e as Error).message}`);
      throw e;
    } finally {
      this.loadProgress = null;
    }
  }

  private afterLoad(aux: Map<string, string>, keys: number, expired: number): void {
    const log = this.server.logger;
    const ver = aux.get('redis-ver');
    if (ver !== undefined) log.notice(`Loading RDB produced by version ${ver}`);
    const ctime = Number(aux.get('ctime'));
    if (Number.isFinite(ctime) && aux.has('ctime')) {
      log.notice(`RDB age ${Math.max(0, Math.floor(Date.now() / 1000) - ctime)} seconds`);
    }
    const mem = Number(aux.get('used-mem'));
    if (Number.isFinite(mem) && aux.has('used-mem')) log.notice(`RDB memory usage when created ${(mem / 1024 / 1024).toFixed(2)} Mb`);
    log.notice(`Done loading RDB, keys loaded: ${keys}, keys expired: ${expired}.`);
    this.lastLoadKeysLoaded = keys;
    this.lastLoadKeysExpired = expired;
    const replid = aux.get('repl-id');
    const offset = aux.get('repl-offset');
    const db = aux.get('repl-stream-db');
    if (replid !== undefined && replid.length === 40 && offset !== undefined && db !== undefined && /^-?\d+$/.test(offset) && /^\d+$/.test(db)) {
      this.loadedReplInfo = { replid, offset: Number(offset), db: Number(db) };
    } else {
      this.loadedReplInfo = null;
    }
    // The loaded dataset is what is on disk: nothing to save yet.
    this.dirtyAtLastSave = this.server.keyspace.dirty;
  }

  // -------------------------------------------------------------------------------------------
  // Saving

  /** SAVE: synchronous save. Returns null on success, else the error message (logged). */
  saveSync(): string | null {
    const file = this.rdbPath();
    try {
      saveRdbFileSync(this.server, file, { aux: this.saveAux() });
    } catch (e) {
      const msg = (e as Error).message;
      this.server.logger.warning(`Failed saving the DB: ${msg}`);
      return msg;
    }
    this.server.logger.notice('DB saved on disk');
    this.dirtyAtLastSave = this.server.keyspace.dirty;
    this.lastSaveTime = Math.floor(Date.now() / 1000);
    this.lastBgsaveOk = true;
    this.rdbSaves++;
    return null;
  }

  /**
   * BGSAVE [SCHEDULE] decision, as Redis's bgsaveCommand makes it. Inside EXEC a BGSAVE is
   * always scheduled (it starts from cron right after).
   */
  bgsaveCommand(schedule: boolean, inExec: boolean): BgsaveReply {
    // AOF hook: a running AOF rewrite is Redis's "other child".
    if (this.aof.rewriteInProgress) {
      if (!schedule && !inExec) return 'other-child';
      this.bgsaveScheduled = true;
      return 'scheduled';
    }
    if (this.rdbChildActive) return 'in-progress';
    if (inExec) {
      this.bgsaveScheduled = true;
      return 'scheduled';
    }
    return this.startBgsave() ? 'started' : 'error';
  }

  /** Starts a BGSAVE. Returns false if it could not start (logged). */
  startBgsave(): boolean {
    if (this.childActive) return false;
    const server = this.server;
    const target = this.rdbPath();
    const tmp = tempRdbPath(target);
    this.lastBgsaveTry = Math.floor(Date.now() / 1000);
    this.bgsaveScheduled = false;
    const sink = fileSink(tmp);
    let snap: Snapshot;
    try {
      snap = startSnapshot(server, [sink], { aux: this.saveAux() });
    } catch (e) {
      server.logger.warning(`Can't save in background: ${(e as Error).message}`);
      this.lastBgsaveOk = false;
      return false;
    }
    const job = { snap, dirtyAtStart: server.keyspace.dirty, startedAt: Date.now(), tmp };
    this.bgsave = job;
    // A file that cannot be written makes the rest of the snapshot pointless.
    sink.finished.catch((e: Error) => snap.cancel(e.message));
    server.logger.notice(`Background saving started by pid ${process.pid}`);
    snap.done
      .then(() => sink.finished)
      .then(() => {
        fs.renameSync(tmp, target);
        fsyncDir(path.dirname(target));
        this.bgsaveDone(job, null);
      })
      .catch((e: Error) => {
        sink.end();
        void sink.finished.catch(() => undefined).finally(() => fs.rm(tmp, { force: true }, () => undefined));
        this.bgsaveDone(job, e);
      });
    return true;
  }

  private bgsaveDone(job: NonNullable<Persistence['bgsave']>, err: Error | null): void {
    if (this.bgsave === job) this.bgsave = null;
    const log = this.server.logger;
    this.lastBgsaveTimeSec = Math.floor((Date.now() - job.startedAt) / 1000);
    if (err === null) {
      log.notice('DB saved on disk');
      log.notice('Background saving terminated with success');
      this.dirtyAtLastSave = job.dirtyAtStart;
      this.lastSaveTime = Math.floor(Date.now() / 1000);
      this.lastBgsaveOk = true;
      this.rdbSaves++;
    } else if (err.message === KILLED) {
      // Redis kills its child with SIGUSR1 on purpose: not an error condition.
      log.warning('Background saving terminated by signal 10');
    } else {
      log.warning(`Background saving error: ${err.message}`);
      this.lastBgsaveOk = false;
    }
  }

  /**
   * Stops the running RDB snapshot, as Redis's killRDBChild (full sync about to load, shutdown,
   * FLUSHALL). A BGSAVE stopped this way is not an error (no MISCONF).
   */
  killSnapshot(): void {
    currentSnapshot(this.server)?.cancel(KILLED);
  }

  /** Save points and scheduled BGSAVEs (serverCron). */
  cron(): void {
    this.aof.cron(); // AOF hook: scheduled/automatic rewrites, fsync, postponed writes
    if (this.loading || this.childActive) return;
    if (this.bgsaveScheduled) {
      this.startBgsave();
      return;
    }
    const points = this.savePoints();
    if (points.length === 0) return;
    const now = Math.floor(Date.now() / 1000);
    const changes = this.changesSinceLastSave;
    for (const sp of points) {
      if (
        changes >= sp.changes &&
        now - this.lastSaveTime > sp.seconds &&
        (now - this.lastBgsaveTry > BGSAVE_RETRY_DELAY_S || this.lastBgsaveOk)
      ) {
        this.server.logger.notice(`${sp.changes} changes in ${sp.seconds} seconds. Saving...`);
        this.startBgsave();
        return;
      }
    }
  }

  /**
   * Called by a graceful shutdown before exit: kills a running BGSAVE, then saves
   * synchronously when save points are configured (or mode 'save'), never with 'nosave'.
   * Returns false when the required save failed.
   */
  async beforeShutdown(mode: 'default' | 'save' | 'nosave'): Promise<boolean> {
    const log = this.server.logger;
    if (this.bgsave !== null) {
      log.warning('There is a child saving an .rdb. Killing it!');
      const tmp = this.bgsave.tmp;
      this.killSnapshot();
      fs.rmSync(tmp, { force: true });
    }
    // AOF hook: stop a rewrite, flush and fsync the AOF (refused while the first one is written).
    if (!this.aof.beforeShutdown()) return false;
    if (mode === 'nosave' || (mode === 'default' && this.savePoints().length === 0)) return true;
    log.notice('Saving the final RDB snapshot before exiting.');
    if (this.saveSync() !== null) {
      log.warning('Error trying to save the DB, can\'t exit.');
      return false;
    }
    return true;
  }

  /** DEBUG RELOAD (see rdb/index.ts debugReload). */
  debugReload(opts: DebugReloadOptions): void {
    const server = this.server;
    if (opts.nosave !== true) {
      // Redis answers a failed save with a bare -ERR (the reason is in the log).
      if (this.saveSync() !== null) throw new Error('ERR');
    }
    if (opts.noflush !== true) {
      server.keyspace.signalDbsChanged(server.keyspace.dbs);
      for (const db of server.keyspace.dbs) db.clear();
    }
    try {
      const r = loadRdbFileSync(server, this.rdbPath(), opts.merge === true);
      this.lastLoadKeysLoaded = r.keys;
      this.lastLoadKeysExpired = r.expired;
    } catch (e) {
      server.logger.warning(`Error loading the RDB dump for DEBUG RELOAD: ${(e as Error).message}`);
      throw new Error('ERR Error trying to load the RDB dump, check server logs.');
    }
  }

  // -------------------------------------------------------------------------------------------
  // INFO

  /** The `# Persistence` INFO section body, in Redis 7.0's field order. */
  info(): string[] {
    const snap = currentSnapshot(this.server);
    const since = this.bgsave?.startedAt ?? (this.aof.rewriteInProgress ? undefined : snap?.startedAt);
    const done = snap?.keysWritten ?? 0;
    const total = snap?.keysTotal ?? 0;
    const lines = [
      `loading:${this.loading ? 1 : 0}`,
      'async_loading:0',
      // No fork, so no copy-on-write: the snapshot's own overhead is not a CoW figure.
      'current_cow_peak:0',
      'current_cow_size:0',
      'current_cow_size_age:0',
      `current_fork_perc:${total > 0 ? ((done / total) * 100).toFixed(2) : '0.00'}`,
      `current_save_keys_processed:${done}`,
      `current_save_keys_total:${total}`,
      `rdb_changes_since_last_save:${this.changesSinceLastSave}`,
      `rdb_bgsave_in_progress:${this.rdbChildActive ? 1 : 0}`,
      `rdb_last_save_time:${this.lastSaveTime}`,
      `rdb_last_bgsave_status:${this.lastBgsaveOk ? 'ok' : 'err'}`,
      `rdb_last_bgsave_time_sec:${this.lastBgsaveTimeSec}`,
      `rdb_current_bgsave_time_sec:${since !== undefined ? Math.floor((Date.now() - since) / 1000) : -1}`,
      `rdb_saves:${this.rdbSaves}`,
      'rdb_last_cow_size:0',
      `rdb_last_load_keys_expired:${this.lastLoadKeysExpired}`,
      `rdb_last_load_keys_loaded:${this.lastLoadKeysLoaded}`,
      ...this.aof.info(),
      'module_fork_in_progress:0',
      'module_fork_last_cow_size:0',
      ...this.aof.infoEnabled(),
    ];
    const lp = this.loadProgress;
    if (this.loading && lp !== null) {
      const elapsed = Math.max(0, Math.floor(Date.now() / 1000) - lp.startTime);
      const perc = lp.totalBytes > 0 ? (lp.loadedBytes / lp.totalBytes) * 100 : 0;
      const eta = lp.loadedBytes > 0 ? Math.floor(((lp.totalBytes - lp.loadedBytes) * Math.max(elapsed, 1)) / lp.loadedBytes) : 1;
      lines.push(
        `loading_start_time:${lp.startTime}`,
        `loading_total_bytes:${lp.totalBytes}`,
        `loading_rdb_used_mem:${lp.rdbUsedMem ?? 0}`,
        `loading_loaded_bytes:${lp.loadedBytes}`,
        `loading_loaded_perc:${perc.toFixed(2)}`,
        `loading_eta_seconds:${eta}`,
      );
    }
    return lines;
  }
}

/** Cancel reason used by killSnapshot (a deliberate stop, not a failure). */
const KILLED = 'killed';
