/**
 * RdbLoader: an incremental RDB parser that loads into the given databases.
 *
 * Feed it chunks in order (file reads, socket data); it parses every complete record and keeps
 * the incomplete tail. A record (one opcode, or one key with its whole value) is parsed in one
 * go: when the bytes run out mid-record the cursor throws NEED_MORE and the record is retried
 * once enough has arrived — at least what the failing read asked for and at least twice what
 * was buffered, so a huge value arriving in small chunks is re-parsed O(log n) times, not O(n).
 * `end()` says no more input will come: a last attempt is made and anything unfinished is a
 * truncation error.
 *
 * The CRC64 covers exactly the bytes of committed records (a retried record is hashed once),
 * and the 8-byte trailer is checked at EOF (all zeros = written with rdbchecksum no).
 *
 * Failure contract: feed()/end() throw RdbError; keys already added stay in the databases —
 * the caller (loadRdbFile, replication) empties them, so nothing half-loaded survives.
 *
 * Rules taken from Redis's rdbLoad: keys already expired are dropped when loading as a master
 * (counted in keysExpired) and kept on replicas; a duplicate key is an error; empty
 * collections are skipped; SELECTDB beyond `databases` is an error; unknown AUX fields are
 * ignored.
 */
import type { Db } from '../../keyspace/db.js';
import type { Config } from '../../config/config.js';
import { RdbError } from './errors.js';
import { Cursor, NEED_MORE } from './cursor.js';
import { Crc64 } from './crc64.js';
import { readValueGuarded } from './reader.js';
import * as F from './format.js';

export interface LoaderOptions {
  /** A master drops keys whose expire time has passed; a replica keeps them. */
  isMaster: boolean;
  /** Clock (ms) used for that decision. */
  now: () => number;
  config: Config;
  /** Receives warnings Redis would log (empty keys skipped, checksum disabled). */
  warn?: (msg: string) => void;
  /** DEBUG RELOAD MERGE: a key already present is replaced instead of being an error. */
  merge?: boolean;
}

function duplicate(key: string): RdbError {
  return new RdbError(`Duplicate key '${key.slice(0, 64)}' found in RDB file`);
}

export class RdbLoader {
  /** True once EOF and the checksum were read. */
  finished = false;
  readonly aux = new Map<string, string>();
  keysLoaded = 0;
  keysExpired = 0;
  /** Bytes consumed by completed records (progress reporting). */
  bytesParsed = 0;
  /** RDB version from the header (0 until read). */
  version = 0;

  private chunks: Buffer[] = [];
  /** Bytes buffered in `chunks` (not yet parsed). */
  private buffered = 0;
  /** Do not try parsing again before this many bytes are buffered. */
  private wanted = 0;
  private readonly crc = new Crc64();
  private db: Db | null = null;
  private expireMs = -1;
  private readonly checksum: boolean;

  constructor(
    readonly dbs: Db[],
    readonly opts: LoaderOptions,
  ) {
    this.db = dbs[0] ?? null;
    this.checksum = opts.config.bool('rdbchecksum');
    // Loaded keys read as loaded now (Db.lruLoaded): no per-key LRU entry to insert.
    for (const db of dbs) db.lruLoaded = db.lruClock();
  }

  feed(chunk: Buffer): void {
    if (this.finished || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.wanted) return;
    this.parse(false);
  }

  /** No more input: parses what is left; throws RdbError if the file did not end properly. */
  end(): void {
    if (this.finished) return;
    this.parse(true);
    if (!this.finished) throw new RdbError('Unexpected EOF reading RDB file');
  }

  private parse(final: boolean): void {
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const cur = new Cursor(buf, 0, buf.length, final);
    let start = 0;
    try {
      if (this.version === 0) {
        this.header(cur);
        start = this.commit(cur, buf, start);
      }
      while (!this.finished) {
        this.record(cur);
        start = this.commit(cur, buf, start);
      }
    } catch (e) {
      if (e !== NEED_MORE) throw e;
      const have = buf.length - start;
      this.wanted = Math.max(cur.needEnd - start, have * 2);
    }
    const rest = buf.length - start;
    this.chunks = rest === 0 ? [] : [buf.subarray(start)];
    this.buffered = rest;
    if (this.finished) this.chunks = [];
  }

