/**
 * The append only file, Redis 7.0 multi-part layout (aof.md): state, what is appended,
 * rewrites (BGREWRITEAOF), startup, shutdown and INFO. Writing and fsync policy: writer.ts;
 * loading: loader.ts; manifest: manifest.ts; base files: base-writer.ts.
 *
 * Files live in <dir>/<appenddirname>/ and are listed by the manifest; ops are appended to the
 * last incr file. States, as Redis's aof_state:
 *
 *   off           nothing is written.
 *   on            every propagated op is appended (the AOF is a local sink of the propagator,
 *                 so it also gets what a replica applies from its master), with SELECT first
 *                 when its db differs from the last one written (a new incr file starts with
 *                 "unknown"). PUBLISH is replication-only, as in Redis.
 *   wait_rewrite  being turned on (CONFIG SET appendonly yes, or after a replica's full
 *                 sync): ops go to a temp incr file while the first rewrite writes the base;
 *                 the rewrite's success renames both into place and switches to `on`.
 *
 * Rewrites use the fork-less point-in-time snapshot (rdb/snapshot.ts): at the start a new incr
 * file (seq+1) is opened and new ops go there at once; the snapshot writes the new base into
 * `temp-rewriteaof-bg-<pid>.aof` (RDB with aof-base=1, or commands: base-writer.ts); once it
 * is durable the base is renamed into place, the previous base and incr files become history
 * in an atomically replaced manifest, and history files are deleted (unless
 * aof-disable-auto-gc). Only one snapshot runs at a time: a rewrite asked for while another
 * snapshot (BGSAVE, full sync) runs — or inside EXEC, where ops of the transaction are still
 * to be propagated — is scheduled and started from cron.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from '../../server/server.js';
import type { Client } from '../../net/client.js';
import type { StreamSink } from '../../server/propagate.js';
import { ConfigError } from '../../config/config.js';
import { encodeCommand } from '../../protocol/encode.js';
import { startSnapshot, currentSnapshot, fileSink, type Snapshot, type SnapshotSink, type LoadProgress } from '../rdb/index.js';
import { fsyncDir } from '../rdb/files.js';
import { AofManifest, AofManifestError, tempIncrFileName } from './manifest.js';
import { loadAofFiles, type AofLoadEnv } from './loader.js';
import { commandBaseSink, timestampAnnotation } from './base-writer.js';
import { AofWriter } from './writer.js';
import { readManifest, persistManifest, writeBaseFileSync, isDir, isFile, fileSize } from './files.js';
import { osErrorText } from './errors.js';

export type AofState = 'off' | 'on' | 'wait_rewrite';

interface RewriteJob {
  snap: Snapshot;
  file: ReturnType<typeof fileSink>;
  sink: SnapshotSink & { readonly error?: Error | null };
  tmpPath: string;
  tmpName: string;
  rdbFormat: boolean;
  startedAt: number;
}

/** Cancel reason of a rewrite stopped on purpose (Redis kills its child with SIGUSR1). */
const KILLED = 'killed';
/** Redis's AOF_REWRITE_LIMITE_THRESHOLD / _MAX_MINUTES: back-off after repeated failures. */
const REWRITE_LIMIT_THRESHOLD = 3;
const REWRITE_LIMIT_MAX_MINUTES = 60;

const selectCache: Buffer[] = [];
function selectCommand(db: number): Buffer {
  return (selectCache[db] ??= encodeCommand(['SELECT', String(db)]));
}

export class Aof implements StreamSink {
  state: AofState = 'off';
  manifest = new AofManifest();
  readonly writer: AofWriter;
  /** aof_rewrite_base_size: size after the last rewrite (base size after a restart). */
  rewriteBaseSize = 0;
  rewriteScheduled = false;
  rewrites = 0;
  lastRewriteOk = true;
  consecutiveFailures = 0;
  lastRewriteTimeSec = -1;

