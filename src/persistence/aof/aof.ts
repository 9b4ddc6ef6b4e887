/**
 * The append only file, Redis 7.0 multi-part layout (aof.md): state, appending the propagated
 * stream, fsync policy, rewrites (BGREWRITEAOF), startup, shutdown and INFO.
 *
 * Files live in <dir>/<appenddirname>/ and are listed by the manifest (manifest.ts); commands
 * are appended to the last incr file. States, as Redis's aof_state:
 *
 *   off           nothing is written.
 *   on            every propagated op is appended (SELECT first when its db differs from the
 *                 last one written; PUBLISH is replication-only, as in Redis).
 *   wait_rewrite  being turned on (CONFIG SET appendonly yes, or after a replica's full
 *                 sync): ops go to a temp incr file while the first rewrite writes the base;
 *                 the rewrite's success renames both into place and switches to `on`.
 *
 * Writing. The AOF is a local sink of the propagator (propagate.ts), which feeds it inside the
 * command call, before the client's reply is flushed. Each op (a MULTI…EXEC group as one) is
 * written to the file right there with a synchronous write(2): an acknowledged write is in
 * the page cache before the reply leaves, so a crash of the process alone (kill -9) never
 * loses it, whatever the policy. Then:
 *   always    fdatasync before returning (the reply waits for the disk);
 *   everysec  a background fdatasync (libuv thread pool) at most once per second; while one
 *             runs, writes are postponed (buffered) up to 2 s, then written anyway and
 *             counted in aof_delayed_fsync — Redis's rule, because write(2) may block behind a
 *             running fsync on the same file;
 *   no        the OS decides.
 * A write error with `always` exits (the contract cannot be kept); otherwise the data stays
 * buffered, aof_last_write_status is err and writes are retried from cron.
 *
 * Rewrites use the fork-less point-in-time snapshot (rdb/snapshot.ts): at the start a new incr
 * file (seq+1) is opened and new ops go there at once; the snapshot writes the new base into
 * `temp-rewriteaof-bg-<pid>.aof` (RDB with aof-base=1, or commands: base-writer.ts); when it
 * is durable the base is renamed into place, the previous base and incr files become history
 * in an atomically replaced manifest, and history files are deleted (unless
 * aof-disable-auto-gc). Only one snapshot runs at a time: a rewrite asked for while another
 * snapshot (BGSAVE, full sync) runs is scheduled and started from cron.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from '../../server/server.js';
import type { Client } from '../../net/client.js';
import type { StreamSink } from '../../server/propagate.js';
import { ConfigError } from '../../config/config.js';
import { osErrorText as loggerErrorText } from '../../server/logger.js';
import { encodeCommand } from '../../protocol/encode.js';
import { startSnapshot, currentSnapshot, fileSink, type Snapshot, type SnapshotSink, type LoadProgress } from '../rdb/index.js';
import { fsyncDir } from '../rdb/files.js';
import { AofManifest, AofManifestError, manifestFileName, tempManifestFileName, tempIncrFileName } from './manifest.js';
import { loadAofFiles } from './loader.js';
import { commandBaseSink, writeBaseSync, timestampAnnotation } from './base-writer.js';

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
/** How long writes wait behind a slow background fsync before being written anyway. */
const MAX_POSTPONE_MS = 2000;

const selectCache: Buffer[] = [];
function selectCommand(db: number): Buffer {
  return (selectCache[db] ??= encodeCommand(['SELECT', String(db)]));
}

export class Aof implements StreamSink {
  state: AofState = 'off';
  manifest = new AofManifest();
  /** aof_current_size / aof_rewrite_base_size / aof_last_incr_size, in bytes. */
  currentSize = 0;
  rewriteBaseSize = 0;
  lastIncrSize = 0;
  /** aof_delayed_fsync. */
  delayedFsync = 0;
  /** Last write error (aof_last_write_status:err while set). */
  lastWriteError: string | null = null;
  /** Last background fsync error (also reported as aof_last_write_status:err). */
  bgFsyncError: string | null = null;
  rewriteScheduled = false;
  rewrites = 0;
  lastRewriteOk = true;
  consecutiveFailures = 0;
  lastRewriteTimeSec = -1;

