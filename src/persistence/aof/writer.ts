/**
 * Writing the incr file: buffering, write(2), the fsync policy, held replies, background
 * fsync/close jobs and write errors (Redis's flushAppendOnlyFile and its bio AOF jobs).
 *
 * Each op the AOF receives is made durable according to `appendfsync`:
 *
 *   always    ops of one event-loop turn are buffered, then written and fdatasync'ed once on
 *             the next check phase (setImmediate), like Redis's beforeSleep. Meanwhile every
 *             client's replies are held (Client.flush asks holdReply) and sent right after the
 *             fsync: group commit, so N clients writing concurrently cost one fsync per turn.
 *   everysec  each op (a MULTI…EXEC group as one) is written at once with a synchronous
 *             write(2), inside the command call, before the reply leaves: a crash of the
 *             process alone (kill -9) never loses an acknowledged write. A background
 *             fdatasync (libuv thread pool) runs at most once per second; while one runs,
 *             writes are postponed (buffered) up to 2 s, then written anyway and counted in
 *             aof_delayed_fsync — Redis's rule, as write(2) may block behind a running fsync.
 *   no        written at once, as everysec; the OS decides when to flush.
 *
 * A write error with `always` stops the server (the contract cannot be kept); otherwise the
 * data stays buffered, the error is reported (aof_last_write_status, MISCONF for writes) and
 * the write is retried from cron. A partial write is truncated away when possible so the file
 * stays loadable.
 */
import fs from 'node:fs';
import type { Server } from '../../server/server.js';
import type { Client } from '../../net/client.js';
import { currentSnapshot } from '../rdb/index.js';
import { osErrorText } from './errors.js';

type Policy = 'always' | 'everysec' | 'no';

/** How long writes wait behind a slow background fsync before being written anyway. */
const MAX_POSTPONE_MS = 2000;

export class AofWriter {
  /** aof_current_size: bytes of base + incr files (as counted since startup/last rewrite). */
  currentSize = 0;
  /** aof_last_incr_size: bytes of the incr file being appended to. */
  lastIncrSize = 0;
  /** aof_delayed_fsync. */
  delayedFsync = 0;
  /** Last write error (aof_last_write_status:err while set). */
  lastWriteError: string | null = null;
  /** Last background fsync error (also reported as aof_last_write_status:err). */
  bgFsyncError: string | null = null;

  private fdValue: number | null = null;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Between the MULTI and the EXEC of a propagated transaction (written as one). */
  private inTransaction = false;
  private flushScheduled = false;
  private postponedSince = 0;
  /** currentSize as of the last completed fsync. */
  private fsyncOffset = 0;
  private lastFsyncSec = 0;
  /** Bytes ever written, and how many of them held replies may acknowledge. */
  private writtenTotal = 0;
  private releasedTotal = 0;
  /** Clients whose replies wait for the next fsync (appendfsync always). */
  private readonly held = new Set<Client>();
  private fsyncsInFlight = 0;
  /** Background fsync/close jobs run one after the other (Redis's bio thread). */
  private bgChain: Promise<void> = Promise.resolve();
  // Hot-path configuration, kept current by config watchers.
  private policy: Policy = 'everysec';
  private noFsyncOnRewrite = false;

  constructor(private readonly server: Server) {
    server.config.watch('appendfsync', (v) => (this.policy = v as Policy));
    server.config.watch('no-appendfsync-on-rewrite', (v) => (this.noFsyncOnRewrite = v as boolean));
  }

  /** The incr file appended to (null while none is open). */
  get fd(): number | null {
    return this.fdValue;
  }

  /** aof_buffer_length. */
  get pendingBytes(): number {
    return this.pendingLen;
  }

  /** aof_pending_bio_fsync. */
  get fsyncsPending(): number {
    return this.fsyncsInFlight;
  }

  /** A write or background fsync failed and has not succeeded since. */
  get failed(): string | null {
    return this.lastWriteError ?? this.bgFsyncError;
  }

  append(b: Buffer): void {
    this.pending.push(b);
    this.pendingLen += b.length;
  }

