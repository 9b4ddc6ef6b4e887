/**
 * The RDB codec and the fork-less snapshotter: the only entry point other modules import.
 *
 * Snapshots (used by BGSAVE, full syncs to replicas, AOF rewrite):
 *
 *   const snap = startSnapshot(server, sinks, { aux: [['repl-stream-db', '0'], ['repl-id', id], ['repl-offset', '123']] });
 *   snap.done.then(({ bytes }) => …, (err) => …);   // rejects only on cancel()/internal failure
 *   snap.cancel('replica gone');                    // hooks removed; sinks are NOT ended
 *
 *   - Point in time as of the startSnapshot() call (see snapshot.ts for how). The header and
 *     AUX fields are emitted synchronously; keys follow in ~1 ms slices.
 *   - Every chunk goes to every sink, in order. A sink returning false from write() pauses the
 *     slices until its onDrain callback fires (writes made by commands meanwhile still get
 *     serialised into the pending output). On success each sink's end() is called once, after
 *     the last byte (the 8-byte CRC64 trailer in RDB format). Sinks must not throw; a dead consumer should swallow writes and
 *     return true.
 *   - One snapshot per server at a time (startSnapshot throws otherwise; check currentSnapshot()).
 *     Before emptying the dataset for a full sync, cancel the running snapshot (Redis kills the
 *     RDB child there too): `server.persistence.killSnapshot()`.
 *   - AUX order written: redis-ver, redis-bits, ctime, used-mem, then opts.aux as given, then
 *     aof-base (1 with opts.aofBase).
 *   - format: 'commands' produces the AOF base in RESP command form instead (SELECT, SET,
 *     RPUSH…, PEXPIREAT; aof-use-rdb-preamble no) with the same point-in-time guarantee.
 *   - A sink may call the optional `release` argument of write() once it no longer needs the
 *     chunk (after the fs/socket write completed): the snapshot then reuses that memory
 *     instead of allocating new Buffers (which would make V8 run full GCs on big datasets).
 *
 * Loading:
 *
 *   const loader = new RdbLoader(dbs, { isMaster, now, config });
 *   loader.feed(chunk) …; loader.end();   // end() = no more input: throws if not finished
 *   loader.finished / aux / keysLoaded / keysExpired
 *
 *   - feed() parses every complete record and buffers the rest; it throws RdbError on corrupt
 *     input (bad magic, version > 12, unknown type/opcode, impossible lengths, bad checksum,
 *     duplicate keys, …). Keys already added stay in `dbs`: the caller empties them on error.
 *   - Bytes after the EOF+checksum are ignored (feed() returns without looking at them).
 *   - loadRdbFile(server, path) does all of that for a file in slices with
 *     persistence.loading set, and restores the dataset to empty/unchanged on failure.
 *
 * Files: fileSink(path) writes exactly `path` and fsyncs at end(); `finished` resolves when the
 * bytes are durable. Atomic replacement (temp-<pid>.rdb + rename) is done by the caller —
 * saveRdbFileSync and Persistence's BGSAVE do it.
 */
export { RdbError } from './errors.js';
export { startSnapshot, currentSnapshot, type Snapshot, type SnapshotSink, type SnapshotOptions } from './snapshot.js';
export { RdbLoader, type LoaderOptions } from './loader.js';
export { fileSink, memorySink } from './sinks.js';
export {
  loadRdbFile as loadRdbFileDetailed,
  loadRdbFileSync,
  saveRdbFileSync,
  writeRdbSync,
  tempRdbPath,
  type LoadResult,
  type LoadProgress,
} from './files.js';
export { createDumpPayload, verifyDumpPayload, parseDumpPayload } from './dump.js';
export { crc64, Crc64 } from './crc64.js';
export { lzfCompress, lzfDecompress } from './lzf.js';
export { RDB_VERSION } from './format.js';

import type { Server } from '../../server/server.js';
import { loadRdbFile as loadDetailed } from './files.js';

/**
 * Loads a file in slices (never blocking the loop more than a few ms), setting
 * server.persistence.loading meanwhile. Rejects (dataset emptied/unchanged) on any error.
 */
export async function loadRdbFile(server: Server, path: string): Promise<{ aux: Map<string, string>; keys: number }> {
  const r = await loadDetailed(server, path);
  return { aux: r.aux, keys: r.keys };
}

export interface DebugReloadOptions {
  merge?: boolean;
  noflush?: boolean;
  nosave?: boolean;
}

/**
 * DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: synchronously saves the dataset to dir/dbfilename
 * (unless nosave), empties it (unless noflush) and loads the file back (merge: keys already
 * present are replaced instead of failing). Throws an Error whose message is the exact reply:
 * "ERR" for a failed save, "ERR Error trying to load the RDB dump, check server logs." for a
 * failed load (the dataset is then empty). The caller logs "DB reloaded by DEBUG RELOAD".
 */
export function debugReload(server: Server, opts: DebugReloadOptions = {}): void {
  server.persistence.debugReload(opts);
}