  private fd: number | null = null;
  /** Database of the last SELECT written to the current file (-1: unknown). */
  private selectedDb = -1;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Between the MULTI and the EXEC of a propagated transaction (written as one). */
  private inTransaction = false;
  private flushScheduled = false;
  private postponedSince = 0;
  private fsyncOffset = 0;
  private lastFsyncSec = 0;
  /** Bytes ever written to AOF files, and how many of them replies may acknowledge (always). */
  private writtenTotal = 0;
  private releasedTotal = 0;
  /** Clients whose replies wait for the next fsync (appendfsync always). */
  private readonly held = new Set<Client>();
  private fsyncsPending = 0;
  /** Background fsync/close jobs run one after the other (Redis's bio thread). */
  private bgChain: Promise<void> = Promise.resolve();
  private rewrite: RewriteJob | null = null;
  private limitDelayMin = 0;
  private limitNextTime = 0;
  private lastTimestamp = 0;
  private startupDone = false;
  // Hot-path configuration, kept current by config watchers.
  private policy: 'always' | 'everysec' | 'no' = 'everysec';
  private timestamps = false;
  private noFsyncOnRewrite = false;

  constructor(readonly server: Server) {
    const cfg = server.config;
    cfg.watch('appendfsync', (v) => (this.policy = v as Aof['policy']));
    cfg.watch('aof-timestamp-enabled', (v) => (this.timestamps = v as boolean));
    cfg.watch('no-appendfsync-on-rewrite', (v) => (this.noFsyncOnRewrite = v as boolean));
    cfg.onApply('appendonly', (v) => this.onAppendonlyChanged(v as boolean));
    server.propagator.localSinks.push(this);
  }

  // -------------------------------------------------------------------------------------------
  // Paths

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

  // -------------------------------------------------------------------------------------------
  // Appending (feedAppendOnlyFile / flushAppendOnlyFile)

  feed(db: number, argv: readonly string[], encoded: Buffer): void {
    // Turning on with no rewrite running yet: the coming snapshot will hold this write.
    if (this.state !== 'on' && this.rewrite === null) return;
    if (this.state === 'off') return;
    const a0 = argv[0]!;
    if ((a0.length === 7 || a0.length === 8) && isPublish(a0)) return;
    if (this.timestamps) {
      const now = Math.floor(this.server.clock.ms / 1000);
      if (now > this.lastTimestamp) {
        this.append(timestampAnnotation(now));
        this.lastTimestamp = now;
      }
    }
    if (db !== this.selectedDb) {
      this.append(selectCommand(db));
      this.selectedDb = db;
    }
    this.append(encoded);
    if (this.policy === 'always') {
      // Written and fsynced once for everything this event-loop turn produced; the replies
      // are held until then (holdReply), as Redis does in beforeSleep.
      this.scheduleFlush();
      return;
    }
    if (argv.length === 1 && a0 === 'MULTI') {
      // The propagator feeds MULTI, the ops and EXEC in one go: write them as one.
      this.inTransaction = true;
      this.scheduleFlush();
      return;
    }
    if (this.inTransaction) {
      if (argv.length !== 1 || a0 !== 'EXEC') return;
      this.inTransaction = false;
    }
    this.flush(false);
  }

  private append(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
  }

