/**
 * The fork-less, point-in-time snapshot (design §4; Dragonfly's approach).
 *
 * Redis forks and lets copy-on-write freeze the dataset for the child. Node cannot fork, so the
 * snapshot serialises the live keyspace in ~1 ms slices (setImmediate between them) while the
 * server keeps running, and intercepts writes so that what it emits is exactly the dataset as
 * it was when the snapshot started:
 *
 *   - Keyspace.beforeWrite(db, key): before a key that existed at the start and has not been
 *     serialised yet is modified, overwritten, expired or deleted, its current (= start) value
 *     is serialised first and the key is marked done. RDB key order is free, so the record
 *     simply goes into the output stream at that point (preceded by a SELECTDB if needed).
 *   - Keyspace.afterCreate(db, key): keys created after the start are remembered and skipped.
 *   - Keyspace.beforeClear(db): FLUSHDB/FLUSHALL (and a replica emptying its data) detach the
 *     database's still-unserialised start keys — key, value and expire references copied into
 *     arrays, O(n) pointer copies, no serialisation — and the slices serialise those later.
 *     Flushed values are unreachable from the keyspace, so nothing mutates them meanwhile.
 *   - SWAPDB exchanges the dict/expires Maps between Db objects (Db.swapContents). Per-database
 *     snapshot state is keyed by the dict Map, not the Db, so it follows the data and each
 *     database is still written under its index at the start.
 *
 * "Existed at start and not serialised yet" must be answerable in O(1) for any key, without a
 * Set of every key (a Set of 1M keys costs ~20 MB and ~0.5 s to build). Per database:
 *
 *   capture   walk the dict's live key iterator in slices, recording each start key and a
 *             32-bit hash (8 + 4 bytes per key). New keys are skipped via `created`.
 *   sort      counting-sort the captured keys by hash bucket (2^k buckets, ~8 keys each).
 *   serialise emit bucket after bucket; a bucket is always finished within one slice. A key
 *             is then "already visited" iff its bucket < cursorBucket — one hash, no lookup.
 *   detached  (after a flush) emit the detached arrays.
 *
 * Until the serialise phase nothing has been visited, so the hook serialises any start key
 * that is neither in `created` nor in `done`. `done` and `created` only grow with the writes
 * made during the snapshot. Peak extra memory is therefore ~20 bytes per key of the database
 * being worked on, plus the serialised output waiting for slow sinks, plus values written
 * early by the hook.
 *
 *   ┌─────────┐ hooks (sync, inside commands) ┌──────────┐ chunks ≥64 KB ┌──────────────┐
 *   │ keyspace├──────────────────────────────►│  RdbOut  ├──────────────►│ sinks (file, │
 *   └────┬────┘                               └────▲─────┘  CRC64 on     │ replicas, …) │
 *        │ slices (setImmediate, ~1 ms)            │       the way       └──────┬───────┘
 *        └─────────────────────────────────────────┘   write() false → pause until onDrain
 *
 * Sinks must not throw; a sink whose consumer went away should swallow writes and return
 * true. Only one snapshot runs per server at a time. A value is serialised in one go, so a
 * single huge key (millions of elements) still costs one long slice.
 */
import type { Server } from '../../server/server.js';
import type { Db } from '../../keyspace/db.js';
import type { Value } from '../../types/value.js';
import { RdbOut } from './out.js';
import { Crc64 } from './crc64.js';
import { writeKeyRecord, writeRdbHeader } from './writer.js';
import { writeKeyCommands, writeSelectCommand } from './command-form.js';
import * as F from './format.js';

/**
 * Where snapshot bytes go. write() returns false when the producer should wait for onDrain.
 * A sink may call `release` (at most once) when it no longer references `chunk` — after the
 * file or socket write completed — so the snapshot can reuse that memory; a sink that keeps
 * chunks, or does not care, simply never calls it.
 */
export interface SnapshotSink {
  write(chunk: Buffer, release?: () => void): boolean;
  onDrain(cb: () => void): void;
  end(): void;
}

