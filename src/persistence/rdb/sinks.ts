/**
 * Snapshot sinks (Redis's rio targets): a file (with fsync at the end) and memory.
 * Replication provides its own socket sinks with the same interface.
 */
import fs from 'node:fs';
import type { SnapshotSink } from './snapshot.js';

/** Queue depth above which write() asks the snapshot to pause. */
const FILE_HIGH_WATER = 4 * 1024 * 1024;

/**
 * Writes the snapshot to exactly `path` (created or truncated), then fsyncs and closes it.
 * `finished` resolves once the data is durable, or rejects on any I/O error (later writes are
 * then swallowed). Atomic replacement (temp file + rename) is the caller's job: see
 * `saveRdbFile` in save.ts, which writes `temp-<pid>.rdb` and renames it.
 */
export function fileSink(path: string): SnapshotSink & { readonly finished: Promise<void> } {
  let fd: number | null = null;
  let failed: Error | null = null;
  const queue: Buffer[] = [];
  const releases: (() => void)[] = [];
  let queued = 0;
  let writing = false;
  let ended = false;
  let finishing = false;
  let drainCbs: (() => void)[] = [];
  let resolveFinished!: () => void;
  let rejectFinished!: (e: Error) => void;
  const finished = new Promise<void>((res, rej) => {
    resolveFinished = res;
    rejectFinished = rej;
  });
  finished.catch(() => undefined);

  const wakeDrain = (): void => {
    const cbs = drainCbs;
    drainCbs = [];
    for (const cb of cbs) cb();
  };

  const fail = (e: Error): void => {
    if (failed !== null) return;
    failed = e;
    queue.length = 0;
    queued = 0;
    for (const r of releases.splice(0)) r();
    if (fd !== null) fs.close(fd, () => undefined);
    fd = null;
    rejectFinished(e);
    wakeDrain();
  };

  const finish = (): void => {
    if (finishing) return;
    finishing = true;
    const f = fd!;
    fs.fsync(f, (err) => {
      if (err) return fail(err);
      fs.close(f, (err2) => {
        if (err2) return fail(err2);
        fd = null;
        resolveFinished();
      });
    });
  };

  /** Writes everything queued with one writev (no copying), then releases those chunks. */
  const pump = (): void => {
    if (writing || failed !== null || fd === null) return;
    if (queue.length === 0) {
      if (ended) finish();
      return;
    }
    const batch = queue.splice(0);
    const done = releases.splice(0);
    let bytes = 0;
    for (const b of batch) bytes += b.length;
    writing = true;
    const writeAll = (bufs: Buffer[]): void => {
      fs.writev(fd!, bufs, (err, n) => {
        if (err) {
          writing = false;
          return fail(err);
        }
        // Partial write: drop what was written and continue with the rest.
        let left = n;
        let i = 0;
        while (i < bufs.length && left >= bufs[i]!.length) left -= bufs[i++]!.length;
        if (i < bufs.length) {
          const rest = bufs.slice(i);
          rest[0] = rest[0]!.subarray(left);
          return writeAll(rest);
        }
        writing = false;
        queued -= bytes;
        for (const r of done) r();
        if (queued < FILE_HIGH_WATER) wakeDrain();
        pump();
      });
    };
    writeAll(batch);
  };

  fs.open(path, 'w', 0o644, (err, f) => {
    if (err) return fail(err);
    fd = f;
    pump();
  });

  return {
    finished,
    write(chunk: Buffer, release?: () => void): boolean {
      if (failed !== null) {
        release?.();
        return true;
      }
      queue.push(chunk);
      if (release) releases.push(release);
      queued += chunk.length;
      pump();
      return queued < FILE_HIGH_WATER;
    },
    onDrain(cb: () => void): void {
      if (failed !== null || queued < FILE_HIGH_WATER) queueMicrotask(cb);
      else drainCbs.push(cb);
    },
    end(): void {
      ended = true;
      pump();
    },
  };
}

/** Collects the snapshot in memory (DEBUG RELOAD, tests, small replication payloads). */
export function memorySink(): SnapshotSink & { readonly buffer: () => Buffer; readonly ended: boolean } {
  const chunks: Buffer[] = [];
  let ended = false;
  return {
    write(chunk: Buffer): boolean {
      chunks.push(chunk);
      return true;
    },
    onDrain(cb: () => void): void {
      queueMicrotask(cb);
    },
    end(): void {
      ended = true;
    },
    buffer: () => Buffer.concat(chunks),
    get ended() {
      return ended;
    },
  };
}