  /** Database of the last SELECT written to the current file (-1: unknown). */
  private selectedDb = -1;
  private rewrite: RewriteJob | null = null;
  private limitDelayMin = 0;
  private limitNextTime = 0;
  private lastTimestamp = 0;
  private timestamps = false;
  private startupDone = false;

  constructor(readonly server: Server) {
    this.writer = new AofWriter(server);
    server.config.watch('aof-timestamp-enabled', (v) => (this.timestamps = v as boolean));
    server.config.onApply('appendonly', (v) => this.onAppendonlyChanged(v as boolean));
    server.propagator.localSinks.push(this);
  }

  private get filename(): string {
    return this.server.config.str('appendfilename');
  }

  /** The server's working directory (`dir`). */
  private get baseDir(): string {
    return this.server.config.str('dir') || process.cwd();
  }

  /** <dir>/<appenddirname>. */
  get dirPath(): string {
    return path.resolve(this.baseDir, this.server.config.str('appenddirname'));
  }

  get rewriteInProgress(): boolean {
    return this.rewrite !== null;
  }

  private persist(am: AofManifest): void {
    persistManifest(this.dirPath, this.filename, am);
  }

  // -------------------------------------------------------------------------------------------
  // Appending (feedAppendOnlyFile)

  /**
   * Whether ops are appended now (the propagator skips encoding for an inactive sink). Not
   * while turning on with no rewrite running yet: the coming snapshot will hold those writes.
   */
  get active(): boolean {
    return this.state === 'on' || (this.state === 'wait_rewrite' && this.rewrite !== null);
  }

  feed(db: number, argv: readonly string[], encoded: Buffer): void {
    if (!this.active) return;
    const a0 = argv[0]!;
    // Replication-only (the propagator already keeps it from us outside MULTI/EXEC wraps).
    if ((a0.length === 7 || a0.length === 8) && isPublish(a0)) return;
    const w = this.writer;
    if (this.timestamps) {
      const now = Math.floor(this.server.clock.ms / 1000);
      if (now > this.lastTimestamp) {
        w.append(timestampAnnotation(now));
        this.lastTimestamp = now;
      }
    }
    if (db !== this.selectedDb) {
      w.append(selectCommand(db));
      this.selectedDb = db;
    }
    w.append(encoded);
    w.endOp(a0, argv.length);
  }

  /** Client.flush asks before sending replies (appendfsync always: see writer.ts). */
  holdReply(c: Client): boolean {
    return this.writer.holdReply(c);
  }

  /**
   * writeCommandsDeniedByDiskError's AOF part: while the AOF is on and its last write or
   * background fsync failed, write commands get this error (without the leading '-').
   */
  writeErrorReply(): string | null {
    if (this.state === 'off') return null;
    const err = this.writer.failed;
    return err === null ? null : `MISCONF Errors writing to the AOF file: ${err}`;
  }

  // -------------------------------------------------------------------------------------------
  // Startup

