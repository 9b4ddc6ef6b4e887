/**
 * RDB files: synchronous save (SAVE, shutdown, DEBUG RELOAD), atomic replacement, and loading
 * (incremental in slices at startup; synchronous for DEBUG RELOAD).
 *
 * Atomicity as Redis does it: write `temp-<pid>.rdb` in the same directory, fsync, rename over
 * the target, fsync the directory. A crash at any point leaves the previous file intact.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from '../../server/server.js';
import type { Db } from '../../keyspace/db.js';
import { RdbOut } from './out.js';
import { Crc64 } from './crc64.js';
import { RdbError } from './errors.js';
import { RdbLoader } from './loader.js';
import { writeKeyRecord, writeRdbHeader } from './writer.js';
import * as F from './format.js';
import type { SnapshotOptions } from './snapshot.js';

const WRITE_CHUNK = 1 << 20;
const READ_CHUNK = 64 * 1024;
/** Loading work per event-loop turn before yielding. */
const LOAD_SLICE_MS = 4;

/** `temp-<pid>.rdb` next to `target` (Redis's rdbSave temp name). */
export function tempRdbPath(target: string): string {
  return path.join(path.dirname(target), `temp-${process.pid}.rdb`);
}

/** fsync a directory so a rename in it is durable (best effort: not every FS allows it). */
export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * Serialises the whole dataset synchronously into `fd` (blocking, like Redis's SAVE).
 * Returns the number of bytes written.
 */
export function writeRdbSync(server: Server, fd: number, opts: SnapshotOptions = {}): number {
  const cfg = server.config;
  const out = new RdbOut(opts.compression ?? cfg.bool('rdbcompression'));
  const crc = new Crc64();
  let bytes = 0;
  const flush = (): void => {
    const chunk = out.take();
    crc.update(chunk);
    writeFully(fd, chunk);
    bytes += chunk.length;
  };
  writeRdbHeader(out, opts.aux ?? [], opts.aofBase === true);
  for (const db of server.keyspace.dbs) {
    if (db.dict.size === 0) continue;
    out.u8(F.RDB_OPCODE_SELECTDB);
    out.len(db.id);
    out.u8(F.RDB_OPCODE_RESIZEDB);
    out.len(db.dict.size);
    out.len(db.expires.size);
    const expires = db.expires;
    for (const [k, v] of db.dict) {
      writeKeyRecord(out, k, v, expires.size === 0 ? undefined : expires.get(k), cfg);
      if (out.length >= WRITE_CHUNK) flush();
    }
  }
  out.u8(F.RDB_OPCODE_EOF);
  flush();
  const trailer = (opts.checksum ?? cfg.bool('rdbchecksum')) ? crc.bytesLE() : Buffer.alloc(8);
  writeFully(fd, trailer);
  return bytes + 8;
}

function writeFully(fd: number, b: Buffer): void {
  let off = 0;
  while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
}

/**
 * SAVE: writes the dataset to `target` through a temp file, fsync and rename. Throws the
 * I/O error (the temp file is removed).
 */
export function saveRdbFileSync(server: Server, target: string, opts: SnapshotOptions = {}): number {
  const tmp = tempRdbPath(target);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
    const bytes = writeRdbSync(server, fd, opts);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, target);
    fsyncDir(path.dirname(target));
    return bytes;
  } catch (e) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // nothing to remove
    }
    throw e;
  }
}

export interface LoadResult {
  aux: Map<string, string>;
  keys: number;
  expired: number;
  bytes: number;
}

/** Progress of the load in course, for INFO persistence (loading_* fields). */
export interface LoadProgress {
  startTime: number;
  totalBytes: number;
  loadedBytes: number;
  /** The used-mem AUX field of the file, once read (INFO loading_rdb_used_mem). */
  rdbUsedMem?: number;
}

/**
 * Undoes a failed load: with an initially empty dataset every database is emptied; otherwise
 * only the keys this load added are removed, so pre-existing data stays unchanged.
 */
class LoadGuard {
  private readonly wasEmpty: boolean;
  private readonly before: Set<string>[] | null;

  constructor(private readonly dbs: Db[]) {
    this.wasEmpty = dbs.every((d) => d.dict.size === 0);
    this.before = this.wasEmpty ? null : dbs.map((d) => new Set(d.dict.keys()));
  }

  rollback(): void {
    this.dbs.forEach((db, i) => {
      if (this.wasEmpty) {
        db.dict.clear();
        db.expires.clear();
        return;
      }
      const keep = this.before![i]!;
      for (const k of [...db.dict.keys()]) {
        if (!keep.has(k)) {
          db.dict.delete(k);
          db.expires.delete(k);
        }
      }
    });
  }
}

function newLoader(server: Server, dbs: Db[], isMaster: boolean, merge = false): RdbLoader {
  return new RdbLoader(dbs, {
    isMaster,
    merge,
    now: () => Date.now(),
    config: server.config,
    warn: (m) => server.logger.warning(m),
  });
}

/**
 * Loads an RDB file into the server's databases in slices (never blocking the loop more than a
 * few ms), with `server.persistence.loading` set meanwhile. On any error (I/O or RdbError) the
 * dataset is restored to empty/unchanged and the error is rethrown.
 */
export async function loadRdbFile(server: Server, file: string, progress?: LoadProgress): Promise<LoadResult> {
  const dbs = server.keyspace.dbs;
  const guard = new LoadGuard(dbs);
  const loader = newLoader(server, dbs, !server.repl.isReplica);
  const p = server.persistence;
  const wasLoading = p.loading;
  p.loading = true;
  const fh = await fs.promises.open(file, 'r');
  try {
    const st = await fh.stat();
    if (progress) progress.totalBytes = st.size;
    let total = 0;
    for (;;) {
      const t0 = performance.now();
      let eof = false;
      do {
        const chunk = Buffer.allocUnsafe(READ_CHUNK);
        const { bytesRead } = await fh.read(chunk, 0, READ_CHUNK, null);
        if (bytesRead === 0) {
          eof = true;
          break;
        }
        total += bytesRead;
        loader.feed(bytesRead === READ_CHUNK ? chunk : chunk.subarray(0, bytesRead));
        if (progress) {
          progress.loadedBytes = total;
          if (!progress.rdbUsedMem) progress.rdbUsedMem = Number(loader.aux.get('used-mem') ?? 0) || 0;
        }
      } while (!loader.finished && performance.now() - t0 < LOAD_SLICE_MS);
      if (eof || loader.finished) break;
      await new Promise<void>((r) => setImmediate(r));
    }
    loader.end();
    return { aux: loader.aux, keys: loader.keysLoaded, expired: loader.keysExpired, bytes: total };
  } catch (e) {
    guard.rollback();
    throw e;
  } finally {
    await fh.close();
    p.loading = wasLoading;
  }
}

/**
 * Synchronous load (DEBUG RELOAD): the whole file in one go. Same failure contract. With
 * `merge`, keys already present are replaced (DEBUG RELOAD MERGE).
 */
export function loadRdbFileSync(server: Server, file: string, merge = false): LoadResult {
  const dbs = server.keyspace.dbs;
  const guard = new LoadGuard(dbs);
  try {
    const data = fs.readFileSync(file);
    const loader = newLoader(server, dbs, !server.repl.isReplica, merge);
    loader.feed(data);
    loader.end();
    return { aux: loader.aux, keys: loader.keysLoaded, expired: loader.keysExpired, bytes: data.length };
  } catch (e) {
    guard.rollback();
    throw e;
  }
}

export { RdbError };