  /**
   * The bytes of one propagated op were appended (`name` is its command name, as fed): write
   * them now, or at the end of the turn (always), or with the rest of their transaction.
   */
  endOp(name: string, argc: number): void {
    if (this.policy === 'always') {
      this.scheduleFlush();
      return;
    }
    if (argc === 1 && name === 'MULTI') {
      // The propagator feeds MULTI, the ops and EXEC in one go: write them as one.
      this.inTransaction = true;
      this.scheduleFlush();
      return;
    }
    if (this.inTransaction) {
      if (argc !== 1 || name !== 'EXEC') return;
      this.inTransaction = false;
    }
    this.flush(false);
  }

  /** A flush on the next check phase (always; and a safety net for anything left over). */
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
    const fd = this.fdValue;
    if (fd === null) {
      this.releaseHeld();
      return;
    }
    const log = this.server.logger;
    if (this.pendingLen === 0) {
      this.releaseHeld();
      // everysec: writes of a quiet period still get their fsync about a second later.
      if (this.policy === 'everysec' && this.fsyncOffset !== this.currentSize && this.nowSec() > this.lastFsyncSec && this.fsyncsInFlight === 0) {
        this.backgroundFsync(fd);
      }
      return;
    }
    if (this.policy === 'everysec' && !force && this.fsyncsInFlight > 0) {
      const now = Date.now();
      if (this.postponedSince === 0) {
        this.postponedSince = now;
        return;
      }
      if (now - this.postponedSince < MAX_POSTPONE_MS) return;
      this.delayedFsync++;
      log.notice('Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.');
    }
    const total = this.pendingLen;
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
    this.pendingLen = 0;
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
    } else if (this.policy === 'everysec' && this.nowSec() > this.lastFsyncSec && this.fsyncsInFlight === 0) {
      this.backgroundFsync(fd);
    }
    this.releaseHeld();
  }

  /**
   * Client.flush asks before sending replies: with appendfsync always, while ops are buffered
   * or written but not fsynced, the replies wait (the client is flushed again right after the
   * fsync). Replies of reads wait too: Redis promises that acknowledged *or observed* writes
   * are on disk.
   */
  holdReply(c: Client): boolean {
    if (this.policy !== 'always' || this.fdValue === null) return false;
    if (this.pendingLen === 0 && this.releasedTotal === this.writtenTotal) return false;
    this.held.add(c);
    this.scheduleFlush();
    return true;
  }

  /** Everything written is as durable as the policy makes it: held replies may go. */
  private releaseHeld(): void {
    if (this.pendingLen > 0 && this.fdValue !== null) return;
    this.releasedTotal = this.writtenTotal;
    if (this.held.size === 0) return;
    const clients = [...this.held];
    this.held.clear();
    for (const c of clients) c.flush();
  }

  private onWriteError(fd: number, err: PartialWriteError): void {
    const log = this.server.logger;
    if (err.errno !== null) {
      if (this.lastWriteError === null) log.warning(`Error writing to the AOF file: ${osErrorText(err.errno)}`);
    } else {
      log.warning(`Short write while writing to the AOF file: (nwritten=${err.written}, expected=${this.pendingLen})`);
    }
    if (err.written > 0) {
      // Remove the partial command so the file stays loadable; the data is retried whole.
      try {
        fs.ftruncateSync(fd, this.lastIncrSize);
        err.written = 0;
      } catch (e) {
        log.warning(`Could not remove short write from the append-only file. Redis may refuse to load the AOF the next time it starts. ftruncate: ${osErrorText(e as NodeJS.ErrnoException)}`);
      }
    }
    if (this.policy === 'always') {
      log.warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
      this.server.onExit(1);
    }
    this.lastWriteError = err.errno !== null ? osErrorText(err.errno) : 'No space left on device';
  }

  /** After a partial write that could not be undone: the written prefix is in the file. */
  private dropWritten(n: number): void {
    this.currentSize += n;
    this.lastIncrSize += n;
    this.writtenTotal += n;
    const all = Buffer.concat(this.pending, this.pendingLen).subarray(n);
    this.pending = [all];
    this.pendingLen = all.length;
  }

  private nowSec(): number {
    return Math.floor(this.server.clock.ms / 1000);
  }

  /** aof_background_fsync: fdatasync in the thread pool; postponed writes follow it. */
  private backgroundFsync(fd: number): void {
    const offset = this.currentSize;
    this.lastFsyncSec = this.nowSec();
    this.fsyncsInFlight++;
    this.bg(
      () =>
        new Promise<void>((resolve) => {
          fs.fdatasync(fd, (err) => {
            this.fsyncsInFlight--;
            if (err) {
              if (this.bgFsyncError === null) this.server.logger.warning(`Fail to fsync the AOF file: ${osErrorText(err)}`);
              this.bgFsyncError = osErrorText(err);
            } else {
              if (this.bgFsyncError !== null) this.server.logger.warning('AOF fsync error looks solved, Redis can write again.');
              this.bgFsyncError = null;
              if (fd === this.fdValue) this.fsyncOffset = offset;
            }
            resolve();
            if (this.postponedSince !== 0 && this.pendingLen > 0) this.flush(false);
          });
        }),
    );
  }

  private bg(job: () => Promise<void>): void {
    this.bgChain = this.bgChain.then(job).catch(() => undefined);
  }

  /** Closes a file no longer appended to in the background, after an fsync when `sync`. */
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

  /** Waits for the background fsync/close jobs queued so far (tests). */
  drainBackground(): Promise<void> {
    return this.bgChain;
  }

  /**
   * Appends to `fd` from now on (a file of `size` bytes). A previous file was flushed by the
   * caller; it is fsynced (in the background) and closed. In everysec it is fine to delay that
   * fsync as long as it happens; in always it already happened.
   */
  open(fd: number, size: number): void {
    const old = this.fdValue;
    if (old !== null) {
      this.closeInBackground(old, true);
      this.fsyncOffset = this.currentSize;
      this.lastFsyncSec = this.nowSec();
    }
    this.fdValue = fd;
    this.lastIncrSize = size;
  }

  /** stopAppendOnly's part: flush, fsync and close; buffered data that could not be written is dropped. */
  close(): void {
    if (this.fdValue !== null) {
      this.flush(true);
      this.fsyncNow();
    }
    this.discardFile();
  }

  /** Forgets the file (closed in the background) and anything buffered for it. */
  discardFile(): void {
    if (this.fdValue !== null && this.pendingLen > 0) {
      // Only a failed write can leave data here; it is given up with the file.
      this.server.logger.warning(`Discarding ${this.pendingLen} bytes of AOF buffer that could not be written`);
    }
    const fd = this.fdValue;
    this.fdValue = null;
    if (fd !== null) this.closeInBackground(fd, false);
    this.pending = [];
    this.pendingLen = 0;
    this.inTransaction = false;
    this.lastIncrSize = 0;
    this.releaseHeld();
  }

  /** Synchronous fsync (shutdown, stop). */
  fsyncNow(): void {
    if (this.fdValue === null) return;
    try {
      fs.fsyncSync(this.fdValue);
      this.fsyncOffset = this.currentSize;
    } catch (e) {
      this.server.logger.warning(`Fail to fsync the AOF file: ${osErrorText(e as NodeJS.ErrnoException)}`);
    }
  }

  /** Sizes after loading (aof_current_size = what was loaded; all of it durable). */
  loaded(totalSize: number): void {
    this.currentSize = totalSize;
    this.fsyncOffset = totalSize;
    this.lastFsyncSec = this.nowSec();
  }

  /** Sizes after a rewrite: the new base plus the current incr file. */
  rewritten(baseSize: number): void {
    this.currentSize = baseSize + this.lastIncrSize;
    this.fsyncOffset = this.currentSize;
    this.lastFsyncSec = this.nowSec();
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
function writeAll(fd: number, bufs: Buffer[], total: number): void {
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