  /**
   * Startup (Redis's aofLoadManifestFromDisk + loadDataFromDisk + aofOpenIfNeededOnServerStart
   * + aofDelHistoryFiles). Returns false when appendonly is off (the caller loads the RDB), true
   * when the AOF was loaded (the RDB file is then ignored, as in Redis). Throws on a fatal
   * error, after logging Redis's lines.
   */
  async loadAtStartup(): Promise<boolean> {
    const server = this.server;
    const log = server.logger;
    try {
      this.manifest = readManifest(this.dirPath, this.filename);
    } catch (e) {
      if (e instanceof AofManifestError) for (const l of e.logLines()) log.warning(l);
      throw e;
    }
    if (!server.config.bool('appendonly')) {
      this.delHistoryFiles();
      this.startupDone = true;
      return false;
    }
    this.state = 'on';
    this.upgradeIfNeeded();
    const p = server.persistence;
    const t0 = performance.now();
    const progress: LoadProgress = { startTime: Math.floor(Date.now() / 1000), totalBytes: 0, loadedBytes: 0, rdbUsedMem: 0 };
    const env: AofLoadEnv = {
      server,
      dir: this.dirPath,
      appendfilename: this.filename,
      loadTruncated: server.config.bool('aof-load-truncated'),
      progress,
      error: '',
    };
    p.loading = true;
    p.loadProgress = progress;
    let r;
    try {
      r = await loadAofFiles(env, this.manifest);
    } finally {
      p.loading = false;
      p.loadProgress = null;
    }
    if (r.status === 'failed' || r.status === 'open-err') {
      this.state = 'off';
      throw new Error(env.error || 'Error loading the append only file');
    }
    if (r.status !== 'not-exist') log.notice(`DB loaded from append only file: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
    this.writer.loaded(r.totalSize);
    this.rewriteBaseSize = r.baseSize;
    this.openOnServerStart();
    this.delHistoryFiles();
    this.startupDone = true;
    // CONFIG SET appendonly during the load is applied now.
    if (!server.config.bool('appendonly')) this.stop();
    return true;
  }

  /**
   * aofUpgradePrepare: a pre-7.0 `appendonly.aof` in `dir` becomes the base of a new
   * directory layout (kept under its name, seq 1).
   */
  private upgradeIfNeeded(): void {
    const fn = this.filename;
    const old = path.resolve(this.baseDir, fn);
    if (!isFile(old)) return;
    const dir = this.dirPath;
    const am = this.manifest;
    const upgrade =
      !isDir(dir) || am.empty || (am.base !== null && am.incr.length === 0 && am.base.name === fn && !fs.existsSync(path.join(dir, fn)));
    if (!upgrade) return;
    fs.mkdirSync(dir, { recursive: true });
    am.base = { name: fn, seq: 1, type: 'b' };
    am.currBaseSeq = 1;
    am.dirty = true;
    this.persist(am);
    fs.renameSync(old, path.join(dir, fn));
    fsyncDir(dir);
    this.server.logger.notice(`Successfully migrated an old-style AOF into the AOF directory (${this.server.config.str('appenddirname')}).`);
  }

  /** aofOpenIfNeededOnServerStart: a base for an empty start, then the incr file to append to. */
  private openOnServerStart(): void {
    const log = this.server.logger;
    const dir = this.dirPath;
    const fn = this.filename;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      log.warning(`Can't open or create append-only dir ${this.server.config.str('appenddirname')}: ${osErrorText(e as NodeJS.ErrnoException)}`);
      throw e;
    }
    const am = this.manifest;
    if (am.empty) {
      const base = am.newBase(fn, this.server.config.bool('aof-use-rdb-preamble'));
      writeBaseFileSync(this.server, path.join(dir, base.name), this.server.config.bool('aof-use-rdb-preamble'));
      log.notice(`Creating AOF base file ${base.name} on server start`);
    }
    const existed = am.incr.length > 0;
    const incr = am.lastIncr ?? am.newIncr(fn);
    let fd: number;
    try {
      fd = fs.openSync(path.join(dir, incr.name), 'a', 0o644);
    } catch (e) {
      log.warning(`Can't open the append-only file ${incr.name}: ${osErrorText(e as NodeJS.ErrnoException)}`);
      throw e;
    }
    this.persist(am);
    this.writer.open(fd, fs.fstatSync(fd).size);
    this.selectedDb = -1;
    log.notice(`${existed ? 'Opening' : 'Creating'} AOF incr file ${incr.name} on server start`);
  }

