/**
 * Loading the RDB payload a master sent us, without blocking the event loop (design §4): the
 * persistence loader reads the file in time slices with `loading` set (other clients get
 * -LOADING, INFO shows the loading_* progress). Also a cheap pre-scan used by the
 * mirra-replica-refuse-empty-master safety directive.
 */
import fs from 'node:fs';
import { RdbLoader, loadRdbFileDetailed, type LoadProgress } from '../persistence/rdb/index.js';
import { Keyspace } from '../keyspace/keyspace.js';
import type { Server } from '../server/server.js';

const CHUNK = 64 * 1024;
/** Work per slice before yielding to the event loop. */
const SLICE_MS = 8;

export class LoadCancelled extends Error {}

export interface LoadResult {
  aux: Map<string, string>;
  keysLoaded: number;
  keysExpired: number;
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Loads the payload into the live databases (already flushed by the caller). On failure the
 * loader leaves them empty and rethrows (RdbError for a malformed payload).
 */
export async function loadPayload(server: Server, path: string): Promise<LoadResult> {
  const p = server.persistence;
  const progress: LoadProgress = { startTime: Math.floor(Date.now() / 1000), totalBytes: 0, loadedBytes: 0, rdbUsedMem: 0 };
  p.loadProgress = progress;
  try {
    const r = await loadRdbFileDetailed(server, path, progress);
    p.lastLoadKeysLoaded = r.keys;
    p.lastLoadKeysExpired = r.expired;
    return { aux: r.aux, keysLoaded: r.keys, keysExpired: r.expired };
  } finally {
    if (p.loadProgress === progress) p.loadProgress = null;
  }
}

/**
 * True when the payload holds at least one key. Parses into scratch databases, in slices, and
 * stops at the first key, so it costs little even for a big payload. Throws RdbError for a
 * malformed payload and LoadCancelled when `cancelled()` turns true.
 */
export async function payloadHasKeys(server: Server, path: string, cancelled: () => boolean): Promise<boolean> {
  const scratch = new Keyspace(server.keyspace.dbs.length, { now: () => server.clock.ms, mayExpire: () => false, onExpired: () => {} });
  const loader = new RdbLoader(scratch.dbs, { isMaster: false, now: () => server.clock.ms, config: server.config });
  const fd = fs.openSync(path, 'r');
  try {
    for (;;) {
      const t0 = performance.now();
      do {
        // A fresh buffer per read: the loader may keep references into a chunk it has not
        // finished parsing.
        const chunk = Buffer.allocUnsafe(CHUNK);
        const n = fs.readSync(fd, chunk, 0, CHUNK, null);
        if (n === 0) {
          loader.end();
          return loader.keysLoaded > 0;
        }
        loader.feed(n === CHUNK ? chunk : chunk.subarray(0, n));
        if (loader.keysLoaded > 0) return true;
        if (loader.finished) return false;
      } while (performance.now() - t0 < SLICE_MS);
      await nextTurn();
      if (cancelled()) throw new LoadCancelled('load cancelled');
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Parses a full-sync payload while it arrives, into scratch databases, so that a sync takes
 * about max(transfer, load) instead of transfer + load. Used only when the replica's own
 * dataset is empty at the start of the transfer (the first sync, or after a flush): then
 * nothing is held twice, which is why Redis's default (repl-diskless-load disabled) loads
 * after the transfer. The payload still goes to the temp file, which becomes the RDB file as
 * before; if anything here fails (a malformed payload, a checksum mismatch) the preloaded data
 * is dropped and the file is loaded the usual way, which reports the error.
 *
 * Each chunk is parsed when it arrives (socket reads are ≤ 64 KB: a few ms of parsing).
 */
export class PayloadPreloader {
  private readonly scratch: Keyspace;
  private readonly loader: RdbLoader;
  private ok = true;

  constructor(private readonly server: Server) {
    this.scratch = new Keyspace(server.keyspace.dbs.length, { now: () => server.clock.ms, mayExpire: () => false, onExpired: () => {} });
    // As a replica: keys whose TTL is already past are kept (the master will send their DEL).
    this.loader = new RdbLoader(this.scratch.dbs, { isMaster: false, now: () => Date.now(), config: server.config, warn: (m) => server.logger.warning(m) });
  }

  /** The next payload bytes, exactly as written to the temp file. */
  feed(chunk: Buffer): void {
    if (!this.ok || chunk.length === 0) return;
    try {
      this.loader.feed(chunk);
    } catch {
      this.drop();
    }
  }

  /** End of the payload: true when the whole dataset was parsed and its checksum verified. */
  complete(): boolean {
    if (!this.ok) return false;
    try {
      this.loader.end();
      return true;
    } catch {
      this.drop();
      return false;
    }
  }

  /** Moves the parsed dataset into the server's databases (empty: the caller flushed them). */
  install(): LoadResult {
    const dbs = this.server.keyspace.dbs;
    for (let i = 0; i < dbs.length; i++) dbs[i]!.swapContents(this.scratch.dbs[i]!);
    const p = this.server.persistence;
    p.lastLoadKeysLoaded = this.loader.keysLoaded;
    p.lastLoadKeysExpired = this.loader.keysExpired;
    this.ok = false;
    return { aux: this.loader.aux, keysLoaded: this.loader.keysLoaded, keysExpired: this.loader.keysExpired };
  }

  /** Frees what was parsed (failed or abandoned sync). */
  drop(): void {
    this.ok = false;
    for (const db of this.scratch.dbs) db.clear();
  }
}