  private commit(cur: Cursor, buf: Buffer, start: number): number {
    if (!this.finished) this.crc.update(buf, start, cur.pos);
    this.bytesParsed += cur.pos - start;
    return cur.pos;
  }

  private header(cur: Cursor): void {
    cur.need(9);
    const magic = cur.rawString(9);
    if (!magic.startsWith('REDIS')) throw new RdbError('Wrong signature trying to load DB from file');
    const digits = magic.slice(5);
    const version = /^[0-9]{4}$/.test(digits) ? Number(digits) : 0;
    if (version < 1 || version > F.RDB_MAX_LOAD_VERSION) throw new RdbError(`Can't handle RDB format version ${version}`);
    this.version = version;
  }

  private record(cur: Cursor): void {
    const op = cur.u8();
    switch (op) {
      case F.RDB_OPCODE_EOF:
        return this.eof(cur);
      case F.RDB_OPCODE_AUX: {
        const k = cur.str();
        const v = cur.str();
        this.aux.set(k, v);
        return;
      }
      case F.RDB_OPCODE_SELECTDB: {
        const id = cur.len();
        if (id >= this.dbs.length) {
          throw new RdbError(`FATAL: Data file was created with a Redis server configured to handle more than ${this.dbs.length} databases. Exiting`);
        }
        this.db = this.dbs[id]!;
        return;
      }
      case F.RDB_OPCODE_RESIZEDB:
        cur.len();
        cur.len();
        return;
      case F.RDB_OPCODE_EXPIRETIME_MS:
        this.expireMs = cur.int64LE();
        return;
      case F.RDB_OPCODE_EXPIRETIME:
        this.expireMs = cur.int32LE() * 1000;
        return;
      case F.RDB_OPCODE_FREQ:
        cur.u8();
        return;
      case F.RDB_OPCODE_IDLE:
        cur.len();
        return;
      case F.RDB_OPCODE_SLOT_INFO:
        cur.len();
        cur.len();
        cur.len();
        return;
      case F.RDB_OPCODE_MODULE_AUX:
        throw new RdbError('The RDB file contains AUX module data, which Mirra cannot load (no modules)');
      case F.RDB_OPCODE_FUNCTION2:
      case F.RDB_OPCODE_FUNCTION_PRE_GA:
        throw new RdbError('The RDB file contains Redis Functions libraries, which Mirra does not implement');
      default:
        return this.key(cur, op);
    }
  }

  private key(cur: Cursor, type: number): void {
    const key = cur.str();
    const value = readValueGuarded(cur, type, this.opts.config);
    const expire = this.expireMs;
    this.expireMs = -1;
    const db = this.db;
    if (db === null) throw new RdbError('Key found before any database was selected');
    if (value === null) {
      this.opts.warn?.(`rdbLoadObject skipping empty key: ${key}`);
      return;
    }
    if (expire !== -1 && this.opts.isMaster && expire < this.opts.now()) {
      if (db.dict.has(key) && this.opts.merge !== true) throw duplicate(key);
      this.keysExpired++;
      return;
    }
    // One hash lookup per key: a duplicate shows as a dict that did not grow.
    const before = db.dict.size;
    db.addLoaded(key, value);
    if (db.dict.size === before) {
      if (this.opts.merge !== true) throw duplicate(key);
      db.expires.delete(key);
      db.lru.delete(key);
    }
    if (expire !== -1) db.expires.set(key, expire);
    this.keysLoaded++;
  }

  private eof(cur: Cursor): void {
    if (this.version >= 5) {
      cur.need(8);
      // The trailer covers everything up to and including the EOF opcode.
      const end = cur.pos;
      const start = end - 1;
      // Bytes of this record before the opcode were committed; include the opcode now.
      this.crc.update(cur.buf, start, end);
      const stored = cur.buf.readBigUInt64LE(cur.pos);
      cur.pos += 8;
      if (stored === 0n) {
        this.opts.warn?.('RDB file was saved with checksum disabled: no check performed.');
      } else if (this.checksum && stored !== this.crc.value()) {
        throw new RdbError(
          `Wrong RDB checksum expected: (${this.crc.value().toString(16)}) but got (${stored.toString(16)}). Aborting now.`,
        );
      }
    }
    this.finished = true;
  }
}