  /** aofDelHistoryFiles. */
  private delHistoryFiles(): void {
    const am = this.manifest;
    if (this.server.config.bool('aof-disable-auto-gc') || am.history.length === 0) return;
    for (const h of am.history) {
      this.server.logger.notice(`Removing the history file ${h.name} in the background`);
      fs.unlink(path.join(this.dirPath, h.name), () => undefined);
    }
    am.history = [];
    am.dirty = true;
    try {
      this.persist(am);
    } catch (e) {
      this.server.logger.warning(`Can't persist the AOF manifest: ${osErrorText(e as NodeJS.ErrnoException)}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Turning on and off (CONFIG SET appendonly, replica full syncs)

  private onAppendonlyChanged(on: boolean): void {
    if (!this.startupDone) return;
    if (!on && this.state !== 'off') this.stop();
    else if (on && this.state === 'off' && !this.start()) throw new ConfigError('Unable to turn on AOF. Check server logs.');
  }

  /**
   * startAppendOnly: state wait_rewrite, and the first rewrite starts on the next turn (or as
   * soon as another snapshot ends). Not at once: CONFIG SET may run inside EXEC, and a replica
   * applies its master's buffered stream right after loading — ops propagated before the
   * snapshot starts are dropped here because the snapshot holds them. Returns false when the
   * AOF directory cannot be created.
   */
  start(): boolean {
    const log = this.server.logger;
    try {
      fs.mkdirSync(this.dirPath, { recursive: true });
    } catch (e) {
      log.warning(`Can't open or create append-only dir ${this.server.config.str('appenddirname')}: ${osErrorText(e as NodeJS.ErrnoException)}`);
      log.warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
      return false;
    }
    if (this.rewrite !== null) {
      log.notice('AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.');
      this.killRewrite();
    } else if (currentSnapshot(this.server) !== null) {
      log.notice('AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.');
    }
    this.state = 'wait_rewrite';
    this.rewriteScheduled = true;
    this.consecutiveFailures = 0;
    setImmediate(() => {
      if (this.state === 'wait_rewrite' && this.rewriteScheduled && this.rewrite === null && currentSnapshot(this.server) === null) {
        this.startRewrite();
      }
    });
    return true;
  }

  /** stopAppendOnly: flush, fsync and close the file; stop any rewrite. */
  stop(): void {
    if (this.state === 'off') return;
    const turningOn = this.state === 'wait_rewrite';
    this.writer.close();
    this.selectedDb = -1;
    this.state = 'off';
    this.rewriteScheduled = false;
    this.killRewrite();
    // Never named into the layout: nothing refers to it.
    if (turningOn) fs.rm(path.join(this.dirPath, tempIncrFileName(this.filename)), { force: true }, () => undefined);
  }

  /** A replica about to flush its data for a full sync stops the AOF (readSyncBulkPayload). */
  stopForFullSync(): void {
    if (this.state !== 'off') this.stop();
  }

  /** restartAOFAfterSYNC: with appendonly yes, the new dataset is rewritten into a new base. */
  restartAfterFullSync(): void {
    if (!this.server.config.bool('appendonly') || this.state !== 'off') return;
    if (!this.start()) {
      // Redis retries in a blocking loop; cron retries through the schedule here.
      this.server.logger.warning('Failed enabling the AOF after successful master synchronization! Trying it again in one second.');
      this.state = 'wait_rewrite';
      this.rewriteScheduled = true;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Rewrites

  /** BGREWRITEAOF: what to answer (the command module words the replies). */
  bgrewriteaof(inExec: boolean): 'in-progress' | 'scheduled' | 'started' | 'error' {
    if (this.rewrite !== null) return 'in-progress';
    if (currentSnapshot(this.server) !== null || inExec) {
      this.rewriteScheduled = true;
      // A manual request resets the failure back-off so that it runs as soon as possible.
      this.consecutiveFailures = 0;
      return 'scheduled';
    }
    return this.startRewrite() ? 'started' : 'error';
  }

  /**
   * rewriteAppendOnlyFileBackground. Returns false (logged, aof_last_bgrewrite_status err)
   * when it could not start.
   */
  startRewrite(): boolean {
    const server = this.server;
    const log = server.logger;
    if (currentSnapshot(server) !== null) return false;
    const dir = this.dirPath;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      log.warning(`Can't open or create append-only dir ${server.config.str('appenddirname')}: ${osErrorText(e as NodeJS.ErrnoException)}`);
      this.lastRewriteOk = false;
      this.consecutiveFailures++;
      return false;
    }
    this.selectedDb = -1;
    this.writer.flush(true);
    try {
      this.openNewIncrForAppend();
    } catch (e) {
      log.warning(`Can't open a new AOF incr file: ${osErrorText(e as NodeJS.ErrnoException)}`);
      this.lastRewriteOk = false;
      this.consecutiveFailures++;
      return false;
    }
    this.rewrites++;
    const rdbFormat = server.config.bool('aof-use-rdb-preamble');
    const tmpName = `temp-rewriteaof-bg-${process.pid}.aof`;
    const tmpPath = path.join(dir, tmpName);
    const file = fileSink(tmpPath);
    const sink: RewriteJob['sink'] = rdbFormat ? file : commandBaseSink(server, file);
    let snap: Snapshot;
    try {
      // The command form decodes the RDB again at once: compressing it would be wasted work.
      snap = startSnapshot(server, [sink], { aofBase: true, ...(rdbFormat ? {} : { compression: false }) });
    } catch (e) {
      file.end();
      void file.finished.catch(() => undefined).finally(() => fs.rm(tmpPath, { force: true }, () => undefined));
      log.warning(`Can't rewrite append only file in background: ${(e as Error).message}`);
      this.lastRewriteOk = false;
      this.consecutiveFailures++;
      return false;
    }
    const job: RewriteJob = { snap, file, sink, tmpPath, tmpName, rdbFormat, startedAt: Date.now() };
    this.rewrite = job;
    this.rewriteScheduled = false;
    // A base that cannot be written makes the rest of the snapshot pointless.
    file.finished.catch((e: Error) => snap.cancel(e.message));
    log.notice(`Background append only file rewriting started by pid ${process.pid}`);
    snap.done
      .then(() => file.finished)
      .then(() => {
        const err = sink.error ?? null;
        if (err !== null) throw err;
        if (this.rewrite === job) log.notice(`Successfully created the temporary AOF base file ${tmpName}`);
        this.rewriteDone(job, null);
      })
      .catch((e: Error) => this.rewriteDone(job, e));
    return true;
  }

  /**
   * openNewIncrAofForAppend: new ops go to a new incr file from now on (a temp one while
   * turning on; it is named at the end of the rewrite). With AOF off nothing is opened.
   */
  private openNewIncrForAppend(): void {
    if (this.state === 'off') return;
    let name: string;
    let am: AofManifest | null = null;
    if (this.state === 'wait_rewrite') {
      name = tempIncrFileName(this.filename);
    } else {
      am = this.manifest.clone();
      name = am.newIncr(this.filename).name;
    }
    const fd = fs.openSync(path.join(this.dirPath, name), 'w', 0o644);
    if (am !== null) {
      try {
        this.persist(am);
      } catch (e) {
        fs.closeSync(fd);
        throw e;
      }
      this.manifest = am;
      this.server.logger.notice(`Creating AOF incr file ${name} on background rewrite`);
    }
    this.writer.open(fd, 0);
  }

  /** backgroundRewriteDoneHandler. */
  private rewriteDone(job: RewriteJob, err: Error | null): void {
    if (this.rewrite !== job) return; // killed: already cleaned up
    this.rewrite = null;
    const log = this.server.logger;
    this.lastRewriteTimeSec = Math.round((Date.now() - job.startedAt) / 1000);
    if (err === null) {
      log.notice('Background AOF rewrite terminated with success');
      if (this.installRewrite(job)) {
        this.lastRewriteOk = true;
        this.consecutiveFailures = 0;
        log.notice('Background AOF rewrite finished successfully');
        if (this.state === 'wait_rewrite') this.state = 'on';
      } else {
        this.lastRewriteOk = false;
        this.consecutiveFailures++;
      }
      fs.rm(job.tmpPath, { force: true }, () => undefined);
    } else {
      if (err.message === KILLED) {
        log.warning('Background AOF rewrite terminated by signal 10');
      } else {
        this.lastRewriteOk = false;
        this.consecutiveFailures++;
        log.warning(`Background AOF rewrite terminated with error: ${err.message}`);
      }
      // The snapshot may have been cancelled by someone else (killSnapshot): close the file.
      job.file.end();
      void job.file.finished.catch(() => undefined).finally(() => fs.rm(job.tmpPath, { force: true }, () => undefined));
    }
    if (this.state === 'wait_rewrite') this.abandonTempIncr();
  }

  /**
   * The new base (and, when turning on, the temp incr file) renamed into place, older files
   * marked history in the new manifest, history deleted. False (logged) on any failure, with
   * the previous manifest still in force.
   */
  private installRewrite(job: RewriteJob): boolean {
    const log = this.server.logger;
    const dir = this.dirPath;
    const fn = this.filename;
    const am = this.manifest.clone();
    const base = am.newBase(fn, job.rdbFormat);
    const basePath = path.join(dir, base.name);
    try {
      fs.renameSync(job.tmpPath, basePath);
      log.notice(`Successfully renamed the temporary AOF base file ${job.tmpName} into ${base.name}`);
    } catch (e) {
      log.warning(`Error trying to rename the temporary AOF base file ${job.tmpName} into ${base.name}: ${osErrorText(e as NodeJS.ErrnoException)}`);
      return false;
    }
    let incrPath: string | null = null;
    if (this.state === 'wait_rewrite') {
      const tmpIncr = tempIncrFileName(fn);
      const incr = am.newIncr(fn);
      incrPath = path.join(dir, incr.name);
      try {
        fs.renameSync(path.join(dir, tmpIncr), incrPath);
        log.notice(`Successfully renamed the temporary AOF incr file ${tmpIncr} into ${incr.name}`);
      } catch (e) {
        log.warning(`Error trying to rename the temporary AOF incr file ${tmpIncr} into ${incr.name}: ${osErrorText(e as NodeJS.ErrnoException)}`);
        fs.rm(basePath, { force: true }, () => undefined);
        return false;
      }
    }
    am.markRewrittenIncrAsHistory(this.writer.fd !== null);
    try {
      this.persist(am);
    } catch (e) {
      log.warning(`Can't persist the AOF manifest: ${osErrorText(e as NodeJS.ErrnoException)}`);
      fs.rm(basePath, { force: true }, () => undefined);
      if (incrPath !== null) fs.rm(incrPath, { force: true }, () => undefined);
      return false;
    }
    this.manifest = am;
    if (this.writer.fd !== null) {
      this.selectedDb = -1;
      this.writer.rewritten(fileSize(basePath));
      this.rewriteBaseSize = this.writer.currentSize;
    }
    this.delHistoryFiles();
    return true;
  }

  /**
   * A failed first rewrite while turning on: drop the temp incr file and what it holds (the
   * next snapshot contains it) and schedule another attempt.
   */
  private abandonTempIncr(): void {
    this.writer.discardFile();
    fs.rm(path.join(this.dirPath, tempIncrFileName(this.filename)), { force: true }, () => undefined);
    this.rewriteScheduled = true;
  }

  /** killAppendOnlyChild: stops a running rewrite and removes its temp file. */
  killRewrite(): void {
    const job = this.rewrite;
    if (job === null) return;
    this.rewrite = null;
    job.snap.cancel(KILLED);
    job.file.end();
    void job.file.finished.catch(() => undefined).finally(() => fs.rm(job.tmpPath, { force: true }, () => undefined));
    this.lastRewriteTimeSec = Math.round((Date.now() - job.startedAt) / 1000);
    if (this.state === 'wait_rewrite') this.abandonTempIncr();
  }

  /** aofRewriteLimited: after repeated failures, retries wait 1, 2, 4… up to 60 minutes. */
  private rewriteLimited(): boolean {
    if (this.consecutiveFailures < REWRITE_LIMIT_THRESHOLD) {
      this.limitDelayMin = 0;
      this.limitNextTime = 0;
      return false;
    }
    const now = Math.floor(Date.now() / 1000);
    if (this.limitNextTime !== 0) {
      if (now < this.limitNextTime) return true;
      this.limitNextTime = 0;
      return false;
    }
    this.limitDelayMin = this.limitDelayMin === 0 ? 1 : Math.min(this.limitDelayMin * 2, REWRITE_LIMIT_MAX_MINUTES);
    this.limitNextTime = now + this.limitDelayMin * 60;
    this.server.logger.warning(`Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${this.limitDelayMin} minutes`);
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Cron, shutdown, INFO

  /** serverCron's AOF duties: scheduled and automatic rewrites, postponed writes, fsync. */
  cron(): void {
    if (!this.startupDone || this.server.persistence.loading) return;
    const free = currentSnapshot(this.server) === null;
    if (free && this.rewriteScheduled && !this.rewriteLimited()) {
      this.startRewrite();
    } else if (free && this.state === 'on') {
      const perc = this.server.config.int('auto-aof-rewrite-percentage');
      const size = this.writer.currentSize;
      if (perc > 0 && size > this.server.config.int('auto-aof-rewrite-min-size')) {
        const base = this.rewriteBaseSize > 0 ? this.rewriteBaseSize : 1;
        const growth = Math.floor((size * 100) / base) - 100;
        if (growth >= perc && !this.rewriteLimited()) {
          this.server.logger.notice(`Starting automatic rewriting of AOF on ${growth}% growth`);
          this.startRewrite();
        }
      }
    }
    if (this.state !== 'off') this.writer.flush(false);
  }

  /**
   * prepareForShutdown's AOF part: stop a rewrite (refused while the first one of a
   * `CONFIG SET appendonly yes` runs, unless forced), then flush and fsync. Returns false when
   * the shutdown must not proceed.
   */
  beforeShutdown(force = false): boolean {
    const log = this.server.logger;
    if (this.rewrite !== null) {
      if (this.state === 'wait_rewrite') {
        if (!force) {
          log.warning("Writing initial AOF, can't exit.");
          return false;
        }
        log.warning('Writing initial AOF. Exit anyway.');
      }
      log.warning('There is a child rewriting the AOF. Killing it!');
      this.killRewrite();
    }
    if (this.state !== 'off' && this.writer.fd !== null) {
      log.notice('Calling fsync() on the AOF file.');
      this.writer.flush(true);
      this.writer.fsyncNow();
    }
    return true;
  }

  /** The aof_* fields INFO persistence always shows (aof_enabled … aof_last_cow_size). */
  info(): string[] {
    const job = this.rewrite;
    return [
      `aof_enabled:${this.state !== 'off' ? 1 : 0}`,
      `aof_rewrite_in_progress:${job !== null ? 1 : 0}`,
      `aof_rewrite_scheduled:${this.rewriteScheduled ? 1 : 0}`,
      `aof_last_rewrite_time_sec:${this.lastRewriteTimeSec}`,
      `aof_current_rewrite_time_sec:${job !== null ? Math.round((Date.now() - job.startedAt) / 1000) : -1}`,
      `aof_last_bgrewrite_status:${this.lastRewriteOk ? 'ok' : 'err'}`,
      `aof_rewrites:${this.rewrites}`,
      `aof_rewrites_consecutive_failures:${this.consecutiveFailures}`,
      `aof_last_write_status:${this.writer.failed === null ? 'ok' : 'err'}`,
      // No fork, no copy-on-write.
      'aof_last_cow_size:0',
    ];
  }

  /** The fields shown only with appendonly yes (after module_fork_last_cow_size). */
  infoEnabled(): string[] {
    if (!this.server.config.bool('appendonly')) return [];
    const w = this.writer;
    return [
      `aof_current_size:${w.currentSize}`,
      `aof_base_size:${this.rewriteBaseSize}`,
      `aof_pending_rewrite:${this.rewriteScheduled ? 1 : 0}`,
      `aof_buffer_length:${w.pendingBytes}`,
      `aof_pending_bio_fsync:${w.fsyncsPending}`,
      `aof_delayed_fsync:${w.delayedFsync}`,
    ];
  }
}

function isPublish(name: string): boolean {
  const l = name.toLowerCase();
  return l === 'publish' || l === 'spublish';
}