  /** A flush on the next turn (safety net for data that could not be written at once). */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.inTransaction = false;
      this.flush(false);
    });
  }

  /**
   * flushAppendOnlyFile: writes what is buffered, then fsyncs per policy. `force` writes even
   * while a background fsync runs.
   */
  flush(force: boolean): void {
    const fd = this.fd;
    if (fd === null) {
      this.releaseHeld();
      return;
    }
    const log = this.server.logger;
    if (this.pendingBytes === 0) {
      this.releaseHeld();
      // everysec: writes of a quiet period still get their fsync about a second later.
      if (this.policy === 'everysec' && this.fsyncOffset !== this.currentSize && this.nowSec() > this.lastFsyncSec && this.fsyncsPending === 0) {
        this.backgroundFsync(fd);
      }
      return;
    }
    if (this.policy === 'everysec' && !force && this.fsyncsPending > 0) {
      const now = Date.now();
      if (this.postponedSince === 0) {
        this.postponedSince = now;
        return;
      }
      if (now - this.postponedSince < MAX_POSTPONE_MS) return;
      this.delayedFsync++;
      log.notice('Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.');
    }
    const total = this.pendingBytes;
    try {
      writeAll(fd, this.pending, total);
    } catch (e) {
      const err = e as PartialWriteError;
      this.onWriteError(fd, err);
      if (err.written > 0) this.dropWritten(err.written);
      return;
    }
    if (this.lastWriteError !== null) {
      log.warning('AOF write error looks solved, Redis can write again.');
      this.lastWriteError = null;
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.postponedSince = 0;
    this.currentSize += total;
    this.lastIncrSize += total;
    this.writtenTotal += total;
    if (this.noFsyncOnRewrite && currentSnapshot(this.server) !== null) {
      this.releaseHeld();
      return;
    }
    if (this.policy === 'always') {
      try {
        fs.fdatasyncSync(fd);
      } catch (e) {
        log.warning(`Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${osErrorText(e as NodeJS.ErrnoException)}. Exiting...`);
        this.server.onExit(1);
        return;
      }
      this.fsyncOffset = this.currentSize;
      this.lastFsyncSec = this.nowSec();
    } else if (this.policy === 'everysec' && this.nowSec() > this.lastFsyncSec && this.fsyncsPending === 0) {
      this.backgroundFsync(fd);
    }
    this.releaseHeld();
  }

  /**
   * Client.flush asks before sending replies: with appendfsync always, while commands are
   * buffered or written but not fsynced, the replies wait (the client is flushed again right
   * after the fsync). Replies of reads wait too: Redis promises that acknowledged *or
   * observed* writes are on disk.
   */
  holdReply(c: Client): boolean {
    if (this.policy !== 'always' || this.fd === null) return false;
    if (this.pendingBytes === 0 && this.releasedTotal === this.writtenTotal) return false;
    this.held.add(c);
    this.scheduleFlush();
    return true;
  }

  /**
   * writeCommandsDeniedByDiskError's AOF part: while the AOF is on and its last write or
   * background fsync failed, write commands get this error (without the leading '-').
   */
  writeErrorReply(): string | null {
    if (this.state === 'off') return null;
    const err = this.lastWriteError ?? this.bgFsyncError;
    return err === null ? null : `MISCONF Errors writing to the AOF file: ${err}`;
  }

  /** Everything written is as durable as the policy makes it: held replies may go. */
  private releaseHeld(): void {
    if (this.pendingBytes > 0 && this.fd !== null) return;
    this.releasedTotal = this.writtenTotal;
    if (this.held.size === 0) return;
    const clients = [...this.held];
    this.held.clear();
    for (const c of clients) c.flush();
  }

  private onWriteError(fd: number, err: PartialWriteError): void {
    const log = this.server.logger;
    let written = err.written;
    if (err.errno !== null) {
      if (this.lastWriteError === null) log.warning(`Error writing to the AOF file: ${osErrorText(err.errno)}`);
    } else {
      log.warning(`Short write while writing to the AOF file: (nwritten=${written}, expected=${this.pendingBytes})`);
    }
    if (written > 0) {
      // Remove the partial command so the file stays loadable; the data is retried whole.
      try {
        fs.ftruncateSync(fd, this.lastIncrSize);
        written = 0;
      } catch (e) {
        log.warning(`Could not remove short write from the append-only file. Redis may refuse to load the AOF the next time it starts. ftruncate: ${osErrorText(e as NodeJS.ErrnoException)}`);
      }
    }
    err.written = written;
    if (this.policy === 'always') {
      log.warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
      this.server.onExit(1);
    }
    this.lastWriteError = err.errno !== null ? osErrorText(err.errno) : 'short write';
  }

  /** After a partial write that could not be undone: the written prefix is in the file. */
  private dropWritten(n: number): void {
    this.currentSize += n;
    this.lastIncrSize += n;
    const all = Buffer.concat(this.pending, this.pendingBytes).subarray(n);
    this.pending = [all];
    this.pendingBytes = all.length;
  }

  private nowSec(): number {
    return Math.floor(this.server.clock.ms / 1000);
  }

  /** aof_background_fsync: fdatasync in the thread pool; postponed writes follow it. */
  private backgroundFsync(fd: number): void {
    const offset = this.currentSize;
    this.lastFsyncSec = this.nowSec();
    this.fsyncsPending++;
    this.bg(
      () =>
        new Promise<void>((resolve) => {
          fs.fdatasync(fd, (err) => {
            this.fsyncsPending--;
            if (err) {
              if (this.bgFsyncError === null) this.server.logger.warning(`Fail to fsync the AOF file: ${osErrorText(err)}`);
              this.bgFsyncError = osErrorText(err);
            } else {
              if (this.bgFsyncError !== null) this.server.logger.warning('AOF fsync error looks solved, Redis can write again.');
              this.bgFsyncError = null;
              if (fd === this.fd) this.fsyncOffset = offset;
            }
            resolve();
            if (this.postponedSince !== 0 && this.pendingBytes > 0) this.flush(false);
          });
        }),
    );
  }

  private bg(job: () => Promise<void>): void {
    this.bgChain = this.bgChain.then(job).catch(() => undefined);
  }

  /** Closes a file no longer appended to, after an fsync, in the background. */
  private closeInBackground(fd: number, sync: boolean): void {
    this.bg(
      () =>
        new Promise<void>((resolve) => {
          const close = (): void => fs.close(fd, () => resolve());
          if (sync) fs.fsync(fd, close);
          else close();
        }),
    );
  }

  /** Waits for the background fsync/close jobs queued so far (tests, shutdown). */
  drainBackground(): Promise<void> {
    return this.bgChain;
  }

  // -------------------------------------------------------------------------------------------
  // Manifest and files

  /** aofLoadManifestFromDisk: an invalid manifest throws AofManifestError (fatal at startup). */
  private loadManifestFromDisk(): void {
    this.manifest = new AofManifest();
    const dir = this.dirPath;
    if (!isDir(dir)) return;
    const name = manifestFileName(this.filename);
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) return;
    let text: string;
    try {
      text = fs.readFileSync(file, 'latin1');
    } catch (e) {
      throw new AofManifestError(`Can't open the AOF manifest file ${name} for reading: ${osErrorText(e as NodeJS.ErrnoException)}`);
    }
    this.manifest = AofManifest.parse(text);
  }

  /** persistAofManifest: temp file, fsync, rename over the manifest, fsync the directory. */
  private persistManifest(am: AofManifest): void {
    if (!am.dirty) return;
    const dir = this.dirPath;
    const tmp = path.join(dir, tempManifestFileName(this.filename));
    const target = path.join(dir, manifestFileName(this.filename));
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      const b = Buffer.from(am.toString(), 'latin1');
      let off = 0;
      while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
    fsyncDir(dir);
    am.dirty = false;
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
      this.persistManifest(am);
    } catch (e) {
      this.server.logger.warning(`Can't persist the AOF manifest: ${osErrorText(e as NodeJS.ErrnoException)}`);
    }
  }

  /** rewriteAppendOnlyFile: a base of the current dataset, synchronously (first start). */
  private writeBaseFileSync(target: string): void {
    const dir = path.dirname(target);
    const tmp = path.join(dir, `temp-rewriteaof-${process.pid}.aof`);
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      writeBaseSync(this.server, fd, this.server.config.bool('aof-use-rdb-preamble'));
      fs.fsyncSync(fd);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, target);
    fsyncDir(dir);
    this.server.logger.notice('SYNC append only file rewrite performed');
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
      this.loadManifestFromDisk();
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
    const env = { server, dir: this.dirPath, appendfilename: this.filename, loadTruncated: server.config.bool('aof-load-truncated'), progress, error: '' };
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
    this.currentSize = r.totalSize;
    this.rewriteBaseSize = r.baseSize;
    this.fsyncOffset = r.totalSize;
    this.openOnServerStart();
    this.delHistoryFiles();
    this.lastFsyncSec = this.nowSec();
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
    this.persistManifest(am);
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
      this.writeBaseFileSync(path.join(dir, base.name));
      log.notice(`Creating AOF base file ${base.name} on server start`);
    }
    const existed = am.incr.length > 0;
    const incr = am.lastIncr ?? am.newIncr(fn);
    try {
      this.fd = fs.openSync(path.join(dir, incr.name), 'a', 0o644);
    } catch (e) {
      log.warning(`Can't open the append-only file ${incr.name}: ${osErrorText(e as NodeJS.ErrnoException)}`);
      throw e;
    }
    this.persistManifest(am);
    this.lastIncrSize = fs.fstatSync(this.fd).size;
    this.selectedDb = -1;
    log.notice(`${existed ? 'Opening' : 'Creating'} AOF incr file ${incr.name} on server start`);
  }

  // -------------------------------------------------------------------------------------------
  // Turning on and off (CONFIG SET appendonly, replica full syncs)

  private onAppendonlyChanged(on: boolean): void {
    if (!this.startupDone) return;
    if (!on && this.state !== 'off') this.stop();
    else if (on && this.state === 'off' && !this.start(false)) throw new ConfigError('Unable to turn on AOF. Check server logs.');
  }

  /**
   * startAppendOnly: state wait_rewrite and a rewrite now (or scheduled when another snapshot
   * runs or inside EXEC). Returns false when the rewrite could not start.
   */
  start(inExec: boolean): boolean {
    const log = this.server.logger;
    this.state = 'wait_rewrite';
    if (currentSnapshot(this.server) !== null && this.rewrite === null) {
      this.rewriteScheduled = true;
      log.notice('AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.');
    } else if (inExec) {
      this.rewriteScheduled = true;
      log.notice('AOF was enabled during a transaction. An AOF background was scheduled to start when possible.');
    } else {
      if (this.rewrite !== null) {
        log.notice('AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.');
        this.killRewrite();
      }
      if (!this.startRewrite()) {
        this.state = 'off';
        log.warning("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
        return false;
      }
    }
    this.lastFsyncSec = this.nowSec();
    return true;
  }

  /** stopAppendOnly: flush, fsync and close the file; stop any rewrite. */
  stop(): void {
    if (this.state === 'off') return;
    const fd = this.fd;
    if (fd !== null) {
      this.flush(true);
      try {
        fs.fsyncSync(fd);
      } catch (e) {
        this.server.logger.warning(`Fail to fsync the AOF file: ${osErrorText(e as NodeJS.ErrnoException)}`);
      }
      this.closeInBackground(fd, false);
    }
    this.fd = null;
    this.selectedDb = -1;
    this.state = 'off';
    this.rewriteScheduled = false;
    this.lastIncrSize = 0;
    this.killRewrite();
    this.pending = [];
    this.pendingBytes = 0;
    this.inTransaction = false;
    this.releaseHeld();
  }

  /** A replica about to flush its data for a full sync stops the AOF (readSyncBulkPayload). */
  stopForFullSync(): void {
    if (this.state !== 'off') this.stop();
  }

  /** restartAOFAfterSYNC: with appendonly yes, the new dataset is rewritten into a new base. */
  restartAfterFullSync(): void {
    if (!this.server.config.bool('appendonly') || this.state !== 'off') return;
    if (!this.start(false)) {
      this.server.logger.warning('Failed enabling the AOF after successful master synchronization! Trying it again in one second.');
      // Retried by cron through the schedule (Redis retries in a blocking loop).
      this.state = 'wait_rewrite';
      this.rewriteScheduled = true;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Rewrites

  /**
   * rewriteAppendOnlyFileBackground. Returns false (logged, aof_last_bgrewrite_status err)
   * when it could not start; the caller made sure no snapshot runs.
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
      return false;
    }
    this.selectedDb = -1;
    this.flush(true);
    try {
      this.openNewIncrForAppend();
    } catch (e) {
      log.warning(`Can't open a new AOF incr file: ${osErrorText(e as NodeJS.ErrnoException)}`);
      this.lastRewriteOk = false;
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
    // A base that cannot be written makes the rest of the snapshot pointless.
    file.finished.catch((e: Error) => snap.cancel(e.message));
    this.rewriteScheduled = false;
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
   * openNewIncrAofForAppend: new ops go to a new incr file from now on (a temp one while turning
   * on; it is named at the end of the rewrite). With AOF off nothing is opened.
   */
  private openNewIncrForAppend(): void {
    if (this.state === 'off') return;
    const dir = this.dirPath;
    let name: string;
    let am: AofManifest | null = null;
    if (this.state === 'wait_rewrite') {
      name = tempIncrFileName(this.filename);
    } else {
      am = this.manifest.clone();
      name = am.newIncr(this.filename).name;
    }
    const fd = fs.openSync(path.join(dir, name), 'w', 0o644);
    if (am !== null) {
      try {
        this.persistManifest(am);
      } catch (e) {
        fs.closeSync(fd);
        throw e;
      }
      this.manifest = am;
      this.server.logger.notice(`Creating AOF incr file ${name} on background rewrite`);
    }
    // The old file is complete: fsync it and close it in the background.
    if (this.fd !== null) {
      this.closeInBackground(this.fd, true);
      this.fsyncOffset = this.currentSize;
      this.lastFsyncSec = this.nowSec();
    }
    this.fd = fd;
    this.lastIncrSize = 0;
  }

  /** backgroundRewriteDoneHandler. */
  private rewriteDone(job: RewriteJob, err: Error | null): void {
    if (this.rewrite !== job) return; // killed: already cleaned up
    this.rewrite = null;
    const server = this.server;
    const log = server.logger;
    this.lastRewriteTimeSec = Math.round((Date.now() - job.startedAt) / 1000);
    const dir = this.dirPath;
    const fn = this.filename;
    if (err === null) {
      log.notice('Background AOF rewrite terminated with success');
      const am = this.manifest.clone();
      const base = am.newBase(fn, job.rdbFormat);
      const basePath = path.join(dir, base.name);
      let ok = true;
      try {
        fs.renameSync(job.tmpPath, basePath);
        log.notice(`Successfully renamed the temporary AOF base file ${job.tmpName} into ${base.name}`);
      } catch (e) {
        log.warning(`Error trying to rename the temporary AOF base file ${job.tmpName} into ${base.name}: ${osErrorText(e as NodeJS.ErrnoException)}`);
        ok = false;
      }
      let incrPath: string | null = null;
      if (ok && this.state === 'wait_rewrite') {
        const tmpIncr = tempIncrFileName(fn);
        const incr = am.newIncr(fn);
        incrPath = path.join(dir, incr.name);
        try {
          fs.renameSync(path.join(dir, tmpIncr), incrPath);
          log.notice(`Successfully renamed the temporary AOF incr file ${tmpIncr} into ${incr.name}`);
        } catch (e) {
          log.warning(`Error trying to rename the temporary AOF incr file ${tmpIncr} into ${incr.name}: ${osErrorText(e as NodeJS.ErrnoException)}`);
          fs.rm(basePath, { force: true }, () => undefined);
          ok = false;
        }
      }
      if (ok) {
        am.markRewrittenIncrAsHistory(this.fd !== null);
        try {
          this.persistManifest(am);
        } catch (e) {
          log.warning(`Can't persist the AOF manifest: ${osErrorText(e as NodeJS.ErrnoException)}`);
          fs.rm(basePath, { force: true }, () => undefined);
          if (incrPath !== null) fs.rm(incrPath, { force: true }, () => undefined);
          ok = false;
        }
      }
      if (ok) {
        this.manifest = am;
        if (this.fd !== null) {
          this.selectedDb = -1;
          this.currentSize = fileSize(basePath) + this.lastIncrSize;
          this.rewriteBaseSize = this.currentSize;
          this.fsyncOffset = this.currentSize;
          this.lastFsyncSec = this.nowSec();
        }
        this.delHistoryFiles();
        this.lastRewriteOk = true;
        this.consecutiveFailures = 0;
        log.notice('Background AOF rewrite finished successfully');
        if (this.state === 'wait_rewrite') this.state = 'on';
      } else {
        this.lastRewriteOk = false;
        this.consecutiveFailures++;
      }
    } else if (err.message === KILLED) {
      log.warning('Background AOF rewrite terminated by signal 10');
    } else {
      this.lastRewriteOk = false;
      this.consecutiveFailures++;
      log.warning(`Background AOF rewrite terminated with error: ${err.message}`);
    }
    if (err !== null) {
      // The snapshot may have been cancelled by someone else (killSnapshot): close the file.
      job.file.end();
      void job.file.finished.catch(() => undefined).finally(() => fs.rm(job.tmpPath, { force: true }, () => undefined));
    } else {
      fs.rm(job.tmpPath, { force: true }, () => undefined);
    }
    if (this.state === 'wait_rewrite') this.abandonTempIncr();
  }

  /**
   * A failed first rewrite while turning on: drop the temp incr file and what it holds (the
   * next snapshot contains it) and schedule another attempt.
   */
  private abandonTempIncr(): void {
    if (this.fd !== null) this.closeInBackground(this.fd, false);
    this.fd = null;
    this.pending = [];
    this.pendingBytes = 0;
    this.releaseHeld();
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
    const now = this.nowSec();
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
      if (perc > 0 && this.currentSize > this.server.config.int('auto-aof-rewrite-min-size')) {
        const base = this.rewriteBaseSize > 0 ? this.rewriteBaseSize : 1;
        const growth = Math.floor((this.currentSize * 100) / base) - 100;
        if (growth >= perc && !this.rewriteLimited()) {
          this.server.logger.notice(`Starting automatic rewriting of AOF on ${growth}% growth`);
          this.startRewrite();
        }
      }
    }
    if (this.state !== 'off') this.flush(false);
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
    if (this.state !== 'off' && this.fd !== null) {
      log.notice('Calling fsync() on the AOF file.');
      this.flush(true);
      try {
        fs.fsyncSync(this.fd);
      } catch (e) {
        log.warning(`Fail to fsync the AOF file: ${osErrorText(e as NodeJS.ErrnoException)}.`);
      }
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
      `aof_last_write_status:${this.lastWriteError === null && this.bgFsyncError === null ? 'ok' : 'err'}`,
      'aof_last_cow_size:0',
    ];
  }

  /** The fields shown only with appendonly yes (after module_fork_last_cow_size). */
  infoEnabled(): string[] {
    if (!this.server.config.bool('appendonly')) return [];
    return [
      `aof_current_size:${this.currentSize}`,
      `aof_base_size:${this.rewriteBaseSize}`,
      `aof_pending_rewrite:${this.rewriteScheduled ? 1 : 0}`,
      `aof_buffer_length:${this.pendingBytes}`,
      `aof_pending_bio_fsync:${this.fsyncsPending}`,
      `aof_delayed_fsync:${this.delayedFsync}`,
    ];
  }
}

/** strerror() texts of the I/O errors an AOF meets, beyond the logger's common table. */
const IO_ERRORS: Record<string, string> = {
  EBADF: 'Bad file descriptor',
  EIO: 'Input/output error',
  EDQUOT: 'Disk quota exceeded',
  EFBIG: 'File too large',
};

function osErrorText(e: NodeJS.ErrnoException): string {
  return (e.code !== undefined ? IO_ERRORS[e.code] : undefined) ?? loggerErrorText(e);
}

function isPublish(name: string): boolean {
  const l = name.toLowerCase();
  return l === 'publish' || l === 'spublish';
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

class PartialWriteError extends Error {
  constructor(
    public written: number,
    readonly errno: NodeJS.ErrnoException | null,
  ) {
    super(errno !== null ? errno.message : 'short write');
  }
}

/** Writes every buffer (writev), retrying short writes; throws PartialWriteError. */
function writeAll(fd: number, bufs: Buffer[], total: number): number {
  let done = 0;
  let list = bufs;
  while (done < total) {
    let n: number;
    try {
      n = list.length === 1 ? fs.writeSync(fd, list[0]!) : fs.writevSync(fd, list);
    } catch (e) {
      throw new PartialWriteError(done, e as NodeJS.ErrnoException);
    }
    if (n === 0) throw new PartialWriteError(done, null);
    done += n;
    if (done < total) list = skipBytes(list, n);
  }
  return done;
}

function skipBytes(list: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of list) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}