export interface SnapshotOptions {
  /** Extra AUX fields written after redis-ver/redis-bits/ctime/used-mem (repl-stream-db, repl-id, repl-offset). */
  aux?: [string, string][];
  /** LZF for strings > 20 bytes (default: config rdbcompression). */
  compression?: boolean;
  /** CRC64 trailer (default: config rdbchecksum); zeros when false. */
  checksum?: boolean;
  /** Written as an AOF base: aux aof-base = 1. */
  aofBase?: boolean;
  /**
   * 'rdb' (default) or 'commands': the AOF base in RESP command form (aof-use-rdb-preamble no,
   * command-form.ts) — no header, AUX, EOF or checksum; SELECT instead of SELECTDB.
   */
  format?: 'rdb' | 'commands';
}

export interface Snapshot {
  /** Resolves once every byte was handed to the sinks and end() was called on them; rejects on cancel. */
  readonly done: Promise<{ bytes: number }>;
  /** Stops the snapshot (hooks removed, done rejects with `reason`); sinks are not ended. */
  cancel(reason: string): void;
  readonly active: boolean;
  /** ms timestamp when it started. */
  readonly startedAt: number;
  /** Bytes handed to the sinks so far. */
  readonly bytes: number;
  /** Keys serialised so far and keys in the dataset at the start (INFO current_save_keys_*). */
  readonly keysWritten: number;
  readonly keysTotal: number;
}

const CHUNK_BYTES = 64 * 1024;
/**
 * Size of the output buffers. They are recycled once every sink released them: a snapshot of
 * a large dataset would otherwise allocate its whole size in fresh Buffers, and that external
 * memory makes V8 run full (stop-the-world) collections of the whole heap.
 */
const BUFFER_BYTES = 128 * 1024;
const POOL_MAX = 64;
const SLICE_MS = 1;
const CAPTURE_BATCH = 512;
const SORT_BATCH = 65536;
const KEYS_PER_BUCKET_LOG2 = 3;

type Phase = 'capture' | 'sort' | 'serialize' | 'detached' | 'complete';

