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