/** FNV-1a over the key bytes plus murmur3's finaliser, so low bits are well mixed. */
function hashKey(k: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

class DbState {
  phase: Phase = 'capture';
  /** Keys created after the start (skipped). */
  readonly created = new Set<string>();
  /** Start keys already serialised by the hook. */
  readonly done = new Set<string>();
  resized = false;
  // capture
  private it: Iterator<[string, Value]> | null = null;
  /** Captured start keys (first `nkeys` slots used; pre-sized so capture does not regrow it). */
  keys: string[];
  /**
   * Their values, captured with them: a start key not serialised yet still holds this very
   * object (any write or delete first runs the hook, which serialises it and marks it done),
   * so serialising needs no dict lookup per key.
   */
  vals: Value[];
  nkeys = 0;
  hashes: Uint32Array;
  // sort
  mask = 0;
  private sortStage = 0;
  private sortPos = 0;
  private fill: Int32Array | null = null;
  starts: Int32Array | null = null;
  sorted: string[] = [];
  sortedVals: Value[] = [];
  // serialise
  cursorBucket = 0;
  // detached
  dk: string[] = [];
  dv: Value[] = [];
  de: (number | undefined)[] = [];
  dpos = 0;

  constructor(
    readonly index: number,
    readonly dict: Map<string, Value>,
    readonly expires: Map<string, number>,
    readonly sizeAtStart: number,
    readonly expiresAtStart: number,
  ) {
    this.hashes = new Uint32Array(Math.max(16, sizeAtStart));
    this.keys = new Array<string>(sizeAtStart);
    this.vals = new Array<Value>(sizeAtStart);
  }

  /** True if `key` (present in the dict now) is a start key the output still lacks. */
  owes(key: string): boolean {
    const p = this.phase;
    if (p === 'complete' || p === 'detached') return false;
    if (this.created.has(key) || this.done.has(key)) return false;
    if (p === 'serialize' && (hashKey(key) & this.mask) < this.cursorBucket) return false;
    return true;
  }

  /** Captures up to CAPTURE_BATCH keys; returns false when the dict was fully walked. */
  captureBatch(): boolean {
    this.it ??= this.dict.entries();
    for (let n = 0; n < CAPTURE_BATCH; n++) {
      const r = this.it.next();
      if (r.done) {
        this.it = null;
        this.startSort();
        return false;
      }
      const k = r.value[0];
      if (this.created.has(k)) continue;
      // The dict cannot have more start keys than it had at the start, but stay safe.
      const i = this.nkeys++;
      if (i === this.hashes.length) {
        const nh = new Uint32Array(this.hashes.length * 2);
        nh.set(this.hashes);
        this.hashes = nh;
      }
      this.keys[i] = k;
      this.vals[i] = r.value[1];
      this.hashes[i] = hashKey(k);
    }
    return true;
  }

  private startSort(): void {
    const n = this.nkeys;
    let bits = 0;
    while (bits < 30 && 1 << (bits + KEYS_PER_BUCKET_LOG2) < n) bits++;
    this.mask = (1 << bits) - 1;
    this.starts = new Int32Array((1 << bits) + 1);
    this.phase = 'sort';
    this.sortStage = 0;
    this.sortPos = 0;
  }

  /** One bounded step of the counting sort; returns false when sorted. */
  sortBatch(): boolean {
    const n = this.nkeys;
    const starts = this.starts!;
    const mask = this.mask;
    const hashes = this.hashes;
    if (this.sortStage === 0) {
      const end = Math.min(n, this.sortPos + SORT_BATCH);
      for (let i = this.sortPos; i < end; i++) starts[(hashes[i]! & mask) + 1]!++;
      this.sortPos = end;
      if (end < n) return true;
      for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1]!;
      this.fill = starts.slice(0, starts.length - 1);
      this.sorted = new Array<string>(n);
      this.sortedVals = new Array<Value>(n);
      this.sortStage = 1;
      this.sortPos = 0;
      return true;
    }
    const fill = this.fill!;
    const keys = this.keys;
    const sorted = this.sorted;
    const sortedVals = this.sortedVals;
    const vals = this.vals;
    const end = Math.min(n, this.sortPos + SORT_BATCH);
    for (let i = this.sortPos; i < end; i++) {
      const j = fill[hashes[i]! & mask]!++;
      sorted[j] = keys[i]!;
      sortedVals[j] = vals[i]!;
    }
    this.sortPos = end;
    if (end < n) return true;
    this.fill = null;
    this.keys = [];
    this.vals = [];
    this.nkeys = 0;
    this.hashes = new Uint32Array(0);
    this.phase = 'serialize';
    this.cursorBucket = 0;
    return false;
  }

  /** Start keys not serialised yet, in no particular order (for detaching on flush). */
  *remaining(): IterableIterator<string> {
    const p = this.phase;
    if (p === 'capture') {
      for (let i = 0; i < this.nkeys; i++) yield this.keys[i]!;
      const it = this.it ?? this.dict.entries();
      this.it = null;
      for (let r = it.next(); !r.done; r = it.next()) if (!this.created.has(r.value[0])) yield r.value[0];
    } else if (p === 'sort') {
      for (let i = 0; i < this.nkeys; i++) yield this.keys[i]!;
    } else if (p === 'serialize') {
      const from = this.starts![this.cursorBucket]!;
      for (let i = from; i < this.sorted.length; i++) yield this.sorted[i]!;
    }
  }

  detach(): void {
    for (const k of this.remaining()) {
      if (this.done.has(k)) continue;
      const v = this.dict.get(k);
      if (v === undefined) continue;
      this.dk.push(k);
      this.dv.push(v);
      this.de.push(this.expires.get(k));
    }
    this.phase = 'detached';
    this.keys = [];
    this.vals = [];
    this.sortedVals = [];
    this.nkeys = 0;
    this.sorted = [];
    this.hashes = new Uint32Array(0);
    this.starts = null;
    this.fill = null;
    this.created.clear();
    this.done.clear();
  }
}

const running = new WeakMap<Server, SnapshotImpl>();

/** The snapshot currently running on this server, if any. */
export function currentSnapshot(server: Server): Snapshot | null {
  const s = running.get(server);
  return s !== undefined && s.active ? s : null;
}

/**
 * Starts a point-in-time snapshot of every database into `sinks`. Throws if one is already
 * running. The header and AUX fields are emitted immediately; the rest follows in slices.
 */
export function startSnapshot(server: Server, sinks: SnapshotSink[], opts: SnapshotOptions = {}): Snapshot {
  if (currentSnapshot(server) !== null) throw new Error('A snapshot is already in progress');
  const ks = server.keyspace;
  if (ks.beforeWrite !== null || ks.afterCreate !== null || ks.beforeClear !== null) {
    throw new Error('The keyspace snapshot hooks are already in use');
  }
  const snap = new SnapshotImpl(server, sinks, opts);
  running.set(server, snap);
  snap.start();
  return snap;
}

class SnapshotImpl implements Snapshot {
  readonly done: Promise<{ bytes: number }>;
  active = true;
  readonly startedAt = Date.now();
  bytes = 0;
  keysWritten = 0;
  keysTotal = 0;
  private resolve!: (v: { bytes: number }) => void;
  private reject!: (e: Error) => void;
  private readonly out: RdbOut;
  private readonly crc = new Crc64();
  private readonly checksum: boolean;
  private readonly commands: boolean;
  private readonly states: DbState[] = [];
  private readonly byDict = new Map<Map<string, Value>, DbState>();
  private cursor = 0;
  /** DB index of the last SELECTDB in the output (-1 before any). */
  private outDb = -1;
  private congested = 0;
  private scheduled = false;
  private readonly pool: Buffer[] = [];

  constructor(
    private readonly server: Server,
    private readonly sinks: SnapshotSink[],
    private readonly opts: SnapshotOptions,
  ) {
    this.out = new RdbOut(opts.compression ?? server.config.bool('rdbcompression'), BUFFER_BYTES, (size) =>
      size <= BUFFER_BYTES && this.pool.length > 0 ? this.pool.pop()! : Buffer.allocUnsafe(Math.max(size, BUFFER_BYTES)),
    );
    this.checksum = opts.checksum ?? server.config.bool('rdbchecksum');
    this.commands = opts.format === 'commands';
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // A cancelled snapshot nobody awaits must not crash the process as an unhandled rejection.
    this.done.catch(() => undefined);
  }

  start(): void {
    const ks = this.server.keyspace;
    for (const db of ks.dbs) {
      if (db.dict.size === 0) continue;
      const st = new DbState(db.id, db.dict, db.expires, db.dict.size, db.expires.size);
      this.keysTotal += db.dict.size;
      this.states.push(st);
      this.byDict.set(db.dict, st);
    }
    this.writeHeader();
    ks.beforeWrite = (db, key) => this.onBeforeWrite(db, key);
    ks.afterCreate = (db, key) => this.onAfterCreate(db, key);
    ks.beforeClear = (db) => this.onBeforeClear(db);
    this.schedule();
  }

  private writeHeader(): void {
    if (!this.commands) writeRdbHeader(this.out, this.opts.aux ?? [], this.opts.aofBase === true);
  }

  // -------------------------------------------------------------------------------------------
  // Hooks (run synchronously inside commands)

  private onBeforeWrite(db: Db, key: string): void {
    const st = this.byDict.get(db.dict);
    if (st === undefined || !st.owes(key)) return;
    try {
      this.writeKey(st, key, st.dict.get(key)!, st.expires.get(key));
      st.done.add(key);
    } catch (e) {
      this.fail(e);
    }
  }

  private onAfterCreate(db: Db, key: string): void {
    const st = this.byDict.get(db.dict);
    if (st === undefined) return;
    if (st.phase !== 'complete' && st.phase !== 'detached') st.created.add(key);
  }

  private onBeforeClear(db: Db): void {
    const st = this.byDict.get(db.dict);
    if (st === undefined || st.phase === 'complete' || st.phase === 'detached') return;
    try {
      st.detach();
    } catch (e) {
      this.fail(e);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Output

  private writeKey(st: DbState, key: string, v: Value, expire: number | undefined): void {
    const out = this.out;
    if (this.commands) {
      if (this.outDb !== st.index) writeSelectCommand(out, st.index);
      this.outDb = st.index;
      writeKeyCommands(out, key, v, expire);
      this.keysWritten++;
      return;
    }
    if (this.outDb !== st.index) {
      out.u8(F.RDB_OPCODE_SELECTDB);
      out.len(st.index);
      if (!st.resized) {
        out.u8(F.RDB_OPCODE_RESIZEDB);
        out.len(st.sizeAtStart);
        out.len(st.expiresAtStart);
        st.resized = true;
      }
      this.outDb = st.index;
    }
    writeKeyRecord(out, key, v, expire, this.server.config);
    this.keysWritten++;
  }

  private flush(): void {
    if (this.out.length === 0) return;
    const { chunk, backing } = this.out.takeWithBacking();
    this.crc.update(chunk);
    this.emit(chunk, backing.length === BUFFER_BYTES ? backing : null);
  }

  private emit(chunk: Buffer, backing: Buffer | null): void {
    this.bytes += chunk.length;
    let refs = this.sinks.length;
    const pool = this.pool;
    for (const s of this.sinks) {
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        if (--refs === 0 && backing !== null && pool.length < POOL_MAX) pool.push(backing);
      };
      if (!s.write(chunk, release)) {
        this.congested++;
        s.onDrain(() => {
          this.congested--;
          if (this.congested === 0) this.schedule();
        });
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Slices

  private schedule(): void {
    if (this.scheduled || !this.active) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.slice();
    });
  }

  private slice(): void {
    if (!this.active || this.congested > 0) return;
    try {
      const deadline = performance.now() + SLICE_MS;
      for (;;) {
        if (!this.step()) {
          this.finish();
          return;
        }
        if (this.out.length >= CHUNK_BYTES) {
          this.flush();
          if (this.congested > 0) return;
        }
        if (performance.now() >= deadline) break;
      }
      this.flush();
      if (this.congested === 0) this.schedule();
    } catch (e) {
      this.fail(e);
    }
  }

  /** One bounded unit of work. Returns false when every database is complete. */
  private step(): boolean {
    const st = this.states[this.cursor];
    if (st === undefined) return false;
    switch (st.phase) {
      case 'capture':
        st.captureBatch();
        return true;
      case 'sort':
        st.sortBatch();
        return true;
      case 'serialize': {
        const starts = st.starts!;
        const b = st.cursorBucket;
        if (b >= starts.length - 1) {
          st.phase = 'complete';
          st.sorted = [];
          st.sortedVals = [];
          st.starts = null;
          return true;
        }
        const noneDone = st.done.size === 0;
        const noExpires = st.expires.size === 0;
        for (let i = starts[b]!; i < starts[b + 1]!; i++) {
          const k = st.sorted[i]!;
          if (!noneDone && st.done.has(k)) continue;
          this.writeKey(st, k, st.sortedVals[i]!, noExpires ? undefined : st.expires.get(k));
        }
        st.cursorBucket = b + 1;
        return true;
      }
      case 'detached': {
        const end = Math.min(st.dk.length, st.dpos + 64);
        for (let i = st.dpos; i < end; i++) this.writeKey(st, st.dk[i]!, st.dv[i]!, st.de[i]);
        st.dpos = end;
        if (end >= st.dk.length) {
          st.phase = 'complete';
          st.dk = [];
          st.dv = [];
          st.de = [];
        }
        return true;
      }
      case 'complete':
        st.created.clear();
        st.done.clear();
        this.cursor++;
        return true;
    }
  }

  private finish(): void {
    this.removeHooks();
    if (this.commands) {
      this.flush();
    } else {
      this.out.u8(F.RDB_OPCODE_EOF);
      this.flush();
      this.emit(this.checksum ? this.crc.bytesLE() : Buffer.alloc(8), null);
    }
    this.active = false;
    for (const s of this.sinks) s.end();
    this.resolve({ bytes: this.bytes });
  }

  private removeHooks(): void {
    const ks = this.server.keyspace;
    ks.beforeWrite = null;
    ks.afterCreate = null;
    ks.beforeClear = null;
  }

  private fail(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.server.logger.warning(`Snapshot failed: ${msg}`);
    this.cancel(msg);
  }

  cancel(reason: string): void {
    if (!this.active) return;
    this.active = false;
    this.removeHooks();
    this.reject(new Error(reason));
  }
}
